"""Tiny end-to-end RL runs on a toy reward: reward rises, resume is exact, Ctrl-C checkpoints, the result exports,
bad input is one clear error. A random 1-layer model and a no-rustc reward keep each run to seconds."""

from __future__ import annotations

import json
import os
import shutil
import signal

import pytest
from safetensors.torch import load_file

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.checkpoint_dir import list_checkpoints
from nanochat_cli.rl.trainer import train_rl
from tests.rl.conftest import ToyReward, toy_pool, toy_recipe, write_base


def _rewards(run_dir):
    return [json.loads(line)["reward"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("algorithm", ["grpo", "maxrl", "rest"])
def test_reward_rises_on_a_toy_reward(base, tmp_path, algorithm):
    out = train_rl(toy_recipe(base, tmp_path / "run", [f"rl.algorithm={algorithm}", "rl.steps=8"]),
                   reward_fn=ToyReward(), pool=toy_pool(), show_progress=False)
    r = _rewards(tmp_path / "run")
    assert out["step"] == 8 and len(r) == 8
    assert sum(r[-2:]) / 2 > 2 * sum(r[:2]) / 2 + 0.01, r
    rec = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    for key in ("reward", "compile_rate", "pass_rate", "kl", "entropy", "trivial_share", "rollout_tok_per_s",
                "rewards_per_s", "refresh_s", "generate_s", "reward_s", "update_s"):
        assert rec[key] is not None, key
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_resume_is_exact_and_the_result_exports(base, tmp_path):
    full = tmp_path / "full"
    train_rl(toy_recipe(base, full, ["rl.steps=4", "rl.kl_coef=0.05"]), reward_fn=ToyReward(), pool=toy_pool(),
             show_progress=False)
    crashed = tmp_path / "crashed"  # the run killed after step 3: what is left is step_2
    shutil.copytree(full, crashed)
    shutil.rmtree(crashed / "step_0000004")
    out = train_rl(toy_recipe(base, crashed, ["rl.steps=4", "rl.kl_coef=0.05"]), resume=crashed,
                   reward_fn=ToyReward(), pool=toy_pool(), show_progress=False)
    assert out["step"] == 4
    a, b = load_file(full / "step_0000004" / "model.safetensors"), load_file(crashed / "step_0000004" / "model.safetensors")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    assert _rewards(full) == _rewards(crashed)

    from nanochat_cli.formats import export_checkpoint
    from nanochat_cli.infer import load_model

    gguf = export_checkpoint(full, tmp_path / "rl.gguf")
    assert load_model(gguf).model.cfg.d_model == 64


class _Interrupt(ToyReward):
    def submit(self, problem, completion):
        if self.calls == 20:  # during step 1 or 2's rollouts (refills draw more)
            os.kill(os.getpid(), signal.SIGINT)
        return super().submit(problem, completion)


def test_ctrl_c_writes_a_checkpoint_and_stops(base, tmp_path):
    out = train_rl(toy_recipe(base, tmp_path / "run", ["checkpoint.every=0"]), reward_fn=_Interrupt(), pool=toy_pool(),
                   show_progress=False)
    assert out["stopped"].startswith("signal") and out["step"] < 6  # the step in flight ends, then it stops
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == [f"step_{out['step']:07d}"]


def test_a_base_that_does_not_match_is_one_clear_error(base, tmp_path):
    with pytest.raises(NanochatError, match="differs from the recipe's \\[model\\] in d_model"):
        train_rl(toy_recipe(base, tmp_path / "run", ["model.d_model=128"]), reward_fn=ToyReward(), pool=toy_pool(),
                 show_progress=False)
    run = tmp_path / "run2"
    train_rl(toy_recipe(base, run, ["rl.steps=2"]), reward_fn=ToyReward(), pool=toy_pool(), show_progress=False)
    other = write_base(tmp_path / "other", seed=1)
    with pytest.raises(NanochatError, match="cannot resume .* whose weights differ"):
        train_rl(toy_recipe(other, run, ["rl.steps=3"]), resume=run, reward_fn=ToyReward(), pool=toy_pool(),
                 show_progress=False)
    with pytest.raises(NanochatError, match="rl.init_from is empty"):
        train_rl(toy_recipe(base, tmp_path / "r3", ["rl.init_from="]), reward_fn=ToyReward(), pool=toy_pool())


def test_missing_rustc_is_one_clear_error_before_the_run_starts(base, tmp_path, monkeypatch):
    from nanochat_cli.rust import sandbox

    def no_rustc():
        raise NanochatError("rustc not found; install Rust (https://rustup.rs) or put rustc on PATH")

    monkeypatch.setattr(sandbox, "find_rustc", no_rustc)
    with pytest.raises(NanochatError, match="rustc not found"):
        train_rl(toy_recipe(base, tmp_path / "run"), pool=toy_pool(), show_progress=False)
    assert not (tmp_path / "run").exists()


def test_rl_starts_from_a_model_file(base, tmp_path):
    """rl.init_from a GGUF (the shipped model on a fresh clone): the policy starts as the file's exact function,
    trains, resumes against the same file, and its checkpoints export like any other."""
    from nanochat_cli.formats import export_checkpoint
    from nanochat_cli.formats.export import checkpoint_weights
    from nanochat_cli.formats.model_file import load_model_weights
    from tests.train.run_helpers import assert_same_weights

    gguf = export_checkpoint(base, tmp_path / "base.gguf")
    run = tmp_path / "run"
    out = train_rl(toy_recipe(gguf, run, ["rl.steps=2", "rl.kl_coef=0.05", "rl.adamw_lr=0.0"]), reward_fn=ToyReward(),
                   pool=toy_pool(), show_progress=False)
    assert out["step"] == 2 and out["base"] == str(gguf)
    # no learning rate: the checkpoint is the file, trit for trit and float for float
    assert_same_weights(load_model_weights(gguf), checkpoint_weights(run))
    assert json.loads((run / "step_0000002" / "config.json").read_text())["rl_base"]["path"] == str(gguf)
    out = train_rl(toy_recipe(gguf, run, ["rl.steps=3"]), resume=run, reward_fn=ToyReward(), pool=toy_pool(),
                   show_progress=False)
    assert out["step"] == 3
    assert load_model_weights(export_checkpoint(run, tmp_path / "rl.gguf")).config.d_model == 64


def test_a_missing_base_names_both_accepted_forms(tmp_path):
    with pytest.raises(NanochatError, match="nope.gguf does not exist; give a model file"):
        train_rl(toy_recipe(tmp_path / "nope.gguf", tmp_path / "run"), reward_fn=ToyReward(), pool=toy_pool(),
                 show_progress=False)
    assert not (tmp_path / "run").exists()
