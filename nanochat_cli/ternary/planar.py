"""PlanarWeights: a ternary matrix as packed 2-bit codes and float32 scales in separate 128-byte aligned buffers.

The kernels build whatever interleaved layout they read from this, once, at load time (nanochat_cli.kernels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import BUFFER_ALIGN, TRITS_PER_BYTE
from nanochat_cli.ternary.packing import pack_trits, unpack_trits
from nanochat_cli.ternary.quant import check_group_size, dequantize, ternarize

# Buffers from this size up are mapped on their own and offered transparent huge pages (Linux, THP "madvise" mode):
# a decode step streams every weight matrix once, and with 4 KiB pages each page of it is a TLB miss.
HUGE_PAGE = 2 << 20
HUGE_MIN_BYTES = 2 * HUGE_PAGE


def _huge_page_empty(nbytes: int) -> np.ndarray | None:
    """nbytes of anonymous private memory starting on a 2 MiB boundary, advised MADV_HUGEPAGE; None where the OS
    offers no such advice. The mapping lives as long as the array (numpy keeps the mmap as its base)."""
    import mmap

    if not hasattr(mmap, "MADV_HUGEPAGE") or not hasattr(mmap, "MAP_ANONYMOUS"):
        return None
    size = nbytes + HUGE_PAGE  # room to start on a huge-page boundary
    try:
        mm = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        mm.madvise(mmap.MADV_HUGEPAGE)  # before the first touch: the pages are faulted in huge
    except (OSError, ValueError):
        return None
    raw = np.frombuffer(mm, dtype=np.uint8)
    offset = (-raw.ctypes.data) % HUGE_PAGE
    return raw[offset : offset + nbytes]


def aligned_empty(shape, dtype, align: int = BUFFER_ALIGN) -> np.ndarray:
    """An uninitialised C-contiguous array whose data pointer is a multiple of `align` bytes (large ones on huge
    pages where the OS allows)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = _huge_page_empty(nbytes) if nbytes >= HUGE_MIN_BYTES and HUGE_PAGE % align == 0 else None
    if raw is None:
        raw = np.empty(nbytes + align, dtype=np.uint8)
        offset = (-raw.ctypes.data) % align
        raw = raw[offset : offset + nbytes]
    return raw.view(dtype).reshape(shape)


def aligned_copy(a: np.ndarray, align: int = BUFFER_ALIGN) -> np.ndarray:
    """`a` itself when already C-contiguous and aligned (e.g. a memory-mapped GGUF tensor), else an aligned copy."""
    if a.flags.c_contiguous and a.ctypes.data % align == 0:
        return a
    out = aligned_empty(a.shape, a.dtype, align)
    out[...] = a
    return out


def is_aligned(a: np.ndarray, align: int = BUFFER_ALIGN) -> bool:
    return a.ctypes.data % align == 0


@dataclass(frozen=True)
class PlanarWeights:
    """A ternary (M, K) matrix: `packed` uint8 (M, K/4) codes and `scales` float32 ((M, K/G) or (1, 1))."""

    packed: np.ndarray
    scales: np.ndarray
    shape: tuple[int, int]
    group_size: int

    def __post_init__(self) -> None:
        m, k = self.shape
        n_groups = check_group_size(k, self.group_size)
        if self.packed.dtype != np.uint8 or self.packed.shape != (m, k // TRITS_PER_BYTE):
            raise NanochatError(f"packed trits must be uint8 {(m, k // 4)}, got {self.packed.dtype} {self.packed.shape}")
        want = (1, 1) if self.group_size == 0 else (m, n_groups)
        if self.scales.dtype != np.float32 or self.scales.shape != want:
            raise NanochatError(f"scales must be float32 {want}, got {self.scales.dtype} {self.scales.shape}")
        if not (is_aligned(self.packed) and is_aligned(self.scales)):
            raise NanochatError("planar buffers must be 128-byte aligned; build them with PlanarWeights.from_trits")

    @classmethod
    def from_trits(cls, trits: np.ndarray, scales: np.ndarray, group_size: int) -> PlanarWeights:
        trits = np.asarray(trits, dtype=np.int8)
        return cls.from_packed(pack_trits(trits), np.asarray(scales, dtype=np.float32), trits.shape, group_size)

    @classmethod
    def from_packed(cls, packed: np.ndarray, scales: np.ndarray, shape, group_size: int) -> PlanarWeights:
        """Wrap packed codes and scales, copying only what is not already 128-byte aligned and contiguous."""
        return cls(aligned_copy(np.asarray(packed)), aligned_copy(np.asarray(scales, dtype=np.float32)),
                   (int(shape[0]), int(shape[1])), int(group_size))

    @classmethod
    def from_float(cls, w: np.ndarray, group_size: int) -> PlanarWeights:
        return cls.from_trits(*ternarize(w, group_size), group_size)

    @property
    def n_groups(self) -> int:
        return check_group_size(self.shape[1], self.group_size)

    def trits(self) -> np.ndarray:
        return unpack_trits(self.packed)

    def dequantize(self) -> np.ndarray:
        return dequantize(self.trits(), self.scales, self.group_size)

    @property
    def nbytes(self) -> int:
        return self.packed.nbytes + self.scales.nbytes
