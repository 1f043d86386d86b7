"""Load a llama.cpp `bitnet` GGUF (TQ2_0 / TQ1_0 ternary matrices) into the engine's ModelWeights.

TQ blocks decode to the exact trits and their fp16 block scales, i.e. PlanarWeights with group size 256; an
optional per-tensor `NAME.scale` (BitNet 2B4T files) multiplies those. The token embedding may be any type
gguf-py dequantizes (F32, F16, Q6_K, Q8_0, ...). The tokenizer is the stored HF JSON when the file was written by
nanochat, else a byte-level BPE rebuilt from tokenizer.ggml.tokens / merges (gpt2-style vocabularies only).
"""

from __future__ import annotations

import gguf
import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.bitnet_export import LAYER_TENSORS
from nanochat_cli.infer.q6_k import Q6KRows
from nanochat_cli.infer.weights import ModelWeights
from nanochat_cli.model.config import ModelConfig
from nanochat_cli.ternary import PlanarWeights, decode_tq1_0, decode_tq2_0
from nanochat_cli.ternary.constants import KEY_TOKENIZER_JSON, QK_K

GT = gguf.GGMLQuantizationType


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


def _ternary(f, t, scale: float | None) -> PlanarWeights:
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
                out[f"blocks.{i}.{ours}"] = _ternary(f, t, None if s is None else float(np.asarray(s.data).ravel()[0]))
            else:
                out[f"blocks.{i}.{ours}"] = _float(f, t)
    tok_json = f.metadata.get(KEY_TOKENIZER_JSON) or _ggml_tokenizer_json(f)
    eos = {int(f.metadata["tokenizer.ggml.eos_token_id"])} if "tokenizer.ggml.eos_token_id" in f.metadata else set()
    notes = [f"token_embd stored {embd.tensor_type.name}"]
    return ModelWeights(cfg, out, tok_json, str(f.path), notes, eos, lossy_embedding=embd.tensor_type != GT.F32)

