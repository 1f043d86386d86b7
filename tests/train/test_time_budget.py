"""train.time_budget_s: the run ends, validated and saved, when its time is spent; the decay follows the clock.

The budget's clock is driven by the test (one optimizer step = 40 "seconds"), so nothing here depends on
how fast the machine is."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.checkpoint_dir import list_checkpoints
from nanochat_cli.recipes import load_recipe
from nanochat_cli.train import trainer
from nanochat_cli.train.schedule import wsd_multiplier
from tests.data.synthetic import make_corpus, tiny_recipe
from tests.train.run_helpers import read_metrics

STEP_S = 40.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return make_corpus(root / "src", n_crates=6, files_per_crate=4), root / "cache"


@pytest.fixture
def step_clock(monkeypatch):
    """The budget's clock advances STEP_S per optimizer step and not otherwise."""
    now = [1000.0]
    step = trainer._optimizer_step

    def timed_step(*args, **kwargs):
        out = step(*args, **kwargs)
        now[0] += STEP_S
        return out

    monkeypatch.setattr(trainer, "_clock", lambda: now[0])
    monkeypatch.setattr(trainer, "_optimizer_step", timed_step)
    return now


def test_the_budget_ends_the_run_and_lays_out_the_decay(corpus, tmp_path, step_clock):
    src, cache = corpus
    run = tmp_path / "run"
    # 100 steps would be the schedule; 100 s of budget at 40 s a step is spent after step 3
    r = tiny_recipe(src, cache, run, overrides=["train.steps=100", "train.time_budget_s=100", "schedule.min_lr_ratio=0.1"])
    out = trainer.train(r)
    assert out["step"] == 3 and out["stopped"] == "time_budget"
    recs = read_metrics(run)
    assert [x["step"] for x in recs] == [1, 2, 3]
    # warm-up (2 steps) first; step 2 (0-based) starts 80 s into the budget: 0.8 of it, 0.3 into its last half
    assert [x["lr_mult"] for x in recs] == pytest.approx([0.5, 1.0, 1.0 - 0.9 * 0.3 / 0.5])
    assert recs[-1]["val_loss"] is not None  # the last step is validated like a run's end
    assert [p.name for p in list_checkpoints(run)] == ["step_0000003"]
    state = json.loads((run / "step_0000003" / "trainer_state.json").read_text())
    assert state["train_s"] == pytest.approx(3 * STEP_S)

    # a resumed run counts the earlier sitting's time: 200 s in all is two more steps
    more = tiny_recipe(src, cache, run, overrides=["train.steps=100", "train.time_budget_s=200", "schedule.min_lr_ratio=0.1"])
    out = trainer.train(more, resume=run)
    assert out["step"] == 5 and out["stopped"] == "time_budget"
    recs = read_metrics(run)
    assert [x["step"] for x in recs] == [1, 2, 3, 4, 5]
    assert [x["lr_mult"] for x in recs[3:]] == pytest.approx([1.0 - 0.9 * 0.1 / 0.5, 1.0 - 0.9 * 0.3 / 0.5])


def test_steps_still_end_a_run_inside_its_budget(corpus, tmp_path, step_clock):
    src, cache = corpus
    out = trainer.train(tiny_recipe(src, cache, tmp_path / "run", overrides=["train.time_budget_s=1e6"]))
    assert out["step"] == 6 and out["stopped"] is None
    recs = read_metrics(tmp_path / "run")
    assert [x["lr_mult"] for x in recs] == pytest.approx([wsd_multiplier(s, 6, 2, 0.5, 0.0) for s in range(6)])


def test_a_negative_budget_is_refused(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text("[train]\ntime_budget_s = -5\n")
    with pytest.raises(NanochatError, match="train.time_budget_s"):
        load_recipe(recipe)


@given(st.integers(0, 300), st.integers(1, 300), st.integers(0, 20), st.floats(0, 1), st.floats(0, 1),
       st.floats(0, 2), st.floats(0, 2))
def test_the_clock_only_lowers_the_step_schedule(step, total, warmup, frac, floor, t1, t2):
    step = min(step, total - 1)
    by_steps = wsd_multiplier(step, total, warmup, frac, floor)
    lo, hi = sorted((t1, t2))
    a = wsd_multiplier(step, total, warmup, frac, floor, lo)
    b = wsd_multiplier(step, total, warmup, frac, floor, hi)
    assert wsd_multiplier(step, total, warmup, frac, floor, 0.0) == by_steps
    assert b <= a <= by_steps  # later on the clock is never a higher rate
    assert b >= min(floor, by_steps) - 1e-12  # and never below the floor (unless warm-up is lower still)
