"""Composed tasks: small functions whose meaning is put together from parts, so the words of a doc comment map
onto the code that does what they say.

The template families (`synthetic_rust`) each teach one task in many forms; a small model trained on them
learns the tasks' shapes but not the vocabulary underneath: asked to "add two integers" it writes another
family's body. Here a task is drawn from small grammars instead, and its doc text, its name and its body are
written from the same parts:
- arithmetic expressions over two or three parameters (sum, difference, product, larger/smaller, square,
  twice, negation, absolute value, half, last digit), nested up to two levels;
- predicates on an integer (even, odd, positive, divisible by k, greater than k, between lo and hi ...), alone,
  negated, or two joined by "and" / "or";
- pipelines over a sequence: an optional filter (a predicate) and an optional map (a unary operation) ending in
  sum, product, count, largest, smallest, collect, any, all, first or position, written as an iterator chain
  or a loop;
- character tasks over a string: count, keep, remove, replace, find, any/all for a character class (vowels,
  digits, upper- and lowercase letters, whitespace, letters, one given character).

The expected values of the asserts are computed here with Rust's integer semantics (truncating division and
remainder) and every value checked against the type's range. `composed_programs(n, seed)` is deterministic
and returns distinct programs; each program's group (the unit of the train/val split) is its composition
(`seq:sum|even|square`), so validation holds out whole compositions, not just other names for seen ones.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from nanochat_cli.data.snippet import Snippet
from nanochat_cli.data.synthetic_rust import (
    _BOUNDS,
    _assemble,
    _ch,
    _check,
    _doc,
    _fn,
    _lit,
    _owned,
    _Prog,
    _slice,
    _some,
    _vec,
)

_RANGES = {**_BOUNDS, "isize": (-2**63, 2**63 - 1)}
_INTS = ["i32", "i64", "isize", "u32", "u64", "usize"]
_SIGNED = {"i32", "i64", "isize"}


def _tdiv(a: int, b: int) -> int:
    """Rust's integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _trem(a: int, b: int) -> int:
    """Rust's `%`: the remainder takes the dividend's sign."""
    return a - b * _tdiv(a, b)


def _fits(v: int, T: str) -> bool:
    lo, hi = _RANGES[T]
    return lo <= v <= hi


class _Overflow(Exception):
    """A draw that makes no program: a test value (or an intermediate one) outside the type's range, most often,
    or too few distinct checks, or an expression that uses no parameter. The whole program is drawn again."""


# ---- arithmetic expressions ----

@dataclass(frozen=True)
class _Unary:
    key: str
    frag: str  # for function names
    phrase: str  # "{x}": the operand's phrase
    plural: str  # "the squares of {items}" in pipelines
    signed_only: bool
    py: Callable[[int], int]


_UNARY = [
    _Unary("square", "square", "the square of {x}", "the squares of {x}", False, lambda v: v * v),
    _Unary("double", "double", "twice {x}", "the doubles of {x}", False, lambda v: 2 * v),
    _Unary("triple", "triple", "three times {x}", "three times each of {x}", False, lambda v: 3 * v),
    _Unary("cube", "cube", "the cube of {x}", "the cubes of {x}", False, lambda v: v * v * v),
    _Unary("inc", "plus_one", "one more than {x}", "each of {x} plus one", False, lambda v: v + 1),
    _Unary("dec", "minus_one", "one less than {x}", "each of {x} minus one", False, lambda v: v - 1),
    _Unary("half", "half", "half of {x}, rounded toward zero", "the halves of {x}", False, lambda v: _tdiv(v, 2)),
    _Unary("neg", "negate", "the negation of {x}", "the negations of {x}", True, lambda v: -v),
    _Unary("abs", "abs", "the absolute value of {x}", "the absolute values of {x}", True, abs),
    _Unary("last_digit", "last_digit", "the last digit of {x}", "the last digits of {x}", False, lambda v: _trem(v, 10)),
]
_UNARY_BY_KEY = {u.key: u for u in _UNARY}


def _is_atomic(code: str) -> bool:
    """An operand that needs no brackets: no space outside brackets and no leading `-` (a name, a literal, a
    call, a method chain on a bracketed expression)."""
    depth = 0
    for c in code:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == " " and depth == 0:
            return False
    return not code.startswith("-")


def _unary_code(key: str, x: str, atomic: bool, r: random.Random) -> str:
    p = x if atomic else f"({x})"
    if x.startswith("if "):
        x = p
    return {"square": r.choice([f"{p} * {p}", f"{p}.pow(2)"]) if atomic else f"{p}.pow(2)",
            "double": r.choice([f"2 * {p}", f"{p} * 2"]),
            "triple": r.choice([f"3 * {p}", f"{p} * 3"]),
            "cube": f"{p} * {p} * {p}" if atomic else f"{p}.pow(3)",
            "inc": f"{x} + 1",
            "dec": f"{x} - 1",
            "half": f"{p} / 2",
            "neg": f"-{p}",
            "abs": f"{p}.abs()",
            "last_digit": f"{p} % 10"}[key]


_BINARY = {  # key: (name fragments, phrases "{a}" "{b}", Python)
    "add": (["sum", "add", "plus", "total"], ["the sum of {a} and {b}", "{a} plus {b}", "{a} added to {b}"],
            lambda a, b: a + b),
    "sub": (["difference", "subtract", "minus"], ["{a} minus {b}", "the difference {a} - {b}", "{b} subtracted from {a}"],
            lambda a, b: a - b),
    "mul": (["product", "multiply", "times"], ["the product of {a} and {b}", "{a} times {b}", "{a} multiplied by {b}"],
            lambda a, b: a * b),
    "max": (["max", "larger", "greater"], ["the larger of {a} and {b}", "the maximum of {a} and {b}"], max),
    "min": (["min", "smaller", "lesser"], ["the smaller of {a} and {b}", "the minimum of {a} and {b}"], min),
}


def _binary_code(key: str, a: tuple[str, bool], b: tuple[str, bool], r: random.Random) -> str:
    (ac, a_atom), (bc, b_atom) = a, b
    a_bare = a_atom or (key in ("add", "sub") and not ac.startswith("if "))
    b_bare = b_atom or (key == "add" and not bc.startswith("if "))
    if key in ("max", "min"):
        style = r.choice(["method", "method", "cmp", "if"])
        if style == "method":
            return f"{ac if a_atom else f'({ac})'}.{key}({bc})"
        if style == "cmp":
            return f"std::cmp::{key}({ac}, {bc})"
        op = ">" if key == "max" else "<"
        if a_atom and b_atom:
            return f"if {ac} {op} {bc} {{ {ac} }} else {{ {bc} }}"
        return f"std::cmp::{key}({ac}, {bc})"
    op = {"add": "+", "sub": "-", "mul": "*"}[key]
    # a compound child keeps its brackets under `*`, on the right of `-`, and when it is an `if`
    return f"{ac if a_bare else f'({ac})'} {op} {bc if b_bare else f'({bc})'}"


@dataclass
class _Expr:
    code: str
    atomic: bool  # needs no brackets as an operand (a name, a call, a method chain)
    phrase: str
    frag: str
    key: str
    op: str = ""  # a _UNARY or _BINARY key; "" for a parameter
    kids: tuple[_Expr, ...] = ()


def _leaf(name: str) -> _Expr:
    return _Expr(name, True, f"`{name}`", name, name)


def _eval(e: _Expr, env: dict, T: str) -> int:
    """The expression's value with Rust's semantics; _Overflow when it or any sub-expression leaves T's range
    (Rust panics on overflow in debug builds)."""
    if not e.kids:
        v = env[e.code]
    else:
        vals = [_eval(k, env, T) for k in e.kids]
        v = _UNARY_BY_KEY[e.op].py(*vals) if e.op in _UNARY_BY_KEY else _BINARY[e.op][2](*vals)
    if not _fits(v, T):
        raise _Overflow
    return v


def _apply_unary(u: _Unary, e: _Expr, r: random.Random) -> _Expr:
    code = _unary_code(u.key, e.code, e.atomic, r)
    return _Expr(code, _is_atomic(code), u.phrase.format(x=e.phrase), f"{u.frag}_{e.frag}" if not e.atomic else u.frag,
                 f"{u.key}({e.key})", u.key, (e,))


def _apply_binary(key: str, a: _Expr, b: _Expr, r: random.Random) -> _Expr:
    frags, phrases, _ = _BINARY[key]
    code = _binary_code(key, (a.code, a.atomic), (b.code, b.atomic), r)
    return _Expr(code, _is_atomic(code), r.choice(phrases).format(a=a.phrase, b=b.phrase), r.choice(frags), f"{key}({a.key},{b.key})",
                 key, (a, b))


_PARAM_SETS = [("a", "b", "c"), ("x", "y", "z"), ("m", "n", "k"), ("first", "second", "third"), ("p", "q", "r"),
               ("lhs", "rhs", "extra"), ("left", "right", "middle"), ("u", "v", "w")]


def _scalar_expr(r: random.Random, T: str, names: tuple[str, ...]) -> _Expr:
    unaries = [u for u in _UNARY if T in _SIGNED or not u.signed_only]
    leaves = [_leaf(n) for n in names]
    shape = r.choice(["bin", "bin", "un", "un_bin", "bin_un", "bin_un2", "bin_bin"])
    if shape == "un":
        return _apply_unary(r.choice(unaries), leaves[0], r)
    if shape == "bin":
        return _apply_binary(r.choice(list(_BINARY)), leaves[0], leaves[1], r)
    if shape == "un_bin":
        return _apply_unary(r.choice([u for u in unaries if u.key not in ("inc", "dec")]),
                            _apply_binary(r.choice(list(_BINARY)), leaves[0], leaves[1], r), r)
    if shape == "bin_un":
        u = r.choice(unaries)
        return _apply_binary(r.choice(list(_BINARY)), _apply_unary(u, leaves[0], r), leaves[1], r)
    if shape == "bin_un2":
        u = r.choice(unaries)
        return _apply_binary(r.choice(["add", "sub", "mul", "max", "min"]), _apply_unary(u, leaves[0], r),
                             _apply_unary(u, leaves[1], r), r)
    c = leaves[2] if len(leaves) > 2 else leaves[0]
    return _apply_binary(r.choice(list(_BINARY)), _apply_binary(r.choice(list(_BINARY)), leaves[0], leaves[1], r), c, r)


def _values(r: random.Random, T: str, lo: int = -20, hi: int = 20) -> int:
    return r.randint(lo if T in _SIGNED else 0, hi)


def _scalar(r: random.Random) -> tuple[_Prog, str]:
    T = r.choice(_INTS)
    arity = 3 if r.random() < 0.2 else 2
    names = r.choice(_PARAM_SETS)[:arity]
    e = _scalar_expr(r, T, names)
    used = [n for n in names if n in _words(e.code)]
    if not used:
        raise _Overflow
    checks = []
    for _ in range(r.randint(3, 5)):
        env = {n: _values(r, T) for n in used}
        checks.append((env, _eval(e, env, T)))
    fn = _scalar_name(r, e)
    kw = {"fn": fn, "T": T}
    sig = f"fn $fn({', '.join(f'{n}: $T' for n in used)}) -> $T"
    asserts = [_check(f"{fn}({', '.join(str(env[n]) for n in used)})", v) for env, v in checks]
    phrase = e.phrase[0].upper() + e.phrase[1:] if not e.phrase.startswith("`") else e.phrase
    doc = _doc(r, [f"Returns {e.phrase}.", f"Computes {e.phrase}.", f"{phrase}.",
                   f"Returns {e.phrase}.\nBoth inputs are `{T}` values." if len(used) > 1 else f"Returns {e.phrase}."], kw, asserts)
    # the group names the composition, not the parameters: `add(a,b)` and `add(x,y)` are one
    shape = re.sub(r"\b\w+\b", lambda m: f"p{names.index(m.group())}" if m.group() in names else m.group(), e.key)
    return _Prog([_fn(sig, e.code, kw, doc)], asserts, params=f"{e.key} {T}"), f"scalar:{shape}"


def _words(code: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))


def _scalar_name(r: random.Random, e: _Expr) -> str:
    frag = e.frag
    if e.key.count("(") >= 2:
        # name the outer operation and the inner one: square_of_sum, sum_of_squares, max_of_doubles
        outer, inner = re.findall(r"(\w+)\(", e.key)[:2]
        o = _UNARY_BY_KEY[outer].frag if outer in _UNARY_BY_KEY else _BINARY[outer][0][0]
        i = _UNARY_BY_KEY[inner].frag if inner in _UNARY_BY_KEY else _BINARY[inner][0][0]
        frag = r.choice([f"{o}_of_{i}", f"{o}_{i}", f"{i}_then_{o}"])
    return r.choice([frag, frag, f"compute_{frag}", f"{frag}_value"])


# ---- predicates on an integer ----

@dataclass(frozen=True)
class _Pred:
    key: str
    frag: str
    verb: str  # "is even": after the subject
    noun: str  # "even {n}" / "{n} greater than 3": with {n} the plural noun
    code: str  # over {x}
    py: Callable[[int], bool]
    signed_only: bool = False


def _preds(r: random.Random, T: str) -> list[_Pred]:
    k = r.choice([3, 4, 5, 7, 10])
    t = r.randint(1, 12)
    lo = r.randint(0 if T not in _SIGNED else -5, 5)
    hi = lo + r.randint(3, 10)
    out = [
        _Pred("even", "even", "is even", "even {n}", r.choice(["{x} % 2 == 0"]), lambda v: v % 2 == 0),
        _Pred("odd", "odd", "is odd", "odd {n}", "{x} % 2 != 0", lambda v: v % 2 != 0),
        _Pred("positive", "positive", "is positive", "positive {n}", "{x} > 0", lambda v: v > 0),
        _Pred("negative", "negative", "is negative", "negative {n}", "{x} < 0", lambda v: v < 0, True),
        _Pred("zero", "zero", "is zero", "zeros", "{x} == 0", lambda v: v == 0),
        _Pred("nonzero", "nonzero", "is not zero", "nonzero {n}", "{x} != 0", lambda v: v != 0),
        _Pred(f"div{k}", f"divisible_by_{k}", f"is divisible by {k}", f"{{n}} divisible by {k}", f"{{x}} % {k} == 0",
              lambda v, k=k: v % k == 0),
        _Pred(f"gt{t}", f"greater_than_{t}", f"is greater than {t}", f"{{n}} greater than {t}", f"{{x}} > {t}",
              lambda v, t=t: v > t),
        _Pred(f"lt{t}", f"less_than_{t}", f"is less than {t}", f"{{n}} less than {t}", f"{{x}} < {t}", lambda v, t=t: v < t),
        _Pred(f"ge{t}", f"at_least_{t}", f"is at least {t}", f"{{n}} of at least {t}", f"{{x}} >= {t}",
              lambda v, t=t: v >= t),
        _Pred(f"in{lo}_{hi}", "in_range", f"is between {lo} and {hi}, inclusive", f"{{n}} from {lo} to {hi}",
              r.choice([f"{{x}} >= {lo} && {{x}} <= {hi}", f"({lo}..={hi}).contains(&{{x}})"]),
              lambda v, lo=lo, hi=hi: lo <= v <= hi),
        _Pred("digit", "single_digit", "is a single decimal digit (0 to 9)", "single-digit {n}",
              "(0..=9).contains(&{x})", lambda v: 0 <= v <= 9),
    ]
    return [p for p in out if T in _SIGNED or not p.signed_only]


def _pred_code(p: _Pred, x: str) -> str:
    return p.code.format(x=x)


def _predicate(r: random.Random) -> tuple[_Prog, str]:
    T = r.choice(_INTS)
    preds = _preds(r, T)
    x = r.choice(["n", "x", "value", "num", "k"])
    shape = r.choice(["one", "one", "not", "and", "or"])
    p, q = r.sample(preds, 2)
    if shape == "not" and p.key == "nonzero":
        shape = "one"
    if shape == "one":
        code, verb, frag, py, key = _pred_code(p, x), p.verb, p.frag, p.py, p.key
    elif shape == "not":
        code = f"!({_pred_code(p, x)})" if " " in _pred_code(p, x) else f"!{_pred_code(p, x)}"
        verb = "is not" + p.verb[2:] if p.verb.startswith("is ") else f"does not satisfy: {p.verb}"
        frag, py, key = f"not_{p.frag}", (lambda v, f=p.py: not f(v)), f"not({p.key})"
    else:
        op = "&&" if shape == "and" else "||"
        pc, qc = _pred_code(p, x), _pred_code(q, x)
        if op == "&&" and "||" in pc + qc:
            raise _Overflow
        code = f"{pc} {op} {qc}"
        verb = f"{p.verb} {shape} {q.verb.removeprefix('is ') if p.verb.startswith('is ') and q.verb.startswith('is ') else q.verb}"
        frag = f"{p.frag}_{shape}_{q.frag}"
        py = (lambda v, f=p.py, g=q.py: f(v) and g(v)) if shape == "and" else (lambda v, f=p.py, g=q.py: f(v) or g(v))
        key = f"{shape}({p.key},{q.key})"
    fn = r.choice([f"is_{frag}", f"is_{frag}", f"check_{frag}", f"{frag}_check"])
    kw = {"fn": fn, "T": T, "x": x}
    body = code if r.random() < 0.8 else f"if {code} {{\n    true\n}} else {{\n    false\n}}"
    vals, checks = set(), []
    want = [True, False]
    for _ in range(40):
        v = _values(r, T, -15, 25)
        if v in vals:
            continue
        res = py(v)
        if want and res != want[0]:
            continue
        vals.add(v)
        checks.append(_check(f"{fn}({v})", res))
        if want:
            want.pop(0)
        if len(checks) >= 5:
            break
    if len(checks) < 3:
        raise _Overflow
    doc = _doc(r, [f"Returns `true` if `{x}` {verb}.", f"Checks whether `{x}` {verb}.",
                   f"Tells whether `{x}` {verb}.", f"Returns whether `{x}` {verb}, `false` otherwise."], kw, checks)
    return _Prog([_fn("fn $fn($x: $T) -> bool", body, kw, doc)], checks, params=f"{key} {T}"), f"pred:{_key_shape(key)}"


def _key_shape(key: str) -> str:
    """A predicate key without its constants (`gt7` -> `gt`), so one composition is one group."""
    return re.sub(r"(div|gt|lt|ge|in)-?\d+(_-?\d+)?", r"\1", key)


# ---- pipelines over a sequence ----

_SEQ_NAMES = ["nums", "values", "xs", "items", "numbers", "data", "list", "vals", "v", "arr", "scores", "input"]
_NOUNS = ["numbers", "elements", "values", "entries"]


def _sequence(r: random.Random) -> tuple[_Prog, str]:
    T = r.choice(_INTS)
    reducer = r.choice(["sum", "sum", "product", "count", "count", "max", "min", "collect", "collect", "any", "all",
                        "first", "position"])
    preds = _preds(r, T)
    pred = r.choice(preds) if reducer in ("count", "any", "all", "first", "position") or r.random() < 0.7 else None
    unaries = [u for u in _UNARY if (T in _SIGNED or not u.signed_only) and u.key not in ("cube",)]
    mapping = r.choice(unaries) if reducer in ("sum", "max", "min", "collect") and (r.random() < 0.5 or pred is None) else None
    if reducer == "collect" and pred is None and mapping is None:
        mapping = r.choice(unaries)
    xs = r.choice(_SEQ_NAMES)
    owned = r.random() < 0.3
    P = f"Vec<{T}>" if owned else f"&[{T}]"
    noun = r.choice(_NOUNS)
    style = r.choice(["iter", "iter", "loop"])
    cond = _pred_code(pred, "x") if pred else ""
    m = _unary_code(mapping.key, "x", True, r) if mapping else "x"
    ret = {"sum": T, "product": T, "count": "usize", "max": f"Option<{T}>", "min": f"Option<{T}>",
           "collect": f"Vec<{T}>", "any": "bool", "all": "bool", "first": f"Option<{T}>", "position": "Option<usize>"}[reducer]
    it = f"{xs}.iter()"
    filt = f".filter(|&&x| {cond})" if pred else ""
    mp = f".map(|&x| {m})" if mapping else ""
    if style == "iter":
        body = {
            "sum": f"{it}{filt}{mp}.sum()",
            "product": f"{it}{filt}{mp}.product()",
            "count": f"{it}{filt}.count()",
            "max": f"{it}{filt}{mp or '.copied()'}.max()",
            "min": f"{it}{filt}{mp or '.copied()'}.min()",
            "collect": f"{it}{filt}{mp or '.copied()'}.collect()",
            "any": f"{it}.any(|&x| {cond})",
            "all": f"{it}.all(|&x| {cond})",
            "first": f"{it}.copied().find(|&x| {cond})",
            "position": f"{it}.position(|&x| {cond})",
        }[reducer]
    else:
        loop_head = f"for &x in {xs}.iter() {{" if not owned or r.random() < 0.5 else f"for x in {xs} {{"
        val = m
        inner = {
            "sum": f"total += {val};", "product": f"total *= {val};", "count": "count += 1;",
            "collect": f"out.push({val});",
            "max": f"let y = {val};\nif best.is_none_or(|b| y > b) {{\n    best = Some(y);\n}}",
            "min": f"let y = {val};\nif best.is_none_or(|b| y < b) {{\n    best = Some(y);\n}}",
            "any": "return true;", "all": "return false;", "first": "return Some(x);", "position": "return Some(i);",
        }[reducer]
        if reducer == "all":
            cond_used = f"!({cond})" if " " in cond else f"!{cond}"
        else:
            cond_used = cond
        if reducer == "position":
            loop_head = f"for (i, &x) in {xs}.iter().enumerate() {{"
        guarded = f"if {cond_used} {{\n{_indent(inner)}\n}}" if pred else inner
        init = {"sum": "let mut total = 0;", "product": "let mut total = 1;", "count": "let mut count = 0;",
                "collect": "let mut out = Vec::new();", "max": "let mut best = None;", "min": "let mut best = None;"}.get(reducer)
        tail = {"sum": "total", "product": "total", "count": "count", "collect": "out", "max": "best", "min": "best",
                "any": "false", "all": "true", "first": "None", "position": "None"}[reducer]
        body = ((init + "\n") if init else "") + loop_head + "\n" + _indent(guarded) + "\n}\n" + tail
    lo, hi = (-9, 9) if T in _SIGNED else (0, 15)
    if reducer == "product":
        lo, hi = (-4, 4) if T in _SIGNED else (0, 5)

    def run(vs: list[int]):
        sel = [v for v in vs if pred is None or pred.py(v)]
        mapped = [mapping.py(v) if mapping else v for v in sel]
        for v in mapped:
            if not _fits(v, T):
                raise _Overflow
        if reducer == "sum":
            out = sum(mapped)
        elif reducer == "product":
            out = 1
            for v in mapped:
                out *= v
                if not _fits(out, T):
                    raise _Overflow
        elif reducer == "count":
            return len(sel)
        elif reducer in ("max", "min"):
            return _some((max if reducer == "max" else min)(mapped) if mapped else None)
        elif reducer == "collect":
            return _vec(mapped, T)
        elif reducer == "any":
            return any(pred.py(v) for v in vs)
        elif reducer == "all":
            return all(pred.py(v) for v in vs)
        elif reducer == "first":
            return _some(next((v for v in vs if pred.py(v)), None))
        else:
            return _some(next((i for i, v in enumerate(vs) if pred.py(v)), None))
        if not _fits(out, T):
            raise _Overflow
        return out

    fn = _seq_name(r, reducer, pred, mapping)
    kw = {"fn": fn, "T": T, "P": P, "xs": xs}
    checks = []
    for k in r.sample([0, 1, 3, 4, 5, 6], 3 if reducer != "product" else 2) + [r.randint(2, 6)]:
        vs = [r.randint(lo, hi) for _ in range(k)]
        arg = _lit(vs) if owned else _slice(vs)
        if k == 0 and owned:
            arg = f"Vec::<{T}>::new()" if r.random() < 0.5 else "vec![]"
        checks.append(_check(f"{fn}({arg})", run(vs)))
    doc = _doc(r, _seq_doc(reducer, pred, mapping, xs, noun), kw, checks)
    key = f"seq:{reducer}|{_key_shape(pred.key) if pred else '-'}|{mapping.key if mapping else '-'}"
    return _Prog([_fn("fn $fn($xs: $P) -> " + ret, body, kw, doc)], checks, params=f"{key} {style} {T}"), key


def _indent(text: str) -> str:
    return "\n".join("    " + ln if ln else ln for ln in text.split("\n"))


def _seq_doc(reducer: str, pred: _Pred | None, mapping: _Unary | None, xs: str, noun: str) -> list[str]:
    chosen = f"the {pred.noun.format(n=noun)} in `{xs}`" if pred else f"the {noun} in `{xs}`"
    items = mapping.plural.format(x=chosen) if mapping else chosen
    verb = pred.verb if pred else ""
    one = noun.removesuffix("s")
    return {
        "sum": [f"Returns the sum of {items}.", f"Adds up {items}; 0 if there are none.", f"Sums {items}."],
        "product": [f"Returns the product of {items}.", f"Multiplies {items} together; 1 if there are none."],
        "count": [f"Counts the {pred.noun.format(n=noun)} in `{xs}`." if pred else f"Counts the {noun} in `{xs}`.",
                  f"Returns how many {one}s of `{xs}` satisfy: {verb}." if pred else f"Returns the length of `{xs}`."],
        "max": [f"Returns the largest of {items}, or `None` if there are none.", f"Finds the maximum of {items}."],
        "min": [f"Returns the smallest of {items}, or `None` if there are none.", f"Finds the minimum of {items}."],
        "collect": [f"Returns {items}, in their original order.", f"Collects {items} into a new vector."],
        "any": [f"Returns `true` if any {one} of `{xs}` {verb}.", f"Checks whether `{xs}` holds a {one} that {verb}."],
        "all": [f"Returns `true` if every {one} of `{xs}` {verb} (`true` for an empty input).",
                f"Checks whether all {noun} in `{xs}` satisfy: {verb}."],
        "first": [f"Returns the first {one} of `{xs}` that {verb}, or `None`.", f"Finds the first {one} that {verb}."],
        "position": [f"Returns the index of the first {one} of `{xs}` that {verb}, or `None`.",
                     f"Finds where the first {one} that {verb} is in `{xs}`."],
    }[reducer]


def _seq_name(r: random.Random, reducer: str, pred: _Pred | None, mapping: _Unary | None) -> str:
    pf = pred.frag if pred else ""
    mf = mapping.frag + "s" if mapping else ""
    parts = {
        "sum": [f"sum_{pf}_{mf}", f"sum_of_{pf}_{mf}", f"{pf}_{mf}_sum", f"total_{pf}_{mf}"],
        "product": [f"product_{pf}_{mf}", f"product_of_{pf}_{mf}", f"multiply_{pf}_{mf}"],
        "count": [f"count_{pf}", f"number_of_{pf}", f"{pf}_count", f"how_many_{pf}"],
        "max": [f"max_{pf}_{mf}", f"largest_{pf}_{mf}", f"{pf}_{mf}_max"],
        "min": [f"min_{pf}_{mf}", f"smallest_{pf}_{mf}", f"{pf}_{mf}_min"],
        "collect": [f"{pf}_{mf}", f"keep_{pf}_{mf}", f"collect_{pf}_{mf}", f"{mf}_of_{pf}", f"filter_{pf}_{mf}"],
        "any": [f"any_{pf}", f"has_{pf}", f"contains_{pf}"],
        "all": [f"all_{pf}", f"are_all_{pf}", f"every_{pf}"],
        "first": [f"first_{pf}", f"find_first_{pf}", f"find_{pf}"],
        "position": [f"position_of_{pf}", f"index_of_first_{pf}", f"find_{pf}_index"],
    }[reducer]
    name = r.choice(parts)
    return "_".join(p for p in name.split("_") if p) or reducer


# ---- characters of a string ----

_VOWELS = set("aeiouAEIOU")
_CLASSES = {  # key: (fragment, noun, verb, Rust condition over `c` (a char), Python)
    "vowel": ("vowels", "vowels", "is a vowel", ["\"aeiouAEIOU\".contains(c)", "matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u')"],
              lambda c: c in _VOWELS),
    "digit": ("digits", "digits", "is a digit", ["c.is_ascii_digit()"], str.isdigit),
    "upper": ("uppercase", "uppercase letters", "is an uppercase letter", ["c.is_uppercase()", "c.is_ascii_uppercase()"],
              lambda c: c.isupper()),
    "lower": ("lowercase", "lowercase letters", "is a lowercase letter", ["c.is_lowercase()", "c.is_ascii_lowercase()"],
              lambda c: c.islower()),
    "space": ("spaces", "whitespace characters", "is whitespace", ["c.is_whitespace()"], str.isspace),
    "alpha": ("letters", "letters", "is a letter", ["c.is_alphabetic()", "c.is_ascii_alphabetic()"], str.isalpha),
    "target": ("char", "occurrences of `{t}`", "is `{t}`", ["c == {t}"], None),
}
_TEXT_WORDS = ["apple", "River", "stone", "Cloud", "tiger", "maple", "ORBIT", "pixel", "lemon", "North", "quiet", "rust",
               "Crab", "iron", "gold", "ship", "wave", "Star", "moon", "sun", "tree", "bird", "fish", "code", "data",
               "loop", "byte", "map", "key", "box", "cat", "dog", "owl", "bee", "sky", "sea", "Hello", "world"]


def _text(r: random.Random) -> str:
    words = [r.choice(_TEXT_WORDS) for _ in range(r.randint(1, 4) if r.random() < 0.85 else 0)]
    if r.random() < 0.5 and words:
        words.insert(r.randrange(len(words) + 1), str(r.randint(0, 999)))
    return " ".join(words)


def _string(r: random.Random) -> tuple[_Prog, str]:
    cls = r.choice(list(_CLASSES))
    op = r.choice(["count", "count", "keep", "remove", "replace", "any", "all", "position"])
    frag, noun, verb, conds, py = _CLASSES[cls]
    s = r.choice(["s", "text", "input", "line", "word", "phrase"])
    params = [f"{s}: &str"]
    kw = {"s": s}
    target = None
    if cls == "target":
        t = r.choice(["ch", "target", "needle", "letter"])
        params.append(f"{t}: char")
        noun, verb, conds = noun.format(t=t), verb.format(t=t), [conds[0].format(t=t)]
        target = t
    cond = r.choice(conds)
    fill = r.choice(["*", "_", "#", "-"])
    owned = r.random() < 0.25
    if owned:
        params[0] = f"{s}: String"
    ret = {"count": "usize", "keep": "String", "remove": "String", "replace": "String", "any": "bool", "all": "bool",
           "position": "Option<usize>"}[op]
    style = r.choice(["iter", "iter", "loop"])
    neg = f"!({cond})" if " " in cond and not cond.startswith("matches!") else f"!{cond}"
    if style == "iter":
        body = {"count": f"{s}.chars().filter(|&c| {cond}).count()",
                "keep": f"{s}.chars().filter(|&c| {cond}).collect()",
                "remove": f"{s}.chars().filter(|&c| {neg}).collect()",
                "replace": f"{s}.chars().map(|c| if {cond} {{ '{fill}' }} else {{ c }}).collect()",
                "any": f"{s}.chars().any(|c| {cond})",
                "all": f"{s}.chars().all(|c| {cond})",
                "position": f"{s}.chars().position(|c| {cond})"}[op]
    else:
        head = f"for c in {s}.chars() {{"
        inner = {"count": f"if {cond} {{\n    count += 1;\n}}", "keep": f"if {cond} {{\n    out.push(c);\n}}",
                 "remove": f"if {neg} {{\n    out.push(c);\n}}",
                 "replace": f"if {cond} {{\n    out.push('{fill}');\n}} else {{\n    out.push(c);\n}}",
                 "any": f"if {cond} {{\n    return true;\n}}", "all": f"if {neg} {{\n    return false;\n}}",
                 "position": f"if {cond} {{\n    return Some(i);\n}}"}[op]
        if op == "position":
            head = f"for (i, c) in {s}.chars().enumerate() {{"
        init = {"count": "let mut count = 0;", "keep": "let mut out = String::new();", "remove": "let mut out = String::new();",
                "replace": "let mut out = String::new();"}.get(op)
        tail = {"count": "count", "keep": "out", "remove": "out", "replace": "out", "any": "false", "all": "true",
                "position": "None"}[op]
        body = ((init + "\n") if init else "") + head + "\n" + _indent(inner) + "\n}\n" + tail
    checks, texts = [], set()
    for _ in range(r.randint(3, 4)):
        text = _text(r)
        if text in texts:
            continue
        texts.add(text)
        tc = r.choice(text) if text and target else r.choice("aeo")
        hit = (lambda c, tc=tc: c == tc) if target else py
        res = {"count": sum(map(hit, text)), "keep": "".join(c for c in text if hit(c)),
               "remove": "".join(c for c in text if not hit(c)),
               "replace": "".join(fill if hit(c) else c for c in text), "any": any(map(hit, text)),
               "all": all(map(hit, text)), "position": _some(next((i for i, c in enumerate(text) if hit(c)), None))}[op]
        arg = _owned(text, r) if owned else _lit(text)
        args = f"{arg}, {_ch(tc)}" if target else arg
        checks.append(_check(f"$fn({args})", res))
    fn = _string_name(r, op, frag)
    kw["fn"] = fn
    checks = [c.replace("$fn", fn) for c in checks]
    docs = {"count": [f"Counts the {noun} in `{s}`.", f"Returns how many characters of `{s}` are {noun}."
                      if cls != "target" else f"Returns how many times `{target}` occurs in `{s}`."],
            "keep": [f"Returns only the {noun} of `{s}`, in order.", f"Keeps each character of `{s}` that {verb} and drops the rest."],
            "remove": [f"Returns `{s}` with every character that {verb} removed.", f"Removes the {noun} from `{s}`."],
            "replace": [f"Returns `{s}` with every character that {verb} replaced by `{fill}`.",
                        f"Replaces the {noun} of `{s}` with `'{fill}'`."],
            "any": [f"Returns `true` if `{s}` contains a character that {verb}.", f"Checks whether any character of `{s}` {verb}."],
            "all": [f"Returns `true` if every character of `{s}` {verb} (`true` for an empty string).",
                    f"Checks whether all characters of `{s}` are {noun}."],
            "position": [f"Returns the index (in characters) of the first character of `{s}` that {verb}, or `None`.",
                         f"Finds the first character of `{s}` that {verb} and returns its index."]}[op]
    doc = _doc(r, docs, kw, checks)
    return (_Prog([_fn(f"fn $fn({', '.join(params)}) -> {ret}", body, kw, doc)], checks, params=f"{op} {cls} {style}"),
            f"str:{op}|{cls}")


def _string_name(r: random.Random, op: str, frag: str) -> str:
    return r.choice({"count": [f"count_{frag}", f"number_of_{frag}", f"{frag}_count"],
                     "keep": [f"keep_{frag}", f"only_{frag}", f"extract_{frag}"],
                     "remove": [f"remove_{frag}", f"strip_{frag}", f"without_{frag}"],
                     "replace": [f"mask_{frag}", f"replace_{frag}", f"hide_{frag}"],
                     "any": [f"has_{frag}", f"contains_{frag}", f"any_{frag}"],
                     "all": [f"all_{frag}", f"is_all_{frag}", f"only_has_{frag}"],
                     "position": [f"first_{frag}_index", f"find_{frag}", f"position_of_{frag}"]}[op])


# ---- the public entry point ----

_KINDS: list[tuple[str, float, Callable[[random.Random], tuple[_Prog, str]]]] = [
    ("scalar", 0.25, _scalar), ("predicate", 0.2, _predicate), ("sequence", 0.35, _sequence), ("string", 0.2, _string)]
VERSION = 1
"""Part of a prepared corpus's key: raise it whenever the programs a seed gives change."""


def composed_program(r: random.Random) -> tuple[str, str, str]:
    """One composed program: (text, group, the choices made)."""
    while True:
        kind = r.choices([k[0] for k in _KINDS], weights=[k[1] for k in _KINDS])[0]
        make = next(k[2] for k in _KINDS if k[0] == kind)
        try:
            prog, group = make(r)
        except _Overflow:
            continue
        return _assemble(r, prog), group, prog.params


def evaluation_names() -> frozenset[str]:
    """The function names of every evaluation prompt (the built-in sets, and MultiPL-E's where its files are
    found): a composed program never defines one, as the template families never do."""
    from nanochat_cli.data.decontaminate import evaluation_prompts

    return frozenset(n for p in evaluation_prompts() for n in re.findall(r"\bfn\s+(\w+)", p))


def composed_programs(n: int, seed: int, banned: frozenset[str] | None = None) -> list[Snippet]:
    """`n` distinct composed programs (deterministic for a seed and the evaluation sets present); group = the
    composition. A program whose function is named like an evaluation function (`banned`, by default
    `evaluation_names()`) is drawn again."""
    banned = evaluation_names() if banned is None else banned
    rng = random.Random(f"composed:{seed}")
    out: list[Snippet] = []
    seen: set[str] = set()
    misses = 0
    while len(out) < n and misses < 20 * n + 1000:
        text, group, params = composed_program(rng)
        if text in seen or set(re.findall(r"\bfn\s+(\w+)", text)) & banned:
            misses += 1
            continue
        seen.add(text)
        out.append(Snippet(source="composed", group=group, kind="bin", text=text, origin=f"{group}: {params}"))
    return out
