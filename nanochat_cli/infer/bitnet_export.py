"""`nanochat export --format bitnet-tq2 | bitnet-tq1`: a GGUF in llama.cpp's `bitnet` architecture.

What llama.cpp's bitnet graph computes (src/models/bitnet.cpp): x += wo(attn_sub_norm(attn(attn_norm(x)))) with
NEOX RoPE (rotate-half, the pairing TernaryLM uses, so q/k rows need no permutation), then
x += ffn_down(ffn_sub_norm(silu(ffn_gate(h)) * ffn_up(h))) with h = ffn_norm(x); logits = tok_embd(output_norm(x)).
So a model fits when it has SwiGLU, sub-norms, tied float embeddings, plain residuals (mHC n = 1), only attention
layers, no MoE, no soft-cap, ternary rows that are multiples of 256 and one scale per 256-block.
Ternary matrices become TQ2_0 / TQ1_0 blocks (the trained trits; the fp16 block scale rounds each float32 scale
once), the embedding Q6_K (llama.cpp's usual choice), F16 or F32, and the tokenizer becomes tokenizer.ggml.*
(gpt2-style byte-level BPE). The HF tokenizer JSON is kept too, for nanochat's engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.q6_k import encode_q6_k
from nanochat_cli.infer.weights import ModelWeights
from nanochat_cli.ternary import PlanarWeights, QuantTensor, Typed, block_scales, encode_tq1_0, encode_tq2_0, write_gguf
from nanochat_cli.ternary.constants import KEY_CONFIG_JSON, KEY_TOKENIZER_JSON, QK_K

VT = gguf.GGUFValueType
EMBED_TYPES = ("q6_k", "f16", "f32")

# nanochat name (per layer) -> llama.cpp bitnet name
LAYER_TENSORS = {
    "attn_norm.weight": "attn_norm.weight",
    "attn.q_proj.weight": "attn_q.weight",
    "attn.k_proj.weight": "attn_k.weight",
    "attn.v_proj.weight": "attn_v.weight",
    "attn.sub_norm.weight": "attn_sub_norm.weight",
    "attn.o_proj.weight": "attn_output.weight",
    "ffn_norm.weight": "ffn_norm.weight",
    "ffn.gate_proj.weight": "ffn_gate.weight",
    "ffn.up_proj.weight": "ffn_up.weight",
    "ffn.sub_norm.weight": "ffn_sub_norm.weight",
    "ffn.down_proj.weight": "ffn_down.weight",
}


def bitnet_blockers(weights: ModelWeights) -> list[str]:
    """The features of this model that llama.cpp's bitnet architecture cannot express (empty: it fits)."""
    c = weights.config
    why = []
    if not c.ternary:
        why.append("float linears (ternary = false)")
    if c.mhc_streams != 1:
        why.append(f"mHC residual streams (mhc_streams = {c.mhc_streams}; bitnet needs plain residuals, 1)")
    if c.moe_experts:
        why.append(f"mixture of experts (moe_experts = {c.moe_experts})")
    if set(c.layer_pattern) != {"A"}:
        why.append(f"DeltaNet layers (layer_pattern = {c.layer_pattern!r})")
    if c.ffn_type != "swiglu":
        why.append(f"ffn_type = {c.ffn_type!r} (bitnet's graph is SwiGLU)")
    if not c.sub_norm:
        why.append("no sub-norms (sub_norm = false; bitnet applies attn_sub_norm and ffn_sub_norm)")
    if not c.tie_embeddings or c.ternary_head:
        why.append("an untied output head (bitnet reuses the token embedding as the head)")
    if c.logit_softcap:
        why.append(f"logit soft-capping (logit_softcap = {c.logit_softcap})")
    bad_k = sorted({k for k in (c.d_model, c.ffn_hidden) if k % QK_K})
    if bad_k:
        why.append(f"matrix rows of {', '.join(map(str, bad_k))} weights (TQ1_0/TQ2_0 need multiples of {QK_K})")
    if c.group_size % QK_K:
        why.append(f"group_size = {c.group_size} (TQ blocks hold one scale per {QK_K} weights: use 0 or a multiple "
                   f"of {QK_K})")
    return why


def ggml_vocab(tokenizer_json: str, vocab_size: int) -> dict:
    """tokenizer.ggml.* metadata of a byte-level BPE tokenizer.json (model, pre, tokens, token_type, merges, ids)."""
    tj = json.loads(tokenizer_json)
    model = tj.get("model", {})
    if model.get("type") != "BPE":
        raise NanochatError(f"the tokenizer is {model.get('type')!r}, llama.cpp export handles byte-level BPE only")
    id_to_tok: dict[int, str] = {i: t for t, i in model["vocab"].items()}
    special = set()
    for added in tj.get("added_tokens", []):
        id_to_tok[added["id"]] = added["content"]
        if added.get("special"):
            special.add(added["id"])
    if max(id_to_tok) >= vocab_size:
        raise NanochatError(f"the tokenizer has ids up to {max(id_to_tok)} but the model's vocab_size is {vocab_size}")
    tokens, types = [], []
    for i in range(vocab_size):
        if i in id_to_tok:
            tokens.append(id_to_tok[i])
            types.append(gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL)
        else:  # embedding rows past the tokenizer: never produced by it
            tokens.append(f"<|unused_{i}|>")
            types.append(gguf.TokenType.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    eot = next((a["id"] for a in tj.get("added_tokens", []) if a["content"] == "<|endoftext|>"), 0)
    return {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.tokens": Typed(tokens, VT.ARRAY, VT.STRING),
        "tokenizer.ggml.token_type": Typed([int(t) for t in types], VT.ARRAY, VT.INT32),
        "tokenizer.ggml.merges": Typed(merges, VT.ARRAY, VT.STRING),
        "tokenizer.ggml.bos_token_id": Typed(eot, VT.UINT32),
        "tokenizer.ggml.eos_token_id": Typed(eot, VT.UINT32),
        "tokenizer.ggml.add_bos_token": False,
    }


def _embedding(e: np.ndarray, embed_type: str):
    if embed_type == "q6_k":
        return QuantTensor(encode_q6_k(e), e.shape, gguf.GGMLQuantizationType.Q6_K)
    return e.astype(np.float16) if embed_type == "f16" else e.astype(np.float32)


def _ternary(p: PlanarWeights, qtype: str) -> QuantTensor:
    bs = block_scales(p.scales, p.group_size, p.shape)
    trits = p.trits()
    if qtype == "tq2_0":
        return QuantTensor(encode_tq2_0(trits, bs), p.shape, gguf.GGMLQuantizationType.TQ2_0)
    return QuantTensor(encode_tq1_0(trits, bs), p.shape, gguf.GGMLQuantizationType.TQ1_0)


def write_bitnet_gguf(weights: ModelWeights, out: str | Path, qtype: str = "tq2_0", embed_type: str = "q6_k") -> Path:
    """Write the model as a llama.cpp `bitnet` GGUF; a model that does not fit raises one error naming why."""
    if qtype not in ("tq2_0", "tq1_0"):
        raise NanochatError(f"unknown llama.cpp ternary type {qtype!r}; use tq2_0 or tq1_0")
    if embed_type not in EMBED_TYPES:
        raise NanochatError(f"unknown embedding type {embed_type!r}; choose one of {', '.join(EMBED_TYPES)}")
    fmt = "bitnet-tq2" if qtype == "tq2_0" else "bitnet-tq1"
    blockers = bitnet_blockers(weights)
    if blockers:
        raise NanochatError(f"this model cannot be exported as {fmt} (llama.cpp's bitnet architecture): "
                            + "; ".join(blockers) + ". Export it with --format nanochat instead")
    if not weights.tokenizer_json:
        raise NanochatError(f"{weights.source}: no tokenizer to export; the checkpoint needs tokenizer.json")
    c = weights.config
    if embed_type == "q6_k" and c.d_model % QK_K:
        embed_type = "f16"
    tensors = [("token_embd.weight", _embedding(weights.float("embed.weight"), embed_type)),
               ("output_norm.weight", weights.float("norm.weight").astype(np.float32))]
    for i in range(c.n_layers):
        for ours, theirs in LAYER_TENSORS.items():
            t = weights.get(f"blocks.{i}.{ours}")
            tensors.append((f"blk.{i}.{theirs}",
                            _ternary(t, qtype) if isinstance(t, PlanarWeights) else t.astype(np.float32)))
    ftype = gguf.LlamaFileType.MOSTLY_TQ2_0 if qtype == "tq2_0" else gguf.LlamaFileType.MOSTLY_TQ1_0
    u32 = VT.UINT32
    metadata = {
        "general.name": Path(out).stem,
        "general.file_type": Typed(int(ftype), u32),
        "bitnet.vocab_size": Typed(c.vocab_size, u32),
        "bitnet.context_length": Typed(c.max_seq_len, u32),
        "bitnet.embedding_length": Typed(c.d_model, u32),
        "bitnet.block_count": Typed(c.n_layers, u32),
        "bitnet.feed_forward_length": Typed(c.ffn_hidden, u32),
        "bitnet.attention.head_count": Typed(c.n_heads, u32),
        "bitnet.attention.head_count_kv": Typed(c.n_kv_heads, u32),
        "bitnet.rope.dimension_count": Typed(c.head_dim, u32),
        "bitnet.rope.freq_base": Typed(float(c.rope_theta), VT.FLOAT32),
        "bitnet.attention.layer_norm_rms_epsilon": Typed(float(c.norm_eps), VT.FLOAT32),
        **ggml_vocab(weights.tokenizer_json, c.vocab_size),
        KEY_TOKENIZER_JSON: weights.tokenizer_json,
        KEY_CONFIG_JSON: json.dumps({"model": c.to_dict()}),
    }
    return write_gguf(out, tensors, metadata, arch="bitnet")
