"""Synthetic programs about Rust's own idioms: lifetimes, trait bounds, closures as values, `impl Iterator`
returns, iterator adaptors (peekable, scan, zip/chain/rev), slice patterns, `let else` and `while let`,
`matches!`, `std::mem`, `Rc<RefCell<_>>`, boxed trees, ordered-collection range queries, the entry API,
sort keys, derives, associated constants, `Option` combinators, error enums, `char` digits and `write!`.

Each family is one everyday task that needs its idiom; names, types, doc phrasing, implementation style and
inputs are drawn at random and every expected value is computed here. Importing this module registers its
families in `synthetic_rust`.
"""

from __future__ import annotations

import random
import textwrap
from bisect import insort
from itertools import pairwise

from nanochat_cli.data.synthetic_rust import (
    _SEQ,
    _TEXT,
    _WORDS,
    _ch,
    _check,
    _doc,
    _family,
    _fn,
    _lit,
    _Prog,
    _Raw,
    _slice,
    _some,
    _vec,
)
from nanochat_cli.data.synthetic_text import _LETTERS
from nanochat_cli.data.synthetic_types import _block, _let_vec, _method

# ---- lifetimes and borrowed data ----

@_family("lifetime_pick")
def _lifetime_pick(r: random.Random) -> _Prog:
    task = r.choice(["longer", "first_with", "before"])
    uses: list[str] = []
    if task == "longer":
        short = r.random() < 0.4
        kw = {"fn": r.choice(["shorter", "shorter_of", "pick_shorter"] if short
                             else ["longer", "longer_of", "pick_longer"])}
        kw["a"], kw["b"] = r.choice([("a", "b"), ("x", "y"), ("first", "second"), ("left", "right")])
        sig = "fn $fn<'a>($a: &'a str, $b: &'a str) -> &'a str"
        if r.random() < 0.5:
            body = f"if $b.len() {'<' if short else '>'} $a.len() {{\n    $b\n}} else {{\n    $a\n}}"
        else:
            uses = ["std::cmp::Ordering"]
            body = f"match $b.len().cmp(&$a.len()) {{\n    Ordering::{'Less' if short else 'Greater'} => $b,\n    _ => $a,\n}}"
        word = "shorter" if short else "longer"
        doc = _doc(r, [f"Returns the {word} of `$a` and `$b`; on a tie, `$a`.",
                       f"Picks whichever string slice is {word} (the first one when the lengths are equal).",
                       (f"The {word} of two strings.\n\nBoth inputs share the lifetime `'a`, so the result may "
                       "borrow from either.")], kw)
        checks = []
        for _ in range(3):
            a, b = r.sample(_WORDS, 2)
            pick_b = len(b) < len(a) if short else len(b) > len(a)
            checks.append(_check(f"{kw['fn']}({_lit(a)}, {_lit(b)})", b if pick_b else a))
        a, b = r.sample(_WORDS, 2)
        pick_b = len(b) < len(a) if short else len(b) > len(a)
        checks += [f"let owned = String::from({_lit(a)});",
                   _check(f"{kw['fn']}(&owned, {_lit(b)})", b if pick_b else a)]
    elif task == "first_with":
        kw = {"fn": r.choice(["first_containing", "find_word_with", "first_with_char"]),
              "ws": r.choice(["words", "names", "list", "items"]), "c": r.choice(["c", "ch", "letter"])}
        sig = "fn $fn<'a>($ws: &[&'a str], $c: char) -> Option<&'a str>"
        body = r.choice(["$ws.iter().copied().find(|w| w.contains($c))",
                         "$ws.iter().find(|w| w.contains($c)).copied()",
                         "for &w in $ws {\n    if w.contains($c) {\n        return Some(w);\n    }\n}\nNone"])
        doc = _doc(r, ["Returns the first word of `$ws` that contains `$c`, if any.",
                       ("Finds the first entry holding the character `$c`.\n\nThe result borrows from the "
                       "slice's strings, not from the slice itself."),
                       "The first of `$ws` in which `$c` occurs."], kw)
        checks = []
        for _ in range(3):
            ws = r.sample(_WORDS, r.randrange(2, 6))
            c = r.choice(r.choice(ws)) if r.random() < 0.7 else r.choice("jqxz")
            checks.append(_check(f"{kw['fn']}({_slice(ws)}, {_ch(c)})", _some(next((w for w in ws if c in w), None))))
        checks.append(_check(f"{kw['fn']}(&[], 'a')", None))
    else:
        kw = {"fn": r.choice(["before_sep", "head_of", "first_part", "prefix_before"]),
              "s": r.choice(_TEXT), "sep": r.choice(["sep", "delim", "separator"])}
        sig = "fn $fn<'a>($s: &'a str, $sep: char) -> &'a str"
        body = r.choice(["$s.split($sep).next().unwrap_or($s)",
                         "match $s.find($sep) {\n    Some(i) => &$s[..i],\n    None => $s,\n}",
                         "$s.split_once($sep).map_or($s, |(head, _)| head)"])
        doc = _doc(r, ["Returns the part of `$s` before the first `$sep`, or all of `$s` if there is none.",
                       "The text up to (not including) the first `$sep` in `$s`.",
                       "Cuts `$s` at the first `$sep` and keeps the front; no copy is made."], kw)
        checks = []
        for i in range(4):
            sep = r.choice(",:;/")
            s = sep.join(r.sample(_WORDS, r.randrange(1, 4))) if i else ""
            checks.append(_check(f"{kw['fn']}({_lit(s)}, {_ch(sep)})", s.split(sep)[0]))
        s = ":".join(r.sample(_WORDS, 2))
        checks += [f"let line = String::from({_lit(s)});", f"let head = {kw['fn']}(&line, ':');",
                   _check("head", s.split(":")[0])]
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=task)


@_family("borrowed_struct")
def _borrowed_struct(r: random.Random) -> _Prog:
    if r.random() < 0.5:
        S = r.choice(["Field", "Setting", "Pair", "Entry"])
        k, v = r.choice([("key", "value"), ("name", "value"), ("key", "val")])
        sep = r.choice("=:")
        fn = r.choice(["parse_field", "split_entry", "read_pair", "parse_setting"])
        struct = f"#[derive(Debug, PartialEq)]\nstruct {S}<'a> {{\n    {k}: &'a str,\n    {v}: &'a str,\n}}\n"
        sig = r.choice([f"fn {fn}(line: &str) -> Option<{S}<'_>>", f"fn {fn}<'a>(line: &'a str) -> Option<{S}<'a>>"])
        if r.random() < 0.5:
            body = (f"let (a, b) = line.split_once('{sep}')?;\nSome({S} {{\n    {k}: a.trim(),\n"
                    f"    {v}: b.trim(),\n}})")
        else:
            body = (f"let Some(i) = line.find('{sep}') else {{\n    return None;\n}};\nSome({S} {{\n"
                    f"    {k}: line[..i].trim(),\n    {v}: line[i + 1..].trim(),\n}})")
        doc = _doc(r, [f"Splits a `{k}{sep}{v}` line into a struct that borrows both halves from `line`.",
                       f"Parses `line` at its first `{sep}`; `None` when there is no `{sep}`.",
                       f"Reads a `{k} {sep} {v}` line without copying: the fields point into `line`."])
        f = _fn(sig, body, {}, doc)
        checks = []
        a, b = r.sample(_WORDS, 2)
        line = r.choice([f"{a}{sep}{b}", f"{a} {sep} {b}", f" {a}{sep} {b} "])
        checks += [f"let f = {fn}({_lit(line)}).unwrap();", _check(f"f.{k}", a), _check(f"f.{v}", b)]
        a, b = r.sample(_WORDS, 2)
        checks.append(f"assert_eq!({fn}({_lit(a + sep + b)}), Some({S} {{ {k}: {_lit(a)}, {v}: {_lit(b)} }}));")
        checks.append(_check(f"{fn}({_lit(r.choice(_WORDS))})", None))
        lines = [f"{w}{sep}{i}" if r.random() < 0.6 else w for i, w in enumerate(r.sample(_WORDS, 4))]
        checks += [_let_vec("lines", [_lit(x) for x in lines]),
                   f"let parsed: Vec<{S}> = lines.iter().filter_map(|l| {fn}(l)).collect();",
                   _check("parsed.len()", sum(sep in x for x in lines))]
        return _Prog([struct, f], checks, params=f"pair {S}")
    S = r.choice(["Words", "Cursor", "Tokens", "Scanner"])
    nxt = r.choice(["next_word", "next_token", "advance", "take_word"])
    style = r.choice(["find", "split_once"])
    if style == "find":
        body = ("let text = self.rest.trim_start();\nif text.is_empty() {\n    return None;\n}\n"
                "let end = text.find(' ').unwrap_or(text.len());\nlet (word, rest) = text.split_at(end);\n"
                "self.rest = rest;\nSome(word)")
    else:
        body = ("let text = self.rest.trim_start();\nif text.is_empty() {\n    return None;\n}\n"
                "match text.split_once(' ') {\n    Some((word, rest)) => {\n        self.rest = rest;\n"
                "        Some(word)\n    }\n    None => {\n        self.rest = \"\";\n        Some(text)\n    }\n}")
    doc = _doc(r, ["Returns the next space-separated word, or `None` at the end of the text.",
                   "Skips leading spaces and hands out the following word, borrowed from the original text.",
                   "Moves past one word and returns it; the word lives as long as the text, not the cursor."])
    struct = _doc(r, ["A cursor over the words of a borrowed string.", "Hands out the words of a text one by one."])
    struct += f"struct {S}<'a> {{\n    rest: &'a str,\n}}\n"
    impl = _block(f"impl<'a> {S}<'a>", [_method("fn new(text: &'a str) -> Self", f"{S} {{ rest: text }}"),
                                         _method(f"fn {nxt}(&mut self) -> Option<&'a str>", body, doc)])
    words = r.sample(_WORDS, r.randrange(2, 5))
    text = " ".join(" " * r.randrange(0, 2) + w for w in words) + " " * r.randrange(0, 2)
    v = r.choice(["cursor", "words", "scan", "it"])
    checks = [f"let mut {v} = {S}::new({_lit(text)});", _check(f"{v}.{nxt}()", _some(words[0])),
              "let mut rest = Vec::new();", f"while let Some(w) = {v}.{nxt}() {{\n    rest.push(w);\n}}",
              _check("rest", words[1:]), _check(f"{v}.{nxt}()", None),
              _check(f'{S}::new("   ").{nxt}()', None)]
    return _Prog([struct, impl], checks, params=f"cursor {style}")


# ---- generics and closures ----

@_family("bound_generic")
def _bound_generic(r: random.Random) -> _Prog:
    task = r.choice(["ascending", "count_of", "min_max", "join"])
    where = r.random() < 0.4
    xs = r.choice(["xs", "items", "values", "list"])
    uses: list[str] = []
    if task == "ascending":
        fn, bound = r.choice(["is_ascending", "in_order", "is_non_decreasing"]), "PartialOrd"
        params, ret = f"{xs}: &[T]", "bool"
        body = r.choice([f"{xs}.windows(2).all(|w| w[0] <= w[1])",
                         (f"for i in 1..{xs}.len() {{\n    if {xs}[i - 1] > {xs}[i] {{\n        return false;\n"
                         "    }\n}\ntrue")])
        doc = ["Checks that every element of `XS` is at least the one before it.",
               "Returns `true` when `XS` never goes down; any `PartialOrd` type works.",
               "Whether `XS` is sorted in non-decreasing order (empty and one-element slices are)."]
        ints = sorted(r.randrange(-20, 30) for _ in range(5))
        if r.random() < 0.5:
            ints[1], ints[3] = ints[3], ints[1]
        cs = r.sample(_LETTERS, 4)
        ws = r.sample(_WORDS, 3)
        checks = [_check(f"{fn}({_slice(ints)})", ints == sorted(ints)),
                  _check(f"{fn}({_slice([_ch(c) for c in cs])})", cs == sorted(cs)),
                  _check(f"{fn}({_slice(ws)})", ws == sorted(ws)), _check(f"{fn}(&[1.5])", True)]
    elif task == "count_of":
        fn, bound = r.choice(["count_of", "occurrences", "count_equal"]), "PartialEq"
        t = r.choice(["target", "wanted", "needle"])
        params, ret = f"{xs}: &[T], {t}: &T", "usize"
        body = r.choice([f"{xs}.iter().filter(|x| *x == {t}).count()",
                         f"let mut n = 0;\nfor item in {xs} {{\n    if item == {t} {{\n        n += 1;\n    }}\n}}\nn"])
        doc = [f"Counts how many elements of `XS` equal `{t}`.", f"The number of times `{t}` occurs in `XS`."]
        ints = [r.randrange(0, 5) for _ in range(7)]
        k = r.randrange(0, 6)
        ws = [r.choice(_WORDS[:5]) for _ in range(5)]
        w = r.choice(ws)
        cs = r.choices("abc", k=6)
        checks = [_check(f"{fn}({_slice(ints)}, &{k})", ints.count(k)), _check(f"{fn}({_slice(ws)}, &{_lit(w)})", ws.count(w)),
                  _check(f"{fn}({_slice([_ch(c) for c in cs])}, &'a')", cs.count("a"))]
    elif task == "min_max":
        fn, bound = r.choice(["min_max", "bounds", "extremes", "low_high"]), "PartialOrd + Copy"
        params, ret = f"{xs}: &[T]", "Option<(T, T)>"
        body = r.choice([(f"let (&first, rest) = {xs}.split_first()?;\nlet mut lo = first;\nlet mut hi = first;\n"
                          "for &x in rest {\n    if x < lo {\n        lo = x;\n    }\n    if x > hi {\n        hi = x;\n"
                          "    }\n}\nSome((lo, hi))"),
                         (f"if {xs}.is_empty() {{\n    return None;\n}}\nlet mut lo = {xs}[0];\nlet mut hi = {xs}[0];\n"
                          f"for &x in {xs} {{\n    if x < lo {{\n        lo = x;\n    }} else if x > hi {{\n"
                          "        hi = x;\n    }\n}\nSome((lo, hi))")])
        doc = ["Returns the smallest and the largest element of `XS`, or `None` when it is empty.",
               "The pair `(min, max)` of `XS` in one pass.\n\nNeeds only `PartialOrd`, so floats work too."]
        ints = [r.randrange(-50, 50) for _ in range(r.randrange(1, 7))]
        fl = [r.randrange(-40, 40) / 4 for _ in range(4)]
        cs = r.sample(_LETTERS, 4)
        checks = [_check(f"{fn}({_slice(ints)})", _some((min(ints), max(ints)))),
                  _check(f"{fn}({_slice(fl)})", _some((min(fl), max(fl)))),
                  _check(f"{fn}({_slice([_ch(c) for c in cs])})", _some((_ch(min(cs)), _ch(max(cs))))),
                  _check(f"{fn}::<u8>(&[])", None)]
    else:
        fn, bound = r.choice(["join_with", "join_all", "list_with"]), "Display"
        sep = r.choice(["sep", "separator", "glue"])
        params, ret = f"{xs}: &[T], {sep}: &str", "String"
        uses = ["std::fmt::Display"]
        body = r.choice([f"{xs}.iter()\n    .map(|x| x.to_string())\n    .collect::<Vec<_>>()\n    .join({sep})",
                         (f"let mut out = String::new();\nfor (i, x) in {xs}.iter().enumerate() {{\n    if i > 0 {{\n"
                          f"        out.push_str({sep});\n    }}\n    out.push_str(&x.to_string());\n}}\nout")])
        doc = [f"Writes every element of `XS` with `Display` and puts `{sep}` between them.",
               f"Joins anything printable into one string, separated by `{sep}`."]
        ints = [r.randrange(-50, 500) for _ in range(r.randrange(1, 5))]
        ws = r.sample(_WORDS, 3)
        cs = r.sample(_LETTERS, 3)
        checks = [_check(f"{fn}({_slice(ints)}, {_lit(', ')})", ", ".join(map(str, ints))),
                  _check(f"{fn}({_slice(ws)}, \"-\")", "-".join(ws)),
                  _check(f"{fn}({_slice([_ch(c) for c in cs])}, \"\")", "".join(cs)),
                  _check(f"{fn}::<i32>(&[], \"+\")", "")]
    if where:
        sig = f"fn {fn}<T>({params}) -> {ret}\nwhere\n    T: {bound},\n{{"
    else:
        sig = f"fn {fn}<T: {bound}>({params}) -> {ret} {{"
    text = _doc(r, [d.replace("XS", xs) for d in doc]) + sig + "\n" + textwrap.indent(body, "    ") + "\n}\n"
    return _Prog([text], checks, uses=uses, params=f"{task} where={where}")


_STEPS = [("|x| x + K", lambda x, k: x + k), ("|x| x * K", lambda x, k: x * k), ("|x| x - K", lambda x, k: x - k),
          ("|x| x * x", lambda x, k: x * x), ("|x| -x", lambda x, k: -x)]


@_family("closure_factory")
def _closure_factory(r: random.Random) -> _Prog:
    task = r.choice(["pipeline", "counter", "predicate"])
    if task == "pipeline":
        kw = {"fn": r.choice(["run_pipeline", "apply_steps", "run_all", "apply_chain"]),
              "st": r.choice(["steps", "stages", "ops", "funcs"]), "x": r.choice(["x", "input", "start"])}
        sig = "fn $fn($st: &[Box<dyn Fn(i64) -> i64>], $x: i64) -> i64"
        body = r.choice(["$st.iter().fold($x, |acc, f| f(acc))",
                         "let mut value = $x;\nfor step in $st {\n    value = step(value);\n}\nvalue"])
        doc = _doc(r, ["Feeds `$x` through every boxed closure of `$st`, in order.",
                       "Applies each step to the result of the previous one and returns the final value.",
                       ("Runs a pipeline of boxed functions.\n\nBoxing lets closures of different types share "
                       "one `Vec`.")], kw)
        steps = []
        for src, py in r.sample(_STEPS, r.randrange(2, 4)):
            k = r.randrange(1, 6)
            steps.append((src.replace("K", str(k)), lambda x, py=py, k=k: py(x, k)))
        k = r.randrange(2, 9)
        x = r.randrange(-10, 10)
        v = x
        for _, py in steps:
            v = py(v)
        v -= k
        checks = [f"let k = {k};",
                  _let_vec(f"{kw['st']}: Vec<Box<dyn Fn(i64) -> i64>>", [f"Box::new({s})" for s, _ in steps], mut=True),
                  f"{kw['st']}.push(Box::new(move |x| x - k));",
                  _check(f"{kw['fn']}(&{kw['st']}, {x})", v), _check(f"{kw['fn']}(&[], {x + 3})", x + 3)]
    elif task == "counter":
        kw = {"fn": r.choice(["make_counter", "id_generator", "counter_from", "sequence_from"]),
              "s": r.choice(["start", "first", "from"]), "d": r.choice(["step", "by", "delta"])}
        boxed = r.random() < 0.4
        ret = "Box<dyn FnMut() -> u32>" if boxed else "impl FnMut() -> u32"
        sig = f"fn $fn($s: u32, $d: u32) -> {ret}"
        inner = "move || {\n    let current = next;\n    next += $d;\n    current\n}"
        body = "let mut next = $s;\n" + ("Box::new(" + inner + ")" if boxed else inner)
        doc = _doc(r, ["Returns a closure that yields `$s`, then `$s + $d`, and so on, one value per call.",
                       "Makes a counter: each call returns the current value and then advances it by `$d`.",
                       "A generator of evenly spaced numbers.\n\nThe closure owns its state, so it is `FnMut`."],
                   kw)
        s, d = r.randrange(0, 50), r.randrange(1, 10)
        a, b = r.choice(["next_id", "ids", "gen", "counter"]), r.choice(["other", "second", "fresh"])
        checks = [f"let mut {a} = {kw['fn']}({s}, {d});"] + [_check(f"{a}()", s + i * d) for i in range(3)]
        checks += [f"let mut {b} = {kw['fn']}(0, 1);", _check(f"{b}()", 0), _check(f"{b}()", 1),
                   _check(f"{a}()", s + 3 * d)]
    else:
        pred = r.choice(["between", "divisible", "above"])
        kw = {"fn": r.choice({"between": ["in_range", "between", "within"], "divisible": ["divisible_by", "multiple_of"],
                              "above": ["greater_than", "above", "over"]}[pred])}
        sig, body, py, args = {
            "between": ("fn $fn(lo: i32, hi: i32) -> impl Fn(&i32) -> bool", "move |&x| lo <= x && x <= hi",
                        lambda x, a: a[0] <= x <= a[1], sorted(r.sample(range(-10, 20), 2))),
            "divisible": ("fn $fn(k: i32) -> impl Fn(&i32) -> bool", "move |&x| x % k == 0",
                          lambda x, a: x % a[0] == 0, [r.randrange(2, 6)]),
            "above": ("fn $fn(limit: i32) -> impl Fn(&i32) -> bool", "move |x| *x > limit",
                      lambda x, a: x > a[0], [r.randrange(-5, 15)])}[pred]
        what = {"between": "lies in `lo..=hi`", "divisible": "is a multiple of `k`", "above": "is greater than `limit`"}
        doc = _doc(r, [f"Returns a predicate that tells whether a number {what[pred]}.",
                       f"Builds a test closure, usable with `filter`, that checks the number {what[pred]}.",
                       f"A closure that captures its bounds by `move` and checks the number {what[pred]}."], kw)
        xs = [r.randrange(-10, 25) for _ in range(6)]
        call = f"{kw['fn']}({', '.join(map(str, args))})"
        checks = [f"let keep = {call};", _check(f"keep(&{xs[0]})", py(xs[0], args)),
                  _check(f"keep(&{xs[1]})", py(xs[1], args)),
                  f"let kept: Vec<i32> = {_lit(xs)}\n    .into_iter()\n    .filter({call})\n    .collect();",
                  f"assert_eq!(kept, {_vec([x for x in xs if py(x, args)], 'i32')});",
                  _check(f"{_lit(xs)[4:]}.into_iter().filter(|x| keep(x)).count()", sum(py(x, args) for x in xs))]
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- iterators ----

@_family("impl_iter_fn")
def _impl_iter_fn(r: random.Random) -> _Prog:
    task = r.choice(["multiples", "powers", "long_words", "squares"])
    checks = []
    if task == "multiples":
        kw = {"fn": r.choice(["multiples_of", "multiples_up_to", "steps_of"]), "k": r.choice(["k", "step", "n"]),
              "lim": r.choice(["limit", "max", "upto"])}
        sig = "fn $fn($k: u32, $lim: u32) -> impl Iterator<Item = u32>"
        body = r.choice(["($k..=$lim).step_by($k as usize)", "(1..).map(move |i| i * $k).take_while(move |&x| x <= $lim)"])
        doc = _doc(r, ["Yields the positive multiples of `$k` up to and including `$lim`, lazily.",
                       "An iterator over `$k`, `2 * $k`, ... that stops before passing `$lim`.\n\n`$k` must not be 0.",
                       "The multiples of `$k` no greater than `$lim`."], kw)
        for _ in range(3):
            k, lim = r.randrange(1, 8), r.randrange(0, 40)
            lim = min(lim, 12 * k)
            checks.append(_check(f"{kw['fn']}({k}, {lim}).collect::<Vec<_>>()", list(range(k, lim + 1, k))))
        k, lim = r.randrange(2, 6), r.randrange(20, 60)
        checks.append(_check(f"{kw['fn']}({k}, {lim}).sum::<u32>()", sum(range(k, lim + 1, k))))
    elif task == "powers":
        kw = {"fn": r.choice(["powers_of", "powers", "geometric"]), "b": r.choice(["base", "b", "factor"])}
        sig = "fn $fn($b: u64) -> impl Iterator<Item = u64>"
        body = r.choice(["std::iter::successors(Some(1u64), move |&x| x.checked_mul($b))",
                         ("let mut next = Some(1u64);\nstd::iter::from_fn(move || {\n    let current = next?;\n"
                         "    next = current.checked_mul($b);\n    Some(current)\n})")])
        doc = _doc(r, ["Yields 1, `$b`, `$b` squared, ... until the next power would overflow a `u64`.",
                       "An iterator over the powers of `$b`, starting at `$b` to the 0th.",
                       "The successive powers of `$b`; finite, as it ends before overflowing."], kw)
        for _ in range(2):
            b, n = r.randrange(2, 11), r.randrange(1, 8)
            checks.append(_check(f"{kw['fn']}({b}).take({n}).collect::<Vec<_>>()", [b ** i for i in range(n)]))
        b = r.choice([2, 3, 10, 16])
        checks.append(_check(f"{kw['fn']}({b}).count()", sum(1 for i in range(70) if b ** i < 2 ** 64)))
        lim = r.randrange(100, 5000)
        checks.append(_check(f"{kw['fn']}({b}).take_while(|&x| x < {lim}).last()", _some(max(b ** i for i in range(20) if b ** i < lim))))
    elif task == "long_words":
        kw = {"fn": r.choice(["lengthy_words", "words_at_least", "wide_words"]), "s": r.choice(_TEXT),
              "n": r.choice(["min_len", "n", "min"])}
        sig = r.choice(["fn $fn($s: &str, $n: usize) -> impl Iterator<Item = &str> + '_",
                        "fn $fn<'a>($s: &'a str, $n: usize) -> impl Iterator<Item = &'a str>"])
        body = r.choice(["$s.split_whitespace().filter(move |w| w.len() >= $n)",
                         "$s.split(' ')\n    .filter(|w| !w.is_empty())\n    .filter(move |w| w.len() >= $n)"])
        doc = _doc(r, ["Yields the words of `$s` that have at least `$n` letters, borrowing from `$s`.",
                       "A lazy iterator over the words of `$s` no shorter than `$n` characters.",
                       "Words of `$s` with length `>= $n`, in order."], kw)
        for _ in range(2):
            ws = r.sample(_WORDS, r.randrange(2, 7))
            s, n = " ".join(ws), r.randrange(3, 7)
            checks.append(_check(f"{kw['fn']}({_lit(s)}, {n}).collect::<Vec<_>>()", _vec([w for w in ws if len(w) >= n], "&str")))
            checks.append(_check(f"{kw['fn']}({_lit(s)}, {n}).count()", sum(len(w) >= n for w in ws)))
    else:
        kw = {"fn": r.choice(["squares", "squared", "each_squared"]), "xs": r.choice(_SEQ)}
        sig = r.choice(["fn $fn($xs: &[i32]) -> impl Iterator<Item = i32> + '_",
                        "fn $fn<'a>($xs: &'a [i32]) -> impl Iterator<Item = i32> + 'a"])
        body = r.choice(["$xs.iter().map(|x| x * x)", "$xs.iter().map(|&x| x.pow(2))"])
        doc = _doc(r, ["Yields the square of every element of `$xs` without building a new vector.",
                       "A lazy iterator over the squares of `$xs`.", "Squares each number of `$xs`, on demand."], kw)
        xs = [r.randrange(-12, 12) for _ in range(r.randrange(1, 6))]
        checks += [f"let {kw['xs']} = {_lit(xs)};",
                   _check(f"{kw['fn']}(&{kw['xs']}).collect::<Vec<_>>()", [x * x for x in xs]),
                   _check(f"{kw['fn']}(&{kw['xs']}).sum::<i32>()", sum(x * x for x in xs)),
                   _check(f"{kw['fn']}(&{kw['xs']}).max()", _some(max(x * x for x in xs)))]
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("peekable_iter")
def _peekable_iter(r: random.Random) -> _Prog:
    task = r.choice(["compress", "ascending_runs", "equal_runs"])
    T = r.choice(["i32", "i64", "u32"])
    if task == "compress":
        kw = {"fn": r.choice(["compress_ranges", "summarize_ranges", "collapse_runs"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<String>"
        grow = r.choice(["while let Some(next) = it.next_if(|&x| x == end + 1) {\n        end = next;\n    }",
                         "while it.peek() == Some(&(end + 1)) {\n        end += 1;\n        it.next();\n    }"])
        push = r.choice([('if start == end {\n        out.push(start.to_string());\n    } else {\n'
                         '        out.push(format!("{start}-{end}"));\n    }'),
                         ('out.push(if start == end {\n        start.to_string()\n    } else {\n'
                         '        format!("{}-{}", start, end)\n    });')])
        body = (f"let mut it = $xs.iter().copied().peekable();\nlet mut out = Vec::new();\n"
                f"while let Some(start) = it.next() {{\n    let mut end = start;\n    {grow}\n    {push}\n}}\nout")
        doc = _doc(r, ["Describes the sorted, distinct `$xs` as ranges: `[1, 2, 3, 5]` becomes `[\"1-3\", \"5\"]`.",
                       "Collapses runs of consecutive numbers into `start-end` strings; lone numbers stay as they are.",
                       "Summarizes an ascending list of distinct numbers as a list of ranges."], kw)
        checks = []
        for _ in range(3):
            xs = sorted(r.sample(range(25), r.randrange(1, 10)))
            out, i = [], 0
            while i < len(xs):
                j = i
                while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
                    j += 1
                out.append(str(xs[i]) if i == j else f"{xs[i]}-{xs[j]}")
                i = j + 1
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", out))
        checks.append(_check(f"{kw['fn']}(&[]).is_empty()", True))
    elif task == "ascending_runs":
        kw = {"fn": r.choice(["ascending_runs", "increasing_runs", "split_runs"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<Vec<$T>>"
        body = r.choice(["""
            let mut it = $xs.iter().copied().peekable();
            let mut runs = Vec::new();
            while let Some(first) = it.next() {
                let mut run = vec![first];
                while let Some(&next) = it.peek() {
                    if next <= *run.last().unwrap() {
                        break;
                    }
                    run.push(next);
                    it.next();
                }
                runs.push(run);
            }
            runs""", """
            let mut it = $xs.iter().copied().peekable();
            let mut runs = Vec::new();
            while let Some(first) = it.next() {
                let mut run = vec![first];
                let mut last = first;
                while let Some(next) = it.next_if(|&x| x > last) {
                    run.push(next);
                    last = next;
                }
                runs.push(run);
            }
            runs"""])
        doc = _doc(r, ["Splits `$xs` into maximal strictly increasing runs.",
                       "Groups consecutive elements while each is larger than the one before.",
                       "Cuts `$xs` wherever a value does not exceed its predecessor and returns the pieces."], kw)
        checks = []
        for _ in range(2):
            xs = [r.randrange(0, 20) for _ in range(r.randrange(1, 9))]
            runs = []
            for x in xs:
                if runs and x > runs[-1][-1]:
                    runs[-1].append(x)
                else:
                    runs.append([x])
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", runs))
        checks.append(_check(f"{kw['fn']}(&[]).len()", 0))
    else:
        kw = {"fn": r.choice(["run_lengths", "count_runs", "group_equal"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<($T, usize)>"
        body = r.choice(["""
            let mut it = $xs.iter().peekable();
            let mut out = Vec::new();
            while let Some(&x) = it.next() {
                let mut n = 1;
                while it.next_if_eq(&&x).is_some() {
                    n += 1;
                }
                out.push((x, n));
            }
            out""", """
            let mut it = $xs.iter().copied().peekable();
            let mut out = Vec::new();
            while let Some(x) = it.next() {
                let mut n = 1;
                while it.peek() == Some(&x) {
                    it.next();
                    n += 1;
                }
                out.push((x, n));
            }
            out"""])
        doc = _doc(r, ["Collapses runs of equal neighbours into `(value, count)` pairs.",
                       "Run-length encodes `$xs`: each run of one repeated value becomes one pair.",
                       "Counts how often each value repeats in a row."], kw)
        checks = []
        for _ in range(2):
            xs = [r.randrange(0, 4) for _ in range(r.randrange(1, 10))]
            out = []
            for x in xs:
                if out and out[-1][0] == x:
                    out[-1] = (x, out[-1][1] + 1)
                else:
                    out.append((x, 1))
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", out))
        checks.append(_check(f"{kw['fn']}(&[]).is_empty()", True))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


@_family("scan_state")
def _scan_state(r: random.Random) -> _Prog:
    task = r.choice(["streaks", "balance"])
    T = r.choice(["i32", "i64"])
    if task == "streaks":
        kw = {"fn": r.choice(["rising_streaks", "streak_lengths", "climb_lengths"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<usize>"
        body = r.choice(["""
            $xs.iter()
                .scan((None, 0), |(prev, streak), &x| {
                    *streak = match *prev {
                        Some(p) if x > p => *streak + 1,
                        _ => 1,
                    };
                    *prev = Some(x);
                    Some(*streak)
                })
                .collect()""", """
            let mut out: Vec<usize> = Vec::with_capacity($xs.len());
            for (i, &x) in $xs.iter().enumerate() {
                let streak = if i > 0 && x > $xs[i - 1] {
                    out[i - 1] + 1
                } else {
                    1
                };
                out.push(streak);
            }
            out"""])
        doc = _doc(r, [("For each day, how many days in a row (ending that day) the value has been rising.\n\n"
                       "A day that does not beat the day before starts a new streak of 1."),
                       "Element `i` is the length of the strictly increasing run of `$xs` that ends at `i`.",
                       "The length of the current upward streak at every position of `$xs`."], kw)
        checks = []
        for i in range(3):
            xs = [r.randrange(-20, 20) for _ in range(r.randrange(0 if i == 2 else 1, 9))]
            out = []
            for j, x in enumerate(xs):
                out.append(out[-1] + 1 if j and x > xs[j - 1] else 1)
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", _vec(out, "usize")))
    else:
        kw = {"fn": r.choice(["balances", "running_balance", "account_history"]), "T": T,
              "s": r.choice(["start", "opening", "initial"]), "ch": r.choice(["changes", "moves", "transactions"])}
        sig = "fn $fn($s: $T, $ch: &[$T]) -> Vec<$T>"
        body = r.choice(["""
            $ch.iter()
                .scan($s, |balance, &c| {
                    *balance += c;
                    if *balance < 0 {
                        None
                    } else {
                        Some(*balance)
                    }
                })
                .collect()""", """
            let mut balance = $s;
            let mut out = Vec::new();
            for &c in $ch {
                balance += c;
                if balance < 0 {
                    break;
                }
                out.push(balance);
            }
            out"""])
        doc = _doc(r, [("Applies `$ch` to an account opened with `$s` and lists the balance after each.\n\n"
                       "Stops at the first change that would take the balance below zero."),
                       "The balances after each transaction, up to (not including) the first overdraft.",
                       "Running balance from `$s`; the history ends where the account would go negative."], kw)
        checks = []
        for _ in range(3):
            s = r.randrange(0, 50)
            ch = [r.randrange(-30, 30) for _ in range(r.randrange(1, 8))]
            bal, out = s, []
            for c in ch:
                bal += c
                if bal < 0:
                    break
                out.append(bal)
            checks.append(_check(f"{kw['fn']}({s}, {_slice(ch)})", _vec(out, T)))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


@_family("zip_chain")
def _zip_chain(r: random.Random) -> _Prog:
    task = r.choice(["mirrored", "diffs", "mirror"])
    T = r.choice(["i32", "i64", "u32", "char"])
    lit = (lambda xs: [_ch(c) for c in xs]) if T == "char" else (lambda xs: xs)

    def gen(n):
        return r.sample(_LETTERS, n) if T == "char" else [r.randrange(0, 60) for _ in range(n)]
    if task == "mirrored":
        T = r.choice(["i32", "i64", "u32"])
        kw = {"fn": r.choice(["mirrored_sums", "fold_in_half", "outer_pair_sums"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<$T>"
        body = r.choice(["$xs.iter()\n    .zip($xs.iter().rev())\n    .take($xs.len() / 2)\n    .map(|(a, b)| a + b)\n    .collect()",
                         "let n = $xs.len();\n(0..n / 2).map(|i| $xs[i] + $xs[n - 1 - i]).collect()"])
        doc = _doc(r, [("Folds `$xs` in half: adds the first and last element, the second and second-to-last, ...\n\n"
                       "The middle element of an odd-length slice is left out."),
                       "Sums of the mirrored pairs of `$xs`, working inwards from both ends.",
                       "Pairs each element of the front half with its mirror image in the back half and adds them."],
                   kw)
        checks = []
        for i in range(3):
            xs = [r.randrange(0, 60) for _ in range(r.randrange(0 if i == 2 else 2, 8))]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", _vec([xs[j] + xs[-1 - j] for j in range(len(xs) // 2)], T)))
    elif task == "diffs":
        T = r.choice(["i32", "i64"])
        kw = {"fn": r.choice(["differences", "deltas", "steps_between"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<$T>"
        body = r.choice(["$xs.iter().zip($xs.iter().skip(1)).map(|(a, b)| b - a).collect()",
                         "$xs.iter()\n    .zip(&$xs[1..])\n    .map(|(a, b)| b - a)\n    .collect()"
                         if r.random() < 0.5 else "$xs.windows(2).map(|w| w[1] - w[0]).collect()"])
        if "[1..]" in body:
            body = "if $xs.is_empty() {\n    return Vec::new();\n}\n" + body
        doc = _doc(r, ["Returns the difference between each element of `$xs` and the one before it.",
                       "Consecutive deltas: element `i` is `$xs[i + 1] - $xs[i]`.",
                       "How much `$xs` changes from one element to the next."], kw)
        checks = []
        for i in range(3):
            xs = [r.randrange(-30, 30) for _ in range(r.randrange(0 if i == 2 else 2, 8))]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", _vec([b - a for a, b in pairwise(xs)], T)))
    else:
        kw = {"fn": r.choice(["mirror", "palindromize", "reflect"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &[$T]) -> Vec<$T>"
        body = r.choice(["$xs.iter().chain($xs.iter().rev()).copied().collect()",
                         "let mut out = $xs.to_vec();\nout.extend($xs.iter().rev());\nout",
                         ("let mut out = Vec::with_capacity(2 * $xs.len());\nout.extend_from_slice($xs);\n"
                         "for x in $xs.iter().rev() {\n    out.push(*x);\n}\nout")])
        doc = _doc(r, ["Returns `$xs` followed by `$xs` reversed, so the result reads the same both ways.",
                       "Appends a mirror image of `$xs` to a copy of it.",
                       "Concatenates `$xs` and its reverse."], kw)
        checks = []
        for _ in range(3):
            xs = gen(r.randrange(1, 5))
            checks.append(_check(f"{kw['fn']}({_slice(lit(xs))})", lit(xs + xs[::-1])))
        checks.append(_check(f"{kw['fn']}(&[]).len()", 0))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


# ---- patterns ----

@_family("slice_patterns")
def _slice_patterns(r: random.Random) -> _Prog:
    task = r.choice(["rec_sum", "ends", "describe", "rec_max"])
    T = r.choice(["i32", "i64"])
    kw = {"xs": r.choice(_SEQ), "T": T}
    checks = []
    if task == "rec_sum":
        kw["fn"] = r.choice(["sum_rec", "recursive_sum", "total_rec"])
        sig = "fn $fn($xs: &[$T]) -> $T"
        body = r.choice(["match $xs {\n    [] => 0,\n    [first, rest @ ..] => first + $fn(rest),\n}",
                         "if let [first, rest @ ..] = $xs {\n    first + $fn(rest)\n} else {\n    0\n}"])
        doc = _doc(r, ["Adds up `$xs` recursively: the first element plus the sum of the rest.",
                       "Sums a slice by splitting it with a slice pattern into head and tail.",
                       "The total of `$xs`; an empty slice sums to 0."], kw)
        for i in range(3):
            xs = [r.randrange(-50, 50) for _ in range(r.randrange(0 if i == 0 else 1, 7))]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", sum(xs)))
    elif task == "rec_max":
        kw["fn"] = r.choice(["max_rec", "recursive_max", "largest_rec"])
        sig = "fn $fn($xs: &[$T]) -> Option<$T>"
        body = r.choice([("match $xs {\n    [] => None,\n    [only] => Some(*only),\n"
                         "    [first, rest @ ..] => $fn(rest).map(|m| m.max(*first)),\n}"),
                         ("let [first, rest @ ..] = $xs else {\n    return None;\n};\n"
                         "Some(match $fn(rest) {\n    Some(m) if m > *first => m,\n    _ => *first,\n})")])
        doc = _doc(r, ["Returns the largest element of `$xs` by recursion on its tail, or `None` if empty.",
                       "The maximum of `$xs`, found by matching the slice as `[first, rest @ ..]`.",
                       "Largest value of `$xs`; `None` for an empty slice."], kw)
        for i in range(3):
            xs = [r.randrange(-50, 50) for _ in range(r.randrange(0 if i == 0 else 1, 7))]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", _some(max(xs) if xs else None)))
    elif task == "ends":
        kw["fn"] = r.choice(["ends_sum", "first_plus_last", "outer_sum"])
        sig = "fn $fn($xs: &[$T]) -> Option<$T>"
        body = r.choice(["match $xs {\n    [] => None,\n    [x] => Some(*x),\n    [first, .., last] => Some(first + last),\n}",
                         "match *$xs {\n    [] => None,\n    [x] => Some(x),\n    [first, .., last] => Some(first + last),\n}"])
        doc = _doc(r, [("Adds the first and the last element of `$xs`.\n\nA single element counts once; "
                       "an empty slice gives `None`."),
                       "The sum of the two ends of `$xs`, or the lone element, or `None`.",
                       "Returns `first + last` of `$xs` using a slice pattern."], kw)
        for n in (0, 1, r.randrange(2, 7), r.randrange(2, 7)):
            xs = [r.randrange(-50, 50) for _ in range(n)]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", _some(None if not xs else xs[0] if n == 1 else xs[0] + xs[-1])))
    else:
        kw["fn"] = r.choice(["describe", "summarize", "shape_of"])
        sig = "fn $fn($xs: &[$T]) -> String"
        body = r.choice([('match $xs {\n    [] => String::from("empty"),\n    [x] => format!("one: {x}"),\n'
                         '    [a, b] => format!("two: {a} and {b}"),\n'
                         '    [first, .., last] => format!("{} items: {first} .. {last}", $xs.len()),\n}'),
                         ('match $xs {\n    [] => "empty".to_string(),\n    [x] => format!("one: {}", x),\n'
                         '    [a, b] => format!("two: {} and {}", a, b),\n'
                         '    [first, .., last] => format!("{} items: {} .. {}", $xs.len(), first, last),\n}')])
        doc = _doc(r, ["Describes `$xs` in words: how many elements and which ones are at the ends.",
                       "A short summary of `$xs`, chosen by matching the slice's shape.",
                       'Returns "empty", "one: x", "two: a and b", or "n items: first .. last".'], kw)

        def desc(xs):
            if not xs:
                return "empty"
            if len(xs) == 1:
                return f"one: {xs[0]}"
            if len(xs) == 2:
                return f"two: {xs[0]} and {xs[1]}"
            return f"{len(xs)} items: {xs[0]} .. {xs[-1]}"
        for n in r.sample(range(7), 4):
            xs = [r.randrange(-50, 50) for _ in range(n)]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", desc(xs)))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


@_family("let_else")
def _let_else(r: random.Random) -> _Prog:
    task = r.choice(["area", "sum_valid", "drain"])
    checks = []
    if task == "area":
        sep = r.choice("x*")
        kw = {"fn": r.choice(["area_of", "parse_area", "box_area", "size_area"]), "s": r.choice(_TEXT)}
        sig = "fn $fn($s: &str) -> Option<u32>"
        body = r.choice([(f"let Some((w, h)) = $s.split_once('{sep}') else {{\n    return None;\n}};\n"
                         "let Ok(w) = w.trim().parse::<u32>() else {\n    return None;\n};\n"
                         "let Ok(h) = h.trim().parse::<u32>() else {\n    return None;\n};\nSome(w * h)"),
                         (f"let (w, h) = $s.split_once('{sep}')?;\n"
                         "let w: u32 = w.trim().parse().ok()?;\nlet h: u32 = h.trim().parse().ok()?;\nSome(w * h)")])
        doc = _doc(r, [f"Parses a size written `W{sep}H` and returns its area, or `None` if it is malformed.",
                       f"Reads `$s` as `width{sep}height` and multiplies the two.",
                       f"The area of a `W{sep}H` rectangle description; any parse failure gives `None`."], kw)
        for _ in range(2):
            w, h = r.randrange(0, 200), r.randrange(0, 200)
            s = r.choice([f"{w}{sep}{h}", f"{w} {sep} {h}"])
            checks.append(_check(f"{kw['fn']}({_lit(s)})", _some(w * h)))
        for s in r.sample([f"{r.randrange(9)}", f"{r.randrange(9)}{sep}", f"a{sep}{r.randrange(9)}", "", f"-1{sep}4"], 3):
            checks.append(_check(f"{kw['fn']}({_lit(s)})", None))
    elif task == "sum_valid":
        T = r.choice(["i32", "i64"])
        kw = {"fn": r.choice(["sum_valid", "sum_parsable", "total_of_numbers"]), "T": T,
              "xs": r.choice(["fields", "parts", "tokens", "cells"])}
        sig = "fn $fn($xs: &[&str]) -> $T"
        body = r.choice([("let mut total = 0;\nfor f in $xs {\n    if let Ok(n) = f.trim().parse::<$T>() {\n"
                         "        total += n;\n    }\n}\ntotal"),
                         "$xs.iter().filter_map(|f| f.trim().parse::<$T>().ok()).sum()"])
        doc = _doc(r, ["Adds up the fields of `$xs` that parse as integers and skips the rest.",
                       "Sums every entry that is a number; entries that are not numbers are ignored.",
                       "The total of the numeric fields of `$xs`."], kw)
        for _ in range(2):
            fs, tot = [], 0
            for _ in range(r.randrange(1, 6)):
                if r.random() < 0.6:
                    n = r.randrange(-50, 100)
                    tot += n
                    fs.append(r.choice([str(n), f" {n}"]))
                else:
                    fs.append(r.choice(_WORDS + ["", "4.5", "1e3"]))
            checks.append(_check(f"{kw['fn']}({_slice(fs)})", tot))
        checks.append(_check(f"{kw['fn']}(&[])", 0))
    else:
        kw = {"fn": r.choice(["drain_stack", "pop_all", "unwind"]), "st": r.choice(["stack", "pile", "todo"])}
        sig = "fn $fn(mut $st: Vec<u32>) -> Vec<u32>"
        body = r.choice([("let mut out = Vec::new();\nwhile let Some(top) = $st.pop() {\n"
                         "    if top % 2 == 0 {\n        out.push(top / 2);\n    } else {\n        out.push(top);\n"
                         "    }\n}\nout"),
                         ("let mut out = Vec::with_capacity($st.len());\nwhile let Some(top) = $st.pop() {\n"
                         "    out.push(if top % 2 == 0 { top / 2 } else { top });\n}\nout")])
        doc = _doc(r, ["Pops every element off `$st` (last pushed first) and halves the even ones.",
                       "Empties the stack `$st` with `while let` and returns what came off, even values halved.",
                       "The contents of `$st` from top to bottom, with even numbers divided by two."], kw)
        for i in range(3):
            xs = [r.randrange(0, 60) for _ in range(r.randrange(0 if i == 2 else 1, 7))]
            checks.append(_check(f"{kw['fn']}({_lit(xs) if xs else 'Vec::new()'})",
                                 _vec([x // 2 if x % 2 == 0 else x for x in reversed(xs)], "u32")))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("matches_macro")
def _matches_macro(r: random.Random) -> _Prog:
    task = r.choice(["operators", "hex", "enum_guard"])
    checks = []
    if task == "operators":
        kw = {"fn": r.choice(["count_operators", "operator_count", "num_operators"]), "s": r.choice(_TEXT)}
        sig = "fn $fn($s: &str) -> usize"
        body = r.choice(["$s.chars().filter(|c| matches!(c, '+' | '-' | '*' | '/')).count()",
                         ("let mut n = 0;\nfor c in $s.chars() {\n    if matches!(c, '+' | '-' | '*' | '/') {\n"
                         "        n += 1;\n    }\n}\nn")])
        doc = _doc(r, ["Counts the arithmetic operators (`+ - * /`) in `$s`.",
                       "How many of the characters of `$s` are one of `+`, `-`, `*` or `/`.",
                       "The number of operator characters in an arithmetic expression."], kw)
        for _ in range(3):
            s = "".join(r.choice(["1", "2", "x", " ", "+", "-", "*", "/", "(", ")", "7"]) for _ in range(r.randrange(0, 14)))
            checks.append(_check(f"{kw['fn']}({_lit(s)})", sum(c in "+-*/" for c in s)))
    elif task == "hex":
        kw = {"fn": r.choice(["is_hex", "all_hex_digits", "is_hex_string"]), "s": r.choice(_TEXT)}
        sig = "fn $fn($s: &str) -> bool"
        body = r.choice(["!$s.is_empty() && $s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f' | 'A'..='F'))",
                         ("if $s.is_empty() {\n    return false;\n}\nfor c in $s.chars() {\n"
                         "    if !matches!(c, '0'..='9' | 'a'..='f' | 'A'..='F') {\n        return false;\n    }\n}\ntrue")])
        doc = _doc(r, ["Checks that `$s` is a non-empty string of hexadecimal digits (either case).",
                       "Returns `true` when every character of `$s` is `0-9`, `a-f` or `A-F`.",
                       "Whether `$s` could be a hexadecimal number without prefix."], kw)
        for _ in range(4):
            s = "".join(r.choice("0123456789abcdefABCDEF" + ("ghxz " if r.random() < 0.5 else "")) for _ in range(r.randrange(0, 8)))
            checks.append(_check(f"{kw['fn']}({_lit(s)})", bool(s) and all(c in "0123456789abcdefABCDEF" for c in s)))
    else:
        E = r.choice(["Reading", "Sample", "Measure"])
        ok, miss, err = r.choice([("Value", "Missing", "Fault"), ("Temp", "Absent", "Error"), ("Level", "Gap", "Broken")])
        fn = r.choice(["count_above", "how_many_over", "count_high"])
        lim = r.choice(["limit", "threshold", "min"])
        enum = f"enum {E} {{\n    {ok}(i32),\n    {miss},\n    {err},\n}}\n"
        body = r.choice([f"xs.iter().filter(|x| matches!(x, {E}::{ok}(v) if *v > {lim})).count()",
                         (f"let mut n = 0;\nfor x in xs {{\n    if let {E}::{ok}(v) = x {{\n        if *v > {lim} {{\n"
                         "            n += 1;\n        }\n    }\n}\nn")])
        doc = _doc(r, [f"Counts the `{ok}` readings greater than `{lim}`; missing and failed ones never count.",
                       f"How many entries of `xs` hold a value above `{lim}`.",
                       f"The number of `{E}::{ok}` entries whose value exceeds `{lim}`."])
        f = _fn(f"fn {fn}(xs: &[{E}], {lim}: i32) -> usize", body, {}, doc)
        vals = [r.randrange(-20, 40) for _ in range(r.randrange(1, 5))]
        parts = [f"{E}::{ok}({v})" for v in vals] + [f"{E}::{miss}"] * r.randrange(1, 3) + [f"{E}::{err}"]
        r.shuffle(parts)
        t = r.randrange(-5, 30)
        checks = [_let_vec("xs", parts), _check(f"{fn}(&xs, {t})", sum(v > t for v in vals)),
                  _check(f"{fn}(&xs, -100)", len(vals)), _check(f"{fn}(&[], 0)", 0),
                  _check(f"xs.iter().filter(|x| matches!(x, {E}::{miss})).count()", parts.count(f"{E}::{miss}"))]
        return _Prog([enum, f], checks, params=task)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- ownership tools: std::mem, Rc<RefCell<_>>, Box ----

@_family("mem_take")
def _mem_take(r: random.Random) -> _Prog:
    task = r.choice(["batcher", "tracker", "rotate"])
    short = r.random() < 0.5
    mem = "mem" if short else "std::mem"
    uses = ["std::mem"] if short else []
    if task == "batcher":
        S = r.choice(["Batcher", "Chunker", "Buffer"])
        push, flush = r.choice(["push", "add", "feed"]), r.choice(["flush", "finish", "drain_rest"])
        take = r.choice([f"{mem}::take(&mut self.pending)", f"{mem}::replace(&mut self.pending, Vec::new())"])
        push_doc = _doc(r, ["Adds `x`; when that fills the batch, hands the batch over and starts a new one.",
                            "Buffers `x` and returns the full batch once it reaches the batch size."])
        flush_doc = _doc(r, ["Returns whatever is buffered and leaves the buffer empty.",
                             "Hands over the partial batch, if any; `mem::take` leaves an empty `Vec` behind."])
        struct = f"struct {S} {{\n    size: usize,\n    pending: Vec<i32>,\n}}\n"
        impl = _block(f"impl {S}", [
            _method("fn new(size: usize) -> Self", f"{S} {{\n    size,\n    pending: Vec::new(),\n}}"),
            _method(f"fn {push}(&mut self, x: i32) -> Option<Vec<i32>>",
                    f"self.pending.push(x);\nif self.pending.len() == self.size {{\n    Some({take})\n}} else {{\n"
                    "    None\n}", push_doc),
            _method(f"fn {flush}(&mut self) -> Vec<i32>", take, flush_doc)])
        size = r.randrange(2, 4)
        v = r.choice(["b", "batch", "buf"])
        checks, pending = [f"let mut {v} = {S}::new({size});"], []
        for _ in range(r.randrange(3, 8)):
            x = r.randrange(-20, 50)
            pending.append(x)
            full = len(pending) == size
            checks.append(_check(f"{v}.{push}({x})", _some(pending) if full else None))
            if full:
                pending = []
        checks += [_check(f"{v}.{flush}()", _vec(pending, "i32")), _check(f"{v}.{flush}().is_empty()", True)]
        return _Prog([struct, impl], checks, uses=uses, params=f"{task} {take[:8]}")
    if task == "tracker":
        S = r.choice(["Tracker", "Latest", "Current"])
        set_ = r.choice(["set", "update", "replace_with"])
        struct = f"struct {S} {{\n    value: String,\n    changes: u32,\n}}\n"
        set_doc = _doc(r, ["Stores `value` and returns the one it replaces.",
                           "Swaps in a new value; the old one is moved out with `mem::replace`, not cloned."])
        impl = _block(f"impl {S}", [
            _method("fn new(value: &str) -> Self", f"{S} {{\n    value: value.to_string(),\n    changes: 0,\n}}"),
            _method(f"fn {set_}(&mut self, value: &str) -> String",
                    f"self.changes += 1;\n{mem}::replace(&mut self.value, value.to_string())", set_doc),
            _method("fn value(&self) -> &str", "&self.value"),
            _method("fn changes(&self) -> u32", "self.changes")])
        ws = r.sample(_WORDS, r.randrange(3, 6))
        v = r.choice(["t", "name", "slot"])
        checks = [f"let mut {v} = {S}::new({_lit(ws[0])});"]
        for old, new in pairwise(ws):
            checks.append(_check(f"{v}.{set_}({_lit(new)})", old))
        checks += [_check(f"{v}.value()", ws[-1]), _check(f"{v}.changes()", len(ws) - 1)]
        return _Prog([struct, impl], checks, uses=uses, params=task)
    fn = r.choice(["rotate3", "rotate_three", "cycle_three"])
    a, b, c = r.choice([("a", "b", "c"), ("x", "y", "z")])
    body = f"{mem}::swap({a}, {b});\n{mem}::swap({b}, {c});"
    doc = _doc(r, [f"Rotates three values left: `{a}` takes `{b}`'s value, `{b}` takes `{c}`'s and `{c}` takes `{a}`'s.",
                   "Moves the three values one place to the left, with two swaps and no clones.",
                   f"Cycles `({a}, {b}, {c})` to `({b}, {c}, {a})` in place."])
    f = _fn(f"fn {fn}<T>({a}: &mut T, {b}: &mut T, {c}: &mut T)", body, {}, doc)
    x, y, z = (r.randrange(-50, 50) for _ in range(3))
    p, q, s = r.sample(_WORDS, 3)
    checks = [f"let (mut {a}, mut {b}, mut {c}) = ({x}, {y}, {z});", f"{fn}(&mut {a}, &mut {b}, &mut {c});",
              _check(f"({a}, {b}, {c})", (y, z, x)),
              f"let mut p = String::from({_lit(p)});", f"let mut q = String::from({_lit(q)});",
              f"let mut s = String::from({_lit(s)});", f"{fn}(&mut p, &mut q, &mut s);",
              _check("[p, q, s]", _Raw(f"[{_lit(q)}, {_lit(s)}, {_lit(p)}]"))]
    return _Prog([f], checks, uses=uses, params=task)


@_family("rc_shared")
def _rc_shared(r: random.Random) -> _Prog:
    uses = ["std::cell::RefCell", "std::rc::Rc"]
    if r.random() < 0.5:
        S = r.choice(["Tally", "Clicker", "Voter", "Station"])
        add = r.choice(["add", "record", "bump"])
        struct = _doc(r, ["Counts its own events and also adds them to a total shared with others.",
                          "One of several counters that share a grand total through `Rc<RefCell<u32>>`."])
        struct += f"struct {S} {{\n    own: u32,\n    total: Rc<RefCell<u32>>,\n}}\n"
        impl = _block(f"impl {S}", [
            _method("fn new(total: &Rc<RefCell<u32>>) -> Self",
                    f"{S} {{\n    own: 0,\n    total: Rc::clone(total),\n}}"),
            _method(f"fn {add}(&mut self, n: u32)", "self.own += n;\n*self.total.borrow_mut() += n;"),
            _method("fn own(&self) -> u32", "self.own"),
            _method("fn total(&self) -> u32", "*self.total.borrow()")])
        a, b = r.sample(["a", "b", "left", "right", "north", "south"], 2)
        xs = [r.randrange(1, 20) for _ in range(2)]
        ys = [r.randrange(1, 20) for _ in range(r.randrange(1, 3))]
        checks = ["let total = Rc::new(RefCell::new(0));", f"let mut {a} = {S}::new(&total);",
                  f"let mut {b} = {S}::new(&total);", *(f"{a}.{add}({x});" for x in xs),
                  *(f"{b}.{add}({y});" for y in ys), _check(f"{a}.own()", sum(xs)), _check(f"{b}.own()", sum(ys)),
                  _check(f"{a}.total()", sum(xs + ys)), _check("*total.borrow()", sum(xs + ys)),
                  _check("Rc::strong_count(&total)", 3)]
        return _Prog([struct, impl], checks, uses=uses, params="tally")
    S = r.choice(["Logger", "Reporter", "Channel"])
    say = r.choice(["log", "say", "note", "emit"])
    struct = _doc(r, ["Writes prefixed messages into a log that several writers share.",
                      "A named writer; all writers built from one log append to the same `Vec`."])
    struct += f"struct {S} {{\n    name: String,\n    log: Rc<RefCell<Vec<String>>>,\n}}\n"
    fmt = r.choice(['format!("{}: {}", self.name, msg)', 'format!("[{}] {}", self.name, msg)'])
    impl = _block(f"impl {S}", [
        _method("fn new(name: &str, log: &Rc<RefCell<Vec<String>>>) -> Self",
                f"{S} {{\n    name: name.to_string(),\n    log: Rc::clone(log),\n}}"),
        _method(f"fn {say}(&self, msg: &str)", f"self.log.borrow_mut().push({fmt});")])
    n1, n2 = r.sample(["db", "web", "app", "net", "ui", "cli"], 2)
    who = [n1, n2] + [r.choice([n1, n2]) for _ in range(r.randrange(0, 3))]  # both writers are used
    r.shuffle(who)
    msgs = [(w, r.choice(["start", "ready", "stop", "retry", "ok", "fail"])) for w in who]
    shape = "{}: {}" if "{}: {}" in fmt else "[{}] {}"
    checks = ["let log = Rc::new(RefCell::new(Vec::new()));", f"let {n1} = {S}::new({_lit(n1)}, &log);",
              f"let {n2} = {S}::new({_lit(n2)}, &log);", *(f"{who}.{say}({_lit(m)});" for who, m in msgs),
              _check("log.borrow().len()", len(msgs)),
              _check("log.borrow()[0]", shape.format(*msgs[0])),
              _check("*log.borrow()", [shape.format(*m) for m in msgs])]
    return _Prog([struct, impl], checks, uses=uses, params="log")


def _bst_insert(tree, v):
    """A search tree as nested `[left, value, right]` lists (None for a leaf), as the Rust `insert` builds it."""
    if tree is None:
        return [None, v, None]
    if v < tree[1]:
        tree[0] = _bst_insert(tree[0], v)
    elif v > tree[1]:
        tree[2] = _bst_insert(tree[2], v)
    return tree


def _bst_depth(tree) -> int:
    return 0 if tree is None else 1 + max(_bst_depth(tree[0]), _bst_depth(tree[2]))


@_family("box_tree")
def _box_tree(r: random.Random) -> _Prog:
    E, leaf = r.choice([("Tree", "Leaf"), ("Bst", "Empty"), ("IntTree", "Nil")])
    enum = f"enum {E} {{\n    {leaf},\n    Node(Box<{E}>, i32, Box<{E}>),\n}}\n"
    new_node = f"Self::Node(Box::new(Self::{leaf}), v, Box::new(Self::{leaf}))"
    by_value = r.random() < 0.5
    uses: list[str] = []
    if by_value:
        insert = _method(f"fn insert(self, v: i32) -> {E}", f"""match self {{
    {E}::{leaf} => {new_node},
    {E}::Node(l, x, r) => {{
        if v < x {{
            {E}::Node(Box::new(l.insert(v)), x, r)
        }} else if v > x {{
            {E}::Node(l, x, Box::new(r.insert(v)))
        }} else {{
            {E}::Node(l, x, r)
        }}
    }}
}}""")
    else:
        insert = _method("fn insert(&mut self, v: i32)", f"""match self {{
    {E}::{leaf} => *self = {new_node},
    {E}::Node(l, x, r) => {{
        if v < *x {{
            l.insert(v);
        }} else if v > *x {{
            r.insert(v);
        }}
    }}
}}""")
    insert = _doc(r, ["Adds `v` in its sorted place; a value already present is not added again.",
                      "Inserts `v` into the search tree, going left for smaller values and right for larger."]) + insert
    to_vec = r.choice(["to_sorted_vec", "in_order", "values"])
    methods = [insert, _doc(r, ["The values in ascending order (an in-order walk).",
                                "Collects the tree's values from smallest to largest."])
               + _method(f"fn {to_vec}(&self) -> Vec<i32>", f"""match self {{
    {E}::{leaf} => Vec::new(),
    {E}::Node(l, x, r) => {{
        let mut out = l.{to_vec}();
        out.push(*x);
        out.extend(r.{to_vec}());
        out
    }}
}}""")]
    query = r.choice(["contains", "depth", "len"])
    if query == "contains":
        uses = ["std::cmp::Ordering"]
        methods.append(_method("fn contains(&self, v: i32) -> bool", f"""match self {{
    {E}::{leaf} => false,
    {E}::Node(l, x, r) => match v.cmp(x) {{
        Ordering::Less => l.contains(v),
        Ordering::Greater => r.contains(v),
        Ordering::Equal => true,
    }},
}}"""))
    elif query == "depth":
        methods.append(_method("fn depth(&self) -> usize", f"match self {{\n    {E}::{leaf} => 0,\n"
                               f"    {E}::Node(l, _, r) => 1 + l.depth().max(r.depth()),\n}}"))
    else:
        methods.append(_method("fn len(&self) -> usize", f"match self {{\n    {E}::{leaf} => 0,\n"
                               f"    {E}::Node(l, _, r) => l.len() + 1 + r.len(),\n}}"))
    xs = [r.randrange(0, 40) for _ in range(r.randrange(3, 8))]
    tree = None
    for x in xs:
        tree = _bst_insert(tree, x)
    v = r.choice(["tree", "t", "bst", "root"])
    if by_value:
        checks = [f"let {v} = {_lit(xs)[4:]}\n    .into_iter()\n    .fold({E}::{leaf}, |t, x| t.insert(x));"]
    else:
        checks = [f"let mut {v} = {E}::{leaf};", f"for x in {_lit(xs)[4:]} {{\n    {v}.insert(x);\n}}"]
    checks.append(_check(f"{v}.{to_vec}()", sorted(set(xs))))
    if query == "contains":
        y = r.choice([x for x in range(40) if x not in xs])
        checks += [_check(f"{v}.contains({r.choice(xs)})", True), _check(f"{v}.contains({y})", False)]
    elif query == "depth":
        checks += [_check(f"{v}.depth()", _bst_depth(tree)), _check(f"{E}::{leaf}.depth()", 0)]
    else:
        checks += [_check(f"{v}.len()", len(set(xs))), _check(f"{E}::{leaf}.len()", 0)]
    doc = _doc(r, ["A binary search tree of integers; `Box` gives the recursive type a known size.",
                   "An unbalanced binary search tree.", "Either an empty leaf or a node with two subtrees."])
    return _Prog([doc + enum, _block(f"impl {E}", methods)], checks, uses=uses, params=f"{query} by_value={by_value}")


# ---- ordered collections, maps and sorting ----

@_family("btree_range")
def _btree_range(r: random.Random) -> _Prog:
    task = r.choice(["count_in", "ceiling", "floor", "window"])
    vals = sorted(r.sample(range(60), r.randrange(3, 8)))
    shown = r.sample(vals, len(vals))
    if task == "window":
        kw = {"fn": r.choice(["events_between", "entries_in_window", "logged_between"]),
              "m": r.choice(["log", "events", "timeline"])}
        sig = "fn $fn<'a>($m: &BTreeMap<u32, &'a str>, from: u32, to: u32) -> Vec<&'a str>"
        body = r.choice(["$m.range(from..to).map(|(_, &e)| e).collect()",
                         "let mut out = Vec::new();\nfor (_, &e) in $m.range(from..to) {\n    out.push(e);\n}\nout"])
        doc = _doc(r, ["Returns the events logged at times in `from..to`, earliest first.",
                       "The entries of `$m` whose time is at least `from` and below `to`, in time order.",
                       "Looks up a time window with `BTreeMap::range` instead of scanning every entry."], kw)
        names = [r.choice(["boot", "login", "save", "error", "sync", "exit", "ping"]) for _ in vals]
        log = dict(zip(vals, names))
        m = kw["m"]
        checks = [f"let mut {m} = BTreeMap::new();", *(f"{m}.insert({t}, {_lit(log[t])});" for t in shown)]
        for _ in range(2):
            lo, hi = sorted(r.sample(range(62), 2))
            checks.append(_check(f"{kw['fn']}(&{m}, {lo}, {hi})", _vec([log[t] for t in vals if lo <= t < hi], "&str")))
        return _Prog([_fn(sig, body, kw, doc)], checks, uses=["std::collections::BTreeMap"], params=task)
    T = r.choice(["i32", "u32", "i64"])
    kw = {"T": T, "set": r.choice(["set", "seen", "marks", "slots"])}
    checks = [f"let {kw['set']}: BTreeSet<{T}> = {_lit(shown)[4:]}.into_iter().collect();"
              if r.random() < 0.5 else f"let {kw['set']} = BTreeSet::from({_lit(shown)[4:]});"]
    uses = ["std::collections::BTreeSet"]
    if task == "count_in":
        kw["fn"] = r.choice(["count_between", "count_in_range", "how_many_within"])
        sig = "fn $fn($set: &BTreeSet<$T>, lo: $T, hi: $T) -> usize"
        body = r.choice(["$set.range(lo..=hi).count()",
                         "$set.range((Bound::Included(lo), Bound::Included(hi))).count()"])
        if "Bound" in body:
            uses.append("std::ops::Bound")
        doc = _doc(r, ["Counts the members of `$set` between `lo` and `hi`, both included (`lo <= hi`).",
                       "How many values of the sorted set fall in `lo..=hi`.",
                       "Counts a range of a `BTreeSet` without visiting the values outside it."], kw)
        for _ in range(3):
            lo, hi = sorted(r.sample(range(62), 2))
            checks.append(_check(f"{kw['fn']}(&{kw['set']}, {lo}, {hi})", sum(lo <= v <= hi for v in vals)))
    elif task == "ceiling":
        kw["fn"] = r.choice(["next_at_least", "ceiling", "first_not_below"])
        sig = "fn $fn($set: &BTreeSet<$T>, x: $T) -> Option<$T>"
        body = r.choice(["$set.range(x..).next().copied()", "$set.range(x..).copied().next()"])
        doc = _doc(r, ["Returns the smallest member of `$set` that is `>= x`, if there is one.",
                       "The ceiling of `x` in the set: the first value not below it.",
                       "Finds the next free-or-taken slot at or after `x` with a range query."], kw)
        for x in r.sample(range(62), 3) + [vals[0]]:
            checks.append(_check(f"{kw['fn']}(&{kw['set']}, {x})", _some(next((v for v in vals if v >= x), None))))
    else:
        kw["fn"] = r.choice(["floor_of", "last_at_most", "previous_or_equal"])
        sig = "fn $fn($set: &BTreeSet<$T>, x: $T) -> Option<$T>"
        body = r.choice(["$set.range(..=x).next_back().copied()", "$set.iter().rev().find(|&&v| v <= x).copied()"])
        doc = _doc(r, ["Returns the largest member of `$set` that is `<= x`, if there is one.",
                       "The floor of `x` in the set: the last value not above it.",
                       "Looks backwards from `x` in the ordered set."], kw)
        for x in r.sample(range(62), 3) + [vals[-1]]:
            checks.append(_check(f"{kw['fn']}(&{kw['set']}, {x})", _some(next((v for v in reversed(vals) if v <= x), None))))
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{task} {T}")


@_family("entry_api")
def _entry_api(r: random.Random) -> _Prog:
    task = r.choice(["positions", "best", "totals"])
    uses = ["std::collections::HashMap"]
    if task == "positions":
        kw = {"fn": r.choice(["word_positions", "index_words", "positions_of_words"]),
              "ws": r.choice(["words", "tokens", "items"])}
        sig = "fn $fn<'a>($ws: &[&'a str]) -> HashMap<&'a str, Vec<usize>>"
        push = r.choice(["or_default()", "or_insert_with(Vec::new)"])
        body = r.choice([("let mut map = HashMap::new();\nfor (i, w) in $ws.iter().enumerate() {\n"
                         "    map.entry(*w).or_insert_with(Vec::new).push(i);\n}\nmap"),
                         (f"let mut map: HashMap<&str, Vec<usize>> = HashMap::new();\nfor (i, &w) in $ws.iter().enumerate() {{\n"
                         f"    map.entry(w).{push}.push(i);\n}}\nmap")])
        doc = _doc(r, ["Maps every distinct word of `$ws` to the positions where it occurs, in order.",
                       "Builds an index from each word to the list of its indices in `$ws`.",
                       "Where does each word appear? Returns word -> ascending positions."], kw)
        pool = r.sample(_WORDS, 3)
        ws = [r.choice(pool) for _ in range(r.randrange(3, 8))]
        w = r.choice(ws)
        checks = [_let_vec(kw["ws"], [_lit(w) for w in ws], opener="["), f"let index = {kw['fn']}(&{kw['ws']});", _check(f"index[{_lit(w)}]", [i for i, x in enumerate(ws) if x == w]),
                  _check("index.len()", len(set(ws))), _check('index.get("zebra")', None),
                  _check("index.values().map(|v| v.len()).sum::<usize>()", len(ws))]
    elif task == "best":
        kw = {"fn": r.choice(["best_scores", "top_score_each", "high_scores"]),
              "rs": r.choice(["results", "scores", "attempts"])}
        sig = "fn $fn<'a>($rs: &[(&'a str, u32)]) -> HashMap<&'a str, u32>"
        body = r.choice([("let mut best = HashMap::new();\nfor &(name, s) in $rs {\n"
                         "    best.entry(name)\n        .and_modify(|b: &mut u32| *b = (*b).max(s))\n"
                         "        .or_insert(s);\n}\nbest"),
                         ("let mut best = HashMap::new();\nfor &(name, s) in $rs {\n"
                         "    let b = best.entry(name).or_insert(s);\n    if s > *b {\n        *b = s;\n    }\n}\nbest")])
        doc = _doc(r, ["Keeps each player's best score from a list of `(name, score)` attempts.",
                       "The highest score of every name in `$rs`.",
                       "Reduces `$rs` to one entry per name holding its maximum score."], kw)
        names = r.sample(["ann", "bob", "cara", "dan", "eve", "finn"], 3)
        rs = [(r.choice(names), r.randrange(0, 100)) for _ in range(r.randrange(3, 7))]
        best = {}
        for n, s in rs:
            best[n] = max(best.get(n, 0), s)
        n = r.choice(list(best))
        checks = [_let_vec(kw["rs"], [_lit(x) for x in rs], opener="["), f"let best = {kw['fn']}(&{kw['rs']});",
                  _check(f"best[{_lit(n)}]", best[n]), _check("best.len()", len(best)),
                  _check('best.get("nobody")', None)]
    else:
        kw = {"fn": r.choice(["totals_by_category", "sum_per_key", "group_totals"]),
              "xs": r.choice(["items", "expenses", "sales"])}
        sig = "fn $fn<'a>($xs: &[(&'a str, u32)]) -> Vec<(&'a str, u32)>"
        body = r.choice([("let mut sums = HashMap::new();\nfor &(key, n) in $xs {\n    *sums.entry(key).or_insert(0) += n;\n}\n"
                         "let mut out: Vec<_> = sums.into_iter().collect();\nout.sort();\nout"),
                         ("let mut sums: HashMap<&str, u32> = HashMap::new();\nfor (key, n) in $xs {\n"
                         "    *sums.entry(key).or_default() += n;\n}\nlet mut out: Vec<(&str, u32)> = sums.into_iter().collect();\n"
                         "out.sort_unstable();\nout")])
        doc = _doc(r, ["Adds up the amounts of each category and returns `(category, total)` sorted by name.",
                       "Per-key totals of `$xs`, in alphabetical order of the key.",
                       "Groups `$xs` by its first field and sums the second."], kw)
        cats = r.sample(["food", "rent", "fuel", "gift", "books", "tools"], 3)
        xs = [(r.choice(cats), r.randrange(1, 90)) for _ in range(r.randrange(2, 7))]
        tot = {}
        for c, n in xs:
            tot[c] = tot.get(c, 0) + n
        checks = [_let_vec(kw["xs"], [_lit(x) for x in xs], opener="["),
                  _check(f"{kw['fn']}(&{kw['xs']})", sorted(tot.items())), _check(f"{kw['fn']}(&[]).len()", 0)]
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=task)


@_family("sort_then_with")
def _sort_then_with(r: random.Random) -> _Prog:
    task = r.choice(["length", "distance", "intervals"])
    key = r.random() < 0.5
    uses = []
    if task == "length":
        kw = {"fn": r.choice(["sort_by_length", "longest_first", "order_by_length"]), "ws": r.choice(["words", "names", "items"])}
        sig = "fn $fn($ws: &mut [&str])"
        if key:
            uses = ["std::cmp::Reverse"]
            body = r.choice(["$ws.sort_by_key(|w| (Reverse(w.len()), *w));", "$ws.sort_unstable_by_key(|&w| (Reverse(w.len()), w));"])
        else:
            body = "$ws.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));"
        doc = _doc(r, ["Sorts `$ws` longest first; words of equal length go in alphabetical order.",
                       "Orders the words by decreasing length, breaking ties alphabetically.",
                       "In-place sort: length descending, then dictionary order."], kw)
        ws = r.sample(_WORDS, r.randrange(3, 7))
        exp = sorted(ws, key=lambda w: (-len(w), w))
    elif task == "distance":
        kw = {"fn": r.choice(["sort_by_distance", "nearest_first", "order_by_manhattan"]), "ws": r.choice(["points", "cells", "spots"])}
        sig = "fn $fn($ws: &mut [(i32, i32)])"
        body = (r.choice(["$ws.sort_by_key(|&(x, y)| (x.abs() + y.abs(), x, y));",
                          "$ws.sort_unstable_by_key(|p| (p.0.abs() + p.1.abs(), p.0, p.1));"]) if key else
                "$ws.sort_by(|a, b| {\n    let da = a.0.abs() + a.1.abs();\n    let db = b.0.abs() + b.1.abs();\n"
                "    da.cmp(&db).then_with(|| a.cmp(b))\n});")
        doc = _doc(r, ["Sorts points by Manhattan distance from the origin, then by `x`, then by `y`.",
                       "Orders `$ws` nearest first (distance `|x| + |y|`); ties are broken by the coordinates.",
                       "In-place sort of grid points by how many steps they are from `(0, 0)`."], kw)
        ws = list({(r.randrange(-5, 6), r.randrange(-5, 6)) for _ in range(r.randrange(3, 6))})
        r.shuffle(ws)
        exp = sorted(ws, key=lambda p: (abs(p[0]) + abs(p[1]), p[0], p[1]))
    else:
        kw = {"fn": r.choice(["sort_intervals", "order_spans", "arrange_ranges"]), "ws": r.choice(["spans", "intervals", "ranges"])}
        sig = "fn $fn($ws: &mut [(u32, u32)])"
        if key:
            uses = ["std::cmp::Reverse"]
            body = "$ws.sort_by_key(|&(start, end)| (start, Reverse(end)));"
        else:
            body = r.choice(["$ws.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));",
                             "$ws.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));"])
        doc = _doc(r, ["Sorts `(start, end)` intervals by start; among equal starts the longer one comes first.",
                       "Orders the spans by start ascending, then by end descending.",
                       "Puts enclosing intervals before the ones they contain when they start together."], kw)
        ws = []
        for _ in range(r.randrange(3, 6)):
            s = r.randrange(0, 8)
            ws.append((s, s + r.randrange(0, 9)))
        exp = sorted(ws, key=lambda p: (p[0], -p[1]))
    v = kw["ws"]
    checks = [_let_vec(v, [_lit(x) for x in ws], mut=True, opener="["), f"{kw['fn']}(&mut {v});",
              _check(v, _Raw("[" + ", ".join(_lit(x) for x in exp) + "]"))]
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{task} key={key}")


@_family("sorted_lookup")
def _sorted_lookup(r: random.Random) -> _Prog:
    task = r.choice(["by_key", "insert_sorted"])
    if task == "by_key":
        kw = {"fn": r.choice(["name_for_id", "lookup_name", "find_by_id"]), "tab": r.choice(["table", "users", "rows"])}
        sig = "fn $fn<'a>($tab: &[(u32, &'a str)], id: u32) -> Option<&'a str>"
        body = r.choice(["$tab.binary_search_by_key(&id, |&(k, _)| k)\n    .ok()\n    .map(|i| $tab[i].1)",
                         "match $tab.binary_search_by_key(&id, |&(k, _)| k) {\n    Ok(i) => Some($tab[i].1),\n    Err(_) => None,\n}",
                         "let i = $tab.binary_search_by(|(k, _)| k.cmp(&id)).ok()?;\nSome($tab[i].1)"])
        doc = _doc(r, ["Looks up the name stored under `id` in a table sorted by id.",
                       "Binary-searches `$tab` (sorted by its first field) for `id`.",
                       "Returns the name for `id`, or `None` if the sorted table has no such id."], kw)
        ids = sorted(r.sample(range(1, 200), r.randrange(3, 7)))
        names = r.sample(_WORDS, len(ids))
        tab = list(zip(ids, names))
        miss = r.choice([x for x in range(1, 200) if x not in ids])
        checks = [_let_vec(kw["tab"], [_lit(x) for x in tab], opener="[")]
        for i in r.sample(range(len(ids)), 2):
            checks.append(_check(f"{kw['fn']}(&{kw['tab']}, {ids[i]})", _some(names[i])))
        checks.append(_check(f"{kw['fn']}(&{kw['tab']}, {miss})", None))
    else:
        T = r.choice(["i32", "u32", "i64"])
        kw = {"fn": r.choice(["insert_sorted", "add_in_order", "sorted_insert"]), "xs": r.choice(_SEQ), "T": T}
        sig = "fn $fn($xs: &mut Vec<$T>, x: $T)"
        body = r.choice(["let pos = match $xs.binary_search(&x) {\n    Ok(i) | Err(i) => i,\n};\n$xs.insert(pos, x);",
                         "let pos = $xs.binary_search(&x).unwrap_or_else(|i| i);\n$xs.insert(pos, x);",
                         "let pos = $xs.partition_point(|&y| y < x);\n$xs.insert(pos, x);"])
        doc = _doc(r, ["Inserts `x` into the sorted vector `$xs` so that it stays sorted.",
                       "Adds `x` at the place a binary search finds for it.",
                       "Keeps `$xs` in ascending order while adding `x`."], kw)
        xs = sorted(r.randrange(0, 50) for _ in range(r.randrange(0, 6)))
        adds = [r.randrange(0, 50) for _ in range(3)]
        v = kw["xs"]
        checks = [f"let mut {v}: Vec<{T}> = {_lit(xs)};" if xs else f"let mut {v}: Vec<{T}> = Vec::new();"]
        for a in adds:
            insort(xs, a)
            checks.append(f"{kw['fn']}(&mut {v}, {a});")
        checks.append(_check(v, xs))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- types: derives, traits, methods ----

_LEVELS = [["Low", "Medium", "High"], ["Low", "Normal", "Urgent", "Critical"], ["Minor", "Major", "Blocker"],
           ["Info", "Warning", "Error"], ["Bronze", "Silver", "Gold"]]


@_family("derive_ord_enum")
def _derive_ord_enum(r: random.Random) -> _Prog:
    levels = r.choice(_LEVELS)
    E = r.choice(["Priority", "Level", "Severity", "Rank"])
    task = r.choice(["most_urgent", "at_least", "distinct"])
    derives = {"most_urgent": "Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord",
               "at_least": "Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord",
               "distinct": "Debug, Clone, Copy, PartialEq, Eq, Hash"}[task]
    enum = _doc(r, ["Variants are declared from least to most important, so the derived `Ord` ranks them.",
                    "How serious something is; the derived traits do the comparing."]) if task != "distinct" else ""
    enum += f"#[derive({derives})]\nenum {E} {{\n" + "".join(f"    {v},\n" for v in levels) + "}\n"
    uses: list[str] = []
    items = [(w, r.randrange(len(levels))) for w in r.sample(_WORDS, r.randrange(3, 6))]
    lit = lambda i: f"{E}::{levels[i]}"
    if task == "most_urgent":
        fn = r.choice(["most_urgent", "top_priority", "most_severe"])
        body = r.choice(["tasks.iter().max_by_key(|(_, p)| *p).map(|(name, _)| *name)",
                         ("let mut best: Option<(&str, EE)> = None;\nfor &(name, p) in tasks {\n"
                         "    let better = match best {\n        Some((_, b)) => p > b,\n        None => true,\n    };\n"
                         "    if better {\n        best = Some((name, p));\n    }\n}\n"
                         "best.map(|(name, _)| name)")]).replace("EE", E)
        doc = _doc(r, ["Returns the name of the task with the highest level; on a tie, the last such task.",
                       f"Picks the most important task using the derived ordering of `{E}`."])
        if "max_by_key" not in body:
            doc = _doc(r, ["Returns the name of the task with the highest level; on a tie, the first one.",
                           f"Picks the most important task using the derived ordering of `{E}`."])
        f = _fn(f"fn {fn}<'a>(tasks: &[(&'a str, {E})]) -> Option<&'a str>", body, {}, doc)
        top = max(p for _, p in items)
        names = [n for n, p in items if p == top]
        exp = names[-1] if "max_by_key" in body else names[0]
        checks = [_let_vec("tasks", [f"({_lit(n)}, {lit(p)})" for n, p in items], opener="["),
                  _check(f"{fn}(&tasks)", _some(exp)), _check(f"{fn}(&[])", None),
                  _check(f"{lit(0)} < {lit(len(levels) - 1)}", True),
                  _check(f"{lit(1)}.max({lit(0)})", _Raw(lit(1)))]
    elif task == "at_least":
        fn = r.choice(["count_at_least", "at_or_above", "how_many_at_least"])
        body = r.choice(["levels.iter().filter(|&&l| l >= min).count()",
                         "let mut n = 0;\nfor &l in levels {\n    if l >= min {\n        n += 1;\n    }\n}\nn"])
        doc = _doc(r, ["Counts the entries of `levels` that are `min` or more serious.",
                       f"How many levels reach `min`, comparing with the derived `PartialOrd` of `{E}`."])
        f = _fn(f"fn {fn}(levels: &[{E}], min: {E}) -> usize", body, {}, doc)
        ls = [p for _, p in items]
        m = r.randrange(len(levels))
        checks = [_let_vec("levels", [lit(p) for p in ls], opener="["), _check(f"{fn}(&levels, {lit(m)})", sum(p >= m for p in ls)),
                  _check(f"{fn}(&levels, {lit(0)})", len(ls)), "let mut sorted = levels;", "sorted.sort();",
                  _check("sorted[0]", _Raw(lit(min(ls)))), _check("sorted.last()", _Raw(f"Some(&{lit(max(ls))})"))]
    else:
        uses = ["std::collections::HashSet"]
        fn = r.choice(["distinct_levels", "count_distinct", "kinds_seen"])
        body = r.choice(["levels.iter().copied().collect::<HashSet<_>>().len()",
                         "let mut seen = HashSet::new();\nfor l in levels {\n    seen.insert(*l);\n}\nseen.len()"])
        doc = _doc(r, ["How many different values occur in `levels`; `Hash` and `Eq` are derived for the set.",
                       f"Counts the distinct `{E}` values in `levels`."])
        f = _fn(f"fn {fn}(levels: &[{E}]) -> usize", body, {}, doc)
        ls = [p for _, p in items]
        checks = [_let_vec("levels", [lit(p) for p in ls], opener="["), _check(f"{fn}(&levels)", len(set(ls))),
                  _check(f"{fn}(&[])", 0), _check(f"{fn}(&[{lit(0)}, {lit(0)}])", 1),
                  _check(f"levels[0] == {lit(ls[0])}", True)]
        unused = [v for i, v in enumerate(levels) if i not in ls]
        if unused:  # every variant must be constructed somewhere, or rustc warns
            checks.append(_check(f"{fn}(&[{', '.join(f'{E}::{v}' for v in unused)}])", len(unused)))
    if task != "distinct":  # the declaration order is the ranking; this also constructs every variant
        checks += [_let_vec("ranked", [lit(i) for i in range(len(levels))], opener="["),
                   "assert!(ranked.windows(2).all(|w| w[0] < w[1]));"]
    return _Prog([enum, f], checks, uses=uses, params=f"{task} {E}")


@_family("assoc_const")
def _assoc_const(r: random.Random) -> _Prog:
    if r.random() < 0.5:
        Tr, get, total = r.choice(["Polygon", "RegularShape"]), r.choice(["side", "side_len", "edge"]), r.choice(["perimeter", "outline"])
        shapes = r.sample([("Triangle", 3), ("Square", 4), ("Pentagon", 5), ("Hexagon", 6), ("Octagon", 8)], 2)
        named = r.random() < 0.5
        members = ["const SIDES: u32;", *(["const NAME: &'static str;"] if named else []), f"fn {get}(&self) -> u32;",
                   _method(f"fn {total}(&self) -> u32", f"Self::SIDES * self.{get}()")]
        if named:
            members.append(_method("fn describe(&self) -> String", f'format!("{{}} with side {{}}", Self::NAME, self.{get}())'))
        trait = _doc(r, ["A regular polygon: the number of sides is a constant of the type, not of each value.",
                         f"Shapes whose `{total}` follows from a per-type constant and one length."])
        items, impls = [trait + _block(f"trait {Tr}", members)], []
        for S, n in shapes:
            items.append(f"struct {S}(u32);\n")
            consts = [f"const SIDES: u32 = {n};"] + ([f'const NAME: &\'static str = "{S.lower()}";'] if named else [])
            impls.append(_block(f"impl {Tr} for {S}", [*consts, _method(f"fn {get}(&self) -> u32", "self.0")]))
        fn = r.choice(["total_outline", "sum_perimeters", "fence_length"])
        gen = _fn(r.choice([f"fn {fn}<P: {Tr}>(shapes: &[P]) -> u32", f"fn {fn}(shapes: &[impl {Tr}]) -> u32"]),
                  f"shapes.iter().map(|s| s.{total}()).sum()", {},
                  _doc(r, ["The combined perimeter of several shapes of one kind.", "Adds up the perimeters."]))
        (S1, n1), (S2, n2) = shapes
        a, b = r.randrange(1, 30), r.randrange(1, 30)
        xs = [r.randrange(1, 20) for _ in range(r.randrange(1, 4))]
        checks = [_check(f"{S1}({a}).{total}()", n1 * a), _check(f"{S2}({b}).{total}()", n2 * b),
                  _check(f"{S1}::SIDES + {S2}::SIDES", n1 + n2),
                  _check(f"{fn}(&[{', '.join(f'{S2}({x})' for x in xs)}])", n2 * sum(xs))]
        if named:
            checks.append(_check(f"{S1}({a}).describe()", f"{S1.lower()} with side {a}"))
        return _Prog([*items, *impls, gen], checks, params=f"polygon named={named}")
    Tr = r.choice(["Coin", "Denomination"])
    get = r.choice(["coins", "pieces", "how_many"])
    coins = r.sample([("Pennies", 1), ("Nickels", 5), ("Dimes", 10), ("Quarters", 25)], 2)
    trait = _doc(r, ["A pile of coins of one kind; each kind knows its value in cents.",
                     "Coins whose worth is an associated constant of the type."])
    trait += _block(f"trait {Tr}", ["const CENTS: u32;", f"fn {get}(&self) -> u32;",
                                    _method("fn value(&self) -> u32", f"Self::CENTS * self.{get}()")])
    items, impls = [trait], []
    for S, c in coins:
        items.append(f"struct {S}(u32);\n")
        impls.append(_block(f"impl {Tr} for {S}", [f"const CENTS: u32 = {c};", _method(f"fn {get}(&self) -> u32", "self.0")]))
    fn = r.choice(["total_cents", "purse_value", "cents_in"])
    f = _fn(f"fn {fn}(a: &impl {Tr}, b: &impl {Tr}) -> u32", "a.value() + b.value()", {},
            _doc(r, ["The value of two piles of coins together, in cents.", "Adds the worth of two piles."]))
    (S1, c1), (S2, c2) = coins
    x, y = r.randrange(0, 40), r.randrange(0, 40)
    checks = [_check(f"{S1}({x}).value()", c1 * x), _check(f"{S2}::CENTS", c2),
              _check(f"{fn}(&{S1}({x}), &{S2}({y}))", c1 * x + c2 * y), _check(f"{fn}(&{S2}(0), &{S2}({y}))", c2 * y)]
    return _Prog([*items, *impls, f], checks, params="coins")


@_family("impl_methods")
def _impl_methods(r: random.Random) -> _Prog:
    theme = r.choice(["playlist", "progress", "readings"])
    v = r.choice(["p", "x", "it"])
    if theme == "playlist":
        S = r.choice(["Playlist", "Album", "Queue"])
        add = r.choice(["add", "push_song", "append"])
        struct = f"struct {S} {{\n    songs: Vec<(String, u32)>,\n}}\n"
        methods = [_method("fn new() -> Self", f"{S} {{ songs: Vec::new() }}"),
                   _method(f"fn {add}(&mut self, title: &str, seconds: u32)", "self.songs.push((title.to_string(), seconds));"),
                   _method("fn len(&self) -> usize", "self.songs.len()"),
                   _method("fn total_seconds(&self) -> u32", "self.songs.iter().map(|(_, s)| s).sum()"),
                   _method("fn longest_song(&self) -> Option<&str>",
                           "self.songs\n    .iter()\n    .max_by_key(|(_, s)| *s)\n    .map(|(t, _)| t.as_str())"),
                   _method("fn duration(&self) -> String",
                           'let t = self.total_seconds();\nformat!("{}:{:02}", t / 60, t % 60)')]
        keep = [0, 1, 3] + r.sample([2, 4, 5], 2)
        methods = [m for i, m in enumerate(methods) if i in sorted(keep)]
        songs = list(zip(r.sample(_WORDS, r.randrange(2, 5)), r.sample(range(90, 400), 4)))
        tot = sum(s for _, s in songs)
        checks = [f"let mut {v} = {S}::new();", *(f"{v}.{add}({_lit(t)}, {s});" for t, s in songs),
                  _check(f"{v}.total_seconds()", tot)]
        if 2 in keep:
            checks.append(_check(f"{v}.len()", len(songs)))
        if 4 in keep:
            top = max(s for _, s in songs)
            checks += [_check(f"{v}.longest_song()", _some(next(t for t, s in songs if s == top))),
                       _check(f"{S}::new().longest_song()", None)]
        if 5 in keep:
            checks.append(_check(f"{v}.duration()", f"{tot // 60}:{tot % 60:02d}"))
        doc = _doc(r, ["Songs with their lengths in seconds.", "An ordered list of `(title, seconds)` songs."])
        return _Prog([doc + struct, _block(f"impl {S}", methods)], checks, params=f"{theme} {keep}")
    if theme == "progress":
        S = r.choice(["Progress", "Task", "Download"])
        adv = r.choice(["advance", "step", "complete"])
        struct = f"struct {S} {{\n    done: u32,\n    total: u32,\n}}\n"
        methods = [_method("fn new(total: u32) -> Self", f"{S} {{ done: 0, total }}"),
                   _method(f"fn {adv}(&mut self, n: u32)", r.choice(["self.done = (self.done + n).min(self.total);",
                                                                  "self.done = self.total.min(self.done + n);"]),
                           "/// Records `n` more units of work, never going past the total.\n"),
                   _method("fn percent(&self) -> u32", "if self.total == 0 {\n    100\n} else {\n    self.done * 100 / self.total\n}"),
                   _method("fn remaining(&self) -> u32", "self.total - self.done"),
                   _method("fn is_done(&self) -> bool", "self.done == self.total")]
        keep = [0, 1] + sorted(r.sample([2, 3, 4], r.randrange(2, 4)))
        methods = [methods[i] for i in keep]
        total = r.randrange(1, 200)
        steps = [r.randrange(0, total // 2 + 2) for _ in range(r.randrange(1, 4))]
        checks, done = [f"let mut {v} = {S}::new({total});"], 0
        for s in steps:
            done = min(done + s, total)
            checks.append(f"{v}.{adv}({s});")
            if 2 in keep:
                checks.append(_check(f"{v}.percent()", done * 100 // total))
        if 3 in keep:
            checks.append(_check(f"{v}.remaining()", total - done))
        if 4 in keep:
            checks.append(_check(f"{v}.is_done()", done == total))
        checks.append(f"{v}.{adv}({total});")
        checks.append(_check(f"{v}.{'percent()' if 2 in keep else 'remaining()' if 3 in keep else 'is_done()'}",
                             100 if 2 in keep else 0 if 3 in keep else True))
        doc = _doc(r, ["Tracks how much of a job is finished.", "Work done out of a fixed total."])
        return _Prog([doc + struct, _block(f"impl {S}", methods)], checks, params=f"{theme} {keep}")
    S = r.choice(["Readings", "Thermometer", "Samples"])
    rec = r.choice(["record", "push", "log"])
    struct = f"struct {S} {{\n    values: Vec<i32>,\n}}\n"
    methods = [_method("fn new() -> Self", f"{S} {{ values: Vec::new() }}"),
               _method(f"fn {rec}(&mut self, value: i32)", "self.values.push(value);"),
               _method("fn len(&self) -> usize", "self.values.len()"),
               _method("fn highest(&self) -> Option<i32>", "self.values.iter().copied().max()"),
               _method("fn spread(&self) -> Option<i32>",
                       "let lo = self.values.iter().min()?;\nlet hi = self.values.iter().max()?;\nSome(hi - lo)"),
               _method("fn above(&self, limit: i32) -> usize", "self.values.iter().filter(|&&x| x > limit).count()")]
    keep = [0, 1] + sorted(r.sample([2, 3, 4, 5], 3))
    methods = [methods[i] for i in keep]
    xs = [r.randrange(-20, 40) for _ in range(r.randrange(1, 6))]
    checks = [f"let mut {v} = {S}::new();"]
    if 4 in keep:
        checks.append(_check(f"{v}.spread()", None))
    checks += [f"{v}.{rec}({x});" for x in xs]
    if 2 in keep:
        checks.append(_check(f"{v}.len()", len(xs)))
    if 3 in keep:
        checks.append(_check(f"{v}.highest()", _some(max(xs))))
    if 4 in keep:
        checks.append(_check(f"{v}.spread()", _some(max(xs) - min(xs))))
    if 5 in keep:
        t = r.randrange(-10, 30)
        checks.append(_check(f"{v}.above({t})", sum(x > t for x in xs)))
    doc = _doc(r, ["A series of integer measurements.", "Collects readings and answers simple questions about them."])
    return _Prog([doc + struct, _block(f"impl {S}", methods)], checks, params=f"{theme} {keep}")


# ---- Option, Result, char and fmt::Write ----

@_family("option_combinators")
def _option_combinators(r: random.Random) -> _Prog:
    task = r.choice(["zip", "filter", "map_or", "ok_or", "and_then"])
    checks = []
    if task == "zip":
        kw = {"fn": r.choice(["full_name", "join_names", "display_name"])}
        sig = "fn $fn(first: Option<&str>, last: Option<&str>) -> Option<String>"
        body = r.choice(['first.zip(last).map(|(f, l)| format!("{f} {l}"))',
                         'match (first, last) {\n    (Some(f), Some(l)) => Some(format!("{} {}", f, l)),\n    _ => None,\n}'])
        doc = _doc(r, ["Joins a first and a last name with a space, but only when both are known.",
                       "Returns `\"first last\"`, or `None` if either part is missing.",
                       "Combines two optional name parts; `Option::zip` pairs them up."])
        a, b = r.sample(["Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Edsger"], 2)
        c, d = r.sample(["Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson"], 2)
        checks = [_check(f"{kw['fn']}(Some({_lit(a)}), Some({_lit(c)}))", _Raw(f"Some({_lit(f'{a} {c}')}.to_string())")),
                  _check(f"{kw['fn']}(Some({_lit(b)}), None)", None), _check(f"{kw['fn']}(None, Some({_lit(d)}))", None)]
    elif task == "filter":
        kw = {"fn": r.choice(["parse_port", "port_number", "read_port"]), "s": r.choice(_TEXT)}
        sig = "fn $fn($s: &str) -> Option<u16>"
        body = r.choice(["$s.trim().parse::<u16>().ok().filter(|&p| p != 0)",
                         "let port: u16 = $s.trim().parse().ok()?;\nif port == 0 {\n    None\n} else {\n    Some(port)\n}"])
        doc = _doc(r, ["Parses a TCP port number: an integer from 1 to 65535.",
                       "Reads `$s` as a port; 0, negative, too large or non-numeric input gives `None`.",
                       "A valid port from `$s`, or `None`."], kw)
        for s in r.sample([str(r.randrange(1, 65536)), f" {r.randrange(1, 9000)}", "0", "70000", "-80", "http", ""], 4):
            ok = s.strip().isdigit() and 0 < int(s) < 65536
            checks.append(_check(f"{kw['fn']}({_lit(s)})", _some(int(s) if ok else None)))
    elif task == "map_or":
        kw = {"fn": r.choice(["age_label", "describe_age", "age_text"])}
        sig = "fn $fn(age: Option<u32>) -> String"
        body = r.choice(['age.map_or(String::from("unknown"), |a| format!("{a} years"))',
                         'age.map_or_else(|| "unknown".to_string(), |a| format!("{} years", a))',
                         'match age {\n    Some(a) => format!("{a} years"),\n    None => "unknown".to_string(),\n}'])
        doc = _doc(r, ["Describes an optional age as `\"N years\"`, or `\"unknown\"`.",
                       "Text for an age that may be missing.", "Formats `age`, with a default when it is `None`."])
        a = r.randrange(0, 100)
        checks = [_check(f"{kw['fn']}(Some({a}))", f"{a} years"), _check(f"{kw['fn']}(None)", "unknown")]
        if r.random() < 0.5:
            kw2 = r.choice(["name_len", "length_or_zero"])
            checks.append(_check(f"[Some({a}), None].iter().filter(|x| x.is_some()).count()", 1))
            extra = _fn(f"fn {kw2}(name: Option<&str>) -> usize", r.choice(["name.map_or(0, str::len)", "name.map_or(0, |n| n.len())"]),
                        {}, "/// The length of `name`, or 0 when there is none.\n")
            w = r.choice(_WORDS)
            checks += [_check(f"{kw2}(Some({_lit(w)}))", len(w)), _check(f"{kw2}(None)", 0)]
            return _Prog([_fn(sig, body, kw, doc), extra], checks, params=task + "+len")
    elif task == "ok_or":
        kw = {"fn": r.choice(["age_of", "lookup_age", "find_age"]), "ps": r.choice(["people", "ages", "roster"])}
        sig = "fn $fn($ps: &[(&str, u32)], name: &str) -> Result<u32, String>"
        body = r.choice([('$ps.iter()\n    .find(|(n, _)| *n == name)\n    .map(|&(_, age)| age)\n'
                         '    .ok_or_else(|| format!("no such person: {name}"))'),
                         ('let Some(&(_, age)) = $ps.iter().find(|(n, _)| *n == name) else {\n'
                         '    return Err(format!("no such person: {}", name));\n};\nOk(age)')])
        doc = _doc(r, ["Looks up `name` in `$ps` and returns the age, or an error naming the missing person.",
                       "The age of `name`; `Option` becomes `Result` with `ok_or_else`.",
                       "Finds a person's age or says who could not be found."], kw)
        names = r.sample(["ann", "bob", "cara", "dan", "eve", "finn", "gus"], 4)
        ps = [(n, r.randrange(1, 90)) for n in names[:3]]
        n, a = r.choice(ps)
        checks = [_let_vec(kw["ps"], [_lit(p) for p in ps], opener="["), f"assert_eq!({kw['fn']}(&{kw['ps']}, {_lit(n)}), Ok({a}));",
                  f"assert_eq!({kw['fn']}(&{kw['ps']}, {_lit(names[3])}), Err({_lit('no such person: ' + names[3])}.to_string()));"]
    else:
        kw = {"fn": r.choice(["leading_digit", "first_digit", "initial_digit"]), "s": r.choice(_TEXT)}
        sig = "fn $fn($s: &str) -> Option<u32>"
        body = r.choice(["$s.chars().next().and_then(|c| c.to_digit(10))",
                         "let c = $s.chars().next()?;\nc.to_digit(10)"])
        doc = _doc(r, ["The value of the first character of `$s` if it is a decimal digit.",
                       "Returns the leading digit of `$s`.\n\n`None` if `$s` is empty or starts with a non-digit.",
                       "Chains two fallible steps with `and_then`: first char, then its digit value."], kw)
        for s in [str(r.randrange(0, 999)), r.choice(_WORDS), "", f"{r.randrange(10)}{r.choice(_WORDS)}"]:
            checks.append(_check(f"{kw['fn']}({_lit(s)})", _some(int(s[0]) if s and s[0].isdigit() else None)))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("error_enum_range")
def _error_enum_range(r: random.Random) -> _Prog:
    E = r.choice(["RangeError", "SpanError", "ParseRangeError"])
    sep_v, bad_v, rev_v = r.choice([("MissingDash", "BadNumber", "Reversed"), ("NoSeparator", "NotANumber", "Backwards"),
                                    ("Malformed", "InvalidBound", "Inverted")])
    parse = r.choice(["parse_range", "parse_span", "read_range"])
    total = r.choice(["total_span", "covered_count", "sum_lengths"])
    num = r.choice(["bound", "number", "parse_bound"])
    enum = (f"#[derive(Debug, PartialEq)]\nenum {E} {{\n    {sep_v},\n    {bad_v}(String),\n    {rev_v}(u32, u32),\n}}\n")
    helper = _fn(f"fn {num}(part: &str) -> Result<u32, {E}>",
                 f"part.trim()\n    .parse()\n    .map_err(|_| {E}::{bad_v}(part.trim().to_string()))", {},
                 "/// One end of a range; the error keeps the offending text.\n")
    body = r.choice([(f"let (a, b) = s.split_once('-').ok_or({E}::{sep_v})?;\nlet lo = {num}(a)?;\nlet hi = {num}(b)?;\n"
                     f"if lo > hi {{\n    return Err({E}::{rev_v}(lo, hi));\n}}\nOk((lo, hi))"),
                     (f"let Some((a, b)) = s.split_once('-') else {{\n    return Err({E}::{sep_v});\n}};\n"
                     f"let (lo, hi) = ({num}(a)?, {num}(b)?);\nif lo <= hi {{\n    Ok((lo, hi))\n}} else {{\n"
                     f"    Err({E}::{rev_v}(lo, hi))\n}}")])
    doc = _doc(r, ["Parses an inclusive range written `lo-hi`, saying exactly what is wrong when it fails.",
                   "Reads `\"lo-hi\"` into `(lo, hi)`; errors for a missing dash, a bad number or `lo > hi`.",
                   "Turns text like `3-7` into a pair of bounds."])
    f = _fn(f"fn {parse}(s: &str) -> Result<(u32, u32), {E}>", body, {}, doc)
    tbody = r.choice([f"let mut n = 0;\nfor line in lines {{\n    let (lo, hi) = {parse}(line)?;\n    n += hi - lo + 1;\n}}\nOk(n)",
                      f"lines.iter().try_fold(0, |n, line| {{\n    let (lo, hi) = {parse}(line)?;\n    Ok(n + hi - lo + 1)\n}})"])
    tf = _fn(f"fn {total}(lines: &[&str]) -> Result<u32, {E}>", tbody, {},
             _doc(r, ["How many numbers the ranges cover together (overlaps count twice).\n\nStops at the first bad line.",
                      "Adds up the sizes of all ranges, or returns the first error."]))

    def rng_text(lo, hi):
        return r.choice([f"{lo}-{hi}", f"{lo} - {hi}", f" {lo}-{hi}"])
    good = []
    for _ in range(3):
        lo = r.randrange(0, 50)
        good.append((lo, lo + r.randrange(0, 20)))
    texts = [rng_text(lo, hi) for lo, hi in good]
    w = r.choice(_WORDS)
    hi, lo = sorted(r.sample(range(1, 60), 2), reverse=True)
    checks = [f"assert_eq!({parse}({_lit(texts[0])}), Ok({_lit(good[0])}));",
              f"assert_eq!({parse}({_lit(str(r.randrange(100)))}), Err({E}::{sep_v}));",
              f"assert_eq!({parse}({_lit(f'{lo}-{w}')}), Err({E}::{bad_v}({_lit(w)}.to_string())));",
              f"assert_eq!({parse}({_lit(f'{hi}-{lo}')}), Err({E}::{rev_v}({hi}, {lo})));",
              f"assert_eq!({total}({_slice(texts)}), Ok({sum(h - l + 1 for l, h in good)}));",
              f"assert_eq!({total}(&[{_lit(texts[1])}, \"x-1\"]), Err({E}::{bad_v}(\"x\".to_string())));"]
    return _Prog([enum, helper, f, tf], checks, params=f"{E}")


@_family("char_digits")
def _char_digits(r: random.Random) -> _Prog:
    task = r.choice(["check_digit", "shift", "hex_value"])
    kw = {"s": r.choice(_TEXT)}
    checks = []
    if task == "check_digit":
        kw["fn"] = r.choice(["check_digit", "checksum_char", "control_digit"])
        sig = "fn $fn($s: &str) -> Option<char>"
        body = r.choice([("let mut sum = 0;\nfor c in $s.chars() {\n    if c == '-' {\n        continue;\n    }\n"
                         "    sum += c.to_digit(10)?;\n}\nchar::from_digit(sum % 10, 10)"),
                         ("let sum = $s\n    .chars()\n    .filter(|&c| c != '-')\n    .map(|c| c.to_digit(10))\n"
                         "    .sum::<Option<u32>>()?;\nchar::from_digit(sum % 10, 10)")])
        doc = _doc(r, [("Computes a check digit: the last digit of the sum of the digits of `$s`.\n\n"
                       "Dashes are ignored; any other non-digit gives `None`."),
                       "The digit sum of a dashed code like `12-345`, modulo 10, as a `char`.",
                       "Returns the checksum character of `$s` (digits and dashes only)."], kw)
        for _ in range(3):
            code = "-".join(str(r.randrange(0, 10 ** r.randrange(1, 4))) for _ in range(r.randrange(1, 4)))
            checks.append(_check(f"{kw['fn']}({_lit(code)})", _some(_ch(str(sum(int(c) for c in code if c != '-') % 10)))))
        checks.append(_check(f"{kw['fn']}({_lit(str(r.randrange(10, 99)) + r.choice('ax/ '))})", None))
    elif task == "shift":
        kw["fn"] = r.choice(["shift_digits", "rotate_digits", "bump_digits"])
        kw["k"] = r.choice(["k", "by", "shift"])
        sig = "fn $fn($s: &str, $k: u32) -> String"
        body = r.choice([("$s.chars()\n    .map(|c| match c.to_digit(10) {\n"
                         "        Some(d) => char::from_digit((d + $k) % 10, 10).unwrap(),\n        None => c,\n    })\n    .collect()"),
                         ("let mut out = String::with_capacity($s.len());\nfor c in $s.chars() {\n"
                         "    if let Some(d) = c.to_digit(10) {\n        out.push(char::from_digit((d + $k) % 10, 10).unwrap());\n"
                         "    } else {\n        out.push(c);\n    }\n}\nout")])
        doc = _doc(r, ["Adds `$k` to every decimal digit of `$s`, wrapping from 9 to 0; other characters stay.",
                       "Rotates each digit of `$s` forward by `$k` places on a 0-9 dial.",
                       "A digit-only Caesar shift of `$s` by `$k`."], kw)
        for _ in range(3):
            s = "".join(r.choice("0123456789" * 2 + "-:ab ") for _ in range(r.randrange(0, 10)))
            k = r.randrange(0, 15)
            checks.append(_check(f"{kw['fn']}({_lit(s)}, {k})", "".join(str((int(c) + k) % 10) if c.isdigit() else c for c in s)))
    else:
        kw["fn"] = r.choice(["hex_value", "parse_hex", "from_hex"])
        sig = "fn $fn($s: &str) -> Option<u32>"
        body = r.choice(["$s.chars().try_fold(0u32, |acc, c| Some(acc * 16 + c.to_digit(16)?))",
                         "let mut value = 0;\nfor c in $s.chars() {\n    value = value * 16 + c.to_digit(16)?;\n}\nSome(value)"])
        doc = _doc(r, ["Reads `$s` as a hexadecimal number (at most 7 digits, either case); `None` on a bad digit.",
                       "The value of the hex digits in `$s`; the empty string is 0.",
                       "Parses hexadecimal digit by digit with `char::to_digit(16)`."], kw)
        for _ in range(3):
            s = "".join(r.choice("0123456789abcdefABCDEF") for _ in range(r.randrange(1, 7)))
            checks.append(_check(f"{kw['fn']}({_lit(s)})", _some(int(s, 16))))
        checks.append(_check(f"{kw['fn']}({_lit(r.choice(['xyz', '12g', '0x1f', 'ff ']))})", None))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("fmt_write")
def _fmt_write(r: random.Random) -> _Prog:
    task = r.choice(["table", "pairs", "numbered"])
    helper = r.random() < 0.5
    uses = ["std::fmt::Write"] if not helper else ["std::fmt", "std::fmt::Write"]
    if task == "table":
        fn, n, m = r.choice(["times_table", "multiplication_table", "table_of"]), r.choice(["n", "k", "base"]), r.choice(["upto", "rows", "count"])
        params = f"{n}: u32, {m}: u32"
        loop = f"for i in 1..={m} {{\n    writeln!(out, \"{{}} x {{}} = {{}}\", {n}, i, {n} * i)Q;\n}}"
        doc = [f"Builds the multiplication table of `{n}` from 1 to `{m}`, one `a x b = c` line each.",
               f"The lines `{n} x 1 = ..` through `{n} x {m} = ..`, each ending in a newline."]
        py = lambda a, b: "".join(f"{a} x {i} = {a * i}\n" for i in range(1, b + 1))
        cases = [(r.randrange(1, 13), r.randrange(0, 6)) for _ in range(2)]
    elif task == "pairs":
        fn, xs = r.choice(["render_pairs", "encode_settings", "to_query"]), r.choice(["pairs", "settings", "entries"])
        sep = r.choice(["&", ";", ","])
        params = f"{xs}: &[(&str, i32)]"
        loop = (f"for (i, (k, v)) in {xs}.iter().enumerate() {{\n    if i > 0 {{\n        out.push('{sep}');\n    }}\n"
                "    write!(out, \"{}={}\", k, v)Q;\n}")
        doc = [f"Writes `key=value` pairs separated by `{sep}`, like a query string.",
               f"Encodes `{xs}` as `k=v{sep}k=v...` in one `String`, without temporary strings."]
        py = lambda ps: sep.join(f"{k}={v}" for k, v in ps)
        cases = [[(w, r.randrange(-9, 99)) for w in r.sample(_WORDS, r.randrange(1, 4))], []]
    else:
        fn, xs = r.choice(["numbered", "numbered_list", "enumerate_lines"]), r.choice(["items", "lines", "tasks"])
        params = f"{xs}: &[&str]"
        loop = f"for (i, item) in {xs}.iter().enumerate() {{\n    writeln!(out, \"{{}}. {{}}\", i + 1, item)Q;\n}}"
        doc = [f"Formats `{xs}` as a numbered list, one `N. item` line each, counting from 1.",
               "Builds a numbered list in a `String` with `writeln!`."]
        py = lambda ws: "".join(f"{i + 1}. {w}\n" for i, w in enumerate(ws))
        cases = [r.sample(_WORDS, r.randrange(1, 4)), []]
    if helper:
        inner = r.choice(["write_into", "render_into", "fill"])
        h = _fn(f"fn {inner}(out: &mut String, {params}) -> fmt::Result", loop.replace("Q", "?") + "\nOk(())", {},
                "/// Appends to `out`; writing into a `String` cannot fail, but `?` keeps the helper general.\n")
        names = [p.split(":")[0] for p in params.split(", ") if ":" in p]
        f = _fn(f"fn {fn}({params}) -> String", f"let mut out = String::new();\n{inner}(&mut out, {', '.join(names)})"
                ".unwrap();\nout", {}, _doc(r, doc))
        items = [h, f]
    else:
        f = _fn(f"fn {fn}({params}) -> String", "let mut out = String::new();\n" + loop.replace("Q", ".unwrap()") + "\nout",
                {}, _doc(r, doc))
        items = [f]
    if task == "table":
        checks = [_check(f"{fn}({a}, {b})", py(a, b)) for a, b in cases]
    elif task == "pairs":
        checks = [_check(f"{fn}(&[{', '.join(_lit(p) for p in c)}])", py(c)) for c in cases]
    else:
        checks = [_check(f"{fn}({_slice(c)})", py(c)) for c in cases]
    return _Prog(items, checks, uses=uses, params=f"{task} helper={helper}")
