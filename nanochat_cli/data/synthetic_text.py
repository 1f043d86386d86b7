"""Synthetic programs about strings, chars and bytes: `&str` slicing and searching, `char` classification,
byte arithmetic, parsing text into tuples, structs and tokens, validation, masking, padding, wrapping and
building strings, and `Option<&str>`/`Option<char>` results.

Each family draws its function names, parameter names, doc phrasing, implementation style and test inputs,
and computes every expected value here in Python, as the families of `synthetic_rust` do. Importing this
module registers its families there.
"""

from __future__ import annotations

import os
import random
import re
from fractions import Fraction

from nanochat_cli.data.synthetic_rust import (
    _TEXT,
    _WORDS,
    _ch,
    _check,
    _doc,
    _family,
    _lit,
    _Prog,
    _Raw,
    _slice,
    _some,
    _vec,
)
from nanochat_cli.data.synthetic_rust import _fn as _plain_fn

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TEXTS = [t for t in _TEXT if t != "word"]  # `word` is the loop variable of many bodies


_CHAIN_ROOT = re.compile(r"^( *)(\w+)\.(\w.*)\n\1    \.", re.MULTILINE)


def _fn(sig: str, body: str, kw: dict, doc: str = "") -> str:
    """`synthetic_rust._fn`, with rustfmt's layout of a method chain that spans lines: the receiver stays on
    the first line only when it is at most 4 characters long."""
    text = _plain_fn(sig, body, kw, doc)
    return _CHAIN_ROOT.sub(lambda m: m[0] if len(m[2]) <= 4 else f"{m[1]}{m[2]}\n{m[1]}    .{m[3]}\n{m[1]}    .", text)


def _words(r: random.Random, k: int, short: bool = False) -> list[str]:
    pool = [w for w in _WORDS if len(w) <= 4] if short else _WORDS
    return [r.choice(pool) for _ in range(k)]


def _spaced(r: random.Random, words: list[str]) -> str:
    """Words joined by one or more spaces, sometimes with spaces at the ends, to exercise splitting."""
    gaps = [" " * r.choice([1, 1, 1, 2, 3]) for _ in words[1:]]
    text = words[0] + "".join(g + w for g, w in zip(gaps, words[1:])) if words else ""
    return (" " if r.random() < 0.3 else "") + text + (" " if r.random() < 0.3 else "")


def _strings(xs: list[str]) -> _Raw:
    """An expected `Vec<String>` (compared with a `vec!` of `&str`, or typed when empty)."""
    return _vec(xs, "String")


# ---- words ----

@_family("acronym")
def _acronym(r: random.Random) -> _Prog:
    dotted = r.random() < 0.35
    kw = {"s": r.choice(_TEXTS + ["phrase", "name"]), "w": r.choice(["word", "w", "part"]),
          "fn": r.choice(["initials_with_dots", "dotted_initials", "name_initials"] if dotted
                         else ["acronym", "make_acronym", "abbreviate", "acronym_of", "first_letters"])}
    style = r.choice(["iter", "loop", "bytes"])
    if style == "iter":
        body = ("$s.split_whitespace()\n    .filter_map(|$w| $w.chars().next())\n"
                + ("    .map(|c| format!(\"{}.\", c.to_ascii_uppercase()))\n" if dotted
                   else "    .map(|c| c.to_ascii_uppercase())\n") + "    .collect()")
    elif style == "loop":
        push = "out.push(c.to_ascii_uppercase());" + ("\n" + " " * 20 + "out.push('.');" if dotted else "")
        body = f"""
            let mut out = String::new();
            for $w in $s.split_whitespace() {{
                if let Some(c) = $w.chars().next() {{
                    {push}
                }}
            }}
            out"""
    else:
        push = "out.push($w.as_bytes()[0].to_ascii_uppercase() as char);"
        push += "\n" + " " * 16 + "out.push('.');" if dotted else ""
        body = f"""
            let mut out = String::with_capacity($s.len() / 2);
            for $w in $s.split_whitespace() {{
                {push}
            }}
            out"""
    cases = [_spaced(r, _words(r, r.randrange(1, 5))) for _ in range(4)] + [r.choice(["", "   "])]
    checks = [_check(f"{kw['fn']}({_lit(c)})", "".join(w[0].upper() + ("." if dotted else "") for w in c.split()))
              for c in cases]
    what = "dotted initials" if dotted else "acronym"
    doc = _doc(r, [f"Builds the {what} of `$s`\nfrom the first letter of each word, in upper case.",
                   f"Returns the {what} of the words in `$s`.\n\nExtra spaces between words are ignored.",
                   (f"Takes the first character of every whitespace-separated word and upper-cases it\n"
                   f"to form the {what}.")], kw, checks)
    return _Prog([_fn("fn $fn($s: &str) -> String", body, kw, doc)], checks, params=f"{style} dotted={dotted}")


def _first_max(words: list[str], longest: bool, last_wins: bool) -> str | None:
    best = None
    for w in words:
        better = best is None or (len(w) > len(best) if longest else len(w) < len(best))
        tie = best is not None and len(w) == len(best)
        if better or (tie and last_wins):
            best = w
    return best


@_family("longest_word")
def _longest_word(r: random.Random) -> _Prog:
    longest = r.random() < 0.65
    kw = {"s": r.choice(_TEXTS), "w": r.choice(["word", "w", "candidate"]),
          "fn": r.choice(["longest_word", "find_longest_word", "widest_word"] if longest
                         else ["shortest_word", "find_shortest_word", "smallest_word"])}
    style = r.choice(["loop", "by_key", "fold"])
    keep = "<=" if longest else ">="  # the current best stays unless strictly beaten
    if style == "loop":
        body = f"""
            let mut best: Option<&str> = None;
            for $w in $s.split_whitespace() {{
                match best {{
                    Some(b) if $w.len() {keep} b.len() => {{}}
                    _ => best = Some($w),
                }}
            }}
            best"""
        last_wins = False
    elif style == "by_key":
        body = f"$s.split_whitespace().{'max' if longest else 'min'}_by_key(|w| w.len())"
        last_wins = longest  # max_by_key keeps the last of equal maxima, min_by_key the first minimum
    else:
        body = f"""
            $s.split_whitespace()
                .fold(None, |best: Option<&str>, $w| match best {{
                    Some(b) if b.len() {'>=' if longest else '<='} $w.len() => Some(b),
                    _ => Some($w),
                }})"""
        last_wins = False
    cases = [_spaced(r, _words(r, r.randrange(2, 6))) for _ in range(4)] + [r.choice(["", "  "])]
    checks = [_check(f"{kw['fn']}({_lit(c)})", _some(_first_max(c.split(), longest, last_wins))) for c in cases]
    which = "longest" if longest else "shortest"
    tie = "last" if last_wins else "first"
    doc = _doc(r, [(f"Returns the {which} word of `$s`, or `None` if it has no words.\n\n"
                   f"On a tie the {tie} such word wins."),
                   f"Finds the {which} whitespace-separated word in `$s` ({tie} one on ties).",
                   f"The {which} word of a sentence as a slice of it; `None` for a blank string."], kw, checks)
    return _Prog([_fn("fn $fn($s: &str) -> Option<&str>", body, kw, doc)], checks, params=f"{which} {style}")


@_family("common_prefix")
def _common_prefix(r: random.Random) -> _Prog:
    suffix = r.random() < 0.3
    kw = {"xs": r.choice(["words", "names", "items", "strs", "list"]), "w": r.choice(["word", "w", "other"]),
          "fn": r.choice(["common_suffix", "shared_suffix", "longest_common_suffix"] if suffix
                         else ["common_prefix", "shared_prefix", "longest_common_prefix"])}
    style = r.choice(["shrink", "chars"])
    if style == "shrink":
        sig = "fn $fn<'a>($xs: &[&'a str]) -> &'a str"
        cut = "&acc[1..]" if suffix else "&acc[..acc.len() - 1]"
        test = "ends_with" if suffix else "starts_with"
        body = f"""
            let mut acc = match $xs.first() {{
                Some($w) => *$w,
                None => return "",
            }};
            for $w in &$xs[1..] {{
                while !$w.{test}(acc) {{
                    acc = {cut};
                }}
            }}
            acc"""
    else:
        sig = "fn $fn($xs: &[&str]) -> String"
        kw["w"] = "w"  # keeps the `all` chain on one line
        it = ".chars().rev()" if suffix else ".chars()"
        body = f"""
            let first = match $xs.first() {{
                Some($w) => $w,
                None => return String::new(),
            }};
            let mut out = String::new();
            for (i, c) in first{it}.enumerate() {{
                if $xs.iter().all(|$w| $w{it}.nth(i) == Some(c)) {{
                    out.push(c);
                }} else {{
                    break;
                }}
            }}
            out""" + (".chars().rev().collect()" if suffix else "")
    cases = []
    for _ in range(3):
        stem = "".join(r.choice(_LETTERS) for _ in range(r.randrange(0, 5)))
        ws = [r.choice(_WORDS) for _ in range(r.randrange(2, 4))]
        ws = [w + stem if suffix else stem + w for w in ws]
        cases.append(ws)
    cases.append([r.choice(_WORDS)])
    checks = []
    for ws in cases:
        if suffix:
            exp = "".join(reversed(os.path.commonprefix([w[::-1] for w in ws])))
        else:
            exp = os.path.commonprefix(ws)
        checks.append(_check(f"{kw['fn']}({_slice(ws)})", exp))
    checks.append(_check(f"{kw['fn']}(&[])", ""))
    end = "suffix" if suffix else "prefix"
    doc = _doc(r, [f"Returns the longest {end} shared by every string in `$xs` (empty if there are none).",
                   f"Finds the common {end} of a list of strings.",
                   f"The longest string that every element of `$xs` {'ends' if suffix else 'starts'} with."],
               kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{end} {style}")


# ---- parsing ----

def _int_text(r: random.Random, signed: bool) -> tuple[str, int | None]:
    k = r.random()
    if k < 0.75:
        n = r.randrange(-500 if signed else 0, 1000)
        return str(n), n
    return r.choice(["abc", "", "1x", "4.5", "--2"]), None


@_family("key_value")
def _key_value(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "usize"])
    signed = T.startswith("i")
    sep = r.choice([";", ",", "&"])
    kw = {"s": r.choice(_TEXTS + ["config", "query"]), "T": T, "sep": sep,
          "k": r.choice(["k", "key", "name"]), "v": r.choice(["v", "value", "raw"])}
    task = r.choice(["all", "lookup"])
    keys = r.sample([w for w in _WORDS if len(w) <= 5], r.randrange(2, 5))
    parts, good = [], []
    for key in keys:
        text, n = _int_text(r, signed)
        parts.append(f"{key}={text}" if r.random() < 0.6 else f"{key} = {text}")
        if n is not None:
            good.append((key, n))
    if r.random() < 0.5:
        parts.insert(r.randrange(len(parts) + 1), r.choice(["oops", "novalue", ""]))
    line = sep.join(parts)
    if task == "all":
        kw["fn"] = r.choice(["parse_pairs", "parse_settings", "key_values", "read_assignments"])
        sig = "fn $fn($s: &str) -> Vec<(&str, $T)>"
        body = r.choice(["""
            let mut out = Vec::new();
            for part in $s.split('$sep') {
                if let Some(($k, $v)) = part.split_once('=') {
                    if let Ok(n) = $v.trim().parse::<$T>() {
                        out.push(($k.trim(), n));
                    }
                }
            }
            out""", """
            $s.split('$sep')
                .filter_map(|part| part.split_once('='))
                .filter_map(|($k, $v)| $v.trim().parse().ok().map(|n| ($k.trim(), n)))
                .collect()"""])
        checks = [f"let {kw['s']} = {_lit(line)};", _check(f"{kw['fn']}({kw['s']})", _vec(good, f"(&str, {T})"))]
        phr = [("Parses `$s`, a `$sep`-separated list of `key=value` pairs, into `(key, value)` tuples.\n\n"
               "Parts without `=` or whose value is not a number are skipped."),
               "Splits `$s` on `$sep` and keeps each `key=value` part whose value parses as `$T`.",
               "Reads settings such as `a=1${sep}b=2` into a vector of trimmed keys and parsed values."]
    else:
        kw["fn"] = r.choice(["lookup", "get_setting", "value_of", "find_value"])
        sig = "fn $fn($s: &str, wanted: &str) -> Option<$T>"
        body = r.choice(["""
            $s.split('$sep')
                .filter_map(|part| part.split_once('='))
                .find(|($k, _)| $k.trim() == wanted)
                .and_then(|(_, $v)| $v.trim().parse().ok())""", """
            for part in $s.split('$sep') {
                if let Some(($k, $v)) = part.split_once('=') {
                    if $k.trim() == wanted {
                        return $v.trim().parse().ok();
                    }
                }
            }
            None"""])
        found = {}
        for p in parts:
            if "=" in p:
                key, _, val = p.partition("=")
                found.setdefault(key.strip(), val.strip())

        def value(key: str):
            val = found.get(key)
            if val is None or not re.fullmatch(r"-?\d+" if signed else r"\d+", val):
                return None
            return int(val)
        probes = keys[:3] + [r.choice([w for w in _WORDS if w not in keys])]
        checks = [f"let {kw['s']} = {_lit(line)};"]
        checks += [_check(f"{kw['fn']}({kw['s']}, {_lit(k)})", _some(value(k))) for k in probes]
        phr = [("Finds the value of the first `key=value` entry of `$s` whose key is `wanted`.\n\n"
               "Returns `None` if there is no such key or its value is not a number."),
               "Looks `wanted` up in a `$sep`-separated list of `key=value` settings.",
               "Returns the number assigned to `wanted` in `$s`, if any."]
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} {T}")


_RECORDS = [("Person", "name", "age", "city"), ("Player", "nick", "level", "team"),
            ("Employee", "name", "years", "office"), ("Book", "title", "pages", "author"),
            ("Planet", "name", "moons", "star"), ("Student", "name", "grade", "school")]


@_family("csv_record")
def _csv_record(r: random.Random) -> _Prog:
    S, fa, fb, fc = r.choice(_RECORDS)
    T = r.choice(["u32", "u16", "u64", "usize"])
    sep = r.choice([",", ";", "|"])
    kw = {"S": S, "fa": fa, "fb": fb, "fc": fc, "T": T, "sep": sep, "line": r.choice(["line", "row", "record", "s"]),
          "fn": r.choice(["parse_row", "parse_line", "from_csv", "read_record", f"parse_{fa}_row"])}
    style = r.choice(["slice", "next", "len"])
    if style == "slice":
        body = """
            let fields: Vec<&str> = $line.split('$sep').map(str::trim).collect();
            match fields.as_slice() {
                [$fa, $fb, $fc] => {
                    let $fb = $fb
                        .parse::<$T>()
                        .map_err(|_| format!("bad $fb: {}", $fb))?;
                    Ok($S {
                        $fa: $fa.to_string(),
                        $fb,
                        $fc: $fc.to_string(),
                    })
                }
                _ => Err(format!("expected 3 fields, got {}", fields.len())),
            }"""
    elif style == "len":
        body = """
            let fields: Vec<&str> = $line.split('$sep').map(|f| f.trim()).collect();
            if fields.len() != 3 {
                return Err(format!("expected 3 fields, got {}", fields.len()));
            }
            let $fb = fields[1]
                .parse::<$T>()
                .map_err(|_| format!("bad $fb: {}", fields[1]))?;
            Ok($S {
                $fa: fields[0].to_string(),
                $fb,
                $fc: fields[2].to_string(),
            })"""
    else:
        body = """
            let mut parts = $line.split('$sep').map(str::trim);
            let $fa = parts.next().ok_or("missing $fa")?.to_string();
            let raw = parts.next().ok_or("missing $fb")?;
            let $fb = raw
                .parse::<$T>()
                .map_err(|_| format!("bad $fb: {}", raw))?;
            let $fc = parts.next().ok_or("missing $fc")?.to_string();
            if parts.next().is_some() {
                return Err("too many fields".to_string());
            }
            Ok($S {LIT})"""
        # rustfmt keeps a struct literal on one line while its fields take at most 18 columns
        lit = f"{fa}, {fb}, {fc}"
        body = body.replace("{LIT}", f"{{ {lit} }}" if len(lit) <= 18 else
                            "{\n" + "".join(f"{' ' * 16}{f},\n" for f in (fa, fb, fc)) + " " * 12 + "}")
    struct = f"#[derive(Debug, PartialEq)]\nstruct {S} {{\n    {fa}: String,\n    {fb}: {T},\n    {fc}: String,\n}}\n"
    checks = []
    for i in range(2):
        a, b, c = r.choice(_WORDS), r.randrange(0, 200), r.choice(_WORDS)
        sp = r.choice(["", " "])
        row = f"{a}{sep}{sp}{b}{sep}{sp}{c}"
        if i == 0:
            checks.append(_check(f"{kw['fn']}({_lit(row)})",
                                 _Raw(f"Ok({S} {{ {fa}: {_lit(a)}.to_string(), {fb}: {b}, "
                                      f"{fc}: {_lit(c)}.to_string() }})")))
        else:
            v = r.choice(["p", "rec", "parsed", "r"])
            checks += [f"let {v} = {kw['fn']}({_lit(row)}).unwrap();", _check(f"{v}.{fa}", a), _check(f"{v}.{fb}", b),
                       _check(f"{v}.{fc}", c)]
    bad = r.choice(["x", "-3", "", "1.5", "ten"])
    checks.append(_check(f"{kw['fn']}({_lit(f'{r.choice(_WORDS)}{sep}{bad}{sep}{r.choice(_WORDS)}')})",
                         _Raw(f"Err({_lit('bad ' + fb + ': ' + bad)}.to_string())")))
    if style == "next":
        short = f"{r.choice(_WORDS)}{sep}{r.randrange(9)}"
        checks.append(_check(f"{kw['fn']}({_lit(short)})", _Raw(f"Err({_lit('missing ' + fc)}.to_string())")))
    else:
        n = r.choice([2, 4])
        row = sep.join([r.choice(_WORDS), "1", r.choice(_WORDS), "extra"][:n])
        err = _lit(f"expected 3 fields, got {n}")
        checks.append(_check(f"{kw['fn']}({_lit(row)})", _Raw(f"Err({err}.to_string())")))
    doc = _doc(r, [f"Parses one `$sep`-separated line such as `ann{sep}30{sep}oslo` into a `$S`.",
                   ("Reads a record of three fields; the middle one must be a non-negative number.\n\n"
                   "Fields are trimmed, and errors are returned as messages."),
                   "Builds a `$S` from a text row, or explains why the row is malformed."], kw)
    sig = "fn $fn($line: &str) -> Result<$S, String>"
    return _Prog([struct, _fn(sig, body, kw, doc)], checks, params=f"{style} {T} {S}")


@_family("date_check")
def _date_check(r: random.Random) -> _Prog:
    time = r.random() < 0.4
    kw = {"s": r.choice(["s", "text", "input", "raw"] + (["clock", "time"] if time else ["date", "stamp"]))}
    style = r.choice(["split", "bytes"])
    if time:
        kw["fn"] = r.choice(["parse_time", "parse_clock", "hours_minutes", "read_time"])
        sig = "fn $fn($s: &str) -> Option<(u8, u8)>"
        body = {"split": """
            let (h, m) = $s.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let h: u8 = h.parse().ok()?;
            let m: u8 = m.parse().ok()?;
            if h < 24 && m < 60 {
                Some((h, m))
            } else {
                None
            }""", "bytes": """
            let b = $s.as_bytes();
            if b.len() != 5 || b[2] != b':' {
                return None;
            }
            if ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
                return None;
            }
            let h = (b[0] - b'0') * 10 + (b[1] - b'0');
            let m = (b[3] - b'0') * 10 + (b[4] - b'0');
            (h < 24 && m < 60).then_some((h, m))"""}[style]
        cases = [f"{r.randrange(24):02d}:{r.randrange(60):02d}" for _ in range(2)]
        cases += [f"{r.randrange(24, 30)}:{r.randrange(60):02d}", f"{r.randrange(24):02d}:{r.randrange(60, 99)}",
                  r.choice(["7:30", "0730", "07-30", "ab:cd", "", "07:3x"])]

        def expect(c: str):
            m = re.fullmatch(r"(\d\d):(\d\d)", c)
            return (int(m[1]), int(m[2])) if m and int(m[1]) < 24 and int(m[2]) < 60 else None
        phr = ["Parses a 24-hour time written as `HH:MM` into `(hours, minutes)`.",
               "Returns the hour and minute of a clock time such as `09:45`, or `None` if it is malformed.",
               "Reads `$s` in the fixed format `HH:MM`; hours must be below 24 and minutes below 60."]
    else:
        kw["fn"] = r.choice(["parse_date", "parse_iso_date", "read_date", "split_date"])
        sig = "fn $fn($s: &str) -> Option<(u32, u32, u32)>"
        body = {"split": """
            let parts: Vec<&str> = $s.split('-').collect();
            if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
                return None;
            }
            let year = parts[0].parse().ok()?;
            let month = parts[1].parse().ok()?;
            let day = parts[2].parse().ok()?;
            if (1..=12).contains(&month) && (1..=31).contains(&day) {
                Some((year, month, day))
            } else {
                None
            }""", "bytes": """
            let b = $s.as_bytes();
            if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
                return None;
            }
            let num = |from: usize, to: usize| -> Option<u32> {
                b[from..to].iter().try_fold(0, |acc, &d| {
                    d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
                })
            };
            let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
            if (1..=12).contains(&month) && (1..=31).contains(&day) {
                Some((year, month, day))
            } else {
                None
            }"""}[style]
        cases = [f"{r.randrange(1900, 2100)}-{r.randrange(1, 13):02d}-{r.randrange(1, 32):02d}" for _ in range(2)]
        cases += [f"{r.randrange(1900, 2100)}-{r.randrange(13, 20)}-{r.randrange(1, 29):02d}",
                  f"{r.randrange(1900, 2100)}-{r.randrange(1, 13):02d}-00",
                  r.choice(["2024/01/05", "2024-1-05", "20x4-01-01", "", "2024-01-5", "24-01-05"])]

        def expect(c: str):
            m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", c)
            return (int(m[1]), int(m[2]), int(m[3])) if m and 1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31 else None
        phr = ["Parses a date in the fixed format `YYYY-MM-DD` into `(year, month, day)`.",
               ("Returns the parts of an ISO date such as `2024-03-09`, or `None` if `$s` is malformed.\n\n"
               "The month must be 1 to 12 and the day 1 to 31."),
               "Checks that `$s` looks like `YYYY-MM-DD` and splits it into numbers."]
    r.shuffle(cases)
    checks = [_check(f"{kw['fn']}({_lit(c)})", _some(expect(c))) for c in cases]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{'time' if time else 'date'} {style}")


# ---- validation ----

@_family("identifier_check")
def _identifier_check(r: random.Random) -> _Prog:
    kw = {"s": r.choice(_TEXTS + ["name", "ident"]), "c": r.choice(["c", "ch"]),
          "fn": r.choice(["is_identifier", "is_valid_identifier", "valid_name", "is_ident", "looks_like_ident"])}
    style = r.choice(["match", "bytes", "loop"])
    body = {"match": """
        let mut chars = $s.chars();
        match chars.next() {
            Some($c) if $c.is_ascii_alphabetic() || $c == '_' => {
                chars.all(|$c| $c.is_ascii_alphanumeric() || $c == '_')
            }
            _ => false,
        }""", "bytes": """
        let bytes = $s.as_bytes();
        if bytes.is_empty() || bytes[0].is_ascii_digit() {
            return false;
        }
        bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')""", "loop": """
        if $s.is_empty() {
            return false;
        }
        for (i, $c) in $s.char_indices() {
            let ok = $c == '_' || $c.is_ascii_alphabetic() || (i > 0 && $c.is_ascii_digit());
            if !ok {
                return false;
            }
        }
        true"""}[style]
    w1, w2 = r.sample([w for w in _WORDS if len(w) <= 6], 2)
    pool = [w1, f"{w1}_{w2}", f"_{w1}", f"{w1}{r.randrange(10)}", f"{r.randrange(10)}{w1}", f"{w1}-{w2}",
            f"{w1} {w2}", f"{w1.capitalize()}{w2.capitalize()}", "", "_", f"{w1}!", f"{w1}.{w2}"]
    cases = r.sample(pool, 6)
    checks = [_check(f"{kw['fn']}({_lit(c)})", bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c))) for c in cases]
    doc = _doc(r, [("Returns `true` if `$s` is a valid identifier: an ASCII letter or `_` followed by\n"
                   "letters, digits and underscores."),
                   "Checks whether `$s` could name a variable (it must not be empty or start with a digit).",
                   "Tells whether every character of `$s` is alphanumeric or `_`, with no digit first."], kw, checks)
    return _Prog([_fn("fn $fn($s: &str) -> bool", body, kw, doc)], checks, params=style)


@_family("hex_text")
def _hex_text(r: random.Random) -> _Prog:
    task = r.choice(["parse", "encode", "color"])
    kw = {"s": r.choice(_TEXTS + ["hex", "digits"])}
    if task == "parse":
        kw["fn"] = r.choice(["parse_hex", "hex_to_u32", "from_hex", "hex_value"])
        body = r.choice(["""
            let digits = $s.strip_prefix("0x").unwrap_or($s);
            u32::from_str_radix(digits, 16).ok()""", """
            let digits = $s.strip_prefix("0x").unwrap_or($s);
            if digits.is_empty() {
                return None;
            }
            let mut value: u32 = 0;
            for c in digits.chars() {
                value = value * 16 + c.to_digit(16)?;
            }
            Some(value)"""])
        sig = "fn $fn($s: &str) -> Option<u32>"
        cases = []
        for _ in range(4):
            n = r.randrange(0, 16 ** r.randrange(1, 7))
            h = format(n, r.choice(["x", "X"]))
            cases.append(("0x" + h if r.random() < 0.4 else h, n))
        cases.append((r.choice(["", "0x", "xyz", "12g4", "0x-1"]), None))
        checks = [_check(f"{kw['fn']}({_lit(c)})", _some(v)) for c, v in cases]
        phr = ["Parses a hexadecimal number, with or without a `0x` prefix.",
               "Returns the value of the hex digits in `$s`, or `None` if there are none or one is invalid.",
               "Converts a base-16 string such as `ff` or `0x1A` to a number."]
    elif task == "encode":
        kw["fn"] = r.choice(["to_hex", "hex_encode", "bytes_to_hex", "hex_string"])
        kw["s"] = r.choice(["bytes", "data", "buf"])
        upper = r.random() < 0.4
        spec = "{:02X}" if upper else "{:02x}"
        body = r.choice([f'$s.iter().map(|b| format!("{spec}", b)).collect()', f"""
            let mut out = String::with_capacity($s.len() * 2);
            for b in $s {{
                out.push_str(&format!("{spec}", b));
            }}
            out""", f"""
            const DIGITS: &[u8] = b"{'0123456789ABCDEF' if upper else '0123456789abcdef'}";
            let mut out = String::new();
            for &b in $s {{
                out.push(DIGITS[(b >> 4) as usize] as char);
                out.push(DIGITS[(b & 0xf) as usize] as char);
            }}
            out"""])
        sig = "fn $fn($s: &[u8]) -> String"
        checks = []
        for k in (r.randrange(1, 5), r.randrange(3, 7), 0):
            bs = [r.randrange(256) for _ in range(k)]
            checks.append(_check(f"{kw['fn']}({_slice(bs) if bs else '&[]'})",
                                 "".join(format(b, "02X" if upper else "02x") for b in bs)))
        if r.random() < 0.5:
            w = r.choice(_WORDS)
            checks.append(_check(f"{kw['fn']}({_lit(w)}.as_bytes())",
                                 "".join(format(ord(c), "02X" if upper else "02x") for c in w)))
        phr = ["Encodes `$s` as hexadecimal text, two digits per byte.",
               f"Returns the {'upper' if upper else 'lower'}-case hex form of a byte slice.",
               "Writes every byte of `$s` as two hex digits, in order."]
    else:
        kw["fn"] = r.choice(["is_hex_color", "valid_color", "is_color_code"])
        one_line = "$s.len() == 7 && $s.starts_with('#') && $s[1..].chars().all(|c| c.is_ascii_hexdigit())"
        if 4 + len(one_line.replace("$s", kw["s"])) > 100:
            one_line = one_line.replace(" && ", "\n    && ")
        body = r.choice([one_line, """
            match $s.strip_prefix('#') {
                Some(rest) => rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_hexdigit()),
                None => false,
            }"""])
        sig = "fn $fn($s: &str) -> bool"
        cases = ["#" + "".join(r.choice("0123456789abcdefABCDEF") for _ in range(6)) for _ in range(2)]
        cases += ["#" + "".join(r.choice("0123456789abcdef") for _ in range(r.choice([3, 5, 7]))),
                  "".join(r.choice("0123456789abcdef") for _ in range(6)), "#12345g", r.choice(["", "#"])]
        r.shuffle(cases)
        checks = [_check(f"{kw['fn']}({_lit(c)})", bool(re.fullmatch(r"#[0-9a-fA-F]{6}", c))) for c in cases]
        phr = ["Returns `true` if `$s` is a colour like `#1a2B3c`: a `#` and six hex digits.",
               "Checks the format of an HTML colour code.",
               "Tells whether `$s` is `#` followed by exactly six hexadecimal digits."]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- transforming ----

@_family("mask_text")
def _mask_text(r: random.Random) -> _Prog:
    task = r.choice(["keep_last", "email", "censor"])
    kw = {"s": r.choice(_TEXTS + ["card", "secret"])}
    if task == "keep_last":
        kw["fn"] = r.choice(["mask", "mask_all_but_last", "hide_digits", "redact"])
        kw["n"] = r.choice(["keep", "visible", "n"])
        mark = r.choice(["*", "#", "x"])
        kw["m"] = mark
        sig = "fn $fn($s: &str, $n: usize) -> String"
        body = r.choice(["""
            let len = $s.chars().count();
            $s.chars()
                .enumerate()
                .map(|(i, c)| if i + $n < len { '$m' } else { c })
                .collect()""", """
            let len = $s.chars().count();
            let hidden = len.saturating_sub($n);
            let mut out = "$m".repeat(hidden);
            out.extend($s.chars().skip(hidden));
            out"""])
        checks = []
        for _ in range(4):
            s = "".join(r.choice("0123456789") for _ in range(r.randrange(2, 17)))
            k = r.randrange(0, 6)
            checks.append(_check(f"{kw['fn']}({_lit(s)}, {k})", mark * max(0, len(s) - k) + s[max(0, len(s) - k):]))
        phr = [f"Replaces every character of `$s` except the last `$n` with `{mark}`.",
               "Masks a card or account number so that only its last `$n` characters show.",
               f"Returns `$s` with all but the final `$n` characters hidden behind `{mark}`."]
    elif task == "email":
        kw["fn"] = r.choice(["mask_email", "redact_email", "hide_email_user"])
        sig = "fn $fn($s: &str) -> String"
        body = r.choice(["""
            match $s.split_once('@') {
                Some((user, domain)) => {
                    let first = user.chars().next().unwrap_or('*');
                    format!(
                        "{}{}@{}",
                        first,
                        "*".repeat(user.len().saturating_sub(1)),
                        domain
                    )
                }
                None => $s.to_string(),
            }""", """
            let at = match $s.find('@') {
                Some(i) if i > 0 => i,
                _ => return $s.to_string(),
            };
            let mut out = String::with_capacity($s.len());
            out.push_str(&$s[..1]);
            for _ in 1..at {
                out.push('*');
            }
            out.push_str(&$s[at..]);
            out"""])
        checks = []
        for _ in range(3):
            user = r.choice(_WORDS) + r.choice(["", ".", "_"]) * r.randrange(2) + r.choice(["", r.choice(_WORDS)])
            dom = r.choice(_WORDS)
            e = f"{user}@{dom}.{r.choice(['com', 'org', 'io'])}"
            checks.append(_check(f"{kw['fn']}({_lit(e)})", user[0] + "*" * (len(user) - 1) + e[len(user):]))
        w = r.choice(_WORDS)
        checks.append(_check(f"{kw['fn']}({_lit(w)})", w))
        phr = ["Hides the user part of an e-mail address except its first letter.",
               "Masks `$s` so that `alice@site.org` becomes `a****@site.org`; text without `@` is unchanged.",
               "Redacts an e-mail address, keeping the first character and the domain."]
    else:
        kw["fn"] = r.choice(["censor", "bleep", "censor_word", "star_out"])
        kw["bad"] = r.choice(["bad", "banned", "target"])
        sig = "fn $fn($s: &str, $bad: &str) -> String"
        body = r.choice(["""
            $s.split(' ')
                .map(|w| {
                    if w == $bad {
                        "*".repeat(w.len())
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")""", """
            let mut out = String::with_capacity($s.len());
            for (i, w) in $s.split(' ').enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                if w == $bad {
                    out.push_str(&"*".repeat(w.len()));
                } else {
                    out.push_str(w);
                }
            }
            out"""])
        checks = []
        for _ in range(3):
            ws = _words(r, r.randrange(2, 6), short=True)
            bad = r.choice(ws) if r.random() < 0.8 else "zzz"
            text = " ".join(ws)
            checks.append(_check(f"{kw['fn']}({_lit(text)}, {_lit(bad)})",
                                 " ".join("*" * len(w) if w == bad else w for w in ws)))
        phr = ["Replaces every whole word of `$s` equal to `$bad` with as many `*` as it has letters.",
               "Censors one word in a space-separated sentence.",
               "Returns `$s` with each occurrence of the word `$bad` starred out."]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("center_text")
def _center_text(r: random.Random) -> _Prog:
    style = r.choice(["manual", "format", "loop"])
    fill = r.choice(["*", "-", "=", ".", "~", " "])
    kw = {"s": r.choice(_TEXTS + ["title", "label"]), "w": r.choice(["width", "w", "size"]), "f": fill,
          "fn": r.choice(["center", "centered", "center_text", "pad_center", "banner"])}
    if style == "format":
        sig = "fn $fn($s: &str, $w: usize) -> String"
        body = f'format!("{{:{fill}^$w$$}}", $s)' if fill != " " else 'format!("{:^$w$$}", $s)'
    elif style == "manual":
        sig = "fn $fn($s: &str, $w: usize, fill: char) -> String"
        body = """
            let len = $s.chars().count();
            if len >= $w {
                return $s.to_string();
            }
            let left = ($w - len) / 2;
            let right = $w - len - left;
            let pad = |n: usize| fill.to_string().repeat(n);
            format!("{}{}{}", pad(left), $s, pad(right))"""
    else:
        sig = "fn $fn($s: &str, $w: usize, fill: char) -> String"
        body = """
            let len = $s.chars().count();
            let total = $w.saturating_sub(len);
            let mut out = String::with_capacity($w.max(len));
            for _ in 0..total / 2 {
                out.push(fill);
            }
            out.push_str($s);
            while out.chars().count() < $w {
                out.push(fill);
            }
            out"""
    checks = []
    for _ in range(3):
        s = r.choice(_WORDS)
        w = r.randrange(max(0, len(s) - 2), len(s) + 9)
        pad = max(0, w - len(s))
        exp = fill * (pad // 2) + s + fill * (pad - pad // 2)
        extra = "" if style == "format" else f", {_lit(_ch(fill))}"
        checks.append(_check(f"{kw['fn']}({_lit(s)}, {w}{extra})", exp))
    doc = _doc(r, ["Centers `$s` in a field `$w` characters wide; an odd leftover goes on the right.",
                   "Pads `$s` on both sides to `$w` characters. Longer strings are returned unchanged.",
                   "Returns `$s` centered within `$w` columns."], kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{style} {fill!r}")


def _wrap(words: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= width:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return lines


@_family("wrap_text")
def _wrap_text(r: random.Random) -> _Prog:
    kw = {"s": r.choice(["s", "text", "input", "src", "paragraph"]),
          "w": r.choice(["width", "max_width", "columns", "limit"]),
          "fn": r.choice(["wrap", "wrap_text", "word_wrap", "fill_lines", "break_lines"]),
          "word": r.choice(["word", "w", "token"]), "cur": r.choice(["line", "current", "buf"])}
    style = r.choice(["take", "last_mut", "join"])
    body = {"take": """
        let mut lines = Vec::new();
        let mut $cur = String::new();
        for $word in $s.split_whitespace() {
            if !$cur.is_empty() && $cur.len() + 1 + $word.len() > $w {
                lines.push(std::mem::take(&mut $cur));
            }
            if !$cur.is_empty() {
                $cur.push(' ');
            }
            $cur.push_str($word);
        }
        if !$cur.is_empty() {
            lines.push($cur);
        }
        lines""", "last_mut": """
        let mut lines: Vec<String> = Vec::new();
        for $word in $s.split_whitespace() {
            match lines.last_mut() {
                Some($cur) if $cur.len() + 1 + $word.len() <= $w => {
                    $cur.push(' ');
                    $cur.push_str($word);
                }
                _ => lines.push($word.to_string()),
            }
        }
        lines""", "join": """
        let mut lines = Vec::new();
        let mut $cur: Vec<&str> = Vec::new();
        let mut len = 0;
        for $word in $s.split_whitespace() {
            if !$cur.is_empty() && len + 1 + $word.len() > $w {
                lines.push($cur.join(" "));
                $cur.clear();
            }
            len = if $cur.is_empty() {
                $word.len()
            } else {
                len + 1 + $word.len()
            };
            $cur.push($word);
        }
        if !$cur.is_empty() {
            lines.push($cur.join(" "));
        }
        lines"""}[style]
    checks = []
    for _ in range(2):
        ws = _words(r, r.randrange(3, 7), short=r.random() < 0.5)
        text, width = _spaced(r, ws), r.randrange(6, 16)
        checks.append(_check(f"{kw['fn']}({_lit(text)}, {width})", _strings(_wrap(ws, width))))
    checks.append(_check(f"{kw['fn']}({_lit(r.choice(['', '  ']))}, {r.randrange(5, 20)})", _strings([])))
    doc = _doc(r, [("Greedily wraps the words of `$s` into lines of at most `$w` bytes.\n\n"
                   "A word longer than `$w` gets a line of its own."),
                   "Splits `$s` into lines no wider than `$w`, breaking only between words.",
                   "Word-wraps text: each line holds as many words as fit in `$w` columns."], kw)
    return _Prog([_fn("fn $fn($s: &str, $w: usize) -> Vec<String>", body, kw, doc)], checks, params=style)


@_family("squeeze_spaces")
def _squeeze_spaces(r: random.Random) -> _Prog:
    task = r.choice(["spaces", "spaces", "char"])
    kw = {"s": r.choice(_TEXTS)}
    if task == "spaces":
        kw["fn"] = r.choice(["squeeze_spaces", "collapse_whitespace", "normalize_spaces", "tidy_spaces"])
        body = r.choice(['$s.split_whitespace().collect::<Vec<_>>().join(" ")', """
            let mut out = String::with_capacity($s.len());
            let mut gap = false;
            for c in $s.chars() {
                if c.is_whitespace() {
                    gap = !out.is_empty();
                } else {
                    if gap {
                        out.push(' ');
                        gap = false;
                    }
                    out.push(c);
                }
            }
            out""", """
            let mut out = String::new();
            for word in $s.split_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
            }
            out"""])
        sig = "fn $fn($s: &str) -> String"
        cases = []
        for _ in range(3):
            ws = _words(r, r.randrange(1, 5))
            cases.append(ws[0] + "".join(r.choice([" ", "  ", "   ", "\n", " \n "]) + w for w in ws[1:]))
            cases[-1] = r.choice(["", " ", "  "]) + cases[-1] + r.choice(["", " ", "\n"])
        cases.append(r.choice(["", "   "]))
        checks = [_check(f"{kw['fn']}({_lit(c)})", " ".join(c.split())) for c in cases]
        phr = ["Replaces every run of whitespace in `$s` with one space and trims both ends.",
               "Collapses repeated spaces and newlines into single spaces.",
               "Normalizes the spacing of `$s`: words separated by exactly one space."]
    else:
        sep = r.choice(["/", "-", ",", "."])
        kw["fn"] = r.choice(["squeeze", "dedup_char", "collapse_runs_of", "merge_repeats"])
        kw["c"] = r.choice(["target", "sep", "mark"])
        sig = "fn $fn($s: &str, $c: char) -> String"
        body = r.choice(["""
            let mut out = String::with_capacity($s.len());
            let mut prev = None;
            for ch in $s.chars() {
                if ch == $c && prev == Some($c) {
                    continue;
                }
                out.push(ch);
                prev = Some(ch);
            }
            out""", """
            let mut out = String::with_capacity($s.len());
            for ch in $s.chars() {
                if ch != $c || !out.ends_with($c) {
                    out.push(ch);
                }
            }
            out"""])
        cases = []
        for _ in range(3):
            ws = _words(r, r.randrange(1, 4), short=True)
            cases.append(r.choice(["", sep, sep * 2]) + "".join(w + sep * r.randrange(1, 4) for w in ws))
        checks = [_check(f"{kw['fn']}({_lit(c)}, {_ch(sep)})", re.sub(re.escape(sep) + "+", sep, c)) for c in cases]
        phr = ["Collapses each run of `$c` in `$s` into a single `$c`.",
               "Removes repeated copies of `$c` that follow one another; other characters are kept.",
               "Returns `$s` with consecutive duplicates of `$c` squeezed to one."]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("remove_chars")
def _remove_chars(r: random.Random) -> _Prog:
    task = r.choice(["set", "digits", "keep_alnum"])
    mutate = r.random() < 0.35
    kw = {"s": r.choice(_TEXTS)}
    if task == "set":
        kw["fn"] = r.choice(["remove_chars", "strip_chars", "without_chars", "delete_chars"])
        kw["u"] = r.choice(["unwanted", "chars", "drop"])
        extra, keep = ", $u: &str", "!$u.contains(c)"
    elif task == "digits":
        kw["fn"] = r.choice(["remove_digits", "strip_digits", "without_digits"])
        extra, keep = "", "!c.is_ascii_digit()"
    else:
        kw["fn"] = r.choice(["only_alphanumeric", "keep_alnum", "strip_punctuation", "clean_text"])
        extra, keep = "", "c.is_alphanumeric()"
    if mutate:
        sig, body = "fn $fn($s: &mut String" + extra + ")", f"$s.retain(|c| {keep});"
    else:
        sig = "fn $fn($s: &str" + extra + ") -> String"
        body = r.choice([f"$s.chars().filter(|&c| {keep}).collect()", f"""
            let mut out = String::with_capacity($s.len());
            for c in $s.chars() {{
                if {keep} {{
                    out.push(c);
                }}
            }}
            out""", f"""
            let mut out = $s.to_string();
            out.retain(|c| {keep});
            out"""])
    checks = []
    for i in range(3):
        ws = _words(r, r.randrange(1, 4))
        text = " ".join(w + r.choice(["", "", "!", ",", "1", "42", "?", "7."]) for w in ws)
        if task == "set":
            u = "".join(r.sample(sorted(set(text)), min(3, len(set(text)))))
            exp = "".join(c for c in text if c not in u)
            args = f", {_lit(u)}"
        else:
            exp = "".join(c for c in text if (not c.isdigit() if task == "digits" else c.isalnum()))
            args = ""
        if mutate:
            v = kw["s"] if i == 0 else f"{kw['s']}{i + 1}"
            checks += [f"let mut {v} = String::from({_lit(text)});", f"{kw['fn']}(&mut {v}{args});", _check(v, exp)]
        else:
            checks.append(_check(f"{kw['fn']}({_lit(text)}{args})", exp))
    what = {"set": "every character that appears in `$u`", "digits": "the ASCII digits",
            "keep_alnum": "everything but letters and digits"}[task]
    doc = _doc(r, [f"Removes {what} from `$s`.", f"Drops {what}; the other characters keep their order.",
                   f"Filters `$s`, deleting {what}."], kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=f"{task} mutate={mutate}")


@_family("case_styles")
def _case_styles(r: random.Random) -> _Prog:
    task = r.choice(["snake_to_camel", "kebab_to_pascal", "camel_to_kebab", "screaming"])
    kw = {"s": r.choice(["name", "ident", "s", "text", "key"])}
    words = r.sample([w for w in _WORDS if len(w) > 2], r.randrange(1, 4))

    def cap(w: str) -> str:
        return w[:1].upper() + w[1:]
    if task == "snake_to_camel":
        kw["fn"] = r.choice(["to_camel_case", "camel_case", "lower_camel"])
        body = r.choice(["""
            let mut out = String::with_capacity($s.len());
            let mut upper = false;
            for c in $s.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.push(c.to_ascii_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out""", """
            $s.split('_')
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        return w.to_string();
                    }
                    let mut chars = w.chars();
                    match chars.next() {
                        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                        None => String::new(),
                    }
                })
                .collect()"""])
        cases = [("_".join(words), words[0] + "".join(cap(w) for w in words[1:]))]
        phr = ["Converts a snake_case name such as `$s` to camelCase."]
    elif task == "kebab_to_pascal":
        kw["fn"] = r.choice(["kebab_to_pascal", "to_pascal_case", "type_name_from"])
        body = r.choice(["""
            $s.split('-')
                .map(|w| {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect()""", """
            let mut out = String::new();
            for part in $s.split('-').filter(|p| !p.is_empty()) {
                out.push_str(&part[..1].to_uppercase());
                out.push_str(&part[1..]);
            }
            out"""])
        cases = [("-".join(words), "".join(cap(w) for w in words))]
        phr = ["Turns a kebab-case name like `my-type` into PascalCase (`MyType`)."]
    elif task == "camel_to_kebab":
        kw["fn"] = r.choice(["camel_to_kebab", "to_kebab_case", "kebab_of"])
        body = r.choice(["""
            let mut out = String::new();
            for c in $s.chars() {
                if c.is_ascii_uppercase() {
                    if !out.is_empty() {
                        out.push('-');
                    }
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out""", """
            $s.chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let dash = (i > 0 && c.is_ascii_uppercase()).then_some('-');
                    dash.into_iter()
                        .chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect()"""])
        cases = [(words[0] + "".join(cap(w) for w in words[1:]), "-".join(words)),
                 ("".join(cap(w) for w in words), "-".join(words))]
        phr = ["Converts a camelCase or PascalCase name such as `$s` to kebab-case."]
    else:
        kw["fn"] = r.choice(["to_screaming_snake", "constant_name", "screaming_case"])
        body = r.choice(["""
            $s.split_whitespace()
                .map(|w| w.to_uppercase())
                .collect::<Vec<_>>()
                .join("_")""", """
            let mut out = String::new();
            for w in $s.split_whitespace() {
                if !out.is_empty() {
                    out.push('_');
                }
                out.push_str(&w.to_ascii_uppercase());
            }
            out"""])
        cases = [(_spaced(r, words), "_".join(w.upper() for w in words)), ("", "")]
        phr = ["Turns the words of `$s` into a SCREAMING_SNAKE_CASE constant name."]
    more = r.sample([w for w in _WORDS if len(w) > 2], 2)
    extra = {"snake_to_camel": ("_".join(more), more[0] + cap(more[1])),
             "kebab_to_pascal": ("-".join(more), cap(more[0]) + cap(more[1])),
             "camel_to_kebab": (more[0] + cap(more[1]), "-".join(more)),
             "screaming": (" ".join(more), "_".join(w.upper() for w in more))}[task]
    checks = [_check(f"{kw['fn']}({_lit(a)})", b) for a, b in [*cases, extra]]
    doc = _doc(r, phr + ["Rewrites the identifier `$s` in another naming convention.",
                         "Returns `$s` converted between naming styles; ASCII letters only."], kw, checks)
    return _Prog([_fn("fn $fn($s: &str) -> String", body, kw, doc)], checks, params=task)


# ---- counting and histograms ----

@_family("char_kinds")
def _char_kinds(r: random.Random) -> _Prog:
    struct = r.random() < 0.45
    kw = {"s": r.choice(_TEXTS), "fn": r.choice(["char_kinds", "classify_chars", "count_kinds", "char_stats",
                                                 "tally_chars"])}
    pool = "abcxyzABCXYZ0123456789 .,!?-"
    cases = ["".join(r.choice(pool) for _ in range(r.randrange(3, 14))) for _ in range(3)] + [r.choice(_WORDS)]
    if struct:
        S = r.choice(["CharCounts", "Stats", "Tally", "Kinds"])
        kw["S"] = S
        items = [(f"#[derive(Debug, Default, PartialEq)]\nstruct {S} {{\n    upper: usize,\n    lower: usize,\n"
                 "    digits: usize,\n    other: usize,\n}\n")]
        sig = "fn $fn($s: &str) -> $S"
        body = r.choice(["""
            let mut counts = $S::default();
            for c in $s.chars() {
                match c {
                    'A'..='Z' => counts.upper += 1,
                    'a'..='z' => counts.lower += 1,
                    '0'..='9' => counts.digits += 1,
                    _ => counts.other += 1,
                }
            }
            counts""", """
            let mut counts = $S::default();
            for c in $s.chars() {
                if c.is_ascii_uppercase() {
                    counts.upper += 1;
                } else if c.is_ascii_lowercase() {
                    counts.lower += 1;
                } else if c.is_ascii_digit() {
                    counts.digits += 1;
                } else {
                    counts.other += 1;
                }
            }
            counts"""])

        def exp(c: str):
            u, lo, d = sum(ch.isupper() for ch in c), sum(ch.islower() for ch in c), sum(ch.isdigit() for ch in c)
            return _Raw(f"{S} {{ upper: {u}, lower: {lo}, digits: {d}, other: {len(c) - u - lo - d} }}")
        checks = [_check(f"{kw['fn']}({_lit(c)})", exp(c)) for c in cases[:2]]
        v = r.choice(["k", "stats", "counts"])
        c = cases[2]
        checks += [f"let {v} = {kw['fn']}({_lit(c)});", _check(f"{v}.digits", sum(ch.isdigit() for ch in c)),
                   _check(f"{v}.upper + {v}.lower", sum(ch.isalpha() for ch in c))]
        phr = ["Counts the upper-case letters, lower-case letters, digits and other characters of `$s`.",
               "Classifies every character of `$s` and returns how many fell in each kind.",
               "Tallies the kinds of ASCII characters in `$s` into a `$S`."]
    else:
        items = []
        sig = "fn $fn($s: &str) -> (usize, usize, usize)"
        body = r.choice(["""
            let letters = $s.chars().filter(|c| c.is_alphabetic()).count();
            let digits = $s.chars().filter(|c| c.is_ascii_digit()).count();
            let spaces = $s.chars().filter(|c| c.is_whitespace()).count();
            (letters, digits, spaces)""", """
            let (mut letters, mut digits, mut spaces) = (0, 0, 0);
            for c in $s.chars() {
                if c.is_alphabetic() {
                    letters += 1;
                } else if c.is_ascii_digit() {
                    digits += 1;
                } else if c.is_whitespace() {
                    spaces += 1;
                }
            }
            (letters, digits, spaces)""", """
            $s.chars().fold((0, 0, 0), |(l, d, w), c| match c {
                c if c.is_alphabetic() => (l + 1, d, w),
                c if c.is_ascii_digit() => (l, d + 1, w),
                c if c.is_whitespace() => (l, d, w + 1),
                _ => (l, d, w),
            })"""])
        checks = [_check(f"{kw['fn']}({_lit(c)})", (sum(ch.isalpha() for ch in c), sum(ch.isdigit() for ch in c),
                                                      sum(ch.isspace() for ch in c))) for c in cases]
        phr = ["Returns how many letters, digits and whitespace characters `$s` contains, in that order.",
               "Counts `(letters, digits, spaces)` in `$s`; punctuation is not counted.",
               "Classifies the characters of `$s` as letters, digits or whitespace and counts each kind."]
    doc = _doc(r, phr, kw)
    return _Prog([*items, _fn(sig, body, kw, doc)], checks, params=f"struct={struct}")


@_family("char_histogram")
def _char_histogram(r: random.Random) -> _Prog:
    by_count = r.random() < 0.35
    kw = {"s": r.choice(_TEXTS), "fn": r.choice(["letter_histogram", "char_counts", "letter_counts", "letter_tally",
                                                 "count_letters"])}
    style = r.choice(["btree", "array", "hashmap"])
    sort = "out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));" if by_count else "out.sort_unstable();"
    uses = []
    if style == "btree":
        uses = ["std::collections::BTreeMap"]
        body = """
            let mut counts = BTreeMap::new();
            for c in $s.chars().filter(|c| c.is_ascii_alphabetic()) {
                *counts.entry(c.to_ascii_lowercase()).or_insert(0) += 1;
            }
            """ + (f"let mut out: Vec<(char, usize)> = counts.into_iter().collect();\n{' ' * 12}{sort}\n{' ' * 12}out"
                   if by_count else "counts.into_iter().collect()")
    elif style == "array":
        body = """
            let mut counts = [0usize; 26];
            for b in $s.bytes().filter(u8::is_ascii_alphabetic) {
                counts[(b.to_ascii_lowercase() - b'a') as usize] += 1;
            }
            """ + ("let mut out: Vec<(char, usize)> = counts" if by_count else "counts") + """
                .iter()
                .enumerate()
                .filter(|&(_, &n)| n > 0)
                .map(|(i, &n)| ((b'a' + i as u8) as char, n))
                .collect()""" + (f";\n{' ' * 12}{sort}\n{' ' * 12}out" if by_count else "")
    else:
        uses = ["std::collections::HashMap"]
        body = f"""
            let mut counts: HashMap<char, usize> = HashMap::new();
            for c in $s.chars() {{
                if c.is_ascii_alphabetic() {{
                    *counts.entry(c.to_ascii_lowercase()).or_default() += 1;
                }}
            }}
            let mut out: Vec<(char, usize)> = counts.into_iter().collect();
            {sort}
            out"""
    checks = []
    for _ in range(2):
        while True:
            text = " ".join(_words(r, r.randrange(1, 3), short=True))
            if r.random() < 0.3:
                text = text.capitalize() + r.choice(["!", ".", "?"])
            if len({c.lower() for c in text if c.isalpha()}) <= 7:
                break
        counts: dict[str, int] = {}
        for c in text:
            if c.isalpha():
                counts[c.lower()] = counts.get(c.lower(), 0) + 1
        exp = sorted(counts.items(), key=(lambda kv: (-kv[1], kv[0])) if by_count else None)
        checks.append(_check(f"{kw['fn']}({_lit(text)})", _vec([( _ch(c), n) for c, n in exp], "(char, usize)")))
    checks.append(_check(f"{kw['fn']}({_lit(r.choice(['', '123', ' ?']))})", _Raw("Vec::<(char, usize)>::new()")))
    order = "most common first, ties in alphabetical order" if by_count else "in alphabetical order"
    doc = _doc(r, [f"Counts each ASCII letter of `$s`, ignoring case, as `(letter, count)` pairs,\n{order}.",
                   f"Builds a histogram of the letters in `$s` ({order}).\n\nOther characters are skipped.",
                   f"Returns how often every letter occurs in `$s`, lower-cased,\n{order}."], kw)
    sig = "fn $fn($s: &str) -> Vec<(char, usize)>"
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=f"{style} by_count={by_count}")


# ---- bytes ----

@_family("ascii_bytes")
def _ascii_bytes(r: random.Random) -> _Prog:
    task = r.choice(["score", "positions", "atoi", "from_index"])
    kw = {"s": r.choice(_TEXTS)}
    if task == "score":
        T = r.choice(["u32", "u64", "usize"])
        kw |= {"T": T, "fn": r.choice(["word_score", "letter_sum", "alphabet_score", "name_value"])}
        sig = "fn $fn($s: &str) -> $T"
        body = r.choice(["""
            $s.bytes()
                .filter(u8::is_ascii_alphabetic)
                .map(|b| (b.to_ascii_lowercase() - b'a' + 1) as $T)
                .sum()""", """
            let mut total = 0;
            for b in $s.bytes() {
                if b.is_ascii_alphabetic() {
                    total += $T::from(b.to_ascii_lowercase() - b'a') + 1;
                }
            }
            total"""])
        cases = [" ".join(_words(r, r.randrange(1, 3))) for _ in range(3)] + [r.choice(["", "42", "A"])]
        checks = [_check(f"{kw['fn']}({_lit(c)})", sum(ord(ch.lower()) - 96 for ch in c if ch.isalpha()))
                  for c in cases]
        phr = ["Adds up the alphabet positions of the letters of `$s` (a = 1, b = 2, ..., z = 26).",
               "Scores `$s` by summing each letter's place in the alphabet, ignoring case and non-letters.",
               "Returns the sum of the letter values of `$s`, where `a` and `A` are worth 1."]
    elif task == "positions":
        kw["fn"] = r.choice(["letter_positions", "alphabet_indices", "to_positions"])
        sig = "fn $fn($s: &str) -> Vec<u8>"
        body = r.choice(["""
            $s.bytes()
                .filter(u8::is_ascii_lowercase)
                .map(|b| b - b'a')
                .collect()""", """
            let mut out = Vec::with_capacity($s.len());
            for b in $s.bytes() {
                if b.is_ascii_lowercase() {
                    out.push(b - b'a');
                }
            }
            out"""])
        cases = [r.choice(_WORDS) + r.choice(["", " ", "!", "7"]) for _ in range(2)] + [r.choice(["", "ABC", "12"])]
        checks = [_check(f"{kw['fn']}({_lit(c)})", _vec([ord(ch) - 97 for ch in c if ch.islower()], "u8"))
                  for c in cases]
        phr = ["Returns the zero-based alphabet index of every lower-case ASCII letter in `$s`.",
               "Maps each lower-case letter of `$s` to its place in the alphabet (`a` is 0); skips the rest.",
               "Converts the letters of `$s` to numbers 0 to 25 using byte arithmetic."]
    elif task == "from_index":
        kw |= {"fn": r.choice(["letters_from", "from_positions", "decode_letters"]),
               "s": r.choice(["indices", "codes", "positions"])}
        sig = "fn $fn($s: &[u8]) -> String"
        body = r.choice(["$s.iter().map(|&i| (b'a' + i % 26) as char).collect()", """
            let mut out = String::with_capacity($s.len());
            for &i in $s {
                out.push(char::from(b'a' + i % 26));
            }
            out"""])
        checks = []
        for k in (r.randrange(1, 6), r.randrange(3, 8)):
            xs = [r.randrange(0, 40) for _ in range(k)]
            checks.append(_check(f"{kw['fn']}({_slice(xs)})", "".join(chr(97 + x % 26) for x in xs)))
        checks.append(_check(f"{kw['fn']}(&[])", ""))
        phr = ["Turns alphabet indices into letters: 0 is `a`, 25 is `z`, and 26 wraps back to `a`.",
               "Builds a lower-case string from the letter positions in `$s` (taken modulo 26).",
               "Decodes numbers into letters with `b'a' + i`."]
    else:
        kw["fn"] = r.choice(["parse_digits", "atoi", "digits_to_number", "to_number"])
        sig = "fn $fn($s: &str) -> Option<u32>"
        body = r.choice(["""
            if $s.is_empty() {
                return None;
            }
            let mut n: u32 = 0;
            for b in $s.bytes() {
                if !b.is_ascii_digit() {
                    return None;
                }
                n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
            }
            Some(n)""", """
            if $s.is_empty() || !$s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            $s.bytes().try_fold(0u32, |n, b| {
                n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
            })"""])
        cases = [str(r.randrange(0, 10 ** r.randrange(1, 9))) for _ in range(3)]
        cases += [r.choice(["", "12a", "-5", " 7", "4.0"]), r.choice(["4294967295", "4294967296", "99999999999"])]
        checks = [_check(f"{kw['fn']}({_lit(c)})",
                         _some(int(c) if c.isdigit() and int(c) < 2 ** 32 else None)) for c in cases]
        phr = [("Parses a string of ASCII digits into a `u32` by hand, one byte at a time.\n\n"
               "Returns `None` for an empty string, a non-digit, or a value that overflows."),
               "Converts the decimal digits of `$s` to a number without `str::parse`.",
               "Reads `$s` as an unsigned decimal number using byte arithmetic and checked math."]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- slicing and searching ----

@_family("path_parts")
def _path_parts(r: random.Random) -> _Prog:
    task = r.choice(["extension", "stem", "unwrap", "trim_slashes"])
    kw = {"s": r.choice(["path", "name", "file", "s"])}
    names = [f"{r.choice(_WORDS)}.{r.choice(['rs', 'txt', 'toml', 'md', 'tar.gz'])}" for _ in range(2)]
    if task == "extension":
        kw["fn"] = r.choice(["extension", "file_extension", "ext_of", "suffix_of"])
        sig = "fn $fn($s: &str) -> Option<&str>"
        body = r.choice(["$s.rsplit_once('.').map(|(_, ext)| ext)", """
            let dot = $s.rfind('.')?;
            Some(&$s[dot + 1..])"""])
        cases = names + [r.choice(_WORDS), f"{r.choice(_WORDS)}/{r.choice(_WORDS)}.rs"]
        checks = [_check(f"{kw['fn']}({_lit(c)})", _some(c.rpartition(".")[2] if "." in c else None)) for c in cases]
        phr = ["Returns the text after the last `.` of `$s`, or `None` if there is no dot.",
               "Gets the extension of a file name such as `main.rs`.",
               "The part of `$s` following its final dot, if it has one."]
    elif task == "stem":
        kw["fn"] = r.choice(["file_stem", "base_name", "stem_of", "name_without_ext"])
        sig = "fn $fn($s: &str) -> &str"
        body = r.choice(["""
            let name = $s.rsplit('/').next().unwrap_or($s);
            match name.find('.') {
                Some(0) | None => name,
                Some(i) => &name[..i],
            }""", """
            let name = match $s.rfind('/') {
                Some(i) => &$s[i + 1..],
                None => $s,
            };
            match name.split_once('.') {
                Some((stem, _)) if !stem.is_empty() => stem,
                _ => name,
            }"""])
        dirs = [f"{r.choice(_WORDS)}/", f"/{r.choice(_WORDS)}/{r.choice(_WORDS)}/", ""]
        cases = [r.choice(dirs) + n for n in names] + [r.choice(dirs) + r.choice(_WORDS), f".{r.choice(_WORDS)}"]

        def stem(c: str) -> str:
            name = c.rpartition("/")[2]
            i = name.find(".")
            return name if i <= 0 else name[:i]
        checks = [_check(f"{kw['fn']}({_lit(c)})", stem(c)) for c in cases]
        phr = ["Returns the file name of `$s` without its directories or extensions.",
               ("Strips the directory part and everything from the first dot of the file name.\n\n"
               "A name that starts with a dot, like `.profile`, is returned whole."),
               "The bare name of the file at `$s`: `src/main.rs` gives `main`."]
    elif task == "unwrap":
        open_, close = r.choice([("(", ")"), ("[", "]"), ("<", ">"), ("{", "}")])
        kw |= {"fn": r.choice(["strip_brackets", "unwrap_brackets", "inner_text", "unbracket"]), "o": open_, "c": close}
        sig = "fn $fn($s: &str) -> Option<&str>"
        body = r.choice(["$s.strip_prefix('$o')?.strip_suffix('$c')",
                         "$s.strip_prefix('$o')\n    .and_then(|rest| rest.strip_suffix('$c'))", """
            if $s.len() >= 2 && $s.starts_with('$o') && $s.ends_with('$c') {
                Some(&$s[1..$s.len() - 1])
            } else {
                None
            }"""])
        w = r.choice(_WORDS)
        cases = [f"{open_}{w}{close}", f"{open_}{close}", f"{open_}{r.choice(_WORDS)}", r.choice(_WORDS),
                 f"{open_}{r.choice(_WORDS)} {r.choice(_WORDS)}{close}"]
        r.shuffle(cases)

        def inner(c: str):
            return c[1:-1] if len(c) >= 2 and c[0] == open_ and c[-1] == close else None
        checks = [_check(f"{kw['fn']}({_lit(c)})", _some(inner(c))) for c in cases]
        phr = [f"Returns the text between a leading `{open_}` and a trailing `{close}`, or `None`.",
               f"Removes one pair of surrounding `{open_}{close}` from `$s`, if it has them.",
               f"The contents of `$s` when it is wrapped in `{open_}` and `{close}`."]
    else:
        kw["fn"] = r.choice(["trim_slashes", "strip_slashes", "normalize_dir"])
        sig = "fn $fn($s: &str) -> &str"
        body = r.choice(["$s.trim_matches('/')", "$s.trim_start_matches('/').trim_end_matches('/')", """
            let mut out = $s;
            while let Some(rest) = out.strip_prefix('/') {
                out = rest;
            }
            while let Some(rest) = out.strip_suffix('/') {
                out = rest;
            }
            out"""])
        cases = ["/" * r.randrange(3) + "/".join(_words(r, r.randrange(1, 4), True)) + "/" * r.randrange(3)
                 for _ in range(3)] + [r.choice(["", "/", "///"])]
        checks = [_check(f"{kw['fn']}({_lit(c)})", c.strip("/")) for c in cases]
        phr = ["Removes all leading and trailing slashes from `$s`; inner ones stay.",
               "Trims `/` from both ends of a path.",
               "Returns `$s` without slashes at its start or end."]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


@_family("str_lookup")
def _str_lookup(r: random.Random) -> _Prog:
    task = r.choice(["nth_word", "last_char", "first_digit", "after_marker"])
    kw = {"s": r.choice(_TEXTS)}
    if task == "nth_word":
        kw |= {"fn": r.choice(["nth_word", "word_at", "get_word"]), "n": r.choice(["n", "index", "i"])}
        sig = "fn $fn($s: &str, $n: usize) -> Option<&str>"
        body = r.choice(["$s.split_whitespace().nth($n)", """
            for (pos, word) in $s.split_whitespace().enumerate() {
                if pos == $n {
                    return Some(word);
                }
            }
            None"""])
        text = _spaced(r, _words(r, r.randrange(2, 6)))
        ws = text.split()
        checks = [f"let {kw['s']} = {_lit(text)};"]
        checks += [_check(f"{kw['fn']}({kw['s']}, {i})", _some(ws[i] if i < len(ws) else None))
                   for i in sorted(r.sample(range(len(ws) + 2), 3))]
        phr = ["Returns the word at zero-based position `$n` in `$s`, or `None` if there are fewer words.",
               "Gets the `$n`-th whitespace-separated word of `$s`.",
               "Looks up one word of `$s` by index."]
    elif task == "last_char":
        alpha = r.random() < 0.5
        kw["fn"] = r.choice(["last_letter", "final_letter"] if alpha else ["last_char", "final_char", "ending_char"])
        sig = "fn $fn($s: &str) -> Option<char>"
        if alpha:
            body = r.choice(["$s.chars().rev().find(|c| c.is_alphabetic())", """
                let mut last = None;
                for c in $s.chars() {
                    if c.is_alphabetic() {
                        last = Some(c);
                    }
                }
                last"""])
        else:
            body = r.choice(["$s.chars().last()", "$s.chars().next_back()"])
        cases = [r.choice(_WORDS) + r.choice(["", "!", " ", "42", "."]) for _ in range(3)] + [r.choice(["", "7"])]

        def last(c: str):
            cs = [ch for ch in c if ch.isalpha() or not alpha]
            return _ch(cs[-1]) if cs else None
        checks = [_check(f"{kw['fn']}({_lit(c)})", _some(last(c))) for c in cases]
        what = "letter" if alpha else "character"
        phr = [f"Returns the last {what} of `$s`, or `None` if there is none.",
               f"Finds the final {what} in `$s`.", f"The {what} that ends `$s`, if any."]
    elif task == "first_digit":
        kw["fn"] = r.choice(["first_digit", "leading_digit_value", "find_digit"])
        sig = "fn $fn($s: &str) -> Option<u32>"
        body = r.choice(["$s.chars().find_map(|c| c.to_digit(10))", """
            for c in $s.chars() {
                if let Some(d) = c.to_digit(10) {
                    return Some(d);
                }
            }
            None""", """
            $s.chars()
                .find(|c| c.is_ascii_digit())
                .map(|c| c as u32 - '0' as u32)"""])
        cases = [r.choice(_WORDS) + str(r.randrange(100)) + r.choice(_WORDS) for _ in range(2)]
        cases += [str(r.randrange(10, 99)) + r.choice(_WORDS), r.choice(_WORDS)]
        checks = [_check(f"{kw['fn']}({_lit(c)})", _some(next((int(ch) for ch in c if ch.isdigit()), None)))
                  for c in cases]
        phr = ["Returns the value of the first decimal digit in `$s`, or `None` if it has no digits.",
               "Scans `$s` for its first digit and converts it to a number.",
               "The first digit of `$s` as a number."]
    else:
        marker = r.choice([":", "=", "->", ": "])
        kw |= {"fn": r.choice(["value_after", "text_after", "after_marker", "field_value"]), "m": marker}
        sig = "fn $fn($s: &str) -> Option<&str>"
        body = r.choice(['$s.find("$m").map(|i| $s[i + "$m".len()..].trim())',
                         '$s.split_once("$m").map(|(_, rest)| rest.trim())', """
            let i = $s.find("$m")?;
            Some($s[i + "$m".len()..].trim())"""])
        cases = [f"{r.choice(_WORDS)}{marker}{r.choice(['', ' '])}{r.choice(_WORDS)}" for _ in range(2)]
        cases += [f"{r.choice(_WORDS)} {r.choice(_WORDS)}", f"{r.choice(_WORDS)}{marker}"]
        checks = [_check(f"{kw['fn']}({_lit(c)})", _some(c.partition(marker)[2].strip() if marker in c else None))
                  for c in cases]
        phr = [f"Returns the trimmed text after the first `{marker}` in `$s`, or `None` if it is missing.",
               f"Gets what follows the `{marker}` marker of a line like `name{marker}value`.",
               f"The value part of `$s`, after its first `{marker}`."]
    doc = _doc(r, phr, kw, [c for c in checks if not c.startswith("let")])
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- building strings ----

@_family("join_build")
def _join_build(r: random.Random) -> _Prog:
    task = r.choice(["join_nums", "underline", "repeat_word", "boxed"])
    uses: list[str] = []
    if task == "join_nums":
        T = r.choice(["i32", "i64", "u32", "usize"])
        kw = {"xs": r.choice(["nums", "values", "xs", "items"]), "T": T, "sep": r.choice(["sep", "separator", "delim"]),
              "fn": r.choice(["join_numbers", "join_with", "list_to_string", "format_list"])}
        sig = "fn $fn($xs: &[$T], $sep: &str) -> String"
        style = r.choice(["iter", "write", "loop"])
        if style == "write":
            uses = ["std::fmt::Write"]
        body = {"iter": """
            $xs.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join($sep)""", "write": """
            let mut out = String::new();
            for (i, x) in $xs.iter().enumerate() {
                if i > 0 {
                    out.push_str($sep);
                }
                write!(out, "{}", x).unwrap();
            }
            out""", "loop": """
            let mut out = String::new();
            for x in $xs {
                if !out.is_empty() {
                    out.push_str($sep);
                }
                out.push_str(&x.to_string());
            }
            out"""}[style]
        lo = -50 if T.startswith("i") else 0
        checks = []
        for k in (r.randrange(1, 5), r.randrange(2, 6)):
            xs, sep = [r.randrange(lo, 100) for _ in range(k)], r.choice([", ", "-", " ", " | ", ";"])
            checks.append(_check(f"{kw['fn']}({_slice(xs)}, {_lit(sep)})", sep.join(map(str, xs))))
        checks.append(_check(f"{kw['fn']}(&[], {_lit(r.choice([',', ' ']))})", ""))
        phr = ["Joins the numbers of `$xs` into one string with `$sep` between them.",
               "Formats a slice of numbers as text separated by `$sep`.",
               "Returns the elements of `$xs` written out and joined with `$sep`."]
    elif task == "underline":
        mark = r.choice(["=", "-", "~", "*"])
        kw = {"t": r.choice(["title", "heading", "s"]), "m": mark,
              "fn": r.choice(["underline", "heading", "underlined", "make_heading"])}
        sig = "fn $fn($t: &str) -> String"
        body = r.choice(['format!("{}\\n{}", $t, "$m".repeat($t.chars().count()))', """
            let mut out = String::with_capacity($t.len() * 2 + 1);
            out.push_str($t);
            out.push('\\n');
            for _ in $t.chars() {
                out.push('$m');
            }
            out"""])
        cases = [" ".join(_words(r, r.randrange(1, 3))).capitalize() for _ in range(2)]
        checks = [_check(f"{kw['fn']}({_lit(c)})", f"{c}\n{mark * len(c)}") for c in cases]
        phr = [f"Returns `$t` followed by a newline and a row of `{mark}` as long as the title.",
               f"Underlines a heading with `{mark}` characters on the next line.",
               "Formats `$t` as a heading with an underline of matching length."]
    elif task == "repeat_word":
        kw = {"w": r.choice(["word", "s", "unit"]), "n": r.choice(["n", "times", "count"]),
              "fn": r.choice(["repeat_word", "repeat_joined", "echo_word", "say_times"])}
        sig = "fn $fn($w: &str, $n: usize) -> String"
        body = r.choice(['vec![$w; $n].join(" ")', """
            std::iter::repeat($w)
                .take($n)
                .collect::<Vec<_>>()
                .join(" ")""",
                         """
            let mut out = String::with_capacity(($w.len() + 1) * $n);
            for i in 0..$n {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str($w);
            }
            out"""])
        checks = []
        for _ in range(3):
            w, n = r.choice(_WORDS), r.randrange(0, 5)
            checks.append(_check(f"{kw['fn']}({_lit(w)}, {n})", " ".join([w] * n)))
        phr = ["Returns `$w` repeated `$n` times with single spaces in between.",
               "Repeats a word `$n` times, separated by spaces; zero times gives an empty string.",
               "Builds `\"$w $w ...\"` with `$n` copies of the word."]
    else:
        kw = {"t": r.choice(["text", "label", "s"]), "fn": r.choice(["boxed", "frame", "draw_box", "in_box"])}
        sig = "fn $fn($t: &str) -> String"
        body = r.choice(["""
            let line = "-".repeat($t.len() + 2);
            format!("+{}+\\n| {} |\\n+{}+", line, $t, line)""", """
            let border = format!("+{}+", "-".repeat($t.len() + 2));
            [border.clone(), format!("| {} |", $t), border].join("\\n")"""])
        cases = [r.choice(_WORDS), " ".join(_words(r, 2))]
        checks = [_check(f"{kw['fn']}({_lit(c)})", f"+{'-' * (len(c) + 2)}+\n| {c} |\n+{'-' * (len(c) + 2)}+")
                  for c in cases]
        phr = ["Draws an ASCII box around `$t`, three lines joined by newlines.",
               "Returns `$t` framed by `+`, `-` and `|` characters.",
               "Surrounds a one-line label with a border one space away from it."]
    doc = _doc(r, phr, kw)
    return _Prog([_fn(sig, body, kw, doc)], checks, uses=uses, params=task)


def _no_tie(x: float, places: int) -> bool:
    """False when `x` lies exactly halfway between two roundings, where formatters may disagree."""
    return (Fraction(x) * 10 ** places) % 1 != Fraction(1, 2)


@_family("float_format")
def _float_format(r: random.Random) -> _Prog:
    task = r.choice(["price", "percent", "places", "aligned"])
    if task == "price":
        kw = {"c": r.choice(["cents", "amount", "total_cents"]), "cur": r.choice(["$", "€", "£"]),
              "fn": r.choice(["format_price", "format_cents", "money", "price_tag"])}
        T = r.choice(["u32", "u64"])
        kw["T"] = T
        sig = "fn $fn($c: $T) -> String"
        body = r.choice(['format!("$cur{}.{:02}", $c / 100, $c % 100)', """
            let whole = $c / 100;
            let rest = $c % 100;
            format!("$cur{whole}.{rest:02}")"""])
        checks = []
        for _ in range(4):
            c = r.choice([r.randrange(0, 100), r.randrange(100, 100000)])
            checks.append(_check(f"{kw['fn']}({c})", f"{kw['cur']}{c // 100}.{c % 100:02d}"))
        phr = ["Formats an amount of `$c` as money with two decimals, like `${cur}12.05`.",
               "Turns a whole number of cents into a price string without floating point.",
               "Writes `$c` as `$cur` followed by units, a dot and exactly two digits of cents."]
    elif task == "percent":
        p = r.choice([0, 1, 2])
        kw = {"a": r.choice(["part", "done", "hits"]), "b": r.choice(["total", "whole", "count"]), "p": str(p),
              "fn": r.choice(["percent", "as_percent", "percentage", "progress"])}
        sig = "fn $fn($a: u32, $b: u32) -> String"
        body = r.choice(["""
            if $b == 0 {
                return "n/a".to_string();
            }
            format!("{:.$p}%", f64::from($a) * 100.0 / f64::from($b))""", """
            match $b {
                0 => String::from("n/a"),
                _ => {
                    let pct = $a as f64 / $b as f64 * 100.0;
                    format!("{pct:.$p}%")
                }
            }"""])
        checks = []
        while len(checks) < 3:
            b = r.randrange(1, 400)
            a = r.randrange(0, b + 1)
            styled = "f64::from" in body
            x = a * 100.0 / b if styled else a / b * 100.0
            if _no_tie(x, p) and _no_tie(a * 100 / b, p):
                checks.append(_check(f"{kw['fn']}({a}, {b})", f"{x:.{p}f}%"))
        checks.append(_check(f"{kw['fn']}({r.randrange(5)}, 0)", "n/a"))
        phr = [f"Returns `$a` as a percentage of `$b` with {p} decimal places, or `n/a` when `$b` is 0.",
               "Formats the ratio `$a / $b` as a percentage string such as `42.5%`.",
               "Describes progress as a percentage; a zero `$b` gives `n/a`."]
    elif task == "places":
        kw = {"x": r.choice(["x", "value", "v"]), "d": r.choice(["places", "digits", "decimals"]),
              "fn": r.choice(["round_to", "fixed", "to_fixed", "with_places"])}
        sig = "fn $fn($x: f64, $d: usize) -> String"
        body = r.choice(['format!("{:.*}", $d, $x)', 'format!("{:.1$$}", $x, $d)', 'format!("{$x:.$d$$}")'])
        checks = []
        while len(checks) < 4:
            x = round(r.uniform(-100, 100), r.randrange(1, 5))
            d = r.randrange(0, 4)
            if _no_tie(x, d):
                checks.append(_check(f"{kw['fn']}({x!r}, {d})", f"{x:.{d}f}"))
        phr = ["Formats `$x` with exactly `$d` digits after the decimal point.",
               "Rounds `$x` to `$d` decimal places for display.",
               "Returns `$x` as text with a precision chosen at run time."]
    else:
        w, p = r.randrange(6, 11), r.randrange(1, 4)
        kw = {"n": r.choice(["name", "label", "key"]), "x": r.choice(["value", "x", "amount"]), "w": str(w),
              "p": str(p),
              "fn": r.choice(["format_row", "aligned_row", "report_line", "table_line"])}
        sig = "fn $fn($n: &str, $x: f64) -> String"
        body = r.choice(['format!("{:<$w}|{:>$w.$p}", $n, $x)', 'format!("{$n:<$w}|{$x:>$w.$p}")'])
        checks = []
        while len(checks) < 3:
            name, x = r.choice(_WORDS), round(r.uniform(-500, 5000), r.randrange(1, 4))
            if _no_tie(x, p):
                checks.append(_check(f"{kw['fn']}({_lit(name)}, {x!r})", f"{name:<{w}}|{x:>{w}.{p}f}"))
        phr = [(f"Formats one table row: `$n` left-aligned in {w} columns, a bar, then `$x` right-aligned\n"
               f"in {w} columns with {p} decimals."),
               "Lays out a label and a number so that rows line up in a column.",
               "Returns a fixed-width line for a report of names and values."]
    doc = _doc(r, phr, kw, checks)
    return _Prog([_fn(sig, body, kw, doc)], checks, params=task)


# ---- tokenizing ----

@_family("tokenize_expr")
def _tokenize_expr(r: random.Random) -> _Prog:
    E = r.choice(["Token", "Tok", "Lexeme", "Piece"])
    num, op = r.choice([("Num", "Op"), ("Number", "Operator"), ("Int", "Sym")])
    lp, rp = r.choice([("LParen", "RParen"), ("Open", "Close")])
    kw = {"E": E, "N": num, "O": op, "L": lp, "R": rp, "s": r.choice(_TEXTS + ["expr"]),
          "fn": r.choice(["tokenize", "lex", "lex_expr", "scan_tokens", "split_tokens"])}
    style = r.choice(["peek", "index"])
    arms = """
                    '+' | '-' | '*' | '/' => tokens.push($E::$O(c)),
                    '(' => tokens.push($E::$L),
                    ')' => tokens.push($E::$R),
                    c if c.is_whitespace() => {}
                    _ => return Err(format!("unexpected {:?}", c)),"""
    if style == "peek":
        body = """
            let mut tokens = Vec::new();
            let mut chars = $s.chars().peekable();
            while let Some(c) = chars.next() {
                if let Some(d) = c.to_digit(10) {
                    let mut n = i64::from(d);
                    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                        n = n * 10 + i64::from(d);
                        chars.next();
                    }
                    tokens.push($E::$N(n));
                    continue;
                }
                match c {ARMS
                }
            }
            Ok(tokens)"""
    else:
        body = """
            let chars: Vec<char> = $s.chars().collect();
            let mut tokens = Vec::new();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                if c.is_ascii_digit() {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    tokens.push($E::$N(text.parse().unwrap()));
                    continue;
                }
                match c {ARMS
                }
                i += 1;
            }
            Ok(tokens)"""
    body = body.replace("ARMS", arms)
    enum = (f"#[derive(Debug, Clone, Copy, PartialEq)]\nenum {E} {{\n    {num}(i64),\n    {op}(char),\n    {lp},\n"
            f"    {rp},\n}}\n")

    def make_expr() -> tuple[str, list[str]]:
        parts: list[str] = []
        toks: list[str] = []
        for i in range(r.randrange(2, 4)):
            if i:
                o = r.choice("+-*/")
                parts.append(o)
                toks.append(f"{E}::{op}({_ch(o)})")
            if r.random() < 0.25:
                a, o, b = r.randrange(100), r.choice("+-*/"), r.randrange(100)
                parts += ["(", str(a), o, str(b), ")"]
                toks += [f"{E}::{lp}", f"{E}::{num}({a})", f"{E}::{op}({_ch(o)})", f"{E}::{num}({b})", f"{E}::{rp}"]
            else:
                n = r.randrange(1000)
                parts.append(str(n))
                toks.append(f"{E}::{num}({n})")
        text = "".join(p + (" " if r.random() < 0.5 else "") for p in parts).strip()
        return text, toks
    checks = []
    text, toks = make_expr()
    while len(", ".join(toks)) > 78:  # keep the expected vector on one rustfmt line
        text, toks = make_expr()
    checks.append(_check(f"{kw['fn']}({_lit(text)})", _Raw(f"Ok(vec![{', '.join(toks)}])")))
    text, toks = make_expr()
    v = r.choice(["toks", "tokens", "out"])
    checks += [f"let {v} = {kw['fn']}({_lit(text)}).unwrap();", _check(f"{v}.len()", len(toks)),
               _check(f"{v}[0]", _Raw(toks[0]))]
    bad = r.choice(["x", "$", "a", "=", "%"])
    checks.append(_check(f"{kw['fn']}({_lit(f'{r.randrange(10)} {bad} {r.randrange(10)}')})",
                         _Raw(f"Err({_lit(f'unexpected {chr(39)}{bad}{chr(39)}')}.to_string())")))
    doc = _doc(r, [("Splits an arithmetic expression into numbers, operators and parentheses.\n\n"
                   "Whitespace is skipped; any other character is an error."),
                   f"Turns `$s` into a list of `{E}`s, reading multi-digit numbers whole.",
                   "A small lexer for expressions such as `12 * (3 + 4)`."], kw)
    sig = "fn $fn($s: &str) -> Result<Vec<$E>, String>"
    return _Prog([enum, _fn(sig, body, kw, doc)], checks, params=f"{style} {E}")
