"""Synthetic training programs: small std-only Rust functions in the shape of code-generation tasks.

Each program is a `///` doc comment, a function (sometimes with helper functions, a struct, an enum or a
trait), and a `fn main()` of `assert_eq!`/`assert!` checks whose expected values are computed here in
Python. Every template family varies names, element types, doc phrasing, implementation style and test
inputs, so a model learns the language rather than one string per task. `synthetic_programs(n, seed)`
is deterministic and returns distinct programs; `data/verify.py` keeps those that build and pass.
"""

from __future__ import annotations

import math
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from string import Template

from nanochat_cli.data.snippet import Snippet

_BOUNDS = {"i8": (-2**7, 2**7 - 1), "i16": (-2**15, 2**15 - 1), "i32": (-2**31, 2**31 - 1),
           "i64": (-2**63, 2**63 - 1), "u8": (0, 2**8 - 1), "u16": (0, 2**16 - 1), "u32": (0, 2**32 - 1),
           "u64": (0, 2**64 - 1), "usize": (0, 2**64 - 1)}
_SEQ = ["nums", "values", "xs", "items", "numbers", "data", "arr", "list", "vals", "elems", "input", "entries"]
_TEXT = ["s", "text", "input", "line", "word", "phrase", "src", "source"]
_WORDS = ["apple", "river", "stone", "cloud", "tiger", "maple", "orbit", "pixel", "lemon", "north", "quiet",
          "rust", "crab", "iron", "gold", "ship", "wave", "star", "moon", "sun", "tree", "bird", "fish", "code",
          "data", "loop", "byte", "list", "map", "key", "box", "cat", "dog", "owl", "bee", "ant", "sky", "sea",
          "banana", "garden", "window", "rocket", "silver", "planet", "forest", "bridge", "castle", "dragon"]


def _fits(value: int, ty: str) -> bool:
    lo, hi = _BOUNDS[ty]
    return lo <= value <= hi


def _signed(ty: str) -> bool:
    return ty.startswith("i")


class _Raw(str):
    """Rust source text that `_lit` passes through unchanged (a char, an Option, a constructor call)."""


def _lit(v) -> str:
    """A Python value as a Rust expression: ints, floats, &str literals, tuples and `vec![...]`."""
    if isinstance(v, _Raw):
        return str(v)
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, tuple):
        return "(" + ", ".join(map(_lit, v)) + ")"
    if isinstance(v, list):
        return "vec![" + ", ".join(map(_lit, v)) + "]"
    raise TypeError(f"no Rust literal for {v!r}")


def _float(x: float) -> str:
    s = repr(round(x, 9))
    if "e" in s or "inf" in s or "nan" in s:
        s = f"{x:.9f}".rstrip("0")
    return s + "0" if s.endswith(".") else (s if "." in s else s + ".0")


def _ch(c: str) -> _Raw:
    return _Raw("'\\''" if c == "'" else f"'{c}'")


def _some(v) -> _Raw:
    return _Raw("None" if v is None else f"Some({_lit(v)})")


def _slice(xs: list) -> str:
    return "&[" + ", ".join(map(_lit, xs)) + "]"


def _vec(xs: list, ty: str) -> _Raw:
    """An expected Vec: `vec![...]`, or `Vec::<T>::new()` when empty (a bare `vec![]` cannot infer its type);
    Rust text, so `_check` and `_lit` pass it through."""
    return _Raw(_lit(xs) if xs else f"Vec::<{ty}>::new()")


def _owned(s: str, r: random.Random) -> str:
    return r.choice([f"String::from({_lit(s)})", f"{_lit(s)}.to_string()"])


def _check(call: str, expected) -> str:
    """One assertion: `assert!` for booleans (as clippy prefers), `assert_eq!` otherwise."""
    if expected is True:
        return f"assert!({call});"
    if expected is False:
        return f"assert!(!{call});"
    return f"assert_eq!({call}, {_lit(expected)});"


def _close(call: str, expected: float) -> str:
    return f"assert!(({call} - {_float(expected)}).abs() < 1e-9);"


def _sub(text: str, kw: dict) -> str:
    return Template(textwrap.dedent(text).strip("\n")).substitute(kw)


def _fn(sig: str, body: str, kw: dict, doc: str = "") -> str:
    """A function item: doc lines, `sig {`, the body one level in, `}`. Both use `$name` placeholders."""
    return doc + _sub(sig, kw) + " {\n" + textwrap.indent(_sub(body, kw), "    ") + "\n}\n"


def _doc(r: random.Random, phrasings: list[str], kw: dict | None = None, examples: list[str] = ()) -> str:
    """`///` lines from one of several phrasings (a phrasing may hold `\\n` for several lines), sometimes with
    an `# Examples` section or an inline example taken from `examples` (assertion lines)."""
    text = Template(r.choice(phrasings)).substitute(kw or {})
    lines = text.split("\n")
    shown = list(examples)[: r.randint(1, 2)]
    style = r.random()
    if shown and style < 0.3:
        lines += ["", "# Examples", "", "```", *shown, "```"]
    elif shown and style < 0.45:
        lines += ["", "For example:", "", "```", *shown, "```"]
    return "".join(f"/// {line}\n" if line else "///\n" for line in lines)


@dataclass
class _Prog:
    """One generated program before assembly."""
    items: list[str]
    """Items in dependency order (types first, the documented function last)."""
    checks: list[str]
    """Statements of `main` (assertions, and the `let`s they need)."""
    helpers: list[str] = field(default_factory=list)
    """Helper functions that may go before or after the items."""
    uses: list[str] = field(default_factory=list)
    params: str = ""
    """What was chosen (style, type, names), for the origin field."""


def _top_level_args(args: str) -> list[str]:
    """`args` split at the commas outside brackets and string or char literals."""
    parts, depth, start, quote, i = [], 0, 0, "", 0
    while i < len(args):
        c = args[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c == '"' or (c == "'" and args[i + 2: i + 3] == "'") or args[i: i + 3] == "'\\'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(args[start:i].strip())
            start = i + 1
        i += 1
    return [*parts, args[start:].strip()]


def _wrap_check(line: str, width: int = 96) -> str:
    """A one-line `assert_eq!(a, b);` longer than rustfmt's 100 columns (with main's indent), laid out as
    rustfmt does: one argument per line."""
    if len(line) <= width or "\n" in line or not line.endswith(");") or "!(" not in line:
        return line
    head, args = line[:-2].split("!(", 1)
    parts = _top_level_args(args)
    return f"{head}!(\n" + "".join(f"    {a},\n" for a in parts[:-1]) + f"    {parts[-1]}\n);"


def _assemble(r: random.Random, p: _Prog) -> str:
    items = [*p.helpers, *p.items] if r.random() < 0.5 else [*p.items, *p.helpers]
    body = "".join(textwrap.indent(_wrap_check(c), "    ") + "\n" for c in p.checks)
    head = "".join(f"use {u};\n" for u in sorted(set(p.uses)))
    return (head + "\n" if head else "") + "\n".join(items) + "\nfn main() {\n" + body + "}\n"


_FAMILIES: dict[str, Callable[[random.Random], _Prog]] = {}


def _family(name: str):
    def register(fn):
        _FAMILIES[name] = fn
        return fn
    return register


# ---- arithmetic ----

@_family("gcd")
def _gcd(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize"])
    kw = {"fn": r.choice(["gcd", "gcd_of", "euclid_gcd", "common_divisor", "highest_common_factor"]), "T": T}
    kw["a"], kw["b"] = r.choice([("a", "b"), ("x", "y"), ("m", "n")])
    style = r.choice(["loop", "rec", "swap"])
    sig = "fn $fn($a: $T, $b: $T) -> $T" if style == "rec" else "fn $fn(mut $a: $T, mut $b: $T) -> $T"
    body = {"loop": """
        while $b != 0 {
            let r = $a % $b;
            $a = $b;
            $b = r;
        }
        $a""", "rec": """
        if $b == 0 {
            $a
        } else {
            $fn($b, $a % $b)
        }""", "swap": """
        while $b != 0 {
            $a %= $b;
            std::mem::swap(&mut $a, &mut $b);
        }
        $a"""}[style]
    pairs = [(r.randrange(1, 500), r.randrange(1, 500)) for _ in range(3)] + [(r.randrange(1, 50) * 6, 0)]
    g = r.randrange(2, 30)
    pairs.insert(1, (g * r.randrange(1, 20), g * r.randrange(1, 20)))
    checks = [_check(f"{kw['fn']}({a}, {b})", math.gcd(a, b)) for a, b in pairs]
    doc = _doc(r, ["Returns the greatest common divisor of `$a` and `$b`.",
                   "Computes the GCD of two numbers with Euclid's algorithm.",
                   "The largest number that divides both `$a` and `$b`.\n\nThe GCD of `n` and 0 is `n`."],
               kw, checks)
    gcd_fn = _fn(sig, body, kw, doc)
    if r.random() < 0.35:
        kw["lcm"] = r.choice(["lcm", "least_common_multiple", "lcm_of"])
        lcm = _fn("fn $lcm($a: $T, $b: $T) -> $T", "$a / $fn($a, $b) * $b", kw,
                  _doc(r, ["Returns the least common multiple of `$a` and `$b`, which must not both be zero.",
                           "The smallest positive number that both `$a` and `$b` divide."], kw))
        pairs = [(r.randrange(1, 60), r.randrange(1, 60)) for _ in range(4)]
        checks += [_check(f"{kw['lcm']}({a}, {b})", a * b // math.gcd(a, b)) for a, b in pairs]
        return _Prog([lcm], checks, helpers=[gcd_fn], params=f"{style} {T} +lcm")
    return _Prog([gcd_fn], checks, params=f"{style} {T}")


@_family("int_pow")
def _int_pow(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "u64"])
    kw = {"fn": r.choice(["int_pow", "pow_int", "raise_to", "ipow", "power_of"]), "T": T,
          "x": r.choice(["base", "x", "b"]), "e": r.choice(["exp", "exponent", "n"])}
    style = r.choice(["loop", "square", "rec", "fold"])
    sig = "fn $fn(mut $x: $T, mut $e: u32) -> $T" if style == "square" else "fn $fn($x: $T, $e: u32) -> $T"
    body = {"loop": """
        let mut result = 1;
        for _ in 0..$e {
            result *= $x;
        }
        result""", "square": """
        let mut result = 1;
        while $e > 0 {
            if $e % 2 == 1 {
                result *= $x;
            }
            $e /= 2;
            if $e > 0 {
                $x *= $x;
            }
        }
        result""", "rec": """
        if $e == 0 {
            1
        } else {
            $x * $fn($x, $e - 1)
        }""", "fold": "(0..$e).fold(1, |acc, _| acc * $x)"}[style]
    cases = []
    while len(cases) < 5:
        x = r.randrange(-9 if _signed(T) else 0, 10)
        e = r.randrange(0, 12)
        if _fits(x ** e, T) and (x, e) not in [c[:2] for c in cases]:
            cases.append((x, e, x ** e))
    checks = [_check(f"{kw['fn']}({x}, {e})", v) for x, e, v in cases]
    doc = _doc(r, ["Raises `$x` to the power `$e` using only integer multiplication.",
                   "Returns `$x` multiplied by itself `$e` times; any number to the power 0 is 1.",
                   "Computes `$x` to the `$e`-th power."], kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} {T}")


@_family("digit_sum")
def _digit_sum(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize"])
    op = r.choice(["sum", "product", "count"])
    style = r.choice(["loop", "rec", "string"]) if op != "count" else r.choice(["loop", "string"])
    kw = {"T": T, "n": r.choice(["n", "num", "value"]), "acc": r.choice(["total", "acc", "result"])}
    kw["fn"] = r.choice({"sum": ["digit_sum", "sum_of_digits", "add_digits"],
                         "product": ["digit_product", "product_of_digits", "multiply_digits"],
                         "count": ["digit_count", "num_digits", "count_digits"]}[op])
    ret = "u32" if style == "string" or op == "count" else T
    kw["R"] = ret
    start, opsym = {"sum": ("0", "+="), "product": ("1", "*="), "count": ("0", "+=")}[op]
    if style == "loop" and op == "count":
        sig, body = "fn $fn(mut $n: $T) -> $R", """
            let mut $acc = 1;
            while $n >= 10 {
                $n /= 10;
                $acc += 1;
            }
            $acc"""
    elif style == "loop":
        sig, body = "fn $fn(mut $n: $T) -> $T", f"""
            let mut $acc = {start};
            loop {{
                $acc {opsym} $n % 10;
                $n /= 10;
                if $n == 0 {{
                    break;
                }}
            }}
            $acc"""
    elif style == "rec":
        sig = "fn $fn($n: $T) -> $T"
        body = f"""
            if $n < 10 {{
                $n
            }} else {{
                $n % 10 {opsym[0]} $fn($n / 10)
            }}"""
    elif op == "count":
        sig, body = "fn $fn($n: $T) -> $R", "$n.to_string().len() as u32"
    else:
        sig = "fn $fn($n: $T) -> $R"
        body = f"$n.to_string().chars().map(|c| c.to_digit(10).unwrap()).{'sum' if op == 'sum' else 'product'}()"
    nums = [r.randrange(0, 10)] + [r.randrange(10, 10 ** r.randint(2, 9)) for _ in range(4)]
    digits = {x: [int(c) for c in str(x)] for x in nums}
    value = {"sum": sum, "product": math.prod, "count": len}[op]
    checks = [_check(f"{kw['fn']}({x})", value(digits[x])) for x in nums]
    what = {"sum": "sum", "product": "product", "count": "number"}[op]
    doc = _doc(r, [f"Returns the {what} of the decimal digits of `$n`.",
                   f"Computes the {what} of the digits of a non-negative integer.",
                   f"The {what} of the base-10 digits of `$n`."], kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{op} {style} {T}")


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))


@_family("prime_check")
def _prime_check(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize"])
    kw = {"T": T, "fn": r.choice(["is_prime_number", "check_prime", "prime_test", "is_a_prime"]),
          "n": r.choice(["n", "num", "candidate"]), "i": r.choice(["i", "d", "divisor"])}
    style = r.choice(["while", "iter", "for6"])
    body = {"while": """
        if $n < 2 {
            return false;
        }
        let mut $i = 2;
        while $i * $i <= $n {
            if $n % $i == 0 {
                return false;
            }
            $i += 1;
        }
        true""", "iter": "$n >= 2 && (2..).take_while(|$i| $i * $i <= $n).all(|$i| $n % $i != 0)", "for6": """
        if $n < 4 {
            return $n >= 2;
        }
        if $n % 2 == 0 || $n % 3 == 0 {
            return false;
        }
        let mut $i = 5;
        while $i * $i <= $n {
            if $n % $i == 0 || $n % ($i + 2) == 0 {
                return false;
            }
            $i += 6;
        }
        true"""}[style]
    nums = r.sample(range(300), 6) + [r.choice([2, 3, 97, 101, 211])]
    checks = [_check(f"{kw['fn']}({x})", _is_prime(x)) for x in nums]
    doc = _doc(r, ["Returns `true` if `$n` is a prime number.",
                   "Checks whether `$n` is prime by trial division up to its square root.",
                   "Tells whether `$n` has no divisors other than 1 and itself.\n\n0 and 1 are not prime."],
               kw, checks)
    return _Prog([_fn("fn $fn($n: $T) -> bool", body, kw, doc)], checks, params=f"{style} {T}")


@_family("primes_up_to")
def _primes_up_to(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["primes_up_to", "sieve", "primes_through", "list_primes"]),
          "n": r.choice(["n", "limit", "max"]), "flags": r.choice(["composite", "is_composite", "marked"])}
    count = r.random() < 0.3
    style = r.choice(["while", "step_by", "helper"])
    body = {"while": """
        let mut $flags = vec![false; $n + 1];
        let mut primes = Vec::new();
        for i in 2..=$n {
            if !$flags[i] {
                primes.push(i);
                let mut j = i * i;
                while j <= $n {
                    $flags[j] = true;
                    j += i;
                }
            }
        }
        primes""", "step_by": """
        let mut $flags = vec![false; $n + 1];
        let mut primes = Vec::new();
        for i in 2..=$n {
            if $flags[i] {
                continue;
            }
            primes.push(i);
            for j in (i * i..=$n).step_by(i) {
                $flags[j] = true;
            }
        }
        primes""", "helper": "(2..=$n).filter(|&k| is_prime_index(k)).collect()"}[style]
    helpers = []
    if style == "helper":
        helpers.append(_fn("fn is_prime_index(k: usize) -> bool", "(2..).take_while(|d| d * d <= k).all(|d| k % d != 0)",
                           kw, "/// Trial division: `true` when `k` (at least 2) has no divisor below its square root.\n"))
    limits = [r.randrange(0, 3), r.randrange(10, 40), r.randrange(40, 120)]
    primes = {x: [p for p in range(x + 1) if _is_prime(p)] for x in limits}
    if count:
        kw["count"] = r.choice(["prime_count", "count_primes_to", "num_primes_upto"])
        counter = _fn("fn $count($n: usize) -> usize", "$fn($n).len()", kw,
                      _doc(r, ["How many primes are at most `$n`."], kw))
        checks = [_check(f"{kw['count']}({x})", len(primes[x])) for x in limits]
        checks.insert(0, f"assert_eq!({kw['fn']}({limits[1]}), {_vec(primes[limits[1]], 'usize')});")
        helpers.append(counter)
    else:
        checks = [f"assert_eq!({kw['fn']}({x}), {_vec(primes[x], 'usize')});" for x in limits]
    doc = _doc(r, ["Returns every prime number from 2 up to and including `$n`, in increasing order.",
                   "Lists the primes not greater than `$n` using the sieve of Eratosthenes.",
                   "All primes `p` with `p <= $n`, smallest first."], kw)
    return _Prog([_fn("fn $fn($n: usize) -> Vec<usize>", body, kw, doc)], checks, helpers=helpers,
                 params=f"{style} count={count}")


@_family("factorial")
def _factorial(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["factorial", "fact", "factorial_of", "n_factorial"]), "n": r.choice(["n", "k", "num"])}
    style = r.choice(["loop", "product", "rec", "fold", "checked"])
    sig = "fn $fn($n: u64) -> Option<u64>" if style == "checked" else "fn $fn($n: u64) -> u64"
    body = {"loop": """
        let mut result = 1;
        for i in 2..=$n {
            result *= i;
        }
        result""", "product": "(1..=$n).product()", "rec": """
        match $n {
            0 | 1 => 1,
            _ => $n * $fn($n - 1),
        }""", "fold": "(1..=$n).fold(1, |acc, i| acc * i)",
        "checked": "(1..=$n).try_fold(1u64, |acc, i| acc.checked_mul(i))"}[style]
    if style == "checked":
        nums = [r.randrange(0, 21), r.randrange(0, 21), 20, r.randrange(21, 30)]
        checks = [f"assert_eq!({kw['fn']}({x}), {_some(math.factorial(x) if x <= 20 else None)});" for x in nums]
        phr = ["Returns `$n!`, or `None` when it does not fit in a `u64` (from 21 on).",
               "The factorial of `$n` with overflow checking."]
    else:
        nums = r.sample(range(21), 5)
        checks = [_check(f"{kw['fn']}({x})", math.factorial(x)) for x in nums]
        phr = ["Returns the factorial of `$n` (the product `1 * 2 * ... * $n`); `0!` is 1.",
               "Computes `$n!`. Overflows for `$n` above 20.", "The product of all integers from 1 to `$n`."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw, checks))], checks, params=style)


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@_family("fibonacci")
def _fibonacci(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["fibonacci", "nth_fibonacci", "fib_number", "fibo"]), "n": r.choice(["n", "index", "k"])}
    style = r.choice(["pair", "destructure", "rec", "vec", "sequence"])
    if style == "sequence":
        kw["fn"] = r.choice(["fibonacci_sequence", "first_fibonacci", "fib_series"])
        sig = "fn $fn(count: usize) -> Vec<u64>"
        body = r.choice(["""
            let mut seq = Vec::with_capacity(count);
            let (mut a, mut b) = (0, 1);
            for _ in 0..count {
                seq.push(a);
                (a, b) = (b, a + b);
            }
            seq""", """
            let mut seq: Vec<u64> = Vec::new();
            while seq.len() < count {
                let next = match seq.len() {
                    0 => 0,
                    1 => 1,
                    k => seq[k - 1] + seq[k - 2],
                };
                seq.push(next);
            }
            seq"""])
        nums = [0, r.randrange(1, 4), r.randrange(5, 15)]
        checks = [f"assert_eq!({kw['fn']}({x}), {_vec([_fib(i) for i in range(x)], 'u64')});" for x in nums]
        doc = _doc(r, ["Returns the first `count` Fibonacci numbers, starting 0, 1, 1, 2.",
                       "The Fibonacci sequence cut to `count` terms."], kw)
        return _Prog([_fn(sig, body, kw, doc)], checks, params=style)
    body = {"pair": """
        let mut a = 0;
        let mut b = 1;
        for _ in 0..$n {
            let next = a + b;
            a = b;
            b = next;
        }
        a""", "destructure": """
        let (mut a, mut b) = (0, 1);
        for _ in 0..$n {
            (a, b) = (b, a + b);
        }
        a""", "rec": """
        if $n < 2 {
            $n as u64
        } else {
            $fn($n - 1) + $fn($n - 2)
        }""", "vec": """
        let mut memo = vec![0u64, 1];
        for i in 2..=$n as usize {
            memo.push(memo[i - 1] + memo[i - 2]);
        }
        memo[$n as usize]"""}[style]
    top = 20 if style == "rec" else 80
    nums = [0, 1] + r.sample(range(2, top), 4)
    checks = [_check(f"{kw['fn']}({x})", _fib(x)) for x in nums]
    doc = _doc(r, ["Returns the `$n`-th Fibonacci number, where `$fn(0) == 0` and `$fn(1) == 1`.",
                   "Computes the Fibonacci number at position `$n`.",
                   ("Each Fibonacci number is the sum of the two before it, starting from 0 and 1.\n"
                   "This returns the one at index `$n`.")], kw, checks)
    return _Prog([_fn("fn $fn($n: u32) -> u64", body, kw, doc)], checks, params=style)


@_family("clamp")
def _clamp(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "f64"])
    kw = {"T": T, "fn": r.choice(["clamp_to", "clamp_between", "bound_value", "limit_range", "keep_in_range"]),
          "x": r.choice(["x", "value", "v"]), "lo": r.choice(["lo", "min", "low"]), "hi": r.choice(["hi", "max", "high"])}
    style = r.choice(["if", "minmax", "match"])
    body = {"if": """
        if $x < $lo {
            $lo
        } else if $x > $hi {
            $hi
        } else {
            $x
        }""", "minmax": "$x.max($lo).min($hi)", "match": """
        match $x {
            v if v < $lo => $lo,
            v if v > $hi => $hi,
            v => v,
        }"""}[style]
    cases = []
    for _ in range(5):
        lo = r.randrange(-50, 50)
        hi = lo + r.randrange(1, 60)
        x = r.randrange(lo - 30, hi + 30)
        cases.append((x, lo, hi, min(max(x, lo), hi)))
    f = float if T == "f64" else int
    checks = [_check(f"{kw['fn']}({_lit(f(x))}, {_lit(f(lo))}, {_lit(f(hi))})", f(v)) for x, lo, hi, v in cases]
    doc = _doc(r, ["Restricts `$x` to the range `$lo..=$hi`.",
                   "Returns `$lo` if `$x` is below it, `$hi` if `$x` is above it, and `$x` otherwise.",
                   "Clamps a value into the closed interval [`$lo`, `$hi`]. Assumes `$lo <= $hi`."], kw, checks)
    return _Prog([_fn("fn $fn($x: $T, $lo: $T, $hi: $T) -> $T", body, kw, doc)], checks, params=f"{style} {T}")


@_family("abs_diff")
def _abs_diff(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "u64", "usize"])
    kw = {"T": T, "fn": r.choice(["abs_difference", "distance_between", "gap_between", "absolute_gap"]),
          "a": r.choice(["a", "x", "first"]), "b": r.choice(["b", "y", "second"])}
    styles = ["if", "abs"] if _signed(T) else ["if", "method", "match"]
    style = r.choice(styles)
    body = {"if": """
        if $a > $b {
            $a - $b
        } else {
            $b - $a
        }""", "abs": "($a - $b).abs()", "method": "$a.abs_diff($b)", "match": """
        match $a.cmp(&$b) {
            Ordering::Less => $b - $a,
            _ => $a - $b,
        }"""}[style]
    lo = -1000 if _signed(T) else 0
    cases = [(r.randrange(lo, 1000), r.randrange(lo, 1000)) for _ in range(4)]
    cases.append((cases[0][0], cases[0][0]))
    checks = [_check(f"{kw['fn']}({a}, {b})", abs(a - b)) for a, b in cases]
    doc = _doc(r, ["Returns how far apart `$a` and `$b` are, as a non-negative number.",
                   "The absolute difference `|$a - $b|`, computed without overflow for unsigned inputs.",
                   "Distance between two numbers on the number line."], kw, checks)
    uses = ["std::cmp::Ordering"] if style == "match" else []
    return _Prog([_fn("fn $fn($a: $T, $b: $T) -> $T", body, kw, doc)], checks, uses=uses, params=f"{style} {T}")


def _collatz(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


@_family("collatz")
def _collatz_family(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["collatz_steps", "collatz_length", "steps_to_one", "hailstone_steps"]),
          "n": r.choice(["n", "start", "x"]), "c": r.choice(["steps", "count"])}
    style = r.choice(["if", "match", "rec"])
    if style == "rec":
        sig, body = "fn $fn($n: u64) -> u32", """
            if $n == 1 {
                0
            } else if $n % 2 == 0 {
                1 + $fn($n / 2)
            } else {
                1 + $fn(3 * $n + 1)
            }"""
    else:
        sig = "fn $fn(mut $n: u64) -> u32"
        step = """
                if $n % 2 == 0 {
                    $n /= 2;
                } else {
                    $n = 3 * $n + 1;
                }""" if style == "if" else """
                $n = match $n % 2 {
                    0 => $n / 2,
                    _ => 3 * $n + 1,
                };"""
        body = "let mut $c = 0;\nwhile $n != 1 {" + textwrap.dedent(step).rstrip() + "\n    $c += 1;\n}\n$c"
    nums = [1] + r.sample(range(2, 200), 4)
    checks = [_check(f"{kw['fn']}({x})", _collatz(x)) for x in nums]
    doc = _doc(r, [("Counts the steps of the Collatz process from `$n` down to 1: halve even numbers,\n"
                   "replace odd ones with `3n + 1`."),
                   "Returns the number of Collatz steps needed to reach 1 from `$n` (which must be positive)."],
               kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=style)


@_family("reverse_number")
def _reverse_number(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["reverse_digits", "reversed_number", "flip_digits", "mirror_number"]),
          "n": r.choice(["n", "num", "value"]), "acc": r.choice(["rev", "reversed", "out"])}
    style = r.choice(["loop", "string"])
    body = """
        let mut $acc = 0;
        while $n > 0 {
            $acc = $acc * 10 + $n % 10;
            $n /= 10;
        }
        $acc""" if style == "loop" else "$n.to_string().chars().rev().collect::<String>().parse().unwrap()"
    sig = "fn $fn(mut $n: u64) -> u64" if style == "loop" else "fn $fn($n: u64) -> u64"
    nums = [r.randrange(0, 10), r.randrange(10, 10 ** 6), r.randrange(10, 10 ** 9), r.randrange(1, 100) * 100]
    checks = [_check(f"{kw['fn']}({x})", int(str(x)[::-1])) for x in nums]
    doc = _doc(r, ["Returns `$n` with its decimal digits in reverse order; trailing zeros are dropped.",
                   "Reverses the digits of a number, so 123 becomes 321."], kw, checks)
    helpers = []
    items = [_fn(sig, body, kw, doc)]
    if r.random() < 0.4:
        kw["pal"] = r.choice(["is_palindromic_number", "reads_same_reversed", "symmetric_number"])
        items.append(_fn("fn $pal($n: u64) -> bool", "$fn($n) == $n", kw,
                         _doc(r, ["Whether `$n` reads the same forwards and backwards."], kw)))
        pals = [r.randrange(1, 10), int("1" + str(r.randrange(100, 999)) + "1"), 12321, r.randrange(10, 99999)]
        checks += [_check(f"{kw['pal']}({x})", str(x) == str(x)[::-1]) for x in pals]
        helpers, items = items[:1], items[1:]
    return _Prog(items, checks, helpers=helpers, params=style)


@_family("bits")
def _bits(r: random.Random) -> _Prog:
    task = r.choice(["ones", "binary", "power_of_two"])
    kw = {"n": r.choice(["n", "x", "value"])}
    if task == "ones":
        kw["fn"] = r.choice(["ones_in_binary", "popcount", "bit_count", "set_bits"])
        style = r.choice(["loop", "method", "kernighan"])
        sig = "fn $fn($n: u32) -> u32" if style == "method" else "fn $fn(mut $n: u32) -> u32"
        body = {"loop": """
            let mut count = 0;
            while $n > 0 {
                count += $n & 1;
                $n >>= 1;
            }
            count""", "method": "$n.count_ones()", "kernighan": """
            let mut count = 0;
            while $n != 0 {
                $n &= $n - 1;
                count += 1;
            }
            count"""}[style]
        nums = [0, r.randrange(1, 256), r.randrange(256, 2 ** 32), 2 ** 32 - 1]
        checks = [_check(f"{kw['fn']}({x})", x.bit_count()) for x in nums]
        phr = ["Counts the 1 bits in the binary form of `$n`.", "Returns the population count of `$n`."]
    elif task == "binary":
        kw["fn"] = r.choice(["to_binary", "binary_string", "as_binary", "bin_digits"])
        style = r.choice(["format", "loop"])
        sig = "fn $fn($n: u32) -> String" if style == "format" else "fn $fn(mut $n: u32) -> String"
        body = 'format!("{:b}", $n)' if style == "format" else """
            if $n == 0 {
                return "0".to_string();
            }
            let mut bits = Vec::new();
            while $n > 0 {
                bits.push(if $n % 2 == 1 { '1' } else { '0' });
                $n /= 2;
            }
            bits.iter().rev().collect()"""
        nums = [0, r.randrange(1, 16), r.randrange(16, 5000)]
        checks = [_check(f"{kw['fn']}({x})", bin(x)[2:]) for x in nums]
        phr = ["Returns the binary representation of `$n` without a prefix or leading zeros.",
               "Writes `$n` in base 2."]
    else:
        kw["fn"] = r.choice(["is_power_of_two", "single_bit_set", "is_pow2"])
        style = r.choice(["trick", "method", "loop"])
        sig = "fn $fn(mut $n: u64) -> bool" if style == "loop" else "fn $fn($n: u64) -> bool"
        body = {"trick": "$n != 0 && $n & ($n - 1) == 0", "method": "$n.count_ones() == 1", "loop": """
            if $n == 0 {
                return false;
            }
            while $n % 2 == 0 {
                $n /= 2;
            }
            $n == 1"""}[style]
        nums = [0, 1, 2 ** r.randrange(1, 40), r.randrange(3, 1000), 2 ** r.randrange(2, 20) + 1]
        checks = [_check(f"{kw['fn']}({x})", x > 0 and x & (x - 1) == 0) for x in nums]
        phr = ["Returns `true` when `$n` is a power of two (1, 2, 4, 8, ...).",
               "Checks whether exactly one bit of `$n` is set."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw, checks))], checks, params=f"{task} {style}")


@_family("series_sum")
def _series_sum(r: random.Random) -> _Prog:
    p = r.choice([1, 2, 3])
    T = r.choice(["u32", "u64"])
    kw = {"T": T, "n": r.choice(["n", "upto", "limit"]),
          "fn": r.choice({1: ["triangular", "sum_to", "sum_first_n"], 2: ["sum_of_squares", "squares_total"],
                          3: ["sum_of_cubes", "cubes_total"]}[p])}
    term = {1: "i", 2: "i * i", 3: "i * i * i"}[p]
    style = r.choice(["iter", "loop", "formula"])
    formula = {1: "$n * ($n + 1) / 2", 2: "$n * ($n + 1) * (2 * $n + 1) / 6", 3: "($n * ($n + 1) / 2).pow(2)"}[p]
    body = {"iter": f"(1..=$n).map(|i| {term}).sum()" if p > 1 else "(1..=$n).sum()",
            "loop": f"let mut total = 0;\nfor i in 1..=$n {{\n    total += {term};\n}}\ntotal",
            "formula": formula}[style]
    nums = [0, 1] + r.sample(range(2, 200), 3)
    checks = [_check(f"{kw['fn']}({x})", sum(i ** p for i in range(1, x + 1))) for x in nums]
    what = {1: "the integers", 2: "the squares", 3: "the cubes"}[p]
    doc = _doc(r, [f"Returns the sum of {what} from 1 to `$n` inclusive.",
                   f"Adds up {what} of 1, 2, ..., `$n`; the result is 0 when `$n` is 0."], kw, checks)
    return _Prog([_fn("fn $fn($n: $T) -> $T", body, kw, doc)], checks, params=f"p={p} {style} {T}")


@_family("divisors")
def _divisors(r: random.Random) -> _Prog:
    kw = {"n": r.choice(["n", "num"]), "d": r.choice(["d", "k", "i"]),
          "fn": r.choice(["divisors_of", "all_divisors", "factors_of"])}
    style = r.choice(["filter", "loop", "sqrt"])
    body = {"filter": "(1..=$n).filter(|$d| $n % $d == 0).collect()", "loop": """
        let mut found = Vec::new();
        for $d in 1..=$n {
            if $n % $d == 0 {
                found.push($d);
            }
        }
        found""", "sqrt": """
        let mut small = Vec::new();
        let mut large = Vec::new();
        let mut $d = 1;
        while $d * $d <= $n {
            if $n % $d == 0 {
                small.push($d);
                if $d * $d != $n {
                    large.push($n / $d);
                }
            }
            $d += 1;
        }
        large.reverse();
        small.extend(large);
        small"""}[style]
    nums = [1, r.randrange(2, 30), r.choice([36, 49, 64, 100, 144]), r.randrange(30, 500)]
    divs = {x: [d for d in range(1, x + 1) if x % d == 0] for x in nums}
    checks = [f"assert_eq!({kw['fn']}({x}), {_lit(divs[x])});" for x in nums]
    doc = _doc(r, ["Returns every positive divisor of `$n` in increasing order.",
                   "Lists the numbers that divide `$n` evenly, from 1 up to `$n` itself."], kw)
    items = [_fn("fn $fn($n: u32) -> Vec<u32>", body, kw, doc)]
    helpers = []
    if r.random() < 0.5:
        kw["perfect"] = r.choice(["is_perfect", "perfect_number", "is_perfect_number"])
        helpers, items = items, [_fn("fn $perfect($n: u32) -> bool",
                                     "$n > 1 && $fn($n).iter().sum::<u32>() == 2 * $n", kw,
                                     _doc(r, ["A perfect number equals the sum of its divisors other than itself.",
                                              "Whether `$n` is perfect, like 6 = 1 + 2 + 3."], kw))]
        cands = [6, 28, 496, r.randrange(2, 500), r.randrange(2, 500), 1]
        checks += [_check(f"{kw['perfect']}({x})", x > 1 and sum(d for d in range(1, x) if x % d == 0) == x)
                   for x in cands]
    return _Prog(items, checks, helpers=helpers, params=style)


@_family("isqrt")
def _isqrt(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["isqrt", "int_sqrt", "floor_sqrt", "integer_root"]), "n": r.choice(["n", "x", "value"])}
    style = r.choice(["linear", "binary", "newton"])
    body = {"linear": """
        let mut root = 0;
        while (root + 1) * (root + 1) <= $n {
            root += 1;
        }
        root""", "binary": """
        let (mut lo, mut hi) = (0, $n + 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if mid * mid <= $n {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo""", "newton": """
        if $n < 2 {
            return $n;
        }
        let mut guess = $n;
        let mut next = (guess + 1) / 2;
        while next < guess {
            guess = next;
            next = (guess + $n / guess) / 2;
        }
        guess"""}[style]
    nums = [0, 1, r.randrange(2, 100), r.randrange(100, 10 ** 6), r.randrange(2, 1000) ** 2]
    checks = [_check(f"{kw['fn']}({x})", math.isqrt(x)) for x in nums]
    doc = _doc(r, ["Returns the largest integer whose square is at most `$n`.",
                   "The integer square root of `$n`, rounded down.",
                   "Computes `floor(sqrt($n))` without floating point."], kw, checks)
    return _Prog([_fn("fn $fn($n: u64) -> u64", body, kw, doc)], checks, params=style)


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


@_family("calendar")
def _calendar(r: random.Random) -> _Prog:
    kw = {"leap": r.choice(["is_leap_year", "leap_year", "is_leap"]), "y": r.choice(["year", "y"]),
          "days": r.choice(["days_in_month", "month_length", "month_days"]), "m": r.choice(["month", "m"])}
    leap_body = r.choice(["$y % 4 == 0 && ($y % 100 != 0 || $y % 400 == 0)", """
        if $y % 400 == 0 {
            true
        } else if $y % 100 == 0 {
            false
        } else {
            $y % 4 == 0
        }""", """
        match ($y % 4, $y % 100, $y % 400) {
            (_, _, 0) => true,
            (_, 0, _) => false,
            (0, _, _) => true,
            _ => false,
        }"""])
    leap = _fn("fn $leap($y: u32) -> bool", leap_body, kw,
               _doc(r, ["Returns `true` if `$y` is a leap year in the Gregorian calendar.",
                        "Leap years are divisible by 4, except centuries that are not divisible by 400."], kw))
    years = [2000, 1900, r.randrange(1800, 2100), r.randrange(1800, 2100), r.randrange(1, 500) * 4]
    checks = [_check(f"{kw['leap']}({y})", _leap(y)) for y in years]
    if r.random() < 0.3:
        return _Prog([leap], checks, params="leap")
    days_body = """
        match $m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
            4 | 6 | 9 | 11 => Some(30),
            2 if $leap($y) => Some(29),
            2 => Some(28),
            _ => None,
        }"""
    days = _fn("fn $days($m: u32, $y: u32) -> Option<u32>", days_body, kw,
               _doc(r, ["Returns the number of days in month `$m` (1 to 12) of year `$y`, or `None` for an invalid month.",
                        "How many days the given month has, taking leap years into account."], kw))
    lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for _ in range(4):
        m, y = r.randrange(0, 14), r.choice([2000, 1900, 2024, 2023, r.randrange(1900, 2100)])
        n = None if not 1 <= m <= 12 else (29 if m == 2 and _leap(y) else lengths[m - 1])
        checks.append(f"assert_eq!({kw['days']}({m}, {y}), {_some(n)});")
    return _Prog([days], checks, helpers=[leap], params="days")


# ---- loops and iterators ----

def _seq_param(r: random.Random, T: str) -> tuple[str, Callable[[list], str]]:
    """A sequence parameter: a borrowed slice (idiomatic) or, as evaluation prompts often have, an owned Vec."""
    return (f"&[{T}]", _slice) if r.random() < 0.7 else (f"Vec<{T}>", _lit)


def _ints(r: random.Random, T: str, k: int, lo: int = -20, hi: int = 20) -> list[int]:
    return [r.randrange(lo if _signed(T) else max(lo, 0), hi) for _ in range(k)]


@_family("multiples_sum")
def _multiples_sum(r: random.Random) -> _Prog:
    a, b = r.sample([2, 3, 4, 5, 7, 11], 2)
    kw = {"fn": r.choice(["sum_of_multiples", "multiples_total", "sum_multiples_below"]),
          "n": r.choice(["limit", "n", "below"]), "a": a, "b": b}
    style = r.choice(["for", "filter", "while"])
    body = {"for": """
        let mut total = 0;
        for i in 1..$n {
            if i % $a == 0 || i % $b == 0 {
                total += i;
            }
        }
        total""", "filter": "(1..$n).filter(|i| i % $a == 0 || i % $b == 0).sum()", "while": """
        let mut total = 0;
        let mut i = 1;
        while i < $n {
            if i % $a == 0 || i % $b == 0 {
                total += i;
            }
            i += 1;
        }
        total"""}[style]
    nums = [0, r.randrange(1, 15), r.randrange(15, 100), r.randrange(100, 1000)]
    checks = [_check(f"{kw['fn']}({x})", sum(i for i in range(1, x) if i % a == 0 or i % b == 0)) for x in nums]
    doc = _doc(r, ["Returns the sum of all positive numbers below `$n` that are multiples of $a or $b.",
                   "Adds up every number less than `$n` divisible by $a or by $b."], kw, checks)
    return _Prog([_fn("fn $fn($n: u64) -> u64", body, kw, doc)], checks, params=f"{style} {a},{b}")


@_family("ranges")
def _ranges(r: random.Random) -> _Prog:
    task = r.choice(["countdown", "every_kth", "arithmetic", "evens"])
    kw = {"xs": r.choice(_SEQ)}
    if task == "countdown":
        kw["fn"] = r.choice(["countdown", "count_down_from", "descending_to_one"])
        body = r.choice(["(1..=n).rev().collect()", """
            let mut out = Vec::new();
            let mut i = n;
            while i > 0 {
                out.push(i);
                i -= 1;
            }
            out"""])
        nums = [0, r.randrange(1, 4), r.randrange(4, 12)]
        checks = [f"assert_eq!({kw['fn']}({x}), {_vec(list(range(x, 0, -1)), 'u32')});" for x in nums]
        sig, phr = "fn $fn(n: u32) -> Vec<u32>", ["Returns `n, n - 1, ..., 1`; empty when `n` is 0.",
                                                 "Counts down from `n` to 1."]
    elif task == "every_kth":
        kw["fn"] = r.choice(["every_kth", "take_every", "stride"])
        body = r.choice(["$xs.iter().step_by(k).copied().collect()", """
            let mut out = Vec::new();
            let mut i = 0;
            while i < $xs.len() {
                out.push($xs[i]);
                i += k;
            }
            out""", "$xs.iter().enumerate().filter(|(i, _)| i % k == 0).map(|(_, &x)| x).collect()"])
        checks = []
        for _ in range(3):
            xs, k = _ints(r, "i32", r.randrange(0, 9)), r.randrange(1, 4)
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {k}), {_vec(xs[::k], 'i32')});")
        sig, phr = "fn $fn($xs: &[i32], k: usize) -> Vec<i32>", [
            "Returns the elements at positions 0, k, 2k, ... of `$xs`. `k` must be positive.",
            "Keeps every `k`-th element of `$xs`, starting with the first."]
    elif task == "arithmetic":
        kw["fn"] = r.choice(["arithmetic_sequence", "progression", "linear_steps"])
        body = r.choice(["(0..count).map(|i| start + step * i as i64).collect()", """
            let mut out = Vec::with_capacity(count);
            let mut value = start;
            for _ in 0..count {
                out.push(value);
                value += step;
            }
            out"""])
        checks = []
        for _ in range(3):
            start, step, count = r.randrange(-10, 10), r.randrange(-5, 6), r.randrange(0, 7)
            checks.append(f"assert_eq!({kw['fn']}({start}, {step}, {count}), "
                          f"{_vec([start + step * i for i in range(count)], 'i64')});")
        sig, phr = "fn $fn(start: i64, step: i64, count: usize) -> Vec<i64>", [
            "Returns `count` terms of the arithmetic sequence that begins at `start` and grows by `step`.",
            "The first `count` values `start`, `start + step`, `start + 2 * step`, ..."]
    else:
        kw["fn"] = r.choice(["evens_between", "even_numbers_in", "evens_in_range"])
        body = r.choice(["(lo..=hi).filter(|x| x % 2 == 0).collect()", """
            let first = if lo % 2 == 0 { lo } else { lo + 1 };
            (first..=hi).step_by(2).collect()"""])
        checks = []
        for _ in range(3):
            lo = r.randrange(0, 20)
            hi = lo + r.randrange(-1, 12)
            checks.append(f"assert_eq!({kw['fn']}({lo}, {hi}), {_vec([x for x in range(lo, hi + 1) if x % 2 == 0], 'u32')});")
        sig, phr = "fn $fn(lo: u32, hi: u32) -> Vec<u32>", ["Returns the even numbers from `lo` to `hi`, both inclusive.",
                                                          "All even `x` with `lo <= x <= hi`, in increasing order."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=task)


@_family("pair_count")
def _pair_count(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64"])
    ptype, render = _seq_param(r, T)
    kw = {"T": T, "P": ptype, "xs": r.choice(_SEQ), "t": r.choice(["target", "sum", "goal"]),
          "fn": r.choice(["pairs_with_sum", "count_pairs_summing_to", "num_pairs_adding_to"])}
    body = r.choice(["""
        let mut count = 0;
        for i in 0..$xs.len() {
            for j in i + 1..$xs.len() {
                if $xs[i] + $xs[j] == $t {
                    count += 1;
                }
            }
        }
        count""", """
        let mut count = 0;
        for (i, a) in $xs.iter().enumerate() {
            count += $xs[i + 1..].iter().filter(|&&b| a + b == $t).count();
        }
        count"""])
    checks = []
    for _ in range(4):
        xs = _ints(r, T, r.randrange(0, 8), -5, 8)
        t = r.randrange(-3, 10)
        n = sum(1 for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[i] + xs[j] == t)
        checks.append(_check(f"{kw['fn']}({render(xs)}, {t})", n))
    doc = _doc(r, ["Counts the index pairs `i < j` with `$xs[i] + $xs[j] == $t`.",
                   "How many pairs of different positions in `$xs` add up to `$t`."], kw, checks)
    return _Prog([_fn("fn $fn($xs: $P, $t: $T) -> usize", body, kw, doc)], checks, params=f"{T} {ptype}")


@_family("star_rows")
def _star_rows(r: random.Random) -> _Prog:
    ch = r.choice(["*", "#", "+", "o"])
    kw = {"fn": r.choice(["triangle_rows", "staircase", "pyramid_lines", "star_rows"]), "c": ch,
          "n": r.choice(["n", "height", "rows"])}
    right = r.random() < 0.4
    if right:
        body = r.choice(['(1..=$n).map(|i| format!("{}{}", " ".repeat($n - i), "$c".repeat(i))).collect()', """
            let mut lines = Vec::new();
            for i in 1..=$n {
                let mut line = String::new();
                for _ in 0..$n - i {
                    line.push(' ');
                }
                for _ in 0..i {
                    line.push('$c');
                }
                lines.push(line);
            }
            lines"""])
        rows = lambda n: [" " * (n - i) + ch * i for i in range(1, n + 1)]
    else:
        body = r.choice(['(1..=$n).map(|i| "$c".repeat(i)).collect()', """
            let mut lines = Vec::new();
            let mut line = String::new();
            for _ in 0..$n {
                line.push('$c');
                lines.push(line.clone());
            }
            lines"""])
        rows = lambda n: [ch * i for i in range(1, n + 1)]
    checks = [f"assert_eq!({kw['fn']}({x}), {_vec(rows(x), '&str')});" for x in [0, r.randrange(1, 3), r.randrange(3, 6)]]
    align = "right-aligned " if right else ""
    doc = _doc(r, [f"Returns the `$n` lines of a {align}triangle of `$c` characters, the i-th line holding i of them.",
                   f"Builds a {align}staircase of `$c` with `$n` rows, shortest row first."], kw)
    return _Prog([_fn("fn $fn($n: usize) -> Vec<String>", body, kw, doc)], checks, params=f"right={right}")


_PREDICATES = {  # name, Rust closure body over `x`, Python predicate, needs signed
    "even": ("x % 2 == 0", lambda x: x % 2 == 0, False),
    "odd": ("x % 2 != 0", lambda x: x % 2 != 0, False),
    "positive": ("x > 0", lambda x: x > 0, True),
    "negative": ("x < 0", lambda x: x < 0, True),
    "multiple_of_three": ("x % 3 == 0", lambda x: x % 3 == 0, False),
}


@_family("filtered_sum")
def _filtered_sum(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "u64"])
    pred = r.choice([p for p, v in _PREDICATES.items() if _signed(T) or not v[2]])
    mapping = r.choice(["", "square", "double"])
    cond, py_pred, _ = _PREDICATES[pred]
    term, py_term = {"": ("x", lambda x: x), "square": ("x * x", lambda x: x * x), "double": ("2 * x", lambda x: 2 * x)}[mapping]
    ptype, render = _seq_param(r, T)
    words = {"even": "even", "odd": "odd", "positive": "positive", "negative": "negative",
             "multiple_of_three": "multiple_of_three"}[pred]
    kw = {"T": T, "P": ptype, "xs": r.choice(_SEQ),
          "fn": r.choice([f"sum_of_{words}", f"{words}_total", f"add_{words}"]) + (f"_{mapping}d" if mapping else "")}
    style = r.choice(["iter", "loop", "fold"])
    body = {"iter": f"$xs.iter().filter(|&&x| {cond}).map(|&x| {term}).sum()" if mapping else
            f"$xs.iter().filter(|&&x| {cond}).sum()",
            "loop": f"let mut total = 0;\nfor &x in $xs.iter() {{\n    if {cond} {{\n        total += {term};\n    }}\n}}\ntotal",
            "fold": f"$xs.iter().fold(0, |acc, &x| if {cond} {{ acc + {term} }} else {{ acc }})"}[style]
    checks = []
    for k in [0, 3, 5, 7]:
        xs = _ints(r, T, k, -30, 30)
        checks.append(_check(f"{kw['fn']}({render(xs)})", sum(py_term(x) for x in xs if py_pred(x))))
    what = {"": "", "square": "squares of the ", "double": "doubles of the "}[mapping]
    noun = pred.replace("_", " ").replace("multiple of three", "multiples of three")
    noun = noun if noun.startswith("multiples") else noun + " elements"
    doc = _doc(r, [f"Returns the sum of the {what}{noun} of `$xs`.", f"Adds up the {what}{noun} in `$xs`; 0 if there are none."],
               kw, checks)
    return _Prog([_fn("fn $fn($xs: $P) -> $T", body, kw, doc)], checks, params=f"{pred} {mapping} {style} {T}")


@_family("extremum")
def _extremum(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "usize"])
    big = r.random() < 0.5
    ptype, render = _seq_param(r, T)
    word = "max" if big else "min"
    kw = {"T": T, "P": ptype, "xs": r.choice(_SEQ), "m": word, "cmp": ">" if big else "<",
          "fn": r.choice([f"{'largest' if big else 'smallest'}_value", f"find_{word}imum", f"{word}_of", f"{word}_item"])}
    style = r.choice(["method", "loop", "fold", "first"])
    body = {"method": "$xs.iter().copied().$m()", "loop": """
        if $xs.is_empty() {
            return None;
        }
        let mut best = $xs[0];
        for &x in &$xs[1..] {
            if x $cmp best {
                best = x;
            }
        }
        Some(best)""", "fold": "$xs.iter().fold(None, |best, &x| match best {\n    Some(b) if b $cmp= x => Some(b),\n    _ => Some(x),\n})",
            "first": """
        let mut best = *$xs.first()?;
        for &x in $xs.iter() {
            best = best.$m(x);
        }
        Some(best)"""}[style]
    checks = [f"assert_eq!({kw['fn']}({render([])}), None);"]
    for k in [1, 4, 7]:
        xs = _ints(r, T, k, -50, 50)
        checks.append(f"assert_eq!({kw['fn']}({render(xs)}), {_some(max(xs) if big else min(xs))});")
    doc = _doc(r, [f"Returns the {'largest' if big else 'smallest'} element of `$xs`, or `None` if it is empty.",
                   f"Finds the {word}imum value in `$xs`."], kw, checks[1:])
    return _Prog([_fn("fn $fn($xs: $P) -> Option<$T>", body, kw, doc)], checks, params=f"{word} {style} {T}")


@_family("second_largest")
def _second_largest(r: random.Random) -> _Prog:
    kw = {"xs": r.choice(_SEQ), "fn": r.choice(["second_largest", "runner_up", "second_max", "next_to_max"])}
    style = r.choice(["sort", "loop", "set"])
    body = {"sort": """
        let mut sorted = $xs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.iter().rev().nth(1).copied()""", "loop": """
        let mut first: Option<i32> = None;
        let mut second: Option<i32> = None;
        for &x in $xs {
            if Some(x) > first {
                second = first;
                first = Some(x);
            } else if Some(x) != first && Some(x) > second {
                second = Some(x);
            }
        }
        second""", "set": """
        let distinct: BTreeSet<i32> = $xs.iter().copied().collect();
        distinct.into_iter().rev().nth(1)"""}[style]
    checks = []
    for k in [0, 1, 3, 6, 6]:
        xs = _ints(r, "i32", k, -10, 10)
        if k == 3:
            xs = [xs[0]] * 3
        d = sorted(set(xs))
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_some(d[-2] if len(d) > 1 else None)});")
    doc = _doc(r, ["Returns the second largest distinct value in `$xs`, or `None` if there are fewer than two.",
                   "The largest value of `$xs` that is smaller than its maximum, if any."], kw)
    uses = ["std::collections::BTreeSet"] if style == "set" else []
    return _Prog([_fn("fn $fn($xs: &[i32]) -> Option<i32>", body, kw, doc)], checks, uses=uses, params=style)


@_family("dot_product")
def _dot_product(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "f64"])
    kw = {"T": T, "fn": r.choice(["dot", "dot_product", "inner_product"]),
          "a": r.choice(["a", "xs", "left"]), "b": r.choice(["b", "ys", "right"])}
    style = r.choice(["zip", "index", "fold"])
    body = {"zip": "$a.iter().zip($b).map(|(x, y)| x * y).sum()", "index": """
        let mut total = 0${zero};
        for i in 0..$a.len().min($b.len()) {
            total += $a[i] * $b[i];
        }
        total""", "fold": "$a.iter().zip($b.iter()).fold(0${zero}, |acc, (x, y)| acc + x * y)"}[style]
    kw["zero"] = ".0" if T == "f64" else ""
    body = body.replace("${zero}", kw["zero"])
    checks = []
    for k in [0, 3, 4]:
        if T == "f64":
            a = [r.randrange(-20, 20) / 4 for _ in range(k)]
            b = [r.randrange(-20, 20) / 4 for _ in range(k)]
            checks.append(_close(f"{kw['fn']}({_slice(a)}, {_slice(b)})", sum(x * y for x, y in zip(a, b))))
        else:
            a, b = _ints(r, T, k), _ints(r, T, k)
            checks.append(_check(f"{kw['fn']}({_slice(a)}, {_slice(b)})", sum(x * y for x, y in zip(a, b))))
    doc = _doc(r, ["Returns the dot product of `$a` and `$b`: the sum of their element-wise products.",
                   ("Multiplies matching elements of two vectors and adds the products up.\n"
                   "Extra elements of the longer one are ignored.")], kw)
    return _Prog([_fn("fn $fn($a: &[$T], $b: &[$T]) -> $T", body, kw, doc)], checks, params=f"{style} {T}")


@_family("prefix_sums")
def _prefix_sums(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    kw = {"T": T, "xs": r.choice(_SEQ), "fn": r.choice(["running_total", "prefix_sums", "cumulative", "partial_sums"])}
    style = r.choice(["loop", "scan", "map"])
    body = {"loop": """
        let mut out = Vec::with_capacity($xs.len());
        let mut acc = 0;
        for &x in $xs {
            acc += x;
            out.push(acc);
        }
        out""", "scan": """
        $xs.iter()
            .scan(0, |acc, &x| {
                *acc += x;
                Some(*acc)
            })
            .collect()""", "map": """
        let mut acc = 0;
        $xs.iter()
            .map(|&x| {
                acc += x;
                acc
            })
            .collect()"""}[style]
    checks = []
    for k in [0, 1, 5]:
        xs = _ints(r, T, k)
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_vec([sum(xs[:i + 1]) for i in range(k)], T)});")
    doc = _doc(r, ["Returns the running totals of `$xs`: element `i` is the sum of `$xs[..=i]`.",
                   "Computes the prefix sums of a slice."], kw, checks[2:])
    return _Prog([_fn("fn $fn($xs: &[$T]) -> Vec<$T>", body, kw, doc)], checks, params=f"{style} {T}")


@_family("windows")
def _windows(r: random.Random) -> _Prog:
    task = r.choice(["increases", "max_window", "non_decreasing", "differences"])
    kw = {"xs": r.choice(_SEQ)}
    loop = r.random() < 0.4
    if task == "increases":
        kw["fn"] = r.choice(["count_increases", "rises", "num_increases"])
        sig = "fn $fn($xs: &[i32]) -> usize"
        body = """
            let mut count = 0;
            for i in 1..$xs.len() {
                if $xs[i] > $xs[i - 1] {
                    count += 1;
                }
            }
            count""" if loop else "$xs.windows(2).filter(|w| w[1] > w[0]).count()"
        py = lambda xs: sum(1 for a, b in pairwise(xs) if b > a)
        phr = ["Counts how many elements of `$xs` are greater than the one before them."]
    elif task == "max_window":
        kw["fn"] = r.choice(["max_window_sum", "best_run_sum", "largest_window_total"])
        sig = "fn $fn($xs: &[i32], k: usize) -> Option<i32>"
        body = "$xs.windows(k).map(|w| w.iter().sum()).max()" if not loop else """
            if k == 0 || k > $xs.len() {
                return None;
            }
            let mut best = i32::MIN;
            for start in 0..=$xs.len() - k {
                let total: i32 = $xs[start..start + k].iter().sum();
                best = best.max(total);
            }
            Some(best)"""
        phr = ["Returns the largest sum of `k` consecutive elements of `$xs`, or `None` if `$xs` is shorter than `k`.",
               "The maximum total over all windows of length `k` (which must be positive)."]
        py = None
    elif task == "non_decreasing":
        kw["fn"] = r.choice(["is_non_decreasing", "in_order", "sorted_ascending", "is_ascending"])
        sig = "fn $fn($xs: &[i32]) -> bool"
        body = """
            for i in 1..$xs.len() {
                if $xs[i - 1] > $xs[i] {
                    return false;
                }
            }
            true""" if loop else "$xs.windows(2).all(|w| w[0] <= w[1])"
        py = lambda xs: all(a <= b for a, b in pairwise(xs))
        phr = ["Returns `true` if every element of `$xs` is at least the one before it.",
               "Checks that `$xs` is sorted in non-decreasing order. Empty slices count as sorted."]
    else:
        kw["fn"] = r.choice(["differences", "deltas", "adjacent_differences", "steps_between"])
        sig = "fn $fn($xs: &[i32]) -> Vec<i32>"
        body = "$xs.windows(2).map(|w| w[1] - w[0]).collect()" if not loop else \
            "$xs.iter().zip($xs.iter().skip(1)).map(|(a, b)| b - a).collect()"
        py = lambda xs: [b - a for a, b in pairwise(xs)]
        phr = ["Returns the differences between neighbouring elements: `$xs[i + 1] - $xs[i]`.",
               "Computes the step from each element of `$xs` to the next."]
    checks = []
    for k in [0, 1, 4, 6]:
        xs = _ints(r, "i32", k)
        if task == "non_decreasing" and r.random() < 0.5:
            xs.sort()
        if task == "max_window":
            w = r.randrange(1, 4)
            sums = [sum(xs[i:i + w]) for i in range(len(xs) - w + 1)]
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {w}), {_some(max(sums) if sums else None)});")
        elif task == "differences":
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_vec(py(xs), 'i32')});")
        else:
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", py(xs)))
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw, checks[2:]))], checks, params=f"{task} loop={loop}")


@_family("chunks")
def _chunks(r: random.Random) -> _Prog:
    T = r.choice(["i32", "u32", "i64"])
    op = r.choice(["sum", "max"])
    kw = {"T": T, "xs": r.choice(_SEQ), "n": r.choice(["size", "n", "width"]),
          "fn": r.choice([f"chunk_{op}s", f"{op}_per_chunk", f"group_{op}s"])}
    style = r.choice(["chunks", "loop"])
    if op == "sum":
        body = "$xs.chunks($n).map(|c| c.iter().sum()).collect()" if style == "chunks" else """
            let mut out = Vec::new();
            let mut start = 0;
            while start < $xs.len() {
                let end = (start + $n).min($xs.len());
                out.push($xs[start..end].iter().sum());
                start = end;
            }
            out"""
    else:
        body = "$xs.chunks($n).map(|c| *c.iter().max().unwrap()).collect()" if style == "chunks" else """
            let mut out = Vec::new();
            for chunk in $xs.chunks($n) {
                let mut best = chunk[0];
                for &x in chunk {
                    if x > best {
                        best = x;
                    }
                }
                out.push(best);
            }
            out"""
    checks = []
    for k in [0, 5, 8]:
        xs, size = _ints(r, T, k), r.randrange(1, 4)
        groups = [xs[i:i + size] for i in range(0, len(xs), size)]
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {size}), {_vec([sum(g) if op == 'sum' else max(g) for g in groups], T)});")
    what = "sum" if op == "sum" else "largest element"
    doc = _doc(r, [f"Splits `$xs` into consecutive groups of `$n` elements (the last may be shorter) and returns the {what} of each.",
                   f"Returns the {what} of every chunk of length `$n`. `$n` must be positive."], kw)
    return _Prog([_fn("fn $fn($xs: &[$T], $n: usize) -> Vec<$T>", body, kw, doc)], checks, params=f"{op} {style} {T}")


@_family("position")
def _position(r: random.Random) -> _Prog:
    last = r.random() < 0.3
    T = r.choice(["i32", "u32", "i64", "char"])
    kw = {"T": T, "xs": r.choice(_SEQ), "t": r.choice(["target", "needle", "wanted"]),
          "fn": r.choice(["last_index_of", "rfind_value"] if last else ["index_of", "position_of", "locate", "first_index_of"])}
    style = r.choice(["method", "loop"])
    if last:
        body = "$xs.iter().rposition(|&x| x == $t)" if style == "method" else """
            for i in (0..$xs.len()).rev() {
                if $xs[i] == $t {
                    return Some(i);
                }
            }
            None"""
    else:
        body = "$xs.iter().position(|&x| x == $t)" if style == "method" else """
            for (i, &x) in $xs.iter().enumerate() {
                if x == $t {
                    return Some(i);
                }
            }
            None"""
    pool = [_ch(c) for c in "abcdef"] if T == "char" else list(range(0 if T == "u32" else -3, 6))
    checks = []
    for k in [0, 4, 6, 6]:
        xs = [r.choice(pool) for _ in range(k)]
        t = r.choice(pool)
        idx = [i for i, x in enumerate(xs) if x == t]
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {_lit(t)}), {_some((idx[-1] if last else idx[0]) if idx else None)});")
    which = "last" if last else "first"
    doc = _doc(r, [f"Returns the index of the {which} occurrence of `$t` in `$xs`, or `None` if it is absent.",
                   f"Finds where `$t` {'last ' if last else ''}appears in `$xs`."], kw, checks[1:])
    return _Prog([_fn("fn $fn($xs: &[$T], $t: $T) -> Option<usize>", body, kw, doc)], checks, params=f"{which} {style} {T}")


@_family("argmax")
def _argmax(r: random.Random) -> _Prog:
    big = r.random() < 0.6
    word = "max" if big else "min"
    kw = {"xs": r.choice(_SEQ), "fn": r.choice([f"index_of_{word}", f"arg{word}", f"{word}_position"]),
          "m": word, "cmp": ">" if big else "<"}
    style = r.choice(["by_key", "loop"])
    body = "$xs.iter().enumerate().${m}_by_key(|&(_, &x)| x).map(|(i, _)| i)" if style == "by_key" else """
        let mut best: Option<usize> = None;
        for (i, &x) in $xs.iter().enumerate() {
            match best {
                Some(b) if $xs[b] $cmp= x => {}
                _ => best = Some(i),
            }
        }
        best"""
    checks = [f"assert_eq!({kw['fn']}(&[]), None);"]
    for k in [1, 4, 7]:
        xs = r.sample(range(-40, 40), k)
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_some(xs.index(max(xs) if big else min(xs)))});")
    doc = _doc(r, [f"Returns the index of the {'largest' if big else 'smallest'} element of `$xs`, or `None` when it is empty.",
                   f"Where the {word}imum of `$xs` sits. The elements are distinct."], kw, checks[2:])
    return _Prog([_fn("fn $fn($xs: &[i32]) -> Option<usize>", body, kw, doc)], checks, params=f"{word} {style}")


@_family("any_all")
def _any_all(r: random.Random) -> _Prog:
    quant = r.choice(["any", "all"])
    T = r.choice(["i32", "i64"])
    pred = r.choice(list(_PREDICATES))
    cond, py_pred, _ = _PREDICATES[pred]
    noun = pred.replace("_", " ")
    kw = {"T": T, "xs": r.choice(_SEQ), "q": quant,
          "fn": r.choice([f"has_{pred}", f"contains_{pred}", f"any_{pred}"] if quant == "any" else
                         [f"all_{pred}", f"every_{pred}", f"only_{pred}"])}
    style = r.choice(["method", "loop"])
    if style == "method":
        body = f"$xs.iter().$q(|&x| {cond})"
    elif quant == "any":
        body = f"for &x in $xs {{\n    if {cond} {{\n        return true;\n    }}\n}}\nfalse"
    else:
        body = f"for &x in $xs {{\n    if !({cond}) {{\n        return false;\n    }}\n}}\ntrue"
    checks = []
    for k in [0, 3, 5, 5]:
        xs = _ints(r, T, k, -9, 10)
        if quant == "all" and k == 5:
            xs = [x for x in range(-30, 30) if py_pred(x)][: k] if r.random() < 0.5 else xs
        checks.append(_check(f"{kw['fn']}({_slice(xs)})", (any if quant == 'any' else all)(py_pred(x) for x in xs)))
    doc = _doc(r, [f"Returns `true` if {'at least one' if quant == 'any' else 'every'} element of `$xs` is {noun}."
                   + ("" if quant == "any" else "\n\nAn empty slice gives `true`."),
                   f"Checks whether {'some' if quant == 'any' else 'all'} of `$xs` {'is' if quant == 'any' else 'are'} {noun}."],
               kw, checks[1:])
    return _Prog([_fn("fn $fn($xs: &[$T]) -> bool", body, kw, doc)], checks, params=f"{quant} {pred} {style} {T}")


@_family("count_compare")
def _count_compare(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "f64"])
    op, word = r.choice([(">", "greater than"), ("<", "less than"), (">=", "at least"), ("==", "equal to")])
    if T == "f64" and op == "==":
        op, word = "<=", "at most"
    ptype, render = _seq_param(r, T)
    kw = {"T": T, "P": ptype, "xs": r.choice(_SEQ), "t": r.choice(["threshold", "limit", "bound"]), "op": op,
          "fn": r.choice({">": ["count_above", "num_greater_than"], "<": ["count_below", "num_less_than"],
                          ">=": ["count_at_least", "num_not_below"], "==": ["count_equal", "occurrences"],
                          "<=": ["count_at_most", "num_not_above"]}[op])}
    style = r.choice(["filter", "loop", "fold"])
    body = {"filter": "$xs.iter().filter(|&&x| x $op $t).count()",
            "loop": "let mut n = 0;\nfor &x in $xs.iter() {\n    if x $op $t {\n        n += 1;\n    }\n}\nn",
            "fold": "$xs.iter().fold(0, |n, &x| if x $op $t { n + 1 } else { n })"}[style]
    pyop = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b,
            "<=": lambda a, b: a <= b}[op]
    checks = []
    for k in [0, 4, 7]:
        xs = _ints(r, T, k, -10, 10)
        t = r.randrange(0 if T == "u32" else -5, 6)
        if T == "f64":
            xs, t = [x / 2 for x in xs], t / 2
        checks.append(_check(f"{kw['fn']}({render(xs)}, {_lit(t)})", sum(1 for x in xs if pyop(x, t))))
    doc = _doc(r, [f"Counts the elements of `$xs` that are {word} `$t`.", f"How many values in `$xs` are {word} `$t`."],
               kw, checks[1:])
    return _Prog([_fn("fn $fn($xs: $P, $t: $T) -> usize", body, kw, doc)], checks, params=f"{op} {style} {T}")


@_family("mean")
def _mean(r: random.Random) -> _Prog:
    T = r.choice(["f64", "i32", "u32"])
    kw = {"T": T, "xs": r.choice(_SEQ), "fn": r.choice(["mean", "average", "arithmetic_mean", "avg"])}
    style = r.choice(["sum", "loop"])
    total = "$xs.iter().sum::<f64>()" if T == "f64" else "$xs.iter().map(|&x| x as f64).sum::<f64>()"
    body = f"""
        if $xs.is_empty() {{
            return None;
        }}
        Some({total} / $xs.len() as f64)""" if style == "sum" else f"""
        if $xs.is_empty() {{
            None
        }} else {{
            let mut total = 0.0;
            for &x in $xs {{
                total += x{'' if T == 'f64' else ' as f64'};
            }}
            Some(total / $xs.len() as f64)
        }}"""
    checks = [f"assert_eq!({kw['fn']}(&[]), None);"]
    for k in [1, 4, 5]:
        xs = _ints(r, T, k, -20, 30)
        if T == "f64":
            xs = [x / 4 for x in xs]
        checks.append(_close(f"{kw['fn']}({_slice(xs)}).unwrap()", sum(xs) / len(xs)))
    doc = _doc(r, ["Returns the arithmetic mean of `$xs`, or `None` for an empty slice.",
                   "Averages the values in `$xs`. There is no mean of nothing, hence the `Option`."], kw)
    return _Prog([_fn("fn $fn($xs: &[$T]) -> Option<f64>", body, kw, doc)], checks, params=f"{style} {T}")


@_family("zip_elementwise")
def _zip_elementwise(r: random.Random) -> _Prog:
    op, sym, word = r.choice([("sum", "+", "sums"), ("product", "*", "products"), ("max", "max", "maxima"),
                              ("diff", "-", "differences")])
    T = r.choice(["i32", "i64"])
    kw = {"T": T, "a": r.choice(["a", "xs", "left"]), "b": r.choice(["b", "ys", "right"]),
          "fn": r.choice([f"pairwise_{op}", f"elementwise_{op}", f"zip_{word}"])}
    expr = "x.max(y)" if sym == "max" else f"x {sym} y"
    style = r.choice(["zip", "index"])
    body = f"$a.iter().zip($b).map(|(&x, &y)| {expr}).collect()" if style == "zip" else f"""
        let n = $a.len().min($b.len());
        let mut out = Vec::with_capacity(n);
        for i in 0..n {{
            let (x, y) = ($a[i], $b[i]);
            out.push({expr});
        }}
        out"""
    py = {"sum": lambda x, y: x + y, "product": lambda x, y: x * y, "max": max, "diff": lambda x, y: x - y}[op]
    checks = []
    for ka, kb in [(0, 2), (3, 3), (5, 3)]:
        a, b = _ints(r, T, ka), _ints(r, T, kb)
        checks.append(f"assert_eq!({kw['fn']}({_slice(a)}, {_slice(b)}), {_vec([py(x, y) for x, y in zip(a, b)], T)});")
    doc = _doc(r, [f"Returns the element-wise {word} of `$a` and `$b`, as long as the shorter of the two.",
                   f"Pairs up `$a` and `$b` position by position and keeps the {word}."], kw)
    return _Prog([_fn("fn $fn($a: &[$T], $b: &[$T]) -> Vec<$T>", body, kw, doc)], checks, params=f"{op} {style} {T}")


@_family("partition")
def _partition(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    pred = r.choice([p for p, v in _PREDICATES.items() if _signed(T) or not v[2]])
    cond, py_pred, _ = _PREDICATES[pred]
    kw = {"T": T, "xs": r.choice(_SEQ), "fn": r.choice([f"split_{pred}", f"partition_{pred}", f"separate_{pred}"])}
    style = r.choice(["partition", "loop"])
    body = f"$xs.iter().partition(|&&x| {cond})" if style == "partition" else f"""
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for &x in $xs {{
            if {cond} {{
                yes.push(x);
            }} else {{
                no.push(x);
            }}
        }}
        (yes, no)"""
    if style == "partition":
        body = f"$xs.iter().copied().partition(|&x| {cond})"
    checks = []
    for k in [0, 5, 7]:
        xs = _ints(r, T, k)
        yes, no = [x for x in xs if py_pred(x)], [x for x in xs if not py_pred(x)]
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), ({_vec(yes, T)}, {_vec(no, T)}));")
    noun = pred.replace("_", " ")
    doc = _doc(r, [f"Splits `$xs` into the {noun} elements and the rest, keeping their order.",
                   f"Returns `({noun}, others)`: two vectors that together hold every element of `$xs`."], kw)
    return _Prog([_fn("fn $fn($xs: &[$T]) -> (Vec<$T>, Vec<$T>)", body, kw, doc)], checks, params=f"{pred} {style} {T}")


@_family("min_max_pair")
def _min_max_pair(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32"])
    kw = {"T": T, "xs": r.choice(_SEQ), "fn": r.choice(["min_and_max", "bounds", "extremes", "range_of"])}
    style = r.choice(["fold", "loop", "iter"])
    body = {"fold": """
        let first = *$xs.first()?;
        Some($xs.iter().fold((first, first), |(lo, hi), &x| (lo.min(x), hi.max(x))))""", "loop": """
        let mut iter = $xs.iter().copied();
        let first = iter.next()?;
        let (mut lo, mut hi) = (first, first);
        for x in iter {
            if x < lo {
                lo = x;
            }
            if x > hi {
                hi = x;
            }
        }
        Some((lo, hi))""", "iter": """
        let lo = $xs.iter().min()?;
        let hi = $xs.iter().max()?;
        Some((*lo, *hi))"""}[style]
    checks = [f"assert_eq!({kw['fn']}(&[]), None);"]
    for k in [1, 5, 7]:
        xs = _ints(r, T, k, -30, 30)
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), Some(({min(xs)}, {max(xs)})));")
    doc = _doc(r, ["Returns the smallest and largest elements of `$xs` as a tuple, or `None` when it is empty.",
                   "Finds both extremes of `$xs` in one pass: `(min, max)`."], kw, checks[2:])
    return _Prog([_fn("fn $fn($xs: &[$T]) -> Option<($T, $T)>", body, kw, doc)], checks, params=f"{style} {T}")


@_family("matrix")
def _matrix(r: random.Random) -> _Prog:
    task = r.choice(["row_sums", "transpose", "diagonal", "flatten", "column_sums"])
    kw = {"m": r.choice(["matrix", "grid", "rows"])}
    loop = r.random() < 0.4
    names = {"row_sums": ["row_sums", "sum_each_row"], "transpose": ["transpose", "transposed"],
             "diagonal": ["diagonal_sum", "trace"], "flatten": ["flatten", "flatten_rows"],
             "column_sums": ["column_sums", "sum_columns"]}
    kw["fn"] = r.choice(names[task])
    sig, body, phr = {
        "row_sums": ("fn $fn($m: &[Vec<i32>]) -> Vec<i32>",
                     "$m.iter().map(|row| row.iter().sum()).collect()" if not loop else
                     "let mut out = Vec::new();\nfor row in $m {\n    let mut total = 0;\n    for &x in row {\n        total += x;\n    }\n    out.push(total);\n}\nout",
                     ["Returns the sum of each row of `$m`.", "Adds up every row of a matrix given as a slice of rows."]),
        "transpose": ("fn $fn($m: &[Vec<i32>]) -> Vec<Vec<i32>>",
                      "if $m.is_empty() {\n    return Vec::new();\n}\n(0..$m[0].len()).map(|c| $m.iter().map(|row| row[c]).collect()).collect()"
                      if not loop else
                      "let mut out = Vec::new();\nif let Some(first) = $m.first() {\n    for c in 0..first.len() {\n        let mut column = Vec::new();\n        for row in $m {\n            column.push(row[c]);\n        }\n        out.push(column);\n    }\n}\nout",
                      ["Returns the transpose of `$m`: row `i` of the result is column `i` of `$m`.\nAll rows must have the same length.",
                       "Swaps the rows and columns of a rectangular matrix."]),
        "diagonal": ("fn $fn($m: &[Vec<i32>]) -> i32",
                     "$m.iter().enumerate().map(|(i, row)| row[i]).sum()" if not loop else
                     "let mut total = 0;\nfor i in 0..$m.len() {\n    total += $m[i][i];\n}\ntotal",
                     ["Returns the sum of the main diagonal of the square matrix `$m`.", "Adds `$m[i][i]` over every row `i`."]),
        "flatten": ("fn $fn($m: &[Vec<i32>]) -> Vec<i32>",
                    r.choice(["$m.iter().flatten().copied().collect()", "$m.concat()"]) if not loop else
                    "let mut out = Vec::new();\nfor row in $m {\n    out.extend_from_slice(row);\n}\nout",
                    ["Concatenates the rows of `$m` into one vector.", "Flattens a matrix into its elements in row order."]),
        "column_sums": ("fn $fn($m: &[Vec<i32>]) -> Vec<i32>",
                        "let width = $m.first().map_or(0, |row| row.len());\n(0..width).map(|c| $m.iter().map(|row| row[c]).sum()).collect()"
                        if not loop else
                        "let mut out = vec![0; $m.first().map_or(0, |row| row.len())];\nfor row in $m {\n    for (c, &x) in row.iter().enumerate() {\n        out[c] += x;\n    }\n}\nout",
                        ["Returns the sum of each column of the rectangular matrix `$m`.", "Adds up `$m` column by column."]),
    }[task]
    checks = []
    for _ in range(3):
        h = r.randrange(1, 4)
        w = h if task == "diagonal" else r.randrange(1, 4)
        m = [_ints(r, "i32", w) for _ in range(h)]
        arg = "&[" + ", ".join(_lit(row) for row in m) + "]"
        if task == "transpose":
            value = "vec![" + ", ".join(_lit(list(c)) for c in zip(*m)) + "]"
        elif task == "diagonal":
            value = str(sum(m[i][i] for i in range(h)))
        else:
            value = _lit({"row_sums": [sum(row) for row in m], "flatten": [x for row in m for x in row],
                          "column_sums": [sum(c) for c in zip(*m)]}[task])
        checks.append(f"assert_eq!({kw['fn']}({arg}), {value});")
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=f"{task} loop={loop}")


# ---- match, enums ----

@_family("day_name")
def _day_name(r: random.Random) -> _Prog:
    table = r.choice([("day_name", "day", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
                      ("month_name", "month", ["January", "February", "March", "April", "May", "June", "July",
                                               "August", "September", "October", "November", "December"]),
                      ("planet_name", "position", ["Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn",
                                                   "Uranus", "Neptune"])])
    fn, arg, names = table
    base = r.choice([0, 1])
    kw = {"fn": r.choice([fn, fn + "_of", "name_of_" + arg]), "n": arg}
    style = r.choice(["match", "array"])
    arms = "".join(f"    {i + base} => Some(\"{n}\"),\n" for i, n in enumerate(names))
    body = "match $n {\n" + arms + "    _ => None,\n}" if style == "match" else (
        "const NAMES: [&str; " + str(len(names)) + "] = [\n" + "".join(f'    "{n}",\n' for n in names) + "];\n" +
        ("NAMES.get($n as usize).copied()" if base == 0 else "($n as usize).checked_sub(1).and_then(|i| NAMES.get(i)).copied()"))
    nums = r.sample(range(len(names) + 2), 4)
    checks = [f"assert_eq!({kw['fn']}({x}), {_some(names[x - base] if 0 <= x - base < len(names) else None)});" for x in nums]
    doc = _doc(r, [f"Returns the name of {arg} number `$n`, counting from {base}, or `None` if there is no such {arg}.",
                   f"Maps a {arg} number ({base}-based) to its English name."], kw)
    return _Prog([_fn("fn $fn($n: u32) -> Option<&'static str>", body, kw, doc)], checks, params=f"{fn} base={base} {style}")


@_family("fizzbuzz")
def _fizzbuzz(r: random.Random) -> _Prog:
    (a, wa), (b, wb) = r.choice([((3, "Fizz"), (5, "Buzz")), ((2, "Foo"), (7, "Bar")), ((3, "Ping"), (4, "Pong")),
                                 ((5, "Hop"), (7, "Skip"))])
    kw = {"fn": r.choice(["fizzbuzz_word", "say", "game_word", "call_out"]), "n": r.choice(["n", "i", "num"]),
          "a": a, "b": b, "wa": wa, "wb": wb}
    style = r.choice(["match", "if", "push"])
    body = {"match": """
        match ($n % $a, $n % $b) {
            (0, 0) => "$wa$wb".to_string(),
            (0, _) => "$wa".to_string(),
            (_, 0) => "$wb".to_string(),
            _ => $n.to_string(),
        }""", "if": """
        if $n % $a == 0 && $n % $b == 0 {
            String::from("$wa$wb")
        } else if $n % $a == 0 {
            String::from("$wa")
        } else if $n % $b == 0 {
            String::from("$wb")
        } else {
            $n.to_string()
        }""", "push": """
        let mut out = String::new();
        if $n % $a == 0 {
            out.push_str("$wa");
        }
        if $n % $b == 0 {
            out.push_str("$wb");
        }
        if out.is_empty() {
            out = $n.to_string();
        }
        out"""}[style]
    word = lambda n: (wa if n % a == 0 else "") + (wb if n % b == 0 else "") or str(n)
    nums = [a * b * r.randrange(1, 4), a * r.randrange(1, 9), b * r.randrange(1, 9), r.randrange(1, 100)]
    checks = [_check(f"{kw['fn']}({x})", word(x)) for x in nums]
    items = []
    if r.random() < 0.4:
        kw["all"] = r.choice(["play", "game_up_to", "words_up_to"])
        items.append(_fn("fn $all(count: u32) -> Vec<String>", "(1..=count).map($fn).collect()", kw,
                         _doc(r, ["Returns the words for 1 to `count`."], kw)))
        k = r.randrange(0, 16)
        checks.append(f"assert_eq!({kw['all']}({k}), {_vec([word(i) for i in range(1, k + 1)], '&str')});")
    doc = _doc(r, [("Returns \"$wa\" for multiples of $a, \"$wb\" for multiples of $b, \"$wa$wb\" for multiples of both,\n"
                   "and the number itself otherwise."), "The word to say for `$n` in a game of $wa$wb."], kw, checks[:2])
    main = _fn("fn $fn($n: u32) -> String", body, kw, doc)
    if items:
        return _Prog(items, checks, helpers=[main], params=f"{wa}{wb} {style} +all")
    return _Prog([main], checks, params=f"{wa}{wb} {style}")


@_family("classify")
def _classify(r: random.Random) -> _Prog:
    task = r.choice(["grade", "temperature", "age"])
    loop_guards = r.random() < 0.5
    if task == "grade":
        kw = {"fn": r.choice(["letter_grade", "grade_for", "to_grade"]), "x": r.choice(["score", "points", "mark"]), "T": "u32", "R": "char"}
        table = [(90, "'A'"), (80, "'B'"), (70, "'C'"), (60, "'D'"), (0, "'F'")]
        ranges = ["90..=100", "80..=89", "70..=79", "60..=69", "_"]
        samples = [r.randrange(0, 101) for _ in range(5)]
        phr = [("Converts a score from 0 to 100 into a letter grade: 90 and up is 'A', 80 to 89 'B', and so on,\n"
               "below 60 'F'."), "Returns the letter grade for `$x` (out of 100)."]
    elif task == "temperature":
        kw = {"fn": r.choice(["describe_temperature", "weather_word", "feels_like"]), "x": r.choice(["celsius", "degrees", "temp"]),
              "T": "f64", "R": "&'static str"}
        table = [(30, '"hot"'), (20, '"warm"'), (10, '"mild"'), (0, '"cold"'), (None, '"freezing"')]
        samples = [r.randrange(-20, 45) + r.choice([0.0, 0.5]) for _ in range(5)]
        loop_guards = True
        phr = ["Describes a temperature in degrees Celsius with one word.",
               "Returns \"hot\" from 30 degrees, \"warm\" from 20, \"mild\" from 10, \"cold\" from 0, else \"freezing\"."]
    else:
        kw = {"fn": r.choice(["age_group", "life_stage", "age_bracket"]), "x": r.choice(["age", "years"]), "T": "u32", "R": "&'static str"}
        table = [(65, '"senior"'), (18, '"adult"'), (13, '"teen"'), (0, '"child"')]
        ranges = ["65..", "18..=64", "13..=17", "_"]
        samples = [r.randrange(0, 100) for _ in range(5)]
        phr = ["Returns the age group for someone `$x` years old: child, teen, adult or senior.",
               "Classifies an age: under 13 is a child, 13 to 17 a teen, 18 to 64 an adult, 65 and over a senior."]
    if loop_guards:
        arms = "".join(f"    x if x >= {_lit(float(t)) if kw['T'] == 'f64' else t} => {v},\n" for t, v in table[:-1])
        body = "match $x {\n" + arms + f"    _ => {table[-1][1]},\n}}"
    else:
        body = "match $x {\n" + "".join(f"    {rng} => {v},\n" for rng, (_, v) in zip(ranges, table)) + "}"
        if task == "grade":
            body = body.replace("_ =>", "0..=59 =>").replace("}", "    _ => '?',\n}") if r.random() < 0.3 else body

    def classify(x):
        for t, v in table:
            if t is None or x >= t:
                return _Raw(v)
        return _Raw(table[-1][1])
    checks = [f"assert_eq!({kw['fn']}({_lit(x)}), {classify(x)});" for x in samples]
    return _Prog([_fn("fn $fn($x: $T) -> $R", body, kw, _doc(r, phr, kw))], checks, params=f"{task} guards={loop_guards}")


@_family("sign_enum")
def _sign_enum(r: random.Random) -> _Prog:
    E = r.choice(["Sign", "Polarity", "SignKind"])
    kw = {"E": E, "fn": r.choice(["sign_of", "classify_sign", "polarity"]), "x": r.choice(["x", "n", "value"]),
          "T": r.choice(["i32", "i64"])}
    style = r.choice(["guards", "cmp", "if"])
    body = {"guards": """
        match $x {
            v if v < 0 => $E::Negative,
            0 => $E::Zero,
            _ => $E::Positive,
        }""", "cmp": """
        match $x.cmp(&0) {
            Ordering::Less => $E::Negative,
            Ordering::Equal => $E::Zero,
            Ordering::Greater => $E::Positive,
        }""", "if": """
        if $x < 0 {
            $E::Negative
        } else if $x == 0 {
            $E::Zero
        } else {
            $E::Positive
        }"""}[style]
    enum = _sub("""
        /// Whether a number is below, at or above zero.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum $E {
            Negative,
            Zero,
            Positive,
        }
        """, kw) + "\n"
    nums = [0, r.randrange(-100, 0), r.randrange(1, 100), r.randrange(-5, 5)]
    checks = [f"assert_eq!({kw['fn']}({x}), {E}::{'Negative' if x < 0 else 'Zero' if x == 0 else 'Positive'});" for x in nums]
    doc = _doc(r, ["Returns the sign of `$x`.", "Classifies `$x` as negative, zero or positive."], kw)
    uses = ["std::cmp::Ordering"] if style == "cmp" else []
    return _Prog([enum, _fn("fn $fn($x: $T) -> $E", body, kw, doc)], checks, uses=uses, params=f"{style}")


@_family("quadrant")
def _quadrant(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["quadrant", "quadrant_of", "which_quadrant"]), "x": "x", "y": "y"}
    style = r.choice(["signum", "guards"])
    body = """
        match ($x.signum(), $y.signum()) {
            (1, 1) => Some(1),
            (-1, 1) => Some(2),
            (-1, -1) => Some(3),
            (1, -1) => Some(4),
            _ => None,
        }""" if style == "signum" else """
        match ($x, $y) {
            (x, y) if x > 0 && y > 0 => Some(1),
            (x, y) if x < 0 && y > 0 => Some(2),
            (x, y) if x < 0 && y < 0 => Some(3),
            (x, y) if x > 0 && y < 0 => Some(4),
            _ => None,
        }"""
    checks = []
    for _ in range(5):
        x, y = r.randrange(-5, 6), r.randrange(-5, 6)
        q = {(1, 1): 1, (-1, 1): 2, (-1, -1): 3, (1, -1): 4}.get(((x > 0) - (x < 0), (y > 0) - (y < 0)))
        checks.append(f"assert_eq!({kw['fn']}({x}, {y}), {_some(q)});")
    doc = _doc(r, [("Returns the quadrant (1 to 4, counter-clockwise from the top right) that the point `($x, $y)` lies in,\n"
                   "or `None` for a point on an axis."), "Which quadrant of the plane holds `($x, $y)`."], kw)
    return _Prog([_fn("fn $fn($x: i32, $y: i32) -> Option<u8>", body, kw, doc)], checks, params=style)


_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"),
          (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def _to_roman(n: int) -> str:
    out = ""
    for v, s in _ROMAN:
        while n >= v:
            out += s
            n -= v
    return out


@_family("roman")
def _roman(r: random.Random) -> _Prog:
    to = r.random() < 0.5
    kw = {"n": r.choice(["n", "num"]), "s": r.choice(_TEXT)}
    nums = [r.randrange(1, 4000) for _ in range(4)] + [r.choice([4, 9, 14, 40, 90, 400, 1994])]
    if to:
        kw["fn"] = r.choice(["to_roman", "roman_numeral", "as_roman"])
        table = "const TABLE: [(u32, &str); 13] = [\n" + "".join(f'    ({v}, "{s}"),\n' for v, s in _ROMAN) + "];\n"
        body = table + r.choice(["""
            let mut out = String::new();
            for &(value, symbol) in TABLE.iter() {
                while $n >= value {
                    out.push_str(symbol);
                    $n -= value;
                }
            }
            out""", """
            let mut out = String::new();
            for (value, symbol) in TABLE {
                out.push_str(&symbol.repeat(($n / value) as usize));
                $n %= value;
            }
            out"""]).replace("\n            ", "\n").strip("\n")
        checks = [_check(f"{kw['fn']}({x})", _to_roman(x)) for x in nums]
        doc = _doc(r, ["Writes `$n` (1 to 3999) in Roman numerals, using subtractive pairs such as IV and XC.",
                       "Converts a positive integer below 4000 to an upper-case Roman numeral."], kw, checks[:2])
        return _Prog([_fn("fn $fn(mut $n: u32) -> String", body, kw, doc)], checks, params="to")
    kw["fn"] = r.choice(["from_roman", "parse_roman", "roman_value"])
    kw["val"] = r.choice(["symbol_value", "digit_value", "numeral"])
    val = _fn("fn $val(c: char) -> u32", "match c {\n" + "".join(f"    '{s}' => {v},\n" for v, s in _ROMAN if len(s) == 1)
              + "    _ => 0,\n}", kw, "/// The value of one Roman numeral symbol, or 0 for any other character.\n")
    body = r.choice(["""
        let values: Vec<u32> = $s.chars().map($val).collect();
        let mut total = 0;
        for i in 0..values.len() {
            if i + 1 < values.len() && values[i] < values[i + 1] {
                total -= values[i] as i64;
            } else {
                total += values[i] as i64;
            }
        }
        total as u32""", """
        let mut total = 0;
        let mut prev = 0;
        for c in $s.chars().rev() {
            let v = $val(c);
            if v < prev {
                total -= v;
            } else {
                total += v;
                prev = v;
            }
        }
        total"""])
    checks = [_check(f"{kw['fn']}({_lit(_to_roman(x))})", x) for x in nums]
    doc = _doc(r, ["Parses an upper-case Roman numeral such as \"XIV\" into its value.",
                   ("Returns the number that the Roman numeral `$s` stands for; a smaller symbol before a larger one\n"
                   "is subtracted.")], kw, checks[:2])
    return _Prog([_fn("fn $fn($s: &str) -> u32", body, kw, doc)], checks, helpers=[val], params="from")


@_family("shape_enum")
def _shape_enum(r: random.Random) -> _Prog:
    E = r.choice(["Shape", "Figure", "Geometry"])
    named = r.random() < 0.5
    kw = {"E": E, "fn": r.choice(["area", "surface", "area_of"])}
    if named:
        enum = _sub("""
            enum $E {
                Circle { radius: f64 },
                Rectangle { width: f64, height: f64 },
                Triangle { base: f64, height: f64 },
            }""", kw)
        arms = """
            $E::Circle { radius } => PI * radius * radius,
            $E::Rectangle { width, height } => width * height,
            $E::Triangle { base, height } => 0.5 * base * height,"""
        make = {"c": lambda a: f"{E}::Circle {{ radius: {_float(a)} }}",
                "r": lambda a, b: f"{E}::Rectangle {{ width: {_float(a)}, height: {_float(b)} }}",
                "t": lambda a, b: f"{E}::Triangle {{ base: {_float(a)}, height: {_float(b)} }}"}
    else:
        enum = _sub("""
            enum $E {
                Circle(f64),
                Rectangle(f64, f64),
                Triangle(f64, f64),
            }""", kw)
        arms = """
            $E::Circle(r) => PI * r * r,
            $E::Rectangle(w, h) => w * h,
            $E::Triangle(b, h) => 0.5 * b * h,"""
        make = {"c": lambda a: f"{E}::Circle({_float(a)})", "r": lambda a, b: f"{E}::Rectangle({_float(a)}, {_float(b)})",
                "t": lambda a, b: f"{E}::Triangle({_float(a)}, {_float(b)})"}
    method = r.random() < 0.5
    body = ("match self {" if method else "match shape {") + textwrap.indent(_sub(arms, kw), "    ") + "\n}"
    doc = "/// A flat shape with its dimensions.\n"
    if method:
        enum_text = doc + enum + "\n\nimpl " + E + " {\n" + textwrap.indent(
            _fn("fn $fn(&self) -> f64", body, kw, "/// The area enclosed by the shape.\n"), "    ") + "}\n"
        call = lambda s: f"{s}.{kw['fn']}()"
        items = [enum_text]
    else:
        enum_text = doc + enum + "\n"
        call = lambda s: f"{kw['fn']}(&{s})"
        items = [enum_text, _fn("fn $fn(shape: &$E) -> f64", body, kw,
                                _doc(r, ["Returns the area of `shape`.", "Computes how much of the plane `shape` covers."], kw))]
    checks = []
    for kind in r.sample(["c", "r", "t"], 3):
        a, b = r.randrange(1, 20) / 2, r.randrange(1, 20) / 2
        if kind == "c":
            checks.append(_close(call(make["c"](a)), math.pi * a * a))
        else:
            checks.append(_close(call(make[kind](a, b)), a * b if kind == "r" else 0.5 * a * b))
    return _Prog(items, checks, uses=["std::f64::consts::PI"], params=f"named={named} method={method}")


@_family("command_enum")
def _command_enum(r: random.Random) -> _Prog:
    robot = r.random() < 0.5
    if robot:
        E = r.choice(["Move", "Step", "Direction"])
        kw = {"E": E, "fn": r.choice(["final_position", "walk", "follow"]), "xs": r.choice(["moves", "steps", "path"])}
        enum = _sub("""
            /// One move on a grid, with its distance.
            enum $E {
                Up(i32),
                Down(i32),
                Left(i32),
                Right(i32),
            }""", kw) + "\n"
        body = r.choice(["""
            let (mut x, mut y) = (0, 0);
            for m in $xs {
                match m {
                    $E::Up(d) => y += d,
                    $E::Down(d) => y -= d,
                    $E::Left(d) => x -= d,
                    $E::Right(d) => x += d,
                }
            }
            (x, y)""", """
            $xs.iter().fold((0, 0), |(x, y), m| match m {
                $E::Up(d) => (x, y + d),
                $E::Down(d) => (x, y - d),
                $E::Left(d) => (x - d, y),
                $E::Right(d) => (x + d, y),
            })"""])
        sig = "fn $fn($xs: &[$E]) -> (i32, i32)"
        doc = _doc(r, ["Starting at the origin, applies every move in `$xs` and returns where it ends up.",
                       "Returns the `(x, y)` position reached after following `$xs` from `(0, 0)`; up is positive y."], kw)
        checks = []
        for k in [0, 3, 5]:
            x = y = 0
            parts = []
            kinds = [r.choice(["Up", "Down", "Left", "Right"]) for _ in range(k)]
            if k == 5:  # every variant is built somewhere, or rustc warns that one never is
                kinds[1:] = r.sample(["Up", "Down", "Left", "Right"], 4)
            for v in kinds:
                d = r.randrange(1, 10)
                parts.append(f"{E}::{v}({d})")
                x += {"Left": -d, "Right": d}.get(v, 0)
                y += {"Up": d, "Down": -d}.get(v, 0)
            checks.append(f"assert_eq!({kw['fn']}(&[{', '.join(parts)}]), ({x}, {y}));")
        return _Prog([enum, _fn(sig, body, kw, doc)], checks, params=f"robot {E}")
    E = r.choice(["Op", "Instruction", "Command"])
    kw = {"E": E, "fn": r.choice(["run", "execute", "evaluate_ops"]), "xs": r.choice(["ops", "program", "commands"])}
    enum = _sub("""
        /// An instruction for a machine with a single accumulator.
        enum $E {
            Add(i64),
            Sub(i64),
            Mul(i64),
            Reset,
        }""", kw) + "\n"
    body = r.choice(["""
        let mut acc = 0;
        for op in $xs {
            acc = match op {
                $E::Add(n) => acc + n,
                $E::Sub(n) => acc - n,
                $E::Mul(n) => acc * n,
                $E::Reset => 0,
            };
        }
        acc""", """
        $xs.iter().fold(0, |acc, op| match *op {
            $E::Add(n) => acc + n,
            $E::Sub(n) => acc - n,
            $E::Mul(n) => acc * n,
            $E::Reset => 0,
        })"""])
    doc = _doc(r, ["Runs `$xs` on an accumulator that starts at 0 and returns its final value.",
                   "Applies each instruction in order; `Reset` sets the accumulator back to 0."], kw)
    checks = []
    for k in [0, 3, 6]:
        acc, parts = 0, []
        kinds = [r.choice(["Add", "Sub", "Mul", "Reset"]) for _ in range(k)]
        if k == 6:  # every variant is built somewhere, or rustc warns that one never is
            kinds[:4] = r.sample(["Add", "Sub", "Mul", "Reset"], 4)
        for v in kinds:
            n = r.randrange(-5, 10)
            parts.append(f"{E}::Reset" if v == "Reset" else f"{E}::{v}({n})")
            acc = {"Add": acc + n, "Sub": acc - n, "Mul": acc * n, "Reset": 0}[v]
        checks.append(f"assert_eq!({kw['fn']}(&[{', '.join(parts)}]), {acc});")
    return _Prog([enum, _fn("fn $fn($xs: &[$E]) -> i64", body, kw, doc)], checks, params=f"acc {E}")


@_family("cycle_enum")
def _cycle_enum(r: random.Random) -> _Prog:
    E, variants, method = r.choice([("Light", ["Red", "Green", "Yellow"], "next"),
                                    ("Season", ["Spring", "Summer", "Autumn", "Winter"], "next"),
                                    ("Direction", ["North", "East", "South", "West"], "turn_right"),
                                    ("Phase", ["Idle", "Running", "Done"], "advance")])
    kw = {"E": E, "m": method}
    arms = "".join(f"            {E}::{a} => {E}::{b},\n" for a, b in zip(variants, variants[1:] + variants[:1]))
    enum = (f"/// One of the {len(variants)} states, in a fixed cycle.\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n"
            f"enum {E} {{\n" + "".join(f"    {v},\n" for v in variants) + "}\n")
    impl = (f"impl {E} {{\n    /// The state that follows this one.\n    fn {method}(self) -> {E} {{\n        match self {{\n"
            + arms + "        }\n    }\n")
    if r.random() < 0.5:
        kw["after"] = r.choice(["after", "advance_by", "skip"])
        impl += _sub("""

                /// The state reached after `n` steps.
                fn $after(self, n: usize) -> $E {
                    let mut state = self;
                    for _ in 0..n {
                        state = state.$m();
                    }
                    state
                }
            """, kw).replace("\n", "\n    ").rstrip() + "\n"
        extra = True
    else:
        extra = False
    impl += "}\n"
    checks = []
    for i in r.sample(range(len(variants)), 2):
        checks.append(f"assert_eq!({E}::{variants[i]}.{method}(), {E}::{variants[(i + 1) % len(variants)]});")
    if extra:
        for _ in range(2):
            i, n = r.randrange(len(variants)), r.randrange(0, 10)
            checks.append(f"assert_eq!({E}::{variants[i]}.{kw['after']}({n}), {E}::{variants[(i + n) % len(variants)]});")
    return _Prog([enum, impl], checks, params=f"{E} after={extra}")


def _rpn_case(r: random.Random) -> tuple[str, int | None]:
    stack, tokens = [], []
    for _ in range(r.randrange(1, 5)):
        n = r.randrange(0, 10)
        tokens.append(str(n))
        stack.append(n)
        while len(stack) > 1 and r.random() < 0.6:
            op = r.choice("+-*")
            b, a = stack.pop(), stack.pop()
            stack.append({"+": a + b, "-": a - b, "*": a * b}[op])
            tokens.append(op)
    if r.random() < 0.2:
        tokens.append("x" if len(stack) > 1 else r.choice(["+", "x"]))  # an unknown token, or an operator short of operands
        return " ".join(tokens), None
    return " ".join(tokens), stack[0] if len(stack) == 1 else None


@_family("rpn")
def _rpn(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["eval_rpn", "evaluate_postfix", "rpn_value"]), "s": r.choice(["expr", "input", "s"])}
    style = r.choice(["match", "if"])
    body = """
        let mut stack: Vec<i64> = Vec::new();
        for token in $s.split_whitespace() {
            match token {
                "+" | "-" | "*" => {
                    let b = stack.pop()?;
                    let a = stack.pop()?;
                    stack.push(match token {
                        "+" => a + b,
                        "-" => a - b,
                        _ => a * b,
                    });
                }
                number => stack.push(number.parse().ok()?),
            }
        }
        if stack.len() == 1 {
            stack.pop()
        } else {
            None
        }""" if style == "match" else """
        let mut stack = Vec::new();
        for token in $s.split_whitespace() {
            if let Ok(n) = token.parse::<i64>() {
                stack.push(n);
                continue;
            }
            let (b, a) = (stack.pop()?, stack.pop()?);
            let value = match token {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                _ => return None,
            };
            stack.push(value);
        }
        match stack.as_slice() {
            [only] => Some(*only),
            _ => None,
        }"""
    checks = []
    for _ in range(5):
        e, v = _rpn_case(r)
        checks.append(f"assert_eq!({kw['fn']}({_lit(e)}), {_some(v)});")
    doc = _doc(r, [("Evaluates an expression in reverse Polish notation, such as \"3 4 + 2 *\".\n"
                   "Tokens are separated by spaces; the operators are `+`, `-` and `*`.\n"
                   "Returns `None` for a malformed expression."),
                   "Computes the value of the postfix expression `$s`, or `None` if it is not well formed."], kw)
    return _Prog([_fn("fn $fn($s: &str) -> Option<i64>", body, kw, doc)], checks, params=style)


# ---- Option and Result ----

@_family("parse_sum")
def _parse_sum(r: random.Random) -> _Prog:
    sep, sep_word = r.choice([(",", "commas"), (" ", "whitespace"), (";", "semicolons")])
    kw = {"fn": r.choice(["sum_numbers", "parse_and_sum", "total_of_list", "add_up"]), "s": r.choice(_TEXT)}
    split = "$s.split_whitespace()" if sep == " " else f"$s.split('{sep}')"
    trim = "" if sep == " " else ".trim()"
    style = r.choice(["question", "sum", "collect"])
    body = {"question": f"let mut total = 0;\nfor part in {split} {{\n    total += part{trim}.parse::<i64>()?;\n}}\nOk(total)",
            "sum": f"{split}.map(|part| part{trim}.parse::<i64>()).sum()",
            "collect": f"let numbers: Vec<i64> = {split}\n    .map(|part| part{trim}.parse())\n    .collect::<Result<_, _>>()?;\nOk(numbers.iter().sum())"}[style]
    checks = []
    for k in [1, 3, 5]:
        xs = [r.randrange(-50, 100) for _ in range(k)]
        text = (sep if sep == " " else sep + r.choice(["", " "])).join(map(str, xs))
        checks.append(f"assert_eq!({kw['fn']}({_lit(text)}), Ok({sum(xs)}));")
    bad = sep.join([str(r.randrange(9)), r.choice(["x", "1.5", "seven", "4a"])])
    checks.append(f"assert!({kw['fn']}({_lit(bad)}).is_err());")
    doc = _doc(r, [(f"Parses the integers in `$s`, separated by {sep_word}, and returns their sum.\n"
                   "Fails with the parse error if any part is not an integer."),
                   f"Adds up a list of integers written as text with {sep_word} between them."], kw, checks[:1])
    return _Prog([_fn("fn $fn($s: &str) -> Result<i64, ParseIntError>", body, kw, doc)], checks,
                 uses=["std::num::ParseIntError"], params=f"{sep!r} {style}")


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


@_family("safe_divide")
def _safe_divide(r: random.Random) -> _Prog:
    result = r.random() < 0.5
    T = r.choice(["i32", "i64"])
    kw = {"T": T, "fn": r.choice(["safe_divide", "checked_quotient", "try_divide", "divide"]),
          "a": r.choice(["a", "numerator", "x"]), "b": r.choice(["b", "denominator", "y"]),
          "msg": r.choice(["division by zero", "cannot divide by zero", "divisor is zero"])}
    if result:
        sig = "fn $fn($a: $T, $b: $T) -> Result<$T, String>"
        body = r.choice(['$a.checked_div($b).ok_or("$msg".to_string())', """
            if $b == 0 {
                return Err(String::from("$msg"));
            }
            Ok($a / $b)""", 'match $b {\n    0 => Err("$msg".to_string()),\n    _ => Ok($a / $b),\n}'])
    else:
        sig = "fn $fn($a: $T, $b: $T) -> Option<$T>"
        body = r.choice(["$a.checked_div($b)", "if $b == 0 {\n    None\n} else {\n    Some($a / $b)\n}"])
    checks = []
    for _ in range(4):
        a, b = r.randrange(-100, 100), r.choice([0, r.randrange(-9, 10)])
        if b == 0:
            exp = f'Err("{kw["msg"]}".to_string())' if result else "None"
        else:
            exp = f"Ok({_trunc_div(a, b)})" if result else f"Some({_trunc_div(a, b)})"
        checks.append(f"assert_eq!({kw['fn']}({a}, {b}), {exp});")
    doc = _doc(r, ["Divides `$a` by `$b`, rounding toward zero, " +
                   ("or returns an error when `$b` is zero." if result else "or returns `None` when `$b` is zero."),
                   "Integer division that reports a zero divisor instead of panicking."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"result={result} {T}")


@_family("parse_pair")
def _parse_pair(r: random.Random) -> _Prog:
    sep = r.choice(["=", ":"])
    kw = {"fn": r.choice(["parse_pair", "parse_setting", "split_key_value", "parse_entry"]), "s": r.choice(_TEXT), "sep": sep}
    style = r.choice(["question", "and_then", "match"])
    body = {"question": """
        let (key, value) = $s.split_once('$sep')?;
        let value = value.trim().parse().ok()?;
        Some((key.trim().to_string(), value))""", "and_then": """
        $s.split_once('$sep').and_then(|(key, value)| {
            let number = value.trim().parse::<i32>().ok()?;
            Some((key.trim().to_string(), number))
        })""", "match": """
        let mut parts = $s.splitn(2, '$sep');
        let key = parts.next()?.trim();
        match parts.next()?.trim().parse::<i32>() {
            Ok(value) => Some((key.to_string(), value)),
            Err(_) => None,
        }"""}[style]
    checks = []
    for _ in range(3):
        k, v = r.choice(["width", "height", "port", "retries", "level", "size"]), r.randrange(-100, 1000)
        text = f"{k}{r.choice(['', ' '])}{sep}{r.choice(['', ' '])}{v}"
        checks.append(f"assert_eq!({kw['fn']}({_lit(text)}), Some(({_lit(k)}.to_string(), {v})));")
    checks.append(f"assert_eq!({kw['fn']}({_lit(r.choice(['novalue', 'name' + sep + 'abc', 'x' + sep]))}), None);")
    doc = _doc(r, [(f"Parses a line of the form `key {sep} number` into the trimmed key and the number.\n"
                   "Returns `None` if the separator is missing or the value is not an integer."),
                   f"Splits `$s` at the first `{sep}` and parses the right side as an `i32`."], kw, checks[:1])
    return _Prog([_fn("fn $fn($s: &str) -> Option<(String, i32)>", body, kw, doc)], checks, params=f"{sep} {style}")


@_family("find_first")
def _find_first(r: random.Random) -> _Prog:
    task = r.choice(["pred", "parse"])
    if task == "parse":
        kw = {"fn": r.choice(["first_number", "first_parsable", "first_integer"]), "xs": r.choice(["words", "tokens", "parts"])}
        body = r.choice(["$xs.iter().find_map(|w| w.parse::<i32>().ok())", """
            for w in $xs {
                if let Ok(n) = w.parse::<i32>() {
                    return Some(n);
                }
            }
            None"""])
        checks = []
        for _ in range(3):
            ws = [r.choice(_WORDS + [str(r.randrange(-50, 50))]) for _ in range(r.randrange(0, 5))]
            nums = [int(w) for w in ws if w.lstrip("-").isdigit()]
            checks.append(f"assert_eq!({kw['fn']}({_slice(ws)}), {_some(nums[0] if nums else None)});")
        doc = _doc(r, ["Returns the first word in `$xs` that parses as an integer, converted, or `None`.",
                       "Finds the first element of `$xs` that is a valid `i32`."], kw)
        return _Prog([_fn("fn $fn($xs: &[&str]) -> Option<i32>", body, kw, doc)], checks, params=task)
    pred = r.choice(list(_PREDICATES))
    cond, py_pred, _ = _PREDICATES[pred]
    kw = {"fn": r.choice([f"first_{pred}_value", f"find_{pred}"]), "xs": r.choice(_SEQ), "or": r.choice(["or_default", "or"])}
    body = r.choice([f"$xs.iter().copied().find(|&x| {cond})", f"for &x in $xs {{\n    if {cond} {{\n        return Some(x);\n    }}\n}}\nNone"])
    main = _fn("fn $fn($xs: &[i32]) -> Option<i32>", body, kw,
               _doc(r, [f"Returns the first {pred.replace('_', ' ')} element of `$xs`, if there is one."], kw))
    checks = []
    with_default = r.random() < 0.5
    kw["wrap"] = f"{kw['fn']}_{kw['or']}"
    for k in [0, 4, 6]:
        xs = _ints(r, "i32", k)
        hit = next((x for x in xs if py_pred(x)), None)
        if with_default:
            d = r.randrange(-100, 100)
            checks.append(f"assert_eq!({kw['wrap']}({_slice(xs)}, {d}), {hit if hit is not None else d});")
        else:
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_some(hit)});")
    if with_default:
        wrap = _fn("fn $wrap($xs: &[i32], default: i32) -> i32", "$fn($xs).unwrap_or(default)", kw,
                   _doc(r, ["Like `$fn`, but returns `default` when nothing matches."], kw))
        return _Prog([main, wrap], checks, params=f"{pred} default")
    return _Prog([main], checks, params=pred)


@_family("checked_total")
def _checked_total(r: random.Random) -> _Prog:
    T = r.choice(["u8", "u16", "i8", "i16"])
    op = r.choice(["add", "mul"])
    kw = {"T": T, "op": op, "xs": r.choice(_SEQ), "one": "0" if op == "add" else "1",
          "fn": r.choice([f"checked_{'sum' if op == 'add' else 'product'}", f"{'sum' if op == 'add' else 'product'}_no_overflow"])}
    style = r.choice(["try_fold", "loop"])
    body = "$xs.iter().try_fold($one, |acc: $T, &x| acc.checked_$op(x))" if style == "try_fold" else """
        let mut acc: $T = $one;
        for &x in $xs {
            acc = acc.checked_$op(x)?;
        }
        Some(acc)"""
    lo, hi = _BOUNDS[T]
    checks = []
    for k in [0, 3, 5]:
        span = 60 if op == "add" else 6
        xs = [r.randrange(max(lo, -span), min(hi, span * 2)) for _ in range(k)]
        acc, ok = (0 if op == "add" else 1), True
        for x in xs:
            acc = acc + x if op == "add" else acc * x
            ok = ok and lo <= acc <= hi
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_some(acc if ok else None)});")
    what = "sum" if op == "add" else "product"
    doc = _doc(r, [f"Returns the {what} of `$xs`, or `None` if any step overflows `$T`.",
                   f"Computes the {what} of `$xs` with overflow checks at every step."], kw)
    return _Prog([_fn("fn $fn($xs: &[$T]) -> Option<$T>", body, kw, doc)], checks, params=f"{op} {style} {T}")


@_family("option_chain")
def _option_chain(r: random.Random) -> _Prog:
    task = r.choice(["initial", "last_word_len", "first_field"])
    kw = {"s": r.choice(_TEXT)}
    if task == "initial":
        kw["fn"] = r.choice(["initial_upper", "capital_initial", "first_letter_upper"])
        sig, body = "fn $fn($s: &str) -> Option<char>", r.choice(["$s.chars().next().map(|c| c.to_ascii_uppercase())",
                                                                "let c = $s.trim_start().chars().next()?;\nSome(c.to_ascii_uppercase())"])
        trim = "trim_start" in body
        samples = ["", r.choice(_WORDS), r.choice(_WORDS).capitalize(), r.choice(_WORDS)]
        checks = [f"assert_eq!({kw['fn']}({_lit(w)}), {_some(_ch((w.lstrip() if trim else w)[0].upper()) if w else None)});" for w in samples]
        phr = ["Returns the first character of `$s` in upper case, or `None` for an empty string."]
    elif task == "last_word_len":
        kw["fn"] = r.choice(["last_word_length", "length_of_last_word", "final_word_len"])
        sig, body = "fn $fn($s: &str) -> Option<usize>", r.choice(["$s.split_whitespace().last().map(|w| w.len())",
                                                                 "$s.split_whitespace().next_back().map(str::len)"])
        samples = ["", "  ", " ".join(r.sample(_WORDS, 3)), r.choice(_WORDS) + "  "]
        checks = [f"assert_eq!({kw['fn']}({_lit(w)}), {_some(len(w.split()[-1]) if w.split() else None)});" for w in samples]
        phr = ["Returns the length of the last word of `$s`, or `None` if it has no words."]
    else:
        kw["fn"] = r.choice(["first_field", "leading_number", "parse_first_field"])
        sig, body = "fn $fn($s: &str) -> Option<i32>", r.choice(["$s.split(',').next()?.trim().parse().ok()",
                                                               "$s.split(',').next().and_then(|f| f.trim().parse().ok())"])
        samples = [f"{r.randrange(-99, 99)},{r.randrange(9)}", f" {r.randrange(99)} ", "x,1", ""]
        checks = []
        for w in samples:
            f = w.split(",")[0].strip()
            checks.append(f"assert_eq!({kw['fn']}({_lit(w)}), {_some(int(f) if f.lstrip('-').isdigit() else None)});")
        phr = ["Parses the first comma-separated field of `$s` as an integer.", "Returns the number before the first comma, if it is one."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=task)


@_family("inventory")
def _inventory(r: random.Random) -> _Prog:
    kw = {"fn": r.choice(["stock_total", "total_quantity", "count_in_stock"]), "m": r.choice(["inventory", "stock", "counts"]),
          "xs": r.choice(["names", "wanted", "items"])}
    body = r.choice(["$xs.iter().map(|name| $m.get(*name).copied().unwrap_or(0)).sum()", """
        let mut total = 0;
        for name in $xs {
            if let Some(&n) = $m.get(*name) {
                total += n;
            }
        }
        total""", "$xs.iter().filter_map(|name| $m.get(*name)).sum()"])
    stock = {w: r.randrange(0, 20) for w in r.sample(_WORDS, 4)}
    setup = [f"let mut {kw['m']} = HashMap::new();"] + [f"{kw['m']}.insert({_lit(k)}.to_string(), {v});" for k, v in stock.items()]
    checks = list(setup)
    for _ in range(3):
        names = r.sample(list(stock) + r.sample(_WORDS, 2), r.randrange(0, 4))
        checks.append(f"assert_eq!({kw['fn']}(&{kw['m']}, {_slice(names)}), {sum(stock.get(n, 0) for n in names)});")
    doc = _doc(r, ["Adds up how many of each of `$xs` are in `$m`; a missing name counts as zero.",
                   "Returns the total quantity of the named items in stock."], kw)
    return _Prog([_fn("fn $fn($m: &HashMap<String, u32>, $xs: &[&str]) -> u32", body, kw, doc)], checks,
                 uses=["std::collections::HashMap"], params="")


# ---- strings ----

def _sentence(r: random.Random, k: int) -> str:
    return " ".join(r.choice(_WORDS) for _ in range(k))


@_family("vowels")
def _vowels(r: random.Random) -> _Prog:
    cons = r.random() < 0.3
    owned = r.random() < 0.3
    kw = {"s": r.choice(_TEXT), "S": "String" if owned else "&str",
          "fn": r.choice(["consonant_count", "num_consonants"] if cons else ["vowel_count", "num_vowels", "count_vowel_letters"])}
    test = r.choice(['"aeiouAEIOU".contains(c)', "matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u')"])
    style = r.choice(["filter", "loop", "match"])
    if cons:
        body = f"$s.chars().filter(|&c| c.is_ascii_alphabetic() && !{test}).count()"
    else:
        body = {"filter": f"$s.chars().filter(|&c| {test}).count()",
                "loop": f"let mut count = 0;\nfor c in $s.chars() {{\n    if {test} {{\n        count += 1;\n    }}\n}}\ncount",
                "match": """
            let mut count = 0;
            for c in $s.chars() {
                match c {
                    'a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U' => count += 1,
                    _ => {}
                }
            }
            count"""}[style]
    checks = []
    for k in [0, 1, 3]:
        text = _sentence(r, k)
        text = text.title() if r.random() < 0.3 else text
        n = sum(1 for c in text if ((c.isalpha() and c.lower() not in "aeiou") if cons else c.lower() in "aeiou"))
        arg = _owned(text, r) if owned else _lit(text)
        checks.append(_check(f"{kw['fn']}({arg})", n))
    what = "consonants" if cons else "vowels (a, e, i, o, u, in either case)"
    doc = _doc(r, [f"Counts the {what} in `$s`.", f"Returns how many {what} `$s` contains."], kw)
    return _Prog([_fn("fn $fn($s: $S) -> usize", body, kw, doc)], checks, params=f"cons={cons} {style} owned={owned}")


@_family("palindrome")
def _palindrome(r: random.Random) -> _Prog:
    loose = r.random() < 0.4
    kw = {"s": r.choice(_TEXT), "fn": r.choice(["is_palindromic", "reads_same_backward", "palindrome_check", "is_mirror_string"])}
    if loose:
        body = r.choice(["""
            let cleaned: Vec<char> = $s
                .chars()
                .filter(|c| c.is_alphanumeric())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            cleaned.iter().eq(cleaned.iter().rev())""", """
            let cleaned: String = $s
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect();
            cleaned == cleaned.chars().rev().collect::<String>()"""])
    else:
        body = r.choice(["$s.chars().eq($s.chars().rev())", """
            let bytes = $s.as_bytes();
            let (mut i, mut j) = (0, bytes.len());
            while i + 1 < j {
                if bytes[i] != bytes[j - 1] {
                    return false;
                }
                i += 1;
                j -= 1;
            }
            true""", "let n = $s.len();\n$s.bytes().take(n / 2).eq($s.bytes().rev().take(n / 2))"])
    samples = ["", r.choice(["level", "racecar", "noon", "abba", "refer"]), r.choice(_WORDS)]
    if loose:
        samples += [r.choice(["Never odd or even", "Was it a car, or a cat I saw?", "Step on no pets!", "Hello, world"])]
    else:
        w = r.choice(_WORDS)
        samples += [w + w[::-1], w + w[-2::-1]]
    def py(s):
        t = [c.lower() for c in s if c.isalnum()] if loose else list(s)
        return t == t[::-1]
    checks = [_check(f"{kw['fn']}({_lit(s)})", py(s)) for s in samples]
    doc = _doc(r, ["Returns `true` if `$s` reads the same forwards and backwards" +
                   (", ignoring case and anything that is not a letter or digit." if loose else "."),
                   "Checks whether `$s` is a palindrome" + (" once punctuation, spaces and case are ignored." if loose else
                                                             ", comparing characters exactly.")], kw, checks[1:3])
    return _Prog([_fn("fn $fn($s: &str) -> bool", body, kw, doc)], checks, params=f"loose={loose}")


@_family("reverse_text")
def _reverse_text(r: random.Random) -> _Prog:
    task = r.choice(["chars", "word_order", "each_word"])
    kw = {"s": r.choice(_TEXT)}
    if task == "chars":
        kw["fn"] = r.choice(["reverse_string", "reversed", "backwards"])
        body = r.choice(["$s.chars().rev().collect()", "let mut out = String::with_capacity($s.len());\nfor c in $s.chars().rev() {\n    out.push(c);\n}\nout",
                         "let mut chars: Vec<char> = $s.chars().collect();\nchars.reverse();\nchars.into_iter().collect()"])
        py = lambda s: s[::-1]
        phr = ["Returns `$s` with its characters in reverse order.", "Reverses a string."]
    elif task == "word_order":
        kw["fn"] = r.choice(["reverse_word_order", "words_backwards", "flip_sentence"])
        body = r.choice(['$s.split_whitespace().rev().collect::<Vec<_>>().join(" ")', """
            let mut words: Vec<&str> = $s.split_whitespace().collect();
            words.reverse();
            words.join(" ")"""])
        py = lambda s: " ".join(s.split()[::-1])
        phr = ["Returns the words of `$s` in reverse order, separated by single spaces.", "Reverses the order of the words in a sentence."]
    else:
        kw["fn"] = r.choice(["reverse_each_word", "mirror_words", "flip_words"])
        body = r.choice(['$s.split(\' \')\n    .map(|w| w.chars().rev().collect::<String>())\n    .collect::<Vec<_>>()\n    .join(" ")', """
            let mut out = String::new();
            for (i, word) in $s.split(' ').enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.extend(word.chars().rev());
            }
            out"""])
        py = lambda s: " ".join(w[::-1] for w in s.split(" "))
        phr = ["Reverses every word of `$s` in place, keeping the words in order.", "Returns `$s` with the letters of each space-separated word reversed."]
    samples = ["", r.choice(_WORDS), _sentence(r, 3), _sentence(r, 4)]
    checks = [_check(f"{kw['fn']}({_lit(s)})", py(s)) for s in samples]
    return _Prog([_fn("fn $fn($s: &str) -> String", body, kw, _doc(r, phr, kw, checks[2:]))], checks, params=task)


@_family("capitalize")
def _capitalize(r: random.Random) -> _Prog:
    kw = {"s": r.choice(_TEXT), "fn": r.choice(["capitalize_words", "title_case", "to_title"]),
          "cap": r.choice(["capitalize", "capitalized", "upper_first"])}
    helper = _fn("fn $cap(word: &str) -> String", r.choice(["""
        let mut chars = word.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
            None => String::new(),
        }""", """
        let mut out = String::with_capacity(word.len());
        for (i, c) in word.chars().enumerate() {
            if i == 0 {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        }
        out"""]), kw, "/// `word` with its first character in upper case.\n")
    body = r.choice(['$s.split_whitespace().map($cap).collect::<Vec<_>>().join(" ")', """
        let mut words = Vec::new();
        for word in $s.split_whitespace() {
            words.push($cap(word));
        }
        words.join(" ")"""])
    samples = ["", r.choice(_WORDS), _sentence(r, 3), "  " + _sentence(r, 2)]
    checks = [_check(f"{kw['fn']}({_lit(s)})", " ".join(w[0].upper() + w[1:] for w in s.split())) for s in samples]
    doc = _doc(r, ["Upper-cases the first letter of every word in `$s`; words end up separated by single spaces.",
                   "Converts a sentence to title case."], kw, checks[2:3])
    return _Prog([_fn("fn $fn($s: &str) -> String", body, kw, doc)], checks, helpers=[helper], params="")


@_family("caesar")
def _caesar(r: random.Random) -> _Prog:
    upper = r.random() < 0.4
    kw = {"s": r.choice(_TEXT), "k": r.choice(["shift", "k", "key"]),
          "fn": r.choice(["caesar", "shift_letters", "rotate_letters", "caesar_shift"])}
    up_if = "" if not upper else """
        } else if c.is_ascii_uppercase() {
            ((c as u8 - b'A' + $k) % 26 + b'A') as char"""
    up_arm = "" if not upper else "\n    'A'..='Z' => ((c as u8 - b'A' + $k) % 26 + b'A') as char,"
    body = r.choice([f"""
        $s.chars()
            .map(|c| {{
                if c.is_ascii_lowercase() {{
                    ((c as u8 - b'a' + $k) % 26 + b'a') as char{textwrap.indent(textwrap.dedent(up_if), " " * 16)}
                }} else {{
                    c
                }}
            }})
            .collect()""", f"""
        let mut out = String::new();
        for c in $s.chars() {{
            let shifted = match c {{
                'a'..='z' => ((c as u8 - b'a' + $k) % 26 + b'a') as char,{textwrap.indent(up_arm, " " * 12)}
                _ => c,
            }};
            out.push(shifted);
        }}
        out"""])

    def shift(s, k):
        out = ""
        for c in s:
            if "a" <= c <= "z":
                out += chr((ord(c) - 97 + k) % 26 + 97)
            elif upper and "A" <= c <= "Z":
                out += chr((ord(c) - 65 + k) % 26 + 65)
            else:
                out += c
        return out
    checks = []
    for _ in range(3):
        text, k = _sentence(r, r.randrange(1, 4)), r.randrange(0, 26)
        text = text.title() if upper else text
        checks.append(_check(f"{kw['fn']}({_lit(text)}, {k})", shift(text, k)))
    if r.random() < 0.5:
        text, k = _sentence(r, 2), r.randrange(1, 26)
        checks.append(_check(f"{kw['fn']}(&{kw['fn']}({_lit(text)}, {k}), {26 - k})", text))
    which = "letters" if upper else "lower-case letters"
    doc = _doc(r, [(f"Shifts every {which[:-1]} of `$s` forward by `$k` places in the alphabet, wrapping from z to a.\n"
                   "Other characters are unchanged. `$k` must be below 26."),
                   f"Applies a Caesar cipher with shift `$k` to the {which} in `$s`."], kw)
    return _Prog([_fn("fn $fn($s: &str, $k: u8) -> String", body, kw, doc)], checks, params=f"upper={upper}")


# ---- collections ----

@_family("word_frequency")
def _word_frequency(r: random.Random) -> _Prog:
    sorted_out = r.random() < 0.4
    kw = {"s": r.choice(_TEXT), "fn": r.choice(["word_counts", "word_frequencies", "tally_words", "count_each_word"]),
          "m": r.choice(["counts", "freq", "tally"])}
    text = _sentence(r, r.randrange(3, 9)) if r.random() < 0.5 else " ".join(r.choice(_WORDS[:6]) for _ in range(r.randrange(3, 9)))
    counts: dict[str, int] = {}
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    if sorted_out:
        body = r.choice(["""
            let mut $m = BTreeMap::new();
            for word in $s.split_whitespace() {
                *$m.entry(word.to_string()).or_insert(0) += 1;
            }
            $m.into_iter().collect()""", """
            let mut $m: BTreeMap<String, usize> = BTreeMap::new();
            for word in $s.split_whitespace() {
                $m.entry(word.to_string()).and_modify(|n| *n += 1).or_insert(1);
            }
            $m.into_iter().collect()"""])
        exp = "vec![" + ", ".join(f"({_lit(w)}.to_string(), {n})" for w, n in sorted(counts.items())) + "]"
        checks = [f"assert_eq!({kw['fn']}({_lit(text)}), {exp});", f"assert!({kw['fn']}(\"\").is_empty());"]
        doc = _doc(r, ["Counts each distinct word of `$s` and returns `(word, count)` pairs in alphabetical order.",
                       "Returns how often every word occurs in `$s`, sorted by word."], kw)
        return _Prog([_fn("fn $fn($s: &str) -> Vec<(String, usize)>", body, kw, doc)], checks,
                     uses=["std::collections::BTreeMap"], params="sorted")
    owned = r.random() < 0.5
    kw["K"] = "String" if owned else "&str"
    key = "word.to_string()" if owned else "word"
    body = r.choice([f"""
        let mut $m = HashMap::new();
        for word in $s.split_whitespace() {{
            *$m.entry({key}).or_insert(0) += 1;
        }}
        $m""", f"""
        $s.split_whitespace().fold(HashMap::new(), |mut $m, word| {{
            *$m.entry({key}).or_default() += 1;
            $m
        }})"""])
    checks = [f"let {kw['m']} = {kw['fn']}({_lit(text)});", f"assert_eq!({kw['m']}.len(), {len(counts)});"]
    for w in r.sample(list(counts), min(3, len(counts))):
        checks.append(f"assert_eq!({kw['m']}[{_lit(w)}], {counts[w]});")
    checks.append(f"assert_eq!({kw['m']}.get({_lit('zebra')}), None);")
    doc = _doc(r, ["Counts how many times each whitespace-separated word occurs in `$s`.",
                   "Builds a map from every word of `$s` to its number of occurrences."], kw)
    return _Prog([_fn("fn $fn($s: &str) -> HashMap<$K, usize>", body, kw, doc)], checks,
                 uses=["std::collections::HashMap"], params=f"owned={owned}")


@_family("group_by")
def _group_by(r: random.Random) -> _Prog:
    by_len = r.random() < 0.5
    kw = {"xs": r.choice(["words", "names", "items"]), "m": r.choice(["groups", "buckets", "by_key"])}
    words = r.sample(_WORDS, r.randrange(2, 7))
    if by_len:
        kw["fn"] = r.choice(["group_by_length", "bucket_by_len", "words_by_length"])
        sig = "fn $fn($xs: &[&str]) -> BTreeMap<usize, Vec<String>>"
        body = r.choice(["""
            let mut $m = BTreeMap::new();
            for w in $xs {
                $m.entry(w.len()).or_insert_with(Vec::new).push(w.to_string());
            }
            $m""", """
            let mut $m: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for w in $xs.iter() {
                $m.entry(w.len()).or_default().push(w.to_string());
            }
            $m"""])
        keyf = len
        lit_key = lambda k: f"&{k}"
        phr = ["Groups `$xs` by length; each group keeps the words in their original order.",
               "Returns a map from word length to the words of `$xs` with that length."]
    else:
        kw["fn"] = r.choice(["group_by_initial", "index_by_first_letter", "words_by_initial"])
        sig = "fn $fn<'a>($xs: &[&'a str]) -> BTreeMap<char, Vec<&'a str>>"
        body = """
            let mut $m = BTreeMap::new();
            for &w in $xs {
                if let Some(c) = w.chars().next() {
                    $m.entry(c).or_insert_with(Vec::new).push(w);
                }
            }
            $m"""
        keyf = lambda w: w[0]
        lit_key = lambda k: f"&{_ch(k)}"
        phr = ["Groups the non-empty words of `$xs` by their first character, keeping their order.",
               "Indexes `$xs` by initial letter. The result borrows the words, so it needs a named lifetime."]
    groups: dict = {}
    for w in words:
        groups.setdefault(keyf(w), []).append(w)
    checks = [f"let {kw['m']} = {kw['fn']}({_slice(words)});", f"assert_eq!({kw['m']}.len(), {len(groups)});"]
    for k in r.sample(sorted(groups), min(2, len(groups))):
        checks.append(f"assert_eq!({kw['m']}[{lit_key(k)}], {_lit(groups[k])});")
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, uses=["std::collections::BTreeMap"], params=f"by_len={by_len}")


@_family("dedup")
def _dedup(r: random.Random) -> _Prog:
    keep_order = r.random() < 0.5
    T = r.choice(["i32", "u32", "i64"])
    kw = {"T": T, "xs": r.choice(_SEQ)}
    if keep_order:
        kw["fn"] = r.choice(["dedup_keep_order", "unique_in_order", "first_occurrences", "drop_repeats"])
        body = r.choice(["""
            let mut seen = HashSet::new();
            $xs.iter().copied().filter(|x| seen.insert(*x)).collect()""", """
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for &x in $xs {
                if seen.insert(x) {
                    out.push(x);
                }
            }
            out""", """
            let mut out: Vec<$T> = Vec::new();
            for &x in $xs {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            out"""])
        py = lambda xs: list(dict.fromkeys(xs))
        phr = ["Returns the distinct values of `$xs` in the order they first appear.",
               "Removes repeated values from `$xs`, keeping the first copy of each."]
    else:
        kw["fn"] = r.choice(["distinct_sorted", "sorted_unique", "unique_values"])
        body = r.choice(["""
            let mut out = $xs.to_vec();
            out.sort_unstable();
            out.dedup();
            out""", "$xs.iter().copied().collect::<BTreeSet<_>>().into_iter().collect()", """
            let set: HashSet<$T> = $xs.iter().copied().collect();
            let mut out: Vec<$T> = set.into_iter().collect();
            out.sort();
            out"""])
        py = lambda xs: sorted(set(xs))
        phr = ["Returns the distinct values of `$xs` in increasing order.", "Sorts `$xs` and drops duplicates."]
    checks = []
    for k in [0, 4, 8]:
        xs = _ints(r, T, k, -5, 6)
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_vec(py(xs), T)});")
    uses = [u for u, name in [("std::collections::HashSet", "HashSet"), ("std::collections::BTreeSet", "BTreeSet")] if name in body]
    return _Prog([_fn("fn $fn($xs: &[$T]) -> Vec<$T>", body, kw, _doc(r, phr, kw))], checks, uses=uses,
                 params=f"keep_order={keep_order} {T}")


@_family("sorting")
def _sorting(r: random.Random) -> _Prog:
    task = r.choice(["descending", "by_abs", "strings", "floats"])
    in_place = r.random() < 0.4
    kw = {"xs": r.choice(_SEQ)}
    if task == "descending":
        kw.update(fn=r.choice(["sort_descending", "largest_first", "sorted_desc"]), T="i32")
        how = r.choice(["sort_by(|a, b| b.cmp(a))", "sort_unstable_by(|a, b| b.cmp(a))", "sort_by_key(|&x| Reverse(x))"])
        data = _ints(r, "i32", 6)
        py = lambda xs: sorted(xs, reverse=True)
        phr = ["Sorts `$xs` from largest to smallest."]
    elif task == "by_abs":
        kw.update(fn=r.choice(["sort_by_magnitude", "sort_by_abs", "order_by_size"]), T="i32")
        how = r.choice(["sort_by_key(|x| x.abs())", "sort_by(|a, b| a.abs().cmp(&b.abs()))"])
        data = _ints(r, "i32", 6)
        py = lambda xs: sorted(xs, key=abs)
        phr = ["Sorts `$xs` by absolute value; equal magnitudes keep their order (the sort is stable)."]
    elif task == "strings":
        kw.update(fn=r.choice(["sort_by_length", "shortest_first", "order_words"]), T="&str", xs=r.choice(["words", "names"]))
        how = r.choice(["sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)))", "sort_by_key(|w| (w.len(), *w))"])
        data = r.sample(_WORDS, 6)
        py = lambda xs: sorted(xs, key=lambda w: (len(w), w))
        phr = ["Sorts `$xs` by length, breaking ties alphabetically."]
    else:
        kw.update(fn=r.choice(["sort_floats", "sorted_f64", "ascending_floats"]), T="f64")
        how = r.choice(["sort_by(|a, b| a.partial_cmp(b).unwrap())", "sort_by(|a, b| a.total_cmp(b))"])
        data = [r.randrange(-40, 40) / 4 for _ in range(5)]
        py = sorted
        phr = [("Sorts `$xs` in increasing order. `f64` is only `PartialOrd`, so the comparison is spelled out.\n"
               "The values must not be NaN.")]
    if in_place:
        item = _fn("fn $fn($xs: &mut [$T])", f"$xs.{how};", kw, _doc(r, phr, kw))
        checks = [f"let mut {kw['xs']} = {_lit(data)};", f"{kw['fn']}(&mut {kw['xs']});", f"assert_eq!({kw['xs']}, {_lit(py(data))});"]
    else:
        sig = "fn $fn<'a>($xs: &[&'a str]) -> Vec<&'a str>" if task == "strings" else "fn $fn($xs: &[$T]) -> Vec<$T>"
        item = _fn(sig, f"let mut sorted = $xs.to_vec();\nsorted.{how};\nsorted", kw, _doc(r, phr, kw))
        checks = [f"assert_eq!({kw['fn']}({_slice(data)}), {_lit(py(data))});", f"assert_eq!({kw['fn']}(&[]), Vec::<{kw['T']}>::new());"]
    uses = ["std::cmp::Reverse"] if "Reverse" in how else []
    return _Prog([item], checks, uses=uses, params=f"{task} in_place={in_place}")


@_family("binary_search")
def _binary_search(r: random.Random) -> _Prog:
    insert = r.random() < 0.3
    kw = {"xs": r.choice(["sorted", "xs", "values"]), "t": r.choice(["target", "key", "needle"])}
    if insert:
        kw["fn"] = r.choice(["insertion_index", "insert_position", "lower_bound"])
        body = r.choice(["match $xs.binary_search(&$t) {\n    Ok(i) | Err(i) => i,\n}", "$xs.partition_point(|&x| x < $t)"])
        sig, phr = "fn $fn($xs: &[i32], $t: i32) -> usize", [("Returns where `$t` would go to keep the sorted slice `$xs` sorted.\n"
                                                              "The elements of `$xs` are distinct.")]
    else:
        kw["fn"] = r.choice(["find_sorted", "search_sorted", "bsearch", "index_in_sorted"])
        body = r.choice(["$xs.binary_search(&$t).ok()", """
            let (mut lo, mut hi) = (0, $xs.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match $xs[mid].cmp(&$t) {
                    Ordering::Equal => return Some(mid),
                    Ordering::Less => lo = mid + 1,
                    Ordering::Greater => hi = mid,
                }
            }
            None""", """
            let mut lo = 0;
            let mut hi = $xs.len();
            while lo < hi {
                let mid = (lo + hi) / 2;
                if $xs[mid] == $t {
                    return Some(mid);
                } else if $xs[mid] < $t {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            None"""])
        sig, phr = "fn $fn($xs: &[i32], $t: i32) -> Option<usize>", ["Finds `$t` in the sorted slice `$xs` by binary search.",
                                                                      "Returns the index of `$t` in `$xs`, which is sorted and has no duplicates."]
    checks = []
    for k in [0, 5, 9, 9]:
        xs = sorted(r.sample(range(-30, 30), k))
        t = r.choice(xs) if xs and r.random() < 0.6 else r.randrange(-32, 32)
        if insert:
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {t})", sum(1 for x in xs if x < t)))
        else:
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {t}), {_some(xs.index(t) if t in xs else None)});")
    uses = ["std::cmp::Ordering"] if "Ordering" in body else []
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, uses=uses, params=f"insert={insert}")


@_family("two_sum")
def _two_sum(r: random.Random) -> _Prog:
    kw = {"xs": r.choice(_SEQ), "t": r.choice(["target", "goal", "total"]),
          "fn": r.choice(["pair_with_sum", "two_indices_summing_to", "find_pair_sum", "indices_adding_to"])}
    body = r.choice(["""
        let mut seen: HashMap<i32, usize> = HashMap::new();
        for (j, &x) in $xs.iter().enumerate() {
            if let Some(&i) = seen.get(&($t - x)) {
                return Some((i, j));
            }
            seen.entry(x).or_insert(j);
        }
        None""", """
        for i in 0..$xs.len() {
            for j in i + 1..$xs.len() {
                if $xs[i] + $xs[j] == $t {
                    return Some((i, j));
                }
            }
        }
        None"""])
    checks = []
    while len(checks) < 4:
        xs, t = r.sample(range(-10, 20), r.randrange(0, 7)), r.randrange(-5, 25)
        pairs = [(i, j) for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[i] + xs[j] == t]
        if len(pairs) <= 1:
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {t}), {_some(pairs[0] if pairs else None)});")
    doc = _doc(r, ["Returns the indices `(i, j)` with `i < j` of two elements of `$xs` that add up to `$t`.",
                   "Finds two different positions whose values sum to `$t`, or `None`."], kw)
    uses = ["std::collections::HashMap"] if "HashMap" in body else []
    return _Prog([_fn("fn $fn($xs: &[i32], $t: i32) -> Option<(usize, usize)>", body, kw, doc)], checks, uses=uses, params="")


@_family("set_ops")
def _set_ops(r: random.Random) -> _Prog:
    op = r.choice(["intersection", "union", "difference"])
    kw = {"a": r.choice(["a", "left", "xs"]), "b": r.choice(["b", "right", "ys"]),
          "fn": r.choice({"intersection": ["common_values", "shared_elements", "intersect"],
                          "union": ["merge_distinct", "all_values", "union_of"],
                          "difference": ["only_in_first", "missing_from_second", "set_difference"]}[op])}
    style = r.choice(["btree", "hash"])
    if style == "btree":
        body = f"""
            let a: BTreeSet<i32> = $a.iter().copied().collect();
            let b: BTreeSet<i32> = $b.iter().copied().collect();
            a.{op}(&b).copied().collect()"""
    else:
        cond = {"intersection": "b.contains(x)", "difference": "!b.contains(x)"}.get(op)
        body = f"""
            let b: HashSet<i32> = $b.iter().copied().collect();
            let mut out: Vec<i32> = $a.iter().copied().filter(|x| {cond}).collect();
            out.sort_unstable();
            out.dedup();
            out""" if cond else """
            let mut out: Vec<i32> = $a.iter().chain($b.iter()).copied().collect::<HashSet<_>>().into_iter().collect();
            out.sort_unstable();
            out"""
    checks = []
    for _ in range(3):
        a, b = _ints(r, "i32", r.randrange(0, 6), -5, 8), _ints(r, "i32", r.randrange(0, 6), -5, 8)
        res = {"intersection": set(a) & set(b), "union": set(a) | set(b), "difference": set(a) - set(b)}[op]
        checks.append(f"assert_eq!({kw['fn']}({_slice(a)}, {_slice(b)}), {_vec(sorted(res), 'i32')});")
    what = {"intersection": "that occur in both `$a` and `$b`", "union": "that occur in `$a` or `$b`",
            "difference": "of `$a` that do not occur in `$b`"}[op]
    doc = _doc(r, [f"Returns the distinct values {what}, sorted.", f"The sorted set of values {what}."], kw)
    uses = ["std::collections::BTreeSet" if style == "btree" else "std::collections::HashSet"]
    return _Prog([_fn("fn $fn($a: &[i32], $b: &[i32]) -> Vec<i32>", body, kw, doc)], checks, uses=uses, params=f"{op} {style}")


@_family("most_common")
def _most_common(r: random.Random) -> _Prog:
    chars = r.random() < 0.5
    kw = {"m": r.choice(["counts", "freq", "seen"])}
    if chars:
        kw.update(fn=r.choice(["most_common_char", "mode_char", "most_frequent_letter"]), x=r.choice(_TEXT), P="&str", T="char")
        it = "$x.chars()"
    else:
        kw.update(fn=r.choice(["mode", "most_frequent", "most_common_value"]), x=r.choice(_SEQ), P="&[i32]", T="i32")
        it = "$x.iter().copied()"
    body = r.choice([f"""
        let mut $m = HashMap::new();
        for v in {it} {{
            *$m.entry(v).or_insert(0) += 1;
        }}
        $m.into_iter().max_by_key(|&(_, n)| n).map(|(v, _)| v)""", f"""
        let mut $m: HashMap<$T, usize> = HashMap::new();
        for v in {it} {{
            *$m.entry(v).or_default() += 1;
        }}
        let mut best = None;
        let mut best_count = 0;
        for (v, n) in $m {{
            if n > best_count {{
                best = Some(v);
                best_count = n;
            }}
        }}
        best"""])
    empty = '""' if chars else "&[]"
    checks = [f"assert_eq!({kw['fn']}({empty}), None);"]
    while len(checks) < 4:
        xs = [r.choice("abcde") for _ in range(r.randrange(1, 9))] if chars else _ints(r, "i32", r.randrange(1, 9), -3, 4)
        counts = {v: xs.count(v) for v in xs}
        top = max(counts.values())
        if list(counts.values()).count(top) == 1:
            v = next(k for k, n in counts.items() if n == top)
            arg = _lit("".join(xs)) if chars else _slice(xs)
            checks.append(f"assert_eq!({kw['fn']}({arg}), Some({_lit(_ch(v)) if chars else v}));")
    doc = _doc(r, [("Returns the value that occurs most often in `$x`, or `None` if it is empty.\n"
                   "When several values tie, any of them may be returned."),
                   "Finds the mode of `$x` by counting occurrences in a `HashMap`."], kw)
    return _Prog([_fn("fn $fn($x: $P) -> Option<$T>", body, kw, doc)], checks, uses=["std::collections::HashMap"],
                 params=f"chars={chars}")


@_family("first_duplicate")
def _first_duplicate(r: random.Random) -> _Prog:
    kw = {"xs": r.choice(_SEQ), "fn": r.choice(["first_duplicate", "first_seen_twice", "earliest_repeat"])}
    body = r.choice(["""
        let mut seen = HashSet::new();
        for &x in $xs {
            if !seen.insert(x) {
                return Some(x);
            }
        }
        None""", """
        let mut seen = HashSet::new();
        $xs.iter().copied().find(|&x| !seen.insert(x))""", """
        for (i, x) in $xs.iter().enumerate() {
            if $xs[..i].contains(x) {
                return Some(*x);
            }
        }
        None"""])
    checks = []
    for k in [0, 3, 6, 8]:
        xs = _ints(r, "i32", k, -4, 9)
        seen, hit = set(), None
        for x in xs:
            if x in seen:
                hit = x
                break
            seen.add(x)
        checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), {_some(hit)});")
    doc = _doc(r, ["Returns the first value of `$xs` that has already appeared earlier, if any.",
                   "Scans `$xs` and reports the first element seen for the second time."], kw)
    uses = ["std::collections::HashSet"] if "HashSet" in body else []
    return _Prog([_fn("fn $fn($xs: &[i32]) -> Option<i32>", body, kw, doc)], checks, uses=uses, params="")


# ---- slices changed in place ----

@_family("in_place")
def _in_place(r: random.Random) -> _Prog:
    task = r.choice(["reverse", "double", "clamp_negatives", "rotate", "zeros_last"])
    T = r.choice(["i32", "i64"])
    kw = {"T": T, "xs": r.choice(_SEQ)}
    bodies = {
        "reverse": (["reverse_in_place", "flip_in_place", "mirror"], ["""
            let mut i = 0;
            let mut j = $xs.len();
            while i + 1 < j {
                $xs.swap(i, j - 1);
                i += 1;
                j -= 1;
            }""", """
            let n = $xs.len();
            for i in 0..n / 2 {
                $xs.swap(i, n - 1 - i);
            }"""], lambda xs, k: xs[::-1], "Reverses `$xs` in place without allocating."),
        "double": (["double_all", "scale_by_two", "double_each"], ["for x in $xs.iter_mut() {\n    *x *= 2;\n}",
                                                                  "$xs.iter_mut().for_each(|x| *x *= 2);"],
                   lambda xs, k: [2 * x for x in xs], "Doubles every element of `$xs` in place."),
        "clamp_negatives": (["zero_negatives", "clear_negatives", "floor_at_zero"],
                            ["for x in $xs.iter_mut() {\n    if *x < 0 {\n        *x = 0;\n    }\n}",
                             "for x in $xs {\n    *x = (*x).max(0);\n}"],
                            lambda xs, k: [max(x, 0) for x in xs], "Replaces every negative element of `$xs` with zero."),
        "rotate": (["rotate_left_by", "shift_left", "rotate_by"], ["if !$xs.is_empty() {\n    let k = k % $xs.len();\n    $xs.rotate_left(k);\n}", """
            let n = $xs.len();
            if n == 0 {
                return;
            }
            let k = k % n;
            $xs[..k].reverse();
            $xs[k..].reverse();
            $xs.reverse();"""], lambda xs, k: xs[k % len(xs):] + xs[:k % len(xs)] if xs else [],
                   "Rotates `$xs` left by `k` places: the element at index `k` moves to the front."),
        "zeros_last": (["push_zeros_back", "zeros_to_end", "sink_zeros"], ["""
            let mut next = 0;
            for i in 0..$xs.len() {
                if $xs[i] != 0 {
                    $xs.swap(next, i);
                    next += 1;
                }
            }"""], lambda xs, k: [x for x in xs if x] + [0] * xs.count(0),
                       "Moves every zero in `$xs` to the end, keeping the other elements in order."),
    }
    names, bods, py, phr = bodies[task]
    kw["fn"] = r.choice(names)
    sig = "fn $fn($xs: &mut [$T], k: usize)" if task == "rotate" else "fn $fn($xs: &mut [$T])"
    checks = []
    for i, n in enumerate([0, 4, 7]):
        xs = _ints(r, T, n, -9, 9)
        if task == "zeros_last":
            xs = [x if r.random() < 0.6 else 0 for x in xs]
        k = r.randrange(0, 10)
        name = kw["xs"] if i == 0 else f"{kw['xs']}{i + 1}"
        checks += [f"let mut {name}: Vec<{T}> = {_lit(xs)};",
                   f"{kw['fn']}(&mut {name}{', ' + str(k) if task == 'rotate' else ''});",
                   f"assert_eq!({name}, {_vec(py(xs, k), T)});"]
    return _Prog([_fn(sig, r.choice(bods), kw, _doc(r, [phr], kw))], checks, params=f"{task} {T}")


@_family("simple_sort")
def _simple_sort(r: random.Random) -> _Prog:
    algo = r.choice(["insertion", "bubble", "selection"])
    generic = r.random() < 0.5
    kw = {"xs": r.choice(_SEQ), "fn": f"{algo}_sort", "T": "T" if generic else "i32"}
    body = {"insertion": """
        for i in 1..$xs.len() {
            let mut j = i;
            while j > 0 && $xs[j - 1] > $xs[j] {
                $xs.swap(j - 1, j);
                j -= 1;
            }
        }""", "bubble": """
        let n = $xs.len();
        for pass in 0..n {
            let mut swapped = false;
            for j in 0..n - 1 - pass {
                if $xs[j] > $xs[j + 1] {
                    $xs.swap(j, j + 1);
                    swapped = true;
                }
            }
            if !swapped {
                break;
            }
        }""", "selection": """
        for i in 0..$xs.len() {
            let mut smallest = i;
            for j in i + 1..$xs.len() {
                if $xs[j] < $xs[smallest] {
                    smallest = j;
                }
            }
            $xs.swap(i, smallest);
        }"""}[algo]
    sig = "fn $fn<T: PartialOrd>($xs: &mut [T])" if generic else "fn $fn($xs: &mut [i32])"
    checks = []
    samples = [_ints(r, "i32", 0), _ints(r, "i32", 6, -50, 50)]
    if generic:
        samples.append([_ch(c) for c in r.sample("qwertyuiop", 5)])
    else:
        samples.append(_ints(r, "i32", 8, -5, 5))
    for i, xs in enumerate(samples):
        name = f"v{i}"
        typ = ": Vec<i32>" if i == 0 else ""
        checks += [f"let mut {name}{typ} = {_lit(xs)};", f"{kw['fn']}(&mut {name});",
                   f"assert_eq!({name}, {_lit(sorted(xs)) if xs else 'Vec::<i32>::new()'});"]
    doc = _doc(r, [f"Sorts `$xs` in place in increasing order with {algo} sort.",
                   f"A plain {algo} sort: quadratic, but simple and in place."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{algo} generic={generic}")


# ---- structs, traits, generics, closures, tuples ----

@_family("stack_struct")
def _stack_struct(r: random.Random) -> _Prog:
    S = r.choice(["Stack", "IntStack", "History"])
    generic = r.random() < 0.4
    kw = {"S": S, "items": r.choice(["items", "elems", "data"]), "G": "<T>" if generic else "", "T": "T" if generic else "i32"}
    kw["IMPL"] = f"impl<T> {S}<T>" if generic else f"impl {S}"
    text = _sub("""
        /// A last-in, first-out stack backed by a `Vec`.
        struct $S$G {
            $items: Vec<$T>,
        }

        $IMPL {
            /// An empty stack.
            fn new() -> Self {
                $S { $items: Vec::new() }
            }

            fn push(&mut self, value: $T) {
                self.$items.push(value);
            }

            /// Removes and returns the top element, or `None` when the stack is empty.
            fn pop(&mut self) -> Option<$T> {
                self.$items.pop()
            }

            /// The top element, without removing it.
            fn peek(&self) -> Option<&$T> {
                self.$items.last()
            }

            fn len(&self) -> usize {
                self.$items.len()
            }

            fn is_empty(&self) -> bool {
                self.$items.is_empty()
            }
        }""", kw) + "\n"
    checks = [f"let mut s{': ' + S + '<i32>' if generic else ''} = {S}::new();", "assert!(s.is_empty());",
              "assert_eq!(s.peek(), None);"]
    model: list[int] = []
    for i in range(r.randrange(5, 9)):
        if model and (r.random() < 0.4 or i == 3):  # pop at least once, or rustc warns that it is unused
            checks.append(f"assert_eq!(s.pop(), Some({model.pop()}));")
        else:
            v = r.randrange(-20, 50)
            model.append(v)
            checks.append(f"s.push({v});")
    checks += [f"assert_eq!(s.peek(), {_some(_Raw('&' + str(model[-1])) if model else None)});",
               f"assert_eq!(s.len(), {len(model)});", _check("s.is_empty()", not model)]
    return _Prog([text], checks, params=f"{S} generic={generic}")


@_family("rectangle_struct")
def _rectangle_struct(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "f64"])
    S = r.choice(["Rectangle", "Rect", "Frame"])
    kw = {"S": S, "T": T, "w": r.choice(["width", "w"]), "h": r.choice(["height", "h"])}
    methods = r.sample(["area", "perimeter", "is_square", "can_hold", "scale"], 3)
    parts = [_sub("""
        /// An axis-aligned rectangle.
        #[derive(Debug, Clone, Copy, PartialEq)]
        struct $S {
            $w: $T,
            $h: $T,
        }
        """, kw) + "\n", _sub("""
        impl $S {
            fn new($w: $T, $h: $T) -> Self {
                $S { $w, $h }
            }
        """, kw)]
    defs = {"area": "\n\n    fn area(&self) -> $T {\n        self.$w * self.$h\n    }",
            "perimeter": "\n\n    fn perimeter(&self) -> $T {\n        2${two} * (self.$w + self.$h)\n    }",
            "is_square": "\n\n    fn is_square(&self) -> bool {\n        self.$w == self.$h\n    }",
            "can_hold": "\n\n    /// Whether `other` fits inside `self` without rotating it.\n    fn can_hold(&self, other: &$S) -> bool {\n        self.$w >= other.$w && self.$h >= other.$h\n    }",
            "scale": "\n\n    /// Multiplies both sides by `factor`.\n    fn scale(&mut self, factor: $T) {\n        self.$w *= factor;\n        self.$h *= factor;\n    }"}
    kw["two"] = ".0" if T == "f64" else ""
    body = "".join(Template(defs[m]).safe_substitute(two=kw["two"]) for m in methods)
    text = parts[0] + "\n" + parts[1] + Template(body).substitute(kw) + "\n}\n"
    f = float if T == "f64" else int
    checks = []
    for i in range(2):
        w, h = f(r.randrange(1, 20)), f(r.randrange(1, 20))
        if i == 1 and r.random() < 0.5:
            h = w
        v = f"r{i}"
        checks.append(f"let {'mut ' if 'scale' in methods else ''}{v} = {S}::new({_lit(w)}, {_lit(h)});")
        for m in methods:
            if m == "area":
                checks.append(_check(f"{v}.area()", w * h))
            elif m == "perimeter":
                checks.append(_check(f"{v}.perimeter()", 2 * (w + h)))
            elif m == "is_square":
                checks.append(_check(f"{v}.is_square()", w == h))
            elif m == "can_hold":
                ow, oh = f(r.randrange(1, 20)), f(r.randrange(1, 20))
                checks.append(_check(f"{v}.can_hold(&{S}::new({_lit(ow)}, {_lit(oh)}))", w >= ow and h >= oh))
            else:
                k = f(r.randrange(2, 4))
                checks += [f"{v}.scale({_lit(k)});", f"assert_eq!({v}, {S}::new({_lit(w * k)}, {_lit(h * k)}));"]
                w, h = w * k, h * k
    return _Prog([text], checks, params=f"{S} {T} {'+'.join(methods)}")


@_family("bank_account")
def _bank_account(r: random.Random) -> _Prog:
    S = r.choice(["Account", "Wallet", "BankAccount"])
    kw = {"S": S, "bal": r.choice(["balance", "cents", "funds"]), "err": r.choice(["insufficient funds", "not enough money"])}
    text = _sub("""
        /// A balance that can never go negative.
        struct $S {
            $bal: u64,
        }

        impl $S {
            fn new(initial: u64) -> Self {
                Self { $bal: initial }
            }

            fn deposit(&mut self, amount: u64) {
                self.$bal += amount;
            }

            /// Takes `amount` out, or refuses and leaves the balance unchanged.
            fn withdraw(&mut self, amount: u64) -> Result<(), String> {
                if amount > self.$bal {
                    return Err("$err".to_string());
                }
                self.$bal -= amount;
                Ok(())
            }

            fn $bal(&self) -> u64 {
                self.$bal
            }
        }
        """, kw) + "\n"
    bal = r.randrange(0, 100)
    checks = [f"let mut acct = {S}::new({bal});"]
    for i in range(r.randrange(4, 7)):
        amt = r.randrange(1, 80)
        if i == 0 or (i > 1 and r.random() < 0.5):  # both methods are called, or rustc warns
            checks.append(f"acct.deposit({amt});")
            bal += amt
        elif amt <= bal:
            checks.append(f"assert_eq!(acct.withdraw({amt}), Ok(()));")
            bal -= amt
        else:
            checks.append(f"assert_eq!(acct.withdraw({amt}), Err(\"{kw['err']}\".to_string()));")
    checks.append(f"assert_eq!(acct.{kw['bal']}(), {bal});")
    return _Prog([text], checks, params=S)


@_family("point_struct")
def _point_struct(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64"])
    S = r.choice(["Point", "Pos", "Coord"])
    kw = {"S": S, "T": T}
    methods = r.sample(["manhattan", "translate", "origin_dist2", "from_tuple"], 2)
    defs = {"manhattan": "\n\n    /// Distance along the grid lines to `other`.\n    fn manhattan(&self, other: &$S) -> $T {\n        (self.x - other.x).abs() + (self.y - other.y).abs()\n    }",
            "translate": "\n\n    /// Moves the point by `(dx, dy)`.\n    fn translate(&mut self, dx: $T, dy: $T) {\n        self.x += dx;\n        self.y += dy;\n    }",
            "origin_dist2": "\n\n    /// The squared distance from the origin.\n    fn norm_squared(&self) -> $T {\n        self.x * self.x + self.y * self.y\n    }"}
    text = _sub("""
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        struct $S {
            x: $T,
            y: $T,
        }
        """, kw)
    fns = [_sub("""
        fn new(x: $T, y: $T) -> Self {
            $S { x, y }
        }
        """, kw)] + [_sub(defs[m], kw) for m in methods if m in defs]
    text += "\n\nimpl " + S + " {\n" + textwrap.indent("\n\n".join(fns), "    ") + "\n}\n"
    if "from_tuple" in methods:
        text += _sub("""

            impl From<($T, $T)> for $S {
                fn from((x, y): ($T, $T)) -> Self {
                    $S::new(x, y)
                }
            }
            """, kw) + "\n"
    checks = []
    x, y = r.randrange(-9, 10), r.randrange(-9, 10)
    checks.append(f"let {'mut ' if 'translate' in methods else ''}p = {S}::new({x}, {y});")
    for m in methods:
        if m == "manhattan":
            ox, oy = r.randrange(-9, 10), r.randrange(-9, 10)
            checks.append(_check(f"p.manhattan(&{S}::new({ox}, {oy}))", abs(x - ox) + abs(y - oy)))
        elif m == "origin_dist2":
            checks.append(_check("p.norm_squared()", x * x + y * y))
        elif m == "from_tuple":
            checks.append(f"assert_eq!({S}::from(({x}, {y})), p);")
            a, b = r.randrange(-9, 10), r.randrange(-9, 10)
            checks.append(f"let q: {S} = ({a}, {b}).into();")
            checks.append(f"assert_eq!(q, {S}::new({a}, {b}));")
        else:
            dx, dy = r.randrange(-5, 6), r.randrange(-5, 6)
            checks += [f"p.translate({dx}, {dy});", f"assert_eq!(p, {S}::new({x + dx}, {y + dy}));"]
            x, y = x + dx, y + dy
    return _Prog([text], checks, params=f"{S} {T} {'+'.join(methods)}")


_ANIMALS = [("Dog", "woof"), ("Cat", "meow"), ("Cow", "moo"), ("Duck", "quack"), ("Owl", "hoot"), ("Sheep", "baa")]


@_family("trait_two_impls")
def _trait_two_impls(r: random.Random) -> _Prog:
    if r.random() < 0.5:
        (a, sa), (b, sb) = r.sample(_ANIMALS, 2)
        Tr = r.choice(["Speak", "Animal", "Noisy"])
        kw = {"Tr": Tr, "A": a, "B": b, "sa": sa, "sb": sb}
        dyn = r.random() < 0.5
        text = _sub("""
            /// Something that makes a sound.
            trait $Tr {
                fn sound(&self) -> &str;

                /// The sound repeated `times` times, separated by spaces.
                fn speak(&self, times: usize) -> String {
                    vec![self.sound(); times].join(" ")
                }
            }

            struct $A;
            struct $B;

            impl $Tr for $A {
                fn sound(&self) -> &str {
                    "$sa"
                }
            }

            impl $Tr for $B {
                fn sound(&self) -> &str {
                    "$sb"
                }
            }
            """, kw) + "\n"
        if dyn:
            fn = _fn("fn chorus(animals: &[&dyn $Tr]) -> String",
                     'animals.iter().map(|a| a.sound()).collect::<Vec<_>>().join(", ")', kw,
                     "/// Every animal's sound, in order, separated by commas.\n")
            order = r.sample([a, b, r.choice([a, b])], 3)  # both types appear, or rustc warns one is never built
            checks = [f"assert_eq!(chorus(&[{', '.join('&' + x for x in order)}]), {_lit(', '.join(sa if x == a else sb for x in order))});"]
        else:
            fn = _fn("fn duet(first: &impl $Tr, second: &impl $Tr) -> String",
                     'format!("{} {}", first.sound(), second.sound())', kw, "/// The two sounds, one after the other.\n")
            checks = [f"assert_eq!(duet(&{a}, &{b}), {_lit(sa + ' ' + sb)});", f"assert_eq!(duet(&{b}, &{b}), {_lit(sb + ' ' + sb)});"]
        k = r.randrange(0, 4)
        checks.insert(0, f"assert_eq!({a}.speak({k}), {_lit(' '.join([sa] * k))});")
        return _Prog([text, fn], checks, params=f"speak dyn={dyn}")
    Tr = r.choice(["Shape", "Area", "HasArea"])
    kw = {"Tr": Tr, "fn": r.choice(["total_area", "sum_of_areas", "combined_area"])}
    text = _sub("""
        trait $Tr {
            fn area(&self) -> f64;
        }

        struct Square {
            side: f64,
        }

        struct Circle {
            radius: f64,
        }

        impl $Tr for Square {
            fn area(&self) -> f64 {
                self.side * self.side
            }
        }

        impl $Tr for Circle {
            fn area(&self) -> f64 {
                PI * self.radius * self.radius
            }
        }
        """, kw) + "\n"
    generic = r.random() < 0.5
    if generic:
        fn = _fn("fn $fn<T: $Tr>(shapes: &[T]) -> f64", "shapes.iter().map(|s| s.area()).sum()", kw,
                 "/// The sum of the areas of shapes of one kind.\n")
        sides = [r.randrange(1, 10) / 2 for _ in range(3)]
        checks = [_close(f"{kw['fn']}(&[{', '.join(f'Square {{ side: {_float(s)} }}' for s in sides)}])", sum(s * s for s in sides))]
    else:
        fn = _fn("fn $fn(shapes: &[Box<dyn $Tr>]) -> f64", "shapes.iter().map(|s| s.area()).sum()", kw,
                 "/// The sum of the areas of a mixed collection of shapes.\n")
        s, c = r.randrange(1, 10) / 2, r.randrange(1, 10) / 2
        checks = [f"let shapes: Vec<Box<dyn {Tr}>> = vec![Box::new(Square {{ side: {_float(s)} }}), Box::new(Circle {{ radius: {_float(c)} }})];",
                  _close(f"{kw['fn']}(&shapes)", s * s + math.pi * c * c)]
    c = r.randrange(1, 10) / 2
    checks.append(_close(f"Circle {{ radius: {_float(c)} }}.area()", math.pi * c * c))
    return _Prog([text, fn], checks, uses=["std::f64::consts::PI"], params=f"area generic={generic}")


@_family("display_impl")
def _display_impl(r: random.Random) -> _Prog:
    task = r.choice(["money", "clock", "fraction"])
    if task == "money":
        S = r.choice(["Money", "Price", "Amount"])
        kw = {"S": S}
        text = _sub("""
            /// An amount of money in cents.
            struct $S {
                cents: u64,
            }

            impl fmt::Display for $S {
                fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    write!(f, "${}.{:02}", self.cents / 100, self.cents % 100)
                }
            }
            """.replace("${}", "$${}"), kw) + "\n"
        checks = []
        for _ in range(3):
            c = r.randrange(0, 100000)
            checks.append(_check(f"{S} {{ cents: {c} }}.to_string()", f"${c // 100}.{c % 100:02d}"))
        return _Prog([text], checks, uses=["std::fmt"], params=task)
    if task == "clock":
        S = r.choice(["Clock", "TimeOfDay", "Duration"])
        kw = {"S": S}
        text = _sub("""
            /// A time of day, stored as minutes after midnight.
            struct $S {
                minutes: u32,
            }

            impl $S {
                fn new(hours: u32, minutes: u32) -> Self {
                    $S {
                        minutes: (hours * 60 + minutes) % (24 * 60),
                    }
                }
            }

            impl fmt::Display for $S {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
                }
            }
            """, kw) + "\n"
        checks = []
        for _ in range(3):
            h, m = r.randrange(0, 30), r.randrange(0, 60)
            t = (h * 60 + m) % 1440
            checks.append(_check(f"{S}::new({h}, {m}).to_string()", f"{t // 60:02d}:{t % 60:02d}"))
        checks.append(f"assert_eq!(format!(\"at {{}}\", {S}::new(7, 5)), \"at 07:05\");")
        return _Prog([text], checks, uses=["std::fmt"], params=task)
    kw = {"S": r.choice(["Fraction", "Ratio", "Rational"])}
    text = _sub("""
        /// A fraction kept in lowest terms with a positive denominator.
        #[derive(Debug, PartialEq)]
        struct $S {
            num: i64,
            den: i64,
        }

        impl $S {
            /// Builds `num / den` reduced to lowest terms. `den` must not be zero.
            fn new(num: i64, den: i64) -> Self {
                let g = gcd(num.abs(), den.abs());
                let sign = if den < 0 { -1 } else { 1 };
                $S {
                    num: sign * num / g,
                    den: sign * den / g,
                }
            }
        }

        impl fmt::Display for $S {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                if self.den == 1 {
                    write!(f, "{}", self.num)
                } else {
                    write!(f, "{}/{}", self.num, self.den)
                }
            }
        }
        """, kw) + "\n"
    gcd = "fn gcd(a: i64, b: i64) -> i64 {\n    if b == 0 {\n        a\n    } else {\n        gcd(b, a % b)\n    }\n}\n"
    checks = []
    for _ in range(4):
        n, d = r.randrange(-30, 30), r.choice([x for x in range(-12, 13) if x])
        g = math.gcd(n, d)
        s = -1 if d < 0 else 1
        rn, rd = s * n // g, s * d // g
        checks.append(_check(f"{kw['S']}::new({n}, {d}).to_string()", str(rn) if rd == 1 else f"{rn}/{rd}"))
    return _Prog([text], checks, helpers=[gcd], uses=["std::fmt"], params=task)


@_family("generic_extreme")
def _generic_extreme(r: random.Random) -> _Prog:
    big = r.random() < 0.6
    kw = {"fn": r.choice(["largest", "max_of", "biggest"] if big else ["smallest", "min_of", "least"]),
          "xs": r.choice(["xs", "items", "list"]), "cmp": ">" if big else "<"}
    style = r.choice(["copy", "ref"])
    if style == "copy":
        sig = "fn $fn<T: PartialOrd + Copy>($xs: &[T]) -> T"
        body = "let mut best = $xs[0];\nfor &x in $xs {\n    if x $cmp best {\n        best = x;\n    }\n}\nbest"
        deref = ""
    else:
        sig = "fn $fn<T: PartialOrd>($xs: &[T]) -> &T"
        body = "let mut best = &$xs[0];\nfor x in $xs {\n    if x $cmp best {\n        best = x;\n    }\n}\nbest"
        deref = "*"
    pick = max if big else min
    ints = _ints(r, "i32", 5, -50, 50)
    floats = [r.randrange(-40, 40) / 4 for _ in range(4)]
    chars = r.sample("abcdefghijklmnop", 4)
    checks = [f"assert_eq!({deref}{kw['fn']}({_slice(ints)}), {pick(ints)});",
              f"assert_eq!({deref}{kw['fn']}({_slice([_ch(c) for c in chars])}), {_ch(pick(chars))});",
              f"assert_eq!({deref}{kw['fn']}({_slice(floats)}), {_float(pick(floats))});"]
    doc = _doc(r, [f"Returns the {'largest' if big else 'smallest'} element of a non-empty slice of any ordered type.",
                   "Generic over `T: PartialOrd`, so it works for integers, floats and chars alike.\nPanics on an empty slice."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{'max' if big else 'min'} {style}")


_OPS = [("|x| x + 1", lambda x: x + 1), ("|x| x * 2", lambda x: x * 2), ("|x| x - 3", lambda x: x - 3),
        ("|x| x * x", lambda x: x * x), ("|x| -x", lambda x: -x), ("|x| x / 2", lambda x: int(x / 2))]


@_family("closures")
def _closures(r: random.Random) -> _Prog:
    task = r.choice(["apply_n", "compose", "adder", "count_where", "map_all"])
    kw = {}
    if task == "apply_n":
        kw["fn"] = r.choice(["apply_n_times", "repeat_apply", "iterate"])
        sig = r.choice(["fn $fn<F: Fn(i64) -> i64>(f: F, n: usize, x: i64) -> i64", "fn $fn(f: impl Fn(i64) -> i64, n: usize, x: i64) -> i64"])
        body = r.choice(["let mut value = x;\nfor _ in 0..n {\n    value = f(value);\n}\nvalue", "(0..n).fold(x, |acc, _| f(acc))"])
        checks = []
        for _ in range(3):
            (src, py), n, x = r.choice(_OPS[:3] + _OPS[4:]), r.randrange(0, 6), r.randrange(-10, 10)
            v = x
            for _ in range(n):
                v = py(v)
            checks.append(f"assert_eq!({kw['fn']}({src}, {n}, {x}), {v});")
        phr = ["Applies `f` to `x` `n` times in a row and returns the result."]
    elif task == "compose":
        kw["fn"] = r.choice(["compose", "then", "chain"])
        sig = "fn $fn<F, G>(f: F, g: G) -> impl Fn(i32) -> i32\nwhere\n    F: Fn(i32) -> i32,\n    G: Fn(i32) -> i32,"
        body = "move |x| g(f(x))"
        checks = []
        for i in range(2):
            (fs, fp), (gs, gp) = r.sample(_OPS, 2)
            checks.append(f"let h{i} = {kw['fn']}({fs}, {gs});")
            for x in r.sample(range(-10, 10), 2):
                checks.append(f"assert_eq!(h{i}({x}), {gp(fp(x))});")
        phr = ["Returns a closure that applies `f` and then `g`.", "Function composition: the result maps `x` to `g(f(x))`."]
    elif task == "adder":
        kw["fn"] = r.choice(["make_adder", "adder", "plus"])
        kw["k"] = r.choice(["k", "amount", "offset"])
        sig = r.choice(["fn $fn($k: i32) -> impl Fn(i32) -> i32", "fn $fn($k: i32) -> Box<dyn Fn(i32) -> i32>"])
        body = "Box::new(move |x| x + $k)" if "Box" in sig else "move |x| x + $k"
        k = r.randrange(-10, 10)
        checks = [f"let add = {kw['fn']}({k});"] + [f"assert_eq!(add({x}), {x + k});" for x in r.sample(range(-20, 20), 3)]
        xs = _ints(r, "i32", 4)
        checks.append(f"assert_eq!({_lit(xs)}.into_iter().map({kw['fn']}({k})).collect::<Vec<_>>(), {_lit([x + k for x in xs])});")
        phr = ["Returns a closure that adds `$k` to its argument. `move` copies `$k` into the closure."]
    elif task == "count_where":
        kw["fn"] = r.choice(["count_where", "count_matching", "count_if"])
        sig = r.choice(["fn $fn<F>(xs: &[i32], pred: F) -> usize\nwhere\n    F: Fn(i32) -> bool,",
                        "fn $fn(xs: &[i32], pred: impl Fn(i32) -> bool) -> usize"])
        body = r.choice(["xs.iter().filter(|&&x| pred(x)).count()",
                         "let mut n = 0;\nfor &x in xs {\n    if pred(x) {\n        n += 1;\n    }\n}\nn"])
        xs = _ints(r, "i32", 7)
        t = r.randrange(-5, 5)
        checks = [f"let xs = {_slice(xs)};", f"assert_eq!({kw['fn']}(xs, |x| x % 2 == 0), {sum(1 for x in xs if x % 2 == 0)});",
                  f"let limit = {t};", f"assert_eq!({kw['fn']}(xs, |x| x > limit), {sum(1 for x in xs if x > t)});",
                  f"assert_eq!({kw['fn']}(&[], |_| true), 0);"]
        phr = ["Counts the elements of `xs` for which `pred` returns `true`."]
    else:
        kw["fn"] = r.choice(["map_all", "transform", "apply_to_each"])
        sig = r.choice(["fn $fn<F: Fn(i32) -> i32>(xs: &[i32], f: F) -> Vec<i32>", "fn $fn(xs: &[i32], f: impl Fn(i32) -> i32) -> Vec<i32>"])
        body = r.choice(["xs.iter().map(|&x| f(x)).collect()",
                         "let mut out = Vec::with_capacity(xs.len());\nfor &x in xs {\n    out.push(f(x));\n}\nout"])
        checks = []
        for _ in range(2):
            (src, py), xs = r.choice(_OPS), _ints(r, "i32", r.randrange(1, 6))
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}, {src}), {_lit([py(x) for x in xs])});")
        phr = ["Returns a new vector holding `f` applied to every element of `xs`."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=task)


@_family("tuples")
def _tuples(r: random.Random) -> _Prog:
    task = r.choice(["divmod", "sort_three", "swap", "stats"])
    kw = {}
    if task == "divmod":
        euclid = r.random() < 0.4
        kw["fn"] = r.choice(["div_rem", "divmod", "quotient_and_remainder"])
        body = "($a.div_euclid($b), $a.rem_euclid($b))" if euclid else "($a / $b, $a % $b)"
        kw.update(a=r.choice(["a", "n", "dividend"]), b=r.choice(["b", "d", "divisor"]))
        sig = "fn $fn($a: i32, $b: i32) -> (i32, i32)"
        checks = []
        for _ in range(4):
            a, b = r.randrange(-50, 50), r.choice([x for x in range(-9, 10) if x])
            q, m = (a // b if b > 0 else -(a // -b), a % abs(b)) if euclid else (_trunc_div(a, b), a - b * _trunc_div(a, b))
            checks.append(f"assert_eq!({kw['fn']}({a}, {b}), ({q}, {m}));")
        phr = ["Returns the quotient and the remainder of `$a / $b` as a pair." +
               (" The remainder is never negative (Euclidean division)." if euclid else " Division rounds toward zero.")]
    elif task == "sort_three":
        kw["fn"] = r.choice(["sort_three", "order3", "sorted_triple"])
        sig = "fn $fn(a: i32, b: i32, c: i32) -> (i32, i32, i32)"
        body = r.choice(["""
            let (mut a, mut b, mut c) = (a, b, c);
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            if b > c {
                std::mem::swap(&mut b, &mut c);
            }
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            (a, b, c)""", "let mut v = [a, b, c];\nv.sort();\n(v[0], v[1], v[2])"])
        checks = []
        for _ in range(4):
            t = [r.randrange(-9, 10) for _ in range(3)]
            checks.append(f"assert_eq!({kw['fn']}({t[0]}, {t[1]}, {t[2]}), {_lit(tuple(sorted(t)))});")
        phr = ["Returns `a`, `b` and `c` in increasing order."]
    elif task == "swap":
        kw["fn"] = r.choice(["swap_pair", "flip", "swapped"])
        sig = "fn $fn<A, B>(pair: (A, B)) -> (B, A)"
        body = r.choice(["let (a, b) = pair;\n(b, a)", "(pair.1, pair.0)"])
        a, w = r.randrange(-9, 99), r.choice(_WORDS)
        checks = [f"assert_eq!({kw['fn']}(({a}, {_lit(w)})), ({_lit(w)}, {a}));",
                  f"assert_eq!({kw['fn']}(({_ch(w[0])}, true)), (true, {_ch(w[0])}));"]
        phr = ["Swaps the two halves of a pair, whatever their types."]
    else:
        kw["fn"] = r.choice(["stats", "summary", "count_sum_max"])
        sig = "fn $fn(xs: &[i32]) -> (usize, i32, Option<i32>)"
        body = r.choice(["(xs.len(), xs.iter().sum(), xs.iter().copied().max())", """
            let mut total = 0;
            let mut best = None;
            for &x in xs {
                total += x;
                best = match best {
                    Some(b) if b >= x => Some(b),
                    _ => Some(x),
                };
            }
            (xs.len(), total, best)"""])
        checks = []
        for k in [0, 4]:
            xs = _ints(r, "i32", k)
            checks.append(f"assert_eq!({kw['fn']}({_slice(xs)}), ({k}, {sum(xs)}, {_some(max(xs) if xs else None)}));")
        phr = ["Returns the length, the sum and the maximum of `xs` as one tuple."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=task)


# ---- more strings ----

@_family("anagram")
def _anagram(r: random.Random) -> _Prog:
    kw = {"a": r.choice(["a", "first", "left"]), "b": r.choice(["b", "second", "right"]),
          "fn": r.choice(["are_anagrams", "is_anagram_of", "same_letters", "anagrams"])}
    style = r.choice(["sort", "counts", "map"])
    body = {"sort": """
        let mut x: Vec<char> = $a.chars().collect();
        let mut y: Vec<char> = $b.chars().collect();
        x.sort_unstable();
        y.sort_unstable();
        x == y""", "counts": """
        if $a.len() != $b.len() {
            return false;
        }
        let mut counts = [0i32; 26];
        for c in $a.bytes() {
            counts[(c - b'a') as usize] += 1;
        }
        for c in $b.bytes() {
            counts[(c - b'a') as usize] -= 1;
        }
        counts.iter().all(|&n| n == 0)""", "map": """
        let mut counts: HashMap<char, i32> = HashMap::new();
        for c in $a.chars() {
            *counts.entry(c).or_insert(0) += 1;
        }
        for c in $b.chars() {
            *counts.entry(c).or_insert(0) -= 1;
        }
        counts.values().all(|&n| n == 0)"""}[style]
    checks = []
    for _ in range(4):
        w = r.choice(_WORDS)
        if r.random() < 0.5:
            other = "".join(r.sample(w, len(w)))
        else:
            other = r.choice(_WORDS)
        checks.append(_check(f"{kw['fn']}({_lit(w)}, {_lit(other)})", sorted(w) == sorted(other)))
    doc = _doc(r, ["Returns `true` if `$b` is a rearrangement of the letters of `$a`." +
                   (" Both must be lower-case ASCII." if style == "counts" else ""),
                   "Checks whether two words are anagrams: the same letters, each used the same number of times."], kw)
    uses = ["std::collections::HashMap"] if style == "map" else []
    return _Prog([_fn("fn $fn($a: &str, $b: &str) -> bool", body, kw, doc)], checks, uses=uses, params=style)


def _rle(s: str, count_first: bool) -> str:
    out, i = "", 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out += f"{j - i}{s[i]}" if count_first else f"{s[i]}{j - i}"
        i = j
    return out


@_family("run_length")
def _run_length(r: random.Random) -> _Prog:
    first = r.random() < 0.5
    kw = {"s": r.choice(_TEXT), "fn": r.choice(["run_length_encode", "rle", "compress_runs", "encode_runs"])}
    push = 'out.push_str(&format!("{}{}", count, c));' if first else 'out.push_str(&format!("{}{}", c, count));'
    push2 = 'out.push_str(&format!("{count}{prev}"));' if first else 'out.push_str(&format!("{prev}{count}"));'
    body = r.choice([f"""
        let mut out = String::new();
        let mut chars = $s.chars().peekable();
        while let Some(c) = chars.next() {{
            let mut count = 1;
            while chars.peek() == Some(&c) {{
                chars.next();
                count += 1;
            }}
            {push}
        }}
        out""", f"""
        let mut out = String::new();
        let mut iter = $s.chars();
        let Some(mut prev) = iter.next() else {{
            return out;
        }};
        let mut count = 1;
        for c in iter {{
            if c == prev {{
                count += 1;
            }} else {{
                {push2}
                prev = c;
                count = 1;
            }}
        }}
        {push2}
        out"""])
    checks = [_check(f"{kw['fn']}(\"\")", "")]
    for _ in range(3):
        s = "".join(r.choice("abc") * r.randrange(1, 5) for _ in range(r.randrange(1, 5)))
        checks.append(_check(f"{kw['fn']}({_lit(s)})", _rle(s, first)))
    form = "count then character" if first else "character then count"
    doc = _doc(r, [(f"Run-length encodes `$s`: each run of a repeated character becomes its {form},\n"
                   f"so \"aaab\" becomes \"{_rle('aaab', first)}\"."),
                   f"Compresses runs of equal characters in `$s`, writing each run as {form}."], kw, checks[1:2])
    return _Prog([_fn("fn $fn($s: &str) -> String", body, kw, doc)], checks, params=f"count_first={first}")


@_family("case_convert")
def _case_convert(r: random.Random) -> _Prog:
    task = r.choice(["camel_to_snake", "snake_to_kebab", "snake_to_title", "swap_case"])
    kw = {"s": r.choice(["name", "ident", "s", "text"])}
    words = r.sample([w for w in _WORDS if len(w) > 2], r.randrange(1, 4))
    if task == "camel_to_snake":
        kw["fn"] = r.choice(["camel_to_snake", "to_snake_case", "snake_case_of"])
        body = r.choice(["""
            let mut out = String::new();
            for (i, c) in $s.chars().enumerate() {
                if c.is_ascii_uppercase() {
                    if i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out""", """
            let mut out = String::with_capacity($s.len() + 4);
            for c in $s.chars() {
                if c.is_ascii_uppercase() && !out.is_empty() {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
            out"""])
        samples = [(words[0] + "".join(w.capitalize() for w in words[1:]), "_".join(words))]
        samples.append(("".join(w.capitalize() for w in words), "_".join(words)))
        phr = ["Converts a camelCase or PascalCase identifier such as `$s` to snake_case."]
    elif task == "snake_to_kebab":
        kw["fn"] = r.choice(["snake_to_kebab", "kebab_case", "dashed"])
        body = r.choice(["$s.replace('_', \"-\")", "$s.chars().map(|c| if c == '_' { '-' } else { c }).collect()"])
        samples = [("_".join(words), "-".join(words)), ("", "")]
        phr = ["Turns a snake_case identifier into kebab-case by replacing every underscore with a dash."]
    elif task == "snake_to_title":
        kw["fn"] = r.choice(["snake_to_title", "humanize", "title_from_snake"])
        body = r.choice(["""
            $s.split('_')
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut chars = w.chars();
                    match chars.next() {
                        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                        None => String::new(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")""", """
            let mut out = String::new();
            for word in $s.split('_').filter(|w| !w.is_empty()) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&word[..1].to_uppercase());
                out.push_str(&word[1..]);
            }
            out"""])
        samples = [("_".join(words), " ".join(w.capitalize() for w in words)),
                   ("_" + "__".join(words), " ".join(w.capitalize() for w in words))]
        phr = ["Converts a snake_case name into words with capital initials, e.g. \"max_value\" to \"Max Value\"."]
    else:
        kw["fn"] = r.choice(["swap_case", "invert_case", "switch_case"])
        body = r.choice(["""
            $s.chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect()""", """
            let mut out = String::new();
            for c in $s.chars() {
                match c {
                    'a'..='z' => out.push(c.to_ascii_uppercase()),
                    'A'..='Z' => out.push(c.to_ascii_lowercase()),
                    _ => out.push(c),
                }
            }
            out"""])
        mixed = "".join(c.upper() if r.random() < 0.5 else c for c in " ".join(words))
        samples = [(mixed, mixed.swapcase()), ("", "")]
        phr = ["Returns `$s` with upper-case ASCII letters made lower-case and the other way round."]
    checks = [_check(f"{kw['fn']}({_lit(a)})", b) for a, b in samples]
    return _Prog([_fn("fn $fn($s: &str) -> String", body, kw, _doc(r, phr, kw))], checks, params=task)


@_family("text_lines")
def _text_lines(r: random.Random) -> _Prog:
    task = r.choice(["comments", "nonblank", "longest_line", "strip_prefix"])
    kw = {"s": r.choice(["text", "source", "input"])}
    lines = []
    for _ in range(r.randrange(2, 6)):
        kind = r.random()
        lines.append("" if kind < 0.2 else ("  " * r.randrange(0, 2) + "// " + _sentence(r, 2)) if kind < 0.5 else _sentence(r, r.randrange(1, 4)))
    text = "\n".join(lines)
    if task == "comments":
        kw["fn"] = r.choice(["count_comment_lines", "comment_lines", "num_comments"])
        sig, body = "fn $fn($s: &str) -> usize", r.choice(['$s.lines().filter(|l| l.trim_start().starts_with("//")).count()', """
            let mut n = 0;
            for line in $s.lines() {
                if line.trim().starts_with("//") {
                    n += 1;
                }
            }
            n"""])
        exp = sum(1 for l in text.split("\n") if l.strip().startswith("//"))
        phr = ["Counts the lines of `$s` that are `//` comments, ignoring leading whitespace."]
    elif task == "nonblank":
        kw["fn"] = r.choice(["count_nonblank_lines", "non_empty_lines", "content_lines"])
        sig, body = "fn $fn($s: &str) -> usize", "$s.lines().filter(|l| !l.trim().is_empty()).count()"
        exp = sum(1 for l in text.split("\n") if l.strip())
        phr = ["Returns how many lines of `$s` contain something other than whitespace."]
    elif task == "longest_line":
        kw["fn"] = r.choice(["longest_line_len", "max_line_width", "widest_line"])
        sig, body = "fn $fn($s: &str) -> usize", r.choice(["$s.lines().map(|l| l.len()).max().unwrap_or(0)",
                                                          "$s.lines().map(str::len).fold(0, usize::max)"])
        exp = max((len(l) for l in text.split("\n")), default=0)
        phr = ["Returns the length in bytes of the longest line of `$s`, or 0 if it has none."]
    else:
        kw["fn"] = r.choice(["strip_comment_markers", "uncomment", "drop_slashes"])
        sig, body = "fn $fn($s: &str) -> Vec<String>", r.choice(["""
            $s.lines()
                .map(|l| l.trim())
                .map(|l| l.strip_prefix("//").unwrap_or(l).trim().to_string())
                .collect()""", """
            let mut out = Vec::new();
            for line in $s.lines() {
                let line = line.trim();
                let text = match line.strip_prefix("//") {
                    Some(rest) => rest.trim(),
                    None => line,
                };
                out.push(text.to_string());
            }
            out"""])
        py = [(l.strip().removeprefix("//")).strip() for l in text.split("\n")]
        if text == "":
            py = []
        exp = _vec(py, "String")
        phr = ["Returns the lines of `$s`, trimmed, with a leading `//` and the space after it removed."]
    checks = [f"let {kw['s']} = {_lit(text)};", f"assert_eq!({kw['fn']}({kw['s']}), {_lit(exp)});"]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=task)


@_family("format_text")
def _format_text(r: random.Random) -> _Prog:
    task = r.choice(["pad", "zero_pad", "labelled", "table_row"])
    kw = {}
    if task == "pad":
        kw["fn"] = r.choice(["pad_left", "right_align", "align_right"])
        sig, body = "fn $fn(s: &str, width: usize) -> String", r.choice(['format!("{:>width$$}", s)', 'format!("{s:>width$$}")'])
        checks = []
        for _ in range(3):
            w, n = r.choice(_WORDS), r.randrange(0, 10)
            checks.append(_check(f"{kw['fn']}({_lit(w)}, {n})", w.rjust(n)))
        phr = ["Right-aligns `s` in a field `width` characters wide, padding with spaces on the left."]
    elif task == "zero_pad":
        kw["fn"] = r.choice(["zero_pad", "with_leading_zeros", "pad_number"])
        sig, body = "fn $fn(n: u32, width: usize) -> String", r.choice(['format!("{:0width$$}", n)', 'format!("{n:0>width$$}")'])
        checks = []
        for _ in range(3):
            n, w = r.randrange(0, 5000), r.randrange(1, 8)
            checks.append(_check(f"{kw['fn']}({n}, {w})", str(n).zfill(w)))
        phr = ["Formats `n` with leading zeros to at least `width` digits."]
    elif task == "labelled":
        kw["fn"] = r.choice(["describe", "introduce", "greeting"])
        tmpl = r.choice([("{name} is {age} years old", "{} is {} years old"), ("Hello, {name}! You are {age}.", "Hello, {}! You are {}.")])
        sig = "fn $fn(name: &str, age: u32) -> String"
        body = r.choice([f'format!("{tmpl[0]}")', f'format!("{tmpl[1]}", name, age)'])
        checks = []
        for _ in range(2):
            name, age = r.choice(["Ada", "Linus", "Grace", "Ferris", "Alan"]), r.randrange(1, 99)
            checks.append(_check(f"{kw['fn']}({_lit(name)}, {age})", tmpl[0].format(name=name, age=age)))
        phr = ["Builds a short sentence about a person from a name and an age."]
    else:
        kw["fn"] = r.choice(["table_row", "format_scores", "score_line"])
        sig, body = "fn $fn(names: &[&str], scores: &[u32]) -> String", r.choice(["""
            names
                .iter()
                .zip(scores)
                .map(|(name, score)| format!("{name}: {score}"))
                .collect::<Vec<_>>()
                .join(", ")""", """
            let mut parts = Vec::new();
            for (name, score) in names.iter().zip(scores.iter()) {
                parts.push(format!("{}: {}", name, score));
            }
            parts.join(", ")"""])
        names = r.sample(_WORDS, r.randrange(0, 4))
        scores = [r.randrange(0, 100) for _ in names]
        checks = [_check(f"{kw['fn']}({_slice(names)}, {_slice(scores)})", ", ".join(f"{n}: {s}" for n, s in zip(names, scores)))]
        phr = ["Joins names and scores into one line like \"ann: 3, bob: 5\"."]
    return _Prog([_fn(sig, body, kw, _doc(r, phr, kw))], checks, params=task)


# ---- the public entry point ----

# the other families register themselves on import: items (structs, enums, traits, std impls, files, macros),
# numbers and control flow, strings and bytes, collections and user-defined types, classic algorithms, the
# language's idioms (lifetimes, closures, iterator adaptors, slice patterns, Rc/RefCell...), everyday small tasks
from nanochat_cli.data import (  # noqa: F401
    synthetic_algorithms,
    synthetic_idioms,
    synthetic_items,
    synthetic_numeric,
    synthetic_tasks,
    synthetic_text,
    synthetic_types,
)

FAMILIES = tuple(sorted(_FAMILIES))
"""Names of the template families, which are also the snippets' `group` (the unit of the train/val split)."""


def program(family: str, rng: random.Random) -> tuple[str, str]:
    """One program of `family` drawn with `rng`: (text, the choices made)."""
    p = _FAMILIES[family](rng)
    return _assemble(rng, p), p.params


def synthetic_programs(n: int, seed: int) -> list[Snippet]:
    """`n` distinct programs (fewer only if the families run out of variety), cycling through the families
    in a seeded order so every family is represented; the same seed gives the same list."""
    rng = random.Random(seed)
    out: list[Snippet] = []
    seen: set[str] = set()
    misses = dict.fromkeys(FAMILIES, 0)
    while len(out) < n and misses:
        order = list(misses)
        rng.shuffle(order)
        for family in order:
            if len(out) == n:
                break
            text, params = program(family, rng)
            if text in seen:
                misses[family] += 1
                if misses[family] > 50:  # this family has no more new programs to give
                    del misses[family]
                continue
            seen.add(text)
            out.append(Snippet(source="synthetic", group=family, kind="bin", text=text, origin=f"{family}: {params}"))
    return out
