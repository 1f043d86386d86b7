"""PreparedMatrix: a PlanarWeights plus the interleaved layout the SIMD kernels read, built once at load.

`prepare(planar)` builds the layout (native/layout.c documents it) in 128-byte aligned numpy buffers and
keeps them, the planar buffers and the C descriptor alive together for as long as the object lives.
`ensure_tq16()` adds the 1.6-bit layout (native/layout16.c) beside it, only when asked: it costs another
~0.8x of the codes' memory and pays off only for GEMV on models far larger than the cache (dispatch.tq16_wanted).
`ensure_lut()` adds the lookup-table layout (native/lut.c, ~2.7x the codes' memory) for the avx512vbmi-lut kernel,
also only when asked (dispatch.lut_wanted decides when the dispatcher measures it).
"""

from __future__ import annotations

import threading

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels.native import LUT_KERNEL, TQ16_KERNEL, get_threads, native
from nanochat_cli.ternary import PlanarWeights, aligned_empty
from nanochat_cli.ternary.constants import BUFFER_ALIGN

# The AVX-512 kernel keeps 64 * (t + 1) * q sums in int32 over a whole group: 64 * 2 * 127 * G < 2**31.
MAX_GROUP_COLUMNS = 131072
_LAYOUT_BUILD_LOCK = threading.Lock()


class PreparedMatrix:
    """A ternary (M, K) matrix ready for `matmul`: planar codes (scalar reference) + interleaved layout. `c` is its
    tq_weights descriptor (native/ternary.h), what the library's C functions take: the engine's layer stack keeps
    one per matrix."""

    def __init__(self, planar: PlanarWeights, n_threads: int = 1):
        ffi, lib = native()
        m, k = planar.shape
        if m < 1 or k < 4:
            raise NanochatError(f"a ternary matrix needs M >= 1 rows and K >= 4 columns, got {planar.shape}")
        group = k if planar.group_size == 0 else planar.group_size
        if group > MAX_GROUP_COLUMNS:
            raise NanochatError(
                f"a scale group of {group} columns is too long for the int32 accumulators "
                f"(max {MAX_GROUP_COLUMNS}); quantize with a group size such as 128"
            )
        for name, buf in (("packed", planar.packed), ("scales", planar.scales)):
            if not buf.flags.c_contiguous or buf.ctypes.data % BUFFER_ALIGN:
                raise NanochatError(f"planar {name} must be C-contiguous and {BUFFER_ALIGN}-byte aligned")
        self.planar = planar
        self.shape = (m, k)
        self.group_size = planar.group_size
        self.n_groups = planar.n_groups
        self.codes = aligned_empty((int(lib.tq_layout_code_bytes(m, k)),), np.uint8)
        self.scales = aligned_empty((int(lib.tq_layout_scale_count(m, self.n_groups)),), np.float32)
        self._buffers = [
            ffi.from_buffer("uint8_t[]", planar.packed),
            ffi.from_buffer("float[]", planar.scales),
            ffi.from_buffer("uint8_t[]", self.codes),
            ffi.from_buffer("float[]", self.scales),
        ]
        self.c = ffi.new("tq_weights *")
        self.c.planar, self.c.planar_scales, self.c.codes, self.c.scales = self._buffers
        self.c.M, self.c.K, self.c.group, self.c.n_groups = m, k, group, self.n_groups
        self.c.per_tensor = int(planar.group_size == 0)
        self.c.codes16 = ffi.NULL
        self.c.codes_lut = ffi.NULL
        lib.tq_layout_build(self.c, self._buffers[2], self._buffers[3], max(1, int(n_threads)))
        self.codes16: np.ndarray | None = None
        self.codes_lut: np.ndarray | None = None
        self._layout_buffers: dict[str, object] = {}  # the optional layouts' cdata buffers, by descriptor field
        # bytes of the model this matrix belongs to, what dispatch.tq16_wanted weighs against the cache
        # (NativeModel sets it; a lone matrix stands for itself)
        self.model_bytes = self.nbytes
        # matmul_trusted's kernel per (batch class, threads), asked of the dispatcher once
        self.kernel_ids: dict[tuple[int, int], int] = {}

    def ensure_tq16(self, n_threads: int | None = None) -> None:
        """Build the 1.6-bit layout (5 trits per byte) the avx512vbmi-tq16 kernel reads, once; it shares the
        interleaved layout's scales."""
        _, lib = native()
        self._ensure_layout("codes16", lib.tq_layout16_code_bytes(*self.shape), lib.tq_layout16_build, n_threads)

    def ensure_lut(self, n_threads: int | None = None) -> None:
        """Build the lookup-table layout (16-bit pattern indices of 3 trits) the avx512vbmi-lut kernel reads, once;
        it shares the interleaved layout's scales."""
        _, lib = native()
        nbytes = lib.tq_layout_lut_code_bytes(self.shape[0], self.shape[1], int(self.c.group))
        self._ensure_layout("codes_lut", nbytes, lib.tq_layout_lut_build, n_threads)

    def ensure_layout_for(self, kernel: str) -> None:
        """Build the optional layout `kernel` reads, if it reads one (a forced or cached choice on a matrix whose
        model did not build it); the other kernels read the interleaved layout, always there."""
        if kernel == TQ16_KERNEL:
            self.ensure_tq16()
        elif kernel == LUT_KERNEL:
            self.ensure_lut()

    def drop_lut(self) -> None:
        """Free the lookup-table layout (the dispatcher measured it and it lost); a later ensure_lut rebuilds it."""
        with _LAYOUT_BUILD_LOCK:
            if self.codes_lut is not None:
                ffi, _ = native()
                self.c.codes_lut = ffi.NULL
                del self._layout_buffers["codes_lut"]
                self.codes_lut = None

    def _ensure_layout(self, field: str, nbytes: int, build, n_threads: int | None) -> None:
        """Build an optional layout into a new aligned buffer and hang it on the descriptor's `field`, once."""
        with _LAYOUT_BUILD_LOCK:  # a forced kernel builds lazily, maybe from several threads
            if getattr(self, field) is not None:
                return
            ffi, _ = native()
            codes = aligned_empty((int(nbytes),), np.uint8)
            buf = ffi.from_buffer("uint8_t[]", codes)
            # built through a copy of the descriptor: a product running meanwhile never sees a half-built layout
            building = ffi.new("tq_weights *", self.c[0])
            setattr(building, field, buf)
            build(building, max(1, int(n_threads or get_threads())))
            self._layout_buffers[field] = buf  # keeps the cdata (and through it the array) alive with the descriptor
            setattr(self.c, field, buf)
            setattr(self, field, codes)

    @property
    def nbytes(self) -> int:
        """Bytes the SIMD kernels stream per product (codes + scales of the interleaved layout)."""
        return self.codes.nbytes + self.scales.nbytes

    @property
    def nbytes16(self) -> int:
        """Bytes the avx512vbmi-tq16 kernel streams per product (1.6-bit codes + the shared scales), 0 unbuilt."""
        return 0 if self.codes16 is None else self.codes16.nbytes + self.scales.nbytes

    @property
    def nbytes_lut(self) -> int:
        """Bytes the avx512vbmi-lut kernel streams per product (pattern indices + the shared scales), 0 unbuilt."""
        return 0 if self.codes_lut is None else self.codes_lut.nbytes + self.scales.nbytes

    def __repr__(self) -> str:
        return f"PreparedMatrix(shape={self.shape}, group_size={self.group_size})"


def prepare(planar: PlanarWeights) -> PreparedMatrix:
    """Build the kernels' layout from `planar` once (at model load); the result is what `matmul` takes."""
    if not isinstance(planar, PlanarWeights):
        raise NanochatError(f"prepare() takes a PlanarWeights, got {type(planar).__name__}")
    return PreparedMatrix(planar, get_threads())
