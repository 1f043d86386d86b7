"""CUDA path: bf16 autocast training and a checkpoint that loads back on the CPU (skips without a GPU)."""

from __future__ import annotations

import pytest
import torch

from nanochat_cli.formats.checkpoint_dir import load_checkpoint_model
from nanochat_cli.train.trainer import train
from tests.data.synthetic import make_corpus, tiny_recipe
from tests.train.run_helpers import read_metrics


@pytest.mark.gpu
def test_cuda_bf16_run_learns_and_checkpoints(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    src = make_corpus(tmp_path / "src")
    r = tiny_recipe(src, tmp_path / "cache", tmp_path / "run", train={"device": "cuda", "steps": 8})
    out = train(r)
    assert out["device"].startswith("cuda") and out["step"] == 8
    recs = read_metrics(tmp_path / "run")
    assert recs[-1]["loss"] < recs[0]["loss"]
    model, _ = load_checkpoint_model(tmp_path / "run")
    assert next(model.parameters()).device.type == "cpu"
