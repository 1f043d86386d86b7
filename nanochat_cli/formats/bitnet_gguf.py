"""llama.cpp's `bitnet` GGUF (TQ2_0 / TQ1_0 ternary matrices), written and read.

Writing (`nanochat export --format bitnet-tq2 | bitnet-tq1`). What llama.cpp's bitnet graph computes
(src/models/bitnet.cpp): x += wo(attn_sub_norm(attn(attn_norm(x)))) with NEOX RoPE (rotate-half, the pairing
TernaryLM uses, so q/k rows need no permutation), then x += ffn_down(ffn_sub_norm(silu(ffn_gate(h)) * ffn_up(h)))
with h = ffn_norm(x); logits = tok_embd(output_norm(x)).
So a model fits when it has SwiGLU, sub-norms, tied float embeddings, plain residuals (mHC n = 1), only attention
layers, no MoE, no soft-cap, ternary rows that are multiples of 256 and one scale per 256-block.
Ternary matrices become TQ2_0 / TQ1_0 blocks (the trained trits; the fp16 block scale rounds each float32 scale
once), the embedding Q6_K (llama.cpp's usual choice), F16 or F32, and the tokenizer becomes tokenizer.ggml.*
(gpt2-style byte-level BPE). The HF tokenizer JSON is kept too, for nanochat's engine.

Reading (`bitnet_weights`, into the engine's ModelWeights). TQ blocks decode to the exact trits and their fp16
block scales, i.e. PlanarWeights with group size 256; an optional per-tensor `NAME.scale` (BitNet 2B4T files)
multiplies those. The token embedding may be any type gguf-py dequantizes (F32, F16, Q6_K, Q8_0, ...). The
tokenizer is the stored HF JSON when the file was written by nanochat, else a byte-level BPE rebuilt from
tokenizer.ggml.tokens / merges (gpt2-style vocabularies only).
"""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.gguf_io import QuantTensor, Typed, write_gguf
from nanochat_cli.formats.q6_k import Q6KRows, encode_q6_k
from nanochat_cli.formats.weights import ModelWeights
from nanochat_cli.model.config import ModelConfig
from nanochat_cli.ternary import PlanarWeights, block_scales, decode_tq1_0, decode_tq2_0, encode_tq1_0, encode_tq2_0
from nanochat_cli.ternary.constants import KEY_CONFIG_JSON, KEY_TOKENIZER_JSON, QK_K

VT = gguf.GGUFValueType
GT = gguf.GGMLQuantizationType
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


# ---- writing ----


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


def _tq_tensor(p: PlanarWeights, qtype: str) -> QuantTensor:
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
                            _tq_tensor(t, qtype) if isinstance(t, PlanarWeights) else t.astype(np.float32)))
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


# ---- reading ----


def _meta(f, key: str, default=None):
    if key in f.metadata:
        return f.metadata[key]
    if default is None:
        raise NanochatError(f"{f.path}: bitnet GGUF lacks metadata {key!r}")
    return default


def _shape(t) -> tuple[int, ...]:
    return tuple(int(d) for d in reversed(t.shape.tolist()))  # ggml order -> numpy (rows, cols)


def _float(f, t) -> np.ndarray:
    if t.tensor_type in (GT.F32, GT.F16):
        return np.array(t.data, dtype=np.float32).reshape(_shape(t))  # a writable copy, not the memory map
    try:
        return gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(_shape(t)).astype(np.float32)
    except NotImplementedError:
        raise NanochatError(f"{f.path}: tensor {t.name!r} has type {t.tensor_type.name}, which cannot be "
                            "dequantized") from None


def _read_ternary(f, t, scale: float | None) -> PlanarWeights:
    shape = _shape(t)
    if t.tensor_type == GT.TQ2_0:
        trits, bs = decode_tq2_0(np.asarray(t.data), shape)
    elif t.tensor_type == GT.TQ1_0:
        trits, bs = decode_tq1_0(np.asarray(t.data), shape)
    else:
        raise NanochatError(f"{f.path}: tensor {t.name!r} is {t.tensor_type.name}; the engine runs bitnet files whose "
                            "matrices are TQ2_0 or TQ1_0")
    if scale is not None:
        bs = (bs * np.float32(scale)).astype(np.float32)
    return PlanarWeights.from_trits(trits, bs, QK_K)


def _ggml_tokenizer_json(f) -> str:
    if _meta(f, "tokenizer.ggml.model", "") != "gpt2":
        raise NanochatError(f"{f.path}: tokenizer {f.metadata.get('tokenizer.ggml.model')!r} is not supported; "
                            "the engine rebuilds gpt2-style byte-level BPE vocabularies only")
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    tokens = list(_meta(f, "tokenizer.ggml.tokens"))
    types = list(f.metadata.get("tokenizer.ggml.token_type", [1] * len(tokens)))
    merges = [tuple(m.split(" ", 1)) for m in f.metadata.get("tokenizer.ggml.merges", [])]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True) for t, ty in zip(tokens, types) if ty == gguf.TokenType.CONTROL])
    return tok.to_str()


def bitnet_weights(f) -> ModelWeights:
    tensors = f.tensors
    embd = tensors.get("token_embd.weight")
    if embd is None:
        raise NanochatError(f"{f.path}: bitnet GGUF without token_embd.weight")
    vocab, d_model = _shape(embd)
    n_layers = int(_meta(f, "bitnet.block_count"))
    n_heads = int(_meta(f, "bitnet.attention.head_count"))
    cfg = ModelConfig(
        vocab_size=vocab, d_model=d_model, n_layers=n_layers, n_heads=n_heads,
        n_kv_heads=int(_meta(f, "bitnet.attention.head_count_kv", n_heads)),
        ffn_hidden=int(_meta(f, "bitnet.feed_forward_length")), ffn_type="swiglu",
        max_seq_len=int(_meta(f, "bitnet.context_length", 2048)),
        rope_theta=float(_meta(f, "bitnet.rope.freq_base", 10000.0)),
        norm_eps=float(_meta(f, "bitnet.attention.layer_norm_rms_epsilon")),
        ternary=True, group_size=QK_K, tie_embeddings=True, sub_norm=True,
    )
    if "output.weight" in tensors:
        raise NanochatError(f"{f.path}: this bitnet file has a separate output.weight head; the engine runs tied ones")
    if "output_norm.weight" not in tensors:
        raise NanochatError(f"{f.path}: bitnet GGUF lacks tensor 'output_norm.weight'")
    # a Q6_K embedding stays in its blocks: the engine's head multiplies them, lookups dequantize single rows
    embed = Q6KRows(np.asarray(embd.data).reshape(vocab, -1), (vocab, d_model)) if embd.tensor_type == GT.Q6_K \
        else _float(f, embd)
    out = {"embed.weight": embed, "norm.weight": _float(f, tensors["output_norm.weight"])}
    for i in range(n_layers):
        for ours, theirs in LAYER_TENSORS.items():
            name = f"blk.{i}.{theirs}"
            if name not in tensors:
                raise NanochatError(f"{f.path}: bitnet GGUF lacks tensor {name!r}")
            t = tensors[name]
            if t.tensor_type in (GT.TQ2_0, GT.TQ1_0) or len(_shape(t)) == 2:
                s = tensors.get(name.replace(".weight", ".scale"))
                out[f"blocks.{i}.{ours}"] = _read_ternary(f, t, None if s is None else float(np.asarray(s.data).ravel()[0]))
            else:
                out[f"blocks.{i}.{ours}"] = _float(f, t)
    tok_json = f.metadata.get(KEY_TOKENIZER_JSON) or _ggml_tokenizer_json(f)
    eos = {int(f.metadata["tokenizer.ggml.eos_token_id"])} if "tokenizer.ggml.eos_token_id" in f.metadata else set()
    notes = [f"token_embd stored {embd.tensor_type.name}"]
    return ModelWeights(cfg, out, tok_json, str(f.path), notes, eos, lossy_embedding=embd.tensor_type != GT.F32)

