"""`nanochat export`: checkpoint -> self-contained nanochat GGUF (or llama.cpp `bitnet` GGUF, see bitnet_export.py).

The nanochat GGUF keeps TernaryLM's state-dict names. Each ternary BitLinear weight W is stored as W.trits + W.scales
from `BitLinear.ternary_weights()` (the trits and scales the training forward computes, never re-quantized from
something already quantized); every other parameter (embedding, head, norms, mHC, router, DeltaNet gates) is F32,
so the engine reproduces the checkpoint to float rounding. Config and tokenizer JSON go in the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nanochat_cli.atomic_write import check_output_path
from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.weights import ModelWeights
from nanochat_cli.ternary import PlanarWeights, write_gguf
from nanochat_cli.ternary.constants import KEY_CONFIG_JSON, KEY_TOKENIZER_JSON

FORMATS = ("nanochat", "bitnet-tq2", "bitnet-tq1")


def model_weights(model, tokenizer_json: str | None, source: str = "model") -> ModelWeights:
    """The engine's view of a TernaryLM in memory: ternary BitLinears as PlanarWeights, the rest float32."""
    from nanochat_cli.model import BitLinear

    tensors: dict = {}
    ternary_params = set()
    for mod_name, mod in model.named_modules():
        if isinstance(mod, BitLinear) and mod.ternary:
            trits, scales = mod.ternary_weights()
            name = f"{mod_name}.weight"
            tensors[name] = PlanarWeights.from_trits(trits, scales, mod.group_size)
            ternary_params.add(name)
    for name, value in model.state_dict().items():
        if name not in ternary_params:
            tensors[name] = value.detach().float().cpu().numpy().copy()
    return ModelWeights(model.cfg, tensors, tokenizer_json, source)


def checkpoint_weights(path: str | Path) -> ModelWeights:
    """Load a checkpoint (or the newest one of a run directory) and export it in memory."""
    from nanochat_cli.train.checkpoint import load_checkpoint_model

    model, tokenizer = load_checkpoint_model(path)
    return model_weights(model, tokenizer.to_str(), str(path))


def write_nanochat_gguf(weights: ModelWeights, out: str | Path) -> Path:
    """The nanochat GGUF: config + tokenizer JSON metadata, ternary tensors as trits + scales, the rest F32."""
    group_sizes = {t.group_size for t in weights.tensors.values() if isinstance(t, PlanarWeights)}
    if len(group_sizes) > 1:
        raise NanochatError(f"ternary matrices use several group sizes {sorted(group_sizes)}; the nanochat GGUF "
                            "stores one")
    metadata = {
        "general.name": Path(out).stem,
        KEY_CONFIG_JSON: json.dumps({"model": weights.config.to_dict()}),
        "nanochat.source": weights.source,
    }
    if weights.tokenizer_json:
        metadata[KEY_TOKENIZER_JSON] = weights.tokenizer_json
    tensors = [(n, t if isinstance(t, PlanarWeights) else np.ascontiguousarray(t, dtype=np.float32))
               for n, t in sorted(weights.tensors.items())]
    group = next(iter(group_sizes)) if group_sizes else weights.config.group_size
    return write_gguf(out, tensors, metadata, group_size=group)


def export_checkpoint(checkpoint: str | Path, out: str | Path, fmt: str = "nanochat", embed_type: str = "q6_k") -> Path:
    """`nanochat export`: write the checkpoint as a GGUF of the given format; returns the output path."""
    if fmt not in FORMATS:
        raise NanochatError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = check_output_path(out, "output")  # before loading: a bad -o fails at once and never hits a device node
    weights = checkpoint_weights(checkpoint)
    try:
        if fmt == "nanochat":
            return write_nanochat_gguf(weights, out)
        from nanochat_cli.infer.bitnet_export import write_bitnet_gguf

        return write_bitnet_gguf(weights, out, "tq2_0" if fmt == "bitnet-tq2" else "tq1_0", embed_type)
    except OSError as e:  # a read-only or special file system: one line, not a traceback
        raise NanochatError(f"cannot write {out}: {e.strerror or e}; choose a writable output path") from None
