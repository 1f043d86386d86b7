"""Small model variants covering every layer type and option, shared by the causality and cache tests."""

from nanochat_cli.model import named_config

SMALL = dict(vocab_size=64, d_model=64, n_heads=4, n_kv_heads=2, ffn_hidden=128, group_size=32, max_seq_len=64,
             deltanet_chunk_size=8)

VARIANTS = {
    "plain": {},
    "float_twin": dict(ternary=False),
    "per_tensor_scale": dict(group_size=0),
    "mha": dict(n_kv_heads=4),
    "subln_relu2_ternary_head_softcap": dict(sub_norm=True, ffn_type="relu2", tie_embeddings=False,
                                             ternary_head=True, logit_softcap=15.0),
    "untied_float_head": dict(tie_embeddings=False),
    "mhc2": dict(mhc_streams=2),
    "mhc4_dynamic": dict(mhc_streams=4, mhc_dynamic=True, n_layers=3),
    "moe": dict(moe_experts=4, moe_top_k=2),
    "moe_shared_top1": dict(moe_experts=3, moe_top_k=1, moe_shared_expert=True),
    "deltanet": dict(layer_pattern="D"),
    "attention_deltanet": dict(layer_pattern="AD", n_layers=3, sub_norm=True),
    "everything": dict(layer_pattern="DA", mhc_streams=2, mhc_dynamic=True, moe_experts=4, moe_shared_expert=True,
                       sub_norm=True, logit_softcap=30.0),
}


def variant_config(name: str, **overrides):
    return named_config("tiny", **{**SMALL, **VARIANTS[name], **overrides})
