"""ModelConfig: named sizes, overrides, dict round trip and errors, parameter counts and optimizer groups."""

import pytest
import torch

from nanochat_cli.errors import NanochatError
from nanochat_cli.model import BitLinear, ModelConfig, TernaryLM, named_config
from nanochat_cli.model.mhc import MHCResidual


@pytest.mark.parametrize("name,low,high", [("tiny", 1e6, 3e6), ("small", 10e6, 20e6), ("nano-125m", 100e6, 140e6),
                                           ("560m", 500e6, 620e6)])
def test_named_sizes_have_the_documented_parameter_counts(name, low, high):
    counts = named_config(name).param_counts()
    assert low <= counts["total"] <= high
    assert counts["total"] == counts["ternary"] + counts["full_precision"] + counts["mhc"]
    assert counts["ternary"] > counts["full_precision"] and counts["mhc"] == 0


def test_nano_125m_is_the_seed_shape():
    cfg = named_config("nano-125m")
    assert (cfg.d_model, cfg.n_layers, cfg.n_heads) == (768, 12, 12)


def test_param_counts_split_matches_the_built_model():
    cfg = named_config("tiny", vocab_size=300, mhc_streams=2, mhc_dynamic=True, tie_embeddings=False)
    model = TernaryLM(cfg)
    counts = cfg.param_counts()
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert counts["mhc"] == sum(p.numel() for m in model.modules() if isinstance(m, MHCResidual)
                                for p in m.parameters()) > 0
    assert counts["ternary"] == sum(m.weight.numel() for m in model.modules() if isinstance(m, BitLinear))
    assert cfg.replace(ternary=False).param_counts()["ternary"] == 0


def test_overrides_and_dict_round_trip():
    cfg = named_config("tiny", vocab_size=4096, mhc_streams=4, layer_pattern="AD", rope_theta=5e5)
    assert cfg.vocab_size == 4096 and cfg.mhc_streams == 4
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert ModelConfig.from_dict({"rope_theta": 10000}).rope_theta == 10000.0  # int accepted for a float


@pytest.mark.parametrize("bad,match", [
    ({"d_modle": 64}, "d_modle"),
    ({"d_model": "64"}, "d_model"),
    ({"ternary": 1}, "ternary"),
    ({"n_layers": True}, "n_layers"),
    ({"mhc_streams": 3}, "mhc_streams"),
    ({"n_heads": 3}, "n_heads"),
    ({"n_kv_heads": 3}, "n_kv_heads"),
    ({"ffn_type": "gelu"}, "ffn_type"),
    ({"layer_pattern": "AX"}, "layer_pattern"),
    ({"ternary_head": True}, "ternary_head"),
    ({"moe_experts": 2, "moe_top_k": 3}, "moe_top_k"),
    ({"group_size": 100}, "group_size"),
])
def test_bad_config_keys_raise_a_named_error(bad, match):
    with pytest.raises(NanochatError, match=match):
        ModelConfig.from_dict({**named_config("tiny").to_dict(), **bad})


def test_unknown_named_config_lists_the_names():
    with pytest.raises(NanochatError, match="tiny, small, nano-125m, 560m"):
        named_config("huge")


def test_parameter_groups_split_hidden_matrices_from_the_rest():
    model = TernaryLM(named_config("tiny", vocab_size=64, mhc_streams=2, moe_experts=2, layer_pattern="AD",
                                   tie_embeddings=False, ternary_head=True))
    groups = model.parameter_groups()
    matrix, other = {id(p) for p in groups["matrix"]}, {id(p) for p in groups["other"]}
    assert not matrix & other and matrix | other == {id(p) for p in model.parameters()}
    assert all(p.ndim == 2 for p in groups["matrix"])
    assert id(model.embed.weight) in other and id(model.head.weight) in other
    assert id(model.blocks[0].ffn.router.weight) in other and id(model.blocks[1].attn.beta_proj.weight) in other
    assert id(model.blocks[0].attn.q_proj.weight) in matrix and id(model.blocks[1].attn.gate_proj.weight) in matrix


def test_state_dict_names_follow_the_documented_layout():
    names = set(TernaryLM(named_config("tiny", sub_norm=True, mhc_streams=2)).state_dict())
    for name in ("embed.weight", "norm.weight", "blocks.0.attn_norm.weight", "blocks.0.attn.q_proj.weight",
                 "blocks.0.attn.k_proj.weight", "blocks.0.attn.v_proj.weight", "blocks.0.attn.o_proj.weight",
                 "blocks.0.attn.sub_norm.weight", "blocks.0.ffn_norm.weight", "blocks.0.ffn.gate_proj.weight",
                 "blocks.0.ffn.up_proj.weight", "blocks.0.ffn.down_proj.weight", "blocks.0.ffn.sub_norm.weight",
                 "blocks.0.ffn_mhc.res_logits", "blocks.1.attn_mhc.pre_logits", "blocks.1.attn_mhc.post_logits"):
        assert name in names, name
    assert "head.weight" not in names  # tied
    assert not any("perms" in n for n in names)  # permutation matrices are rebuilt, not stored


def test_sequence_longer_than_max_seq_len_is_a_user_error():
    model = TernaryLM(named_config("tiny", vocab_size=16, max_seq_len=4))
    with pytest.raises(NanochatError, match="max_seq_len"):
        model(torch.zeros(1, 5, dtype=torch.long))


def test_parameter_table_lists_every_named_size():
    from nanochat_cli.model.config import NAMED_CONFIGS, parameter_table

    table = parameter_table()
    assert "ternary" in table and "mHC" in table
    for name in NAMED_CONFIGS:
        total = named_config(name).param_counts()["total"]
        assert f"{total:,}" in next(line for line in table.splitlines() if line.startswith(name))
