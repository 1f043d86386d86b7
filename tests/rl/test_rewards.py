"""Rewards are computed in the sandbox: graded levels, zero for trivial completions, cached by program hash."""

from __future__ import annotations

import shutil

import pytest

from nanochat_cli.recipes import RLSection
from nanochat_cli.rust.problems import Problem

pytestmark = pytest.mark.skipif(shutil.which("rustc") is None and not __import__("pathlib").Path(
    "/root/.cargo/bin/rustc").exists(), reason="needs rustc")

TESTED = Problem("inc", "/// Adds one.\nfn inc(x: i32) -> i32 {\n", "}\n\nfn main() {\n    assert_eq!(inc(1), 2);\n}\n")
COMPILE = Problem("inc_c", "/// Adds one.\nfn inc(x: i32) -> i32 {\n", "}\n", kind="compile")


@pytest.fixture()
def scorer(tmp_path):
    from nanochat_cli.rl.rewards import SandboxReward
    from nanochat_cli.rust.sandbox import RustSandbox

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


def _prompt(name: str, sig: str) -> Problem:
    return Problem(name, f"/// Does {name}.\n{sig} {{\n", "}\n", kind="compile")


def test_a_body_written_under_many_signatures_earns_nothing(scorer):
    from nanochat_cli.rl.rewards import completion_shape

    universal = "    {p}.to_string().chars().rev().collect::<String>().parse().unwrap()"
    prompts = [_prompt("digits", "fn digits(n: u64) -> u64"), _prompt("twice", "fn twice(x: i32) -> i32"),
               _prompt("halve", "fn halve(value: i64) -> i64")]
    params = ["n", "x", "value"]
    # the same shape once the prompt's own names are abstracted; comments and spacing do not matter
    shapes = {completion_shape(p, universal.format(p=a) + "  // ok") for p, a in zip(prompts, params, strict=True)}
    assert len(shapes) == 1
    levels = [scorer.submit(p, universal.format(p=a)).result().level for p, a in zip(prompts, params, strict=True)]
    assert levels[:2] == ["pass", "pass"] and levels[2] == "generic"  # rl.generic_prompts = 3 by default
    assert scorer.submit(prompts[2], universal.format(p="value")).result().value == 0.0
    # a real body for the third prompt still earns its reward
    assert scorer.submit(prompts[2], "    value / 2").result().level == "pass"


def test_the_generic_guard_resumes_with_its_state(scorer, tmp_path):
    from nanochat_cli.rl.rewards import SandboxReward
    from nanochat_cli.rust.sandbox import RustSandbox

    p1, p2, p3 = (_prompt(f"f{i}", f"fn f{i}(a: i32) -> i32") for i in range(3))
    scorer.submit(p1, "    a + 0").result()
    scorer.submit(p2, "    a + 0").result()
    fresh = SandboxReward(RLSection(), RustSandbox(mode="2021", jobs=1, cache=tmp_path / "c2"))
    try:
        fresh.load_state_dict(scorer.state_dict())
        assert fresh.submit(p3, "    a + 0").result().level == "generic"
    finally:
        fresh.close()
    off = SandboxReward(RLSection(generic_prompts=0), scorer.sandbox)
    try:
        off.load_state_dict(scorer.state_dict())
        assert off.submit(p3, "    a + 0").result().level == "pass"
    finally:
        off.close()
