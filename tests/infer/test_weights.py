"""expected_shapes (what a model file is checked against at load, without torch) against TernaryLM's state_dict."""

from __future__ import annotations

import pytest
import torch

from nanochat_cli.formats.weights import expected_shapes
from nanochat_cli.model import TernaryLM, named_config
from tests.infer.conftest import OPTIONS

MORE = {
    "deltanet-moe-mhc4-dynamic": {"layer_pattern": "ADD", "n_layers": 3, "moe_experts": 3, "moe_top_k": 1,
                                  "moe_ffn_hidden": 128, "mhc_streams": 4, "mhc_dynamic": True, "sub_norm": True},
    "one-layer-mhc2": {"n_layers": 1, "mhc_streams": 2, "mhc_dynamic": True},
    "relu2-moe-untied": {"ffn_type": "relu2", "moe_experts": 2, "moe_top_k": 2, "tie_embeddings": False},
}


@pytest.mark.parametrize("option", [*OPTIONS, *MORE])
def test_expected_shapes_are_ternary_lm_state_dict(option):
    cfg = named_config("tiny", vocab_size=512, max_seq_len=160, **{**OPTIONS, **MORE}[option])
    with torch.device("meta"):
        model = TernaryLM(cfg)
    assert expected_shapes(cfg) == {name: tuple(p.shape) for name, p in model.state_dict().items()}
