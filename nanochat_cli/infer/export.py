"""`nanochat export`: checkpoint -> self-contained nanochat GGUF (or llama.cpp `bitnet` GGUF, see bitnet_export.py).

The nanochat GGUF keeps TernaryLM's state-dict names. Each ternary BitLinear weight W is stored as W.trits + W.scales
from `BitLinear.ternary_weights()` (the trits and scales the training forward computes, never re-quantized from
something already quantized); every other parameter (embedding, head, norms, mHC, router, DeltaNet gates) is F32,
so the engine reproduces the checkpoint to float rounding. Config and tokenizer JSON go in the metadata.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gguf
import numpy as np

from nanochat_cli.atomic_write import check_output_path
from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.weights import ModelWeights
from nanochat_cli.ternary import PlanarWeights, write_gguf
from nanochat_cli.ternary.constants import KEY_CONFIG_JSON, KEY_CONTEXT_LENGTH, KEY_SOURCE, KEY_TOKENIZER_JSON
from nanochat_cli.ternary.gguf_io import Typed

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
    if weights.tokenizer_json:
        metadata[KEY_TOKENIZER_JSON] = weights.tokenizer_json
    tensors = [(n, t if isinstance(t, PlanarWeights) else np.ascontiguousarray(t, dtype=np.float32))
               for n, t in sorted(weights.tensors.items())]
    group = next(iter(group_sizes)) if group_sizes else weights.config.group_size
    return write_gguf(out, tensors, metadata, group_size=group)


def describe_model(path: str | Path) -> dict:
    """`nanochat info`: a GGUF file's description, or a checkpoint directory's as the nanochat GGUF it exports to."""
    from nanochat_cli.ternary.inspect import describe_gguf

    p = Path(path).expanduser()
    if not p.is_dir():
        return describe_gguf(p)
    if not any((p / n).is_file() for n in ("model.safetensors", "config.json")) and \
            not any(c.name.startswith("step_") for c in p.iterdir()):  # fail before torch loads (seconds)
        raise NanochatError(f"{p} is a directory that holds no checkpoint (no model.safetensors, no step_* "
                            "directories); pass a .gguf file or a checkpoint directory")
    with tempfile.TemporaryDirectory(prefix="nanochat-info-") as tmp:
        desc = describe_gguf(write_nanochat_gguf(checkpoint_weights(p), Path(tmp) / f"{source_name(p)}.gguf"))
    return {**desc, "path": str(p), "exported_from_checkpoint": True}


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
