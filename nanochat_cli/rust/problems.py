"""Rust evaluation problems: the built-in sets and MultiPL-E files, stop-token cut, program assembly.

`load_problem_set("rust-basic")`, `load_problem_set("seed16")`, `load_problem_set("seed16-extra")` or
`load_problem_set(path)` for a MultiPL-E-format file (JSON list or JSONL with name, prompt, tests, stop_tokens), such as
HumanEval-rs / MBPP-rs from the MultiPL-E repository (`prompts/humaneval-rs-reworded.json`).

A program is assembled exactly as MultiPL-E's evaluator does:
`prompt + cut_at_stop_tokens(completion) + "\\n" + tests` (MultiPL-E `evaluation/src/main.py`),
with the problem's `preamble` (declarations a compile-only item needs, e.g. `struct Point` for
`impl Point {`) in front; MultiPL-E problems have an empty preamble, so their programs are identical.

seed16 is the seed project's 16 one-line prompts, verbatim (no trailing newline), compile-only:
- a prompt that opens an item (`fn ... {`, `impl Point {`, `trait Parser {`, `macro_rules! m {`) is
  closed MultiPL-E's way: the completion is cut at the first "\n}" and `tests` ("}\n") closes the item;
- a prompt that is a whole item (`struct Point { x: f64, y: f64 }`, `enum Color { Red, Green, Blue }`)
  uses the same stop and `tests`: the model is expected to write the next item (an `impl`, a `fn`), the
  cut ends it at its first column-0 "}" and `tests` puts that brace back; a completion that never closes
  an item at column 0 leaves one "}" too many and does not compile;
- `impl Point {` and `impl ToString for Point {` get `struct Point { x: f64, y: f64 }` as a preamble;
- `async fn fetch_data` has `edition: "2018"`, the least edition in which `async fn` exists: the sandbox
  compiles a problem in the later of the mode's edition and the problem's (in multipl-e mode, 2015, the
  prompt could never compile otherwise).
Whether a compiling sample is trivial (its prompt's item holds no code) is decided in triviality.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from nanochat_cli.errors import NanochatError

ProblemKind = Literal["tested", "compile"]
KNOWN_EDITIONS = ("2015", "2018", "2021", "2024")

# Built-in sets shipped as package data in nanochat_cli/rust/problem_sets/.
BUILTIN_SETS = {
    "rust-basic": "rust_basic.json",  # easy functions with assert_eq! tests (written for nanochat)
    "seed16": "seed16.json",  # the seed project's 16 one-line prompts, verbatim, scored by compiling
    "seed16-extra": "seed16_extra.json",  # 10 compile-only prompts an earlier seed16 used in place of the seed's
}

# Names that resolve to MultiPL-E files in the benchmark directory (read from there, never copied).
MULTIPLE_FILES = {
    "humaneval-rs": "humaneval-rs-reworded.json",
    "mbpp-rs": "mbpp-rs-reworded.jsonl",
}


@dataclass(frozen=True)
class Problem:
    """One evaluation problem in MultiPL-E's shape, plus what compile-only problems need."""

    name: str
    prompt: str  # what the model sees; ends where the completion starts (usually after "{\n")
    tests: str  # appended after the completion: "}" closing the item, then fn main with assert_eq!s
    stop_tokens: tuple[str, ...] = ("\n}",)
    kind: ProblemKind = "tested"  # "tested": build + run tests; "compile": type-check as a library
    preamble: str = ""  # declarations placed before the prompt (not shown to the model)
    reference: str | None = None  # a known-good completion (built-in sets only)
    edition: str = ""  # least rustc edition the prompt needs ("2018" for `async fn`); "" = the mode's

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop_tokens"] = list(self.stop_tokens)
        return d


def cut_at_stop_tokens(completion: str, stop_tokens: tuple[str, ...] | list[str]) -> str:
    """The completion up to (not including) the earliest stop token: MultiPL-E's `stop_at_stop_token`.

    The completion must not include the prompt (the prompt itself contains stop tokens).
    """
    end = len(completion)
    for token in stop_tokens:
        i = completion.find(token)
        if i != -1 and i < end:
            end = i
    return completion[:end]


def assemble_program(problem: Problem, completion: str) -> str:
    """The Rust source that is compiled: preamble + prompt + cut completion + "\\n" + tests."""
    body = cut_at_stop_tokens(completion, problem.stop_tokens)
    return problem.preamble + problem.prompt + body + "\n" + problem.tests


def problem_set_hash(problems: list[Problem]) -> str:
    """sha256 over the canonical JSON of the problems (what the model sees and what is checked)."""
    canon = [
        {"name": p.name, "prompt": p.prompt, "tests": p.tests, "stop_tokens": list(p.stop_tokens),
         "kind": p.kind, "preamble": p.preamble, **({"edition": p.edition} if p.edition else {})}
        for p in problems
    ]  # edition only when set, so the hashes of sets without one (MultiPL-E's) stay what they were
    blob = json.dumps(canon, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def multiple_dir() -> Path:
    """Where the MultiPL-E benchmark files live: $NANOCHAT_MULTIPLE_DIR or <repo>/../shared/benchmarks/multipl-e."""
    env = os.environ.get("NANOCHAT_MULTIPLE_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "benchmarks" / "multipl-e"


# ---- loading ----


def _problem_from_record(rec: dict, where: str) -> Problem:
    missing = [k for k in ("name", "prompt", "tests") if k not in rec]
    if missing:
        raise NanochatError(f"{where}: a problem lacks {', '.join(missing)}; each record needs name, prompt, tests")
    stops = rec.get("stop_tokens") or ["\n}"]
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise NanochatError(f"{where}: problem {rec['name']!r} has bad stop_tokens; give a list of non-empty strings")
    kind = rec.get("kind", "tested")
    if kind not in ("tested", "compile"):
        raise NanochatError(f"{where}: problem {rec['name']!r} has kind {kind!r}; use 'tested' or 'compile'")
    for key in ("name", "prompt", "tests"):
        if not isinstance(rec[key], str):
            raise NanochatError(f"{where}: problem field {key!r} must be a string")
    edition = rec.get("edition") or ""
    if edition and edition not in KNOWN_EDITIONS:
        raise NanochatError(f"{where}: problem {rec['name']!r} has edition {edition!r}; use one of "
                            f"{', '.join(KNOWN_EDITIONS)} or leave it out")
    return Problem(
        name=rec["name"], prompt=rec["prompt"], tests=rec["tests"], stop_tokens=tuple(stops), kind=kind,
        preamble=rec.get("preamble", ""), reference=rec.get("reference"), edition=edition,
    )


def _parse_records(text: str, where: str) -> list[dict]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise NanochatError(f"{where}: not valid JSON ({e}); give a JSON list or JSONL of problems") from None
        if not all(isinstance(r, dict) for r in data):
            raise NanochatError(f"{where}: the JSON list must hold objects (name, prompt, tests, stop_tokens)")
        return data
    return [rec for _, rec in jsonl_objects(text, where, "(name, prompt, tests, stop_tokens)")]


def jsonl_objects(text: str, where: str, fields: str) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSONL text; a bad line is one NanochatError."""
    records = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise NanochatError(f"{where}:{i}: not valid JSON ({e}); each line must be an object {fields}") from None
        if not isinstance(rec, dict):
            raise NanochatError(f"{where}:{i}: each JSONL line must be an object {fields}")
        records.append((i, rec))
    return records


def load_problem_file(path: Path) -> list[Problem]:
    """Problems from a MultiPL-E-format JSON list or JSONL file."""
    if not path.is_file():
        raise NanochatError(f"problem file {path} not found; give a MultiPL-E JSON/JSONL file or one of {_names()}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise NanochatError(f"{path}: not UTF-8 text ({e}); give a MultiPL-E JSON/JSONL file") from None
    records = _parse_records(text, str(path))
    if not records:
        raise NanochatError(f"{path}: holds no problems")
    problems = [_problem_from_record(r, str(path)) for r in records]
    names = [p.name for p in problems]
    if len(set(names)) != len(names):
        raise NanochatError(f"{path}: problem names must be unique")
    return problems


def _names() -> str:
    return ", ".join([*BUILTIN_SETS, *MULTIPLE_FILES])


def load_problem_set(name_or_path: str | Path) -> list[Problem]:
    """A built-in set ("rust-basic", "seed16", "seed16-extra"), a MultiPL-E set name ("humaneval-rs", "mbpp-rs") or a file."""
    key = str(name_or_path)
    if key in BUILTIN_SETS:
        text = resources.files("nanochat_cli.rust").joinpath("problem_sets", BUILTIN_SETS[key]).read_text("utf-8")
        return [_problem_from_record(r, key) for r in _parse_records(text, key)]
    if key in MULTIPLE_FILES:
        path = multiple_dir() / MULTIPLE_FILES[key]
        if not path.is_file():
            raise NanochatError(
                f"{key}: {path} not found; set NANOCHAT_MULTIPLE_DIR to the folder holding the MultiPL-E "
                f"file {MULTIPLE_FILES[key]} (from github.com/nuprl/MultiPL-E, prompts/)"
            )
        return load_problem_file(path)
    path = Path(key).expanduser()
    if path.exists():
        return load_problem_file(path)
    raise NanochatError(f"unknown problem set {key!r}; use one of {_names()} or a path to a MultiPL-E JSON/JSONL file")


def eval_prompts_for_decontamination() -> list[str]:
    """The signature + doc text of every built-in problem and every MultiPL-E problem found locally.

    The data pipeline drops training files containing any of these, so evaluation stays clean.
    """
    prompts: list[str] = []
    for name in BUILTIN_SETS:
        prompts += [p.prompt for p in load_problem_set(name)]
    for filename in MULTIPLE_FILES.values():
        path = multiple_dir() / filename
        if path.is_file():
            prompts += [p.prompt for p in load_problem_file(path)]
    return prompts


@dataclass
class ProblemSetInfo:
    """Identity of a loaded set, recorded in results files."""

    name: str
    sha256: str
    count: int
    path: str | None = None
    kinds: dict[str, int] = field(default_factory=dict)


def describe_problem_set(name_or_path: str | Path, problems: list[Problem]) -> ProblemSetInfo:
    key = str(name_or_path)
    path = None
    if key in MULTIPLE_FILES:
        path = str(multiple_dir() / MULTIPLE_FILES[key])
    elif key not in BUILTIN_SETS:
        path = str(Path(key).expanduser().resolve())
    kinds: dict[str, int] = {}
    for p in problems:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return ProblemSetInfo(name=key, sha256=problem_set_hash(problems), count=len(problems), path=path, kinds=kinds)
