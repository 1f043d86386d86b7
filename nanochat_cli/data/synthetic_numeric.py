"""Synthetic programs about numbers and control flow: checked, saturating and wrapping arithmetic, number
conversions (`TryFrom`, digits as `u8` and `char`), bit fields, number theory (digital roots, perfect and
figurate numbers, bases, modular powers), f64 formulas from geometry, physics and statistics, integer
sequences and counting, small simulations, grid arithmetic and clock arithmetic.

The families complement the arithmetic ones of `synthetic_rust` (gcd, powers, digit sums, primes, ...) with
tasks those do not cover, so the model sees more of the language's numeric API and control flow. Importing
this module registers its families into `synthetic_rust`.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import textwrap
from collections.abc import Callable

from nanochat_cli.data.synthetic_rust import (
    _WORDS,
    _ch,
    _check,
    _close,
    _doc,
    _family,
    _fits,
    _fn,
    _lit,
    _Prog,
    _slice,
    _some,
    _sub,
    _vec,
    _wrap_check,
)


def _rustfmt_check(line: str) -> str:
    """An `assert_eq!`/`assert_ne!` laid out one argument per line when its arguments pass rustfmt's 60-column
    call width (the assembler only wraps lines over 100 columns)."""
    if "\n" in line or not line.startswith(("assert_eq!(", "assert_ne!(")) or len(line) - len("assert_eq!();") <= 60:
        return line
    return _wrap_check(line, width=0)


def _chain(recv: str, calls: list[str]) -> str:
    """A method chain broken one call per line, as rustfmt breaks chains over 60 columns (a receiver of at most
    four characters keeps the first call on its line)."""
    if len(recv) <= 4:
        recv, calls = recv + calls[0], calls[1:]
    return recv + "".join(f"\n    {c}" for c in calls)


def _numeric_family(name: str):
    """`_family`, with the generated assertions shaped as rustfmt would shape them."""
    def register(fn):
        @functools.wraps(fn)
        def shaped(r: random.Random) -> _Prog:
            p = fn(r)
            p.checks = [_rustfmt_check(c) for c in p.checks]
            return p
        _family(name)(shaped)
        return fn
    return register


def _seq_arg(r: random.Random, T: str) -> tuple[str, Callable[[list], str]]:
    """A parameter type for a list of `T` and how a call passes a Python list to it."""
    kind = r.choice(["slice", "vec", "vec_ref"])
    if kind == "slice":
        return f"&[{T}]", _slice
    if kind == "vec":
        return f"Vec<{T}>", lambda xs: _lit(xs) if xs else f"Vec::<{T}>::new()"
    return f"&Vec<{T}>", lambda xs: "&" + (_lit(xs) if xs else f"Vec::<{T}>::new()")


def _close_all(call: str, expected: float, name: str = "got") -> list[str]:
    """`_close`, binding a long call to a `let` first so the assertion stays within 100 columns."""
    if len(call) <= 60:
        return [_close(call, expected)]
    return [f"let {name} = {call};", _close(name, expected)]


# ---- checked, saturating and wrapping arithmetic ----

@_numeric_family("checked_power")
def _checked_power(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "i32", "i64"])
    kw = {"fn": r.choice(["checked_power", "try_pow", "pow_or_none", "safe_pow", "power_checked"]), "T": T,
          "x": r.choice(["base", "x", "n"]), "e": r.choice(["exp", "power", "k"])}
    style = r.choice(["match", "question", "std", "fold"])
    body = {"match": """
        let mut result: $T = 1;
        for _ in 0..$e {
            match result.checked_mul($x) {
                Some(v) => result = v,
                None => return None,
            }
        }
        Some(result)""", "question": """
        let mut result: $T = 1;
        for _ in 0..$e {
            result = result.checked_mul($x)?;
        }
        Some(result)""", "std": "$x.checked_pow($e)",
            "fold": "(0..$e).try_fold(1, |acc: $T, _| acc.checked_mul($x))"}[style]
    fits, over = [], []
    while len(fits) < 3 or len(over) < 2:
        x = r.randrange(-15 if T[0] == "i" else 0, 40)
        e = r.randrange(0, 45)
        (fits if _fits(x ** e, T) else over).append((x, e))
    cases = fits[:3] + over[:2]
    r.shuffle(cases)
    checks = [_check(f"{kw['fn']}({x}, {e})", _some(x ** e if _fits(x ** e, T) else None)) for x, e in cases]
    doc = _doc(r, ["Raises `$x` to the power `$e`, or returns `None` if the result overflows `$T`.",
                   "Computes `$x` to the `$e`-th power without panicking on overflow.",
                   "Integer power that reports overflow as `None` instead of wrapping."], kw, checks)
    return _Prog([_fn("fn $fn($x: $T, $e: u32) -> Option<$T>", body, kw, doc)], checks, params=f"{style} {T}")


@_numeric_family("saturating_level")
def _saturating_level(r: random.Random) -> _Prog:
    T, S = r.choice([("u8", "i8"), ("u16", "i16"), ("u32", "i32")])
    kw = {"fn": r.choice(["apply_changes", "final_level", "settle_level", "run_deltas", "level_after"]),
          "T": T, "S": S, "start": r.choice(["start", "level", "initial"]),
          "ds": r.choice(["deltas", "changes", "steps", "moves"]), "acc": r.choice(["level", "current", "value"])}
    if kw["acc"] == kw["start"]:
        kw["acc"] = "cur"
    style = r.choice(["branch", "fold", "for"])
    body = {"branch": """
        let mut $acc = $start;
        for &d in $ds {
            $acc = if d < 0 {
                $acc.saturating_sub(d.unsigned_abs())
            } else {
                $acc.saturating_add(d.unsigned_abs())
            };
        }
        $acc""", "fold": """
        let step = |acc: $T, d: &$S| acc.saturating_add_signed(*d);
        $ds.iter().fold($start, step)""", "for": """
        let mut $acc = $start;
        for d in $ds.iter() {
            $acc = $acc.saturating_add_signed(*d);
        }
        $acc"""}[style]
    top = 2 ** int(T[1:]) - 1
    half = 2 ** (int(S[1:]) - 1)
    checks = []
    for _ in range(4):
        start = r.choice([r.randrange(0, top + 1), r.randrange(0, 20), top - r.randrange(0, 20)])
        ds = [r.randrange(-half, half) if r.random() < 0.5 else r.randrange(-30, 30) for _ in range(r.randint(0, 5))]
        while len(_slice(ds)) + len(str(start)) > 50:  # keep the call within rustfmt's 60-column width
            ds.pop()
        v = start
        for d in ds:
            v = min(top, max(0, v + d))
        checks.append(_check(f"{kw['fn']}({start}, {_slice(ds) if ds else '&[]'})", v))
    doc = _doc(r, ["Applies each signed change to `$start`, staying within the range of `$T`.",
                   ("Adds the `$ds` one by one to `$start`; results clamp at 0 and at `$T::MAX` instead of\n"
                   "overflowing."),
                   "Runs a meter through a list of changes with saturating arithmetic."], kw, checks)
    return _Prog([_fn("fn $fn($start: $T, $ds: &[$S]) -> $T", body, kw, doc)], checks, params=f"{style} {T}")


@_numeric_family("wrapping_hash")
def _wrapping_hash(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64"])
    bits = int(T[1:])
    algo = r.choice(["djb2", "fnv1a", "poly31"])
    kw = {"T": T, "s": r.choice(["s", "text", "key", "input"]),
          "fn": r.choice({"djb2": ["djb2", "djb2_hash", "hash_str"], "fnv1a": ["fnv1a", "fnv_hash", "hash_bytes"],
                          "poly31": ["poly_hash", "string_hash", "rolling_hash"]}[algo]),
          "h": r.choice(["h", "hash", "acc"])}
    start, step = {"djb2": (5381, "$h.wrapping_mul(33).wrapping_add($b)"),
                   "fnv1a": ("OFFSET", "($h ^ $b).wrapping_mul(PRIME)"),
                   "poly31": (0, "$h.wrapping_mul(31).wrapping_add($b)")}[algo]
    kw["start"] = str(start)
    consts = ""
    if algo == "fnv1a":
        consts = (f"const OFFSET: {T} = {({32: 2166136261, 64: 14695981039346656037}[bits])};\n"
                  f"const PRIME: {T} = {({32: 16777619, 64: 1099511628211}[bits])};\n")
    style = r.choice(["loop", "fold"])
    if style == "loop":
        kw["b"] = r.choice(["b as $T", "$T::from(b)"]).replace("$T", T)
        kw["step"] = _sub(step, kw)
        body = """
            let mut $h: $T = $start;
            for b in $s.bytes() {
                $h = $step;
            }
            $h"""
    else:
        kw["b"] = f"{T}::from(b)"
        kw["step"] = _sub(step, kw)
        kw["mix"] = r.choice(["mix", "mix_byte", "combine"])
        body = "$s.bytes().fold($start, $mix)"
    items = [consts] if consts else []
    if style == "fold":
        items.append(_fn("fn $mix($h: $T, b: u8) -> $T", "$step", kw,
                         _doc(r, ["Folds one byte into the running hash.", "One step of the hash."], kw)))

    def ref(text: str) -> int:
        h, mask = {32: 2166136261, 64: 14695981039346656037}[bits] if algo == "fnv1a" else start, 2 ** bits - 1
        for b in text.encode():
            if algo == "djb2":
                h = (h * 33 + b) & mask
            elif algo == "poly31":
                h = (h * 31 + b) & mask
            else:
                h = (h ^ b) * {32: 16777619, 64: 1099511628211}[bits] & mask
        return h

    words = r.sample(_WORDS, 3) + [r.choice(_WORDS) + " " + r.choice(_WORDS), ""]
    checks = [_check(f"{kw['fn']}({_lit(w)})", ref(w)) for w in words]
    if r.random() < 0.5:
        a, b = r.sample(_WORDS, 2)
        checks.append(f"assert_ne!({kw['fn']}({_lit(a)}), {kw['fn']}({_lit(b)}));")
    doc = _doc(r, [f"Hashes the bytes of `$s` with the {algo} scheme; arithmetic wraps around on overflow.",
                   "A simple non-cryptographic string hash using wrapping multiplication.",
                   "Mixes every byte of `$s` into a `$T`.\n\nOverflow is expected, so it uses `wrapping_*`."],
               kw, checks)
    items.append(_fn("fn $fn($s: &str) -> $T", body, kw, doc))
    return _Prog(items, checks, params=f"{algo} {style} {T}")


@_numeric_family("narrow_convert")
def _narrow_convert(r: random.Random) -> _Prog:
    src, dst = r.choice([("i32", "u8"), ("i64", "i32"), ("u64", "u16"), ("i32", "u16"), ("i64", "u32"),
                         ("i32", "i8"), ("u32", "u8"), ("i64", "i16")])
    ret = r.choice(["option", "result"])
    kw = {"src": src, "dst": dst, "x": r.choice(["x", "value", "n", "wide"]),
          "fn": r.choice([f"to_{dst}", f"narrow_to_{dst}", f"fit_{dst}", f"as_{dst}_checked", f"shrink_{dst}"])}
    style = r.choice(["try_from", "match", "range"] if ret == "result" else ["try_from", "range"])
    if ret == "option":
        kw["R"] = f"Option<{dst}>"
        body = {"try_from": "$dst::try_from($x).ok()", "match": """
            match $dst::try_from($x) {
                Ok(v) => Some(v),
                Err(_) => None,
            }""", "range": """
            if $cond {
                Some($x as $dst)
            } else {
                None
            }"""}[style]
    else:
        kw["R"] = f"Result<{dst}, String>"
        body = {"try_from": '$dst::try_from($x).map_err(|_| format!("{} does not fit in $dst", $x))', "match": """
            match $dst::try_from($x) {
                Ok(v) => Ok(v),
                Err(e) => Err(e.to_string()),
            }""", "range": """
            if ($dst::MIN as $src..=$dst::MAX as $src).contains(&$x) {
                Ok($x as $dst)
            } else {
                Err(format!("{} is out of range", $x))
            }"""}[style]
    kw["cond"] = _sub("$x >= $dst::MIN as $src && $x <= $dst::MAX as $src" if src[0] == "i"
                      else "$x <= $dst::MAX as $src", kw)
    lo = -2 ** (int(src[1:]) - 1) if src[0] == "i" else 0
    dlo, dhi = (-2 ** (int(dst[1:]) - 1), 2 ** (int(dst[1:]) - 1) - 1) if dst[0] == "i" else (0, 2 ** int(dst[1:]) - 1)
    xs = [r.randrange(dlo, dhi + 1), dhi, dhi + r.randrange(1, 1000), r.randrange(max(lo, dlo - 5000), dlo)
          if lo < dlo else dlo, r.randrange(0, 100)]
    checks = []
    for x in xs:
        ok = dlo <= x <= dhi
        if ret == "option":
            checks.append(_check(f"{kw['fn']}({x})", _some(x if ok else None)))
        else:
            checks.append(f"assert_eq!({kw['fn']}({x}), Ok({x}));" if ok else f"assert!({kw['fn']}({x}).is_err());")
    doc = _doc(r, ["Converts `$x` to `$dst` when it fits, without silently truncating.",
                   "Narrows a `$src` to a `$dst`.\n\nValues outside the range of `$dst` are rejected.",
                   "Returns `$x` as a `$dst`, or an error value when the number is too large or too small."],
               kw, checks)
    return _Prog([_fn("fn $fn($x: $src) -> $R", body, kw, doc)], checks, params=f"{ret} {style} {src}->{dst}")


# ---- number theory ----

@_numeric_family("digital_root")
def _digital_root(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize"])
    op = r.choice(["root", "root", "persistence"])
    kw = {"T": T, "n": r.choice(["n", "num", "value"])}
    if op == "root":
        kw["fn"] = r.choice(["digital_root", "repeated_digit_sum", "single_digit", "reduce_digits"])
        style = r.choice(["loop", "formula", "rec"])
        sig = "fn $fn(mut $n: $T) -> $T" if style == "loop" else "fn $fn($n: $T) -> $T"
        body = {"loop": """
            while $n >= 10 {
                let mut sum = 0;
                while $n > 0 {
                    sum += $n % 10;
                    $n /= 10;
                }
                $n = sum;
            }
            $n""", "formula": """
            if $n == 0 {
                0
            } else {
                1 + ($n - 1) % 9
            }""", "rec": """
            if $n < 10 {
                $n
            } else {
                let digits = $n.to_string();
                $fn(digits.bytes().map(|b| (b - b'0') as $T).sum())
            }"""}[style]
    else:
        kw["fn"] = r.choice(["additive_persistence", "digit_sum_steps", "persistence"])
        kw["R"] = r.choice(["u32", "usize"])
        style = r.choice(["loop", "rec"])
        sig = "fn $fn(mut $n: $T) -> $R" if style == "loop" else "fn $fn($n: $T) -> $R"
        body = {"loop": """
            let mut steps = 0;
            while $n >= 10 {
                let digits = $n.to_string();
                $n = digits.bytes().map(|b| (b - b'0') as $T).sum();
                steps += 1;
            }
            steps""", "rec": """
            if $n < 10 {
                return 0;
            }
            let mut sum = 0;
            let mut rest = $n;
            while rest > 0 {
                sum += rest % 10;
                rest /= 10;
            }
            1 + $fn(sum)"""}[style]

    def steps(n: int) -> tuple[int, int]:
        k = 0
        while n >= 10:
            n, k = sum(map(int, str(n))), k + 1
        return n, k

    nums = [r.randrange(0, 10), r.randrange(10, 100), r.randrange(100, 10 ** 6), r.randrange(10 ** 6, 10 ** 9),
            r.choice([19, 199, 9999999999 % 10 ** 9, 888888888])]
    checks = [_check(f"{kw['fn']}({x})", steps(x)[0 if op == "root" else 1]) for x in nums]
    doc = _doc(r, {"root": ["Sums the digits of `$n` again and again until a single digit is left.",
                            "Returns the digital root of `$n`: its repeated digit sum.",
                            ("The digit you get by adding up the digits of `$n` until one remains.\n\n"
                            "The digital root of 0 is 0.")],
                   "persistence": ["Counts how many times the digits of `$n` must be summed to reach one digit.",
                                   "Returns the additive persistence of `$n`.",
                                   "The number of digit-sum steps that bring `$n` below 10."]}[op], kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{op} {style} {T}")


@_numeric_family("perfect_kind")
def _perfect_kind(r: random.Random) -> _Prog:
    E = r.choice(["NumberKind", "Abundance", "DivisorClass", "Kind", "Perfection"])
    names = r.choice([("Deficient", "Perfect", "Abundant"), ("Less", "Exact", "More"), ("Low", "Perfect", "High")])
    T = r.choice(["u32", "u64"])
    kw = {"E": E, "T": T, "n": r.choice(["n", "num", "value"]), "D": names[0], "P": names[1], "A": names[2],
          "fn": r.choice(["number_kind", "classify_by_divisors", "aliquot_kind", "divisor_class", "perfection_of"])}
    sum_style = r.choice(["loop", "iter"])
    pick = r.choice(["cmp", "if"])
    total = {"loop": """
        let mut sum = 0;
        for d in 1..=$n / 2 {
            if $n % d == 0 {
                sum += d;
            }
        }""", "iter": "let sum: $T = (1..=$n / 2).filter(|d| $n % d == 0).sum();"}[sum_style]
    decide = {"cmp": """
        match sum.cmp(&$n) {
            Ordering::Less => $E::$D,
            Ordering::Equal => $E::$P,
            Ordering::Greater => $E::$A,
        }""", "if": """
        if sum < $n {
            $E::$D
        } else if sum == $n {
            $E::$P
        } else {
            $E::$A
        }"""}[pick]
    enum = _sub("""
        #[derive(Debug, PartialEq)]
        enum $E {
            $D,
            $P,
            $A,
        }
        """, kw) + "\n"
    nums = r.sample([6, 28, 496], 2) + r.sample([12, 18, 20, 24, 30, 36, 40, 42, 48, 54, 56, 60], 2)
    nums += [r.choice([1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37])] + [r.randrange(2, 2000)]
    r.shuffle(nums)

    def kind(n: int) -> str:
        s = sum(d for d in range(1, n // 2 + 1) if n % d == 0)
        return names[0] if s < n else names[1] if s == n else names[2]

    checks = [f"assert_eq!({kw['fn']}({x}), {E}::{kind(x)});" for x in nums]
    doc = _doc(r, ["Compares `$n` with the sum of its proper divisors.",
                   ("Says whether `$n` is deficient, perfect or abundant.\n\n"
                   "A number is perfect when its proper divisors add up to exactly itself."),
                   "Classifies `$n` by the sum of the divisors smaller than it."], kw)
    fn = _fn("fn $fn($n: $T) -> $E", textwrap.dedent(total).strip("\n") + "\n" + textwrap.dedent(decide).strip("\n"), kw, doc)
    uses = ["std::cmp::Ordering"] if pick == "cmp" else []
    return _Prog([enum, fn], checks, uses=uses, params=f"{sum_style} {pick} {T}")


@_numeric_family("figurate")
def _figurate(r: random.Random) -> _Prog:
    shape = r.choice(["triangular", "square", "pentagonal", "hexagonal"])
    T = r.choice(["u32", "u64", "usize"])
    kw = {"T": T, "n": r.choice(["n", "k", "index"]), "x": r.choice(["x", "value", "num"]),
          "fn": r.choice([f"{shape}_number", f"nth_{shape}", shape[:3] + "_num"])}
    style = r.choice(["formula", "loop", "sum"])
    formula = {"triangular": "$n * ($n + 1) / 2", "square": "$n * $n", "pentagonal": "(3 * $n * $n - $n) / 2",
               "hexagonal": "2 * $n * $n - $n"}[shape]
    term = {"triangular": "i", "square": "2 * i - 1", "pentagonal": "3 * i - 2", "hexagonal": "4 * i - 3"}[shape]
    kw["term"] = term
    body = {"formula": formula, "loop": """
        let mut total = 0;
        for i in 1..=$n {
            total += $term;
        }
        total""", "sum": "(1..=$n).map(|i| $term).sum()"}[style]
    if style == "sum" and term == "i":
        body = "(1..=$n).sum()"
    value = {"triangular": lambda n: n * (n + 1) // 2, "square": lambda n: n * n,
             "pentagonal": lambda n: n * (3 * n - 1) // 2, "hexagonal": lambda n: n * (2 * n - 1)}[shape]
    ns = [0, 1] + r.sample(range(2, 300), 3)
    checks = [_check(f"{kw['fn']}({n})", value(n)) for n in ns]
    doc = _doc(r, [f"Returns the `$n`-th {shape} number.",
                   f"Computes the {shape} number with index `$n` (the 0th is 0).",
                   f"How many dots make the `$n`-th {shape} figure."], kw, checks)
    items = [_fn("fn $fn($n: $T) -> $T", body, kw, doc)]
    if r.random() < 0.6:
        kw["is"] = r.choice([f"is_{shape}", f"is_{shape}_number"])
        is_body = r.choice(["""
            let mut k = 1;
            while $fn(k) < $x {
                k += 1;
            }
            $fn(k) == $x""", "(1..).map($fn).find(|&v| v >= $x) == Some($x)"])
        items.append(_fn("fn $is($x: $T) -> bool", is_body, kw,
                         _doc(r, [f"Checks whether `$x` is a positive {shape} number.",
                                  f"True when some {shape} number equals `$x` (0 does not count)."], kw)))
        found = {value(k) for k in range(1, 200)}
        xs = r.sample(sorted(v for v in found if v < 5000), 2) + [r.randrange(1, 5000) for _ in range(3)]
        checks += [_check(f"{kw['is']}({x})", x in found) for x in xs]
    return _Prog(items, checks, params=f"{shape} {style} {T}")


@_numeric_family("base_convert")
def _base_convert(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64"])
    op = r.choice(["to", "from", "both"])
    kw = {"T": T, "n": r.choice(["n", "value", "num"]), "b": r.choice(["base", "radix"]),
          "s": r.choice(["s", "digits", "text"]),
          "to": r.choice(["to_base", "format_in_base", "in_radix", "to_radix_string"]),
          "from": r.choice(["from_base", "parse_in_base", "parse_radix", "read_base"])}
    to_style = r.choice(["from_digit", "table"])
    to_body = {"from_digit": """
        if $n == 0 {
            return "0".to_string();
        }
        let mut digits = Vec::new();
        while $n > 0 {
            let d = ($n % $b) as u32;
            digits.push(char::from_digit(d, $b as u32).unwrap());
            $n /= $b;
        }
        digits.iter().rev().collect()""", "table": """
        const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut out = String::new();
        loop {
            out.push(DIGITS[($n % $b) as usize] as char);
            $n /= $b;
            if $n == 0 {
                break;
            }
        }
        out.chars().rev().collect()"""}[to_style]
    from_style = r.choice(["std", "manual"])
    if T == "u32":
        to_body = to_body.replace("($n % $b) as u32", "$n % $b").replace("$b as u32", "$b")
    from_body = {"std": "$T::from_str_radix($s, $b).ok()", "manual": """
        let mut value: $T = 0;
        for c in $s.chars() {
            let d = c.to_digit($b)?;
            value = value.checked_mul($b as $T)?.checked_add(d as $T)?;
        }
        Some(value)"""}[from_style]
    if T == "u32":
        from_body = from_body.replace("$b as $T", "$b").replace("d as $T", "d")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

    def fmt(n: int, base: int) -> str:
        out = ""
        while True:
            out = alphabet[n % base] + out
            n //= base
            if n == 0:
                return out

    items, checks = [], []
    cases = [(r.randrange(0, 10 ** r.randint(1, 9)), r.choice([2, 8, 16, 3, 5, 36, r.randrange(2, 37)]))
             for _ in range(4)] + [(0, r.choice([2, 16]))]
    r.shuffle(cases)
    if op in ("to", "both"):
        doc = _doc(r, ["Writes `$n` in base `$b` (2 to 36) with lowercase digits.",
                       "Formats a number in the given radix; zero is written as \"0\".",
                       "Converts `$n` to a string of digits in base `$b`."], kw)
        items.append(_fn("fn $to(mut $n: $T, $b: $T) -> String", to_body, kw, doc))
        checks += [_check(f"{kw['to']}({n}, {b})", fmt(n, b)) for n, b in cases[:4]]
    if op in ("from", "both"):
        doc = _doc(r, ["Parses `$s` as a number in base `$b`, or `None` if a digit is invalid.",
                       "Reads digits in radix `$b` into a `$T`.\n\nReturns `None` on a bad digit or overflow.",
                       "The value of the base-`$b` numeral `$s`."], kw)
        items.append(_fn("fn $from($s: &str, $b: u32) -> Option<$T>", from_body, kw, doc))
        good = [(fmt(n, b), b, n) for n, b in cases[:3]]
        checks += [_check(f"{kw['from']}({_lit(s)}, {b})", _some(n)) for s, b, n in good]
        bad = r.choice([("12z", 10), ("129", 8), ("102", 2), ("g1", 16)])
        checks.append(_check(f"{kw['from']}({_lit(bad[0])}, {bad[1]})", _some(None)))
        if op == "both":
            n, b = r.randrange(1, 10 ** 6), r.randrange(2, 37)
            checks.append(_check(f"{kw['from']}(&{kw['to']}({n}, {b}), {b})", _some(n)))
    return _Prog(items, checks, params=f"{op} {to_style} {from_style} {T}")


@_numeric_family("mod_pow")
def _mod_pow(r: random.Random) -> _Prog:
    style = r.choice(["u128", "rec", "loop"])
    kw = {"fn": r.choice(["mod_pow", "pow_mod", "modular_power", "power_mod", "modpow"]),
          "b": r.choice(["base", "b", "x"]), "e": r.choice(["exp", "e", "k"]), "m": r.choice(["m", "modulus", "md"])}
    if style == "u128":
        sig = "fn $fn(mut $b: u64, mut $e: u64, $m: u64) -> u64"
        body = """
            let mut result = 1 % $m;
            $b %= $m;
            while $e > 0 {
                if $e & 1 == 1 {
                    result = (result as u128 * $b as u128 % $m as u128) as u64;
                }
                $b = ($b as u128 * $b as u128 % $m as u128) as u64;
                $e >>= 1;
            }
            result"""
        mmax = 2 ** 62
    elif style == "rec":
        sig = "fn $fn($b: u64, $e: u64, $m: u64) -> u64"
        body = """
            if $e == 0 {
                return 1 % $m;
            }
            let half = $fn($b, $e / 2, $m);
            let square = half * half % $m;
            if $e % 2 == 0 {
                square
            } else {
                square * ($b % $m) % $m
            }"""
        mmax = 2 ** 31
    else:
        sig = "fn $fn($b: u32, $e: u32, $m: u32) -> u32"
        body = """
            let mut result = 1 % $m;
            for _ in 0..$e {
                result = result * ($b % $m) % $m;
            }
            result"""
        mmax = 2 ** 16
    cases = []
    for _ in range(4):
        m = r.choice([r.randrange(2, 100), r.randrange(2, mmax), 1_000_000_007 if mmax > 10 ** 9 else 65521])
        e = r.randrange(0, 10 ** 12 if style != "loop" else 500)
        cases.append((r.randrange(0, 2 ** 31 if style != "loop" else 2 ** 16), e, m))
    cases.append((r.randrange(2, 9), r.randrange(0, 5), 1))
    checks = [_check(f"{kw['fn']}({b}, {e}, {m})", pow(b, e, m)) for b, e, m in cases]
    doc = _doc(r, ["Computes `$b` raised to `$e`, modulo `$m`, without overflowing.",
                   "Modular exponentiation: `($b ^ $e) % $m`.\n\n`$m` must be at least 1.",
                   "Returns the remainder of `$b` to the power `$e` divided by `$m`."], kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=style)


@_numeric_family("bit_field")
def _bit_field(r: random.Random) -> _Prog:
    T = r.choice(["u8", "u16", "u32", "u64"])
    width = int(T[1:])
    kw = {"T": T, "x": r.choice(["flags", "x", "bits", "value"]), "i": r.choice(["i", "bit", "pos", "index"])}
    ops = r.sample(["set", "clear", "toggle", "test"], r.randint(2, 4))
    style = r.choice(["inline", "mask"])
    names = {"set": ["set_bit", "with_bit", "turn_on"], "clear": ["clear_bit", "without_bit", "turn_off"],
             "toggle": ["toggle_bit", "flip_bit", "invert_bit"], "test": ["is_bit_set", "has_bit", "bit_is_on"]}
    exprs = {"set": "$x | $M", "clear": "$x & !$M", "toggle": "$x ^ $M", "test": "$x & $M != 0"}
    docs = {"set": ["Returns `$x` with bit `$i` switched on.", "Sets bit number `$i` (0 is the lowest)."],
            "clear": ["Returns `$x` with bit `$i` switched off.", "Clears bit number `$i`, keeping the others."],
            "toggle": ["Flips bit `$i` of `$x`.", "Inverts one bit: 0 becomes 1 and 1 becomes 0."],
            "test": ["Checks whether bit `$i` of `$x` is 1.", "True when bit number `$i` is set."]}
    items, checks = [], []
    for op in ops:
        kw["fn"] = r.choice(names[op])
        ret = "bool" if op == "test" else T
        if style == "inline":
            kw["M"] = "(1 << $i)"
            body = _sub(exprs[op], kw)
            if op == "test" and r.random() < 0.5:
                body = "($x >> $i) & 1 == 1"
        else:
            kw["M"] = "mask"
            body = f"let mask: {T} = 1 << $i;\n" + _sub(exprs[op], kw)
        items.append(_fn(f"fn $fn($x: $T, $i: u32) -> {ret}", body, kw, _doc(r, docs[op], kw)))
        for _ in range(2 if op != "test" else 3):
            x, i = r.randrange(0, 2 ** width), r.randrange(0, width)
            v = {"set": x | 1 << i, "clear": x & ~(1 << i), "toggle": x ^ 1 << i, "test": bool(x >> i & 1)}[op]
            if op == "test":
                checks.append(_check(f"{kw['fn']}({x}, {i})", v))
            else:
                lits = [str(x), f"0x{x:x}"] + ([f"0b{x:b}"] if width <= 16 else [])
                checks.append(_check(f"{kw['fn']}({r.choice(lits)}, {i})", v))
    return _Prog(items, checks, params=f"{style} {T} {'+'.join(ops)}")


@_numeric_family("digits_vec")
def _digits_vec(r: random.Random) -> _Prog:
    T = r.choice(["u32", "u64", "usize"])
    kw = {"T": T, "n": r.choice(["n", "num", "value"]), "ds": r.choice(["digits", "ds", "parts"]),
          "to": r.choice(["to_digits", "digits_of", "split_digits", "digit_vec"]),
          "from": r.choice(["from_digits", "join_digits", "digits_to_number", "assemble"]),
          "text": r.choice(["digits_to_string", "render_digits", "digit_string"])}
    to_style = r.choice(["string", "loop", "stack"])
    to_body = {"string": r.choice(["$n.to_string().bytes().map(|b| b - b'0').collect()", _chain(
                   kw["n"], [".to_string()", ".chars()", ".map(|c| c.to_digit(10).unwrap() as u8)", ".collect()"])]),
               "loop": """
                   let mut $ds = Vec::new();
                   loop {
                       $ds.push(($n % 10) as u8);
                       $n /= 10;
                       if $n == 0 {
                           break;
                       }
                   }
                   $ds.reverse();
                   $ds""", "stack": """
                   let mut stack = Vec::new();
                   let mut rest = $n;
                   while rest > 0 {
                       stack.push((rest % 10) as u8);
                       rest /= 10;
                   }
                   let mut $ds = Vec::new();
                   while let Some(d) = stack.pop() {
                       $ds.push(d);
                   }
                   if $ds.is_empty() {
                       $ds.push(0);
                   }
                   $ds"""}[to_style]
    sig = "fn $to(mut $n: $T) -> Vec<u8>" if to_style == "loop" else "fn $to($n: $T) -> Vec<u8>"
    items = [_fn(sig, to_body, kw, _doc(r, ["Splits `$n` into its decimal digits, most significant first.",
                                           "Returns the digits of `$n` as numbers from 0 to 9.",
                                           "The base-10 digits of `$n`; zero gives `[0]`."], kw))]
    nums = [0, r.randrange(1, 10), r.randrange(10, 10 ** 4), r.randrange(10 ** 4, 10 ** 9)]
    checks = [_check(f"{kw['to']}({x})", [int(c) for c in str(x)]) for x in nums]
    extra = r.choice(["from", "text", "both"])
    if extra in ("from", "both"):
        body = r.choice(["$ds.iter().fold(0, |acc, &d| acc * 10 + $T::from(d))", """
            let mut value = 0;
            for &d in $ds {
                value = value * 10 + d as $T;
            }
            value"""])
        items.append(_fn("fn $from($ds: &[u8]) -> $T", body, kw,
                         _doc(r, ["Builds a number from decimal digits, most significant first.",
                                  "The inverse of splitting a number into digits."], kw)))
        n = r.randrange(0, 10 ** 9)
        checks += [_check(f"{kw['from']}({_slice([int(c) for c in str(n)])})", n),
                   _check(f"{kw['from']}(&{kw['to']}({nums[3]}))", nums[3])]
    if extra in ("text", "both"):
        body = r.choice(["$ds.iter().map(|&d| (b'0' + d) as char).collect()", _chain(
            kw["ds"], [".iter()", ".map(|&d| char::from_digit(u32::from(d), 10).unwrap())", ".collect()"])])
        items.append(_fn("fn $text($ds: &[u8]) -> String", body, kw,
                         _doc(r, ["Turns digits 0 to 9 into the characters '0' to '9'.",
                                  "Writes a list of decimal digits as text."], kw)))
        ds = [r.randrange(0, 10) for _ in range(r.randint(1, 7))]
        checks.append(_check(f"{kw['text']}({_slice(ds)})", "".join(map(str, ds))))
    return _Prog(items, checks, params=f"{to_style} {extra} {T}")


# ---- f64 formulas and statistics ----

def _dec(r: random.Random, lo: int, hi: int) -> float:
    """A positive test input with one decimal, as people type them."""
    return r.randrange(lo * 10, hi * 10) / 10 or 0.5


@_numeric_family("geometry_f64")
def _geometry_f64(r: random.Random) -> _Prog:
    shapes = {  # function names, body (None: written below), value from the arguments, doc
        "circle_area": (["circle_area", "area_of_circle", "disk_area"], "PI * $p0 * $p0",
                        lambda a: math.pi * a[0] * a[0], "The area of a circle with radius `$p0`."),
        "circumference": (["circumference", "circle_perimeter", "perimeter_of_circle"], "2.0 * PI * $p0",
                          lambda a: 2.0 * math.pi * a[0], "The distance around a circle of radius `$p0`."),
        "sphere_volume": (["sphere_volume", "volume_of_sphere", "ball_volume"], "4.0 / 3.0 * PI * $p0.powi(3)",
                          lambda a: 4.0 / 3.0 * math.pi * a[0] ** 3, "The volume of a sphere with radius `$p0`."),
        "cylinder": (["cylinder_volume", "volume_of_cylinder", "can_volume"], "PI * $p0 * $p0 * $p1",
                     lambda a: math.pi * a[0] * a[0] * a[1],
                     "The volume of a cylinder with radius `$p0` and height `$p1`."),
        "heron": (["triangle_area_from_sides", "heron_area", "area_from_sides"], None, None,
                  "The area of a triangle with sides `$p0`, `$p1` and `$p2` (Heron's formula)."),
        "distance": (["distance", "euclid_distance", "point_distance"], None,
                     lambda a: math.hypot(a[2] - a[0], a[3] - a[1]), "The straight-line distance between two points."),
    }
    which = r.sample(list(shapes), r.randint(1, 2))
    items, checks, uses = [], [], set()
    for key in which:
        names, expr, value, doc_text = shapes[key]
        fn = r.choice(names)
        if key == "heron":
            ps = r.choice([["a", "b", "c"], ["x", "y", "z"], ["side_a", "side_b", "side_c"]])
            body = _sub("""
                let s = ($p0 + $p1 + $p2) / 2.0;
                (s * (s - $p0) * (s - $p1) * (s - $p2)).sqrt()""", {f"p{i}": p for i, p in enumerate(ps)})
            args = []
            while len(args) < 3:
                t = sorted(_dec(r, 1, 20) for _ in range(3))
                if t[0] + t[1] > t[2] + 0.5:
                    args.append(t)

            def value(a):
                s = (a[0] + a[1] + a[2]) / 2.0
                return math.sqrt(s * (s - a[0]) * (s - a[1]) * (s - a[2]))
        elif key == "distance":
            ps = r.choice([["x1", "y1", "x2", "y2"], ["ax", "ay", "bx", "by"]])
            body = _sub(r.choice(["(($p2 - $p0).powi(2) + ($p3 - $p1).powi(2)).sqrt()", "($p2 - $p0).hypot($p3 - $p1)",
                                  "let dx = $p2 - $p0;\nlet dy = $p3 - $p1;\n(dx * dx + dy * dy).sqrt()"]),
                        {f"p{i}": p for i, p in enumerate(ps)})
            args = [[_dec(r, -20, 20) for _ in range(4)] for _ in range(3)]
        else:
            ps = [r.choice(["radius", "r"])] + (["height"] if key == "cylinder" else [])
            kw = {f"p{i}": p for i, p in enumerate(ps)}
            body = _sub(expr, kw)
            if r.random() < 0.5:
                body = body.replace("PI", "std::f64::consts::PI")
            else:
                uses.add("std::f64::consts::PI")
            args = [[_dec(r, 0, 20) for _ in ps] for _ in range(3)]
        sig = f"fn {fn}(" + ", ".join(f"{p}: f64" for p in ps) + ") -> f64"
        doc = _doc(r, [doc_text, doc_text.split(" with")[0].split(" between")[0] + ".",
                       f"Computes the {key.replace('_', ' ')} from {', '.join(f'`{p}`' for p in ps)}."],
                   {f"p{i}": p for i, p in enumerate(ps)})
        items.append(_fn(sig, body, {}, doc))
        for a in args:
            if "distance" == key and r.random() < 0.3:
                a = [a[0], a[1], a[0] + 3.0, a[1] + 4.0]
            checks.append(_close(f"{fn}({', '.join(_lit(x) for x in a)})", value(a)))
    return _Prog(items, checks, uses=sorted(uses), params="+".join(which))


@_numeric_family("physics_f64")
def _physics_f64(r: random.Random) -> _Prog:
    formulas = {
        "displacement": (["displacement", "distance_travelled", "position_after"], ["u", "a", "t"],
                         ["$p0 * $p2 + 0.5 * $p1 * $p2 * $p2", "let s = $p0 * $p2;\ns + $p1 * $p2.powi(2) / 2.0"],
                         lambda u, a, t: u * t + 0.5 * a * t * t,
                         "Distance covered in time `$p2` from speed `$p0` under constant acceleration `$p1`."),
        "kinetic": (["kinetic_energy", "energy_of_motion", "motion_energy"], ["mass", "speed"],
                    ["0.5 * $p0 * $p1 * $p1", "$p0 * $p1.powi(2) / 2.0"], lambda m, v: 0.5 * m * v * v,
                    "The kinetic energy of a body of mass `$p0` moving at `$p1`."),
        "fall_time": (["fall_time", "time_to_fall", "drop_time"], ["height", "gravity"],
                      ["(2.0 * $p0 / $p1).sqrt()", "let t_squared = 2.0 * $p0 / $p1;\nt_squared.sqrt()"],
                      lambda h, g: math.sqrt(2.0 * h / g), "Seconds for an object to fall `$p0` metres from rest."),
        "avg_speed": (["average_speed", "mean_speed", "speed_over"], ["distance", "seconds"],
                      ["$p0 / $p1", "if $p1 == 0.0 {\n    0.0\n} else {\n    $p0 / $p1\n}"], lambda d, s: d / s,
                      "Distance per unit of time; zero time gives zero speed."),
        "momentum": (["momentum", "linear_momentum", "impulse_of"], ["mass", "velocity"],
                     ["$p0 * $p1", "$p1 * $p0"], lambda m, v: m * v, "Mass times velocity."),
        "ohm": (["current", "amps", "ohms_law_current"], ["volts", "ohms"],
                ["$p0 / $p1", "$p1.recip() * $p0"], lambda v, o: v / o,
                "The current through a resistor of `$p1` ohms at `$p0` volts."),
    }
    key = r.choice(list(formulas))
    names, params, bodies, value, doc_text = formulas[key]
    fn = r.choice(names)
    kw = {f"p{i}": p for i, p in enumerate(params)}
    body = r.choice(bodies)
    sig = f"fn {fn}(" + ", ".join(f"{p}: f64" for p in params) + ") -> f64"
    doc = _doc(r, [doc_text, f"Computes {key.replace('_', ' ')} from {', '.join(f'`{p}`' for p in params)}.",
                   doc_text.split(";")[0].rstrip(".") + ".\n\nAll quantities are in SI units."], kw)
    checks = []
    for _ in range(4):
        args = [_dec(r, 1, 50) for _ in params]
        if key == "fall_time":
            args[1] = r.choice([9.81, 9.8, 1.62, 3.71])
        checks.append(_close(f"{fn}({', '.join(_lit(a) for a in args)})", value(*args)))
    if key == "avg_speed" and "if" in body:
        checks.append(_close(f"{fn}({_lit(_dec(r, 1, 50))}, 0.0)", 0.0))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=key)


@_numeric_family("median")
def _median(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "f64"])
    arg, show = _seq_arg(r, T)
    kw = {"fn": r.choice(["median_value", "median_of", "middle_value", "find_median"]), "xs": r.choice(["xs", "values", "nums", "data"]),
          "T": T, "A": arg}
    sort = "sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());" if T == "f64" else r.choice(["sorted.sort();", "sorted.sort_unstable();"])
    if T == "f64" and r.random() < 0.5:
        sort = "sorted.sort_by(f64::total_cmp);"
    conv = "" if T == "f64" else (" as f64" if T == "i64" or r.random() < 0.5 else "f64::from")
    kw["sort"] = sort

    def f(e: str) -> str:
        return f"f64::from({e})" if conv == "f64::from" else f"{e}{conv}"

    kw["mid1"], kw["lo"], kw["hi"] = f("sorted[mid]"), f("sorted[mid - 1]"), f("sorted[mid]")
    style = r.choice(["if", "match"])
    tail = {"if": """
        if n % 2 == 1 {
            Some($mid1)
        } else {
            Some(($lo + $hi) / 2.0)
        }""", "match": """
        match n % 2 {
            0 => Some(($lo + $hi) / 2.0),
            _ => Some($mid1),
        }"""}[style]
    copy = "let mut sorted = $xs.to_vec();" if not arg.startswith("Vec") else "let mut sorted = $xs;"
    head = f"""
        if $xs.is_empty() {{
            return None;
        }}
        {copy}
        $sort
        let n = sorted.len();
        let mid = n / 2;"""
    sig = "fn $fn($xs: $A) -> Option<f64>" if not arg.startswith("Vec") else "fn $fn(mut $xs: $A) -> Option<f64>"
    if arg.startswith("Vec"):
        head = head.replace("let mut sorted = $xs;", "$xs.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap());" if T == "f64" else "$xs.sort();")
        head = head.replace("        $sort\n", "").replace("let n = sorted.len()", "let sorted = $xs;\n        let n = sorted.len()")
        sig = "fn $fn(mut $xs: $A) -> Option<f64>"
    body = textwrap.dedent(head).strip("\n") + "\n" + textwrap.dedent(tail).strip("\n")
    if arg.startswith("Vec"):
        body = body.replace("let sorted = $xs;\n", "").replace("sorted", "$xs")
        for key in ("mid1", "lo", "hi"):
            kw[key] = kw[key].replace("sorted", kw["xs"])
    checks = []
    for k in [r.randint(1, 7) | 1, r.randint(1, 4) * 2, r.randint(2, 8)]:
        if T == "f64":
            xs = [r.randrange(-100, 100) / 4 for _ in range(k)]
        else:
            xs = [r.randrange(-50 if T[0] == "i" else 0, 100) for _ in range(k)]
        s = sorted(xs)
        med = float(s[k // 2]) if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2
        checks.append(_check(f"{kw['fn']}({show(xs)})", _some(float(med))))
    checks.append(_check(f"{kw['fn']}({show([])})", _some(None)))
    doc = _doc(r, ["Returns the median of `$xs`, or `None` when it is empty.",
                   "The middle value after sorting; for an even count, the mean of the two middle values.",
                   "Finds the median without changing the caller's data."
                   if not arg.startswith("Vec") else "Sorts `$xs` and returns its median."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} {T} {arg}")


@_numeric_family("variance")
def _variance(r: random.Random) -> _Prog:
    T = r.choice(["f64", "i32", "u32"])
    arg, show = _seq_arg(r, T)
    sample = r.random() < 0.5
    root = r.random() < 0.5
    what = ("sample " if sample else "") + ("standard deviation" if root else "variance")
    kw = {"T": T, "A": arg, "xs": r.choice(["xs", "values", "data", "samples"]),
          "fn": r.choice(["std_dev", "stddev", "standard_deviation", "spread"] if root
                         else ["variance", "var_of", "population_variance", "spread_squared"]),
          "d": "n - 1.0" if sample else "n", "x": "x" if T == "f64" else "f64::from(x)",
          "min": 2 if sample else 1}
    if sample and not root:
        kw["fn"] = r.choice(["sample_variance", "unbiased_variance"])
    style = r.choice(["iter", "loop"])
    body = {"iter": """
        if $xs.len() < $min {
            return None;
        }
        let n = $xs.len() as f64;
        let mean = $xs.iter().map(|&x| $x).sum::<f64>() / n;
        let sq: f64 = $xs.iter().map(|&x| ($x - mean).powi(2)).sum();""", "loop": """
        if $xs.len() < $min {
            return None;
        }
        let n = $xs.len() as f64;
        let mut total = 0.0;
        for &x in $xs.iter() {
            total += $x;
        }
        let mean = total / n;
        let mut sq = 0.0;
        for &x in $xs.iter() {
            let d = $x - mean;
            sq += d * d;
        }"""}[style]
    if T == "f64":
        body = body.replace(".map(|&x| $x).sum::<f64>()", ".sum::<f64>()")
    body = textwrap.dedent(body).strip("\n") + "\n" + ("Some((sq / ($d)).sqrt())" if root else "Some(sq / ($d))")
    if not sample:
        body = body.replace("($d)", "$d").replace("$xs.len() < $min", "$xs.is_empty()")
    checks = []
    for k in [r.randint(2, 6), r.randint(3, 6), 1]:
        xs = [r.randrange(-40, 40) / 2 for _ in range(k)] if T == "f64" else \
             [r.randrange(-50 if T == "i32" else 0, 60) for _ in range(k)]
        if k < kw["min"]:
            checks.append(_check(f"{kw['fn']}({show(xs)})", _some(None)))
            continue
        n = float(k)
        mean = sum(float(x) for x in xs) / n
        sq = sum((float(x) - mean) ** 2 for x in xs)
        v = sq / (n - 1.0 if sample else n)
        checks += _close_all(f"{kw['fn']}({show(xs)}).unwrap()", math.sqrt(v) if root else v,
                             r.choice(["got", "result", "value"]))
    checks.append(_check(f"{kw['fn']}({show([])})", _some(None)))
    doc = _doc(r, [f"Returns the {what} of `$xs`, or `None` when there are too few values.",
                   f"Computes the {what}" + (" (dividing by n - 1)." if sample else " of the whole population."),
                   f"How widely `$xs` spread around their mean, as the {what}."], kw)
    return _Prog([_fn("fn $fn($xs: $A) -> Option<f64>", body, kw, doc)], checks, params=f"{style} {T} {what}")


@_numeric_family("percent")
def _percent(r: random.Random) -> _Prog:
    ops = r.sample(["of", "change", "discount", "share"], r.randint(1, 2))
    items, checks = [], []
    for op in ops:
        if op == "of":
            kw = {"fn": r.choice(["percent_of", "percentage", "as_percent"]), "a": r.choice(["part", "count", "hits"]),
                  "b": r.choice(["whole", "total", "out_of"])}
            T = r.choice(["u32", "f64"])
            kw["x"], kw["y"] = (("$a", "$b") if T == "f64" else ("f64::from($a)", "f64::from($b)"))
            body = r.choice(["$x / $y * 100.0", "let ratio = $x / $y;\nratio * 100.0", "100.0 * $x / $y"])
            body = body.replace("$x", kw["x"]).replace("$y", kw["y"])
            items.append(_fn(f"fn $fn($a: {T}, $b: {T}) -> f64", body, kw,
                             _doc(r, ["What percentage `$a` is of `$b`.", "Returns `$a` as a percentage of `$b`."], kw)))
            for _ in range(3):
                b = r.randrange(1, 500)
                a = r.randrange(0, b + 1)
                if T == "f64":
                    a, b = a / 2, b / 2
                    checks.append(_close(f"{kw['fn']}({_lit(a)}, {_lit(b)})", a / b * 100.0))
                else:
                    checks.append(_close(f"{kw['fn']}({a}, {b})", a / b * 100.0))
        elif op == "change":
            kw = {"fn": r.choice(["percent_change", "growth_percent", "relative_change"]),
                  "a": r.choice(["old", "before", "from"]), "b": r.choice(["new", "after", "to"])}
            kw["a"], kw["b"] = r.choice([("old", "new"), ("before", "after"), ("start", "end")])
            body = r.choice(["""
                if $a == 0.0 {
                    return None;
                }
                Some(($b - $a) / $a * 100.0)""", """
                if $a == 0.0 {
                    None
                } else {
                    Some(($b - $a) / $a * 100.0)
                }"""])
            items.append(_fn("fn $fn($a: f64, $b: f64) -> Option<f64>", body, kw,
                             _doc(r, ["The change from `$a` to `$b` in percent, or `None` if `$a` is zero.",
                                      "Percentage increase (positive) or decrease (negative) from `$a` to `$b`."],
                                  kw)))
            for _ in range(3):
                a, b = _dec(r, 1, 200), _dec(r, 0, 200)
                checks.append(_close(f"{kw['fn']}({_lit(a)}, {_lit(b)}).unwrap()", (b - a) / a * 100.0))
            checks.append(_check(f"{kw['fn']}(0.0, {_lit(_dec(r, 1, 9))})", None))
        elif op == "discount":
            kw = {"fn": r.choice(["apply_discount", "discounted_price", "sale_price"]),
                  "a": r.choice(["price", "amount", "cost"]), "b": r.choice(["percent", "pct", "off"])}
            body = r.choice(["$a * (1.0 - $b / 100.0)", "$a - $a * $b / 100.0",
                             "let cut = $a * $b / 100.0;\n$a - cut"])
            items.append(_fn("fn $fn($a: f64, $b: f64) -> f64", body, kw,
                             _doc(r, ["Reduces `$a` by `$b` percent.", "The price after taking `$b`% off `$a`."], kw)))
            for _ in range(3):
                a, b = _dec(r, 1, 300), float(r.randrange(0, 101))
                checks.append(_close(f"{kw['fn']}({_lit(a)}, {_lit(b)})", a * (1.0 - b / 100.0)))
        else:
            kw = {"fn": r.choice(["percent_shares", "shares_in_percent", "to_percentages"]),
                  "xs": r.choice(["counts", "votes", "parts"])}
            kw["chain"] = _chain(kw["xs"], [".iter()", ".map(|&x| f64::from(x) * 100.0 / f64::from(total))",
                                            ".collect()"])
            body = r.choice(["""
                let total: u32 = $xs.iter().sum();
                $chain""", """
                let total = $xs.iter().sum::<u32>() as f64;
                let mut out = Vec::with_capacity($xs.len());
                for x in $xs {
                    out.push(*x as f64 * 100.0 / total);
                }
                out"""])
            items.append(_fn("fn $fn($xs: &[u32]) -> Vec<f64>", body, kw,
                             _doc(r, ["Each count as a percentage of the total of `$xs`.",
                                      ("Splits 100% among `$xs` in proportion to their size.\n\n"
                                      "The total must not be zero.")], kw)))
            xs = [r.randrange(1, 50) for _ in range(r.randint(2, 5))]
            checks.append(f"let shares = {kw['fn']}({_slice(xs)});")
            checks.append(_check("shares.len()", len(xs)))
            for i, x in enumerate(xs[:3]):
                checks.append(_close(f"shares[{i}]", x * 100.0 / sum(xs)))
    return _Prog(items, checks, params="+".join(ops))


# ---- integer sequences and counting ----

@_numeric_family("progression")
def _progression(r: random.Random) -> _Prog:
    kind = r.choice(["arith", "geom"])
    T = r.choice(["i64", "i32"] if kind == "arith" else ["i64", "u64"])
    kw = {"T": T, "a": r.choice(["first", "start", "a"]), "d": r.choice(["step", "diff", "d"] if kind == "arith"
                                                                          else ["ratio", "factor", "q"]),
          "n": r.choice(["n", "count", "len"]),
          "fn": r.choice(["arithmetic_terms", "arith_seq", "linear_sequence"] if kind == "arith"
                         else ["geometric_terms", "geom_seq", "powers_sequence"])}
    op = kind == "arith" and r.random() < 0.35
    kw["op"] = "+" if kind == "arith" else "*"
    style = r.choice(["loop", "map", "successors"] if kind == "arith" else ["loop", "successors"])
    body = {"loop": """
        let mut terms = Vec::with_capacity($n);
        let mut current = $a;
        for _ in 0..$n {
            terms.push(current);
            current $op= $d;
        }
        terms""", "map": "(0..$n).map(|i| $a + i as $T * $d).collect()",
            "successors": "std::iter::successors(Some($a), |&x| Some(x $op $d))\n    .take($n)\n    .collect()"}[style]
    if style == "loop" and r.random() < 0.5:
        body = """
            let mut terms = vec![$a];
            while terms.len() < $n {
                let last = terms[terms.len() - 1];
                terms.push(last $op $d);
            }
            terms.truncate($n);
            terms"""
    doc = _doc(r, ["The first `$n` terms of the " + ("arithmetic" if kind == "arith" else "geometric")
                   + " progression starting at `$a`.",
                   "Returns `$n` numbers: `$a`, then each one " + ("plus `$d`." if kind == "arith" else "times `$d`."),
                   "Lists a progression with " + ("common difference" if kind == "arith" else "common ratio")
                   + " `$d`."], kw)
    items = [_fn("fn $fn($a: $T, $d: $T, $n: usize) -> Vec<$T>", body, kw, doc)]
    checks = []
    for _ in range(3):
        if kind == "arith":
            a, d, n = r.randrange(-50, 50), r.randrange(-9, 10), r.randint(1, 8)
            terms = [a + i * d for i in range(n)]
        else:
            a, d, n = r.randrange(1 if T[0] == "u" else -9, 10), r.randrange(2, 6), r.randint(1, 8)
            terms = [a * d ** i for i in range(n)]
        checks.append(_check(f"{kw['fn']}({a}, {d}, {n})", terms))
    checks.append(f"assert_eq!({kw['fn']}({r.randrange(1, 9)}, 2, 0), {_vec([], T)});")
    if op:
        kw["sum"] = r.choice(["arithmetic_sum", "progression_sum", "sum_of_terms"])
        items.append(_fn("fn $sum($a: $T, $d: $T, $n: $T) -> $T", r.choice([
            "$n * (2 * $a + ($n - 1) * $d) / 2", "(0..$n).map(|i| $a + i * $d).sum()"]), kw,
            _doc(r, ["The sum of the first `$n` terms, from the closed formula.", "Adds up `$n` terms of the progression."],
                 kw)))
        for _ in range(3):
            a, d, n = r.randrange(-50, 50), r.randrange(-9, 10), r.randint(1, 30)
            checks.append(_check(f"{kw['sum']}({a}, {d}, {n})", sum(a + i * d for i in range(n))))
    return _Prog(items, checks, params=f"{kind} {style} {T}")


@_numeric_family("pascal_row")
def _pascal_row(r: random.Random) -> _Prog:
    T = r.choice(["u64", "u32", "usize"])
    kw = {"T": T, "n": r.choice(["n", "row", "depth"]),
          "fn": r.choice(["pascal_row", "binomial_row", "row_of_pascal", "pascal_line"])}
    style = r.choice(["in_place", "windows", "formula"])
    body = {"in_place": """
        let mut line: Vec<$T> = vec![1];
        for i in 1..=$n {
            line.push(1);
            for j in (1..i).rev() {
                line[j] += line[j - 1];
            }
        }
        line""", "windows": """
        let mut line: Vec<$T> = vec![1];
        for _ in 0..$n {
            let mut next = vec![1];
            next.extend(line.windows(2).map(|w| w[0] + w[1]));
            next.push(1);
            line = next;
        }
        line""", "formula": """
        let mut line = Vec::with_capacity($n + 1);
        let mut c: $T = 1;
        for k in 0..=$n {
            line.push(c);
            c = c * ($n - k) as $T / (k + 1) as $T;
        }
        line"""}[style]
    if T == "usize":
        body = body.replace(" as $T", "")
    ns = r.sample(range(13), 4)
    checks = [_check(f"{kw['fn']}({n})", [math.comb(n, k) for k in range(n + 1)]) for n in ns]
    if r.random() < 0.5:
        n = r.randrange(5, 30)
        checks.append(_check(f"{kw['fn']}({n}).iter().sum::<{T}>()", 2 ** n))
    doc = _doc(r, ["Returns row `$n` of Pascal's triangle (row 0 is `[1]`).",
                   "The binomial coefficients `C($n, k)` for `k` from 0 to `$n`.",
                   ("Builds the `$n`-th line of Pascal's triangle, where each entry is the sum of the two\n"
                   "above it.")], kw)
    return _Prog([_fn("fn $fn($n: usize) -> Vec<$T>", body, kw, doc)], checks, params=f"{style} {T}")


@_numeric_family("recurrence")
def _recurrence(r: random.Random) -> _Prog:
    seqs = {"tribonacci": ([0, 0, 1], [1, 1, 1]), "padovan": ([1, 1, 1], [0, 1, 1]), "pell": ([0, 1], [2, 1]),
            "jacobsthal": ([0, 1], [1, 2]), "lucas": ([2, 1], [1, 1]), "perrin": ([3, 0, 2], [0, 1, 1])}
    name = r.choice(list(seqs))
    init, coef = seqs[name]
    order = len(init)
    T = r.choice(["u64", "u128"] if name != "tribonacci" else ["u64"])
    kw = {"T": T, "n": r.choice(["n", "index", "k"]), "fn": r.choice([name, f"{name}_number", f"nth_{name}"])}

    def term(c: int, x: str) -> str:
        return x if c == 1 else f"{c} * {x}"

    def combine(prev: list[str]) -> str:
        """c1 * a(n-1) + c2 * a(n-2) [+ c3 * a(n-3)], leaving out zero coefficients."""
        return " + ".join(term(c, x) for c, x in zip(coef, prev) if c)

    style = r.choice(["shift", "table", "rec"])
    if style == "shift":
        vs = ["a", "b", "c"][:order]
        kw["init"] = "let (" + ", ".join(f"mut {v}" for v in vs) + ") = (" + ", ".join(map(str, init)) + ");"
        kw["next"] = combine(vs[::-1])
        kw["shift"] = "\n    ".join(f"{x} = {y};" for x, y in itertools.pairwise(vs))
        body = """
            $init
            for _ in 0..$n {
                let next = $next;
                $shift
                $last = next;
            }
            a"""
        kw["last"] = vs[-1]
        sig = "fn $fn($n: u32) -> $T"
    elif style == "table":
        kw["init"] = ", ".join(map(str, init))
        kw["next"] = combine([f"seq[i - {k}]" for k in range(1, order + 1)])
        kw["o"] = str(order)
        body = """
            let mut seq: Vec<$T> = vec![$init];
            for i in $o..=$n {
                seq.push($next);
            }
            seq[$n]"""
        sig = "fn $fn($n: usize) -> $T"
    else:
        if order == 3:  # three recursive calls must fit on one match arm
            kw["fn"] = name
        arms = "".join(f"        {i} => {v},\n" for i, v in enumerate(init))
        kw["next"] = combine([f"$fn($n - {k})" for k in range(1, order + 1)]).replace("$fn", kw["fn"]).replace(
            "$n", kw["n"])
        body = "match $n {\n" + arms.replace("        ", "    ") + "    _ => $next,\n}"
        sig = "fn $fn($n: u32) -> $T"
    vals = list(init)
    while len(vals) < 80:
        vals.append(sum(c * vals[-k] for k, c in enumerate(coef, 1)))
    top = 18 if style == "rec" else 40
    ns = sorted(r.sample(range(top), 5))
    checks = [_check(f"{kw['fn']}({n})", vals[n]) for n in ns]
    doc = _doc(r, [f"Returns the `$n`-th {name} number, counting from 0.",
                   f"Term `$n` of the {name} sequence " + ", ".join(map(str, vals[:6])) + ", ...",
                   f"Computes the {name} sequence, where each term is "
                   + " + ".join(term(c, f"a(n-{k})") for k, c in enumerate(coef, 1) if c) + "."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{name} {style} {T}")


@_numeric_family("count_ways")
def _count_ways(r: random.Random) -> _Prog:
    task = r.choice(["coins", "stairs"])
    T = r.choice(["u64", "usize", "u128"])
    if task == "coins":
        kw = {"T": T, "fn": r.choice(["change_ways", "count_change", "ways_to_pay", "coin_combinations"]),
              "n": r.choice(["amount", "target", "total"]), "cs": r.choice(["coins", "denominations", "values"])}
        body = r.choice(["""
            let mut ways: Vec<$T> = vec![0; $n + 1];
            ways[0] = 1;
            for &coin in $cs {
                for a in coin..=$n {
                    ways[a] += ways[a - coin];
                }
            }
            ways[$n]""", """
            let mut ways = vec![0$T; $n + 1];
            ways[0] = 1;
            for coin in $cs.iter().copied() {
                if coin > $n {
                    continue;
                }
                for a in coin..=$n {
                    ways[a] += ways[a - coin];
                }
            }
            ways[$n]"""])
        doc = _doc(r, ["Counts the ways to make `$n` from the coin values in `$cs`, ignoring order.",
                       ("How many different combinations of `$cs` add up to `$n`?\n\nEach coin may be used any "
                       "number of times."), "Number of ways to pay `$n` exactly with unlimited coins."], kw)
        sig = "fn $fn($n: usize, $cs: &[usize]) -> $T"
        checks = []
        for _ in range(4):
            coins = sorted(r.sample([1, 2, 3, 5, 7, 10, 20, 25, 50], r.randint(1, 4)))
            n = r.randrange(0, 120)
            ways = [1] + [0] * n
            for c in coins:
                for a in range(c, n + 1):
                    ways[a] += ways[a - c]
            checks.append(_check(f"{kw['fn']}({n}, {_slice(coins)})", ways[n]))
    else:
        kw = {"T": T, "fn": r.choice(["stair_ways", "climb_ways", "count_climbs", "step_paths"]),
              "n": r.choice(["n", "stairs", "height"]), "cs": r.choice(["steps", "moves", "jumps"])}
        body = r.choice(["""
            let mut ways: Vec<$T> = vec![0; $n + 1];
            ways[0] = 1;
            for i in 1..=$n {
                for &s in $cs {
                    if s <= i {
                        ways[i] += ways[i - s];
                    }
                }
            }
            ways[$n]""", """
            let mut ways: Vec<$T> = vec![1];
            for i in 1..=$n {
                let here = $cs
                    .iter()
                    .filter(|&&s| s <= i)
                    .map(|&s| ways[i - s])
                    .sum();
                ways.push(here);
            }
            ways[$n]"""])
        doc = _doc(r, ["Counts the ordered ways to climb `$n` stairs taking any of the step sizes in `$cs`.",
                       "How many sequences of moves from `$cs` add up to exactly `$n`?",
                       "Number of distinct ways to reach step `$n` from the ground."], kw)
        sig = "fn $fn($n: usize, $cs: &[usize]) -> $T"
        checks = []
        for _ in range(4):
            steps = sorted(r.sample([1, 2, 3, 4, 5], r.randint(1, 3)))
            n = r.randrange(0, 40)
            ways = [1]
            for i in range(1, n + 1):
                ways.append(sum(ways[i - s] for s in steps if s <= i))
            checks.append(_check(f"{kw['fn']}({n}, {_slice(steps)})", ways[n]))
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


# ---- grids, clocks and simulations ----

@_numeric_family("grid_steps")
def _grid_steps(r: random.Random) -> _Prog:
    task = r.choice(["neighbours", "count", "manhattan", "chebyshev"])
    if task in ("manhattan", "chebyshev"):
        T = r.choice(["i32", "i64"])
        kw = {"T": T, "a": r.choice(["a", "p", "from"]), "b": r.choice(["b", "q", "to"]),
              "fn": r.choice([f"{task}_distance", f"{task}", f"{task[:5]}_dist"])}
        U = "u" + T[1:]
        style = r.choice(["abs_diff", "abs"])
        kw["R"] = U if style == "abs_diff" else T
        dx, dy = (("$a.0.abs_diff($b.0)", "$a.1.abs_diff($b.1)") if style == "abs_diff"
                  else (("($a.0 - $b.0).abs()", "($a.1 - $b.1).abs()")))
        body = f"{dx} + {dy}" if task == "manhattan" else r.choice([f"{dx}.max({dy})", (f"let dx = {dx};\nlet dy = {dy};\n"
                                                                   "if dx > dy { dx } else { dy }")])
        if "if dx" in body:
            body = body.replace("if dx > dy { dx } else { dy }", "if dx > dy {\n    dx\n} else {\n    dy\n}")
        doc = _doc(r, [f"The {task} distance between two grid points.",
                       "Steps between `$a` and `$b` when moving " + ("only along rows and columns."
                                                                     if task == "manhattan" else
                                                                     "like a chess king (diagonals allowed)."),
                       f"Returns the {task} distance from `$a` to `$b`."], kw)
        sig = "fn $fn($a: ($T, $T), $b: ($T, $T)) -> $R"
        checks = []
        for _ in range(4):
            p = (r.randrange(-50, 50), r.randrange(-50, 50))
            q = (r.randrange(-50, 50), r.randrange(-50, 50))
            dxv, dyv = abs(p[0] - q[0]), abs(p[1] - q[1])
            checks.append(_check(f"{kw['fn']}({_lit(p)}, {_lit(q)})", dxv + dyv if task == "manhattan" else max(dxv, dyv)))
        return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {style} {T}")
    diag = r.random() < 0.5
    kw = {"r": r.choice(["row", "r", "y"]), "c": r.choice(["col", "c", "x"]), "h": r.choice(["rows", "height"]),
          "w": r.choice(["cols", "width"]),
          "fn": r.choice(["neighbours", "neighbors", "adjacent_cells", "cells_around"] if task == "neighbours"
                         else ["neighbour_count", "count_neighbors", "adjacent_count"])}
    deltas = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0) and (diag or dr == 0 or dc == 0)]
    style = r.choice(["deltas", "loops"] if diag else ["deltas", "checked"])
    if style == "checked":
        order = [(-1, 0), (1, 0), (0, -1), (0, 1)]
        body = """
            let mut out = Vec::new();
            if let Some(up) = $r.checked_sub(1) {
                out.push((up, $c));
            }
            if $r + 1 < $h {
                out.push(($r + 1, $c));
            }
            if let Some(left) = $c.checked_sub(1) {
                out.push(($r, left));
            }
            if $c + 1 < $w {
                out.push(($r, $c + 1));
            }
            out"""
    elif style == "loops":
        order = deltas
        body = """
            let mut out = Vec::new();
            for dr in -1i64..=1 {
                for dc in -1i64..=1 {
                    let (nr, nc) = ($r as i64 + dr, $c as i64 + dc);
                    if (dr, dc) != (0, 0) && nr >= 0 && nc >= 0 && nr < $h as i64 && nc < $w as i64 {
                        out.push((nr as usize, nc as usize));
                    }
                }
            }
            out"""
    else:
        order = deltas if r.random() < 0.5 else r.sample(deltas, len(deltas))
        kw["D"] = ", ".join(f"({a}, {b})" for a, b in order)
        kw["k"] = str(len(order))
        if len(order) > 4:
            kw["D"] = "\n" + "".join(f"    ({a}, {b}),\n" for a, b in order)
        body = """
            const DIRS: [(isize, isize); $k] = [$D];
            let mut out = Vec::new();
            for (dr, dc) in DIRS {
                let nr = $r as isize + dr;
                let nc = $c as isize + dc;
                if (0..$h as isize).contains(&nr) && (0..$w as isize).contains(&nc) {
                    out.push((nr as usize, nc as usize));
                }
            }
            out"""
    if task == "count":
        body = body.replace("let mut out = Vec::new();", "let mut count = 0;")
        body = body.replace("let Some(up) = $r.checked_sub(1)", "$r > 0").replace("let Some(left) = $c.checked_sub(1)",
                                                                                    "$c > 0")
        body = body.replace("out\n", "count\n").rstrip().removesuffix("out") + "count"
        body = __import__("re").sub(r"out\.push\([^;]*\);", "count += 1;", body)
    ret = "usize" if task == "count" else "Vec<(usize, usize)>"
    items = [_fn(f"fn $fn($r: usize, $c: usize, $h: usize, $w: usize) -> {ret}", body, kw,
                 _doc(r, ["The cells next to (`$r`, `$c`) that lie inside a `$h` x `$w` grid"
                          + (", diagonals included." if diag else ", without diagonals."),
                          ("Counts" if task == "count" else "Lists") + " the in-bounds neighbours of a grid cell.",
                          "Neighbours of a cell, skipping any that would fall off the edge of the grid."], kw))]
    checks = []
    for _ in range(4):
        h, w = r.randint(1, 6), r.randint(1, 6)
        rr, cc = r.choice([(0, 0), (h - 1, w - 1), (r.randrange(h), r.randrange(w)), (r.randrange(h), 0)])
        got = [(rr + a, cc + b) for a, b in order if 0 <= rr + a < h and 0 <= cc + b < w]
        call = f"{kw['fn']}({rr}, {cc}, {h}, {w})"
        if task == "count":
            checks.append(_check(call, len(got)))
        elif len(_vec(got, "(usize, usize)")) <= 60:
            checks.append(f"assert_eq!({call}, {_vec(got, '(usize, usize)')});")
        else:
            # rustfmt would spread a long vec! over many lines: check the size and two members instead
            checks += [f"let cells = {call};", _check("cells.len()", len(got))]
            checks += [_check(f"cells.contains(&{_lit(cell)})", True) for cell in r.sample(got, 2)]
    return _Prog(items, checks, params=f"{task} {style} diag={diag}")


@_numeric_family("clock_time")
def _clock_time(r: random.Random) -> _Prog:
    task = r.choice(["hms", "format", "parse", "add_minutes"])
    T = r.choice(["u32", "u64"])
    kw = {"T": T, "s": r.choice(["secs", "seconds", "total"])}
    checks = []
    if task == "hms":
        kw["fn"] = r.choice(["to_hms", "split_seconds", "hours_minutes_seconds"])
        body = r.choice(["""
            let hours = $s / 3600;
            let minutes = $s % 3600 / 60;
            ($$hours, minutes, $s % 60)""", """
            let (hours, rest) = ($s / 3600, $s % 3600);
            (hours, rest / 60, rest % 60)"""]).replace("($$hours", "(hours")
        sig, doc = "fn $fn($s: $T) -> ($T, $T, $T)", ["Splits a number of seconds into hours, minutes and seconds.",
                                                       "Converts `$s` to an `(h, m, s)` triple with `m` and `s` below 60."]
        for _ in range(4):
            x = r.choice([r.randrange(0, 60), r.randrange(60, 3600), r.randrange(3600, 400000)])
            checks.append(_check(f"{kw['fn']}({x})", (x // 3600, x % 3600 // 60, x % 60)))
    elif task == "format":
        kw["fn"] = r.choice(["format_duration", "clock_string", "as_hh_mm_ss", "pretty_time"])
        body = r.choice(["""
            let h = $s / 3600;
            let m = $s / 60 % 60;
            let s = $s % 60;
            format!("{:02}:{:02}:{:02}", h, m, s)""", """
            format!(
                "{:02}:{:02}:{:02}",
                $s / 3600,
                ($s % 3600) / 60,
                $s % 60
            )"""])
        if kw["s"] == "s":
            kw["s"] = "secs"
        sig, doc = "fn $fn($s: $T) -> String", ["Formats `$s` seconds as `hh:mm:ss`.",
                                                 "Writes a duration like a digital clock, with two digits per part.",
                                                 "Renders seconds as hours, minutes and seconds: 3661 is \"01:01:01\"."]
        for _ in range(4):
            x = r.choice([r.randrange(0, 60), r.randrange(60, 3600), r.randrange(3600, 360000)])
            checks.append(_check(f"{kw['fn']}({x})", f"{x // 3600:02}:{x % 3600 // 60:02}:{x % 60:02}"))
    elif task == "parse":
        kw["fn"] = r.choice(["parse_duration", "seconds_from_clock", "parse_hms", "clock_to_seconds"])
        kw["t"] = r.choice(["text", "s", "clock"])
        body = r.choice(["""
            let parts: Vec<&str> = $t.split(':').collect();
            if parts.len() != 3 {
                return None;
            }
            let h: $T = parts[0].parse().ok()?;
            let m: $T = parts[1].parse().ok()?;
            let s: $T = parts[2].parse().ok()?;
            if m >= 60 || s >= 60 {
                return None;
            }
            Some(h * 3600 + m * 60 + s)""", """
            let mut total: $T = 0;
            let mut count = 0;
            for part in $t.split(':') {
                let value: $T = part.parse().ok()?;
                if count > 0 && value >= 60 {
                    return None;
                }
                total = total * 60 + value;
                count += 1;
            }
            if count == 3 {
                Some(total)
            } else {
                None
            }"""])
        sig, doc = "fn $fn($t: &str) -> Option<$T>", ["Parses `h:mm:ss` into a number of seconds.",
                                                       "Reads a clock-style duration; `None` if it is malformed.",
                                                       "The seconds in a `hours:minutes:seconds` string."]
        for _ in range(3):
            h, m, s = r.randrange(0, 30), r.randrange(0, 60), r.randrange(0, 60)
            text = r.choice([f"{h}:{m:02}:{s:02}", f"{h:02}:{m}:{s}"])
            checks.append(_check(f"{kw['fn']}({_lit(text)})", _some(h * 3600 + m * 60 + s)))
        bad = r.choice(["1:2", "1:75:00", "a:10:10", "2:30:61", "", "1:2:3:4"])
        checks.append(_check(f"{kw['fn']}({_lit(bad)})", _some(None)))
    else:
        kw["fn"] = r.choice(["add_minutes", "shift_clock", "clock_after", "time_plus"])
        kw["h"], kw["m"], kw["d"] = r.choice(["hour", "h"]), r.choice(["minute", "m"]), r.choice(["delta", "minutes", "offset"])
        body = r.choice(["""
            let start = ($h * 60 + $m) as i32;
            let total = (start + $d).rem_euclid(24 * 60);
            ((total / 60) as u32, (total % 60) as u32)""", """
            const DAY: i32 = 24 * 60;
            let mut total = ($h * 60 + $m) as i32 + $d % DAY;
            if total < 0 {
                total += DAY;
            }
            total %= DAY;
            (total as u32 / 60, total as u32 % 60)"""])
        sig, doc = "fn $fn($h: u32, $m: u32, $d: i32) -> (u32, u32)", [
            "The time on a 24-hour clock `$d` minutes after `$h`:`$m` (negative goes back).",
            "Moves a clock time by a number of minutes, wrapping around midnight.",
            "Adds `$d` minutes to the time `$h`:`$m` and returns the new hour and minute."]
        for _ in range(4):
            h, m, d = r.randrange(0, 24), r.randrange(0, 60), r.randrange(-3000, 3000)
            t = (h * 60 + m + d) % 1440
            checks.append(_check(f"{kw['fn']}({h}, {m}, {d})", (t // 60, t % 60)))
    return _Prog([_fn(sig, body, kw, _doc(r, doc, kw))], checks, params=f"{task} {T}")


@_numeric_family("compound_interest")
def _compound_interest(r: random.Random) -> _Prog:
    task = r.choice(["balance", "years", "cents"])
    kw = {"p": r.choice(["principal", "balance", "deposit"]), "rate": r.choice(["rate", "percent", "interest"]),
          "y": r.choice(["years", "periods", "n"])}
    checks = []
    if task == "balance":
        kw["fn"] = r.choice(["balance_after", "compound", "future_value", "grow_savings"])
        style = r.choice(["loop", "powi"])
        body = {"loop": """
            let mut amount = $p;
            for _ in 0..$y {
                amount *= 1.0 + $rate / 100.0;
            }
            amount""", "powi": "$p * (1.0 + $rate / 100.0).powi($y as i32)"}[style]
        sig = "fn $fn($p: f64, $rate: f64, $y: u32) -> f64"
        doc = ["The balance after `$y` years at `$rate` percent interest, compounded yearly.",
               "Grows `$p` by `$rate`% once per year for `$y` years.",
               "Compound interest: what `$p` becomes after `$y` periods."]
        for _ in range(4):
            p, rate, y = float(r.randrange(100, 5000)), r.randrange(1, 120) / 10, r.randrange(0, 30)
            v = p
            for _ in range(y):
                v *= 1.0 + rate / 100.0
            checks += _close_all(f"{kw['fn']}({_lit(p)}, {_lit(rate)}, {y})", v)
    elif task == "years":
        kw["fn"] = r.choice(["years_to_reach", "years_until", "periods_needed"])
        kw["t"] = r.choice(["target", "goal"])
        body = r.choice(["""
            let mut amount = $p;
            let mut $y = 0;
            while amount < $t {
                amount *= 1.0 + $rate / 100.0;
                $y += 1;
            }
            $y""", """
            let mut amount = $p;
            let mut $y = 0;
            loop {
                if amount >= $t {
                    break $y;
                }
                amount *= 1.0 + $rate / 100.0;
                $y += 1;
            }"""])
        sig = "fn $fn($p: f64, $rate: f64, $t: f64) -> u32"
        doc = ["Counts the whole years until `$p` reaches `$t` at `$rate` percent a year.",
               ("How many yearly compounding steps it takes for the balance to reach `$t`.\n\n`$rate` must be "
               "positive."), "Simulates yearly interest until the savings reach the goal."]
        for _ in range(4):
            p, rate = float(r.randrange(100, 5000)), r.randrange(5, 150) / 10
            t = p * r.choice([1, 1.5, 2, 3, 0.5]) + r.randrange(0, 100)
            v, y = p, 0
            while v < t:
                v *= 1.0 + rate / 100.0
                y += 1
            checks.append(_check(f"{kw['fn']}({_lit(p)}, {_lit(rate)}, {_lit(float(t))})", y))
    else:
        kw["fn"] = r.choice(["cents_after", "grow_cents", "balance_in_cents"])
        kw["bp"] = r.choice(["basis_points", "rate_bp", "bps"])
        body = r.choice(["""
            let mut cents = $p;
            for _ in 0..$y {
                cents += cents * $bp / 10_000;
            }
            cents""", "(0..$y).fold($p, |cents, _| cents + cents * $bp / 10_000)"])
        sig = "fn $fn($p: u64, $bp: u64, $y: u32) -> u64"
        doc = [("Grows `$p` cents by `$bp` basis points a year for `$y` years.\n\n"
               "Fractions of a cent are dropped each year."),
               "Integer compound interest: each year adds `$bp` / 10000 of the balance, in whole cents.",
               "The balance in cents after `$y` years; fractions of a cent are dropped."]
        for _ in range(4):
            p, bp, y = r.randrange(0, 10 ** 7), r.randrange(0, 2000), r.randrange(0, 40)
            v = p
            for _ in range(y):
                v += v * bp // 10_000
            checks.append(_check(f"{kw['fn']}({p}, {bp}, {y})", v))
    return _Prog([_fn(sig, body, kw, _doc(r, doc, kw))], checks, params=task)


@_numeric_family("temperature_table")
def _temperature_table(r: random.Random) -> _Prog:
    task = r.choice(["table", "convert"])
    checks = []
    if task == "table":
        kw = {"fn": r.choice(["celsius_table", "conversion_table", "fahrenheit_table", "temperature_rows"]),
              "a": r.choice(["from", "start", "lo"]), "b": r.choice(["to", "end", "hi"]),
              "st": r.choice(["step", "by", "stride"])}
        body = r.choice(["""
            ($a..=$b)
                .step_by($st)
                .map(|c| (c, c as f64 * 9.0 / 5.0 + 32.0))
                .collect()""", """
            let mut rows = Vec::new();
            let mut c = $a;
            while c <= $b {
                rows.push((c, f64::from(c) * 9.0 / 5.0 + 32.0));
                c += $st as i32;
            }
            rows"""])
        sig = "fn $fn($a: i32, $b: i32, $st: usize) -> Vec<(i32, f64)>"
        doc = ["Pairs Celsius values from `$a` to `$b`, `$st` apart, with their Fahrenheit values.",
               "A Celsius to Fahrenheit conversion table.\n\nBoth ends are included when the step lands on them.",
               "Rows of `(celsius, fahrenheit)` for a printed conversion chart."]
        a, st = r.randrange(-40, 40), r.randint(1, 15)
        b = a + r.randrange(0, 80)
        rows = [(c, c * 9.0 / 5.0 + 32.0) for c in range(a, b + 1, st)]
        checks.append(f"let table = {kw['fn']}({a}, {b}, {st});")
        checks.append(_check("table.len()", len(rows)))
        for i in sorted(r.sample(range(len(rows)), min(3, len(rows)))):
            checks.append(_check(f"table[{i}].0", rows[i][0]))
            checks.append(_close(f"table[{i}].1", rows[i][1]))
    else:
        units = r.choice([("C", "F", "K"), ("c", "f", "k")])
        kw = {"fn": r.choice(["to_celsius", "celsius_from", "normalize_temp"]), "v": r.choice(["value", "degrees", "t"]),
              "u": r.choice(["unit", "scale", "kind"]), "C": units[0], "F": units[1], "K": units[2]}
        if r.random() < 0.5:
            body = """
                match $u {
                    '$C' => Some($v),
                    '$F' => Some(($v - 32.0) * 5.0 / 9.0),
                    '$K' => Some($v - 273.15),
                    _ => None,
                }"""
        else:
            body = """
                match $u.to_ascii_uppercase() {
                    'C' => Some($v),
                    'F' => Some(($v - 32.0) * 5.0 / 9.0),
                    'K' => Some($v - 273.15),
                    _ => None,
                }"""
        sig = "fn $fn($v: f64, $u: char) -> Option<f64>"
        doc = ["Converts a temperature in the given unit to Celsius, or `None` for an unknown unit.",
               "Reads `$v` as Celsius ('$C'), Fahrenheit ('$F') or Kelvin ('$K') and returns Celsius.",
               "Normalises a temperature reading to degrees Celsius."]
        for u in r.sample(units, 3):
            v = _dec(r, -50, 400)
            c = {"c": v, "f": (v - 32.0) * 5.0 / 9.0, "k": v - 273.15}[u.lower()]
            checks += _close_all(f"{kw['fn']}({_lit(v)}, {_ch(u)}).unwrap()", c, "celsius")
        checks.append(_check(f"{kw['fn']}({_lit(_dec(r, 0, 50))}, {_ch(r.choice('xrQ'))})", None))
    return _Prog([_fn(sig, body, kw, _doc(r, doc, kw))], checks, params=task)


@_numeric_family("bracket_price")
def _bracket_price(r: random.Random) -> _Prog:
    task = r.choice(["shipping", "parking", "tax_rate"])
    unit, fn_names, var = {"shipping": ("grams", ["shipping_cost", "postage_for", "parcel_price"], ["weight", "grams"]),
                           "parking": ("minutes", ["parking_fee", "fee_for_stay", "parking_charge"], ["minutes", "mins"]),
                           "tax_rate": ("euros", ["tax_rate_percent", "bracket_rate", "rate_for_income"],
                                        ["income", "earnings"])}[task]
    scale = {"shipping": 250, "parking": 30, "tax_rate": 10000}[task]
    cuts = sorted(r.sample(range(1, 12), 3))
    limits = [c * scale for c in cuts]
    prices = sorted(r.sample(range(1, 60), 4))
    free = task != "tax_rate" and r.random() < 0.5
    kw = {"fn": r.choice(fn_names), "x": r.choice(var), "T": r.choice(["u32", "u64"])}
    style = r.choice(["match", "if", "table"])
    if style == "match":
        arms = (["0 => 0,"] if free else [])
        lo = 1 if free else 0
        for lim, p in zip(limits, prices):
            arms.append(f"{lo}..={lim} => {p},")
            lo = lim + 1
        arms.append(f"_ => {prices[-1]},")
        body = "match $x {\n" + "".join(f"    {a}\n" for a in arms) + "}"
    elif style == "if":
        parts = (["if $x == 0 {\n    0\n}"] if free else [])
        for lim, p in zip(limits, prices):
            parts.append(("if" if not parts else " else if") * 1 + f" $x <= {lim} {{\n    {p}\n}}")
        parts[0] = parts[0].lstrip()
        body = "".join(p if i == 0 else (p if p.startswith(" else") else " else " + p) for i, p in enumerate(parts))
        body += f" else {{\n    {prices[-1]}\n}}"
    else:
        kw["n"] = str(len(limits))
        kw["rows"] = ", ".join(f"({lim}, {p})" for lim, p in zip(limits, prices))
        kw["last"] = str(prices[-1])
        body = ("if $x == 0 {\n    return 0;\n}\n" if free else "") + """const BRACKETS: [($T, $T); $n] = [$rows];
            BRACKETS
                .iter()
                .find(|&&(limit, _)| $x <= limit)
                .map_or($last, |&(_, price)| price)"""
        body = "\n".join(line.strip() if line.strip().startswith(("const", "BRACKETS")) else
                         ("    " + line.strip() if line.strip().startswith(".") else line)
                         for line in body.split("\n"))
    def price(x: int) -> int:
        if free and x == 0:
            return 0
        for lim, p in zip(limits, prices):
            if x <= lim:
                return p
        return prices[-1]

    xs = [0 if free else r.randrange(0, limits[0] + 1), limits[r.randrange(3)], limits[r.randrange(3)] + 1,
          r.randrange(0, limits[-1] * 2), limits[-1] + r.randrange(1, 500)]
    checks = [_check(f"{kw['fn']}({x})", price(x)) for x in xs]
    doc = _doc(r, [f"Looks up the {'price' if task != 'tax_rate' else 'rate'} for `$x` {unit} in a bracket table.",
                   f"Returns the charge for `$x` {unit}; every bracket includes its upper limit.",
                   f"Maps `$x` to a {'fee' if task != 'tax_rate' else 'tax rate'} by range."
                   + ("\n\nZero costs nothing." if free else "")], kw)
    return _Prog([_fn("fn $fn($x: $T) -> $T", body, kw, doc)], checks, params=f"{task} {style} free={free}")
