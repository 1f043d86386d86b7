"""`nanochat export`: checkpoint -> self-contained nanochat GGUF (nanochat_gguf.py) or llama.cpp `bitnet` GGUF
(bitnet_gguf.py). Sits beside quantize.py, which makes a GGUF from a float safetensors model.

A checkpoint becomes ModelWeights in memory first: each ternary BitLinear weight as the trits and scales of
`BitLinear.ternary_weights()` (what the training forward computes, never re-quantized from something already
quantized), every other parameter float32; the recipe's data.fim_rate goes with it.
"""

from __future__ import annotations

from pathlib import Path

from nanochat_cli.atomic_write import check_output_path
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.checkpoint_dir import fim_rate, load_checkpoint_model, read_config
from nanochat_cli.formats.nanochat_gguf import write_nanochat_gguf
from nanochat_cli.formats.weights import ModelWeights
from nanochat_cli.ternary import PlanarWeights

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
    model, tokenizer = load_checkpoint_model(path)
    weights = model_weights(model, tokenizer.to_str(), str(path))
    weights.fim_rate = fim_rate(read_config(path))
    return weights


def export_checkpoint(checkpoint: str | Path, out: str | Path, fmt: str = "nanochat", embed_type: str = "q6_k") -> Path:
    """`nanochat export`: write the checkpoint as a GGUF of the given format; returns the output path."""
    if fmt not in FORMATS:
        raise NanochatError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = check_output_path(out, "output")  # before loading: a bad -o fails at once and never hits a device node
    weights = checkpoint_weights(checkpoint)
    try:
        if fmt == "nanochat":
            return write_nanochat_gguf(weights, out)
        from nanochat_cli.formats.bitnet_gguf import write_bitnet_gguf

        return write_bitnet_gguf(weights, out, "tq2_0" if fmt == "bitnet-tq2" else "tq1_0", embed_type)
    except OSError as e:  # a read-only or special file system: one line, not a traceback
        raise NanochatError(f"cannot write {out}: {e.strerror or e}; choose a writable output path") from None
