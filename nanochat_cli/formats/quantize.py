"""`nanochat quantize`: post-training ternarization of a float safetensors model into a GGUF file.

Hidden 2-D linear weights become ternary (absmean, per tensor or per group); embeddings, the output head, norms
and other small parameters are kept (2-D as F16, 1-D as F32). Formats: q1_58 (nanochat's planar trits + scales),
tq2_0 / tq1_0 (llama.cpp's ternary block types; rows must be multiples of 256).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import gguf
import numpy as np

from nanochat_cli.atomic_write import check_output_path
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.gguf_io import QuantTensor, write_gguf
from nanochat_cli.ternary.constants import DEFAULT_GROUP_SIZE, KEY_CONFIG_JSON, KEY_TOKENIZER_JSON, QK_K
from nanochat_cli.ternary.planar import PlanarWeights
from nanochat_cli.ternary.quant import check_group_size, dequantize, ternarize
from nanochat_cli.ternary.tq import block_scales, encode_tq1_0, encode_tq2_0

FORMATS = ("q1_58", "tq2_0", "tq1_0")
# parameters that stay in full precision even when 2-D: embeddings, output heads, norms, routers, mHC coefficients
_KEEP = re.compile(r"(embed|wte|wpe|lm_head|(^|\.)output\.weight$|(^|\.)head\.|norm|router|mhc|rotary)", re.I)


@dataclass
class TensorReport:
    name: str
    shape: tuple[int, ...]
    kind: str  # "ternary" or the kept dtype
    zeros: float = 0.0
    scale_min: float = 0.0
    scale_max: float = 0.0
    rel_error: float = 0.0


@dataclass
class QuantizeReport:
    output: Path
    format: str
    group_size: int
    bytes_before: int = 0
    bytes_after: int = 0
    tensors: list[TensorReport] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.bytes_before / max(self.bytes_after, 1)


def _safetensors_files(src: Path) -> list[Path]:
    if not src.exists():
        raise NanochatError(f"{src}: no such file or directory")
    files = sorted(src.glob("*.safetensors")) if src.is_dir() else [src]
    if not files:
        raise NanochatError(f"{src}: no *.safetensors files in this directory")
    return files


def iter_safetensors(src: Path) -> Iterator[tuple[str, np.ndarray, int]]:
    """(name, float32 array, bytes in the source) for every tensor of a safetensors file or shard directory."""
    from safetensors import safe_open

    for path in _safetensors_files(src):
        try:
            handle = safe_open(str(path), framework="pt")
        except Exception as e:  # safetensors raises its own SafetensorError on bad headers / truncation
            raise NanochatError(f"{path}: not a readable safetensors file ({e})") from None
        with handle as f:
            for name in f.keys():
                try:
                    t = f.get_tensor(name)
                except Exception as e:
                    raise NanochatError(f"{path}: tensor {name!r} cannot be read, the file looks truncated ({e})") from None
                yield name, t.float().numpy(), t.numel() * t.element_size()


def is_ternary_candidate(name: str, shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and name.endswith("weight") and not _KEEP.search(name) and shape[1] % 4 == 0


def _side_files(src: Path) -> dict[str, str]:
    """Config and tokenizer next to the weights are embedded in the GGUF so it is self-contained."""
    root = src if src.is_dir() else src.parent
    meta = {}
    if (root / "config.json").is_file():
        meta[KEY_CONFIG_JSON] = (root / "config.json").read_text()
    if (root / "tokenizer.json").is_file():
        meta[KEY_TOKENIZER_JSON] = (root / "tokenizer.json").read_text()
    return meta


def quantize_model(src: str | Path, out: str | Path, group_size: int | None = None, fmt: str = "q1_58") -> QuantizeReport:
    src, out = Path(src), check_output_path(out, "output")
    if fmt not in FORMATS:
        raise NanochatError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if group_size is None:
        group_size = DEFAULT_GROUP_SIZE if fmt == "q1_58" else QK_K
    if group_size < 0 or group_size % 4:
        raise NanochatError(f"--group-size {group_size}: use 0 (per tensor) or a positive multiple of 4")
    report = QuantizeReport(out, fmt, group_size)
    tensors: list[tuple[str, object]] = []
    for name, w, nbytes in iter_safetensors(src):
        report.bytes_before += nbytes
        if not np.isfinite(w).all():
            raise NanochatError(f"tensor {name!r} contains NaN or Inf; the source model is broken")
        if not is_ternary_candidate(name, w.shape):
            kept = w.astype(np.float16) if w.ndim == 2 and np.abs(w).max(initial=0) < 65504 else w
            tensors.append((name, kept))
            report.tensors.append(TensorReport(name, w.shape, kept.dtype.name))
            continue
        try:
            check_group_size(w.shape[1], group_size)
            trits, scales = ternarize(w, group_size)
            if fmt == "q1_58":
                stored: object = PlanarWeights.from_trits(trits, scales, group_size)
            else:
                bs = block_scales(scales, group_size, w.shape)
                enc, qtype = (encode_tq2_0, gguf.GGMLQuantizationType.TQ2_0) if fmt == "tq2_0" else \
                    (encode_tq1_0, gguf.GGMLQuantizationType.TQ1_0)
                stored = QuantTensor(enc(trits, bs), w.shape, qtype)
        except NanochatError as e:
            raise NanochatError(f"tensor {name!r} {w.shape}: {e}") from None
        recon = dequantize(trits, scales, group_size)
        err = float(np.linalg.norm(w - recon) / max(np.linalg.norm(w), 1e-30))
        tensors.append((name, stored))
        report.tensors.append(TensorReport(name, w.shape, "ternary", float((trits == 0).mean()),
                                           float(scales.min()), float(scales.max()), err))
    if not tensors:
        raise NanochatError(f"{src}: the safetensors file holds no tensors")
    metadata = {"general.name": src.stem, "nanochat.source": src.resolve().name,  # a name, never a local path
                "nanochat.format": fmt, **_side_files(src)}
    write_gguf(out, tensors, metadata, group_size=group_size)
    report.bytes_after = out.stat().st_size
    return report


def report_json(report: QuantizeReport) -> str:
    return json.dumps({
        "output": str(report.output), "format": report.format, "group_size": report.group_size,
        "bytes_before": report.bytes_before, "bytes_after": report.bytes_after, "compression": report.ratio,
        "tensors": [vars(t) | {"shape": list(t.shape)} for t in report.tensors],
    }, indent=2)


def print_report(report: QuantizeReport) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from nanochat_cli.console import make_console

    # tensor names and paths are file contents, not rich markup
    tab = Table(title=escape(f"{report.output} ({report.format}, group size {report.group_size or 'per tensor'})"))
    for col in ("tensor", "shape", "stored", "zeros", "scale range", "rel. error"):
        tab.add_column(col, justify="left" if col in ("tensor", "stored") else "right", overflow="fold")
    for t in report.tensors:
        ternary = t.kind == "ternary"
        tab.add_row(Text(t.name), "x".join(map(str, t.shape)), t.kind,
                    f"{t.zeros:.1%}" if ternary else "", f"{t.scale_min:.3g}..{t.scale_max:.3g}" if ternary else "",
                    f"{t.rel_error:.4f}" if ternary else "")
    out = make_console()
    out.print(tab)
    out.print(f"{report.bytes_before:,} bytes -> {report.bytes_after:,} bytes ({report.ratio:.2f}x smaller)")
