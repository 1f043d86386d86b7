"""Resume is exact, the guard acts, checkpoints load for inference (tiny model, synthetic corpus, CPU)."""

from __future__ import annotations

import json

import pytest
import torch

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.checkpoint_dir import list_checkpoints, load_checkpoint_model, resolve_checkpoint
from nanochat_cli.train.trainer import train
from tests.data.synthetic import make_corpus, tiny_recipe
from tests.train.run_helpers import read_metrics


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return make_corpus(root / "src", n_crates=6, files_per_crate=4), root / "cache"


@pytest.mark.slow  # three short runs: ~10 s on a busy 2-core machine
def test_resumed_run_reproduces_the_uninterrupted_losses(corpus, tmp_path):
    src, cache = corpus
    full = tiny_recipe(src, cache, tmp_path / "full")
    out_full = train(full)
    assert out_full["step"] == 6 and out_full["stopped"] is None

    part = tiny_recipe(src, cache, tmp_path / "part", overrides=["train.stop_at_step=3"])
    out_part = train(part)
    assert out_part["step"] == 3 and out_part["stopped"] == "stop_at_step"
    resumed = tiny_recipe(src, cache, tmp_path / "part")
    out_resumed = train(resumed, resume=tmp_path / "part")
    assert out_resumed["step"] == 6

    a, b = read_metrics(tmp_path / "full"), read_metrics(tmp_path / "part")
    assert [r["step"] for r in a] == [r["step"] for r in b] == [1, 2, 3, 4, 5, 6]
    for ra, rb in zip(a, b):
        assert ra["loss"] == pytest.approx(rb["loss"], rel=1e-6, abs=1e-7), ra["step"]
        assert ra["lr_mult"] == rb["lr_mult"]
    assert a[-1]["val_loss"] == pytest.approx(b[-1]["val_loss"], rel=1e-6)
    assert a[0]["loss"] > a[-1]["loss"]  # it learns something even in 6 steps

    # the final weights match too
    ma, _ = load_checkpoint_model(tmp_path / "full")
    mb, tok = load_checkpoint_model(tmp_path / "part")
    for (na, pa), (nb, pb) in zip(ma.state_dict().items(), mb.state_dict().items()):
        assert na == nb and torch.allclose(pa, pb, atol=1e-6), na
    assert tok.token_to_id("<|endoftext|>") == 0
    assert not ma.training


def test_checkpoint_directory_layout_and_keep_last(corpus, tmp_path):
    src, cache = corpus
    r = tiny_recipe(src, cache, tmp_path / "run", overrides=["checkpoint.every=2", "checkpoint.keep=2"])
    train(r)
    kept = list_checkpoints(tmp_path / "run")
    assert [p.name for p in kept] == ["step_0000004", "step_0000006"]
    for name in ("model.safetensors", "config.json", "tokenizer.json", "optimizer.pt", "trainer_state.json"):
        assert (kept[-1] / name).is_file()
    config = json.loads((kept[-1] / "config.json").read_text())
    assert config["model"]["d_model"] == 64 and config["recipe"]["train"]["steps"] == 6
    state = json.loads((kept[-1] / "trainer_state.json").read_text())
    assert state["step"] == 6 and state["data_position"]["step"] == 6 and "torch" in state["rng"]
    assert (tmp_path / "run" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert resolve_checkpoint(tmp_path / "run") == kept[-1]
    # a second fresh run into the same directory is refused with the way out
    with pytest.raises(NanochatError, match="--resume"):
        train(r)
    # resuming with a different model is refused, naming the fields
    other = tiny_recipe(src, cache, tmp_path / "run", overrides=["model.n_layers=2", "model.ternary=false"])
    with pytest.raises(NanochatError, match="differs from the checkpoint's in n_layers, ternary"):
        train(other, resume=tmp_path / "run")


def test_collapse_guard_stop_and_lower_lr(corpus, tmp_path):
    src, cache = corpus
    stop = tiny_recipe(src, cache, tmp_path / "stop", guard={"entropy_floor": 1000.0, "action": "stop"})
    out = train(stop)
    assert out["stopped"] == "collapse_guard" and out["step"] == 1
    assert list_checkpoints(tmp_path / "stop")
    low = tiny_recipe(src, cache, tmp_path / "low", guard={"max_logit_ceiling": 1e-6, "action": "lower_lr", "cooldown_steps": 2})
    train(low)
    recs = read_metrics(tmp_path / "low")
    trips = [r["step"] for r in recs if r.get("guard")]
    assert trips == [1, 3, 5]
    # after the trips at 1 and 3 the multiplier carries 0.25 on top of the schedule
    from nanochat_cli.train.schedule import wsd_multiplier

    assert recs[4]["lr_mult"] == pytest.approx(0.25 * wsd_multiplier(4, 6, 2, 0.5, 0.0))


def test_missing_checkpoint_files_are_named(tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "config.json").write_text("{}")
    with pytest.raises(NanochatError, match="missing model.safetensors, tokenizer.json"):
        load_checkpoint_model(tmp_path / "ck")
    with pytest.raises(NanochatError, match="does not exist"):
        load_checkpoint_model(tmp_path / "nothing")
