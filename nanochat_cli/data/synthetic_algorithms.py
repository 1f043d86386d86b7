"""Synthetic programs of classic algorithms written small and plainly: dynamic programming (LCS, edit
distance, knapsack, fewest coins, LIS, Kadane, grid path sums), graphs (BFS hops, components, union-find,
cycle checks, Dijkstra), hand-written sorts and searches, backtracking, heaps, matrix walks, intervals
and string scans.

Each family draws names, types, doc phrasing, implementation style and inputs; the expected values of the
asserts are computed here by a plain Python reference. Importing this module registers its families in
`synthetic_rust`.
"""

from __future__ import annotations

import heapq
import itertools
import random
import textwrap
from collections import deque

from nanochat_cli.data.synthetic_rust import (
    _SEQ,
    _WORDS,
    _ch,
    _check,
    _doc,
    _family,
    _fn,
    _lit,
    _Prog,
    _seq_param,
    _slice,
    _sub,
    _top_level_args,
    _vec,
)


def _word(r: random.Random, alphabet: str, lo: int, hi: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(r.randrange(lo, hi)))


def _sig(sig: str, kw: dict) -> str:
    """`sig` with its placeholders filled, its parameters one a line when it would pass 100 columns
    (rustfmt's layout); the result holds no `$` left for `_fn` to fill."""
    text = _sub(sig, kw)
    if len(text) + 2 <= 100:
        return text
    head, rest = text.split("(", 1)
    params, tail = rest.rsplit(")", 1)
    return head + "(\n" + "".join(f"    {p},\n" for p in _top_level_args(params)) + ")" + tail


def _short(checks: list[str]) -> list[str]:
    """The checks short enough to show as doc examples within 100 columns."""
    return [c for c in checks if len(c) <= 92 and "\n" not in c]


def _random_edges(r: random.Random, n: int, k: int, directed: bool) -> list[tuple[int, int]]:
    """Up to `k` distinct edges without self loops (one orientation per pair when undirected)."""
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b and (directed or a < b)]
    return r.sample(pairs, min(k, len(pairs)))


# ---- dynamic programming ----

def _lcs(a, b) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            cur[j] = prev[j - 1] + 1 if x == b[j - 1] else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


@_family("lcs_length")
def _lcs_length(r: random.Random) -> _Prog:
    text = r.random() < 0.6
    kw = {"fn": r.choice(["lcs_length", "longest_common_subsequence", "common_subsequence_len"]),
          "a": r.choice(["a", "first", "left"]), "b": r.choice(["b", "second", "right"])}
    style = r.choice(["table", "two_rows"])
    if text:
        sig = "fn $fn($a: &str, $b: &str) -> usize"
        setup = "let x: Vec<char> = $a.chars().collect();\nlet y: Vec<char> = $b.chars().collect();\n"
        outer = "for c in $a.chars() {"
    else:
        kw["T"] = r.choice(["i32", "u8", "i64"])
        sig = "fn $fn($a: &[$T], $b: &[$T]) -> usize"
        setup = "let (x, y) = ($a, $b);\n"
        outer = "for &c in $a {"
    body = setup.rstrip("\n") + ("""
        let mut dp = vec![vec![0; y.len() + 1]; x.len() + 1];
        for i in 1..=x.len() {
            for j in 1..=y.len() {
                dp[i][j] = if x[i - 1] == y[j - 1] {
                    dp[i - 1][j - 1] + 1
                } else {
                    dp[i - 1][j].max(dp[i][j - 1])
                };
            }
        }
        dp[x.len()][y.len()]""" if style == "table" else f"""
        let mut prev = vec![0; y.len() + 1];
        {outer}
            let mut cur = vec![0; y.len() + 1];
            for j in 1..=y.len() {{
                cur[j] = if c == y[j - 1] {{
                    prev[j - 1] + 1
                }} else {{
                    prev[j].max(cur[j - 1])
                }};
            }}
            prev = cur;
        }}
        prev[y.len()]""").replace("\n        ", "\n")
    if style == "two_rows":
        body = body.replace("let x: Vec<char> = $a.chars().collect();\n", "").replace("let (x, y) = ($a, $b);\n",
                                                                                    "let y = $b;\n")
    checks = []
    for _ in range(4):
        if text:
            a, b = _word(r, "abcde", 0, 8), _word(r, "abcde", 0, 8)
            checks.append(_check(f"{kw['fn']}({_lit(a)}, {_lit(b)})", _lcs(a, b)))
        else:
            a, b = [r.randrange(0, 5) for _ in range(r.randrange(0, 7))], [r.randrange(0, 5) for _ in range(r.randrange(0, 7))]
            checks.append(_check(f"{kw['fn']}({_slice(a)}, {_slice(b)})", _lcs(a, b)))
    doc = _doc(r, ["Returns the length of the longest common subsequence of `$a` and `$b`.",
                   ("Length of the longest sequence that appears, in order but not necessarily contiguously,\n"
                   "in both `$a` and `$b`."),
                   "Computes the LCS length of two sequences with the classic dynamic programming table."],
               kw, _short(checks))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} text={text}")


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@_family("edit_distance")
def _edit_distance(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["edit_distance", "levenshtein", "min_edits", "levenshtein_distance"]),
          "a": r.choice(["a", "from", "source"]), "b": r.choice(["b", "to", "target"])}
    if kw["a"] == "from":
        kw["a"] = "start"
    style = r.choice(["table", "one_row"])
    body = """
        let x: Vec<char> = $a.chars().collect();
        let y: Vec<char> = $b.chars().collect();
        let mut dp = vec![vec![0usize; y.len() + 1]; x.len() + 1];
        for (i, row) in dp.iter_mut().enumerate() {
            row[0] = i;
        }
        for j in 0..=y.len() {
            dp[0][j] = j;
        }
        for i in 1..=x.len() {
            for j in 1..=y.len() {
                let cost = if x[i - 1] == y[j - 1] { 0 } else { 1 };
                let replace = dp[i - 1][j - 1] + cost;
                dp[i][j] = replace.min(dp[i - 1][j] + 1).min(dp[i][j - 1] + 1);
            }
        }
        dp[x.len()][y.len()]""" if style == "table" else """
        let y: Vec<char> = $b.chars().collect();
        let mut prev: Vec<usize> = (0..=y.len()).collect();
        for (i, c) in $a.chars().enumerate() {
            let mut cur = vec![i + 1; y.len() + 1];
            for j in 1..=y.len() {
                let replace = prev[j - 1] + usize::from(c != y[j - 1]);
                cur[j] = replace.min(prev[j] + 1).min(cur[j - 1] + 1);
            }
            prev = cur;
        }
        prev[y.len()]"""
    checks = []
    for _ in range(4):
        a = r.choice(_WORDS)
        b = r.choice([r.choice(_WORDS), a[1:], a + r.choice("xyz"), a[:2] + r.choice("xyz") + a[3:], ""])
        checks.append(_check(f"{kw['fn']}({_lit(a)}, {_lit(b)})", _levenshtein(a, b)))
    doc = _doc(r, [("Returns the Levenshtein distance between `$a` and `$b`: the fewest single-character\n"
                   "insertions, deletions and substitutions that turn one into the other."),
                   ("Counts the minimum number of edits (insert, delete or replace a character) needed to\n"
                   "change `$a` into `$b`."),
                   "Edit distance of two strings, computed with dynamic programming."], kw, _short(checks))
    return _Prog([_fn("fn $fn($a: &str, $b: &str) -> usize", body, kw, doc)], checks, params=style)


def _knap(ws: list[int], vs: list[int], cap: int) -> int:
    best = [0] * (cap + 1)
    for w, v in zip(ws, vs):
        for c in range(cap, w - 1, -1):
            best[c] = max(best[c], best[c - w] + v)
    return best[cap]


@_family("knapsack")
def _knapsack(r: random.Random) -> _Prog:
    pairs = r.random() < 0.4
    V = r.choice(["u32", "u64", "usize"])
    kw = {"fn": r.choice(["knapsack", "best_value", "max_loot", "knapsack_01"]), "V": V,
          "cap": r.choice(["capacity", "limit", "max_weight"])}
    style = r.choice(["row", "table", "recursive"])
    if pairs:
        sig = "fn $fn(items: &[(usize, $V)], $cap: usize) -> $V"
        it = "for &(weight, value) in items {"
        n, w_at, v_at = "items.len()", "items[i - 1].0", "items[i - 1].1"
    else:
        sig = "fn $fn(weights: &[usize], values: &[$V], $cap: usize) -> $V"
        it = "for (&weight, &value) in weights.iter().zip(values) {"
        n, w_at, v_at = "weights.len()", "weights[i - 1]", "values[i - 1]"
    if style == "row":
        body = f"""
            let mut best = vec![0; $cap + 1];
            {it}
                for c in (weight..=$cap).rev() {{
                    best[c] = best[c].max(best[c - weight] + value);
                }}
            }}
            best[$cap]"""
    elif style == "table":
        body = f"""
            let n = {n};
            let mut dp = vec![vec![0; $cap + 1]; n + 1];
            for i in 1..=n {{
                let (weight, value) = ({w_at}, {v_at});
                for c in 0..=$cap {{
                    dp[i][c] = dp[i - 1][c];
                    if weight <= c {{
                        dp[i][c] = dp[i][c].max(dp[i - 1][c - weight] + value);
                    }}
                }}
            }}
            dp[n][$cap]"""
    else:
        first = "let (weight, value) = items[0];" if pairs else "let (weight, value) = (weights[0], values[0]);"
        rest = "&items[1..]" if pairs else "&weights[1..], &values[1..]"
        body = f"""
            if {n.replace("len()", "is_empty()")} {{
                return 0;
            }}
            {first}
            let skip = $fn({rest}, $cap);
            if weight > $cap {{
                return skip;
            }}
            skip.max(value + $fn({rest}, $cap - weight))"""
    checks = []
    for _ in range(3):
        k = r.randrange(0, 6)
        ws, vs, cap = [r.randrange(1, 8) for _ in range(k)], [r.randrange(1, 30) for _ in range(k)], r.randrange(0, 16)
        arg = _slice(list(zip(ws, vs))) if pairs else f"{_slice(ws)}, {_slice(vs)}"
        checks.append(_check(f"{kw['fn']}({arg}, {cap})", _knap(ws, vs, cap)))
    what = "`items` (weight, value) pairs" if pairs else "items with `weights` and `values`"
    doc = _doc(r, [(f"Solves the 0/1 knapsack problem: the largest total value of {what}\n"
                   "whose total weight is at most `$cap`. Each item is taken at most once."),
                   f"Returns the best value that fits in a bag of size `$cap`,\nchoosing among {what}.",
                   "Classic 0/1 knapsack: every item is either packed whole or left out."], kw, _short(checks))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} pairs={pairs}")


def _fewest(coins: list[int], amount: int) -> int | None:
    best = [0] + [None] * amount
    for a in range(1, amount + 1):
        options = [best[a - c] for c in coins if c <= a and best[a - c] is not None]
        best[a] = min(options) + 1 if options else None
    return best[amount]


@_family("fewest_coins")
def _fewest_coins(r: random.Random) -> _Prog:
    optional = r.random() < 0.6
    kw = {"fn": r.choice(["fewest_coins", "min_coins", "coin_change", "least_coins_for"]),
          "c": r.choice(["coins", "denominations", "values"]), "a": r.choice(["amount", "total", "target"])}
    style = r.choice(["sentinel", "option"])
    if style == "sentinel":
        core = """
            let mut best = vec![usize::MAX; $a + 1];
            best[0] = 0;
            for x in 1..=$a {
                for &c in $c {
                    if c <= x && best[x - c] != usize::MAX {
                        best[x] = best[x].min(best[x - c] + 1);
                    }
                }
            }
            """
        tail = ("if best[$a] == usize::MAX {\n    None\n} else {\n    Some(best[$a])\n}" if optional else
                "if best[$a] == usize::MAX {\n    -1\n} else {\n    best[$a] as i64\n}")
    else:
        core = """
            let mut best: Vec<Option<usize>> = vec![None; $a + 1];
            best[0] = Some(0);
            for x in 1..=$a {
                best[x] = $c
                    .iter()
                    .filter(|&&c| c <= x)
                    .filter_map(|&c| best[x - c])
                    .min()
                    .map(|n| n + 1);
            }
            """
        tail = "best[$a]" if optional else "best[$a].map_or(-1, |n| n as i64)"
    body = textwrap.dedent(core) + tail
    ret = "Option<usize>" if optional else "i64"
    checks = []
    for _ in range(4):
        coins = sorted(r.sample([1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 25], r.randrange(1, 4)))
        amount = r.randrange(0, 40)
        n = _fewest(coins, amount)
        expected = (_lit(n) if n is None else f"Some({n})") if optional else (-1 if n is None else n)
        checks.append(f"assert_eq!({kw['fn']}({_slice(coins)}, {amount}), {expected});")
    none = "`None`" if optional else "-1"
    doc = _doc(r, [(f"Returns the fewest coins from `$c` that add up to `$a`, or {none} when no\n"
                   "combination does. Every coin can be used any number of times."),
                   f"Coin change: the minimum number of coins summing to `$a` ({none} if impossible).",
                   "How few coins of the given denominations make exactly `$a`?"], kw, _short(checks))
    sig = f"fn $fn($c: &[usize], $a: usize) -> {ret}"
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} optional={optional}")


def _lis(xs: list[int]) -> int:
    best = []
    for i, x in enumerate(xs):
        best.append(1 + max([best[j] for j in range(i) if xs[j] < x], default=0))
    return max(best, default=0)


@_family("lis_length")
def _lis_length(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    ptype, render = _seq_param(r, T)
    kw = {"fn": r.choice(["lis_length", "longest_increasing_subsequence", "longest_rising_subsequence"]),
          "xs": r.choice(_SEQ), "P": ptype, "T": T}
    style = r.choice(["quadratic", "tails", "tails_manual"])
    body = {"quadratic": """
        let mut best = vec![1; $xs.len()];
        for i in 0..$xs.len() {
            for j in 0..i {
                if $xs[j] < $xs[i] {
                    best[i] = best[i].max(best[j] + 1);
                }
            }
        }
        best.into_iter().max().unwrap_or(0)""", "tails": """
        let mut tails: Vec<$T> = Vec::new();
        for &x in $xs.iter() {
            let i = tails.partition_point(|&t| t < x);
            if i == tails.len() {
                tails.push(x);
            } else {
                tails[i] = x;
            }
        }
        tails.len()""", "tails_manual": """
        // tails[k] is the smallest tail of an increasing subsequence of length k + 1.
        let mut tails: Vec<$T> = Vec::new();
        for &x in $xs.iter() {
            let (mut lo, mut hi) = (0, tails.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if tails[mid] < x {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if lo == tails.len() {
                tails.push(x);
            } else {
                tails[lo] = x;
            }
        }
        tails.len()"""}[style]
    checks = []
    for k in (0, r.randrange(1, 5), r.randrange(5, 10), r.randrange(5, 10)):
        xs = [r.randrange(0, 20) for _ in range(k)]
        checks.append(_check(f"{kw['fn']}({render(xs)})", _lis(xs)))
    doc = _doc(r, ["Returns the length of the longest strictly increasing subsequence of `$xs`.",
                   ("Length of the longest subsequence of `$xs` (not necessarily contiguous) whose\n"
                   "elements strictly increase."),
                   "Computes the LIS length of `$xs`."], kw, _short(checks))
    return _Prog([_fn("fn $fn($xs: $P) -> usize", body, kw, doc)], checks, params=f"{style} {T}")


@_family("kadane")
def _kadane(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64"])
    lowest = r.random() < 0.3
    ptype, render = _seq_param(r, T)
    word, pick = ("min", "smallest") if lowest else ("max", "largest")
    kw = {"fn": r.choice([f"{word}_subarray_sum", f"{pick}_contiguous_sum", f"kadane_{word}"]),
          "xs": r.choice(_SEQ), "P": ptype, "T": T, "m": word}
    style = r.choice(["loop", "fold", "option"])
    if style == "option":
        sig = "fn $fn($xs: $P) -> Option<$T>"
        body = """
            let (&first, rest) = $xs.split_first()?;
            let mut current = first;
            let mut best = first;
            for &x in rest {
                current = x.$m(current + x);
                best = best.$m(current);
            }
            Some(best)"""
    elif style == "loop":
        sig = "fn $fn($xs: $P) -> $T"
        body = """
            let mut best = $xs[0];
            let mut current = 0;
            for &x in $xs.iter() {
                current = x.$m(current + x);
                best = best.$m(current);
            }
            best"""
    else:
        sig = "fn $fn($xs: $P) -> $T"
        body = """
            let (_, best) = $xs[1..]
                .iter()
                .fold(($xs[0], $xs[0]), |(current, best), &x| {
                    let current = x.$m(current + x);
                    (current, best.$m(current))
                });
            best"""
    checks = []
    for k in ([0] if style == "option" else []) + [1, r.randrange(3, 7), r.randrange(6, 10)]:
        xs = [r.randrange(-12, 12) for _ in range(k)]
        sums = [sum(xs[i:j]) for i in range(k) for j in range(i + 1, k + 1)]
        value = (min(sums) if lowest else max(sums)) if sums else None
        expected = (f"Some({value})" if value is not None else "None") if style == "option" else value
        checks.append(f"assert_eq!({kw['fn']}({render(xs)}), {expected});")
    empty = "`None` for an empty slice" if style == "option" else "`$xs` must not be empty"
    doc = _doc(r, [f"Returns the {pick} sum of a non-empty contiguous run of `$xs`\n({empty}).",
                   f"Kadane's algorithm: the {word}imum subarray sum of `$xs`. {empty[0].upper()}{empty[1:]}.",
                   f"Finds the contiguous slice of `$xs` with the {pick} total and returns that total."],
               kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} {T} lowest={lowest}")


@_family("min_path_sum")
def _min_path_sum(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "i32"])
    kw = {"fn": r.choice(["min_path_sum", "cheapest_path", "min_cost_path", "lightest_route"]),
          "g": r.choice(["grid", "costs", "cells"]), "T": T}
    style = r.choice(["table", "row"])
    body = """
        let (h, w) = ($g.len(), $g[0].len());
        let mut dp = vec![vec![0; w]; h];
        for i in 0..h {
            for j in 0..w {
                dp[i][j] = $g[i][j]
                    + match (i, j) {
                        (0, 0) => 0,
                        (0, _) => dp[i][j - 1],
                        (_, 0) => dp[i - 1][j],
                        _ => dp[i - 1][j].min(dp[i][j - 1]),
                    };
            }
        }
        dp[h - 1][w - 1]""" if style == "table" else """
        let mut row: Vec<$T> = Vec::new();
        for line in $g {
            for (j, &cost) in line.iter().enumerate() {
                if row.len() <= j {
                    let left = if j == 0 { 0 } else { row[j - 1] };
                    row.push(left + cost);
                } else {
                    let from = if j == 0 {
                        row[0]
                    } else {
                        row[j].min(row[j - 1])
                    };
                    row[j] = from + cost;
                }
            }
        }
        row[row.len() - 1]"""
    checks = []
    for _ in range(3):
        h, w = r.randrange(1, 4), r.randrange(1, 5)
        g = [[r.randrange(0, 10) for _ in range(w)] for _ in range(h)]
        dp = [[0] * w for _ in range(h)]
        for i in range(h):
            for j in range(w):
                prev = [dp[a][b] for a, b in ((i - 1, j), (i, j - 1)) if a >= 0 and b >= 0]
                dp[i][j] = g[i][j] + min(prev, default=0)
        checks.append(_check(f"{kw['fn']}({_slice(g)})", dp[-1][-1]))
    doc = _doc(r, [("Returns the smallest sum of a path from the top-left to the bottom-right cell of `$g`,\n"
                   "moving only right or down. The grid must not be empty."),
                   "Minimum path cost through a grid of costs, stepping right or down each time.",
                   "Finds the cheapest right/down route across `$g` and returns its total cost."], kw)
    return _Prog([_fn("fn $fn($g: &[Vec<$T>]) -> $T", body, kw, doc)], checks, params=f"{style} {T}")


# ---- graphs ----

def _adjacency(n: int, edges: list[tuple[int, int]], directed: bool) -> list[list[int]]:
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        if not directed:
            adj[b].append(a)
    return adj


@_family("bfs_hops")
def _bfs_hops(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["fewest_hops", "shortest_hops", "bfs_distance", "hop_count"]),
          "g": r.choice(["adj", "graph", "neighbours"]), "s": r.choice(["start", "from", "src"]),
          "t": r.choice(["goal", "target", "dest"])}
    if kw["s"] == "from":
        kw["s"] = "source"
    style = r.choice(["dist", "levels"])
    body = """
        let mut dist = vec![None; $g.len()];
        dist[$s] = Some(0);
        let mut queue = VecDeque::from([$s]);
        while let Some(node) = queue.pop_front() {
            if node == $t {
                return dist[node];
            }
            let next = dist[node].map(|d| d + 1);
            for &m in &$g[node] {
                if dist[m].is_none() {
                    dist[m] = next;
                    queue.push_back(m);
                }
            }
        }
        None""" if style == "dist" else """
        let mut seen = vec![false; $g.len()];
        seen[$s] = true;
        let mut frontier = vec![$s];
        let mut hops = 0;
        while !frontier.is_empty() {
            if frontier.contains(&$t) {
                return Some(hops);
            }
            let mut next = Vec::new();
            for node in frontier {
                for &m in &$g[node] {
                    if !seen[m] {
                        seen[m] = true;
                        next.push(m);
                    }
                }
            }
            frontier = next;
            hops += 1;
        }
        None"""
    uses = ["std::collections::VecDeque"] if style == "dist" else []
    n = r.randrange(4, 7)
    adj = _adjacency(n, _random_edges(r, n, r.randrange(2, 7), True), True)
    for row in adj:
        row.sort()
    checks = [f"let {kw['g']} = {_lit(adj)};"]
    for _ in range(4):
        s, t = r.randrange(n), r.randrange(n)
        dist, queue = {s: 0}, deque([s])
        while queue:
            node = queue.popleft()
            for m in adj[node]:
                if m not in dist:
                    dist[m] = dist[node] + 1
                    queue.append(m)
        d = dist.get(t)
        checks.append(f"assert_eq!({kw['fn']}(&{kw['g']}, {s}, {t}), {'None' if d is None else f'Some({d})'});")
    rows = [_lit(row) if row else "vec![]" for row in adj]
    checks[0] = f"let {kw['g']}: Vec<Vec<usize>> = vec![" + ", ".join(rows) + "];"
    if len(checks[0]) > 96:
        checks[0] = f"let {kw['g']}: Vec<Vec<usize>> = vec![\n" + "".join(f"    {row},\n" for row in rows) + "];"
    doc = _doc(r, [("Returns the fewest edges on a path from `$s` to `$t` in the directed graph `$g`\n"
                   "(an adjacency list), or `None` when `$t` cannot be reached."),
                   "Breadth-first search: how many hops separate `$s` from `$t`?",
                   "Shortest path length, counted in edges, between two nodes of an unweighted graph."], kw)
    sig = "fn $fn($g: &[Vec<usize>], $s: usize, $t: usize) -> Option<usize>"
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=style)


def _component_count(n: int, edges: list[tuple[int, int]]) -> int:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x
    for a, b in edges:
        parent[find(a)] = find(b)
    return len({find(x) for x in range(n)})


@_family("components")
def _components(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["count_components", "component_count", "connected_groups", "count_clusters"]),
          "n": r.choice(["n", "nodes", "count"]), "e": r.choice(["edges", "links", "pairs"])}
    style = r.choice(["dfs", "union_find", "recursive"])
    helpers = []
    if style == "dfs":
        body = """
            let mut adj = vec![Vec::new(); $n];
            for &(a, b) in $e {
                adj[a].push(b);
                adj[b].push(a);
            }
            let mut seen = vec![false; $n];
            let mut groups = 0;
            for start in 0..$n {
                if seen[start] {
                    continue;
                }
                groups += 1;
                seen[start] = true;
                let mut stack = vec![start];
                while let Some(node) = stack.pop() {
                    for &m in &adj[node] {
                        if !seen[m] {
                            seen[m] = true;
                            stack.push(m);
                        }
                    }
                }
            }
            groups"""
    elif style == "recursive":
        helpers.append(_fn("fn visit(node: usize, adj: &[Vec<usize>], seen: &mut [bool])", """
            if seen[node] {
                return;
            }
            seen[node] = true;
            for &m in &adj[node] {
                visit(m, adj, seen);
            }""", {}))
        body = """
            let mut adj = vec![Vec::new(); $n];
            for &(a, b) in $e {
                adj[a].push(b);
                adj[b].push(a);
            }
            let mut seen = vec![false; $n];
            let mut groups = 0;
            for node in 0..$n {
                if !seen[node] {
                    groups += 1;
                    visit(node, &adj, &mut seen);
                }
            }
            groups"""
    else:
        helpers.append(_fn("fn root_of(parent: &mut [usize], x: usize) -> usize", """
            if parent[x] != x {
                let root = root_of(parent, parent[x]);
                parent[x] = root;
            }
            parent[x]""", {}, "/// The root of `x`'s set, pointing every node on the way straight at it.\n"))
        body = """
            let mut parent: Vec<usize> = (0..$n).collect();
            let mut groups = $n;
            for &(a, b) in $e {
                let (ra, rb) = (root_of(&mut parent, a), root_of(&mut parent, b));
                if ra != rb {
                    parent[ra] = rb;
                    groups -= 1;
                }
            }
            groups"""
    checks = []
    for _ in range(4):
        n = r.randrange(1, 9)
        edges = _random_edges(r, n, r.randrange(0, n + 1), False)
        edges = [e if r.random() < 0.5 else e[::-1] for e in edges]
        checks.append(_check(f"{kw['fn']}({n}, {_slice(edges)})", _component_count(n, edges)))
    doc = _doc(r, [("Counts the connected components of an undirected graph with nodes `0..$n` and the\n"
                   "given `$e`."),
                   "Returns how many separate groups the nodes `0..$n` form once every pair in `$e` is linked.",
                   "Number of connected components of a graph given as an edge list."], kw, _short(checks))
    sig = "fn $fn($n: usize, $e: &[(usize, usize)]) -> usize"
    return _Prog([_fn(sig, body, kw, doc)], checks, helpers=helpers, params=style)


@_family("union_find")
def _union_find(r: random.Random) -> _Prog:
    S = r.choice(["DisjointSet", "UnionFind", "Dsu"])
    sizes = r.random() < 0.5
    kw = {"S": S, "f": r.choice(["root", "find_root", "leader"]), "u": r.choice(["union", "merge", "join"]),
          "c": r.choice(["connected", "same_set", "linked"])}
    field = "    size: Vec<usize>,\n" if sizes else ""
    new_body = ("Self {\n    parent: (0..n).collect(),\n    size: vec![1; n],\n}" if sizes
                else "Self {\n    parent: (0..n).collect(),\n}")
    find_body = r.choice(["""
        if self.parent[x] != x {
            let root = self.$f(self.parent[x]);
            self.parent[x] = root;
        }
        self.parent[x]""", """
        let mut root = x;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        let mut node = x;
        while self.parent[node] != root {
            let next = self.parent[node];
            self.parent[node] = root;
            node = next;
        }
        root"""])
    union_body = ("""
        let (mut a, mut b) = (self.$f(a), self.$f(b));
        if a == b {
            return false;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
        true""" if sizes else """
        let (a, b) = (self.$f(a), self.$f(b));
        if a == b {
            return false;
        }
        self.parent[a] = b;
        true""")
    ind = lambda body: textwrap.indent(textwrap.dedent(body).strip("\n"), "        ")
    item = (f"/// Disjoint sets over `0..n` with path compression{' and union by size' if sizes else ''}.\n"
            f"struct {S} {{\n    parent: Vec<usize>,\n{field}}}\n\nimpl {S} {{\n"
            f"    fn new(n: usize) -> Self {{\n{ind(new_body)}\n    }}\n\n"
            f"    /// The representative of `x`'s set.\n"
            f"    fn {kw['f']}(&mut self, x: usize) -> usize {{\n{ind(find_body)}\n    }}\n\n"
            f"    /// Merges the sets of `a` and `b`; false when they were already one set.\n"
            f"    fn {kw['u']}(&mut self, a: usize, b: usize) -> bool {{\n{ind(union_body)}\n    }}\n\n"
            f"    fn {kw['c']}(&mut self, a: usize, b: usize) -> bool {{\n"
            f"        self.$f(a) == self.$f(b)\n    }}\n}}\n").replace("$f", kw["f"])
    n = r.randrange(5, 9)
    var = r.choice(["sets", "dsu", "groups"])
    checks = [f"let mut {var} = {S}::new({n});"]
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x
    for _ in range(r.randrange(3, 6)):
        a, b = r.randrange(n), r.randrange(n)
        merged = find(a) != find(b)
        parent[find(a)] = find(b)
        checks.append(_check(f"{var}.{kw['u']}({a}, {b})", merged))
    for _ in range(3):
        a, b = r.randrange(n), r.randrange(n)
        checks.append(_check(f"{var}.{kw['c']}({a}, {b})", find(a) == find(b)))
    return _Prog([item], checks, params=f"{S} sizes={sizes}")


def _is_acyclic(n: int, edges: list[tuple[int, int]]) -> bool:
    indeg = [0] * n
    for _, b in edges:
        indeg[b] += 1
    ready = [v for v in range(n) if indeg[v] == 0]
    done = 0
    while ready:
        v = ready.pop()
        done += 1
        for a, b in edges:
            if a == v:
                indeg[b] -= 1
                if indeg[b] == 0:
                    ready.append(b)
    return done == n


@_family("dag_check")
def _dag_check(r: random.Random) -> _Prog:
    task = r.choice(["acyclic", "cyclic", "valid_order"])
    kw = {"n": r.choice(["n", "nodes"]), "e": r.choice(["edges", "deps", "arcs"]),
          "fn": r.choice({"acyclic": ["is_acyclic", "is_dag", "can_finish_all"],
                          "cyclic": ["has_cycle", "contains_cycle", "has_circular_dependency"],
                          "valid_order": ["is_topological_order", "respects_dependencies", "valid_order"]}[task])}
    helpers = []
    if task == "valid_order":
        sig = "fn $fn($n: usize, $e: &[(usize, usize)], order: &[usize]) -> bool"
        body = r.choice(["""
            let mut position = vec![usize::MAX; $n];
            for (i, &node) in order.iter().enumerate() {
                position[node] = i;
            }
            order.len() == $n && $e.iter().all(|&(a, b)| position[a] < position[b])""", """
            if order.len() != $n {
                return false;
            }
            let mut position = vec![0; $n];
            for (i, &node) in order.iter().enumerate() {
                position[node] = i;
            }
            for &(a, b) in $e {
                if position[a] > position[b] {
                    return false;
                }
            }
            true"""])
        phr = [("Checks whether `order` lists the nodes `0..$n` so that every edge `(a, b)` of `$e`\n"
               "has `a` before `b`. `order` must be a permutation of `0..$n`."),
               "Returns true when `order` is a valid topological order of the directed graph `$e`."]
    else:
        sig = "fn $fn($n: usize, $e: &[(usize, usize)]) -> bool"
        result = "done == $n" if task == "acyclic" else "done < $n"
        if r.random() < 0.5:
            body = f"""
                let mut indegree = vec![0; $n];
                let mut adj = vec![Vec::new(); $n];
                for &(a, b) in $e {{
                    adj[a].push(b);
                    indegree[b] += 1;
                }}
                let mut ready: Vec<usize> = (0..$n).filter(|&v| indegree[v] == 0).collect();
                let mut done = 0;
                while let Some(v) = ready.pop() {{
                    done += 1;
                    for &m in &adj[v] {{
                        indegree[m] -= 1;
                        if indegree[m] == 0 {{
                            ready.push(m);
                        }}
                    }}
                }}
                {result}"""
        else:
            helpers.append(_fn("fn on_cycle(node: usize, adj: &[Vec<usize>], state: &mut [u8]) -> bool", """
                // 0 = unvisited, 1 = on the current path, 2 = finished.
                match state[node] {
                    1 => return true,
                    2 => return false,
                    _ => {}
                }
                state[node] = 1;
                if adj[node].iter().any(|&m| on_cycle(m, adj, state)) {
                    return true;
                }
                state[node] = 2;
                false""", {}))
            neg = "!" if task == "acyclic" else ""
            body = f"""
                let mut adj = vec![Vec::new(); $n];
                for &(a, b) in $e {{
                    adj[a].push(b);
                }}
                let mut state = vec![0; $n];
                {neg}(0..$n).any(|v| on_cycle(v, &adj, &mut state))"""
        phr = (["Returns true when the directed graph on `0..$n` with edges `$e` has no cycle.",
                "Checks whether every task can be done when `(a, b)` in `$e` means `a` must come before `b`."]
               if task == "acyclic" else
               ["Returns true when the directed graph on `0..$n` with edges `$e` contains a cycle.",
                "Detects a circular dependency among `$e`, where `(a, b)` means `b` depends on `a`."])
    checks = []
    for _ in range(4):
        n = r.randrange(2, 7)
        if r.random() < 0.5:  # a DAG: edges go forward in a random order of the nodes
            perm = r.sample(range(n), n)
            edges = [(perm[a], perm[b]) for a, b in _random_edges(r, n, r.randrange(1, n + 2), False)]
        else:
            edges = _random_edges(r, n, r.randrange(1, n + 2), True)
        ok = _is_acyclic(n, edges)
        if task == "valid_order":
            order = r.sample(range(n), n)
            if ok and r.random() < 0.6:
                order, indeg = [], [0] * n
                for _, b in edges:
                    indeg[b] += 1
                ready = sorted(v for v in range(n) if indeg[v] == 0)
                while ready:
                    v = ready.pop(0)
                    order.append(v)
                    for a, b in edges:
                        if a == v:
                            indeg[b] -= 1
                            if indeg[b] == 0:
                                ready.append(b)
            pos = {v: i for i, v in enumerate(order)}
            valid = all(pos[a] < pos[b] for a, b in edges)
            line = _check(f"{kw['fn']}({n}, {_slice(edges)}, {_slice(order)})", valid)
            if len(line) > 96:
                checks.append(f"let {kw['e']} = {_lit(edges)};")
                line = _check(f"{kw['fn']}({n}, &{kw['e']}, {_slice(order)})", valid)
            checks.append(line)
        else:
            checks.append(_check(f"{kw['fn']}({n}, {_slice(edges)})", ok if task == "acyclic" else not ok))
    doc = _doc(r, phr + ["Works on a dependency graph given as an edge list over the nodes `0..$n`."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, helpers=helpers, params=task)


@_family("dijkstra")
def _dijkstra(r: random.Random) -> _Prog:
    every = r.random() < 0.5
    W = r.choice(["u32", "u64", "usize"])
    kw = {"fn": r.choice(["distances_from", "dijkstra", "shortest_distances"] if every
                         else ["shortest_path_cost", "cheapest_route", "min_travel_cost"]),
          "n": r.choice(["n", "nodes"]), "e": r.choice(["edges", "roads", "links"]), "s": r.choice(["start", "src"]),
          "W": W}
    undirected = r.random() < 0.4
    back = "    adj[b].push((a, w));\n" if undirected else ""
    early = "" if every else "\n    if node == goal {\n        return Some(d);\n    }"
    body = f"""let mut adj = vec![Vec::new(); $n];
for &(a, b, w) in $e {{
    adj[a].push((b, w));
{back}}}
let mut dist: Vec<Option<$W>> = vec![None; $n];
let mut heap = BinaryHeap::new();
dist[$s] = Some(0);
heap.push(Reverse((0, $s)));
while let Some(Reverse((d, node))) = heap.pop() {{
    if dist[node].is_some_and(|best| d > best) {{
        continue;
    }}{early}
    for &(next, w) in &adj[node] {{
        let candidate = d + w;
        if dist[next].is_none_or(|best| candidate < best) {{
            dist[next] = Some(candidate);
            heap.push(Reverse((candidate, next)));
        }}
    }}
}}
{"dist" if every else "None"}"""
    if every:
        sig = "fn $fn($n: usize, $e: &[(usize, usize, $W)], $s: usize) -> Vec<Option<$W>>"
    else:
        sig = "fn $fn($n: usize, $e: &[(usize, usize, $W)], $s: usize, goal: usize) -> Option<$W>"
    n = r.randrange(3, 6)
    edges = [(a, b, r.randrange(1, 10)) for a, b in _random_edges(r, n, r.randrange(2, 7), not undirected)]
    var = r.choice(["graph", "edges_list", "routes"])
    checks = [f"let {var} = {_lit(edges)};"]
    adj = [[] for _ in range(n)]
    for a, b, w in edges:
        adj[a].append((b, w))
        if undirected:
            adj[b].append((a, w))

    def dists(s: int) -> list:
        dist, heap = {s: 0}, [(0, s)]
        while heap:
            d, v = heapq.heappop(heap)
            if d > dist[v]:
                continue
            for m, w in adj[v]:
                if m not in dist or d + w < dist[m]:
                    dist[m] = d + w
                    heapq.heappush(heap, (d + w, m))
        return [dist.get(v) for v in range(n)]
    for _ in range(2 if every else 3):
        s = r.randrange(n)
        ds = dists(s)
        if every:
            value = "vec![" + ", ".join("None" if d is None else f"Some({d})" for d in ds) + "]"
            checks.append(f"assert_eq!({kw['fn']}({n}, &{var}, {s}), {value});")
        else:
            t = r.randrange(n)
            value = "None" if ds[t] is None else f"Some({ds[t]})"
            checks.append(f"assert_eq!({kw['fn']}({n}, &{var}, {s}, {t}), {value});")
    kind = "undirected" if undirected else "directed"
    phr = ([("Dijkstra's algorithm: the cheapest distance from `$s` to every node of a $kind graph\n"
            "with non-negative edge weights (`None` where a node is unreachable)."),
            "Returns the shortest weighted distance from `$s` to each node `0..$n`.",
            "Single-source shortest paths over `(from, to, weight)` edges, using a binary heap."] if every else
           [("Returns the cost of the cheapest path from `$s` to `goal` in a $kind weighted graph,\n"
            "or `None` when `goal` cannot be reached."),
            "Dijkstra with a min-heap: the smallest total weight of a route from `$s` to `goal`.",
            "Cheapest route between two nodes, given `(from, to, weight)` edges."])
    doc = _doc(r, phr, {**kw, "kind": kind})
    uses = ["std::cmp::Reverse", "std::collections::BinaryHeap"]
    return _Prog([_fn(_sig(sig, kw), body, kw, doc)], checks, uses=uses, params=f"every={every} {kind} {W}")


# ---- sorting and searching by hand ----

@_family("merge_sort")
def _merge_sort(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "T"])
    kw = {"fn": r.choice(["merge_sort", "merge_sorted_copy", "sorted_by_merging"]), "xs": r.choice(_SEQ), "T": T,
          "m": r.choice(["merge", "merge_halves", "merge_runs"])}
    gen = "<T: PartialOrd + Copy>" if T == "T" else ""
    style = r.choice(["index", "peekable"])
    merge_body = """
        let mut out = Vec::with_capacity(left.len() + right.len());
        let (mut i, mut j) = (0, 0);
        while i < left.len() && j < right.len() {
            if left[i] <= right[j] {
                out.push(left[i]);
                i += 1;
            } else {
                out.push(right[j]);
                j += 1;
            }
        }
        out.extend_from_slice(&left[i..]);
        out.extend_from_slice(&right[j..]);
        out""" if style == "index" else """
        let mut out = Vec::with_capacity(left.len() + right.len());
        let mut a = left.iter().peekable();
        let mut b = right.iter().peekable();
        while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
            if x <= y {
                out.push(x);
                a.next();
            } else {
                out.push(y);
                b.next();
            }
        }
        out.extend(a);
        out.extend(b);
        out"""
    merge = _fn(f"fn $m{gen}(left: &[$T], right: &[$T]) -> Vec<$T>", merge_body, kw,
                "/// Merges two sorted slices into one sorted vector.\n")
    body = """
        if $xs.len() <= 1 {
            return $xs.to_vec();
        }
        let (left, right) = $xs.split_at($xs.len() / 2);
        $m(&$fn(left), &$fn(right))"""
    checks = []
    for k in (0, 1, r.randrange(2, 6), r.randrange(6, 10)):
        xs = [r.randrange(0 if T == "u32" else -30, 30) for _ in range(k)]
        call = kw["fn"] + ("::<i32>" if T == "T" and not xs else "")
        checks.append(f"assert_eq!({call}({_slice(xs)}), {_vec(sorted(xs), 'i32' if T == 'T' else T)});")
    doc = _doc(r, ["Returns a sorted copy of `$xs` using merge sort: sort each half, then merge them.",
                   "Merge sort. Stable, O(n log n), and leaves `$xs` untouched.",
                   "Sorts `$xs` into a new vector by recursive splitting and merging."], kw)
    return _Prog([_fn(f"fn $fn{gen}($xs: &[$T]) -> Vec<$T>", body, kw, doc)], checks, helpers=[merge],
                 params=f"{style} {T}")


@_family("quicksort")
def _quicksort(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "T"])
    kw = {"fn": r.choice(["quicksort", "quick_sort", "sort_quickly"]), "xs": r.choice(_SEQ), "T": T,
          "p": r.choice(["partition", "lomuto_partition", "split_around_pivot"])}
    gen = "<T: PartialOrd>" if T == "T" else ""
    style = r.choice(["lomuto", "copying"])
    checks, helpers = [], []
    samples = [[], [r.randrange(0, 9) for _ in range(r.randrange(2, 6))],
               [r.randrange(0 if T == "u32" else -40, 40) for _ in range(r.randrange(6, 10))]]
    ety = "i32" if T == "T" else T
    if style == "lomuto":
        helpers.append(_fn(f"fn $p{gen}($xs: &mut [$T]) -> usize", """
            // Lomuto: the last element is the pivot; smaller elements are moved in front of `store`.
            let last = $xs.len() - 1;
            let mut store = 0;
            for i in 0..last {
                if $xs[i] < $xs[last] {
                    $xs.swap(i, store);
                    store += 1;
                }
            }
            $xs.swap(store, last);
            store""", kw, "/// Partitions `$xs` around its last element and returns the pivot's final index.\n"
                          .replace("$xs", kw["xs"])))
        body = """
            if $xs.len() <= 1 {
                return;
            }
            let pivot = $p($xs);
            let (left, right) = $xs.split_at_mut(pivot);
            $fn(left);
            $fn(&mut right[1..]);"""
        sig = f"fn $fn{gen}($xs: &mut [$T])"
        for i, xs in enumerate(samples):
            typ = f": Vec<{ety}>" if not xs else ""
            checks += [f"let mut v{i}{typ} = {_lit(xs)};", f"{kw['fn']}(&mut v{i});",
                       f"assert_eq!(v{i}, {_vec(sorted(xs), ety)});"]
        phr = ["Sorts `$xs` in place with quicksort (Lomuto partition, last element as pivot).",
               "In-place quicksort: partition around a pivot, then sort both sides recursively."]
    else:
        gen = "<T: PartialOrd + Copy>" if T == "T" else ""
        body = """
            let Some((&pivot, rest)) = $xs.split_first() else {
                return Vec::new();
            };
            let smaller: Vec<$T> = rest.iter().copied().filter(|&x| x < pivot).collect();
            let larger: Vec<$T> = rest.iter().copied().filter(|&x| x >= pivot).collect();
            let mut out = $fn(&smaller);
            out.push(pivot);
            out.extend($fn(&larger));
            out"""
        sig = f"fn $fn{gen}($xs: &[$T]) -> Vec<$T>"
        # A generic call on an empty slice needs the element type spelled out.
        checks = [f"assert_eq!({kw['fn']}{'' if xs or T != 'T' else '::<i32>'}({_slice(xs)}), "
                  f"{_vec(sorted(xs), ety)});" for xs in samples]
        phr = [("Returns a sorted copy of `$xs`, quicksort style: the first element is the pivot,\n"
               "the smaller and the larger elements are sorted recursively."),
               "A copying quicksort that builds a new vector."]
    doc = _doc(r, phr + ["Quicksort of `$xs` in ascending order."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, helpers=helpers, params=f"{style} {T}")


@_family("counting_sort")
def _counting_sort(r: random.Random) -> _Prog:
    T = r.choice(["u8", "usize", "u32"])
    kw = {"fn": r.choice(["counting_sort", "sort_by_counting", "bucket_count_sort"]), "xs": r.choice(_SEQ),
          "T": T, "max": r.choice(["max", "max_value", "limit"])}
    bounded = T != "u8" and r.random() < 0.5
    style = r.choice(["push", "extend"])
    size = "$max + 1" if bounded else ("256" if T == "u8" else f"$xs.iter().max().map_or(0, |&m| {'m' if T == 'usize' else 'm as usize'} + 1)")
    idx = "x" if T == "usize" else "x as usize"
    back = "value" if T == "usize" else "value as $T"
    emit = (f"""
        for (value, &count) in counts.iter().enumerate() {{
            for _ in 0..count {{
                out.push({back});
            }}
        }}""" if style == "push" else f"""
        for (value, &count) in counts.iter().enumerate() {{
            out.extend(std::iter::repeat({back}).take(count));
        }}""")
    body = textwrap.dedent(f"""
        let mut counts = vec![0usize; {size}];
        for &x in $xs {{
            counts[{idx}] += 1;
        }}
        let mut out = Vec::with_capacity($xs.len());{emit}
        out""")
    params = "$xs: &[$T], $max: usize" if bounded else "$xs: &[$T]"
    checks = []
    for k in (0, r.randrange(3, 7), r.randrange(7, 12)):
        hi = r.randrange(3, 12)
        xs = [r.randrange(0, hi) for _ in range(k)]
        extra = f", {max(xs + [hi])}" if bounded else ""
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}{extra}), {_vec(sorted(xs), T)});")
    note = "All values must be at most `$max`." if bounded else "Meant for small values."
    doc = _doc(r, [f"Sorts `$xs` by counting how often each value occurs. {note}",
                   f"Counting sort: returns the values of `$xs` in ascending order in linear time.\n{note}",
                   "Returns `$xs` sorted, tallying occurrences instead of comparing elements."], kw)
    return _Prog([_fn(f"fn $fn({params}) -> Vec<$T>", body, kw, doc)], checks, params=f"{style} {T} {bounded}")


@_family("sorted_bounds")
def _sorted_bounds(r: random.Random) -> _Prog:
    task = r.choice(["count", "upper", "range"])
    T = r.choice(["i32", "i64", "u32"])
    kw = {"xs": r.choice(["sorted", "xs", "values", "nums"]), "T": T, "t": r.choice(["target", "key", "x"]),
          "fn": r.choice({"count": ["count_in_sorted", "occurrences_sorted", "count_equal"],
                          "upper": ["upper_bound", "first_greater_index", "index_after"],
                          "range": ["count_between", "count_in_range", "range_count"]}[task])}
    helpers = []
    bound = _fn("fn $b($xs: &[$T], $t: $T) -> usize", """
        let (mut lo, mut hi) = (0, $xs.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if $xs[mid] $op $t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo""", {**kw, "b": "$b", "op": "$op"})
    first = "/// The index of the first element of `$xs` that is $what `$t`.\n"
    lower = first.replace("$what", "not less than") + bound.replace("$b", "lower_bound").replace("$op", "<")
    upper = first.replace("$what", "greater than") + bound.replace("$b", "upper_bound").replace("$op", "<=")
    if task == "upper":
        kw["fn"] = kw["fn"] if kw["fn"] != "upper_bound" else r.choice(["upper_bound", "bisect_right"])
        item = upper.replace("upper_bound", kw["fn"])
        item = _doc(r, [("Returns the index of the first element of the sorted slice `$xs` greater than `$t`\n"
                        "(its length when there is none), by binary search."),
                        "Binary search for the position just past the last element equal to `$t`.",
                        "Upper bound: how many elements of the sorted `$xs` are at most `$t`."],
                    kw) + item.split("\n", 1)[1]
        items = [item.replace("$xs", kw["xs"]).replace("$t", kw["t"])]
        call = lambda xs, t: (f"{kw['fn']}({_slice(xs)}, {t})", sum(x <= t for x in xs))
    else:
        helpers = [lower.replace("$xs", kw["xs"]).replace("$t", kw["t"]),
                   upper.replace("$xs", kw["xs"]).replace("$t", kw["t"])]
        if task == "count":
            sig, body = "fn $fn($xs: &[$T], $t: $T) -> usize", "upper_bound($xs, $t) - lower_bound($xs, $t)"
            phr = ["Counts how many times `$t` occurs in the sorted slice `$xs`, in O(log n).",
                   "Returns the number of elements equal to `$t` in `$xs`, which must be sorted."]
            call = lambda xs, t: (f"{kw['fn']}({_slice(xs)}, {t})", xs.count(t))
        else:
            sig = "fn $fn($xs: &[$T], lo: $T, hi: $T) -> usize"
            body = "if lo > hi {\n    return 0;\n}\nupper_bound($xs, hi) - lower_bound($xs, lo)"
            phr = ["Counts the elements `x` of the sorted slice `$xs` with `lo <= x <= hi`.",
                   "How many values of `$xs` (sorted ascending) fall in the closed range `lo..=hi`?"]
            call = None
        items = [_fn(sig, body, kw, _doc(r, phr, kw))]
    checks = []
    for _ in range(4):
        xs = sorted(r.randrange(0, 12) for _ in range(r.randrange(0, 9)))
        t = r.randrange(0, 13)
        if call is None:
            lo, hi = sorted([t, r.randrange(0, 13)])
            if r.random() < 0.15:
                lo, hi = hi + 1, lo
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {lo}, {hi})", sum(lo <= x <= hi for x in xs)))
        else:
            checks.append(_check(*call(xs, t)))
    return _Prog(items, checks, helpers=helpers, params=f"{task} {T}")


def _min_feasible(weights: list[int], parts: int) -> int:
    lo = max(weights)
    while True:
        used, load = 1, 0
        for w in weights:
            if load + w > lo:
                used, load = used + 1, 0
            load += w
        if used <= parts:
            return lo
        lo += 1


@_family("answer_search")
def _answer_search(r: random.Random) -> _Prog:
    task = r.choice(["capacity", "speed"])
    T = r.choice(["u32", "u64", "usize"])
    if task == "capacity":
        kw = {"fn": r.choice(["min_capacity", "smallest_ship_capacity", "min_daily_load"]),
              "xs": r.choice(["weights", "loads", "packages"]), "k": r.choice(["days", "trips"]), "T": T,
              "ok": r.choice(["fits", "can_ship", "feasible"])}
        helper = _fn("fn $ok($xs: &[$T], $k: usize, cap: $T) -> bool", """
            let mut used = 1;
            let mut load = 0;
            for &w in $xs {
                if load + w > cap {
                    used += 1;
                    load = 0;
                }
                load += w;
            }
            used <= $k""", kw, "/// Whether `$xs`, kept in order, fit in `$k` loads of at most `cap` each.\n"
                     .replace("$xs", kw["xs"]).replace("$k", kw["k"]))
        lo, hi = "*$xs.iter().max().unwrap()", "$xs.iter().sum()"
        phr = [("Returns the smallest capacity that ships every package of `$xs`, in order,\n"
               "within `$k` $k (binary search on the answer). `$xs` must not be empty."),
               "Smallest per-trip load that moves all `$xs` in order using at most `$k` trips."]
        ref = _min_feasible
    else:
        kw = {"fn": r.choice(["min_eating_speed", "slowest_rate", "min_rate_to_finish"]),
              "xs": r.choice(["piles", "jobs", "heaps"]), "k": r.choice(["hours", "hours_left", "limit"]), "T": T,
              "ok": r.choice(["finishes", "fast_enough", "done_in_time"])}
        helper = _fn("fn $ok($xs: &[$T], $k: $T, rate: $T) -> bool", """
            let needed: $T = $xs.iter().map(|&p| p.div_ceil(rate)).sum();
            needed <= $k""", kw, "/// Whether eating `rate` per hour clears every pile of `$xs` within `$k` hours.\n"
                     .replace("$xs", kw["xs"]).replace("$k", kw["k"]))
        lo, hi = "1", "*$xs.iter().max().unwrap()"
        phr = [("Returns the smallest whole rate at which every pile of `$xs` is finished within `$k`\n"
               "hours, one pile at a time (at most one pile per hour). `$xs` must not be empty."),
               "Binary search on the answer: the minimum speed that clears `$xs` in `$k` hours."]

        def ref(piles: list[int], hours: int) -> int:
            return next(v for v in range(1, max(piles) + 1) if sum(-(-p // v) for p in piles) <= hours)
    ksig = "usize" if task == "capacity" else "$T"
    body = f"""
        let (mut lo, mut hi) = ({lo}, {hi});
        while lo < hi {{
            let mid = lo + (hi - lo) / 2;
            if $ok($xs, $k, mid) {{
                hi = mid;
            }} else {{
                lo = mid + 1;
            }}
        }}
        lo"""
    checks = []
    for _ in range(3):
        xs = [r.randrange(1, 15) for _ in range(r.randrange(1, 7))]
        k = r.randrange(1, len(xs) + 2) if task == "capacity" else r.randrange(len(xs), len(xs) + 6)
        checks.append(_check(f"{kw['fn']}({_slice(xs)}, {k})", ref(xs, k)))
    doc = _doc(r, phr + ["Finds the least `x` for which `$ok` holds, by bisecting the range of possible answers."], kw)
    return _Prog([_fn(f"fn $fn($xs: &[$T], $k: {ksig}) -> $T", body, kw, doc)], checks, helpers=[helper],
                 params=f"{task} {T}")


@_family("elastic_window")
def _elastic_window(r: random.Random) -> _Prog:
    task = r.choice(["longest_at_most", "shortest_at_least"])
    T = r.choice(["u32", "u64", "usize"])
    ptype, render = _seq_param(r, T)
    kw = {"xs": r.choice(_SEQ), "T": T, "P": ptype, "b": r.choice(["limit", "budget", "cap"] if task[0] == "l"
                                                                     else ["target", "goal", "need"]),
          "fn": r.choice(["longest_run_within", "longest_window_at_most", "max_len_under_budget"]
                         if task == "longest_at_most" else
                         ["shortest_run_reaching", "min_window_len", "shortest_subarray_at_least"])}
    if task == "longest_at_most":
        sig = "fn $fn($xs: $P, $b: $T) -> usize"
        body = """
            let mut best = 0;
            let mut left = 0;
            let mut sum = 0;
            for right in 0..$xs.len() {
                sum += $xs[right];
                while sum > $b {
                    sum -= $xs[left];
                    left += 1;
                }
                best = best.max(right + 1 - left);
            }
            best"""
        phr = ["Returns the length of the longest contiguous run of `$xs` whose sum is at most `$b`.",
               "Sliding window with two pointers: the longest stretch of `$xs` adding up to `$b` or less."]
    else:
        sig = "fn $fn($xs: $P, $b: $T) -> Option<usize>"
        body = """
            let mut best: Option<usize> = None;
            let mut left = 0;
            let mut sum = 0;
            for right in 0..$xs.len() {
                sum += $xs[right];
                while sum >= $b && left <= right {
                    let len = right + 1 - left;
                    best = Some(best.map_or(len, |b| b.min(len)));
                    sum -= $xs[left];
                    left += 1;
                }
            }
            best"""
        phr = [("Returns the length of the shortest contiguous run of `$xs` whose sum is at least `$b`,\n"
               "or `None` when even the whole slice falls short. `$b` must be positive."),
               "Two-pointer window: the fewest consecutive elements of `$xs` that reach `$b`."]
    checks = []
    for _ in range(4):
        xs = [r.randrange(0, 10) for _ in range(r.randrange(0, 9))]
        b = r.randrange(1, 25)
        subs = [(j - i, sum(xs[i:j])) for i in range(len(xs)) for j in range(i + 1, len(xs) + 1)]
        if task == "longest_at_most":
            value = _lit(max([n for n, s in subs if s <= b], default=0))
        else:
            best = min([n for n, s in subs if s >= b], default=None)
            value = "None" if best is None else f"Some({best})"
        checks.append(f"assert_eq!({kw['fn']}({render(xs)}, {b}), {value});")
    doc = _doc(r, phr + ["Scans `$xs` once, growing the window on the right and shrinking it on the left."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


# ---- backtracking ----

@_family("power_set")
def _power_set(r: random.Random) -> _Prog:
    task = r.choice(["list", "count_sum"])
    T = r.choice(["i32", "i64", "u32"])
    kw = {"xs": r.choice(_SEQ), "T": T}
    helpers = []
    style = r.choice(["bitmask", "recursive"])
    if task == "list":
        kw["fn"] = r.choice(["all_subsets", "power_set", "subsets_of"])
        sig = "fn $fn($xs: &[$T]) -> Vec<Vec<$T>>"
        if style == "bitmask":
            body = """
                (0..1usize << $xs.len())
                    .map(|mask| {
                        (0..$xs.len())
                            .filter(|&i| mask >> i & 1 == 1)
                            .map(|i| $xs[i])
                            .collect()
                    })
                    .collect()"""
        else:
            helpers.append(_fn("fn extend_subsets($xs: &[$T], chosen: &mut Vec<$T>, out: &mut Vec<Vec<$T>>)", """
                let Some((&first, rest)) = $xs.split_first() else {
                    out.push(chosen.clone());
                    return;
                };
                extend_subsets(rest, chosen, out);
                chosen.push(first);
                extend_subsets(rest, chosen, out);
                chosen.pop();""", kw))
            body = "let mut out = Vec::new();\nextend_subsets($xs, &mut Vec::new(), &mut out);\nout"
        phr = [("Returns every subset of `$xs` (2^n of them, the empty one included); each subset keeps\n"
               "the original order of its elements."),
               "Builds the power set of `$xs`.",
               "Lists all ways to pick some elements of `$xs`, in any order of subsets."]
        checks = []
        for i, k in enumerate((r.randrange(0, 2), r.randrange(2, 4))):
            xs = r.sample(range(1, 10), k)
            subs = sorted([[x for j, x in enumerate(xs) if m >> j & 1] for m in range(1 << k)])
            checks += [f"let mut got{i} = {kw['fn']}({_slice(xs)});", f"got{i}.sort();",
                       f"assert_eq!(got{i}, {_lit(subs)});"]
            if k == 0:
                checks[-1] = f"assert_eq!(got{i}, vec![Vec::<{T}>::new()]);"
                checks[-3] = f"let mut got{i} = {kw['fn']}(&[]);"
    else:
        kw["fn"] = r.choice(["count_subsets_with_sum", "subset_sum_ways", "ways_to_pick_sum"])
        kw["t"] = r.choice(["target", "total", "goal"])
        sig = "fn $fn($xs: &[$T], $t: $T) -> usize"
        if style == "bitmask":
            body = """
                (0..1u32 << $xs.len())
                    .filter(|mask| {
                        let sum: $T = (0..$xs.len())
                            .filter(|&i| mask >> i & 1 == 1)
                            .map(|i| $xs[i])
                            .sum();
                        sum == $t
                    })
                    .count()"""
        else:
            body = """
                match $xs.split_first() {
                    None => usize::from($t == 0),
                    Some((&first, rest)) => {
                        let with = if first <= $t {
                            $fn(rest, $t - first)
                        } else {
                            0
                        };
                        with + $fn(rest, $t)
                    }
                }"""
        phr = [("Counts the subsets of `$xs` (by position) whose elements add up to `$t`.\n"
               "The values are positive; the empty subset counts when `$t` is 0."),
               "How many ways are there to choose some elements of `$xs` summing to exactly `$t`?"]
        checks = []
        for _ in range(4):
            xs = [r.randrange(1, 9) for _ in range(r.randrange(0, 7))]
            t = sum(x for x in xs if r.random() < 0.5) if r.random() < 0.7 else r.randrange(0, 16)
            ways = sum(sum(x for j, x in enumerate(xs) if m >> j & 1) == t for m in range(1 << len(xs)))
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {t})", ways))
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, helpers=helpers, params=f"{task} {style} {T}")


@_family("permutations")
def _permutations(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u8", "char"])
    kw = {"xs": r.choice(_SEQ), "T": T, "fn": r.choice(["permutations", "all_orderings", "all_arrangements"])}
    style = r.choice(["used", "swap"])
    if style == "used":
        helper = _fn("fn arrange($xs: &[$T], used: &mut [bool], current: &mut Vec<$T>, out: &mut Vec<Vec<$T>>)", """
            if current.len() == $xs.len() {
                out.push(current.clone());
                return;
            }
            for i in 0..$xs.len() {
                if !used[i] {
                    used[i] = true;
                    current.push($xs[i]);
                    arrange($xs, used, current, out);
                    current.pop();
                    used[i] = false;
                }
            }""", kw)
        body = """
            let mut out = Vec::new();
            let mut used = vec![false; $xs.len()];
            arrange($xs, &mut used, &mut Vec::new(), &mut out);
            out"""
        order = "in lexicographic order of positions"
    else:
        helper = _fn("fn permute(items: &mut [$T], start: usize, out: &mut Vec<Vec<$T>>)", """
            if start == items.len() {
                out.push(items.to_vec());
                return;
            }
            for i in start..items.len() {
                items.swap(start, i);
                permute(items, start + 1, out);
                items.swap(start, i);
            }""", kw)
        body = """
            let mut out = Vec::new();
            permute(&mut $xs.to_vec(), 0, &mut out);
            out"""
        order = "by swapping elements into place"
    helper = _sig(helper.split(" {\n", 1)[0], {}) + " {\n" + helper.split(" {\n", 1)[1]
    checks = []
    for i, k in enumerate((r.randrange(1, 3), 3)):
        if T == "char":
            xs = [_ch(c) for c in r.sample("abcdxyz", k)]
        else:
            xs = r.sample(range(1, 10), k)
        perms = sorted(itertools.permutations(xs), key=lambda p: [str(x) for x in p])
        lit = "vec![" + ", ".join("vec![" + ", ".join(map(_lit, p)) + "]" for p in perms) + "]"
        checks += [f"let mut got{i} = {kw['fn']}({_slice(xs)});", f"got{i}.sort();"]
        checks.append(f"assert_eq!(got{i}.len(), {len(perms)});" if len(lit) > 80 else f"assert_eq!(got{i}, {lit});")
        if len(lit) > 80:
            checks.append(f"assert_eq!(got{i}[0], {_lit(list(perms[0]))});")
    doc = _doc(r, [f"Returns every ordering of `$xs` (n! vectors), built {order}.",
                   "Lists all permutations of the distinct elements of `$xs`.",
                   "Generates the permutations of `$xs` with backtracking."], kw)
    return _Prog([_fn("fn $fn($xs: &[$T]) -> Vec<Vec<$T>>", body, kw, doc)], checks, helpers=[helper],
                 params=f"{style} {T}")


def _queens(n: int) -> int:
    def place(row: int, cols: set, d1: set, d2: set) -> int:
        if row == n:
            return 1
        return sum(place(row + 1, cols | {c}, d1 | {row + c}, d2 | {row - c + n})
                   for c in range(n) if c not in cols and row + c not in d1 and row - c + n not in d2)
    return place(0, set(), set(), set())


@_family("n_queens")
def _n_queens(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["n_queens", "count_queen_placements", "queens_solutions"]), "n": r.choice(["n", "size"])}
    style = r.choice(["arrays", "bitmask"])
    if style == "arrays":
        helper = _fn("fn place(row: usize, $n: usize, cols: &mut [bool], diag: &mut [bool], anti: &mut [bool]) -> usize",
                     """
            if row == $n {
                return 1;
            }
            let mut count = 0;
            for col in 0..$n {
                let (d, a) = (row + col, row + $n - col);
                if cols[col] || diag[d] || anti[a] {
                    continue;
                }
                cols[col] = true;
                diag[d] = true;
                anti[a] = true;
                count += place(row + 1, $n, cols, diag, anti);
                cols[col] = false;
                diag[d] = false;
                anti[a] = false;
            }
            count""", kw)
        body = """
            let mut cols = vec![false; $n];
            let mut diag = vec![false; 2 * $n];
            let mut anti = vec![false; 2 * $n + 1];
            place(0, $n, &mut cols, &mut diag, &mut anti)"""
    else:
        helper = _fn("fn place(full: u32, cols: u32, left: u32, right: u32) -> u32", """
            if cols == full {
                return 1;
            }
            // Bits set in `free` are the columns of this row that no queen attacks.
            let mut free = full & !(cols | left | right);
            let mut count = 0;
            while free != 0 {
                let bit = free & free.wrapping_neg();
                free ^= bit;
                count += place(full, cols | bit, (left | bit) << 1, (right | bit) >> 1);
            }
            count""", kw)
        body = "place((1 << $n) - 1, 0, 0, 0)"
    ret = "usize" if style == "arrays" else "u32"
    helper = _sig(helper.split(" {\n", 1)[0], {}) + " {\n" + helper.split(" {\n", 1)[1]
    ns = sorted(r.sample(range(1, 8), 4))
    checks = [_check(f"{kw['fn']}({n})", _queens(n)) for n in ns]
    doc = _doc(r, [("Counts the ways to place `$n` queens on a `$n` x `$n` board so that no two attack\n"
                   "each other."),
                   "Returns the number of solutions of the n-queens puzzle, found by backtracking row by row.",
                   "How many non-attacking arrangements of `$n` queens exist?"], kw, _short(checks))
    return _Prog([_fn(f"fn $fn($n: {'usize' if style == 'arrays' else 'u32'}) -> {ret}", body, kw, doc)], checks,
                 helpers=[helper], params=style)


@_family("k_combinations")
def _k_combinations(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["combinations", "choose_k", "k_subsets"]), "n": r.choice(["n", "max"]),
          "k": r.choice(["k", "size", "pick"])}
    style = r.choice(["recursive", "loop_push"])
    helper = _fn("fn extend(start: u32, $n: u32, $k: usize, current: &mut Vec<u32>, out: &mut Vec<Vec<u32>>)", """
        if current.len() == $k {
            out.push(current.clone());
            return;
        }
        for x in start..=$n {
            current.push(x);
            extend(x + 1, $n, $k, current, out);
            current.pop();
        }""" if style == "loop_push" else """
        if current.len() == $k {
            out.push(current.clone());
            return;
        }
        if start > $n {
            return;
        }
        current.push(start);
        extend(start + 1, $n, $k, current, out);
        current.pop();
        extend(start + 1, $n, $k, current, out);""", kw)
    helper = _sig(helper.split(" {\n", 1)[0], {}) + " {\n" + helper.split(" {\n", 1)[1]
    body = """
        let mut out = Vec::new();
        extend(1, $n, $k, &mut Vec::new(), &mut out);
        out"""
    checks = []
    for n, k in ((r.randrange(1, 5), 1), (r.randrange(2, 5), 2), (r.randrange(3, 5), 3), (2, r.choice([0, 3]))):
        combos = [list(c) for c in itertools.combinations(range(1, n + 1), k)]
        lit = _lit(combos) if combos else "Vec::<Vec<u32>>::new()"
        if len(lit) > 84:
            checks.append(f"assert_eq!({kw['fn']}({n}, {k}).len(), {len(combos)});")
        else:
            checks.append(f"assert_eq!({kw['fn']}({n}, {k}), {lit});")
    doc = _doc(r, [("Returns every way to choose `$k` distinct numbers from `1..=$n`, each combination\n"
                   "ascending and the list in lexicographic order."),
                   "All `$k`-element combinations of `1..=$n`, generated by backtracking.",
                   "Lists the combinations of `$k` out of the numbers 1 to `$n`."], kw)
    return _Prog([_fn("fn $fn($n: u32, $k: usize) -> Vec<Vec<u32>>", body, kw, doc)], checks, helpers=[helper],
                 params=style)


# ---- heaps, matrices, intervals ----

@_family("heap_top_k")
def _heap_top_k(r: random.Random) -> _Prog:
    largest = r.random() < 0.6
    T = r.choice(["i32", "i64", "u32"])
    ptype, render = _seq_param(r, T)
    word = "largest" if largest else "smallest"
    kw = {"fn": r.choice([f"k_{word}", f"top_k_{word}", f"{word}_k"]), "xs": r.choice(_SEQ), "T": T, "P": ptype,
          "k": r.choice(["k", "count", "n"])}
    style = r.choice(["bounded", "drain"])
    uses = ["std::collections::BinaryHeap"]
    if largest:
        if style == "bounded":
            uses.append("std::cmp::Reverse")
        body = """
            // A min-heap of the k largest seen so far: its top is the one to drop.
            let mut heap = BinaryHeap::new();
            for &x in $xs.iter() {
                heap.push(Reverse(x));
                if heap.len() > $k {
                    heap.pop();
                }
            }
            let mut out: Vec<$T> = heap.into_iter().map(|Reverse(x)| x).collect();
            out.sort_unstable_by(|a, b| b.cmp(a));
            out""" if style == "bounded" else """
            let mut heap: BinaryHeap<$T> = $xs.iter().copied().collect();
            let mut out = Vec::new();
            while out.len() < $k {
                match heap.pop() {
                    Some(x) => out.push(x),
                    None => break,
                }
            }
            out"""
        order = "largest first"
    else:
        body = """
            // A max-heap of the k smallest seen so far: its top is the one to drop.
            let mut heap = BinaryHeap::new();
            for &x in $xs.iter() {
                heap.push(x);
                if heap.len() > $k {
                    heap.pop();
                }
            }
            heap.into_sorted_vec()""" if style == "bounded" else """
            let mut heap: BinaryHeap<_> = $xs.iter().map(|&x| Reverse(x)).collect();
            let mut out = Vec::new();
            while let Some(Reverse(x)) = heap.pop() {
                if out.len() == $k {
                    break;
                }
                out.push(x);
            }
            out"""
        if style == "drain":
            uses.append("std::cmp::Reverse")
        order = "smallest first"
    checks = []
    for _ in range(3):
        xs = [r.randrange(0, 40) for _ in range(r.randrange(0, 9))]
        k = r.randrange(0, 5)
        top = sorted(xs, reverse=largest)[:k]
        checks.append(f"assert_eq!({kw['fn']}({render(xs)}, {k}), {_vec(top, T)});")
    doc = _doc(r, [f"Returns the `$k` {word} values of `$xs`, {order} (fewer when `$xs` is shorter).",
                   f"Uses a binary heap to pick the `$k` {word} elements of `$xs`, sorted {order}.",
                   f"Top-k selection: the {word} `$k` items of `$xs` in order, {order}."], kw)
    return _Prog([_fn("fn $fn($xs: $P, $k: usize) -> Vec<$T>", body, kw, doc)], checks, uses=uses,
                 params=f"{style} largest={largest} {T}")


def _spiral(m: list[list[int]]) -> list[int]:
    out, m = [], [row[:] for row in m]
    while m:
        out += m.pop(0)
        m = [list(c) for c in zip(*m)][::-1]
    return out


@_family("matrix_walk")
def _matrix_walk(r: random.Random) -> _Prog:
    task = r.choice(["spiral", "rotate", "multiply"])
    T = r.choice(["i32", "i64"])
    kw = {"m": r.choice(["matrix", "grid", "m"]), "T": T,
          "fn": r.choice({"spiral": ["spiral_order", "spiral_walk", "read_spiral"],
                          "rotate": ["rotate_clockwise", "rotated_clockwise", "turn_quarter"],
                          "multiply": ["mat_mul", "matrix_product", "multiply_matrices"]}[task])}
    if task == "spiral":
        sig = "fn $fn($m: &[Vec<$T>]) -> Vec<$T>"
        body = """
            let mut out = Vec::new();
            if $m.is_empty() {
                return out;
            }
            let (mut top, mut left) = (0, 0);
            let (mut bottom, mut right) = ($m.len(), $m[0].len());
            while top < bottom && left < right {
                out.extend_from_slice(&$m[top][left..right]);
                top += 1;
                for row in &$m[top..bottom] {
                    out.push(row[right - 1]);
                }
                right -= 1;
                if top < bottom {
                    out.extend($m[bottom - 1][left..right].iter().rev());
                    bottom -= 1;
                }
                if left < right {
                    for row in $m[top..bottom].iter().rev() {
                        out.push(row[left]);
                    }
                    left += 1;
                }
            }
            out"""
        phr = ["Returns the elements of `$m` in clockwise spiral order, starting at the top-left corner.",
               ("Walks the rectangular matrix `$m` in a spiral: along the top row, down the right side,\n"
               "back along the bottom and up the left side, then inwards."),
               "Spiral traversal of a matrix given as rows."]
        ref, arity = _spiral, 1
    elif task == "rotate":
        sig = "fn $fn($m: &[Vec<$T>]) -> Vec<Vec<$T>>"
        body = r.choice(["""
            let rows = $m.len();
            let cols = $m.first().map_or(0, |row| row.len());
            (0..cols)
                .map(|c| (0..rows).rev().map(|r| $m[r][c]).collect())
                .collect()""", """
            let rows = $m.len();
            let cols = $m.first().map_or(0, |row| row.len());
            let mut out = vec![vec![0; rows]; cols];
            for (r, row) in $m.iter().enumerate() {
                for (c, &x) in row.iter().enumerate() {
                    out[c][rows - 1 - r] = x;
                }
            }
            out"""])
        phr = [("Returns `$m` rotated 90 degrees clockwise: the first column, read bottom to top,\n"
               "becomes the first row."),
               "Rotates a rectangular matrix a quarter turn to the right.",
               "Turns `$m` clockwise by 90 degrees into a new matrix."]
        ref, arity = (lambda m: [list(c) for c in zip(*m[::-1])]), 1
    else:
        sig = "fn $fn(a: &[Vec<$T>], b: &[Vec<$T>]) -> Vec<Vec<$T>>"
        body = r.choice(["""
            let inner = b.len();
            let cols = b.first().map_or(0, |row| row.len());
            let mut out = vec![vec![0; cols]; a.len()];
            for (i, row) in a.iter().enumerate() {
                for j in 0..cols {
                    for k in 0..inner {
                        out[i][j] += row[k] * b[k][j];
                    }
                }
            }
            out""", """
            let cols = b.first().map_or(0, |row| row.len());
            a.iter()
                .map(|row| {
                    (0..cols)
                        .map(|j| row.iter().zip(b).map(|(&x, brow)| x * brow[j]).sum())
                        .collect()
                })
                .collect()"""])
        phr = ["Returns the matrix product `a * b`; `a` has as many columns as `b` has rows.",
               "Multiplies two matrices given as rows: `out[i][j]` is row `i` of `a` dot column `j` of `b`.",
               "Plain triple-loop matrix multiplication."]
        ref, arity = (lambda a, b: [[sum(x * b[k][j] for k, x in enumerate(row)) for j in range(len(b[0]))]
                                    for row in a]), 2
    checks = []
    for _ in range(3):
        h, w = r.randrange(1, 4), r.randrange(1, 4)
        m = [[r.randrange(-9 if task == "multiply" else 0, 10) for _ in range(w)] for _ in range(h)]
        if arity == 1:
            checks.append(f"assert_eq!({kw['fn']}({_slice(m)}), {_lit(ref(m))});")
        else:
            bw = r.randrange(1, 3)
            b = [[r.randrange(-9, 10) for _ in range(bw)] for _ in range(w)]
            line = f"assert_eq!({kw['fn']}({_slice(m)}, {_slice(b)}), {_lit(ref(m, b))});"
            if len(line) > 96:
                checks += [f"let left = {_lit(m)};", f"let right = {_lit(b)};"]
                line = f"assert_eq!({kw['fn']}(&left, &right), {_lit(ref(m, b))});"
            checks.append(line)
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@_family("merge_intervals")
def _merge_intervals(r: random.Random) -> _Prog:
    task = r.choice(["merge", "covered"])
    T = r.choice(["i32", "i64", "u32"])
    kw = {"xs": r.choice(["intervals", "spans", "ranges", "bookings"]), "T": T,
          "fn": r.choice(["merge_intervals", "merge_overlapping", "coalesce_spans"] if task == "merge"
                         else ["covered_length", "total_coverage", "union_length"])}
    owned = r.random() < 0.4
    head = ("let mut sorted = $xs;\n" if owned else "let mut sorted = $xs.to_vec();\n") + "sorted.sort_unstable();"
    param = "$xs: Vec<($T, $T)>" if owned else "$xs: &[($T, $T)]"
    if task == "merge":
        sig = f"fn $fn({param}) -> Vec<($T, $T)>"
        body = head + r.choice(["""
            let mut out: Vec<($T, $T)> = Vec::new();
            for (start, end) in sorted {
                match out.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => out.push((start, end)),
                }
            }
            out""", """
            let mut out: Vec<($T, $T)> = Vec::new();
            for (start, end) in sorted {
                if let Some(last) = out.last_mut() {
                    if start <= last.1 {
                        last.1 = last.1.max(end);
                        continue;
                    }
                }
                out.push((start, end));
            }
            out"""]).replace("\n            ", "\n")
        phr = ["Merges overlapping or touching intervals `(start, end)` and returns them sorted by start.",
               "Coalesces the closed ranges in `$xs` so that no two of the results overlap.",
               "Returns the union of `$xs` as a sorted list of disjoint intervals."]
    else:
        sig = f"fn $fn({param}) -> $T"
        body = head + """
            let mut total = 0;
            let mut reach: Option<$T> = None;
            for (start, end) in sorted {
                let from = reach.map_or(start, |r| r.max(start));
                if end > from {
                    total += end - from;
                }
                reach = Some(reach.map_or(end, |r| r.max(end)));
            }
            total""".replace("\n            ", "\n")
        phr = [("Returns the total length covered by the half-open intervals `[start, end)` of `$xs`,\n"
               "counting overlaps once."),
               "Length of the union of the ranges in `$xs`.",
               "How much of the number line do the intervals of `$xs` cover together?"]
    checks = []
    for _ in range(3):
        spans = []
        for _ in range(r.randrange(0, 5)):
            a = r.randrange(0, 20)
            spans.append((a, a + r.randrange(0, 6)))
        arg = _lit(spans) if owned else _slice(spans)
        if task == "merge":
            value = _vec(_merged(spans), f"({T}, {T})")
        else:
            value = sum(b - a for a, b in _merged(spans))
        if not spans:
            arg = f"Vec::<({T}, {T})>::new()" if owned else "&[]"
        checks.append(f"assert_eq!({kw['fn']}({arg}), {value});")
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T} owned={owned}")


# ---- string scans ----

def _is_subseq(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


@_family("is_subsequence")
def _is_subsequence(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["is_subsequence", "appears_in_order", "is_subsequence_of", "can_delete_to"]),
          "a": r.choice(["needle", "small", "pattern"]), "b": r.choice(["haystack", "text", "big"])}
    style = r.choice(["iter_any", "pointers", "peekable"])
    body = {"iter_any": """
        let mut rest = $b.chars();
        $a.chars().all(|c| rest.any(|d| d == c))""", "pointers": """
        let (x, y) = ($a.as_bytes(), $b.as_bytes());
        let mut i = 0;
        for &byte in y {
            if i < x.len() && x[i] == byte {
                i += 1;
            }
        }
        i == x.len()""", "peekable": """
        let mut wanted = $a.chars().peekable();
        for c in $b.chars() {
            if wanted.peek() == Some(&c) {
                wanted.next();
            }
        }
        wanted.peek().is_none()"""}[style]
    checks = []
    for _ in range(4):
        big = r.choice(_WORDS) + r.choice(["", r.choice(_WORDS)])
        small = r.choice(["".join(c for c in big if r.random() < 0.4), _word(r, "aeiorst", 0, 4),
                          big[::-1][:3]])
        checks.append(_check(f"{kw['fn']}({_lit(small)}, {_lit(big)})", _is_subseq(small, big)))
    doc = _doc(r, [("Checks whether the characters of `$a` appear in `$b` in the same order, not\n"
                   "necessarily next to each other."),
                   "Returns true when `$a` can be obtained from `$b` by deleting some characters.",
                   "Is `$a` a subsequence of `$b`?"], kw, _short(checks))
    return _Prog([_fn("fn $fn($a: &str, $b: &str) -> bool", body, kw, doc)], checks, params=style)


def _longest_pal(s: str) -> str:
    best = ""
    for i in range(len(s)):
        for lo, hi in ((i, i), (i, i + 1)):
            while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
                lo, hi = lo - 1, hi + 1
            if hi - lo - 1 > len(best):
                best = s[lo + 1:hi]
    return best


@_family("longest_palindrome")
def _longest_palindrome(r: random.Random) -> _Prog:
    owned = r.random() < 0.4
    kw = {"fn": r.choice(["longest_palindrome", "longest_palindromic_substring", "widest_palindrome"]),
          "s": r.choice(["s", "text", "word"]), "e": r.choice(["expand", "grow_around", "palindrome_span"])}
    helper = _fn("fn $e(bytes: &[u8], mut lo: usize, mut hi: usize) -> (usize, usize)", """
        // Widens [lo, hi) while the characters just outside it match.
        while lo > 0 && hi < bytes.len() && bytes[lo - 1] == bytes[hi] {
            lo -= 1;
            hi += 1;
        }
        (lo, hi)""", kw, "/// The widest palindrome around the centre `[lo, hi)`, as a half-open range.\n")
    ret, tail = ("String", "$s[best.0..best.1].to_string()") if owned else ("&str", "&$s[best.0..best.1]")
    body = f"""
        let bytes = $s.as_bytes();
        let mut best = (0, 0);
        for i in 0..bytes.len() {{
            for (start, end) in [(i, i + 1), (i, i)] {{
                let (lo, hi) = $e(bytes, start, end);
                if hi - lo > best.1 - best.0 {{
                    best = (lo, hi);
                }}
            }}
        }}
        {tail}"""
    checks = []
    for _ in range(4):
        s = r.choice([_word(r, "abc", 0, 9), r.choice(_WORDS), _word(r, "ab", 3, 8) + r.choice(_WORDS)])
        checks.append(_check(f"{kw['fn']}({_lit(s)})", _longest_pal(s)))
    ex = _short(checks)
    sig = f"fn $fn($s: &str) -> {ret}"
    doc = _doc(r, [("Returns the longest substring of `$s` that reads the same backwards (the first one\n"
                   "when several tie). `$s` must be ASCII."),
                   "Finds the longest palindromic substring by expanding around every centre.",
                   "Longest run of `$s` that is a palindrome; empty for an empty string."], kw, ex)
    return _Prog([_fn(sig, body, kw, doc)], checks, helpers=[helper], params=f"owned={owned}")


@_family("pattern_count")
def _pattern_count(r: random.Random) -> _Prog:
    overlap = r.random() < 0.6
    kw = {"fn": r.choice(["count_occurrences", "count_matches", "occurrences_of"]),
          "t": r.choice(["text", "haystack", "s"]), "p": r.choice(["pattern", "needle", "sub"])}
    style = r.choice(["windows", "kmp", "find"] if not overlap else ["windows", "kmp"])
    if style == "find":
        body = """
            let mut count = 0;
            let mut rest = $t;
            while let Some(i) = rest.find($p) {
                count += 1;
                rest = &rest[i + $p.len()..];
            }
            count"""
    elif style == "windows":
        # rustfmt keeps a receiver no longer than one indent on the chain's first line.
        head = "$t" if len(kw["t"]) <= 4 else "$t\n    "
        body = (head + ".as_bytes()\n    .windows($p.len())\n    .filter(|w| *w == $p.as_bytes())\n    .count()"
                if overlap else """
            let (t, p) = ($t.as_bytes(), $p.as_bytes());
            let mut count = 0;
            let mut i = 0;
            while i + p.len() <= t.len() {
                if &t[i..i + p.len()] == p {
                    count += 1;
                    i += p.len();
                } else {
                    i += 1;
                }
            }
            count""")
    else:
        restart = "k = fail[k - 1];" if overlap else "k = 0;"
        body = f"""
            let (t, p) = ($t.as_bytes(), $p.as_bytes());
            // fail[i]: length of the longest proper prefix of p[..=i] that is also its suffix.
            let mut fail = vec![0; p.len()];
            let mut k = 0;
            for i in 1..p.len() {{
                while k > 0 && p[i] != p[k] {{
                    k = fail[k - 1];
                }}
                if p[i] == p[k] {{
                    k += 1;
                }}
                fail[i] = k;
            }}
            let (mut count, mut k) = (0, 0);
            for &c in t {{
                while k > 0 && c != p[k] {{
                    k = fail[k - 1];
                }}
                if c == p[k] {{
                    k += 1;
                }}
                if k == p.len() {{
                    count += 1;
                    {restart}
                }}
            }}
            count"""
    checks = []
    for _ in range(4):
        p = _word(r, "ab", 1, 4)
        t = _word(r, "ab", 0, 14)
        n = (sum(t.startswith(p, i) for i in range(len(t))) if overlap else t.count(p))
        checks.append(_check(f"{kw['fn']}({_lit(t)}, {_lit(p)})", n))
    how = "overlapping matches included" if overlap else "matches may not overlap"
    doc = _doc(r, [f"Counts how many times `$p` occurs in `$t` ({how}).\n`$p` must not be empty.",
                   f"Returns the number of occurrences of `$p` inside `$t`; {how}.",
                   f"Substring search that counts every hit of `$p` in `$t`, {how}."], kw, _short(checks))
    return _Prog([_fn("fn $fn($t: &str, $p: &str) -> usize", body, kw, doc)], checks,
                 params=f"{style} overlap={overlap}")
