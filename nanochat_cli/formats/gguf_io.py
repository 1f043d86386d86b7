"""GGUF read/write through gguf-py: the nanochat Q1_58 layout and any standard tensor type.

A ternary matrix W is stored as two standard tensors, `W.trits` (packed 2-bit codes, shape (M, K/4); ggml has no
U8 tensor type, so the bytes are stored as I8 and reinterpreted as uint8 on reading) and
`W.scales` (F32), with `nanochat.quant = "q1_58"` and `nanochat.group_size` in the metadata: every GGUF reader
opens the file and no ggml type id is invented. Tensor data is aligned to 128 bytes, so the memory-mapped
tensors a reader returns can feed the SIMD kernels without a copy.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Union

import gguf
import numpy as np

from nanochat_cli.atomic_write import atomic_output
from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import (
    BUFFER_ALIGN, GGUF_ARCH, KEY_GROUP_SIZE, KEY_QUANT, QUANT_Q1_58, SCALES_SUFFIX, TRITS_SUFFIX,
)
from nanochat_cli.ternary.planar import PlanarWeights

GGUF_MAGIC = b"GGUF"
VT = gguf.GGUFValueType


@dataclass(frozen=True)
class QuantTensor:
    """Raw blocks of a standard ggml quantized type (TQ2_0, TQ1_0, Q6_K, ...) for a (rows, cols) matrix."""

    data: np.ndarray  # uint8 (rows, bytes per row)
    shape: tuple[int, int]
    qtype: gguf.GGMLQuantizationType


TensorLike = Union[np.ndarray, PlanarWeights, QuantTensor]


@dataclass(frozen=True)
class Typed:
    """A metadata value with an explicit GGUF type, for keys whose readers insist on one (e.g. llama.cpp's u32)."""

    value: Any
    vtype: gguf.GGUFValueType
    sub_type: gguf.GGUFValueType | None = None


def _add_metadata(w: gguf.GGUFWriter, key: str, value: Any) -> None:
    if isinstance(value, Typed):
        w.add_key_value(key, value.value, value.vtype, sub_type=value.sub_type)
    elif isinstance(value, bool):
        w.add_bool(key, value)
    elif isinstance(value, (int, np.integer)):
        (w.add_uint32 if 0 <= value < 2**32 else w.add_int64)(key, int(value))
    elif isinstance(value, (float, np.floating)):
        w.add_float32(key, float(value))
    elif isinstance(value, str):
        w.add_string(key, value)
    elif isinstance(value, (list, tuple)):
        w.add_array(key, list(value))
    else:
        raise TypeError(f"metadata {key!r}: unsupported value type {type(value).__name__}")


def write_gguf(path: str | os.PathLike, tensors: Iterable[tuple[str, TensorLike]], metadata: dict[str, Any],
               arch: str = GGUF_ARCH, group_size: int | None = None) -> Path:
    """Write a GGUF file atomically (atomic_write.py). PlanarWeights become NAME.trits + NAME.scales."""
    path = Path(path)
    with atomic_output(path, "output") as tmp:
        w = gguf.GGUFWriter(str(tmp), arch)
        w.add_custom_alignment(BUFFER_ALIGN)
        has_ternary = False
        for name, t in tensors:
            if isinstance(t, PlanarWeights):
                has_ternary = True
                w.add_tensor(name + TRITS_SUFFIX, np.ascontiguousarray(t.packed).view(np.int8))
                w.add_tensor(name + SCALES_SUFFIX, np.ascontiguousarray(t.scales))
            elif isinstance(t, QuantTensor):
                w.add_tensor(name, np.ascontiguousarray(t.data), raw_shape=t.data.shape, raw_dtype=t.qtype)
            else:
                w.add_tensor(name, np.ascontiguousarray(t))
        if has_ternary:
            w.add_string(KEY_QUANT, QUANT_Q1_58)
            w.add_uint32(KEY_GROUP_SIZE, int(group_size or 0))
        for key, value in metadata.items():
            _add_metadata(w, key, value)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    return path


@dataclass
class GGUFFile:
    """An opened GGUF: metadata as Python values and tensors as memory-mapped numpy arrays (nothing is read yet)."""

    path: Path
    reader: gguf.GGUFReader
    metadata: dict[str, Any]

    @property
    def tensors(self) -> dict[str, Any]:
        return {t.name: t for t in self.reader.tensors}

    @property
    def group_size(self) -> int:
        value = self.metadata.get(KEY_GROUP_SIZE, 0)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise NanochatError(f"{self.path}: metadata {KEY_GROUP_SIZE} must be an integer, got {value!r}")
        return int(value)

    @property
    def is_q1_58(self) -> bool:
        return self.metadata.get(KEY_QUANT) == QUANT_Q1_58

    def ternary_names(self) -> list[str]:
        names = [t.name[: -len(TRITS_SUFFIX)] for t in self.reader.tensors if t.name.endswith(TRITS_SUFFIX)]
        return [n for n in names if n + SCALES_SUFFIX in self.tensors]

    def tensor(self, name: str) -> np.ndarray:
        """A tensor's data in numpy order (memory-mapped view; F16 stays F16, quantized types stay raw bytes)."""
        try:
            return self.tensors[name].data
        except KeyError:
            raise NanochatError(f"{self.path}: no tensor named {name!r}") from None

    def planar(self, name: str) -> PlanarWeights:
        """The ternary matrix stored as NAME.trits + NAME.scales, without copying when already aligned."""
        packed, scales = self.tensor(name + TRITS_SUFFIX), self.tensor(name + SCALES_SUFFIX)
        if packed.dtype not in (np.int8, np.uint8) or packed.ndim != 2 or scales.dtype != np.float32:
            raise NanochatError(f"{self.path}: tensor {name!r} violates the q1_58 format: trits must be a 2-D I8 "
                                f"tensor and scales F32, got {packed.dtype} {packed.shape} and {scales.dtype}")
        packed = packed.view(np.uint8)
        shape = (packed.shape[0], packed.shape[1] * 4)
        try:
            return PlanarWeights.from_packed(packed, scales, shape, self.group_size)
        except NanochatError as e:
            raise NanochatError(f"{self.path}: tensor {name!r} violates the q1_58 format: {e}") from None


def read_gguf(path: str | os.PathLike) -> GGUFFile:
    """Open a GGUF file memory-mapped; a missing, truncated or non-GGUF file is one clear NanochatError."""
    path = Path(path)
    if path.is_dir():
        raise NanochatError(f"{path} is a directory; pass the .gguf file inside it")
    if not path.is_file():
        raise NanochatError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[:4] != GGUF_MAGIC:
        raise NanochatError(f"{path}: not a GGUF file (bad magic); pass a .gguf written by nanochat or llama.cpp tools")
    version = struct.unpack("<I", head[4:8])[0]
    if version not in (2, 3):
        raise NanochatError(f"{path}: unsupported GGUF version {version}")
    try:
        reader = gguf.GGUFReader(str(path), "r")
    except Exception as e:  # gguf-py raises ValueError/IndexError/struct.error etc. on truncated or corrupt files
        raise NanochatError(f"{path}: corrupt or truncated GGUF ({type(e).__name__}: {e})") from None
    names = [t.name for t in reader.tensors]
    if "" in names or len(set(names)) != len(names):
        what = "a tensor without a name" if "" in names else "two tensors of the same name"
        raise NanochatError(f"{path}: corrupt GGUF header: it declares {what} (more tensors than the file holds?)")
    metadata = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        try:
            metadata[name] = field.contents()
        except Exception as e:
            raise NanochatError(f"{path}: corrupt metadata field {name!r} ({e})") from None
    return GGUFFile(path, reader, metadata)
