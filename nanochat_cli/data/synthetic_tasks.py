"""Synthetic programs for everyday practice-problem tasks: adjacent pairs and order checks on a slice, index
edits, counting and membership, two-list merges, small string tasks (word order, repeated and unique
characters, pangrams, character runs), digit and multiple arithmetic, tuple tallies and per-row matrix work.

Each family is a group of related micro-tasks drawn at random, so one family yields many different tasks;
names, element types, parameter forms, doc phrasing and implementation style vary too, and the expected
values of the asserts are computed here. Importing this module registers its families in `synthetic_rust`.
"""

from __future__ import annotations

import math
import random
import textwrap
from collections import Counter
from itertools import pairwise

from nanochat_cli.data.synthetic_rust import (
    _SEQ,
    _WORDS,
    _ch,
    _check,
    _doc,
    _family,
    _fn,
    _ints,
    _lit,
    _owned,
    _Prog,
    _Raw,
    _signed,
    _slice,
    _some,
    _vec,
)
from nanochat_cli.data.synthetic_text import _TEXTS
from nanochat_cli.data.synthetic_types import _let_vec


def _seq_arg(r: random.Random, T: str):
    """A sequence parameter type and how to write an argument for it: a slice, an owned Vec or a &Vec."""
    return r.choice([(f"&[{T}]", _slice), (f"&[{T}]", _slice), (f"Vec<{T}>", _lit),
                     (f"&Vec<{T}>", lambda xs: "&" + _lit(xs))])


def _str_arg(r: random.Random):
    """A text parameter: a borrowed `&str` (most often) or an owned `String`."""
    return ("&str", _lit) if r.random() < 0.7 else ("String", lambda s: _owned(s, r))


def _sentence(r: random.Random, k: int) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(k))


# ---- element-wise work on one slice ----

@_family("adjacent_pairs")
def _adjacent_pairs(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "u64"])
    op = r.choice(["sum", "product", "max", "min"])
    P, arg = _seq_arg(r, T)
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ)}
    kw["fn"] = r.choice({"sum": ["pair_sums", "adjacent_sums", "neighbour_sums"],
                         "product": ["pair_products", "adjacent_products", "neighbour_products"],
                         "max": ["pairwise_max", "adjacent_maxima", "larger_of_neighbours"],
                         "min": ["pairwise_min", "adjacent_minima", "smaller_of_neighbours"]}[op])
    style = r.choice(["windows", "zip", "loop"])
    expr = {"sum": ("w[0] + w[1]", "a + b", "$xs[i - 1] + $xs[i]"),
            "product": ("w[0] * w[1]", "a * b", "$xs[i - 1] * $xs[i]"),
            "max": ("w[0].max(w[1])", "*a.max(b)", "$xs[i - 1].max($xs[i])"),
            "min": ("w[0].min(w[1])", "*a.min(b)", "$xs[i - 1].min($xs[i])")}[op]
    body = {"windows": f"$xs.windows(2).map(|w| {expr[0]}).collect()",
            "zip": f"$xs.iter().zip($xs.iter().skip(1)).map(|(a, b)| {expr[1]}).collect()",
            "loop": f"""
                let mut out = Vec::new();
                for i in 1..$xs.len() {{
                    out.push({expr[2]});
                }}
                out"""}[style]
    py = {"sum": lambda a, b: a + b, "product": lambda a, b: a * b, "max": max, "min": min}[op]
    what = {"sum": "sum", "product": "product", "max": "larger", "min": "smaller"}[op]
    doc = _doc(r, [f"Returns the {what} of each pair of neighbouring elements in `$xs`.",
                   (f"For every adjacent pair `($xs[i], $xs[i + 1])`, collects their {what}.\n\n"
                    "The result is one element shorter than the input (empty for fewer than two elements)."),
                   f"Builds a vector of the {what} of each element and the one after it."], kw)
    checks = []
    for k in [r.randrange(3, 7), r.randrange(2, 5), r.randrange(0, 2)]:
        xs = _ints(r, T, k)
        checks.append(_check(f"{kw['fn']}({arg(xs)})", _vec([py(a, b) for a, b in pairwise(xs)], T)))
    return _Prog([_fn("fn $fn($xs: $P) -> Vec<$T>", body, kw, doc)], checks, params=f"{op} {style} {P}")


@_family("order_shape")
def _order_shape(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    task = r.choice(["increasing", "decreasing", "zigzag", "parity"])
    P, arg = _seq_arg(r, T)
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ)}
    kw["fn"] = r.choice({"increasing": ["is_strictly_increasing", "strictly_ascending", "rises_every_step"],
                         "decreasing": ["is_strictly_decreasing", "strictly_descending", "falls_every_step"],
                         "zigzag": ["is_zigzag", "alternates_up_down", "is_wave"],
                         "parity": ["parity_alternates", "alternating_parity", "odd_even_alternate"]}[task])
    cond3 = task == "zigzag"
    good = {"increasing": "w[0] < w[1]", "decreasing": "w[0] > w[1]",
            "zigzag": "(w[0] < w[1] && w[1] > w[2]) || (w[0] > w[1] && w[1] < w[2])",
            "parity": "(w[0] + w[1]) % 2 != 0"}[task]
    style = r.choice(["windows", "loop"])
    if style == "windows":
        body = f"$xs.windows({3 if cond3 else 2}).all(|w| {good})"
    else:
        bad = {"increasing": "$xs[i - 1] >= $xs[i]", "decreasing": "$xs[i - 1] <= $xs[i]",
               "parity": "($xs[i - 1] + $xs[i]) % 2 == 0", "zigzag": "!peak && !valley"}[task]
        # naming the three neighbours keeps the zigzag test inside 100 columns
        idx = "" if not cond3 else ("let (a, b, c) = ($xs[i - 2], $xs[i - 1], $xs[i]);\n"
                                    "let peak = a < b && b > c;\nlet valley = a > b && b < c;\n")
        inner = idx + f"if {bad} {{\n    return false;\n}}\n"
        body = f"for i in {2 if cond3 else 1}..$xs.len() {{\n" + textwrap.indent(inner, "    ") + "}\ntrue"
    py = {"increasing": lambda xs: all(a < b for a, b in pairwise(xs)),
          "decreasing": lambda xs: all(a > b for a, b in pairwise(xs)),
          "zigzag": lambda xs: all((a < b > c) or (a > b < c) for a, b, c in zip(xs, xs[1:], xs[2:])),
          "parity": lambda xs: all((a + b) % 2 for a, b in pairwise(xs))}[task]
    what = {"increasing": "each element is strictly greater than the one before it",
            "decreasing": "each element is strictly smaller than the one before it",
            "zigzag": "the values alternately rise and fall",
            "parity": "odd and even values alternate"}[task]
    doc = _doc(r, [f"Returns `true` if in `$xs` {what}.", f"Checks whether {what}.",
                   (f"Tells whether, in `$xs`, {what}.\n\n"
                    "Sequences too short to break the rule count as `true`.")], kw)
    checks = []
    for i in range(5):
        xs = _ints(r, T, r.randrange(3, 7), 0, 30)
        if i % 2 == 0 and task in ("increasing", "decreasing"):
            xs = sorted(set(xs), reverse=task == "decreasing")
        elif i % 2 == 0 and task == "zigzag":
            xs = [x + (10 if j % 2 else 0) for j, x in enumerate(_ints(r, T, len(xs), 0, 9))]
        elif i % 2 == 0:
            xs = [x * 2 + j % 2 for j, x in enumerate(xs)]
        checks.append(_check(f"{kw['fn']}({arg(xs)})", py(xs)))
    checks.append(_check(f"{kw['fn']}({arg([r.randrange(0, 9)])})", True))
    return _Prog([_fn("fn $fn($xs: $P) -> bool", body, kw, doc)], checks, params=f"{task} {style} {P}")


@_family("running_extreme")
def _running_extreme(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "u64", "usize"])
    most = r.random() < 0.6
    P, arg = _seq_arg(r, T)
    m = "max" if most else "min"
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ), "m": m}
    kw["fn"] = r.choice([f"running_{m}", f"prefix_{m}", f"{m}_so_far",
                         "running_best" if most else "running_lowest"])
    style = r.choice(["index", "scan", "match"])
    body = {"index": """
        let mut out = $xs.to_vec();
        for i in 1..out.len() {
            out[i] = out[i].$m(out[i - 1]);
        }
        out""", "scan": """
        let Some(&first) = $xs.first() else {
            return Vec::new();
        };
        $xs.iter()
            .scan(first, |best, &x| {
                *best = (*best).$m(x);
                Some(*best)
            })
            .collect()""", "match": f"""
        let mut out: Vec<$T> = Vec::with_capacity($xs.len());
        for &x in $xs.iter() {{
            let next = match out.last() {{
                Some(&b) if b {'>=' if most else '<='} x => b,
                _ => x,
            }};
            out.push(next);
        }}
        out"""}[style]
    word = "largest" if most else "smallest"
    doc = _doc(r, [f"Returns, for each position of `$xs`, the {word} value seen up to and including it.",
                   f"Computes the running {'maximum' if most else 'minimum'} of `$xs`.",
                   f"Replaces every element with the {word} element at or before its position."], kw)
    checks = []
    for k in [r.randrange(4, 8), r.randrange(2, 5), 0]:
        xs = _ints(r, T, k, -30, 30)
        out, best = [], None
        for x in xs:
            best = x if best is None else (max if most else min)(best, x)
            out.append(best)
        checks.append(_check(f"{kw['fn']}({arg(xs)})", _vec(out, T)))
    return _Prog([_fn("fn $fn($xs: $P) -> Vec<$T>", body, kw, doc)], checks, params=f"{m} {style} {P}")


# ---- index tricks ----

@_family("index_edit")
def _index_edit(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u32", "i64", "char"])
    task = r.choice(["swap_ends", "remove_at", "last_n", "ends"])
    kw = {"T": T, "xs": r.choice(_SEQ), "i": r.choice(["index", "i", "at", "pos"]), "n": r.choice(["n", "k", "count"])}
    style = r.choice(["a", "b", "c"])
    gen = (lambda k: [_ch(c) for c in r.sample("abcdefghijkmnpqrstuvwxyz", k)]) if T == "char" else \
        (lambda k: _ints(r, T, k, -50, 50))
    checks = []
    if task == "swap_ends":
        kw["fn"] = r.choice(["swap_ends", "swap_first_last", "exchange_ends"])
        if style == "a":
            sig, body = "fn $fn(mut $xs: Vec<$T>) -> Vec<$T>", """
                if !$xs.is_empty() {
                    let last = $xs.len() - 1;
                    $xs.swap(0, last);
                }
                $xs"""
            arg = _lit
        else:
            sig, body = "fn $fn($xs: &[$T]) -> Vec<$T>", """
                let mut out = $xs.to_vec();
                if let (Some(&first), Some(&last)) = ($xs.first(), $xs.last()) {
                    let end = out.len() - 1;
                    out[0] = last;
                    out[end] = first;
                }
                out"""
            arg = _slice
        for k in [r.randrange(3, 7), 1, 0]:
            xs = gen(k)
            exp = xs[-1:] + xs[1:-1] + xs[:1] if len(xs) > 1 else xs
            checks.append(_check(f"{kw['fn']}({arg(xs)})", _vec(exp, T)))
        phr = ["Returns `$xs` with its first and last elements swapped.",
               "Swaps the first element with the last one; shorter inputs come back unchanged.",
               "Exchanges the two ends of `$xs`."]
    elif task == "remove_at":
        kw["fn"] = r.choice(["remove_at", "without_index", "drop_at", "skip_index"])
        sig = "fn $fn($xs: &[$T], $i: usize) -> Vec<$T>"
        body = {"a": "$xs.iter().enumerate().filter(|&(j, _)| j != $i).map(|(_, &x)| x).collect()",
                "b": "[&$xs[..$i], &$xs[$i + 1..]].concat()",
                "c": "let mut out = $xs.to_vec();\nout.remove($i);\nout"}[style]
        for k in [r.randrange(3, 7), r.randrange(2, 5)]:
            xs = gen(k)
            for i in sorted({0, r.randrange(k), k - 1}):
                checks.append(_check(f"{kw['fn']}({_slice(xs)}, {i})", _vec(xs[:i] + xs[i + 1:], T)))
        phr = ["Returns a copy of `$xs` without the element at position `$i`.\n\n`$i` must be a valid index.",
               "Removes the element at index `$i`, keeping the order of the rest.",
               "Builds a new vector from `$xs` leaving out the item at `$i` (which must be in bounds)."]
    elif task == "last_n":
        kw["fn"] = r.choice(["last_n", "take_last", "tail_of", "final_items"])
        sig = "fn $fn($xs: &[$T], $n: usize) -> Vec<$T>"
        body = {"a": "$xs[$xs.len().saturating_sub($n)..].to_vec()",
                "b": "$xs.iter().skip($xs.len().saturating_sub($n)).copied().collect()",
                "c": """
                    let start = if $n > $xs.len() { 0 } else { $xs.len() - $n };
                    let mut out = Vec::new();
                    for &x in &$xs[start..] {
                        out.push(x);
                    }
                    out"""}[style]
        xs = gen(r.randrange(4, 8))
        for n in [r.randrange(1, 4), 0, len(xs) + r.randrange(0, 3)]:
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {n})", _vec(xs[len(xs) - min(n, len(xs)):], T)))
        phr = ["Returns the last `$n` elements of `$xs`, or all of them if there are fewer.",
               "Copies the final `$n` items of `$xs` in their original order.",
               "Takes the tail of length `$n` from `$xs` (the whole slice when `$n` is too big)."]
    else:
        kw["fn"] = r.choice(["first_and_last", "ends_of", "bookends"])
        sig = "fn $fn($xs: &[$T]) -> Option<($T, $T)>"
        body = {"a": "Some((*$xs.first()?, *$xs.last()?))",
                "b": "match $xs {\n    [] => None,\n    [first, .., last] => Some((*first, *last)),\n"
                     "    [only] => Some((*only, *only)),\n}",
                "c": "if $xs.is_empty() {\n    None\n} else {\n    Some(($xs[0], $xs[$xs.len() - 1]))\n}"}[style]
        for k in [r.randrange(2, 7), 1, 0]:
            xs = gen(k)
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", _some((xs[0], xs[-1]) if xs else None)))
        phr = ["Returns the first and the last element of `$xs` as a pair, or `None` if it is empty.",
               "Gives `(first, last)` of `$xs`; a single element is both.",
               "The two ends of `$xs`, if it has any."]
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style} {T}")


@_family("parity_positions")
def _parity_positions(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64"] if r.random() < 0.5 else ["i32", "u32", "u64", "usize"])
    task = r.choice(["even_idx", "odd_idx", "even_sum"] + (["alt_sum"] if _signed(T) else []))
    P, arg = _seq_arg(r, T)
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ)}
    start = 1 if task == "odd_idx" else 0
    kw["fn"] = r.choice({"even_idx": ["at_even_indices", "even_positions", "every_other"],
                         "odd_idx": ["at_odd_indices", "odd_positions", "every_second"],
                         "even_sum": ["sum_even_indices", "even_position_total", "sum_at_even_places"],
                         "alt_sum": ["alternating_sum", "plus_minus_sum", "signed_alternating_total"]}[task])
    style = r.choice(["enumerate", "step", "loop"])
    if task in ("even_idx", "odd_idx"):
        sig = "fn $fn($xs: $P) -> Vec<$T>"
        body = {"enumerate": f"$xs.iter()\n    .enumerate()\n    .filter(|(i, _)| i % 2 == {start})\n"
                             "    .map(|(_, &x)| x)\n    .collect()",
                "step": f"$xs.iter().skip({start}).step_by(2).copied().collect()",
                "loop": f"""
                    let mut out = Vec::new();
                    let mut i = {start};
                    while i < $xs.len() {{
                        out.push($xs[i]);
                        i += 2;
                    }}
                    out"""}[style]
        py = lambda xs: _vec(xs[start::2], T)
        which = "even" if start == 0 else "odd"
        phr = [f"Returns the elements of `$xs` at {which} indices (counting from 0).",
               f"Collects every other element of `$xs`, starting at index {start}.",
               f"Keeps only the items whose position in `$xs` is {which}."]
    elif task == "even_sum":
        sig = "fn $fn($xs: $P) -> $T"
        body = {"enumerate": "$xs.iter().enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, x)| x).sum()",
                "step": "$xs.iter().step_by(2).sum()",
                "loop": """
                    let mut total = 0;
                    for (i, &x) in $xs.iter().enumerate() {
                        if i % 2 == 0 {
                            total += x;
                        }
                    }
                    total"""}[style]
        py = lambda xs: sum(xs[::2])
        phr = ["Returns the sum of the elements at even positions (0, 2, 4, ...) of `$xs`.",
               "Adds up every other element of `$xs`, starting with the first.",
               "Totals the values at even indices."]
    else:
        sig = "fn $fn($xs: $P) -> $T"
        body = {"enumerate": "$xs.iter()\n    .enumerate()\n    .map(|(i, &x)| if i % 2 == 0 { x } else { -x })\n"
                             "    .sum()",
                "step": "$xs.iter().step_by(2).sum::<$T>() - $xs.iter().skip(1).step_by(2).sum::<$T>()",
                "loop": """
                    let mut total = 0;
                    let mut sign = 1;
                    for &x in $xs.iter() {
                        total += sign * x;
                        sign = -sign;
                    }
                    total"""}[style]
        py = lambda xs: sum(xs[::2]) - sum(xs[1::2])
        phr = ["Returns `$xs[0] - $xs[1] + $xs[2] - ...`.",
               "Computes the alternating sum of `$xs`: add elements at even indices, subtract the others.",
               "Sums `$xs` with alternating signs, starting with a plus."]
    doc = _doc(r, phr, kw)
    checks = [_check(f"{kw['fn']}({arg(xs)})", py(xs))
              for xs in (_ints(r, T, k, -40, 40) for k in [r.randrange(4, 8), r.randrange(1, 4), 0])]
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style} {P}")


# ---- membership and counting ----

@_family("count_occurrences")
def _count_occurrences(r: random.Random) -> _Prog:
    task = r.choice(["value", "char", "word"])
    style = r.choice(["filter", "loop", "fold"])
    checks = []
    if task == "value":
        T = r.choice(["i32", "u32", "i64", "u8"])
        P, arg = _seq_arg(r, T)
        kw = {"T": T, "P": P, "xs": r.choice(_SEQ), "t": r.choice(["target", "value", "x", "needle"]),
              "fn": r.choice(["count_of", "occurrences", "count_value", "times_present"])}
        sig = "fn $fn($xs: $P, $t: $T) -> usize"
        body = {"filter": "$xs.iter().filter(|&&v| v == $t).count()",
                "fold": "$xs.iter().fold(0, |n, &v| if v == $t { n + 1 } else { n })",
                "loop": "let mut n = 0;\nfor &v in $xs.iter() {\n    if v == $t {\n        n += 1;\n    }\n}\nn"}[style]
        for k in [r.randrange(5, 10), r.randrange(2, 6), 0]:
            xs = _ints(r, T, k, 0, 5)
            t = r.choice(xs) if xs and r.random() < 0.8 else r.randrange(0, 9)
            checks.append(_check(f"{kw['fn']}({arg(xs)}, {t})", xs.count(t)))
        phr = ["Counts how many times `$t` appears in `$xs`.", "Returns the number of elements equal to `$t`.",
               "How often does `$t` occur in `$xs`?"]
    elif task == "char":
        P, arg = _str_arg(r)
        kw = {"P": P, "xs": r.choice(_TEXTS), "t": r.choice(["target", "wanted", "letter"]),
              "fn": r.choice(["char_occurrences", "times_char_appears", "occurrences_of_char"])}
        sig = "fn $fn($xs: $P, $t: char) -> usize"
        body = {"filter": "$xs.chars().filter(|&c| c == $t).count()",
                "fold": "$xs.chars().fold(0, |n, c| n + usize::from(c == $t))",
                "loop": "let mut n = 0;\nfor c in $xs.chars() {\n    if c == $t {\n        n += 1;\n    }\n}\nn"}[style]
        for k in [r.randrange(2, 5), 1, 0]:
            s = _sentence(r, k)
            t = r.choice(s) if s and r.random() < 0.8 else r.choice("xyz")
            checks.append(_check(f"{kw['fn']}({arg(s)}, {_lit(_ch(t))})", s.count(t)))
        phr = ["Counts the occurrences of the character `$t` in `$xs`.",
               "Returns how many characters of `$xs` are equal to `$t`.", "How many times does `$t` appear in `$xs`?"]
    else:
        P, arg = _str_arg(r)
        kw = {"P": P, "xs": r.choice(_TEXTS), "t": r.choice(["word", "target", "needle"]),
              "fn": r.choice(["count_word", "word_occurrences", "times_word_appears"])}
        sig = "fn $fn($xs: $P, $t: &str) -> usize"
        body = {"filter": "$xs.split_whitespace().filter(|&w| w == $t).count()",
                "fold": "$xs.split_whitespace().fold(0, |n, w| n + usize::from(w == $t))",
                "loop": "let mut n = 0;\nfor w in $xs.split_whitespace() {\n    if w == $t {\n"
                        "        n += 1;\n    }\n}\nn"}[style]
        pool = r.sample(_WORDS, 3)
        for k in [r.randrange(4, 8), r.randrange(1, 4), 0]:
            words = [r.choice(pool) for _ in range(k)]
            t = r.choice(pool)
            checks.append(_check(f"{kw['fn']}({arg(' '.join(words))}, {_lit(t)})", words.count(t)))
        phr = ["Counts how many words of `$xs` are exactly `$t`.",
               "Returns the number of whitespace-separated words in `$xs` equal to `$t`.",
               "How many times does the word `$t` occur in `$xs`?"]
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style}")


@_family("missing_number")
def _missing_number(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize", "i32", "i64"])
    zero = r.random() < 0.3
    P, arg = _seq_arg(r, T)
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ), "lo": 0 if zero else 1,
          "fn": r.choice(["missing_number", "find_missing", "absent_value", "the_missing_one"])}
    style = r.choice(["formula", "xor", "sort"])
    n_expr = "$xs.len() as $T" if zero else "$xs.len() as $T + 1"
    body = {"formula": f"let n = {n_expr};\nn * (n + 1) / 2 - $xs.iter().sum::<$T>()",
            "xor": f"let n = {n_expr};\nlet all = ($lo..=n).fold(0, |acc, v| acc ^ v);\n"
                   "$xs.iter().fold(all, |acc, &v| acc ^ v)",
            "sort": """
                let mut sorted = $xs.to_vec();
                sorted.sort_unstable();
                for (i, &v) in sorted.iter().enumerate() {
                    let want = i as $T + $lo;
                    if v != want {
                        return want;
                    }
                }
                sorted.len() as $T + $lo"""}[style]
    lo = kw["lo"]
    doc = _doc(r, [f"`$xs` holds the numbers {lo}..=n in any order with exactly one left out; returns that one.",
                   (f"Finds the single number of the range {lo} to n that does not appear in `$xs`.\n\n"
                    f"Here n is `$xs.len(){'' if zero else ' + 1'}`, since exactly one value is absent."),
                   f"Returns the value from {lo}..=`$xs.len()`{'' if zero else ' + 1'} that is missing from `$xs`."],
               kw)
    checks = []
    for n in [r.randrange(5, 11), r.randrange(2, 5), 1]:
        full = list(range(lo, n + 1))
        gone = r.choice(full)
        rest = [v for v in full if v != gone]
        r.shuffle(rest)
        checks.append(_check(f"{kw['fn']}({arg(rest)})", gone))
    return _Prog([_fn("fn $fn($xs: $P) -> $T", body, kw, doc)], checks, params=f"{style} {T} lo={lo}")


@_family("exactly_once")
def _exactly_once(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u32", "i64", "char"])
    once = r.random() < 0.6
    P, arg = _seq_arg(r, T)
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ)}
    kw["fn"] = r.choice(["unique_values", "appear_once", "singles", "non_repeated"] if once else
                        ["repeated_values", "duplicated", "seen_more_than_once", "repeats"])
    style = r.choice(["map", "count"])
    uses = ["std::collections::HashMap"] if style == "map" else []
    keep = "== 1" if once else "> 1"
    if style == "map":
        body = f"""
            let mut counts = HashMap::new();
            for &x in $xs.iter() {{
                *counts.entry(x).or_insert(0) += 1;
            }}
            let mut out = Vec::new();
            for &x in $xs.iter() {{
                if counts[&x] {keep}{'' if once else ' && !out.contains(&x)'} {{
                    out.push(x);
                }}
            }}
            out"""
    elif once:
        body = "$xs.iter()\n    .filter(|&x| $xs.iter().filter(|&y| y == x).count() == 1)\n    .copied()\n    .collect()"
    else:
        body = """
            let mut out = Vec::new();
            for &x in $xs.iter() {
                if !out.contains(&x) && $xs.iter().filter(|&&y| y == x).count() > 1 {
                    out.push(x);
                }
            }
            out"""
    if once:
        phr = ["Returns the values that occur exactly once in `$xs`, in their original order.",
               "Keeps the elements of `$xs` that have no duplicate anywhere in it.",
               "Collects the elements that appear a single time, preserving order."]
    else:
        phr = ["Returns each value that occurs more than once in `$xs`, in order of first appearance.",
               "Lists the duplicated elements of `$xs`, each reported once.",
               "Collects the values seen at least twice, ordered by where they first show up."]
    doc = _doc(r, phr, kw)
    checks = []
    for k in [r.randrange(5, 10), r.randrange(2, 5), 0]:
        xs = [_ch(c) for c in r.choices("abcdef", k=k)] if T == "char" else _ints(r, T, k, 0, 7)
        c = Counter(xs)
        exp = [x for x in xs if c[x] == 1] if once else list(dict.fromkeys(x for x in xs if c[x] > 1))
        checks.append(_check(f"{kw['fn']}({arg(xs)})", _vec(exp, T)))
    return _Prog([_fn("fn $fn($xs: $P) -> Vec<$T>", body, kw, doc)], checks, uses=uses,
                 params=f"{'once' if once else 'repeat'} {style} {P}")


@_family("all_distinct")
def _all_distinct(r: random.Random) -> _Prog:
    text = r.random() < 0.45
    style = r.choice(["set", "sort", "nested"])
    uses = ["std::collections::HashSet"] if style == "set" else []
    checks = []
    if text:
        P, arg = _str_arg(r)
        kw = {"P": P, "xs": r.choice(_TEXTS),
              "fn": r.choice(["all_chars_unique", "has_unique_chars", "no_repeated_letters", "chars_distinct"])}
        body = {"set": "let mut seen = HashSet::new();\n$xs.chars().all(|c| seen.insert(c))",
                "sort": "let mut chars: Vec<char> = $xs.chars().collect();\nchars.sort_unstable();\n"
                        "chars.windows(2).all(|w| w[0] != w[1])",
                "nested": """
                    let chars: Vec<char> = $xs.chars().collect();
                    for i in 0..chars.len() {
                        for j in i + 1..chars.len() {
                            if chars[i] == chars[j] {
                                return false;
                            }
                        }
                    }
                    true"""}[style]
        words = r.sample(_WORDS, 4) + ["", "".join(r.sample("abcdefghijklmnop", r.randrange(3, 8)))]
        checks = [_check(f"{kw['fn']}({arg(w)})", len(set(w)) == len(w)) for w in r.sample(words, 5)]
        phr = ["Returns `true` if no character occurs twice in `$xs`.",
               "Checks whether all characters of `$xs` are different from each other.",
               "Tells whether every character of `$xs` is unique."]
    else:
        T = r.choice(["i32", "u32", "i64", "u64"])
        P, arg = _seq_arg(r, T)
        kw = {"P": P, "xs": r.choice(_SEQ), "T": T,
              "fn": r.choice(["all_distinct", "no_duplicates", "is_distinct", "values_unique"])}
        body = {"set": "let mut seen = HashSet::new();\n$xs.iter().all(|x| seen.insert(x))",
                "sort": "let mut sorted = $xs.to_vec();\nsorted.sort_unstable();\n"
                        "sorted.windows(2).all(|w| w[0] != w[1])",
                "nested": """
                    for i in 0..$xs.len() {
                        if $xs[i + 1..].contains(&$xs[i]) {
                            return false;
                        }
                    }
                    true"""}[style]
        for k in [r.randrange(3, 8), r.randrange(3, 8), r.randrange(2, 5), 0]:
            xs = r.sample(range(40), k) if r.random() < 0.5 else _ints(r, T, k, 0, 12)
            checks.append(_check(f"{kw['fn']}({arg(xs)})", len(set(xs)) == len(xs)))
        phr = ["Returns `true` if no value appears twice in `$xs`.",
               "Checks that all elements of `$xs` are pairwise different.",
               "Tells whether `$xs` is free of duplicates. An empty input has none."]
    doc = _doc(r, phr, kw)
    return _Prog([_fn("fn $fn($xs: $P) -> bool", body, kw, doc)], checks, uses=uses,
                 params=f"{'text' if text else 'nums'} {style}")


# ---- two lists ----

@_family("interleave")
def _interleave(r: random.Random) -> _Prog:
    text = r.random() < 0.35
    style = r.choice(["index", "zip"])
    kw = {"a": r.choice(["a", "first", "left", "xs"]), "b": r.choice(["b", "second", "right", "ys"])}
    checks = []
    if text:
        kw["fn"] = r.choice(["interleave_chars", "merge_alternately", "zip_strings", "weave"])
        sig = "fn $fn($a: &str, $b: &str) -> String"
        body = {"index": """
            let x: Vec<char> = $a.chars().collect();
            let y: Vec<char> = $b.chars().collect();
            let mut out = String::new();
            for i in 0..x.len().max(y.len()) {
                if let Some(&c) = x.get(i) {
                    out.push(c);
                }
                if let Some(&c) = y.get(i) {
                    out.push(c);
                }
            }
            out""", "zip": """
            let mut out = String::new();
            for (x, y) in $a.chars().zip($b.chars()) {
                out.push(x);
                out.push(y);
            }
            let n = $a.chars().count().min($b.chars().count());
            out.extend($a.chars().skip(n));
            out.extend($b.chars().skip(n));
            out"""}[style]
        for _ in range(3):
            x, y = r.choice(_WORDS), r.choice(_WORDS)
            n = min(len(x), len(y))
            exp = "".join(p + q for p, q in zip(x, y)) + x[n:] + y[n:]
            checks.append(_check(f"{kw['fn']}({_lit(x)}, {_lit(y)})", exp))
        phr = ["Merges `$a` and `$b` by taking characters from each in turn.\n\nThe rest of the longer one goes last.",
               "Interleaves the characters of two strings, starting with `$a`.",
               "Builds a string alternating characters of `$a` and `$b`, then appends what is left over."]
    else:
        T = r.choice(["i32", "u32", "i64", "char"])
        kw["T"] = T
        kw["fn"] = r.choice(["interleave", "alternate", "merge_alternately", "shuffle_together"])
        sig = "fn $fn($a: &[$T], $b: &[$T]) -> Vec<$T>"
        body = {"index": """
            let mut out = Vec::with_capacity($a.len() + $b.len());
            for i in 0..$a.len().max($b.len()) {
                if i < $a.len() {
                    out.push($a[i]);
                }
                if i < $b.len() {
                    out.push($b[i]);
                }
            }
            out""", "zip": """
            let n = $a.len().min($b.len());
            let mut out: Vec<$T> = $a.iter().zip($b).flat_map(|(&x, &y)| [x, y]).collect();
            out.extend_from_slice(&$a[n..]);
            out.extend_from_slice(&$b[n..]);
            out"""}[style]
        gen = (lambda k: [_ch(c) for c in r.choices("abcxyz", k=k)]) if T == "char" else \
            (lambda k: _ints(r, T, k, -9, 30))
        for ka, kb in [(3, 3), (r.randrange(1, 5), r.randrange(0, 6)), (0, r.randrange(1, 3))]:
            x, y = gen(ka), gen(kb)
            n = min(ka, kb)
            exp = [v for p in zip(x, y) for v in p] + x[n:] + y[n:]
            checks.append(_check(f"{kw['fn']}({_slice(x)}, {_slice(y)})", _vec(exp, T)))
        phr = ["Takes elements from `$a` and `$b` in turn, starting with `$a`; leftovers go at the end.",
               ("Interleaves two slices as `$a[0], $b[0], $a[1], $b[1], ...`.\n\n"
                "Whatever is left of the longer slice is appended."),
               "Merges `$a` and `$b` alternately into a new vector."]
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{'text' if text else kw['T']} {style}")


@_family("merge_sorted_runs")
def _merge_sorted(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u32", "i64", "u64"])
    dedup = r.random() < 0.3
    kw = {"T": T, "a": r.choice(["a", "left", "xs", "first"]), "b": r.choice(["b", "right", "ys", "second"])}
    kw["fn"] = r.choice(["merge_unique", "sorted_union", "merge_distinct"] if dedup else
                        ["merge_two", "combine_sorted", "sorted_merge", "merge_runs"])
    style = r.choice(["pointers", "concat"])
    if style == "pointers":
        body = """
            let mut out = Vec::with_capacity($a.len() + $b.len());
            let (mut i, mut j) = (0, 0);
            while i < $a.len() && j < $b.len() {
                if $a[i] <= $b[j] {
                    out.push($a[i]);
                    i += 1;
                } else {
                    out.push($b[j]);
                    j += 1;
                }
            }
            out.extend_from_slice(&$a[i..]);
            out.extend_from_slice(&$b[j..]);"""
        body = textwrap.dedent(body) + ("\nout.dedup();" if dedup else "") + "\nout"
    else:
        body = "let mut out = [$a, $b].concat();\nout.sort_unstable();" + ("\nout.dedup();" if dedup else "") + "\nout"
    phr = (["Merges two sorted slices into one sorted vector without repeated values.",
            "Returns the sorted union of `$a` and `$b` (both sorted), each value once."] if dedup else
           ["Merges two sorted slices into one sorted vector.",
            "Combines the ascending slices `$a` and `$b` into a single ascending vector.",
            "Returns all elements of `$a` and `$b` in non-decreasing order (both inputs are sorted)."])
    doc = _doc(r, phr, kw)
    checks = []
    for ka, kb in [(r.randrange(2, 6), r.randrange(2, 6)), (r.randrange(0, 4), r.randrange(1, 4)), (0, 0)]:
        x, y = sorted(_ints(r, T, ka, -9, 20)), sorted(_ints(r, T, kb, -9, 20))
        exp = sorted(set(x + y)) if dedup else sorted(x + y)
        checks.append(_check(f"{kw['fn']}({_slice(x)}, {_slice(y)})", _vec(exp, T)))
    sig = "fn $fn($a: &[$T], $b: &[$T]) -> Vec<$T>"
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} dedup={dedup} {T}")


@_family("zip_pairs")
def _zip_pairs(r: random.Random) -> _Prog:
    task = r.choice(["zip", "unzip", "with_next"])
    T = r.choice(["i32", "u32", "char"])
    U = r.choice(["i64", "u64", "bool"])
    style = r.choice(["iter", "loop"])
    kw = {"T": T, "U": U, "a": r.choice(["keys", "a", "left"]), "b": r.choice(["values", "b", "right"]),
          "xs": r.choice(["pairs", "entries", "items"])}
    gt = (lambda k: [_ch(c) for c in r.choices("abcdxyz", k=k)]) if T == "char" else \
        (lambda k: _ints(r, T, k, -9, 30))
    gu = (lambda k: [r.random() < 0.5 for _ in range(k)]) if U == "bool" else (lambda k: _ints(r, U, k, -99, 99))
    checks = []
    if task == "zip":
        kw["fn"] = r.choice(["zip_pairs", "pair_up", "zip_together", "combine_pairs"])
        sig = "fn $fn($a: &[$T], $b: &[$U]) -> Vec<($T, $U)>"
        body = "$a.iter().copied().zip($b.iter().copied()).collect()" if style == "iter" else """
            let mut out = Vec::new();
            for i in 0..$a.len().min($b.len()) {
                out.push(($a[i], $b[i]));
            }
            out"""
        for ka, kb in [(3, 3), (r.randrange(1, 5), r.randrange(1, 5)), (0, 2)]:
            x, y = gt(ka), gu(kb)
            exp = _vec(list(zip(x, y)), f"({T}, {U})")
            checks.append(_check(f"{kw['fn']}({_slice(x)}, {_slice(y)})", exp))
        phr = ["Pairs up the elements of `$a` and `$b` position by position; extra elements are dropped.",
               "Returns `($a[i], $b[i])` for every index both slices have.",
               "Zips two slices into a vector of tuples, stopping at the shorter one."]
    elif task == "unzip":
        kw["fn"] = r.choice(["unzip_pairs", "split_pairs", "separate", "columns_of"])
        sig = "fn $fn($xs: &[($T, $U)]) -> (Vec<$T>, Vec<$U>)"
        body = "$xs.iter().copied().unzip()" if style == "iter" else """
            let mut firsts = Vec::new();
            let mut seconds = Vec::new();
            for &(x, y) in $xs {
                firsts.push(x);
                seconds.push(y);
            }
            (firsts, seconds)"""
        for k in [r.randrange(2, 5), 1]:
            x, y = gt(k), gu(k)
            checks.append(_check(f"{kw['fn']}({_slice(list(zip(x, y)))})",
                                 _Raw(f"({_vec(x, T)}, {_vec(y, U)})")))
        phr = ["Splits a slice of pairs into the vector of first items and the vector of second items.",
               "Undoes a zip: returns `(firsts, seconds)` from the pairs in `$xs`.",
               "Separates the tuples of `$xs` into two vectors, keeping their order."]
    else:
        kw["fn"] = r.choice(["with_next", "consecutive_pairs", "neighbour_pairs", "successive_pairs"])
        kw["xs"] = r.choice(_SEQ)
        sig = "fn $fn($xs: &[$T]) -> Vec<($T, $T)>"
        body = "$xs.windows(2).map(|w| (w[0], w[1])).collect()" if style == "iter" else """
            let mut out = Vec::new();
            for i in 1..$xs.len() {
                out.push(($xs[i - 1], $xs[i]));
            }
            out"""
        for k in [r.randrange(3, 6), 1]:
            x = gt(k)
            checks.append(_check(f"{kw['fn']}({_slice(x)})", _vec(list(pairwise(x)), f"({T}, {T})")))
        phr = ["Returns each element of `$xs` paired with the one after it.",
               "Lists the consecutive pairs `($xs[i], $xs[i + 1])`.",
               "Builds the pairs of neighbouring elements of `$xs`, in order."]
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style} {T} {U}")


# ---- small string tasks ----

@_family("word_order")
def _word_order(r: random.Random) -> _Prog:
    task = r.choice(["reverse", "count", "last_len"])
    P, arg = _str_arg(r)
    style = r.choice(["iter", "loop"])
    kw = {"P": P, "s": r.choice(_TEXTS)}
    if task == "reverse":
        kw["fn"] = r.choice(["reversed_word_order", "words_backwards", "flip_word_order"])
        ret = "String"
        body = "$s.split_whitespace().rev().collect::<Vec<_>>().join(\" \")" if style == "iter" else """
            let mut words: Vec<&str> = Vec::new();
            for w in $s.split_whitespace() {
                words.insert(0, w);
            }
            words.join(" ")"""
        py = lambda t: " ".join(reversed(t.split()))
        phr = ["Returns the words of `$s` in reverse order, separated by single spaces.",
               "Reverses the order of the words in a sentence (not the letters inside them).",
               "Puts the last word of `$s` first, and so on; extra spaces are dropped."]
    elif task == "count":
        kw["fn"] = r.choice(["count_words", "number_of_words", "words_in"])
        ret = "usize"
        body = "$s.split_whitespace().count()" if style == "iter" else """
            let mut count = 0;
            let mut in_word = false;
            for c in $s.chars() {
                if c.is_whitespace() {
                    in_word = false;
                } else if !in_word {
                    in_word = true;
                    count += 1;
                }
            }
            count"""
        py = lambda t: len(t.split())
        phr = ["Counts the words in `$s`, where words are separated by whitespace.",
               "Returns how many whitespace-separated words `$s` contains.",
               "The number of words in a line of text; runs of spaces count as one separator."]
    else:
        kw["fn"] = r.choice(["last_word_len", "length_of_last_word", "final_word_length"])
        ret = "usize"
        body = "$s.split_whitespace().last().map_or(0, |w| w.chars().count())" if style == "iter" else """
            let mut len = 0;
            for c in $s.trim_end().chars() {
                if c == ' ' {
                    len = 0;
                } else {
                    len += 1;
                }
            }
            len"""
        py = lambda t: len(t.split()[-1]) if t.split() else 0
        phr = ["Returns the length of the last word of `$s`, or 0 if it has no words.",
               "Counts the characters of the final word in `$s`, ignoring trailing spaces.",
               "How long is the last word of `$s`?"]
    doc = _doc(r, phr, kw)
    checks = []
    for k in [r.randrange(2, 6), r.randrange(1, 3), 0]:
        words = [r.choice(_WORDS) for _ in range(k)]
        t = r.choice([" ", " ", "  "]).join(words) + r.choice(["", "", " "])
        checks.append(_check(f"{kw['fn']}({arg(t)})", py(t)))
    return _Prog([_fn(f"fn $fn($s: $P) -> {ret}", body, kw, doc)], checks, params=f"{task} {style} {P}")


@_family("repeated_char")
def _repeated_char(r: random.Random) -> _Prog:
    first_repeat = r.random() < 0.5
    P, arg = _str_arg(r)
    kw = {"P": P, "s": r.choice(_TEXTS)}
    style = r.choice(["set", "scan"])
    uses = []
    if first_repeat:
        kw["fn"] = r.choice(["first_char_seen_twice", "first_seen_again", "earliest_repeat_char"])
        if style == "set":
            uses = ["std::collections::HashSet"]
            body = "let mut seen = HashSet::new();\n$s.chars().find(|&c| !seen.insert(c))"
        else:
            body = """
                let chars: Vec<char> = $s.chars().collect();
                for i in 1..chars.len() {
                    if chars[..i].contains(&chars[i]) {
                        return Some(chars[i]);
                    }
                }
                None"""
        phr = ["Returns the first character of `$s` that has already appeared earlier, if any.",
               "Scans `$s` left to right and reports the first character seen for the second time.",
               "Finds the earliest point where a character repeats and returns that character."]

        def py(t):
            seen = set()
            for c in t:
                if c in seen:
                    return c
                seen.add(c)
            return None
    else:
        kw["fn"] = r.choice(["first_unique_char", "first_non_repeating", "first_single_char"])
        if style == "set":
            uses = ["std::collections::HashMap"]
            body = """
                let mut counts = HashMap::new();
                for c in $s.chars() {
                    *counts.entry(c).or_insert(0) += 1;
                }
                $s.chars().find(|c| counts[c] == 1)"""
        else:
            body = "$s.chars().find(|&c| $s.matches(c).count() == 1)"
        phr = ["Returns the first character of `$s` that occurs only once, or `None`.",
               "Finds the first character that is not repeated anywhere in `$s`.",
               "The earliest character of `$s` whose count is exactly one."]

        def py(t):
            return next((c for c in t if t.count(c) == 1), None)
    doc = _doc(r, phr, kw)
    checks = []
    for t in r.sample(_WORDS, 3) + [r.choice(["", "abcabc", "aabb", "xyzzy", "abc"])]:
        v = py(t)
        checks.append(_check(f"{kw['fn']}({arg(t)})", _Raw("None" if v is None else f"Some({_ch(v)})")))
    sig = "fn $fn($s: $P) -> Option<char>"
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{first_repeat} {style} {P}")


@_family("pangram")
def _pangram(r: random.Random) -> _Prog:
    missing = r.random() < 0.4
    P, arg = _str_arg(r)
    kw = {"P": P, "s": r.choice(_TEXTS)}
    style = r.choice(["range", "flags", "set"])
    uses = ["std::collections::HashSet"] if style == "set" else []
    if missing:
        kw["fn"] = r.choice(["missing_letters", "absent_letters", "letters_not_used"])
        sig = "fn $fn($s: $P) -> String"
        body = {"range": "let lower = $s.to_lowercase();\n('a'..='z').filter(|&c| !lower.contains(c)).collect()",
                "flags": """
                    let mut used = [false; 26];
                    for b in $s.bytes() {
                        if b.is_ascii_alphabetic() {
                            used[(b.to_ascii_lowercase() - b'a') as usize] = true;
                        }
                    }
                    (b'a'..=b'z').filter(|&b| !used[(b - b'a') as usize]).map(char::from).collect()""",
                "set": """
                    let seen: HashSet<char> = $s.chars().map(|c| c.to_ascii_lowercase()).collect();
                    ('a'..='z').filter(|c| !seen.contains(c)).collect()"""}[style]
        phr = ["Returns, in alphabetical order, the letters of the English alphabet that `$s` lacks.",
               "Lists the lowercase letters a to z that do not occur in `$s` (case is ignored).",
               "Which letters of the alphabet are missing from `$s`? Returns them as one string."]
    else:
        kw["fn"] = r.choice(["is_pangram", "uses_every_letter", "has_all_letters"])
        sig = "fn $fn($s: $P) -> bool"
        body = {"range": "let lower = $s.to_lowercase();\n('a'..='z').all(|c| lower.contains(c))",
                "flags": """
                    let mut used = [false; 26];
                    for b in $s.bytes() {
                        if b.is_ascii_alphabetic() {
                            used[(b.to_ascii_lowercase() - b'a') as usize] = true;
                        }
                    }
                    used.iter().all(|&u| u)""",
                "set": """
                    let letters: HashSet<char> = $s
                        .chars()
                        .filter(|c| c.is_ascii_alphabetic())
                        .map(|c| c.to_ascii_lowercase())
                        .collect();
                    letters.len() == 26"""}[style]
        phr = ["Returns `true` if `$s` contains every letter from a to z at least once, ignoring case.",
               "Checks whether `$s` is a pangram: a sentence that uses the whole alphabet.",
               "Tells whether all 26 English letters appear in `$s` (upper or lower case)."]
    doc = _doc(r, phr, kw)
    pangrams = ["The quick brown fox jumps over the lazy dog", "Pack my box with five dozen liquor jugs",
                "Sphinx of black quartz, judge my vow", "How vexingly quick daft zebras jump"]
    texts = [r.choice(pangrams), _sentence(r, r.randrange(2, 5)), ""]
    p = r.choice(pangrams)
    drop = r.choice("bcdfgkmpqvwxz")
    texts.append("".join(c for c in p if c.lower() != drop))
    checks = []
    for t in texts:
        gone = "".join(c for c in "abcdefghijklmnopqrstuvwxyz" if c not in t.lower())
        checks.append(_check(f"{kw['fn']}({arg(t)})", gone if missing else not gone))
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{missing} {style} {P}")


@_family("char_rewrite")
def _char_rewrite(r: random.Random) -> _Prog:
    task = r.choice(["dedup_letters", "replace_spaces", "toggle_digits"])
    P, arg = _str_arg(r)
    kw = {"P": P, "s": r.choice(_TEXTS)}
    style = r.choice(["loop", "iter"])
    uses = []
    extra, extra_arg = "", ""
    if task == "dedup_letters":
        kw["fn"] = r.choice(["remove_duplicate_chars", "keep_first_occurrences", "unique_chars_in_order"])
        if style == "iter":
            uses = ["std::collections::HashSet"]
            body = "let mut seen = HashSet::new();\n$s.chars().filter(|&c| seen.insert(c)).collect()"
        else:
            body = """
                let mut out = String::new();
                for c in $s.chars() {
                    if !out.contains(c) {
                        out.push(c);
                    }
                }
                out"""
        py = lambda t: "".join(dict.fromkeys(t))
        phr = ["Removes repeated characters from `$s`, keeping only the first occurrence of each.",
               "Returns `$s` with every character after its first appearance deleted.",
               "Keeps each distinct character of `$s` once, in the order they first appear."]
    elif task == "replace_spaces":
        kw["fn"] = r.choice(["swap_out_spaces", "fill_spaces", "spaces_to"])
        kw["with"] = r.choice(["with", "fill", "replacement"])
        rep = r.choice(["%20", "_", "-", "+", "::"])
        extra, extra_arg = ", $with: &str", f", {_lit(rep)}"
        body = "$s.replace(' ', $with)" if style == "iter" else """
            let mut out = String::new();
            for c in $s.chars() {
                if c == ' ' {
                    out.push_str($with);
                } else {
                    out.push(c);
                }
            }
            out"""
        py = lambda t: t.replace(" ", rep)
        phr = ["Returns `$s` with every space replaced by `$with`.",
               "Replaces each space character in `$s` with the string `$with`.",
               "Builds a copy of `$s` where spaces become `$with` (other characters stay)."]
    else:
        kw["fn"] = r.choice(["digits_to_stars", "mask_digits", "hide_digits"])
        body = "$s.chars()\n    .map(|c| if c.is_ascii_digit() { '*' } else { c })\n    .collect()" \
            if style == "iter" else """
            let mut out = String::with_capacity($s.len());
            for c in $s.chars() {
                out.push(if c.is_ascii_digit() { '*' } else { c });
            }
            out"""
        py = lambda t: "".join("*" if c.isdigit() else c for c in t)
        phr = ["Returns `$s` with every ASCII digit replaced by `*`.",
               "Masks the digits of `$s` with asterisks, leaving other characters alone.",
               "Hides the numbers in `$s`: each digit becomes `*`."]
    doc = _doc(r, phr, kw)
    checks = []
    for k in [r.randrange(2, 4), 1, 0]:
        words = [r.choice(_WORDS) for _ in range(k)]
        if task == "toggle_digits":
            words = [w + str(r.randrange(100)) if r.random() < 0.6 else w for w in words]
        t = " ".join(words)
        checks.append(_check(f"{kw['fn']}({arg(t)}{extra_arg})", py(t)))
    sig = f"fn $fn($s: $P{extra}) -> String"
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{task} {style} {P}")


@_family("char_run")
def _char_run(r: random.Random) -> _Prog:
    which = r.random() < 0.4
    P, arg = _str_arg(r)
    kw = {"P": P, "s": r.choice(_TEXTS)}
    style = r.choice(["prev", "peek"])
    if which:
        kw["fn"] = r.choice(["longest_run", "longest_streak", "max_repeat"])
        ret = "Option<(char, usize)>"
        body = {"prev": """
            let mut best: Option<(char, usize)> = None;
            let mut run = 0;
            let mut prev = None;
            for c in $s.chars() {
                run = if prev == Some(c) { run + 1 } else { 1 };
                prev = Some(c);
                if best.map_or(true, |(_, n)| run > n) {
                    best = Some((c, run));
                }
            }
            best""", "peek": """
            let mut best: Option<(char, usize)> = None;
            let mut chars = $s.chars().peekable();
            while let Some(c) = chars.next() {
                let mut run = 1;
                while chars.next_if_eq(&c).is_some() {
                    run += 1;
                }
                if best.map_or(true, |(_, n)| run > n) {
                    best = Some((c, run));
                }
            }
            best"""}[style]
        phr = [("Returns the character with the longest run of repeats in `$s` and the run's length.\n\n"
                "The first such run wins a tie; an empty string gives `None`."),
               "Finds the longest block of one repeated character, as `(char, length)`.",
               "Which character repeats the most times in a row in `$s`, and how many times?"]
    else:
        kw["fn"] = r.choice(["longest_run_len", "max_streak", "longest_repeat"])
        ret = "usize"
        body = {"prev": """
            let mut best = 0;
            let mut run = 0;
            let mut prev = None;
            for c in $s.chars() {
                run = if prev == Some(c) { run + 1 } else { 1 };
                prev = Some(c);
                best = best.max(run);
            }
            best""", "peek": """
            let mut best = 0;
            let mut chars = $s.chars().peekable();
            while let Some(c) = chars.next() {
                let mut run = 1;
                while chars.next_if_eq(&c).is_some() {
                    run += 1;
                }
                best = best.max(run);
            }
            best"""}[style]
        phr = ["Returns the length of the longest run of one repeated character in `$s`.",
               "Finds the most times a character repeats back to back in `$s`.",
               "The size of the longest block of identical adjacent characters (0 for empty input)."]
    doc = _doc(r, phr, kw)
    checks = []
    texts = {"".join(r.choice("abc") * r.choice([1, 1, 2, 3, 4]) for _ in range(r.randrange(1, 6))) for _ in range(3)}
    for t in sorted(texts) + [""]:
        best = None
        i = 0
        while i < len(t):
            j = i
            while j < len(t) and t[j] == t[i]:
                j += 1
            if best is None or j - i > best[1]:
                best = (t[i], j - i)
            i = j
        exp = _Raw("None" if best is None else f"Some(({_ch(best[0])}, {best[1]}))") if which else \
            (best[1] if best else 0)
        checks.append(_check(f"{kw['fn']}({arg(t)})", exp))
    return _Prog([_fn(f"fn $fn($s: $P) -> {ret}", body, kw, doc)], checks, params=f"{which} {style} {P}")


# ---- numbers ----

@_family("digit_props")
def _digit_props(r: random.Random) -> _Prog:
    task = r.choice(["armstrong", "even_sum", "odd_count"])
    T = r.choice(["u32", "u64"])
    kw = {"T": T, "n": r.choice(["n", "num", "value"])}
    style = r.choice(["loop", "string"])
    if task == "armstrong":
        kw["fn"] = r.choice(["is_armstrong", "is_narcissistic", "armstrong_check"])
        ret = "bool"
        body = """
            let digits: Vec<$T> = $n.to_string().bytes().map(|b| (b - b'0') as $T).collect();
            let k = digits.len() as u32;
            digits.iter().map(|d| d.pow(k)).sum::<$T>() == $n""" if style == "string" else """
            let k = $n.to_string().len() as u32;
            let mut rest = $n;
            let mut total = 0;
            while rest > 0 {
                total += (rest % 10).pow(k);
                rest /= 10;
            }
            total == $n"""
        py = lambda x: sum(int(c) ** len(str(x)) for c in str(x)) == x
        nums = [r.choice([153, 370, 371, 407, 1634, 8208, 9474]), r.randrange(1, 10), r.randrange(10, 10000),
                r.randrange(100, 1000), r.choice([54748, 92727, 93084])]
        phr = ["Returns `true` if `$n` equals the sum of its digits each raised to the number of digits.",
               "Checks whether `$n` is an Armstrong (narcissistic) number, such as 153 = 1 + 125 + 27.",
               "Tells whether the k-digit number `$n` is the sum of the k-th powers of its digits."]
    else:
        even = task == "even_sum"
        kw["fn"] = r.choice(["sum_even_digits", "even_digit_total", "add_even_digits"] if even else
                            ["count_odd_digits", "odd_digit_count", "num_odd_digits"])
        ret = T if even else "usize"
        keep = "d % 2 == 0" if even else "d % 2 == 1"
        if style == "string":
            tail = ".sum()" if even else ".count()"
            body = (f"$n.to_string()\n    .chars()\n    .map(|c| c.to_digit(10).unwrap() as $T)\n"
                    f"    .filter(|d| {keep})\n    {tail}")
        else:
            body = f"""
                let mut rest = $n;
                let mut acc = 0;
                loop {{
                    let d = rest % 10;
                    if {keep} {{
                        acc += {'d' if even else '1'};
                    }}
                    rest /= 10;
                    if rest == 0 {{
                        break;
                    }}
                }}
                acc"""
        py = (lambda x: sum(int(c) for c in str(x) if int(c) % 2 == 0)) if even else \
            (lambda x: sum(1 for c in str(x) if int(c) % 2))
        nums = [0, r.randrange(1, 10), r.randrange(10, 1000), r.randrange(1000, 10 ** 7)]
        which = "even" if even else "odd"
        phr = (["Returns the sum of the even decimal digits of `$n`.", "Adds up the digits of `$n` that are even.",
                "Totals the digits 0, 2, 4, 6 and 8 that appear in `$n`."] if even else
               ["Counts the odd decimal digits of `$n`.", "Returns how many digits of `$n` are odd.",
                f"The number of {which} digits in the decimal form of `$n` (0 has none)."])
    doc = _doc(r, phr, kw)
    checks = [_check(f"{kw['fn']}({x})", py(x)) for x in nums]
    return _Prog([_fn(f"fn $fn($n: $T) -> {ret}", body, kw, doc)], checks, params=f"{task} {style} {T}")


@_family("round_to_multiple")
def _round_to_multiple(r: random.Random) -> _Prog:
    task = r.choice(["up", "down", "nearest_square"])
    T = r.choice(["u32", "u64", "usize"])
    kw = {"T": T, "n": r.choice(["n", "x", "value"]), "k": r.choice(["k", "step", "m"])}
    style = r.choice(["arith", "loop"])
    if task == "up":
        kw["fn"] = r.choice(["next_multiple", "round_up_to", "ceil_to_multiple"])
        sig = "fn $fn($n: $T, $k: $T) -> $T"
        body = "$n.div_ceil($k) * $k" if style == "arith" else "let mut v = $n;\nwhile v % $k != 0 {\n    v += 1;\n}\nv"
        py = lambda n, k: -(-n // k) * k
        phr = ["Returns the smallest multiple of `$k` that is at least `$n`.",
               "Rounds `$n` up to the next multiple of `$k` (which must be positive).",
               "The first multiple of `$k` at or after `$n`."]
    elif task == "down":
        kw["fn"] = r.choice(["prev_multiple", "round_down_to", "floor_to_multiple"])
        sig = "fn $fn($n: $T, $k: $T) -> $T"
        body = "$n - $n % $k" if style == "arith" else "let mut v = $n;\nwhile v % $k != 0 {\n    v -= 1;\n}\nv"
        py = lambda n, k: n // k * k
        phr = ["Returns the largest multiple of `$k` that is not greater than `$n`.",
               "Rounds `$n` down to a multiple of `$k` (which must be positive).",
               "The last multiple of `$k` at or before `$n`."]
    else:
        kw["fn"] = r.choice(["nearest_square", "closest_square", "nearest_perfect_square"])
        sig = "fn $fn($n: $T) -> $T"
        root = "let r = $n.isqrt();" if style == "arith" else \
            "let mut r = 0;\nwhile (r + 1) * (r + 1) <= $n {\n    r += 1;\n}"
        body = root + "\nlet (low, high) = (r * r, (r + 1) * (r + 1));\nif $n - low <= high - $n {\n" \
                      "    low\n} else {\n    high\n}"

        def py(n, _k):
            s = math.isqrt(n)
            return s * s if n - s * s <= (s + 1) ** 2 - n else (s + 1) ** 2
        phr = ["Returns the perfect square closest to `$n`; on a tie the smaller square wins.",
               "Finds the square number nearest to `$n`, preferring the lower one when two are equally close.",
               "The closest value of the form `r * r` to `$n`."]
    doc = _doc(r, phr, kw)
    checks = []
    for _ in range(4):
        n, k = r.randrange(0, 200), r.randrange(1, 13)
        if task == "nearest_square":
            checks.append(_check(f"{kw['fn']}({n})", py(n, k)))
        else:
            checks.append(_check(f"{kw['fn']}({n}, {k})", py(n, k)))
    if task != "nearest_square":
        k = r.randrange(2, 10)
        checks.append(_check(f"{kw['fn']}({k * 7}, {k})", k * 7))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style} {T}")


@_family("stepped_range")
def _stepped_range(r: random.Random) -> _Prog:
    task = r.choice(["step_sum", "count_multiples", "total_bits"])
    T = r.choice(["u32", "u64", "usize", "i64"])
    kw = {"T": T, "a": r.choice(["start", "lo", "from"]), "b": r.choice(["end", "hi", "to"]),
          "k": r.choice(["step", "k", "stride"])}
    style = r.choice(["iter", "loop"])
    if task == "step_sum":
        kw["fn"] = r.choice(["sum_with_step", "stepped_sum", "range_step_total"])
        sig = "fn $fn($a: $T, $b: $T, $k: usize) -> $T"
        body = "($a..=$b).step_by($k).sum()" if style == "iter" else \
            "let mut total = 0;\nlet mut v = $a;\nwhile v <= $b {\n    total += v;\n    v += $k as $T;\n}\ntotal"
        phr = ["Sums `$a`, `$a + $k`, `$a + 2 * $k`, ... for every value not above `$b`.",
               "Returns the total of the numbers from `$a` to `$b` inclusive, taking every `$k`-th one.",
               "Adds up the range `$a..=$b` walked with a step of `$k`."]

        def case():
            a = r.randrange(0, 20)
            b, k = a + r.randrange(-2, 40), r.randrange(1, 6)
            return f"{a}, {b}, {k}", sum(range(a, b + 1, k))
    elif task == "count_multiples":
        kw["fn"] = r.choice(["multiples_between", "count_multiples_in", "how_many_multiples"])
        sig = "fn $fn($a: $T, $b: $T, $k: $T) -> usize"
        body = "($a..=$b).filter(|v| v % $k == 0).count()" if style == "iter" else """
            let mut count = 0;
            for v in $a..=$b {
                if v % $k == 0 {
                    count += 1;
                }
            }
            count"""
        phr = ["Counts the multiples of `$k` between `$a` and `$b`, both included.",
               "Returns how many numbers in `$a..=$b` are divisible by `$k`.",
               "The number of values from `$a` to `$b` that `$k` divides evenly."]

        def case():
            a = r.randrange(0, 30)
            b, k = a + r.randrange(-1, 60), r.randrange(1, 9)
            return f"{a}, {b}, {k}", sum(1 for v in range(a, b + 1) if v % k == 0)
    else:
        T = kw["T"] = r.choice(["u32", "u64", "usize"])
        kw["fn"] = r.choice(["total_set_bits", "count_bits_up_to", "ones_through"])
        sig = "fn $fn($b: $T) -> u32"
        body = "(1..=$b).map(|v| v.count_ones()).sum()" if style == "iter" else """
            let mut total = 0;
            for v in 1..=$b {
                let mut rest = v;
                while rest > 0 {
                    total += (rest & 1) as u32;
                    rest >>= 1;
                }
            }
            total"""
        phr = ["Returns the total number of 1 bits in the binary forms of 1, 2, ..., `$b`.",
               "Counts set bits over every number from 1 to `$b` inclusive.",
               "Adds up the popcounts of all numbers in `1..=$b`."]

        def case():
            b = r.randrange(0, 70)
            return f"{b}", sum(v.bit_count() for v in range(1, b + 1))
    doc = _doc(r, phr, kw)
    checks = [_check(f"{kw['fn']}({args})", exp) for args, exp in (case() for _ in range(4))]
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style} {T}")


# ---- tuples and nested vectors ----

@_family("sign_tally")
def _sign_tally(r: random.Random) -> _Prog:
    task = r.choice(["signs", "parity", "sums"])
    T = r.choice(["i32", "i64"]) if task != "parity" else r.choice(["i32", "u32", "i64", "u64"])
    P, arg = _seq_arg(r, T)
    kw = {"T": T, "P": P, "xs": r.choice(_SEQ)}
    style = r.choice(["loop", "iter"])
    if task == "signs":
        kw["fn"] = r.choice(["count_signs", "sign_counts", "tally_signs"])
        ret = "(usize, usize, usize)"
        body = """
            let (mut pos, mut neg, mut zero) = (0, 0, 0);
            for &x in $xs.iter() {
                match x.cmp(&0) {
                    Ordering::Greater => pos += 1,
                    Ordering::Less => neg += 1,
                    Ordering::Equal => zero += 1,
                }
            }
            (pos, neg, zero)""" if style == "loop" else """
            let pos = $xs.iter().filter(|&&x| x > 0).count();
            let neg = $xs.iter().filter(|&&x| x < 0).count();
            (pos, neg, $xs.len() - pos - neg)"""
        uses = ["std::cmp::Ordering"] if style == "loop" else []
        py = lambda xs: (sum(x > 0 for x in xs), sum(x < 0 for x in xs), xs.count(0))
        phr = ["Returns `(positives, negatives, zeros)`: how many elements of `$xs` fall in each group.",
               "Counts the positive, negative and zero values of `$xs`, in that order.",
               "Tallies the signs of `$xs` as a tuple of three counts."]
    elif task == "parity":
        kw["fn"] = r.choice(["count_even_odd", "parity_counts", "evens_and_odds"])
        ret = "(usize, usize)"
        body = """
            let mut counts = (0, 0);
            for x in $xs.iter() {
                if x % 2 == 0 {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
            }
            counts""" if style == "loop" else \
            "let evens = $xs.iter().filter(|&x| x % 2 == 0).count();\n(evens, $xs.len() - evens)"
        uses = []
        py = lambda xs: (sum(x % 2 == 0 for x in xs), sum(x % 2 != 0 for x in xs))
        phr = ["Returns how many elements of `$xs` are even and how many are odd, as `(evens, odds)`.",
               "Counts the even and the odd numbers in `$xs`.",
               "Splits the count of `$xs` into `(even count, odd count)`."]
    else:
        kw["fn"] = r.choice(["sum_by_sign", "positive_negative_sums", "split_sums"])
        ret = f"({T}, {T})"
        body = """
            let mut pos = 0;
            let mut neg = 0;
            for &x in $xs.iter() {
                if x > 0 {
                    pos += x;
                } else {
                    neg += x;
                }
            }
            (pos, neg)""" if style == "loop" else \
            "$xs.iter()\n    .fold((0, 0), |(p, n), &x| if x > 0 { (p + x, n) } else { (p, n + x) })"
        uses = []
        py = lambda xs: (sum(x for x in xs if x > 0), sum(x for x in xs if x < 0))
        phr = ["Returns `(sum of the positive elements, sum of the negative elements)` of `$xs`.",
               "Adds up the positive and the negative values of `$xs` separately.",
               "Splits the total of `$xs` by sign: positives first, then negatives."]
    doc = _doc(r, phr, kw)
    checks = [_check(f"{kw['fn']}({arg(xs)})", py(xs))
              for xs in (_ints(r, T, k, -9, 10) for k in [r.randrange(5, 10), r.randrange(1, 5), 0])]
    return _Prog([_fn(f"fn $fn($xs: $P) -> {ret}", body, kw, doc)], checks, uses=uses,
                 params=f"{task} {style} {P}")


@_family("row_extremes")
def _row_extremes(r: random.Random) -> _Prog:
    task = r.choice(["row_max", "row_min", "best_row", "anti_diagonal", "negatives"])
    T = r.choice(["i32", "i64"])
    P = r.choice([f"&[Vec<{T}>]", f"&Vec<Vec<{T}>>", f"Vec<Vec<{T}>>"])
    kw = {"T": T, "P": P, "m": r.choice(["grid", "matrix", "rows", "table"])}
    style = r.choice(["iter", "loop"])
    if task in ("row_max", "row_min"):
        m = task[4:]
        kw["fn"] = r.choice([f"row_{m}ima", f"{m}_per_row", f"{m}_of_each_row"])
        ret = f"Vec<{T}>"
        sentinel = f"{T}::MIN" if m == "max" else f"{T}::MAX"
        body = f"$m.iter().map(|row| *row.iter().{m}().unwrap()).collect()" if style == "iter" else f"""
            let mut out = Vec::new();
            for row in $m.iter() {{
                let mut best = {sentinel};
                for &x in row {{
                    best = best.{m}(x);
                }}
                out.push(best);
            }}
            out"""
        py = lambda g: _vec([(max if m == "max" else min)(row) for row in g], T)
        word = "largest" if m == "max" else "smallest"
        phr = [f"Returns the {word} value of each row of `$m` (rows are non-empty).",
               f"Collects the {m}imum of every row, top to bottom.",
               f"For each row of the matrix, finds its {word} element."]
    elif task == "best_row":
        kw["fn"] = r.choice(["heaviest_row", "row_with_max_sum", "largest_row_index"])
        ret = "Option<usize>"
        body = """
            let mut best: Option<(usize, $T)> = None;
            for (i, row) in $m.iter().enumerate() {
                let total: $T = row.iter().sum();
                if best.map_or(true, |(_, b)| total > b) {
                    best = Some((i, total));
                }
            }
            best.map(|(i, _)| i)""" if style == "loop" else """
            $m.iter()
                .map(|row| row.iter().sum::<$T>())
                .enumerate()
                .fold(None, |best: Option<(usize, $T)>, (i, s)| match best {
                    Some((_, b)) if b >= s => best,
                    _ => Some((i, s)),
                })
                .map(|(i, _)| i)"""

        def py(g):
            sums = [sum(row) for row in g]
            return _some(sums.index(max(sums)) if sums else None)
        phr = ["Returns the index of the row of `$m` with the largest sum (the first one on a tie).",
               "Finds which row adds up to the most; `None` when there are no rows.",
               "The position of the heaviest row of `$m`, by total."]
    elif task == "anti_diagonal":
        kw["fn"] = r.choice(["anti_diagonal_sum", "secondary_diagonal_sum", "other_diagonal_total"])
        ret = T
        body = "let n = $m.len();\n$m.iter().enumerate().map(|(i, row)| row[n - 1 - i]).sum()" \
            if style == "iter" else """
            let n = $m.len();
            let mut total = 0;
            for i in 0..n {
                total += $m[i][n - 1 - i];
            }
            total"""
        py = lambda g: sum(g[i][len(g) - 1 - i] for i in range(len(g)))
        phr = ["Returns the sum of the anti-diagonal of the square matrix `$m` (top right to bottom left).",
               "Adds up `$m[i][n - 1 - i]` for every row `i` of an n by n matrix.",
               "The total of the secondary diagonal of a square grid."]
    else:
        kw["fn"] = r.choice(["count_negatives", "negatives_in_grid", "negative_cells"])
        ret = "usize"
        body = "$m.iter().flatten().filter(|&&x| x < 0).count()" if style == "iter" else """
            let mut count = 0;
            for row in $m.iter() {
                for &x in row {
                    if x < 0 {
                        count += 1;
                    }
                }
            }
            count"""
        py = lambda g: sum(x < 0 for row in g for x in row)
        phr = ["Counts the negative entries of `$m`.", "Returns how many cells of the grid are below zero.",
               "The number of negative values across all rows of `$m`."]
    doc = _doc(r, phr, kw)
    checks = []
    for i in range(2):
        n = r.randrange(2, 5)
        cols = n if task == "anti_diagonal" else r.randrange(1, 5)
        g = [[r.randrange(-20, 30) for _ in range(cols)] for _ in range(n if task == "anti_diagonal" or i else
                                                                       r.randrange(1, 4))]
        name = f"{kw['m']}{i + 1}"
        checks.append(_let_vec(name, [_lit(row) for row in g]))
        checks.append(_check(f"{kw['fn']}({'&' if P.startswith('&') else ''}{name})", py(g)))
    if task in ("best_row", "negatives"):
        empty = "&[]" if P.startswith("&[") else "&vec![]" if P.startswith("&") else "vec![]"
        checks.append(_check(f"{kw['fn']}({empty})", py([])))
    return _Prog([_fn(f"fn $fn($m: $P) -> {ret}", body, kw, doc)], checks, params=f"{task} {style} {P}")
