"""Rewards are computed in the sandbox: graded levels, zero for trivial completions, cached by program hash."""

from __future__ import annotations

import shutil

import pytest

from nanochat_cli.evaluate.problems import Problem
from nanochat_cli.recipes import RLSection

pytestmark = pytest.mark.skipif(shutil.which("rustc") is None and not __import__("pathlib").Path(
    "/root/.cargo/bin/rustc").exists(), reason="needs rustc")

TESTED = Problem("inc", "/// Adds one.\nfn inc(x: i32) -> i32 {\n", "}\n\nfn main() {\n    assert_eq!(inc(1), 2);\n}\n")
COMPILE = Problem("inc_c", "/// Adds one.\nfn inc(x: i32) -> i32 {\n", "}\n", kind="compile")


@pytest.fixture()
def scorer(tmp_path):
    from nanochat_cli.evaluate.sandbox import RustSandbox
    from nanochat_cli.rl.rewards import SandboxReward

    sandbox = RustSandbox(mode="2021", jobs=2, cache=tmp_path / "cache")
    calls = []
    real_run = sandbox.run

    def spy(source, kind="tested", edition=None):
        calls.append((source, kind))
        return real_run(source, kind, edition)

    sandbox.run = spy
    s = SandboxReward(RLSection(), sandbox)
    s.calls = calls
    yield s
    s.close()


def test_graded_levels_come_from_the_sandbox(scorer):
    rl = RLSection()
    cases = {
        "    x + 1": ("pass", rl.reward_pass),
        "    x + 2": ("compiles", rl.reward_compiles),            # builds, the assert fails at run time
        "    \"one\"": ("type_error", rl.reward_type_error),       # E0308
        "    x + + ) 1": ("syntax_error", rl.reward_syntax_error),
        "    todo!()": ("trivial", 0.0),                           # the prompt's own item holds no code
        "}\nfn other() -> i32 { 3": ("trivial", 0.0),             # closed at once, something else written
    }
    futures = {c: scorer.submit(TESTED, c) for c in cases}
    for c, (level, value) in cases.items():
        r = futures[c].result()
        assert (r.level, r.value) == (level, value), c
    assert len(scorer.calls) == 4  # every non-trivial program went through the sandbox, trivial ones did not
    assert all(kind == "tested" for _, kind in scorer.calls)
    r = scorer.submit(COMPILE, "    x + 2").result()  # compile prompts: type-checking as a library is success
    assert r.level == "pass" and scorer.calls[-1][1] == "compile"


def test_rewards_are_cached_by_program_hash(scorer):
    a = scorer.submit(TESTED, "    x + 1").result()
    n = len(scorer.calls)
    b = scorer.submit(TESTED, "    x + 1").result()
    assert len(scorer.calls) == n and b.cached and b.value == a.value
