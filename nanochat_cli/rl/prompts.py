"""RL prompts: a pool of doc-comment + signature prompts with their tests, decontaminated, and the curriculum.

The pool comes from one of the verified corpus's program generators (`data.synthetic_rust.synthetic_programs`,
the template families, or `data.synthetic_composed.composed_programs`, the composed tasks): each program is `///` docs, `fn name(...) -> T {`, a body, `}`, maybe helper items, and a `fn main()` of asserts. The
prompt is the program up to that `{` and a newline; the tests are `}` plus the rest ("tested": build and run); a
`rl.compile_share` of prompts drop `fn main` and are only type-checked as a library ("compile"). Or the pool is a
JSON/JSONL file of MultiPL-E-shaped problems. Either way every program that holds an evaluation signature or body
(`data.decontaminate.SnippetDecontaminator`, the corpus's own check) is dropped, so no evaluation prompt is trained on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.rust.problems import Problem, assemble_program

_SIGNATURE = re.compile(r"^(pub )?fn \w+.*\{$")


@dataclass(frozen=True)
class RLPrompt:
    problem: Problem
    reference: str | None = None  # the generator's own body: a completion known to pass


def _block_end(lines: list[str], start: int) -> int | None:
    """Index of the column-0 `}` closing the item that opens at lines[start] (rustfmt layout)."""
    return next((i for i in range(start + 1, len(lines)) if lines[i] == "}"), None)


def prompt_from_program(name: str, text: str, compile_only: bool) -> RLPrompt | None:
    """Split a generated program at its documented function's `{`; None when it does not open with one."""
    lines = text.rstrip("\n").split("\n")
    j = 0
    while j < len(lines) and lines[j].startswith("///"):
        j += 1
    if j == 0 or j >= len(lines) or not _SIGNATURE.match(lines[j]):
        return None
    end = _block_end(lines, j)
    if end is None:
        return None
    rest = lines[end + 1:]
    if compile_only:
        main = next((i for i, ln in enumerate(rest) if ln.startswith("fn main()")), None)
        if main is not None:
            close = _block_end(rest, main)
            rest = rest[:main] + (rest[close + 1:] if close is not None else [])
    prompt = "\n".join(lines[:j + 1]) + "\n"
    tests = "}\n" + "\n".join(rest).rstrip("\n") + "\n"
    kind = "compile" if compile_only else "tested"
    return RLPrompt(Problem(name, prompt, tests, kind=kind), "\n".join(lines[j + 1:end]))


def _compile_only(name: str, share: float) -> bool:
    h = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 16**8
    return h < share


GENERATED_SOURCES = ("synthetic", "composed")


def synthetic_pool(n: int, seed: int, compile_share: float, source: str = "synthetic") -> list[RLPrompt]:
    """Prompts from the first `n` programs of a generator (`source`: "synthetic" or "composed")."""
    if source == "composed":
        from nanochat_cli.data.synthetic_composed import composed_programs as programs
    else:
        from nanochat_cli.data.synthetic_rust import synthetic_programs as programs

    pool = []
    for i, s in enumerate(programs(n, seed)):
        name = f"{re.sub(r'[^A-Za-z0-9_]+', '_', s.group).strip('_')}-{i}"  # a composition (`seq:sum|even|-`) too
        p = prompt_from_program(name, s.text, _compile_only(name, compile_share))
        if p is not None:
            pool.append(p)
    return pool


def file_pool(path: Path) -> list[RLPrompt]:
    from nanochat_cli.rust.problems import load_problem_file

    if not path.is_file():
        raise NanochatError(f"rl.prompt_source {path} is not a file; use \"synthetic\", \"composed\" or a JSON/JSONL "
                            "problem file")
    return [RLPrompt(p, p.reference) for p in load_problem_file(path)]


def evaluation_decontaminator():
    """The corpus's snippet decontaminator over every evaluation set (signatures, test bodies, references)."""
    from nanochat_cli.data.decontaminate import SnippetDecontaminator, evaluation_bodies, evaluation_prompts

    return SnippetDecontaminator(evaluation_prompts(), evaluation_bodies())


def decontaminate(pool: list[RLPrompt], deco) -> tuple[list[RLPrompt], int]:
    """(the prompts whose whole program -- prompt, reference, tests -- holds no evaluation text, how many dropped)."""
    kept = [p for p in pool if not deco.is_contaminated(assemble_program(p.problem, p.reference or ""))]
    return kept, len(pool) - len(kept)


def verify_references(pool: list[RLPrompt], sandbox) -> list[RLPrompt]:
    """Keep prompts whose reference passes in the sandbox (results cached by program hash); no reference: kept."""
    checked = [p for p in pool if p.reference is not None]
    results = sandbox.run_many([(assemble_program(p.problem, p.reference), p.problem.kind, p.problem.edition or None)
                                for p in checked])
    bad = {p.problem.name for p, r in zip(checked, results) if r.status != "OK"}
    return [p for p in pool if p.problem.name not in bad]


def build_pool(rl, sandbox=None) -> tuple[list[RLPrompt], dict]:
    """The recipe's prompt pool, decontaminated (and verified when rl.verify_prompts); plus a summary."""
    if rl.prompt_source in GENERATED_SOURCES:
        pool = synthetic_pool(rl.prompt_pool, rl.prompt_seed, rl.compile_share, rl.prompt_source)
    else:
        pool = file_pool(Path(rl.prompt_source).expanduser())
    pool, dropped = decontaminate(pool, evaluation_decontaminator())
    before = len(pool)
    if rl.verify_prompts and sandbox is not None:
        pool = verify_references(pool, sandbox)
    if not pool:
        raise NanochatError(f"rl.prompt_source {rl.prompt_source!r} gives no usable prompt (decontamination dropped "
                            f"{dropped}); raise rl.prompt_pool or use another source")
    names = [p.problem.name for p in pool]
    if len(set(names)) != len(names):
        raise NanochatError(f"rl.prompt_source {rl.prompt_source!r} has problems sharing a name; names must be unique")
    summary = {"prompts": len(pool), "decontaminated": dropped, "failed_reference": before - len(pool),
               "compile_only": sum(p.problem.kind == "compile" for p in pool)}
    return pool, summary


# ---- curriculum ----


class Curriculum:
    """Retires a prompt after `patience` consecutive groups that all failed or all passed (no signal left), and
    draws each step's prompts from the rest; a retired prompt comes back after `retry_steps` (0 = never)."""

    def __init__(self, names: list[str], patience: int, retry_steps: int = 0, enabled: bool = True):
        self.names = list(names)
        self.patience, self.retry_steps, self.enabled = patience, retry_steps, enabled
        self.streak: dict[str, list] = {}  # name -> ["fail" | "pass", count]
        self.retired: dict[str, int] = {}  # name -> step retired

    def active(self, step: int) -> list[int]:
        if self.retry_steps > 0:
            for n in [n for n, s in self.retired.items() if step - s >= self.retry_steps]:
                del self.retired[n]
                self.streak.pop(n, None)
        return [i for i, n in enumerate(self.names) if n not in self.retired]

    def draw(self, step: int, round_: int, k: int, seed: int, exclude: set[int] = frozenset()) -> list[int]:
        """k prompt indices (fewer when fewer are active), the same for the same (seed, step, round, state)."""
        pool = [i for i in self.active(step) if i not in exclude]
        if not pool:
            return []
        rng = np.random.default_rng([seed, step, round_])
        return [pool[i] for i in rng.choice(len(pool), size=min(k, len(pool)), replace=False)]

    def record(self, name: str, successes: int, group: int, step: int) -> None:
        if not self.enabled:
            return
        outcome = "fail" if successes == 0 else "pass" if successes == group else None
        if outcome is None:
            self.streak.pop(name, None)
            return
        kind, count = self.streak.get(name, [outcome, 0])
        count = count + 1 if kind == outcome else 1
        self.streak[name] = [outcome, count]
        if count >= self.patience:
            self.retired[name] = step

    def state_dict(self) -> dict:
        return {"streak": self.streak, "retired": self.retired}

    def load_state_dict(self, d: dict) -> None:
        self.streak = {k: list(v) for k, v in d.get("streak", {}).items()}
        self.retired = {k: int(v) for k, v in d.get("retired", {}).items()}
