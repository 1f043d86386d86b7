"""aligned_empty: alignment, shape and writability on both of its paths (huge-page mapping and plain numpy)."""

import mmap

import numpy as np
import pytest

from nanochat_cli.ternary import aligned_empty, planar


def own_mapping(a: np.ndarray) -> bool:
    """Whether a's memory is an mmap of its own (the huge-page path) rather than a numpy allocation."""
    base = a
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


@pytest.mark.parametrize("shape, dtype", [((3, 5), np.float32), ((planar.HUGE_MIN_BYTES // 4 + 3,), np.float32),
                                          ((1024, planar.HUGE_MIN_BYTES // 1024), np.uint8)])
def test_aligned_empty_is_aligned_writable_and_outlives_its_views(shape, dtype):
    a = aligned_empty(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    assert a.ctypes.data % 128 == 0
    large = a.nbytes >= planar.HUGE_MIN_BYTES and hasattr(mmap, "MADV_HUGEPAGE")
    assert own_mapping(a) == large
    if large:
        assert a.ctypes.data % planar.HUGE_PAGE == 0
    a[...] = 7
    view = a.reshape(-1)[-4:]
    del a
    np.testing.assert_array_equal(view, 7)  # the mapping lives as long as any view of it


def test_aligned_empty_falls_back_to_numpy_when_the_os_refuses_the_advice(monkeypatch):
    class Refusing(mmap.mmap):
        def madvise(self, *args):
            raise OSError("madvise refused")

    monkeypatch.setattr(mmap, "mmap", Refusing)
    a = aligned_empty((planar.HUGE_MIN_BYTES,), np.uint8)
    assert not own_mapping(a) and a.ctypes.data % 128 == 0
    a[...] = 1
    assert int(a.sum()) == planar.HUGE_MIN_BYTES
