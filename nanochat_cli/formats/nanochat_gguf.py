"""The nanochat GGUF ("Q1_58"), written and read: the engine's ModelWeights as a self-contained file.

The file keeps TernaryLM's state-dict names. Each ternary BitLinear weight W is stored as W.trits + W.scales (the
trits and scales the training forward computes); every other parameter (embedding, head, norms, mHC, router,
DeltaNet gates) is F32, so the engine reproduces the checkpoint to float rounding. Config and tokenizer JSON go in
the metadata, and `nanochat.fim_rate` when the model was trained fill-in-the-middle.
"""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.gguf_io import Typed, write_gguf
from nanochat_cli.formats.weights import ModelWeights, Tensor
from nanochat_cli.model.config import ModelConfig
from nanochat_cli.ternary import PlanarWeights
from nanochat_cli.ternary.constants import (
    KEY_CONFIG_JSON,
    KEY_CONTEXT_LENGTH,
    KEY_FIM_RATE,
    KEY_SOURCE,
    KEY_TOKENIZER_JSON,
)


def source_name(source: str | Path) -> str:
    """What a GGUF records as its source: the checkpoint's directory or file name, without the local path."""
    return Path(source).expanduser().resolve().name


def write_nanochat_gguf(weights: ModelWeights, out: str | Path) -> Path:
    """The nanochat GGUF: config + tokenizer JSON metadata, ternary tensors as trits + scales, the rest F32."""
    group_sizes = {t.group_size for t in weights.tensors.values() if isinstance(t, PlanarWeights)}
    if len(group_sizes) > 1:
        raise NanochatError(f"ternary matrices use several group sizes {sorted(group_sizes)}; the nanochat GGUF "
                            "stores one")
    ternary = bool(group_sizes)
    # general.file_type: llama.cpp has no type for Q1_58 (2-bit codes, a scale per 128 columns), and TQ2_0 would be
    # a false label (its blocks are 256 wide with fp16 scales: that is what `--format bitnet-tq2` writes), so a
    # ternary file says GUESSED, llama.cpp's "not one of mine"
    ftype = gguf.LlamaFileType.GUESSED if ternary else gguf.LlamaFileType.ALL_F32
    metadata = {
        "general.name": Path(out).stem,
        "general.file_type": Typed(int(ftype), gguf.GGUFValueType.UINT32),
        KEY_CONTEXT_LENGTH: Typed(int(weights.config.max_seq_len), gguf.GGUFValueType.UINT32),
        KEY_CONFIG_JSON: json.dumps({"model": weights.config.to_dict()}),
        KEY_SOURCE: source_name(weights.source),  # a name, not a local path: the file is shared, paths are private
    }
    if weights.fim_rate > 0:  # only then: serve's /infill refuses a model without it, other files stay as they were
        metadata[KEY_FIM_RATE] = Typed(float(weights.fim_rate), gguf.GGUFValueType.FLOAT32)
    if weights.tokenizer_json:
        metadata[KEY_TOKENIZER_JSON] = weights.tokenizer_json
    tensors = [(n, t if isinstance(t, PlanarWeights) else np.ascontiguousarray(t, dtype=np.float32))
               for n, t in sorted(weights.tensors.items())]
    group = next(iter(group_sizes)) if group_sizes else weights.config.group_size
    return write_gguf(out, tensors, metadata, group_size=group)


def nanochat_gguf_weights(f) -> ModelWeights:
    raw = f.metadata[KEY_CONFIG_JSON]
    try:
        cfg_dict = json.loads(raw) if isinstance(raw, str) else None
    except (json.JSONDecodeError, RecursionError) as e:
        raise NanochatError(f"{f.path}: {KEY_CONFIG_JSON} is not valid JSON ({e})") from None
    if isinstance(cfg_dict, dict):
        cfg_dict = cfg_dict.get("model", cfg_dict)
    if not isinstance(cfg_dict, dict):
        raise NanochatError(f"{f.path}: {KEY_CONFIG_JSON} must be a JSON object of model config keys, got "
                            f"{str(raw)[:60]!r}; re-export the model with `nanochat export`")
    try:
        cfg = ModelConfig.from_dict(cfg_dict)
    except NanochatError as e:
        raise NanochatError(f"{f.path}: {e}") from None
    ternary = set(f.ternary_names())
    tensors: dict[str, Tensor] = {}
    for name in ternary:
        tensors[name] = f.planar(name)
    for t in f.reader.tensors:
        base = t.name.rsplit(".", 1)[0]
        if base in ternary:
            continue
        data = np.asarray(t.data)
        if data.dtype not in (np.float32, np.float16):
            raise NanochatError(f"{f.path}: tensor {t.name!r} has type {t.tensor_type.name}; nanochat GGUFs keep "
                                "float tensors as F32/F16")
        tensors[t.name] = data.astype(np.float32)
    rate = f.metadata.get(KEY_FIM_RATE)
    fim_rate = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else 0.0
    return ModelWeights(cfg, tensors, f.metadata.get(KEY_TOKENIZER_JSON), str(f.path), fim_rate=fim_rate)
