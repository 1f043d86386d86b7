"""Decontamination: drop corpus files that contain an evaluation prompt's signature and doc text.

A MultiPL-E prompt is `///` doc lines + `fn name(...) -> T {`. A file is contaminated when, after
comment markers (`//`, `///`, `//!`, `/* */`, the `*` leading the lines of a block comment) are removed,
whitespace next to punctuation is dropped and the rest collapsed, it contains both the signature and the
doc text of some prompt. Files are first narrowed by the `fn` names they define, so the check is cheap.

Snippets (the verified corpus: short whole programs that carry no doc comments) are held to a stricter
test, `SnippetDecontaminator`: an evaluation signature alone, or an evaluation body (a problem's test
`fn main`, a reference solution, any long line of either) after comments and spacing are normalized away.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from nanochat_cli.errors import NanochatError
from nanochat_cli.rust import problems

_FN_NAME = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT_MARKERS = re.compile(r"//[/!]?|/\*+|\*+/")
_BLOCK_LINE_STAR = re.compile(r"^[ \t]*\*(?!/)", re.MULTILINE)  # the ` * ` that starts lines of a /** */ block
_SPACE_AT_PUNCT = re.compile(r"\s*([^\w\s])\s*")  # rustfmt or not: `-> T {` and `->T{` read the same
_SPACE = re.compile(r"\s+")
MIN_BARE_SIGNATURE = 40
MATCHER_VERSION = 2  # part of the prepared corpus's cache key: raise it whenever matching changes


@dataclass(frozen=True)
class EvalSignature:
    fn_name: str
    signature: str  # normalized `fn name(...) -> T {`
    doc: str  # normalized doc text (may be empty)
    spaced_length: int = 0  # the signature's length as written, whitespace collapsed


def _normalize(text: str) -> str:
    text = _COMMENT_MARKERS.sub(" ", _BLOCK_LINE_STAR.sub(" ", text))
    return _SPACE.sub(" ", _SPACE_AT_PUNCT.sub(r"\1", text)).strip()


def _spaced_length(signature: str) -> int:
    """A signature's length with rustfmt's spacing (whitespace collapsed, not removed): what MIN_BARE_SIGNATURE
    counts, so that dropping the spaces at punctuation for matching leaves the same prompts indexed."""
    return len(_SPACE.sub(" ", signature).strip())


def signature_of(prompt: str) -> EvalSignature | None:
    """Split a prompt into doc text and signature; None when it holds no `fn`."""
    lines = prompt.rstrip().splitlines()
    fn_at = next((i for i in range(len(lines) - 1, -1, -1) if _FN_NAME.search(lines[i])), None)
    if fn_at is None:
        return None
    doc = "\n".join(line for line in lines[:fn_at] if line.lstrip().startswith("//"))
    sig = "\n".join(lines[fn_at:])
    return EvalSignature(_FN_NAME.search(lines[fn_at]).group(1), _normalize(sig), _normalize(doc),
                         _spaced_length(sig))


def _prompts_from_files() -> list[str]:
    """MultiPL-E prompts read straight from the benchmark files (used when the problem sets cannot be loaded)."""
    d = problems.multiple_dir()
    prompts: list[str] = []
    for f in sorted(d.glob("*.json")):
        prompts += [p["prompt"] for p in json.loads(f.read_text(encoding="utf-8"))]
    for f in sorted(d.glob("*.jsonl")):
        prompts += [json.loads(line)["prompt"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return prompts


def evaluation_prompts() -> list[str]:
    """Every evaluation prompt the project uses (nanochat_cli.rust.problems)."""
    try:
        prompts = problems.eval_prompts_for_decontamination()
    except (OSError, NanochatError):  # the problem sets are unreadable
        return _prompts_from_files()
    return [p if isinstance(p, str) else p.prompt for p in prompts]


class Decontaminator:
    """Holds the evaluation signatures indexed by fn name; `is_contaminated(text)` checks one file."""

    def __init__(self, prompts: list[str]):
        self.by_name: dict[str, list[EvalSignature]] = {}
        for p in prompts:
            s = signature_of(p)
            # a prompt without doc text is matched on its signature alone, so short generic ones
            # (`fn new() -> Self {`) would drop innocent files: those are skipped
            if s is not None and (s.doc or s.spaced_length >= MIN_BARE_SIGNATURE):
                self.by_name.setdefault(s.fn_name, []).append(s)
        self.count = sum(len(v) for v in self.by_name.values())

    def is_contaminated(self, text: str) -> bool:
        names = set(_FN_NAME.findall(text)) & self.by_name.keys()
        if not names:
            return False
        norm = _normalize(text)
        return any(s.signature in norm and s.doc in norm for n in names for s in self.by_name[n])


# ---- snippets: signature alone, or a normalized body ----

_LINE_COMMENT = re.compile(r"//[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
MIN_BODY = 40  # normalized characters: shorter bodies (`a + b`) are common code, not a copied problem
MIN_BODY_LINE = 40  # a single normalized line this long (an `assert_eq!(candidate(...), ...)`) counts alone


def body_lines(text: str) -> list[str]:
    """Code lines with comments removed, whitespace at punctuation dropped and the rest collapsed; blanks gone."""
    text = _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))
    lines = (_SPACE.sub(" ", _SPACE_AT_PUNCT.sub(r"\1", ln)).strip() for ln in text.splitlines())
    return [ln for ln in lines if ln]


def evaluation_bodies() -> list[str]:
    """Test programs and reference solutions of every evaluation problem (tests start with the `}` closing
    the prompt's function: dropped). Empty when the problem sets cannot be loaded."""
    try:
        found = [p for name in problems.BUILTIN_SETS for p in problems.load_problem_set(name)]
        for filename in problems.MULTIPLE_FILES.values():
            if (problems.multiple_dir() / filename).is_file():
                found += problems.load_problem_file(problems.multiple_dir() / filename)
    except (OSError, NanochatError):
        return []
    bodies = [p.tests.lstrip().removeprefix("}") for p in found]
    return bodies + [p.reference for p in found if p.reference]


class SnippetDecontaminator:
    """`is_contaminated(program)`: the program holds an evaluation signature (doc text or not) or body."""

    def __init__(self, prompts: list[str], bodies: list[str]):
        self.signatures = Decontaminator(prompts)
        self.lines: set[str] = set()
        self.bodies: dict[str, list[str]] = {}  # keyed by the body's longest line, to narrow the search
        for b in bodies:
            lines = body_lines(b)
            if sum(map(len, lines)) < MIN_BODY:
                continue
            self.lines |= {ln for ln in lines if len(ln) >= MIN_BODY_LINE}
            self.bodies.setdefault(max(lines, key=len), []).append("\n".join(lines))
        self.count = self.signatures.count + sum(len(v) for v in self.bodies.values())

    def matches_signature(self, text: str) -> bool:
        names = set(_FN_NAME.findall(text)) & self.signatures.by_name.keys()
        if not names:
            return False
        norm = _normalize(text)
        return any(s.signature in norm for n in names for s in self.signatures.by_name[n])

    def matches_body(self, text: str) -> bool:
        lines = body_lines(text)
        present = set(lines)
        if present & self.lines:
            return True
        joined = "\n".join(lines)
        return any(b in joined for key in present & self.bodies.keys() for b in self.bodies[key])

    def is_contaminated(self, text: str) -> bool:
        return self.matches_signature(text) or self.matches_body(text)
