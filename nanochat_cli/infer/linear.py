"""The engine's linear layers: ternary matrices on the native kernels (per-token int8 activations), float ones in numpy.

Matrices that read the same input (q/k/v, gate/up, DeltaNet's q/k/v/gate) are fused into one PreparedMatrix:
the input is quantized once and the kernel streams all rows in one call. A per-tensor scale is fused as one group
of K columns with a per-row scale, which the contract makes bit-identical (a single group's float32 sum is its
only term).
"""

from __future__ import annotations

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels import matmul, prepare
from nanochat_cli.ternary import PlanarWeights
from nanochat_cli.ternary.constants import ACT_QMAX

_QMAX = np.float32(ACT_QMAX)


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-token int8 quantization by the contract (quant.quantize_activations), in a few numpy passes."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    scale = np.abs(x).max(axis=1) / _QMAX
    safe = np.where(scale > 0, scale, np.float32(1))  # an all-zero row quantizes to zeros
    q = np.rint(x / safe[:, None])
    np.clip(q, -_QMAX, _QMAX, out=q)
    return q.astype(np.int8), scale.astype(np.float32, copy=False)


def fuse_planar(parts: list[PlanarWeights]) -> PlanarWeights:
    """Stack matrices with the same input width into one (sum M, K) matrix with per-row-group scales."""
    k = parts[0].shape[1]
    if any(p.shape[1] != k for p in parts):
        raise NanochatError(f"cannot fuse matrices with input widths {[p.shape[1] for p in parts]}")
    groups = {p.group_size for p in parts}
    if groups != {0} and len(groups) > 1:
        raise NanochatError(f"cannot fuse matrices with group sizes {sorted(groups)}")
    group = parts[0].group_size or k
    packed = np.concatenate([p.packed for p in parts], axis=0)
    scales = np.concatenate(
        [np.full((p.shape[0], 1), p.scales[0, 0], np.float32) if p.group_size == 0 else p.scales for p in parts], axis=0)
    return PlanarWeights.from_packed(packed, scales, (packed.shape[0], k), group)


class TernaryLinear:
    """y = W x for float32 rows x (N, K): quantize per token, native kernel, float32 (N, M) out."""

    def __init__(self, planar: PlanarWeights | list[PlanarWeights]):
        parts = planar if isinstance(planar, list) else [planar]
        self.splits = np.cumsum([p.shape[0] for p in parts])[:-1].tolist()
        self.planar = fuse_planar(parts) if len(parts) > 1 else parts[0]
        self.prepared = prepare(self.planar)
        self.shape = self.planar.shape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        q, s = quantize_rows(x)
        return matmul(self.prepared, q, s)

    def split(self, x: np.ndarray) -> list[np.ndarray]:
        """The fused product, cut back into the parts' outputs."""
        return np.split(self(x), self.splits, axis=1)

    @property
    def nbytes(self) -> int:
        return self.prepared.nbytes


class FloatLinear:
    """A float32 matrix (the float twin's linears, an untied float head); W stored (M, K), y = x W^T."""

    def __init__(self, w: np.ndarray | list[np.ndarray]):
        parts = w if isinstance(w, list) else [w]
        self.splits = np.cumsum([p.shape[0] for p in parts])[:-1].tolist()
        full = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
        self.w = np.ascontiguousarray(full, dtype=np.float32)  # a tied head shares the embedding's memory
        self.shape = full.shape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float32) @ self.w.T

    def split(self, x: np.ndarray) -> list[np.ndarray]:
        return np.split(self(x), self.splits, axis=1)

    @property
    def nbytes(self) -> int:
        return self.w.nbytes


def make_linear(parts):
    """TernaryLinear for PlanarWeights, FloatLinear for float arrays (fused when given a list)."""
    items = parts if isinstance(parts, list) else [parts]
    if all(isinstance(p, PlanarWeights) for p in items):
        return TernaryLinear(parts)
    if any(isinstance(p, PlanarWeights) for p in items):
        raise NanochatError("cannot fuse ternary and float matrices")
    return FloatLinear(parts)
