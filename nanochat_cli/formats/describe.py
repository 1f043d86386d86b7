"""`nanochat info`: a GGUF file's metadata and tensor table, as rich tables or JSON.

A ternary matrix's `.trits` tensor is stored packed (four 2-bit codes a byte, shape M x K/4); the table shows its
logical M x K beside the packed shape. A checkpoint directory is described as the
nanochat GGUF it exports to (`describe_model`).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from nanochat_cli.console import make_console
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.export import checkpoint_weights
from nanochat_cli.formats.gguf_io import read_gguf
from nanochat_cli.formats.nanochat_gguf import source_name, write_nanochat_gguf
from nanochat_cli.ternary.constants import TRITS_PER_BYTE, TRITS_SUFFIX

_LONG = 120  # metadata values longer than this (tokenizer JSON, vocab arrays) are summarised


def _summarise(value: Any) -> Any:
    if isinstance(value, list) and len(value) > 8:
        return f"[{len(value)} items: {', '.join(map(repr, value[:4]))}, ...]"
    if isinstance(value, str) and len(value) > _LONG:
        return f"<{len(value)} characters: {value[:60]!r}...>"
    return value


def describe_gguf(path: str | Path) -> dict[str, Any]:
    """Metadata (long values summarised) and one record per tensor: name, type, shape, bytes, offset."""
    f = read_gguf(path)
    ternary = set(f.ternary_names())
    tensors = []
    for t in f.reader.tensors:
        shape = [int(d) for d in reversed(t.shape.tolist())]  # numpy (row-major) order
        record = {
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": shape,
            "n_elements": int(t.n_elements),
            "n_bytes": int(t.n_bytes),
            "offset": int(t.data_offset),
        }
        if t.name.endswith(TRITS_SUFFIX) and t.name[: -len(TRITS_SUFFIX)] in ternary and len(shape) == 2:
            record["logical_shape"] = [shape[0], shape[1] * TRITS_PER_BYTE]  # the M x K matrix the codes pack
        tensors.append(record)
    return {
        "path": str(f.path),
        "gguf_version": int(f.reader.fields["GGUF.version"].parts[-1][0]),
        "file_bytes": f.path.stat().st_size,
        "metadata": {k: _summarise(v) for k, v in f.metadata.items()},
        "ternary_matrices": f.ternary_names(),
        "tensors": tensors,
    }


def describe_model(path: str | Path) -> dict:
    """`nanochat info`: a GGUF file's description, or a checkpoint directory's as the nanochat GGUF it exports to."""
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


def print_description(desc: dict[str, Any], as_json: bool = False) -> None:
    if as_json:
        json.dump(desc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    out = make_console()
    # file contents are plain text, never rich markup: chat templates hold "[INST]" ... "[/INST]"
    what = f"GGUF v{desc['gguf_version']}, {desc['file_bytes'] / 2**20:.2f} MiB"
    if desc.get("exported_from_checkpoint"):
        what += " as `nanochat export` would write it"
    meta = Table(title=f"{escape(desc['path'])} ({what})", show_lines=False)
    meta.add_column("key")
    meta.add_column("value", overflow="fold")
    for k, v in desc["metadata"].items():
        meta.add_row(Text(k), Text(str(v)))
    out.print(meta)
    tab = Table(title=f"{len(desc['tensors'])} tensors ({len(desc['ternary_matrices'])} ternary matrices)")
    for col in ("name", "type", "shape", "logical shape", "bytes"):
        tab.add_column(col, justify="right" if col == "bytes" else "left")
    for t in desc["tensors"]:
        logical = "x".join(map(str, t["logical_shape"])) if "logical_shape" in t else ""
        tab.add_row(Text(t["name"]), t["type"], "x".join(map(str, t["shape"])), logical, f"{t['n_bytes']:,}")
    out.print(tab)
    total = int(np.sum([t["n_bytes"] for t in desc["tensors"]])) if desc["tensors"] else 0
    out.print(f"tensor data: {total:,} bytes")
