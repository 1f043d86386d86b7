"""Synthetic programs about collections and user-defined types: in-place Vec edits, sorting records,
iterator adaptors (step_by, take_while, fold into tuples, flat_map), maps and queues (inverting a map,
round-robin and sliding-window VecDeques), 2D grids, linked lists, structs with several kinds of method,
state-machine enums, trait objects, generic bounds, `FromStr` with an error enum and `?` pipelines.

Each family draws names, types, doc phrasing, implementation style and inputs; the expected values of the
asserts are computed here. Importing this module registers its families in `synthetic_rust`.
"""

from __future__ import annotations

import random
import textwrap
from collections import deque
from string import Template

from nanochat_cli.data.synthetic_rust import (
    _SEQ,
    _WORDS,
    _ch,
    _check,
    _close,
    _doc,
    _family,
    _fn,
    _lit,
    _Prog,
    _slice,
    _some,
    _vec,
)

_NAMES = ["ann", "bob", "cara", "dan", "eve", "finn", "gus", "hana", "ivy", "jon", "kai", "lea", "max", "nia",
          "otto", "pia", "ravi", "sam", "tess", "uma", "vic", "wes", "yara", "zoe"]


def _let_vec(name: str, elems: list[str], mut: bool = False, opener: str = "vec![") -> str:
    """`let name = vec![...];`, one element a line (as rustfmt lays it out) when it would pass 96 columns."""
    head = f"let {'mut ' if mut else ''}{name} = {opener}"
    line = head + ", ".join(elems) + "];"
    if len(line) <= 92:
        return line
    return head + "\n" + "".join(f"    {e},\n" for e in elems) + "];"


def _block(head: str, members: list[str]) -> str:
    """`head {`, the members one level in with a blank line between them, `}`."""
    body = "\n".join(textwrap.indent(textwrap.dedent(m).strip("\n") + "\n", "    ") for m in members)
    return f"{head} {{\n{body}}}\n"


def _sub_text(text: str, kw: dict) -> str:
    """Like `_sub`, but keeps the trailing newline (for whole items)."""
    return Template(textwrap.dedent(text).lstrip("\n")).substitute(kw)


def _method(sig: str, body: str, doc: str = "") -> str:
    return doc + sig + " {\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n}"


# ---- Vec edits and iterator adaptors ----

@_family("retain_in_place")
def _retain_in_place(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64"])
    cond = r.choice(["even", "positive", "below", "multiple"])
    kw = {"T": T, "xs": r.choice(_SEQ), "k": r.choice(["limit", "k", "bound", "n"])}
    kw["fn"] = r.choice({"even": ["keep_even", "retain_even", "drop_odd"],
                         "positive": ["keep_positive", "drop_non_positive", "retain_positive"],
                         "below": ["keep_below", "drop_large", "retain_under"],
                         "multiple": ["keep_multiples", "retain_multiples_of", "drop_non_multiples"]}[cond])
    k = r.randrange(2, 6) if cond == "multiple" else r.randrange(-5, 30)
    pred = {"even": "x % 2 == 0", "positive": "x > 0", "below": "x < $k", "multiple": "x % $k == 0"}[cond]
    keep = {"even": lambda x: x % 2 == 0, "positive": lambda x: x > 0, "below": lambda x: x < k,
            "multiple": lambda x: x % k == 0}[cond]
    extra = ", $k: $T" if cond in ("below", "multiple") else ""
    style = r.choice(["retain", "while", "collect"])
    sig = f"fn $fn($xs: &mut Vec<$T>{extra})"
    body = {"retain": f"$xs.retain(|&x| {pred});",
            "while": f"""
                let mut i = 0;
                while i < $xs.len() {{
                    let x = $xs[i];
                    if {pred} {{
                        i += 1;
                    }} else {{
                        $xs.remove(i);
                    }}
                }}""",
            "collect": f"*$xs = $xs.iter().copied().filter(|&x| {pred}).collect();"}[style]
    what = {"even": "the even numbers", "positive": "the numbers above zero", "below": "the numbers below `$k`",
            "multiple": "the multiples of `$k`"}[cond]
    doc = _doc(r, [f"Keeps only {what} in `$xs`, in their original order.",
                   f"Removes everything from `$xs` except {what}.",
                   f"Filters `$xs` in place so that only {what} remain."], kw)
    checks = []
    for i in range(r.randrange(2, 4)):
        xs = [r.randrange(-20, 40) for _ in range(r.randrange(0 if i else 3, 9))]
        v = f"v{i}" if i else "v"
        checks.append(f"let mut {v}: Vec<{T}> = {_lit(xs)};")
        checks.append(f"{kw['fn']}(&mut {v}{', ' + str(k) if extra else ''});")
        checks.append(f"assert_eq!({v}, {_vec([x for x in xs if keep(x)], T)});")
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{cond} {style} {T}")


@_family("sort_records")
def _sort_records(r: random.Random) -> _Prog:
    desc = r.random() < 0.6
    kw = {"fn": r.choice(["ranking", "leaderboard", "order_by_score", "sorted_names", "rank_players"]),
          "xs": r.choice(["entries", "scores", "players", "results", "records"])}
    kind = r.choice(["tuple", "struct"])
    uses = []
    names = r.sample(_NAMES, r.randrange(4, 8))
    scores = [r.randrange(0, 12) for _ in names]  # small range, so ties (broken by name) are common
    pairs = list(zip(names, scores))
    expected = [n for n, s in sorted(pairs, key=lambda p: (-p[1] if desc else p[1], p[0]))]
    order = "highest" if desc else "lowest"
    doc = _doc(r, [f"Names sorted by score, {order} first; equal scores go in alphabetical order.",
                   f"Returns the names ordered from the {order} score, breaking ties by name.",
                   f"Sorts the `$xs` by score ({order} first, then by name) and returns just the names."], kw)
    style = r.choice(["sort_by", "key", "unstable"])
    cmp_score = "b.$s.cmp(&a.$s)" if desc else "a.$s.cmp(&b.$s)"
    items = []
    if kind == "tuple":
        kw["s"], kw["n"] = "1", "0"
        sig = "fn $fn($xs: &[(&str, u32)]) -> Vec<String>"
        if style == "key":
            uses = ["std::cmp::Reverse"] if desc else []
            key = "(Reverse(score), name)" if desc else "(score, name)"
            sort = f"v.sort_by_key(|&(name, score)| {key});"
        else:
            sort = f"v.{'sort_by' if style == 'sort_by' else 'sort_unstable_by'}(|a, b| {cmp_score}.then(a.0.cmp(b.0)));"
        body = f"let mut v = $xs.to_vec();\n{sort}\nv.iter().map(|(name, _)| name.to_string()).collect()"
        checks = [_let_vec(kw["xs"], [_lit(p) for p in pairs], opener="["),
                  f"assert_eq!({kw['fn']}(&{kw['xs']}), {_lit(expected)});"]
    else:
        S = r.choice(["Player", "Entry", "Score", "Runner", "Student"])
        kw["S"], kw["s"], kw["n"] = S, r.choice(["score", "points", "total"]), "name"
        items.append(f"#[derive(Debug, Clone)]\nstruct {S} {{\n    name: String,\n    {kw['s']}: u32,\n}}\n")
        items.append(_block(f"impl {S}", [_method(f"fn new(name: &str, {kw['s']}: u32) -> Self",
                                                  f"{S} {{\n    name: name.to_string(),\n    {kw['s']},\n}}")]))
        sig = "fn $fn(mut $xs: Vec<$S>) -> Vec<String>"
        if style == "key":
            uses = ["std::cmp::Reverse"] if desc else []
            key = "(Reverse(p.$s), p.name.clone())" if desc else "(p.$s, p.name.clone())"
            sort = f"$xs.sort_by_key(|p| {key});"
        else:
            sort = (f"$xs.{'sort_by' if style == 'sort_by' else 'sort_unstable_by'}(|a, b| {cmp_score}"
                    ".then_with(|| a.name.cmp(&b.name)));")
        body = sort + "\n$xs.into_iter().map(|p| p.name).collect()"
        checks = [_let_vec(kw["xs"], [f"{S}::new({_lit(n)}, {s})" for n, s in pairs]),
                  f"assert_eq!({kw['fn']}({kw['xs']}), {_lit(expected)});"]
    checks.append(f"assert!({kw['fn']}({'Vec::new()' if kind == 'struct' else '&[]'}).is_empty());")
    items.append(_fn(sig, body, kw, doc))
    return _Prog(items, checks, uses=uses, params=f"{kind} {style} desc={desc}")


@_family("rotate_vec")
def _rotate_vec(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u32", "i64", "char", "usize"])
    left = r.random() < 0.5
    kw = {"T": T, "xs": r.choice(_SEQ), "k": r.choice(["k", "by", "steps", "shift"]),
          "fn": r.choice(["rotate_left_by", "rotated_left", "shift_left"] if left
                         else ["rotate_right_by", "rotated_right", "shift_right"])}
    style = r.choice(["method", "index", "concat", "in_place"])
    sig = "fn $fn($xs: &[$T], $k: usize) -> Vec<$T>"
    guard = "if $xs.is_empty() {\n    return Vec::new();\n}\n"
    if style == "method":
        body = guard + f"let mut v = $xs.to_vec();\nv.rotate_{'left' if left else 'right'}($k % $xs.len());\nv"
    elif style == "index":
        idx = "(i + $k) % n" if left else "(i + n - $k % n) % n"
        body = guard + f"let n = $xs.len();\n(0..n).map(|i| $xs[{idx}]).collect()"
    elif style == "concat":
        body = guard + ("let k = $k % $xs.len();\n" if left else "let k = $xs.len() - $k % $xs.len();\n")
        body += "[&$xs[k..], &$xs[..k]].concat()"
    else:
        sig = "fn $fn($xs: &mut [$T], $k: usize)"
        body = f"if !$xs.is_empty() {{\n    let n = $xs.len();\n    $xs.rotate_{'left' if left else 'right'}($k % n);\n}}"
    doc = _doc(r, [f"Rotates `$xs` {'left' if left else 'right'} by `$k` places, wrapping around.",
                   (f"Moves every element `$k` steps to the {'left' if left else 'right'}.\n\n"
                    "Elements that fall off one end come back at the other."),
                   f"Cyclic {'left' if left else 'right'} shift of `$xs` by `$k` (which may exceed the length)."], kw)

    def gen(n):
        if T == "char":
            return [chr(97 + i) for i in r.sample(range(26), n)]
        return [r.randrange(0, 90) for _ in range(n)]
    checks = []
    for i in range(3):
        xs, k = gen(r.randrange(2, 8)), r.randrange(0, 12)
        m = k % len(xs)
        exp = xs[m:] + xs[:m] if left else xs[len(xs) - m:] + xs[:len(xs) - m]
        lit = lambda v: [_ch(c) for c in v] if T == "char" else v
        if style == "in_place":
            checks += [f"let mut v{i}: Vec<{T}> = {_lit(lit(xs))};", f"{kw['fn']}(&mut v{i}, {k});",
                       f"assert_eq!(v{i}, {_lit(lit(exp))});"]
        else:
            checks.append(_check(f"{kw['fn']}({_slice(lit(xs))}, {k})", lit(exp)))
    if style == "in_place":
        checks += [f"let mut empty: Vec<{T}> = Vec::new();", f"{kw['fn']}(&mut empty, 3);", "assert!(empty.is_empty());"]
    else:
        checks.append(f"assert!({kw['fn']}(&[], 3).is_empty());")
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} {T} left={left}")


@_family("take_skip_while")
def _take_skip_while(r: random.Random) -> _Prog:
    task = r.choice(["leading", "sum_until", "strip_zeros", "after_header"])
    iterator = r.random() < 0.6
    T = r.choice(["i32", "i64"])
    kw = {"T": T, "xs": r.choice(_SEQ), "lim": r.choice(["limit", "max", "cap", "bound"])}
    checks = []
    if task == "leading":
        kw["fn"] = r.choice(["leading_below", "count_leading_under", "prefix_len_below"])
        sig = "fn $fn($xs: &[$T], $lim: $T) -> usize"
        body = ("$xs.iter().take_while(|&&x| x < $lim).count()" if iterator else
                "let mut n = 0;\nfor &x in $xs {\n    if x >= $lim {\n        break;\n    }\n    n += 1;\n}\nn")
        doc = ["How many elements at the start of `$xs` are smaller than `$lim`.",
               "Length of the longest prefix of `$xs` whose values are all below `$lim`."]
        for _ in range(4):
            xs, lim = [r.randrange(0, 30) for _ in range(r.randrange(0, 8))], r.randrange(5, 30)
            n = next((i for i, x in enumerate(xs) if x >= lim), len(xs))
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {lim})", n))
    elif task == "sum_until":
        kw["fn"] = r.choice(["sum_until_negative", "sum_before_negative", "leading_non_negative_sum"])
        sig = "fn $fn($xs: &[$T]) -> $T"
        body = ("$xs.iter().take_while(|&&x| x >= 0).sum()" if iterator else
                "let mut total = 0;\nfor &x in $xs {\n    if x < 0 {\n        break;\n    }\n    total += x;\n}\ntotal")
        doc = ["Adds up the elements of `$xs` until the first negative one.",
               "Sum of the values before the first negative number in `$xs`.\n\nWith no negatives, sums them all."]
        for _ in range(4):
            xs = [r.randrange(-6, 40) for _ in range(r.randrange(0, 8))]
            n = next((i for i, x in enumerate(xs) if x < 0), len(xs))
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", sum(xs[:n])))
    elif task == "strip_zeros":
        kw["fn"] = r.choice(["strip_leading_zeros", "trim_zeros_front", "without_leading_zeros"])
        sig = "fn $fn($xs: &[$T]) -> Vec<$T>"
        body = ("$xs.iter().skip_while(|&&x| x == 0).copied().collect()" if iterator else
                "let start = $xs.iter().position(|&x| x != 0).unwrap_or($xs.len());\n$xs[start..].to_vec()")
        doc = ["Drops the zeros at the start of `$xs` and keeps the rest.",
               "A copy of `$xs` without its leading zeros; zeros after the first non-zero value stay."]
        for _ in range(4):
            xs = [0] * r.randrange(0, 4) + [r.choice([0, 0, r.randrange(1, 9)]) for _ in range(r.randrange(0, 6))]
            n = next((i for i, x in enumerate(xs) if x != 0), len(xs))
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_vec(xs[n:], T)});")
    else:
        kw["fn"] = r.choice(["body_lines", "skip_header", "after_comments"])
        kw["xs"] = r.choice(["lines", "rows", "text_lines"])
        sig = "fn $fn($xs: &[&str]) -> Vec<String>"
        body = ("$xs\n    .iter()\n    .skip_while(|line| line.starts_with('#'))\n    .map(|line| line.to_string())\n"
                "    .collect()" if iterator else
                "let mut out = Vec::new();\nlet mut header = true;\nfor line in $xs {\n"
                "    if header && line.starts_with('#') {\n        continue;\n    }\n    header = false;\n"
                "    out.push(line.to_string());\n}\nout")
        doc = ["Skips the `#` comment lines at the top of `$xs` and returns the rest.",
               "The lines after the leading block of lines that start with `#`."]
        for _ in range(3):
            lines = ["# " + r.choice(_WORDS) for _ in range(r.randrange(0, 3))]
            lines += [r.choice(["# " + r.choice(_WORDS), r.choice(_WORDS), f"{r.choice(_WORDS)} {r.randrange(9)}"])
                      for _ in range(r.randrange(0, 4))]
            n = next((i for i, x in enumerate(lines) if not x.startswith("#")), len(lines))
            checks.append(f"assert_eq!({kw['fn']}({_slice(lines)}), {_vec(lines[n:], 'String')});")
    return _Prog([_fn(sig, body, kw, _doc(r, doc, kw))], checks, params=f"{task} iter={iterator}")


@_family("step_by_pick")
def _step_by_pick(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u32", "i64", "u64", "usize"])
    total = r.random() < 0.4
    kw = {"T": T, "xs": r.choice(_SEQ), "start": r.choice(["start", "offset", "first"]),
          "step": r.choice(["step", "k", "stride", "every"])}
    kw["fn"] = r.choice(["strided_sum", "sum_every_nth", "sum_with_stride"] if total
                        else ["every_nth", "strided", "pick_every", "take_stride"])
    sig = "fn $fn($xs: &[$T], $start: usize, $step: usize) -> " + ("$T" if total else "Vec<$T>")
    style = r.choice(["skip", "range", "while"])
    tail = ".sum()" if total else ".collect()"
    body = {"skip": f"$xs.iter().skip($start).step_by($step).copied(){tail}",
            "range": f"($start..$xs.len()).step_by($step).map(|i| $xs[i]){tail}",
            "while": ("let mut acc = 0;\nlet mut i = $start;\nwhile i < $xs.len() {\n    acc += $xs[i];\n"
                      "    i += $step;\n}\nacc") if total else
                     ("let mut out = Vec::new();\nlet mut i = $start;\nwhile i < $xs.len() {\n    out.push($xs[i]);\n"
                      "    i += $step;\n}\nout")}[style]
    doc = _doc(r, [("The sum of" if total else "Collects") + " every `$step`-th element of `$xs`, beginning at index `$start`.",
                   "Walks `$xs` from index `$start` in steps of `$step` and " + ("adds up" if total else "keeps") +
                   " what it lands on.\n\n`$step` must be at least 1.",
                   ("Adds" if total else "Picks") + " `$xs[$start]`, `$xs[$start + $step]`, and so on."], kw)
    checks = []
    for _ in range(4):
        xs = [r.randrange(0, 50) for _ in range(r.randrange(1, 10))]
        s, k = r.randrange(0, 4), r.randrange(1, 4)
        exp = xs[s::k]
        checks.append(_check(f"{kw['fn']}({_slice(xs)}, {s}, {k})", sum(exp)) if total else
                      f"assert_eq!({kw['fn']}({_slice(xs)}, {s}, {k}), {_vec(exp, T)});")
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} {T} total={total}")


@_family("fold_tuple")
def _fold_tuple(r: random.Random) -> _Prog:
    task = r.choice(["signs", "parity_sums", "count_sum_above"])
    T = r.choice(["i32", "i64"])
    kw = {"T": T, "xs": r.choice(_SEQ), "t": r.choice(["threshold", "limit", "min"])}
    fold = r.random() < 0.55
    checks = []
    if task == "signs":
        kw["fn"] = r.choice(["sign_counts", "count_signs", "tally_signs"])
        sig = "fn $fn($xs: &[$T]) -> (usize, usize, usize)"
        body = ("$xs.iter().fold((0, 0, 0), |(neg, zero, pos), &x| match x {\n"
                "    x if x < 0 => (neg + 1, zero, pos),\n    0 => (neg, zero + 1, pos),\n    _ => (neg, zero, pos + 1),\n})"
                if fold else
                "let (mut neg, mut zero, mut pos) = (0, 0, 0);\nfor &x in $xs {\n    if x < 0 {\n        neg += 1;\n"
                "    } else if x == 0 {\n        zero += 1;\n    } else {\n        pos += 1;\n    }\n}\n(neg, zero, pos)")
        doc = ["Counts the negative, zero and positive values of `$xs`, in that order.",
               "Returns `(negatives, zeros, positives)` for `$xs`."]
        for _ in range(4):
            xs = [r.randrange(-5, 6) for _ in range(r.randrange(0, 9))]
            exp = (sum(x < 0 for x in xs), sum(x == 0 for x in xs), sum(x > 0 for x in xs))
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", exp))
    elif task == "parity_sums":
        kw["fn"] = r.choice(["even_odd_sums", "sums_by_parity", "split_sums"])
        sig = "fn $fn($xs: &[$T]) -> ($T, $T)"
        body = ("$xs.iter().fold((0, 0), |(even, odd), &x| {\n    if x % 2 == 0 {\n        (even + x, odd)\n"
                "    } else {\n        (even, odd + x)\n    }\n})" if fold else
                "let mut sums = (0, 0);\nfor &x in $xs {\n    if x % 2 == 0 {\n        sums.0 += x;\n    } else {\n"
                "        sums.1 += x;\n    }\n}\nsums")
        doc = ["Adds up the even and the odd elements of `$xs` separately: `(even_sum, odd_sum)`.",
               "Two sums in one pass: of the even values and of the odd values."]
        for _ in range(4):
            xs = [r.randrange(-20, 40) for _ in range(r.randrange(0, 9))]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", (sum(x for x in xs if x % 2 == 0), sum(x for x in xs if x % 2))))
    else:
        kw["fn"] = r.choice(["count_and_sum_above", "above_stats", "tally_above"])
        sig = "fn $fn($xs: &[$T], $t: $T) -> (usize, $T)"
        body = ("$xs.iter()\n    .filter(|&&x| x > $t)\n    .fold((0, 0), |(n, s), &x| (n + 1, s + x))" if fold else
                "let mut count = 0;\nlet mut sum = 0;\nfor &x in $xs.iter().filter(|&&x| x > $t) {\n    count += 1;\n"
                "    sum += x;\n}\n(count, sum)")
        doc = ["How many elements of `$xs` exceed `$t`, and their sum.",
               "Returns `(count, sum)` of the values greater than `$t`."]
        for _ in range(4):
            xs, t = [r.randrange(-10, 50) for _ in range(r.randrange(0, 9))], r.randrange(0, 30)
            above = [x for x in xs if x > t]
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {t})", (len(above), sum(above))))
    return _Prog([_fn(sig, body, kw, _doc(r, doc, kw))], checks, params=f"{task} fold={fold} {T}")


@_family("flat_map_expand")
def _flat_map_expand(r: random.Random) -> _Prog:
    task = r.choice(["expand", "words"])
    flat = r.random() < 0.6
    checks = []
    if task == "expand":
        T = r.choice(["i32", "u8", "char", "u64"])
        kw = {"T": T, "xs": r.choice(["pairs", "runs", "counts"]),
              "fn": r.choice(["expand_runs", "repeat_each", "decode_counts", "unpack_runs"])}
        sig = "fn $fn($xs: &[($T, usize)]) -> Vec<$T>"
        body = ("$xs.iter()\n    .flat_map(|&(v, n)| std::iter::repeat(v).take(n))\n    .collect()" if flat else
                "let mut out = Vec::new();\nfor &(v, n) in $xs {\n    for _ in 0..n {\n        out.push(v);\n    }\n}\nout")
        doc = ["Expands `(value, count)` pairs: each value appears `count` times, in order.",
               "Turns a list of runs like `(v, n)` back into the full sequence.",
               "Repeats every value as many times as its count says."]
        for _ in range(3):
            pairs = [(chr(97 + r.randrange(26)) if T == "char" else r.randrange(0, 99), r.randrange(0, 4))
                     for _ in range(r.randrange(0, 5))]
            exp = [v for v, n in pairs for _ in range(n)]
            if T == "char":
                pairs, exp = [(_ch(v), n) for v, n in pairs], [_ch(v) for v in exp]
            checks.append(f"assert_eq!({kw['fn']}({_slice(pairs)}), {_vec(exp, T)});")
    else:
        kw = {"xs": r.choice(["lines", "rows", "sentences"]),
              "fn": r.choice(["all_words", "words_of_lines", "split_all", "flatten_words"])}
        sig = "fn $fn($xs: &[&str]) -> Vec<String>"
        body = ("$xs.iter()\n    .flat_map(|line| line.split_whitespace())\n    .map(String::from)\n    .collect()" if flat else
                "let mut words = Vec::new();\nfor line in $xs {\n    for w in line.split_whitespace() {\n"
                "        words.push(w.to_string());\n    }\n}\nwords")
        doc = ["All the words of all the `$xs`, in order.",
               "Splits every line on whitespace and gathers the words into one list.",
               "The whitespace-separated words of `$xs`, flattened into a single vector."]
        for _ in range(3):
            lines = [" ".join(r.sample(_WORDS, r.randrange(0, 4))) + r.choice(["", " "]) for _ in range(r.randrange(0, 4))]
            exp = [w for line in lines for w in line.split()]
            checks.append(f"assert_eq!({kw['fn']}({_slice(lines)}), {_vec(exp, 'String')});")
    return _Prog([_fn(sig, body, kw, _doc(r, doc, kw))], checks, params=f"{task} flat={flat}")


# ---- maps and queues ----

@_family("invert_map")
def _invert_map(r: random.Random) -> _Prog:
    V = r.choice(["u32", "&str"])
    kw = {"m": r.choice(["map", "owners", "assignments", "lookup"]), "V": V,
          "fn": r.choice(["invert", "invert_map", "keys_by_value", "reverse_lookup", "group_keys_by_value"])}
    style = r.choice(["entry", "or_insert_with", "contains"])
    kv = "*v" if V == "u32" else "v.to_string()"
    KV = "u32" if V == "u32" else "String"
    kw["KV"] = KV
    sig = "fn $fn($m: &HashMap<&str, $V>) -> BTreeMap<$KV, Vec<String>>"
    push = {"entry": f"out.entry({kv}).or_default().push(k.to_string());",
            "or_insert_with": f"out.entry({kv}).or_insert_with(Vec::new).push(k.to_string());",
            "contains": f"let key = {kv};\nif !out.contains_key(&key) {{\n    out.insert(key.clone(), Vec::new());\n}}\n"
                        "out.get_mut(&key).unwrap().push(k.to_string());"}[style]
    if style == "contains" and V == "u32":
        push = push.replace("key.clone()", "key")
    body = ("let mut out: BTreeMap<$KV, Vec<String>> = BTreeMap::new();\nfor (k, v) in $m {\n" + textwrap.indent(push, "    ") +
            "\n}\n// HashMap order is arbitrary: sort each group so the result is deterministic.\n"
            "for keys in out.values_mut() {\n    keys.sort();\n}\nout")
    doc = _doc(r, ["Inverts `$m`: for every value, the sorted list of keys that map to it.",
                   "Groups the keys of `$m` by their value.\n\nThe keys in each group come out sorted.",
                   "Builds the reverse of `$m`, where each value points at all of its keys (sorted)."], kw)
    keys = r.sample(_NAMES, r.randrange(3, 8))
    pool = r.sample(range(1, 10), 3) if V == "u32" else r.sample(["red", "blue", "green", "gold", "north", "south"], 3)
    m = {k: r.choice(pool) for k in keys}
    inv: dict = {}
    for k, v in m.items():
        inv.setdefault(v, []).append(k)
    var = kw["m"]
    if r.random() < 0.5:
        checks = [f"let mut {var} = HashMap::new();"] + [f"{var}.insert({_lit(k)}, {_lit(v)});" for k, v in m.items()]
    else:
        checks = [_let_vec(var, [_lit((k, v)) for k, v in m.items()], opener="HashMap::from([").replace("];", "]);")]
        checks[0] = checks[0].replace("\n];", "\n]);") if "\n" in checks[0] else checks[0]
    checks += [f"let inv = {kw['fn']}(&{var});", _check("inv.len()", len(inv))]
    for v in sorted(inv):
        key = f"&{_lit(v)}" if V == "u32" else f"{_lit(v)}"
        checks.append(f"assert_eq!(inv[{key}], {_lit(sorted(inv[v]))});")
    missing = next(x for x in (range(10, 20) if V == "u32" else ["purple", "west"]) if x not in inv)
    checks.append(f"assert!(inv.get({'&' if V == 'u32' else ''}{_lit(missing)}).is_none());")
    uses = ["std::collections::BTreeMap", "std::collections::HashMap"]
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{style} {V}")


@_family("round_robin")
def _round_robin(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize"])
    kw = {"T": T, "jobs": r.choice(["jobs", "tasks", "work", "queue_in"]), "q": r.choice(["quantum", "slice", "turn"]),
          "fn": r.choice(["round_robin", "finish_order", "schedule", "run_queue"])}
    style = r.choice(["while_let", "loop"])
    sig = "fn $fn($jobs: &[$T], $q: $T) -> Vec<usize>"
    head = "let mut queue: VecDeque<(usize, $T)> = $jobs.iter().copied().enumerate().collect();\nlet mut done = Vec::new();\n"
    step = ("if left <= $q {\n    done.push(id);\n} else {\n    queue.push_back((id, left - $q));\n}")
    if style == "while_let":
        body = head + "while let Some((id, left)) = queue.pop_front() {\n" + textwrap.indent(step, "    ") + "\n}\ndone"
    else:
        body = (head + "loop {\n    let Some((id, left)) = queue.pop_front() else {\n        break;\n    };\n" +
                textwrap.indent(step, "    ") + "\n}\ndone")
    doc = _doc(r, [("Simulates round-robin scheduling: each job runs for up to `$q` units, then goes to the back\n"
                    "of the queue if unfinished. Returns the job indices in the order they finish."),
                   ("The order in which `$jobs` finish when each is served `$q` units at a time.\n\n"
                    "`$jobs[i]` is the work job `i` still needs."),
                   "Serves the jobs from a queue, `$q` units per turn, and records when each one completes."], kw)
    checks = []
    for _ in range(3):
        jobs, q = [r.randrange(1, 12) for _ in range(r.randrange(1, 6))], r.randrange(1, 5)
        dq, done = deque(enumerate(jobs)), []
        while dq:
            i, left = dq.popleft()
            if left <= q:
                done.append(i)
            else:
                dq.append((i, left - q))
        checks.append(_check(f"{kw['fn']}({_slice(jobs)}, {q})", done))
    checks.append(f"assert!({kw['fn']}(&[], 2).is_empty());")
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=["std::collections::VecDeque"], params=f"{style} {T}")


@_family("sliding_max")
def _sliding_max(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    mx = r.random() < 0.6
    word = "max" if mx else "min"
    kw = {"T": T, "xs": r.choice(_SEQ), "k": r.choice(["k", "width", "window", "size"]),
          "fn": r.choice([f"sliding_{word}", f"window_{word}", f"running_{word}_of_windows", f"{word}_per_window"])}
    style = r.choice(["deque", "windows", "loop"])
    sig = "fn $fn($xs: &[$T], $k: usize) -> Vec<$T>"
    cmp = "<=" if mx else ">="
    if style == "deque":
        body = f"""
            // Indices whose values are still candidates, their values {'decreasing' if mx else 'increasing'}.
            let mut idx: VecDeque<usize> = VecDeque::new();
            let mut out = Vec::new();
            for (i, &x) in $xs.iter().enumerate() {{
                while idx.back().is_some_and(|&j| $xs[j] {cmp} x) {{
                    idx.pop_back();
                }}
                idx.push_back(i);
                if idx[0] + $k <= i {{
                    idx.pop_front();
                }}
                if i + 1 >= $k {{
                    out.push($xs[idx[0]]);
                }}
            }}
            out"""
    elif style == "windows":
        body = f"$xs.windows($k).map(|w| *w.iter().{word}().unwrap()).collect()"
    else:
        body = f"""
            let mut out = Vec::new();
            for start in 0..($xs.len() + 1).saturating_sub($k) {{
                let mut best = $xs[start];
                for &x in &$xs[start..start + $k] {{
                    best = best.{word}(x);
                }}
                out.push(best);
            }}
            out"""
    doc = _doc(r, [f"The {'largest' if mx else 'smallest'} value of each window of `$k` consecutive elements.",
                   (f"Slides a window of width `$k` over `$xs` and reports its {word}imum at every position.\n\n"
                    "`$k` must be at least 1; a slice shorter than `$k` gives no windows."),
                   f"For every run of `$k` neighbours in `$xs`, its {word}imum, in order."], kw)
    checks = []
    for _ in range(4):
        xs, k = [r.randrange(0, 60) for _ in range(r.randrange(1, 10))], r.randrange(1, 5)
        f = max if mx else min
        exp = [f(xs[i:i + k]) for i in range(len(xs) - k + 1)]
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {k}), {_vec(exp, T)});")
    uses = ["std::collections::VecDeque"] if style == "deque" else []
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{style} {word} {T}")


# ---- 2D grids ----

def _grid(r: random.Random, rows: int, cols: int, p: float) -> list[str]:
    return ["".join("#" if r.random() < p else "." for _ in range(cols)) for _ in range(rows)]


def _regions(g: list[str]) -> list[int]:
    seen, sizes = set(), []
    for i, row in enumerate(g):
        for j, c in enumerate(row):
            if c == "#" and (i, j) not in seen:
                stack, n = [(i, j)], 0
                seen.add((i, j))
                while stack:
                    a, b = stack.pop()
                    n += 1
                    for x, y in ((a - 1, b), (a + 1, b), (a, b - 1), (a, b + 1)):
                        if 0 <= x < len(g) and 0 <= y < len(g[0]) and g[x][y] == "#" and (x, y) not in seen:
                            seen.add((x, y))
                            stack.append((x, y))
                sizes.append(n)
    return sizes


@_family("grid_regions")
def _grid_regions(r: random.Random) -> _Prog:
    biggest = r.random() < 0.4
    kw = {"g": r.choice(["grid", "map", "rows", "board"]),
          "fn": r.choice(["largest_region", "biggest_island", "max_area"] if biggest
                         else ["count_regions", "count_islands", "island_count", "connected_parts"])}
    style = r.choice(["stack", "recursive"])
    kw["fill"] = r.choice(["fill", "flood", "visit", "explore"])
    doc = _doc(r, ["Size of the largest group of `#` cells joined up, down, left or right." if biggest else
                   "Counts the groups of `#` cells that touch horizontally or vertically.",
                   ("The area of the biggest island" if biggest else "The number of islands") +
                   " in `$g`, where `#` is land and `.` is water.\n\nDiagonal cells are not connected.",
                   ("Flood-fills every region of `#` and returns the largest size." if biggest else
                    "Flood-fills from each unvisited `#` and counts how many fills it takes.")], kw)
    helper_doc = "/// Marks the region around `(r, c)` as seen and returns how many cells it has.\n"
    if style == "stack":
        helper = _fn("fn $fill(cells: &[Vec<u8>], seen: &mut [Vec<bool>], r: usize, c: usize) -> usize", """
            let mut stack = vec![(r, c)];
            seen[r][c] = true;
            let mut size = 0;
            while let Some((r, c)) = stack.pop() {
                size += 1;
                let mut next = vec![(r + 1, c), (r, c + 1)];
                if r > 0 {
                    next.push((r - 1, c));
                }
                if c > 0 {
                    next.push((r, c - 1));
                }
                for (nr, nc) in next {
                    if nr < cells.len() && nc < cells[nr].len() && cells[nr][nc] == b'#' && !seen[nr][nc] {
                        seen[nr][nc] = true;
                        stack.push((nr, nc));
                    }
                }
            }
            size""", kw, helper_doc)
    else:
        helper = _fn("fn $fill(cells: &[Vec<u8>], seen: &mut [Vec<bool>], r: usize, c: usize) -> usize", """
            if r >= cells.len() || c >= cells[r].len() || cells[r][c] != b'#' || seen[r][c] {
                return 0;
            }
            seen[r][c] = true;
            let mut size = 1 + $fill(cells, seen, r + 1, c) + $fill(cells, seen, r, c + 1);
            if r > 0 {
                size += $fill(cells, seen, r - 1, c);
            }
            if c > 0 {
                size += $fill(cells, seen, r, c - 1);
            }
            size""", kw, helper_doc)
    guard = "cells[r][c] == b'#' && !seen[r][c]"
    inner = (f"if {guard} {{\n    let size = $fill(&cells, &mut seen, r, c);\n    best = best.max(size);\n}}"
             if biggest else f"if {guard} {{\n    $fill(&cells, &mut seen, r, c);\n    count += 1;\n}}")
    body = ("let cells: Vec<Vec<u8>> = $g.iter().map(|row| row.bytes().collect()).collect();\n"
            "let mut seen: Vec<Vec<bool>> = cells.iter().map(|row| vec![false; row.len()]).collect();\n"
            f"let mut {'best' if biggest else 'count'} = 0;\n"
            "for r in 0..cells.len() {\n    for c in 0..cells[r].len() {\n" + textwrap.indent(inner, "        ") +
            f"\n    }}\n}}\n{'best' if biggest else 'count'}")
    main_fn = _fn("fn $fn($g: &[&str]) -> usize", body, kw, doc)
    checks = []
    for i in range(3):
        g = _grid(r, r.randrange(2, 6), r.randrange(2, 8), r.choice([0.3, 0.45, 0.6]))
        sizes = _regions(g)
        checks.append(_let_vec(f"g{i}", [_lit(row) for row in g], opener="["))
        checks.append(_check(f"{kw['fn']}(&g{i})", max(sizes, default=0) if biggest else len(sizes)))
    checks.append(_check(f"{kw['fn']}(&[])", 0))
    return _Prog([main_fn], checks, helpers=[helper], params=f"{style} biggest={biggest}")


@_family("grid_neighbours")
def _grid_neighbours(r: random.Random) -> _Prog:
    diag = r.random() < 0.6
    T = r.choice(["u8", "u32", "i32"])
    kw = {"T": T, "g": r.choice(["grid", "cells", "board", "field"]),
          "fn": r.choice(["live_neighbours", "count_neighbours", "neighbour_count", "adjacent_alive"])}
    kw["r"], kw["c"] = r.choice([("row", "col"), ("r", "c"), ("y", "x"), ("i", "j")])
    style = r.choice(["offsets", "ranges"])
    sig = "fn $fn($g: &[Vec<$T>], $r: usize, $c: usize) -> usize"
    if style == "offsets" or not diag:
        offs = ([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)] if diag
                else [(-1, 0), (1, 0), (0, -1), (0, 1)])
        arr = ", ".join(f"({a}, {b})" for a, b in offs)
        body = f"""
            const STEPS: [(isize, isize); {len(offs)}] = [{arr}];
            let mut n = 0;
            for (dr, dc) in STEPS {{
                let (nr, nc) = ($r as isize + dr, $c as isize + dc);
                if nr < 0 || nc < 0 {{
                    continue;
                }}
                let (nr, nc) = (nr as usize, nc as usize);
                if nr < $g.len() && nc < $g[nr].len() && $g[nr][nc] != 0 {{
                    n += 1;
                }}
            }}
            n"""
        if len(arr) > 60:
            # one offset per line, at the body's own indentation (the body is dedented as a whole afterwards)
            body = body.replace(f"[{arr}]", "[\n" + "".join(f"{' ' * 16}({a}, {b}),\n" for a, b in offs) + " " * 12 + "]")
        style = "offsets"
    else:
        body = """
            let mut n = 0;
            for nr in $r.saturating_sub(1)..=($r + 1).min($g.len() - 1) {
                for nc in $c.saturating_sub(1)..=($c + 1).min($g[nr].len() - 1) {
                    if (nr, nc) != ($r, $c) && $g[nr][nc] != 0 {
                        n += 1;
                    }
                }
            }
            n"""
    which = "eight surrounding cells" if diag else "four edge-adjacent cells"
    doc = _doc(r, [f"Counts the non-zero cells among the {which} of `($r, $c)`.",
                   (f"How many of the {which} of `$g[$r][$c]` are alive (non-zero).\n\n"
                    "Cells outside the grid count as dead."),
                   f"Number of live neighbours of the cell at row `$r`, column `$c`.\n\nThey are the {which}."], kw)
    rows, cols = r.randrange(3, 6), r.randrange(3, 6)
    g = [[1 if r.random() < 0.5 else 0 for _ in range(cols)] for _ in range(rows)]
    checks = [_let_vec(kw["g"], [_lit(row) for row in g])]
    cells = [(0, 0), (rows - 1, cols - 1)] + [(r.randrange(rows), r.randrange(cols)) for _ in range(3)]
    for a, b in cells:
        n = sum(g[a + da][b + db] for da in (-1, 0, 1) for db in (-1, 0, 1)
                if (da, db) != (0, 0) and (diag or da == 0 or db == 0)
                and 0 <= a + da < rows and 0 <= b + db < cols)
        checks.append(_check(f"{kw['fn']}(&{kw['g']}, {a}, {b})", n))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} diag={diag} {T}")


# ---- user-defined types ----

@_family("linked_list")
def _linked_list(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    L, N = r.choice([("List", "Node"), ("LinkedList", "Link"), ("Chain", "Cell"), ("Stack", "Frame")])
    kw = {"T": T, "L": L, "N": N, "v": r.choice(["value", "val", "elem", "data"])}
    rec = r.random() < 0.4
    node = _sub_text("""
        struct $N {
            $v: $T,
            next: Option<Box<$N>>,
        }
        """, kw)
    list_doc = r.choice(["/// A singly linked list; new values go on the front.\n", "/// A stack of values kept as a chain of boxed nodes.\n", ""])
    lst = list_doc + _sub_text("struct $L {\n    head: Option<Box<$N>>,\n}\n", kw)
    methods = [_method("fn new() -> Self", f"{L} {{ head: None }}"),
               _method("fn push(&mut self, $v: $T)".replace("$v", kw["v"]).replace("$T", T),
                       f"let old = self.head.take();\nself.head = Some(Box::new({N} {{ {kw['v']}, next: old }}));",
                       "/// Puts a value on the front.\n")]
    names = r.sample(["pop", "len", "total", "to_vec", "peek", "max"], 3)
    v = kw["v"]
    bodies = {
        "pop": ("fn pop(&mut self) -> Option<$T>", f"self.head.take().map(|node| {{\n    self.head = node.next;\n    node.{v}\n}})",
                "/// Removes the front value, if there is one.\n"),
        "peek": ("fn peek(&self) -> Option<$T>", f"self.head.as_ref().map(|node| node.{v})", ""),
        "len": ("fn len(&self) -> usize",
                "let mut n = 0;\nlet mut cur = &self.head;\nwhile let Some(node) = cur {\n    n += 1;\n    cur = &node.next;\n}\nn"
                if not rec else "fn walk(link: &Option<Box<$N>>) -> usize {\n    match link {\n        None => 0,\n"
                "        Some(node) => 1 + walk(&node.next),\n    }\n}\nwalk(&self.head)", ""),
        "total": ("fn total(&self) -> $T",
                f"let mut total = 0;\nlet mut cur = self.head.as_deref();\nwhile let Some(node) = cur {{\n    total += node.{v};\n"
                "    cur = node.next.as_deref();\n}\ntotal" if not rec else
                f"fn go(link: Option<&$N>) -> $T {{\n    link.map_or(0, |node| node.{v} + go(node.next.as_deref()))\n}}\n"
                "go(self.head.as_deref())", "/// Adds up every value in the list.\n"),
        "to_vec": ("fn to_vec(&self) -> Vec<$T>",
                   (f"let mut out = Vec::new();\nlet mut cur = &self.head;\nwhile let Some(node) = cur {{\n    out.push(node.{v});\n"
                    "    cur = &node.next;\n}\nout"), "/// The values from front to back.\n"),
        "max": ("fn max(&self) -> Option<$T>",
                (f"let mut best = None;\nlet mut cur = &self.head;\nwhile let Some(node) = cur {{\n"
                 f"    best = Some(best.map_or(node.{v}, |b: $T| b.max(node.{v})));\n    cur = &node.next;\n}}\nbest"),
                "/// The largest value, or `None` for an empty list.\n"),
    }
    for name in names:
        sig, body, doc = bodies[name]
        methods.append(_method(_sub_text(sig, kw), _sub_text(body, kw), doc))
    impl = _block(f"impl {L}", methods)
    model: list[int] = []
    checks = [f"let mut list = {L}::new();"]
    lo = 0 if T == "u32" else -20

    def observe():
        out = []
        for name in names:
            if name == "pop":
                continue
            val = {"len": len(model), "total": sum(model), "to_vec": model[::-1] if model else None,
                   "peek": model[-1] if model else None, "max": max(model) if model else None}[name]
            if name in ("peek", "max"):
                out.append(f"assert_eq!(list.{name}(), {_some(val)});")
            elif name == "to_vec":
                out.append(f"assert_eq!(list.to_vec(), {_vec(model[::-1], T)});")
            else:
                out.append(_check(f"list.{name}()", val))
        return out
    checks += observe()
    for step in range(r.randrange(4, 8)):
        if "pop" in names and model and (r.random() < 0.3 or step == 3):
            checks.append(f"assert_eq!(list.pop(), Some({model.pop()}));")
        else:
            x = r.randrange(lo, 50)
            model.append(x)
            checks.append(f"list.push({x});")
    checks += observe()
    if "pop" in names:
        while model:
            checks.append(f"assert_eq!(list.pop(), Some({model.pop()}));")
        checks.append("assert_eq!(list.pop(), None);")
    return _Prog([node, lst, impl], checks, params=f"{L} rec={rec} {T} {'/'.join(names)}")


@_family("fromstr_record")
def _fromstr_record(r: random.Random) -> _Prog:
    S, sep, fa, fb, lim_a, lim_b = r.choice([("Size", "x", "width", "height", 1000, 1000),
                                             ("Time", ":", "hours", "minutes", 23, 59),
                                             ("Ratio", "/", "num", "den", 999, 999),
                                             ("Score", "-", "home", "away", 99, 99)])
    E = r.choice(["ParseError", f"{S}Error", f"Parse{S}Error", "BadInput"])
    miss, bad, rng_v = r.choice([("MissingSeparator", "BadNumber", "OutOfRange"), ("NoSeparator", "NotANumber", "TooBig"),
                                 ("Malformed", "InvalidDigit", "OutOfRange")])
    style = r.choice(["question", "match"])
    enum = (f"#[derive(Debug, PartialEq)]\nenum {E} {{\n    {miss},\n    {bad},\n    {rng_v},\n}}\n")
    struct = f"#[derive(Debug, PartialEq)]\nstruct {S} {{\n    {fa}: u32,\n    {fb}: u32,\n}}\n"
    if style == "question":
        body = (f"let (a, b) = s.split_once('{sep}').ok_or({E}::{miss})?;\n"
                f"let {fa}: u32 = a.trim().parse().map_err(|_| {E}::{bad})?;\n"
                f"let {fb}: u32 = b.trim().parse().map_err(|_| {E}::{bad})?;\n"
                f"if {fa} > {lim_a} || {fb} > {lim_b} {{\n    return Err({E}::{rng_v});\n}}\n"
                f"Ok({S} {{ {fa}, {fb} }})")
    else:
        body = (f"let Some((a, b)) = s.split_once('{sep}') else {{\n    return Err({E}::{miss});\n}};\n"
                f"match (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {{\n"
                f"    (Ok({fa}), Ok({fb})) if {fa} <= {lim_a} && {fb} <= {lim_b} => {{\n        Ok({S} {{ {fa}, {fb} }})\n    }}\n"
                f"    (Ok(_), Ok(_)) => Err({E}::{rng_v}),\n    _ => Err({E}::{bad}),\n}}")
    doc = r.choice([f"/// Parses text like `\"{3}{sep}{4}\"`.\n", f"/// Reads a {S.lower()} written as `{fa}{sep}{fb}`.\n", ""])
    impl = doc + _block(f"impl FromStr for {S}", [f"type Err = {E};", _method("fn from_str(s: &str) -> Result<Self, Self::Err>", body)])
    checks = []
    for _ in range(3):
        a, b = r.randrange(0, lim_a + 1), r.randrange(0, lim_b + 1)
        text = f"{a}{sep}{b}" if r.random() < 0.7 else f"{a} {sep} {b}"
        call = f"{_lit(text)}.parse::<{S}>()" if r.random() < 0.5 else f"{S}::from_str({_lit(text)})"
        checks.append(f"assert_eq!({call}, Ok({S} {{ {fa}: {a}, {fb}: {b} }}));")
    bad_cases = [(f"{r.randrange(10)}{r.randrange(10)}", miss), (f"{r.choice(_WORDS)}{sep}{r.randrange(9)}", bad),
                 (f"{r.randrange(9)}{sep}", bad), (f"{lim_a + r.randrange(1, 50)}{sep}{r.randrange(lim_b)}", rng_v),
                 (f"-{r.randrange(1, 9)}{sep}{r.randrange(9)}", bad)]
    for text, err in r.sample(bad_cases, 3):
        checks.append(f"assert_eq!({_lit(text)}.parse::<{S}>(), Err({E}::{err}));")
    if r.random() < 0.5:
        checks.append(f"let ok = [{', '.join(_lit(f'{r.randrange(lim_a)}{sep}{r.randrange(lim_b)}') for _ in range(2))}, \"?\"];")
        checks.append(f"assert_eq!(ok.iter().filter(|t| t.parse::<{S}>().is_ok()).count(), 2);")
    items = [enum, struct, impl] if r.random() < 0.6 else [struct, enum, impl]
    return _Prog(items, checks, uses=["std::str::FromStr"], params=f"{S} {style}")


@_family("dyn_trait_vec")
def _dyn_trait_vec(r: random.Random) -> _Prog:
    Tr = r.choice(["Payable", "Earner", "Staff", "Paid"])
    A, B, C = r.choice([("Salaried", "Hourly", "Manager"), ("Clerk", "Contractor", "Lead"), ("Fixed", "PerHour", "Boss")])
    m, bonus, yearly = r.choice([("monthly", "bonus", "yearly"), ("pay", "extra", "annual"), ("wage", "bonus", "per_year")])
    fn = r.choice(["payroll", "total_cost", "yearly_total", "wage_bill"])
    trait = _block(f"trait {Tr}", [f"fn {m}(&self) -> u64;",
                                  _method(f"fn {bonus}(&self) -> u64", "0", "/// Extra pay once a year; none unless a type says so.\n"),
                                  _method(f"fn {yearly}(&self) -> u64", f"self.{m}() * 12 + self.{bonus}()")])
    items = [trait, f"struct {A} {{\n    salary: u64,\n}}\n", f"struct {B} {{\n    rate: u64,\n    hours: u64,\n}}\n",
             f"struct {C} {{\n    salary: u64,\n    reports: u64,\n}}\n",
             _block(f"impl {Tr} for {A}", [_method(f"fn {m}(&self) -> u64", "self.salary")]),
             _block(f"impl {Tr} for {B}", [_method(f"fn {m}(&self) -> u64", "self.rate * self.hours")]),
             _block(f"impl {Tr} for {C}", [_method(f"fn {m}(&self) -> u64", "self.salary"),
                                           _method(f"fn {bonus}(&self) -> u64", "self.reports * 100")])]
    style = r.choice(["sum", "loop", "fold"])
    body = {"sum": f"staff.iter().map(|s| s.{yearly}()).sum()",
            "loop": f"let mut total = 0;\nfor s in staff {{\n    total += s.{yearly}();\n}}\ntotal",
            "fold": f"staff.iter().fold(0, |acc, s| acc + s.{yearly}())"}[style]
    doc = _doc(r, ["What everyone in `staff` costs over a year, bonuses included.",
                   f"Sums `{yearly}` over a mixed list of workers.",
                   "Total yearly pay of all the workers, whatever kind each one is."])
    items.append(_fn(f"fn {fn}(staff: &[Box<dyn {Tr}>]) -> u64", body, {}, doc))
    people, elems = [], []
    kinds = list("ABC") + [r.choice("ABC") for _ in range(r.randrange(0, 3))]
    r.shuffle(kinds)
    for k in kinds:
        if k == "A":
            s = r.randrange(10, 60) * 100
            elems.append(f"Box::new({A} {{ salary: {s} }})")
            people.append((s, 0))
        elif k == "B":
            rt, h = r.randrange(10, 40), r.randrange(20, 160)
            elems.append(f"Box::new({B} {{ rate: {rt}, hours: {h} }})")
            people.append((rt * h, 0))
        else:
            s, rep = r.randrange(30, 90) * 100, r.randrange(0, 8)
            elems.append(f"Box::new({C} {{ salary: {s}, reports: {rep} }})")
            people.append((s, rep * 100))
    checks = [_let_vec("staff", elems).replace("let staff = vec![", f"let staff: Vec<Box<dyn {Tr}>> = vec![")]
    checks.append(_check(f"{fn}(&staff)", sum(p * 12 + b for p, b in people)))
    i = r.randrange(len(people))
    checks += [_check(f"staff[{i}].{m}()", people[i][0]), _check(f"staff[{i}].{bonus}()", people[i][1]),
               _check(f"{fn}(&[])", 0)]
    return _Prog(items, checks, params=f"{Tr} {style}")


_MACHINES = [
    ("Door", ["Open", "Closed", "Locked"], ["Push", "Pull", "Lock", "Unlock"],
     {("Closed", "Push"): "Open", ("Open", "Pull"): "Closed", ("Closed", "Lock"): "Locked",
      ("Locked", "Unlock"): "Closed"}, "Closed"),
    ("Turnstile", ["Locked", "Unlocked"], ["Coin", "Push"],
     {("Locked", "Coin"): "Unlocked", ("Unlocked", "Push"): "Locked"}, "Locked"),
    ("Player", ["Stopped", "Playing", "Paused"], ["Play", "Pause", "Stop"],
     {("Stopped", "Play"): "Playing", ("Playing", "Pause"): "Paused", ("Paused", "Play"): "Playing",
      ("Playing", "Stop"): "Stopped", ("Paused", "Stop"): "Stopped"}, "Stopped"),
    ("Order", ["Placed", "Paid", "Shipped", "Cancelled"], ["Pay", "Ship", "Cancel"],
     {("Placed", "Pay"): "Paid", ("Paid", "Ship"): "Shipped", ("Placed", "Cancel"): "Cancelled",
      ("Paid", "Cancel"): "Cancelled"}, "Placed"),
]


@_family("state_machine")
def _state_machine(r: random.Random) -> _Prog:
    name, states, events, table, start = r.choice(_MACHINES)
    S = r.choice([f"{name}State", name, "State"])
    E = r.choice(["Event", "Action", "Input", f"{name}Event"])
    if E == S:
        E = "Event"
    method = r.choice(["next", "on", "handle", "step", "apply"])
    style = r.choice(["tuple", "nested"])
    derive = "#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n"
    items = [derive + _block(f"enum {S}", [f"{s}," for s in states]).replace(",\n\n", ",\n"),
             derive + _block(f"enum {E}", [f"{e}," for e in events]).replace(",\n\n", ",\n")]
    if style == "tuple":
        arms = "".join(f"    ({S}::{a}, {E}::{b}) => {S}::{c},\n" for (a, b), c in table.items())
        body = f"match (self, event) {{\n{arms}    (state, _) => state,\n}}"
    else:
        by_state: dict = {}
        for (a, b), c in table.items():
            by_state.setdefault(a, []).append((b, c))
        arms = ""
        for a in states:
            if a not in by_state:
                continue
            inner = "".join(f"        {E}::{b} => {S}::{c},\n" for b, c in by_state[a])
            arms += f"    {S}::{a} => match event {{\n{inner}        _ => self,\n    }},\n"
        arms += "    _ => self,\n" if len(by_state) < len(states) else ""
        body = f"match self {{\n{arms}}}"
    doc = r.choice(["/// The state after `event`; events that make no sense here leave the state unchanged.\n",
                    "/// One transition of the machine. Invalid events are ignored.\n", ""])
    impl = _block(f"impl {S}", [_method(f"fn {method}(self, event: {E}) -> Self", body, doc)])
    items.append(impl)
    run = r.choice(["run", "replay", "final_state", "run_all"])
    run_style = r.choice(["fold", "loop"])
    run_body = (f"events.iter().fold(start, |state, &e| state.{method}(e))" if run_style == "fold" else
                f"let mut state = start;\nfor &e in events {{\n    state = state.{method}(e);\n}}\nstate")
    run_doc = _doc(r, ["Feeds `events` to the machine one by one, starting from `start`.",
                       "The state reached after handling every event in order.",
                       "Replays a list of events and returns where the machine ends up."])
    items.append(_fn(f"fn {run}(start: {S}, events: &[{E}]) -> {S}", run_body, {}, run_doc))
    checks = []
    for (a, b), c in r.sample(list(table.items()), 2):
        checks.append(f"assert_eq!({S}::{a}.{method}({E}::{b}), {S}::{c});")
    bad = [(a, b) for a in states for b in events if (a, b) not in table]
    a, b = r.choice(bad)
    checks.append(f"assert_eq!({S}::{a}.{method}({E}::{b}), {S}::{a});")
    for i in range(2):
        evs = [r.choice(events) for _ in range(r.randrange(2, 7))]
        if i == 0:  # every event at least once, or rustc warns that a variant is never constructed
            evs = r.sample(events, len(events)) + evs[:2]
        st = start
        for e in evs:
            st = table.get((st, e), st)
        call = f"{run}({S}::{start}, &[{', '.join(f'{E}::{e}' for e in evs)}])"
        if len(call) > 70:
            checks.append(_let_vec(f"events{i}", [f"{E}::{e}" for e in evs], opener="["))
            checks.append(f"assert_eq!({run}({S}::{start}, &events{i}), {S}::{st});")
        else:
            checks.append(f"assert_eq!({call}, {S}::{st});")
    checks.append(f"assert_eq!({run}({S}::{start}, &[]), {S}::{start});")
    return _Prog(items, checks, params=f"{name} {style} {run_style}")


@_family("ord_version")
def _ord_version(r: random.Random) -> _Prog:
    S, fields = r.choice([("Version", ["major", "minor", "patch"]), ("Date", ["year", "month", "day"]),
                          ("Release", ["major", "minor", "patch"]), ("Stamp", ["hour", "minute", "second"])])
    T = r.choice(["u32", "u16", "u64"])
    derived = r.random() < 0.55
    a, b, c = fields
    struct = (f"#[derive(Debug, Clone, Copy, PartialEq, Eq{', PartialOrd, Ord' if derived else ''})]\n"
              f"struct {S} {{\n    {a}: {T},\n    {b}: {T},\n    {c}: {T},\n}}\n")
    if derived:
        struct = r.choice(["/// Field order matters: the derived `Ord` compares fields top to bottom.\n", ""]) + struct
    items = [struct, _block(f"impl {S}", [_method(f"fn new({a}: {T}, {b}: {T}, {c}: {T}) -> Self", f"{S} {{ {a}, {b}, {c} }}")])]
    if not derived:
        cmp = (f"self.{a}\n    .cmp(&other.{a})\n    .then(self.{b}.cmp(&other.{b}))\n    .then(self.{c}.cmp(&other.{c}))"
               if r.random() < 0.5 else f"({a}_key(self)).cmp(&{a}_key(other))")
        if "key" in cmp:
            cmp = f"(self.{a}, self.{b}, self.{c}).cmp(&(other.{a}, other.{b}, other.{c}))"
        items.append(_block(f"impl Ord for {S}", [_method("fn cmp(&self, other: &Self) -> Ordering", cmp)]))
        items.append(_block(f"impl PartialOrd for {S}", [_method("fn partial_cmp(&self, other: &Self) -> Option<Ordering>",
                                                                  "Some(self.cmp(other))")]))
    fn_latest = r.choice(["latest", "newest", "most_recent", "highest"])
    style = r.choice(["max", "fold"])
    body = ("xs.iter().max().copied()" if style == "max" else
            "let mut best: Option<$S> = None;\nfor &x in xs {\n    if best.map_or(true, |b| x > b) {\n"
            "        best = Some(x);\n    }\n}\nbest")
    items.append(_fn(f"fn {fn_latest}(xs: &[$S]) -> Option<$S>", body, {"S": S},
                     _doc(r, [f"The greatest `{S}` in `xs`, or `None` if it is empty.",
                              f"Picks the latest {S.lower()} of the list.", "Returns the maximum by field order."])))
    vals = []
    while len(vals) < r.randrange(3, 6):
        base = r.choice(vals) if vals and r.random() < 0.5 else (r.randrange(0, 4), r.randrange(0, 10), r.randrange(0, 30))
        v = tuple(x if r.random() < 0.6 else r.randrange(0, 30) for x in base)
        if v not in vals:
            vals.append(v)
    new = lambda v: f"{S}::new({v[0]}, {v[1]}, {v[2]})"
    checks = [_let_vec("list", [new(v) for v in vals], mut=True)]
    checks.append(f"assert_eq!({fn_latest}(&list), Some({new(max(vals))}));")
    checks.append("list.sort();")
    for i, v in enumerate(sorted(vals)):
        if i in (0, len(vals) - 1) or r.random() < 0.3:
            checks.append(f"assert_eq!(list[{i}], {new(v)});")
    x, y = r.sample(vals, 2)
    checks.append(f"assert!({new(x)} {'<' if x < y else '>'} {new(y)});")
    checks.append(f"assert_eq!({fn_latest}(&[]), None);")
    uses = [] if derived else ["std::cmp::Ordering"]
    return _Prog(items, checks, uses=uses, params=f"{S} derived={derived} {style} {T}")


@_family("generic_where")
def _generic_where(r: random.Random) -> _Prog:
    task = r.choice(["count_between", "clamp_all", "sum_iter", "first_above"])
    where = r.random() < 0.5
    checks = []
    if task == "count_between":
        fn = r.choice(["count_between", "count_in_range", "how_many_within"])
        sig = (f"fn {fn}<T>(xs: &[T], lo: T, hi: T) -> usize\nwhere\n    T: PartialOrd + Copy,\n" if where
               else f"fn {fn}<T: PartialOrd + Copy>(xs: &[T], lo: T, hi: T) -> usize ")
        body = "xs.iter().filter(|&&x| lo <= x && x <= hi).count()"
        doc = ["How many elements of `xs` lie in `lo..=hi`; works for any ordered type.",
               "Counts the values between `lo` and `hi`, both ends included."]
        ints = [r.randrange(-20, 40) for _ in range(r.randrange(2, 8))]
        lo, hi = sorted(r.sample(range(-10, 30), 2))
        checks.append(_check(f"{fn}({_slice(ints)}, {lo}, {hi})", sum(lo <= x <= hi for x in ints)))
        fl = [r.randrange(0, 100) / 4 for _ in range(r.randrange(2, 6))]
        lo, hi = sorted(r.sample(range(25), 2))
        checks.append(_check(f"{fn}({_slice(fl)}, {float(lo)!r}, {float(hi)!r})", sum(lo <= x <= hi for x in fl)))
        words = r.sample(_WORDS, 5)
        a, b = sorted(r.sample(words, 2))
        checks.append(_check(f"{fn}({_slice(words)}, {_lit(a)}, {_lit(b)})", sum(a <= w <= b for w in words)))
    elif task == "clamp_all":
        fn = r.choice(["clamp_all", "clamped", "limit_all"])
        sig = (f"fn {fn}<T>(xs: &[T], lo: T, hi: T) -> Vec<T>\nwhere\n    T: PartialOrd + Copy,\n" if where
               else f"fn {fn}<T: PartialOrd + Copy>(xs: &[T], lo: T, hi: T) -> Vec<T> ")
        body = r.choice(["xs.iter()\n    .map(|&x| if x < lo { lo } else if x > hi { hi } else { x })\n    .collect()",
                         ("let mut out = Vec::with_capacity(xs.len());\nfor &x in xs {\n    let y = if x < lo {\n        lo\n"
                          "    } else if x > hi {\n        hi\n    } else {\n        x\n    };\n    out.push(y);\n}\nout")])
        doc = ["Every element of `xs` pulled into the range `lo..=hi`.",
               "Clamps each value to `[lo, hi]`; needs only `PartialOrd`, so floats work too."]
        ints = [r.randrange(-20, 40) for _ in range(r.randrange(2, 8))]
        lo, hi = sorted(r.sample(range(-10, 30), 2))
        checks.append(_check(f"{fn}({_slice(ints)}, {lo}, {hi})", [min(max(x, lo), hi) for x in ints]))
        fl = [r.randrange(0, 100) / 4 for _ in range(r.randrange(2, 6))]
        lo, hi = sorted(r.sample(range(25), 2))
        checks.append(_check(f"{fn}({_slice(fl)}, {float(lo)!r}, {float(hi)!r})", [min(max(x, float(lo)), float(hi)) for x in fl]))
    elif task == "sum_iter":
        fn = r.choice(["total", "sum_all", "add_up"])
        T = r.choice(["u32", "i64", "u64"])
        sig = (f"fn {fn}<I>(items: I) -> {T}\nwhere\n    I: IntoIterator<Item = {T}>,\n" if where
               else f"fn {fn}(items: impl IntoIterator<Item = {T}>) -> {T} ")
        body = r.choice(["items.into_iter().sum()", "let mut acc = 0;\nfor x in items {\n    acc += x;\n}\nacc",
                         "items.into_iter().fold(0, |acc, x| acc + x)"])
        doc = ["Adds up anything that can be iterated over as numbers: a `Vec`, an array, a range.",
               "The sum of the items; takes any `IntoIterator`, not just slices."]
        xs = [r.randrange(0, 50) for _ in range(r.randrange(1, 6))]
        n, k = r.randrange(1, 30), r.randrange(2, 5)
        checks += [_check(f"{fn}({_lit(xs)})", sum(xs)), _check(f"{fn}(1..={n})", n * (n + 1) // 2),
                   _check(f"{fn}((0..{n}).filter(|x| x % {k} == 0))", sum(x for x in range(n) if x % k == 0)),
                   _check(f"{fn}([{', '.join(map(str, xs))}].iter().map(|x| x * 2))", 2 * sum(xs)),
                   _check(f"{fn}(Vec::new())", 0)]
    else:
        fn = r.choice(["first_above", "first_over", "find_above"])
        sig = (f"fn {fn}<T>(xs: &[T], limit: T) -> Option<T>\nwhere\n    T: PartialOrd + Copy,\n" if where
               else f"fn {fn}<T: PartialOrd + Copy>(xs: &[T], limit: T) -> Option<T> ")
        body = r.choice(["xs.iter().copied().find(|&x| x > limit)",
                         "for &x in xs {\n    if x > limit {\n        return Some(x);\n    }\n}\nNone"])
        doc = ["The first element of `xs` greater than `limit`, if any.",
               "Finds the first value above `limit`; generic over any ordered, copyable type."]
        ints = [r.randrange(-20, 40) for _ in range(r.randrange(2, 8))]
        lim = r.randrange(-5, 45)
        checks.append(f"assert_eq!({fn}({_slice(ints)}, {lim}), {_some(next((x for x in ints if x > lim), None))});")
        chars = [chr(97 + r.randrange(26)) for _ in range(5)]
        c = chr(97 + r.randrange(26))
        hit = next((x for x in chars if x > c), None)
        checks.append(f"assert_eq!({fn}(&[{', '.join(_ch(x) for x in chars)}], {_ch(c)}), {_some(_ch(hit)) if hit else 'None'});")
        checks.append(f"assert_eq!({fn}(&[1.5, 2.5], 9.0), None);")
    text = _doc(r, doc) + sig.rstrip() + ("\n{\n" if where else " {\n") + textwrap.indent(body, "    ") + "\n}\n"
    return _Prog([text], checks, params=f"{task} where={where}")


@_family("question_mark")
def _question_mark(r: random.Random) -> _Prog:
    sep = r.choice(["=", ":"])
    parse_fn = r.choice(["parse_setting", "parse_entry", "read_pair", "parse_line"])
    total_fn = r.choice(["total_of", "sum_settings", "add_entries", "sum_values"])
    T = r.choice(["i32", "i64"])
    style = r.choice(["question", "combinators"])
    if style == "question":
        body = (f"let Some((key, value)) = line.split_once('{sep}') else {{\n"
                f"    return Err(format!(\"missing '{sep}' in {{line}}\"));\n}};\n"
                "let key = key.trim();\nif key.is_empty() {\n    return Err(String::from(\"empty key\"));\n}\n"
                f"let value = value\n    .trim()\n    .parse::<{T}>()\n    .map_err(|_| format!(\"bad number for {{key}}\"))?;\n"
                "Ok((key.to_string(), value))")
    else:
        body = (f"let (key, value) = line\n    .split_once('{sep}')\n    .ok_or_else(|| format!(\"missing '{sep}' in {{line}}\"))?;\n"
                "let key = key.trim();\nif key.is_empty() {\n    return Err(\"empty key\".to_string());\n}\n"
                f"value\n    .trim()\n    .parse::<{T}>()\n    .map(|v| (key.to_string(), v))\n"
                "    .map_err(|_| format!(\"bad number for {key}\"))")
    doc1 = _doc(r, [f"Parses a `key{sep}value` line into its trimmed key and numeric value.",
                    f"Splits `line` at `{sep}` and reads the right side as a number; errors say what went wrong."])
    f1 = _fn(f"fn {parse_fn}(line: &str) -> Result<(String, {T}), String>", body, {}, doc1)
    tstyle = r.choice(["loop", "collect"])
    tbody = (f"let mut total = 0;\nfor line in lines {{\n    let (_, v) = {parse_fn}(line)?;\n    total += v;\n}}\nOk(total)"
             if tstyle == "loop" else
             f"let pairs = lines\n    .iter()\n    .map(|line| {parse_fn}(line))\n    .collect::<Result<Vec<_>, _>>()?;\n"
             "Ok(pairs.iter().map(|(_, v)| v).sum())")
    doc2 = _doc(r, ["Adds up the values of all `lines`, stopping at the first line that does not parse.",
                    "The sum of the settings' values, or the error of the first bad line."])
    f2 = _fn(f"fn {total_fn}(lines: &[&str]) -> Result<{T}, String>", tbody, {}, doc2)
    checks = []
    good = []
    for _ in range(3):
        k, v = r.choice(_WORDS), r.randrange(-50, 200)
        text = r.choice([f"{k}{sep}{v}", f"{k} {sep} {v}", f" {k}{sep} {v}"])
        good.append((text, v))
        checks.append(f"assert_eq!({parse_fn}({_lit(text)}), Ok(({_lit(k)}.to_string(), {v})));")
    k = r.choice(_WORDS)
    bad = [(f"{k} {r.randrange(9)}", f"missing '{sep}' in {k} {{n}}"), (f"{k}{sep}{r.choice(_WORDS)}", f"bad number for {k}"),
           (f"{sep}{r.randrange(9)}", "empty key")]
    for text, err in r.sample(bad, 2):
        if "{n}" in err:
            err = f"missing '{sep}' in {text}"
        checks.append(f"assert_eq!({parse_fn}({_lit(text)}), Err({_lit(err)}.to_string()));")
    checks.append(f"assert_eq!({total_fn}({_slice([t for t, _ in good])}), Ok({sum(v for _, v in good)}));")
    broken = [good[0][0], f"{k}{sep}x", good[1][0]]
    checks.append(f"assert_eq!({total_fn}({_slice(broken)}), Err({_lit(f'bad number for {k}')}.to_string()));")
    checks.append(f"assert_eq!({total_fn}(&[]), Ok(0));")
    return _Prog([f2], checks, helpers=[f1], params=f"{style} {tstyle} {T}")


@_family("matrix_struct")
def _matrix_struct(r: random.Random) -> _Prog:
    S = r.choice(["Matrix", "Grid", "Table", "Mat"])
    T = r.choice(["i32", "i64"])
    d = r.choice(["data", "cells", "values"])
    methods = [_method("fn new(rows: usize, cols: usize) -> Self", f"{S} {{\n    rows,\n    cols,\n    {d}: vec![0; rows * cols],\n}}",
                       "/// A `rows` x `cols` matrix of zeros.\n"),
               _method(f"fn get(&self, r: usize, c: usize) -> {T}", f"self.{d}[r * self.cols + c]"),
               _method(f"fn set(&mut self, r: usize, c: usize, v: {T})", f"self.{d}[r * self.cols + c] = v;")]
    ops = r.sample(["transpose", "row_sum", "col_sum", "scale", "add", "trace"], 3)
    bodies = {
        "transpose": (f"fn transpose(&self) -> {S}",
                      (f"let mut t = {S}::new(self.cols, self.rows);\nfor r in 0..self.rows {{\n    for c in 0..self.cols {{\n"
                       "        t.set(c, r, self.get(r, c));\n    }\n}\nt"), "/// Rows become columns.\n"),
        "row_sum": (f"fn row_sum(&self, r: usize) -> {T}", f"self.{d}[r * self.cols..(r + 1) * self.cols].iter().sum()", ""),
        "col_sum": (f"fn col_sum(&self, c: usize) -> {T}", "(0..self.rows).map(|r| self.get(r, c)).sum()", ""),
        "scale": (f"fn scale(&mut self, k: {T})", f"for x in self.{d}.iter_mut() {{\n    *x *= k;\n}}",
                  "/// Multiplies every entry by `k` in place.\n"),
        "add": (f"fn add(&self, other: &{S}) -> Option<{S}>",
                (f"if self.rows != other.rows || self.cols != other.cols {{\n    return None;\n}}\n"
                 f"let {d} = self.{d}.iter().zip(&other.{d}).map(|(a, b)| a + b).collect();\n"
                 f"Some({S} {{\n    rows: self.rows,\n    cols: self.cols,\n    {d},\n}})"),
                "/// The entrywise sum, or `None` when the shapes differ.\n"),
        "trace": (f"fn trace(&self) -> {T}", "(0..self.rows.min(self.cols)).map(|i| self.get(i, i)).sum()",
                  "/// The sum of the main diagonal.\n"),
    }
    for op in ops:
        sig, body, doc = bodies[op]
        methods.append(_method(sig, body, doc))
    struct = (r.choice(["/// A dense matrix stored row by row in one `Vec`.\n", ""]) +
              f"#[derive(Debug, Clone, PartialEq)]\nstruct {S} {{\n    rows: usize,\n    cols: usize,\n    {d}: Vec<{T}>,\n}}\n")
    rows, cols = r.randrange(2, 4), r.randrange(2, 4)
    g = [[r.randrange(-9, 10) for _ in range(cols)] for _ in range(rows)]
    checks = [f"let mut m = {S}::new({rows}, {cols});"]
    if r.random() < 0.5 or rows * cols > 6:  # one `set` per entry would make a long main
        checks.append(_let_vec("vals", [_lit(row) for row in g], opener="["))
        checks.append("for (r, row) in vals.iter().enumerate() {\n    for (c, &v) in row.iter().enumerate() {\n"
                      "        m.set(r, c, v);\n    }\n}")
    else:
        checks += [f"m.set({i}, {j}, {g[i][j]});" for i in range(rows) for j in range(cols) if g[i][j] != 0]
    checks.append(_check(f"m.get({rows - 1}, {cols - 1})", g[rows - 1][cols - 1]))
    if "row_sum" in ops:
        i = r.randrange(rows)
        checks.append(_check(f"m.row_sum({i})", sum(g[i])))
    if "col_sum" in ops:
        j = r.randrange(cols)
        checks.append(_check(f"m.col_sum({j})", sum(row[j] for row in g)))
    if "trace" in ops:
        checks.append(_check("m.trace()", sum(g[i][i] for i in range(min(rows, cols)))))
    if "transpose" in ops:
        i, j = r.randrange(rows), r.randrange(cols)
        checks += ["let t = m.transpose();", _check("(t.rows, t.cols)", (cols, rows)), _check(f"t.get({j}, {i})", g[i][j]),
                   "assert_eq!(t.transpose(), m);"]
    if "add" in ops:
        i, j = r.randrange(rows), r.randrange(cols)
        checks += ["let twice = m.add(&m).unwrap();", _check(f"twice.get({i}, {j})", 2 * g[i][j]),
                   f"assert!(m.add(&{S}::new({rows + 1}, {cols})).is_none());"]
    if "scale" in ops:
        k = r.randrange(-3, 4)
        i, j = r.randrange(rows), r.randrange(cols)
        checks += [f"m.scale({k});", _check(f"m.get({i}, {j})", k * g[i][j])]
    return _Prog([struct, _block(f"impl {S}", methods)], checks, params=f"{S} {T} {'/'.join(ops)}")


@_family("record_book")
def _record_book(r: random.Random) -> _Prog:
    S = r.choice(["Gradebook", "ScoreBoard", "Roster", "Ledger", "Register"])
    f = r.choice(["entries", "records", "scores"])
    T = r.choice(["u32", "u64"])
    add, get, best, avg, remove = (r.choice(["add", "record", "insert", "set"]), r.choice(["get", "score_of", "lookup"]),
                                   r.choice(["best", "top", "leader"]), r.choice(["average", "mean"]),
                                   r.choice(["remove", "drop_name", "take"]))
    style = r.choice(["vec", "map"])
    if style == "vec":
        field_ty = f"Vec<(String, {T})>"
        m_add = _method(f"fn {add}(&mut self, name: &str, score: {T})",
                        f"match self.{f}.iter_mut().find(|(n, _)| n == name) {{\n    Some(entry) => entry.1 = score,\n"
                        f"    None => self.{f}.push((name.to_string(), score)),\n}}",
                        "/// Adds a name, or updates its score if it is already there.\n")
        m_get = _method(f"fn {get}(&self, name: &str) -> Option<{T}>",
                        f"self.{f}.iter().find(|(n, _)| n == name).map(|(_, s)| *s)")
        m_best = _method(f"fn {best}(&self) -> Option<&str>",
                         f"self.{f}\n    .iter()\n    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))\n    .map(|(n, _)| n.as_str())",
                         "/// The name with the highest score (the alphabetically first on a tie).\n")
        m_rm = _method(f"fn {remove}(&mut self, name: &str) -> Option<{T}>",
                       f"let i = self.{f}.iter().position(|(n, _)| n == name)?;\nSome(self.{f}.remove(i).1)")
        iter_scores = f"self.{f}.iter().map(|(_, s)| *s)"
        new = f"{S} {{ {f}: Vec::new() }}"
    else:
        field_ty = f"BTreeMap<String, {T}>"
        m_add = _method(f"fn {add}(&mut self, name: &str, score: {T})", f"self.{f}.insert(name.to_string(), score);",
                        "/// Adds a name, or updates its score if it is already there.\n")
        m_get = _method(f"fn {get}(&self, name: &str) -> Option<{T}>", f"self.{f}.get(name).copied()")
        m_best = _method(f"fn {best}(&self) -> Option<&str>",
                         f"self.{f}\n    .iter()\n    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))\n    .map(|(n, _)| n.as_str())",
                         "/// The name with the highest score (the alphabetically first on a tie).\n")
        m_rm = _method(f"fn {remove}(&mut self, name: &str) -> Option<{T}>", f"self.{f}.remove(name)")
        iter_scores = f"self.{f}.values().copied()"
        new = f"{S} {{\n    {f}: BTreeMap::new(),\n}}"
    m_avg = _method(f"fn {avg}(&self) -> Option<f64>",
                    f"if self.{f}.is_empty() {{\n    return None;\n}}\nlet total: {T} = {iter_scores}.sum();\n"
                    f"Some(total as f64 / self.{f}.len() as f64)", "/// The mean score, or `None` when the book is empty.\n")
    methods = [_method("fn new() -> Self", new), m_add, m_get, m_best, m_avg, m_rm]
    struct = f"struct {S} {{\n    {f}: {field_ty},\n}}\n"
    model: dict = {}
    checks = [f"let mut book = {S}::new();", f"assert_eq!(book.{best}(), None);", f"assert_eq!(book.{avg}(), None);"]
    names = r.sample(_NAMES, 5)
    for _ in range(r.randrange(4, 8)):
        n, s = r.choice(names), r.randrange(0, 100)
        model[n] = s
        checks.append(f"book.{add}({_lit(n)}, {s});")
    n = r.choice(names)
    checks.append(f"assert_eq!(book.{get}({_lit(n)}), {_some(model.get(n))});")

    def top():
        return min(model.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    checks.append(f"assert_eq!(book.{best}(), Some({_lit(top())}));")
    checks.append(_close(f"book.{avg}().unwrap()", sum(model.values()) / len(model)))
    gone = r.choice(list(model))
    checks.append(f"assert_eq!(book.{remove}({_lit(gone)}), Some({model.pop(gone)}));")
    checks.append(f"assert_eq!(book.{remove}({_lit(gone)}), None);")
    checks.append(f"assert_eq!(book.{get}({_lit(gone)}), None);")
    if model:
        checks.append(f"assert_eq!(book.{best}(), Some({_lit(top())}));")
    uses = ["std::collections::BTreeMap"] if style == "map" else []
    return _Prog([struct, _block(f"impl {S}", methods)], checks, uses=uses, params=f"{S} {style} {T}")


@_family("expr_tree")
def _expr_tree(r: random.Random) -> _Prog:
    E = r.choice(["Expr", "Node", "Term", "Ast"])
    T = r.choice(["i64", "i32"])
    num, add, mul, neg = r.choice([("Num", "Add", "Mul", "Neg"), ("Lit", "Plus", "Times", "Minus"),
                                   ("Const", "Sum", "Product", "Negate")])
    enum = (r.choice(["/// An arithmetic expression tree; `Box` gives the recursive variants a fixed size.\n", ""]) +
            f"enum {E} {{\n    {num}({T}),\n    {add}(Box<{E}>, Box<{E}>),\n    {mul}(Box<{E}>, Box<{E}>),\n"
            f"    {neg}(Box<{E}>),\n}}\n")
    ev = r.choice(["eval", "evaluate", "value"])
    extra = r.choice(["depth", "leaf_count", "to_text"])
    methods = [_method(f"fn {ev}(&self) -> {T}",
                       f"match self {{\n    {E}::{num}(n) => *n,\n    {E}::{add}(a, b) => a.{ev}() + b.{ev}(),\n"
                       f"    {E}::{mul}(a, b) => a.{ev}() * b.{ev}(),\n    {E}::{neg}(e) => -e.{ev}(),\n}}")]
    if extra == "depth":
        methods.append(_method("fn depth(&self) -> usize",
                               f"match self {{\n    {E}::{num}(_) => 1,\n    {E}::{add}(a, b) | {E}::{mul}(a, b) => 1 + a.depth().max(b.depth()),\n"
                               f"    {E}::{neg}(e) => 1 + e.depth(),\n}}", "/// Levels in the tree; a lone number has depth 1.\n"))
    elif extra == "leaf_count":
        methods.append(_method("fn leaf_count(&self) -> usize",
                               f"match self {{\n    {E}::{num}(_) => 1,\n    {E}::{add}(a, b) | {E}::{mul}(a, b) => a.leaf_count() + b.leaf_count(),\n"
                               f"    {E}::{neg}(e) => e.leaf_count(),\n}}", "/// How many number leaves the tree has.\n"))
    else:
        methods.append(_method("fn to_text(&self) -> String",
                               f"match self {{\n    {E}::{num}(n) => n.to_string(),\n"
                               f"    {E}::{add}(a, b) => format!(\"({{}} + {{}})\", a.to_text(), b.to_text()),\n"
                               f"    {E}::{mul}(a, b) => format!(\"({{}} * {{}})\", a.to_text(), b.to_text()),\n"
                               f"    {E}::{neg}(e) => format!(\"-{{}}\", e.to_text()),\n}}", "/// The expression written out in full.\n"))
    helpers = [_fn(f"fn n(v: {T}) -> Box<{E}>", f"Box::new({E}::{num}(v))", {}),
               _fn(f"fn plus(a: Box<{E}>, b: Box<{E}>) -> Box<{E}>", f"Box::new({E}::{add}(a, b))", {}),
               _fn(f"fn times(a: Box<{E}>, b: Box<{E}>) -> Box<{E}>", f"Box::new({E}::{mul}(a, b))", {})]

    def gen(depth):
        if depth == 0 or r.random() < 0.3:
            v = r.randrange(-9, 10)
            return (f"n({v})", v, 1, 1, str(v))
        k = r.choice(["add", "mul", "neg"] if depth > 1 else ["add", "mul"])
        if k == "neg":
            s, v, d, c, t = gen(depth - 1)
            return (f"Box::new({E}::{neg}({s}))", -v, d + 1, c, f"-{t}")
        a, b = gen(depth - 1), gen(depth - 1)
        f = "plus" if k == "add" else "times"
        v = a[1] + b[1] if k == "add" else a[1] * b[1]
        return (f"{f}({a[0]}, {b[0]})", v, 1 + max(a[2], b[2]), a[3] + b[3], f"({a[4]} {'+' if k == 'add' else '*'} {b[4]})")
    a, b, c = (r.randrange(-9, 10) for _ in range(3))
    checks = [f"let e = Box::new({E}::{neg}(plus(n({a}), times(n({b}), n({c})))));", _check(f"e.{ev}()", -(a + b * c)),
              _check(f"e.{extra}()", {"depth": 4, "leaf_count": 3, "to_text": f"-({a} + ({b} * {c}))"}[extra])]
    for i in range(2):
        s, v, d, c, t = gen(r.randrange(1, 4))
        while len(s) > 80:
            s, v, d, c, t = gen(2)
        checks.append(f"let e{i} = {s};")
        checks.append(_check(f"e{i}.{ev}()", v))
        checks.append(_check(f"e{i}.{extra}()", {"depth": d, "leaf_count": c, "to_text": t}[extra]))
    return _Prog([enum, _block(f"impl {E}", methods)], checks, helpers=["\n".join(helpers)], params=f"{E} {extra} {T}")


@_family("builder_default")
def _builder_default(r: random.Random) -> _Prog:
    S, fields = r.choice([
        ("Config", [("retries", "u32", 3), ("timeout_ms", "u64", 500), ("verbose", "bool", False)]),
        ("Request", [("port", "u16", 80), ("retries", "u32", 0), ("secure", "bool", True)]),
        ("Window", [("width", "u32", 800), ("height", "u32", 600), ("resizable", "bool", True)]),
        ("Job", [("priority", "u8", 5), ("attempts", "u32", 1), ("urgent", "bool", False)]),
    ])
    derived = r.random() < 0.4
    if derived:  # a derived Default gives zero and false
        fields = [(n, t, False if t == "bool" else 0) for n, t, _ in fields]
    decl = "".join(f"    {n}: {t},\n" for n, t, _ in fields)
    struct = f"#[derive(Debug, Clone, PartialEq{', Default' if derived else ''})]\nstruct {S} {{\n{decl}}}\n"
    items = [struct]
    if not derived:
        inits = "".join(f"    {n}: {_lit(v)},\n" for n, _, v in fields)
        items.append(_block(f"impl Default for {S}", [_method("fn default() -> Self", f"{S} {{\n{inits}}}")]))
    prefix = r.choice(["with_", "set_", ""])
    methods = []
    for n, t, _ in fields:
        methods.append(_method(f"fn {prefix}{n}(mut self, {n}: {t}) -> Self", f"self.{n} = {n};\nself"))
    a, b, c = fields
    summary = r.choice(["describe", "summary", "label"])
    fmt = f"{a[0]}={{}} {b[0]}={{}} {c[0]}={{}}"
    methods.append(_method(f"fn {summary}(&self) -> String", f"format!(\"{fmt}\", self.{a[0]}, self.{b[0]}, self.{c[0]})"))
    doc = r.choice(["/// Builder-style setters: each takes `self` by value and hands it back, so calls chain.\n", ""])
    items.append(doc + _block(f"impl {S}", methods))
    d = {n: v for n, _, v in fields}
    checks = [f"let base = {S}::default();"]
    checks += [_check(f"base.{n}", v) for n, _, v in fields[:2]]
    picks = r.sample(fields, 2)
    new = dict(d)
    chain = f"{S}::default()"
    for n, t, _ in picks:
        v = (not d[n]) if t == "bool" else r.randrange(1, 250)
        new[n] = v
        chain += f".{prefix}{n}({_lit(v)})"
    checks.append(f"let custom = {chain};")
    (n, t, _), = [fl for fl in fields if fl not in picks]
    v = (not d[n]) if t == "bool" else r.randrange(1, 250)
    checks.append(_check(f"{S}::default().{prefix}{n}({_lit(v)}).{n}", v))
    checks += [_check(f"custom.{n}", new[n]) for n, _, _ in fields]
    show = lambda m: f"{a[0]}={_lit(m[a[0]])} {b[0]}={_lit(m[b[0]])} {c[0]}={_lit(m[c[0]])}"
    checks.append(f"assert_eq!(custom.{summary}(), {_lit(show(new))});")
    checks.append(f"assert_eq!(base, {S}::default());")
    checks.append("assert_eq!(custom, base);" if new == d else "assert_ne!(custom, base);")
    return _Prog(items, checks, params=f"{S} derived={derived} prefix={prefix}")
