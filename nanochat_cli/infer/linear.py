"""The engine's linear layers: ternary matrices on the native kernels (per-token int8 activations), float ones in numpy.

Matrices that read the same input (q/k/v, gate/up, DeltaNet's q/k/v/gate) are fused into one PreparedMatrix:
the input is quantized once and the kernel streams all rows in one call. A per-tensor scale is fused as one group
of K columns with a per-row scale, which the contract makes bit-identical (a single group's float32 sum is its
only term).
"""

from __future__ import annotations

import itertools

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels import get_threads, matmul, matmul_trusted, prepare
from nanochat_cli.kernels.native import native
from nanochat_cli.ternary import PlanarWeights, aligned_empty
from nanochat_cli.ternary.constants import ACT_QMAX

_QMAX = np.float32(ACT_QMAX)
# The widest Q6_K rows the head's kernels take (native/heads.c QK_ROW_MAX).
Q6K_MAX_K = 65536
# Float products of at most this many rows (decode steps) run in C, each row's sums the same at any count; above
# it OpenBLAS's packed GEMM wins (C against it: 2.2x at 8 rows, 1.5x at 19, 1.2-1.3x at 32, 0.7-1.0x at 48; docs/BENCHMARKS.md).
F32_NATIVE_ROWS = 32


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-token int8 quantization by the contract (quant.quantize_activations), in one C pass."""
    return Act(x).quantized()


class Act:
    """Activation rows entering linear layers: the float rows (RMSNorm-ed first when `norm` is given) and their
    per-token int8 quantization, each computed once however many layers read them. Fast mode fuses the norm and
    the quantization in one C pass (native/norm_quant.c); the reference path passes its own `normalize`
    (torch's RMSNorm, bit-identical to the model: infer/reference.py) and the result is quantized by the same
    contract."""

    __slots__ = ("_eps", "_norm", "_normalize", "_q", "_s", "_x", "_y")

    def __init__(self, x: np.ndarray, norm: np.ndarray | None = None, eps: float = 0.0, normalize=None):
        self._x, self._norm, self._eps, self._normalize = x, norm, eps, normalize
        self._y = self._q = self._s = None

    @property
    def y(self) -> np.ndarray:
        if self._y is None:
            if self._norm is None:
                self._y = np.ascontiguousarray(self._x, dtype=np.float32)
            elif self._normalize is not None:
                self._y = self._normalize(self._x, self._norm, self._eps)
            else:
                self._run(want_y=True)
        return self._y

    def quantized(self) -> tuple[np.ndarray, np.ndarray]:
        if self._q is None:
            self._run(want_y=self._y is None and self._norm is not None and self._normalize is None)
        return self._q, self._s

    def _run(self, want_y: bool) -> None:
        ffi, lib = native()
        fused = self._norm is not None and self._normalize is None
        x = np.ascontiguousarray(self._x if fused else self.y, dtype=np.float32)
        n, k = x.shape
        self._q = np.empty((n, k), np.int8)
        self._s = np.empty(n, np.float32)
        y = np.empty((n, k), np.float32) if fused and want_y else None
        lib.norm_quantize(ffi.from_buffer("float[]", x),
                          ffi.from_buffer("float[]", self._norm) if fused else ffi.NULL, n, k, self._eps,
                          ffi.NULL if y is None else ffi.from_buffer("float[]", y, require_writable=True),
                          ffi.from_buffer("int8_t[]", self._q, require_writable=True),
                          ffi.from_buffer("float[]", self._s, require_writable=True))
        if y is not None:
            self._y = y

    def rows(self, idx) -> Act:
        """The same activation restricted to some rows (per-token quantization makes this a plain slice)."""
        sub = Act(None)
        sub._y = self.y[idx]
        if self._q is not None:
            sub._q, sub._s = self._q[idx], self._s[idx]
        return sub

    @property
    def shape(self) -> tuple[int, int]:
        return self._x.shape if self._y is None else self._y.shape


def as_act(x) -> Act:
    return x if isinstance(x, Act) else Act(x)


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


def _cut(y: np.ndarray, splits: list[int]) -> list[np.ndarray]:
    edges = [0, *splits, y.shape[1]]
    return [y[:, a:b] for a, b in itertools.pairwise(edges)]


class TernaryLinear:
    """y = W x for float32 rows x (N, K): quantize per token, native kernel, float32 (N, M) out."""

    def __init__(self, planar: PlanarWeights | list[PlanarWeights]):
        parts = planar if isinstance(planar, list) else [planar]
        self.splits = np.cumsum([p.shape[0] for p in parts])[:-1].tolist()
        self.planar = fuse_planar(parts) if len(parts) > 1 else parts[0]
        self.prepared = prepare(self.planar)
        self.shape = self.planar.shape

    def __call__(self, x) -> np.ndarray:
        q, s = as_act(x).quantized()
        if q.shape[0] > 8:
            return matmul(self.prepared, q, s)
        return matmul_trusted(self.prepared, q, s)  # decode steps: the quantizer's rows are well formed

    def split(self, x) -> list[np.ndarray]:
        """The fused product, cut back into the parts' outputs (views)."""
        return _cut(self(x), self.splits)

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
        self._kind: int | None = None

    def __call__(self, x) -> np.ndarray:
        y = as_act(x).y
        if y.shape[0] > F32_NATIVE_ROWS or y.dtype != np.float32:  # float64 rows: reference mode keeps float64
            return y @ self.w.T
        return self._native(np.ascontiguousarray(y))

    def _native(self, x: np.ndarray) -> np.ndarray:
        """A decode step's rows in C (native/heads.c f32_head_matmul) on the kernels' pool: BLAS packs the whole
        matrix per call, which made an 8-row step 7-11x dearer than a 1-row one and a 32-row step read the
        matrix several times, and its own threads kept spinning against the pool's (a served single stream
        spent 64% of its time in BLAS's one-row product). Each row's sums are the same at any batch size."""
        ffi, lib = native()
        if self._kind is None:
            self._kind = lib.f32_head_best_kind()
        m, k = self.shape
        if x.shape[1] != k:
            raise NanochatError(f"activations have {x.shape[1]} columns, the matrix expects {k}")
        out = np.empty((x.shape[0], m), np.float32)
        fb = ffi.from_buffer
        lib.f32_head_matmul(fb("float[]", self.w), m, k, fb("float[]", x), x.shape[0],
                            fb("float[]", out, require_writable=True), self._kind, get_threads())
        return out

    def split(self, x) -> list[np.ndarray]:
        return _cut(self(x), self.splits)

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


def int8_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An int8 head's weights: each row of w rounded to int8 by its absmax, and the float32 row scales."""
    w = np.asarray(w, dtype=np.float32)
    scale = np.abs(w).max(axis=1) / _QMAX
    safe = np.where(scale > 0, scale, np.float32(1))
    return np.clip(np.rint(w / safe[:, None]), -_QMAX, _QMAX).astype(np.int8), scale.astype(np.float32)


def _head_io(x, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An int8 head's input rows quantized per token (checked against its K) and the float32 (N, M) output."""
    q, s = as_act(x).quantized()
    m, k = shape
    if q.shape[1] != k:
        raise NanochatError(f"activations have {q.shape[1]} columns, the head expects {k}")
    return q, s, np.empty((q.shape[0], m), np.float32)


class Int8Linear:
    """A float matrix as int8 rows with one absmax scale per row, times int8 per-token activations (the fast
    output head: a quarter of the float32 bytes). Numerics: y = x_scale * (w_scale * exact int32 dot), the same
    bits on every kind. `w` is the kind's layout: the int8 rows for AVX2 and scalar, a copy of them in the VNNI
    kernel's own order for AVX-512 VNNI (native/heads.c: 16 rows x 4 columns per line, many tokens per line)."""

    def __init__(self, w: np.ndarray, kind: int | None = None):
        self.ffi, self.lib = native()
        self.kind = self.lib.head_best_kind() if kind is None else kind
        rows, self.w_scale = int8_rows(w)
        self.shape = rows.shape
        if self.kind == 2:
            m, k = self.shape
            self.w = np.empty(self.lib.head_vnni_bytes(m, k), np.uint8)
            self.lib.head_vnni_pack(self.ffi.from_buffer("int8_t[]", rows), m, k,
                                    self.ffi.from_buffer("uint8_t[]", self.w, require_writable=True))
        else:
            self.w = rows

    def __call__(self, x) -> np.ndarray:
        q, s, y = _head_io(x, self.shape)
        m, k = self.shape
        fb = self.ffi.from_buffer
        out = fb("float[]", y, require_writable=True)
        if self.kind == 2:
            rc = self.lib.head_vnni_matmul(fb("uint8_t[]", self.w), fb("float[]", self.w_scale), m, k,
                                           fb("int8_t[]", q), fb("float[]", s), q.shape[0], out, get_threads())
        else:
            rc = self.lib.head_matmul(fb("int8_t[]", self.w), fb("float[]", self.w_scale), m, k, fb("int8_t[]", q),
                                      fb("float[]", s), q.shape[0], out, self.kind, get_threads())
        if rc == -2:
            raise MemoryError("int8 head: scratch allocation failed")
        if rc:
            raise NanochatError(f"int8 head: kind {self.kind} refused a {m} x {k} product (rc {rc})")
        return y

    @property
    def nbytes(self) -> int:
        return self.w.nbytes


class Q6KLinear:
    """The file's Q6_K matrix (llama.cpp's usual tied embedding / head) times int8 per-token activations, on its
    own 6-bit blocks (native/heads.c q6k_head_matmul): 18% fewer bytes per token than int8 rows, and the products
    are the stored weights rather than a requantization of them. Numerics: exact int32 sums per 16-weight
    sub-block, then float32 products with the block's d times its int8 sub-scales, and the activation scales."""

    def __init__(self, blocks: np.ndarray, shape: tuple[int, int]):
        from nanochat_cli.formats.q6_k import Q6_K_BLOCK_BYTES

        self.ffi, self.lib = native()
        self.kind = self.lib.q6k_best_kind()
        m, k = shape
        if k % 256 or k < 256 or blocks.shape != (m, k // 256 * Q6_K_BLOCK_BYTES) or blocks.dtype != np.uint8:
            raise NanochatError(f"Q6_K head: {blocks.dtype} {blocks.shape} bytes do not hold a {m} x {k} matrix")
        if k > Q6K_MAX_K:
            raise NanochatError(f"Q6_K head: rows of {k} columns are wider than the kernels' {Q6K_MAX_K}")
        # A copy with each block's codes reordered for the vector kernel (heads.c q6k_repack: the same bytes and
        # values), on huge pages (ternary.aligned_empty): every decode step streams it. The embedding lookups keep
        # reading the file's own blocks.
        self.blocks = aligned_empty(blocks.shape, np.uint8)
        src = np.ascontiguousarray(blocks)
        fb = self.ffi.from_buffer
        if self.lib.q6k_repack(fb("uint8_t[]", src), fb("uint8_t[]", self.blocks, require_writable=True), m, k,
                               get_threads()):
            raise NanochatError(f"Q6_K head: cannot repack a {m} x {k} matrix")
        self.shape = (m, k)

    @staticmethod
    def fast() -> bool:
        """Whether this CPU runs the vector kernel (without it, Int8Linear's AVX2 rows are the faster head)."""
        return native()[1].q6k_best_kind() == 1

    def __call__(self, x) -> np.ndarray:
        q, s, y = _head_io(x, self.shape)
        m, k = self.shape
        fb = self.ffi.from_buffer
        rc = self.lib.q6k_head_matmul(fb("uint8_t[]", self.blocks), m, k, fb("int8_t[]", q), fb("float[]", s),
                                      q.shape[0], fb("float[]", y, require_writable=True), self.kind, get_threads())
        if rc:
            raise MemoryError("Q6_K head: scratch allocation failed")
        return y

    @property
    def nbytes(self) -> int:
        return self.blocks.nbytes
