"""Doc comments that show calls and their results: `/// >>> f(2, 3)` then `/// 5`.

Code-generation tasks document a function with a sentence and a few example calls, each call on a `>>>` line
and its value on the next line (the doctest layout, which MultiPL-E keeps for Rust). The generator's programs
document their function with a sentence and check it with `assert_eq!`s in `main`, and show examples, if at all,
as an `# Examples` block of assertions. `with_doc_examples(text, rng)` writes some of a program's own assertions
into its documented function's doc comment in the `>>>` layout, so a model meets that layout with the
code it describes. Only comment lines are added; the result is a new candidate, verified like the rest.

A program qualifies when its `main` is only one-line `assert_eq!(f(...), value);` / `assert!(f(...));` /
`assert!(!f(...));` statements (no `let`: a call must not name a local of `main`), and the function `f` most of
them call is a free function with a `///` doc comment that holds no code block yet.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from nanochat_cli.data.synthetic_rust import _top_level_args

_FN = re.compile(r"^(?:pub )?fn ([A-Za-z_][A-Za-z0-9_]*)\b")
_ASSERT = re.compile(r"^    (assert_eq|assert)!\((.*)\);$")


def _call_of(expr: str, names: set[str]) -> str | None:
    """The function `expr` calls when it is exactly one call `name(...)` of a name in `names`; else None."""
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\(", expr)
    if not m or m.group(1) not in names:
        return None
    depth = 0
    for i, c in enumerate(expr):  # the call's own parenthesis must close at the end of expr
        depth += c == "("
        depth -= c == ")"
        if depth == 0 and c == ")":
            return m.group(1) if i == len(expr) - 1 else None
    return None


def _examples(lines: list[str], names: set[str]) -> list[tuple[str, str, str]] | None:
    """(function, call, value) for each assertion in main's body; None when main holds anything else."""
    out = []
    for line in lines:
        m = _ASSERT.match(line)
        if not m:
            return None
        macro, args = m.groups()
        if macro == "assert_eq":
            parts = _top_level_args(args)
            if len(parts) != 2:
                return None
            call, value = parts
        else:
            call, value = (args[1:], "false") if args.startswith("!") else (args, "true")
        fn = _call_of(call, names)
        if fn is None:
            return None
        out.append((fn, call, value))
    return out


def with_doc_examples(text: str, rng: random.Random, most: int = 3) -> str | None:
    """`text` with 1..`most` of its assertions shown in the documented function's doc comment as `>>>` lines,
    in the order main checks them; None when the program does not qualify (see the module docstring)."""
    lines = text.split("\n")
    try:
        start = lines.index("fn main() {")
        end = lines.index("}", start)
    except ValueError:
        return None
    fns = {m.group(1): i for i, line in enumerate(lines[:start]) if (m := _FN.match(line))}
    examples = _examples(lines[start + 1 : end], set(fns))
    if not examples:
        return None
    counts = Counter(fn for fn, _, _ in examples)
    fn = max(counts, key=lambda f: (counts[f], -fns[f]))
    at = fns[fn]
    doc = at
    while doc > 0 and lines[doc - 1].startswith("///"):
        doc -= 1
    if doc == at or any("```" in line for line in lines[doc:at]):
        return None
    own = [(call, value) for f, call, value in examples if f == fn]
    shown = own[: rng.randint(1, min(most, len(own)))]
    added = [line for call, value in shown for line in (f"/// >>> {call}", f"/// {value}")]
    return "\n".join(lines[:at] + added + lines[at:])
