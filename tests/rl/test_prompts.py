"""RL prompts: the split of a generated program, decontamination (no evaluation prompt is ever an RL prompt), and
the curriculum."""

from __future__ import annotations

import json
import re

import pytest

from nanochat_cli.data.decontaminate import evaluation_prompts, signature_of
from nanochat_cli.recipes import RLSection
from nanochat_cli.rl.prompts import (
    Curriculum,
    RLPrompt,
    build_pool,
    decontaminate,
    evaluation_decontaminator,
    prompt_from_program,
    synthetic_pool,
)
from nanochat_cli.rust.problems import assemble_program, load_problem_set

PROGRAM = """/// Adds one.
fn inc(x: i32) -> i32 {
    x + 1
}

fn main() {
    assert_eq!(inc(1), 2);
}
"""


def test_a_program_splits_into_prompt_reference_and_tests():
    p = prompt_from_program("inc-0", PROGRAM, compile_only=False)
    assert p.problem.prompt == "/// Adds one.\nfn inc(x: i32) -> i32 {\n"
    assert p.reference == "    x + 1"
    assert p.problem.kind == "tested" and "assert_eq!(inc(1), 2);" in p.problem.tests
    assert assemble_program(p.problem, p.reference) == PROGRAM
    c = prompt_from_program("inc-0", PROGRAM, compile_only=True)
    assert c.problem.kind == "compile" and "fn main" not in c.problem.tests and c.problem.tests.startswith("}")
    assert prompt_from_program("x", "struct A;\nfn main() {\n}\n", False) is None  # no documented fn first


def test_synthetic_pool_is_deterministic_and_mixes_kinds():
    a, b = synthetic_pool(120, 7, 0.3), synthetic_pool(120, 7, 0.3)
    assert [p.problem for p in a] == [p.problem for p in b] and len(a) > 50
    kinds = {p.problem.kind for p in a}
    assert kinds == {"compile", "tested"}


def test_composed_pool_splits_every_program_under_a_plain_unique_name():
    pool = synthetic_pool(150, 5, 0.3, source="composed")
    assert len(pool) == 150  # every composed program opens with its documented function
    assert [p.problem for p in pool] == [p.problem for p in synthetic_pool(150, 5, 0.3, source="composed")]
    assert {p.problem.kind for p in pool} == {"compile", "tested"}
    names = [p.problem.name for p in pool]
    assert len(set(names)) == len(names) and all(re.fullmatch(r"\w+-\d+", n) for n in names)
    for p in pool:
        assert p.problem.prompt.startswith("///") and p.problem.prompt.endswith("{\n") and p.reference
        assert assemble_program(p.problem, p.reference).count("fn main()") == (p.problem.kind == "tested")


def test_build_pool_takes_the_composed_source_and_decontaminates_it():
    pool, summary = build_pool(RLSection(prompt_source="composed", prompt_pool=200, verify_prompts=False))
    assert summary["prompts"] == len(pool) > 150
    eval_sigs = {s.signature for s in map(signature_of, evaluation_prompts()) if s is not None}
    assert not any((s := signature_of(p.problem.prompt)) and s.signature in eval_sigs for p in pool)


def _eval_rl_prompts() -> list[RLPrompt]:
    probs = load_problem_set("rust-basic") + load_problem_set("seed16")
    return [RLPrompt(p, p.reference) for p in probs]


def test_evaluation_problems_injected_into_a_pool_are_dropped():
    deco = evaluation_decontaminator()
    pool = synthetic_pool(60, 3, 0.25)
    evals = _eval_rl_prompts()
    kept, dropped = decontaminate(pool + evals, deco)
    kept_prompts = {p.problem.prompt for p in kept}
    tested_evals = [e for e in evals if signature_of(e.problem.prompt) is not None]
    assert dropped >= len([e for e in tested_evals if e.problem.kind == "tested"])
    for e in evals:
        if e.problem.kind == "tested":
            assert e.problem.prompt not in kept_prompts


def test_no_evaluation_prompt_appears_in_the_rl_prompts(tmp_path):
    """Checked independently of the decontaminator: no RL prompt holds an evaluation prompt's signature."""
    rl = RLSection(prompt_pool=300, verify_prompts=False)
    pool, summary = build_pool(rl)
    prompts = set(evaluation_prompts())
    eval_sigs = {s.signature for s in map(signature_of, prompts) if s is not None}
    for p in pool:
        s = signature_of(p.problem.prompt)
        assert s is None or s.signature not in eval_sigs, p.problem.name
        assert p.problem.prompt not in prompts
    # a problem file that holds an evaluation problem: it never reaches the pool
    ev = load_problem_set("rust-basic")[0]
    mine = {"name": "mine", "prompt": "/// Doubles.\nfn dbl(x: i32) -> i32 {\n", "tests": "}\nfn main() {}\n"}
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps(mine) + "\n" + json.dumps({"name": "leak", "prompt": ev.prompt, "tests": ev.tests}) + "\n")
    pool, summary = build_pool(RLSection(prompt_source=str(f), verify_prompts=False))
    assert [p.problem.name for p in pool] == ["mine"] and summary["decontaminated"] == 1


def test_curriculum_retires_always_failing_and_always_passing_prompts():
    c = Curriculum(["a", "b", "c"], patience=2)
    c.record("a", 0, 4, step=0)
    c.record("b", 4, 4, step=0)
    c.record("c", 2, 4, step=0)
    assert c.active(1) == [0, 1, 2]
    c.record("a", 0, 4, step=1)
    c.record("b", 4, 4, step=1)
    c.record("c", 0, 4, step=1)
    assert c.active(2) == [2]
    assert c.draw(2, 0, 5, seed=0) == [2]
    state = c.state_dict()
    d = Curriculum(["a", "b", "c"], patience=2, retry_steps=3)
    d.load_state_dict(json.loads(json.dumps(state)))
    assert d.active(3) == [2] and d.active(4) == [0, 1, 2]  # retired at step 1, back 3 steps later


def test_curriculum_draw_is_seeded():
    c = Curriculum([str(i) for i in range(50)], patience=2)
    assert c.draw(3, 1, 8, seed=5) == c.draw(3, 1, 8, seed=5) != c.draw(4, 1, 8, seed=5)
    assert len(set(c.draw(3, 1, 8, seed=5))) == 8


@pytest.mark.parametrize("bad", ["rl.algorithm=ppo", "rl.group_size=1", "rl.reward_pass=0.1", "rl.top_p=0"])
def test_bad_rl_keys_are_one_clear_error(bad):
    from nanochat_cli.errors import NanochatError
    from nanochat_cli.recipes import recipe_from_dict

    with pytest.raises(NanochatError, match=r"rl\."):
        recipe_from_dict({}, [bad])
