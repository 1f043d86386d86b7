"""Rewards from the evaluation sandbox only: graded partial credit, zero for trivial completions, cached.

Levels (CodeRL-like, values from the recipe): syntax error < type error < compiles < success. Success is "its
tests pass" for a tested prompt (build + run in the sandbox) and "it type-checks as a library" for a compile
prompt. A completion that leaves the prompt's own item empty (`evaluate.triviality.is_trivial`) gets 0 whatever
rustc says, and so does a generic one: a body whose shape (comments and spacing gone, the prompt's own names
replaced by one placeholder) has already been written under `rl.generic_prompts` - 1 other prompts. Without
that, a policy learns one body that type-checks under any signature
(`x.to_string().chars().rev().collect::<String>().parse().unwrap()`) and the compile rate rises while no task is
solved. A compile error is a syntax error when tree-sitter cannot parse the program or rustc gives no error
code, else a type error. Results are cached by program hash (in memory here, on disk by the sandbox), and rustc
runs on `rl.jobs` worker threads, so programs compile while the engine is still generating the rest.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from nanochat_cli.rust.problems import Problem, assemble_program

LEVELS = ("trivial", "generic", "syntax_error", "type_error", "compiles", "pass")
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Reward:
    value: float
    level: str  # one of LEVELS
    compiled: bool = False
    success: bool = False
    cached: bool = False  # no rustc ran for it (memo, disk cache, or trivial)

    @property
    def trivial(self) -> bool:
        return self.level == "trivial"

    @property
    def generic(self) -> bool:
        return self.level == "generic"


def completion_shape(problem: Problem, completion: str) -> str:
    """What stays the same when one body is pasted under different signatures: the completion without comments
    and spacing, with every name that the prompt's code (not its doc comment) uses replaced by `_`."""
    code = "\n".join(line for line in problem.prompt.splitlines() if not line.lstrip().startswith("//"))
    own = set(_IDENT.findall(code))
    body = _COMMENT.sub(" ", completion)
    return " ".join(_IDENT.sub(lambda m: "_" if m.group(0) in own else m.group(0), body).split())


class RewardFn(Protocol):
    def submit(self, problem: Problem, completion: str) -> Future:
        """Start scoring one completion; the future's result is a Reward."""

    def close(self) -> None: ...


def has_syntax_error(program: str) -> bool:
    from nanochat_cli.rust.syntax import rust_parser

    return rust_parser().parse(program.encode("utf-8", "replace")).root_node.has_error


class SandboxReward:
    """The sandbox reward of the module docstring; `submit` returns at once, rustc runs on a worker."""

    def __init__(self, rl, sandbox=None):
        if sandbox is None:
            from nanochat_cli.rust.sandbox import RustSandbox, SandboxLimits

            limits = SandboxLimits(compile_timeout_s=rl.compile_timeout, run_timeout_s=rl.run_timeout)
            sandbox = RustSandbox(mode=rl.mode, limits=limits, jobs=rl.jobs)  # no rustc: one clear error here
        self.sandbox, self.rl = sandbox, rl
        self.pool = ThreadPoolExecutor(max_workers=rl.jobs, thread_name_prefix="rl-rustc")
        self.memo: dict[str, Reward] = {}
        self.shapes: dict[str, set[str]] = {}  # completion shape -> the prompts it was written under
        self.lock = threading.Lock()
        self.rustc_runs = 0

    def _value(self, level: str) -> float:
        rl = self.rl
        return {"trivial": 0.0, "syntax_error": rl.reward_syntax_error, "type_error": rl.reward_type_error,
                "compiles": rl.reward_compiles, "pass": rl.reward_pass}[level]

    def submit(self, problem: Problem, completion: str) -> Future:
        from nanochat_cli.evaluate.triviality import is_trivial

        # tree-sitter parsers are not thread-safe: parse here, on the caller's thread, and leave rustc to the pool
        if is_trivial(problem, completion):
            done: Future = Future()
            done.set_result(Reward(0.0, "trivial", cached=True))
            return done
        if self.rl.generic_prompts:
            shape = completion_shape(problem, completion)
            with self.lock:
                prompts = self.shapes.setdefault(shape, set())
                prompts.add(problem.name)
                generic = len(prompts) >= self.rl.generic_prompts
            if generic:
                done = Future()
                done.set_result(Reward(0.0, "generic", cached=True))
                return done
        program = assemble_program(problem, completion)
        key = self.sandbox.cache_key(program, problem.kind, problem.edition or None)
        with self.lock:
            hit = self.memo.get(key)
        if hit is not None:
            done = Future()
            done.set_result(replace(hit, cached=True))
            return done
        syntax = has_syntax_error(program)
        return self.pool.submit(self._score, program, problem, key, syntax)

    def _score(self, program: str, problem: Problem, key: str, syntax: bool) -> Reward:
        result = self.sandbox.run(program, problem.kind, problem.edition or None)
        if result.status == "OK":
            level = "pass"
        elif result.compiled:
            level = "compiles"  # a failed assert, a panic or a run timeout
        elif result.status == "Timeout" or syntax or not result.error_codes:
            level = "syntax_error"
        else:
            level = "type_error"
        reward = Reward(self._value(level), level, result.compiled, level == "pass", result.cached)
        with self.lock:
            self.memo[key] = reward
            self.rustc_runs += not result.cached
        return reward

    def state_dict(self) -> dict:
        """What a resumed run needs to score as this one would: the shapes seen and under which prompts."""
        with self.lock:
            return {"shapes": {k: sorted(v) for k, v in self.shapes.items()}}

    def load_state_dict(self, state: dict) -> None:
        with self.lock:
            self.shapes = {k: set(v) for k, v in state.get("shapes", {}).items()}

    def close(self) -> None:
        self.pool.shutdown(wait=True)
