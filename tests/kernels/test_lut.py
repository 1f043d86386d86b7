"""The lookup-table kernel and its layout (native/lut.c) against the scalar reference and numpy, and the opt-in rule
that lets autotune measure it (dispatch.lut_wanted). The Triangle of Truth (test_triangle.py) runs it too, as it
runs every available kernel; these add its own geometry: 32-row blocks, triples of columns padded inside each scale
group, int16 chunks of up to 64 triples, and its tiles of 4 row blocks x 4 activation rows."""

import numpy as np
import pytest

from nanochat_cli.kernels import accumulators, available_kernels, dispatch, prepare
from nanochat_cli.kernels.native import LUT_KERNEL
from tests.kernels.test_triangle import assert_kernel_exact, planar_from_packed, random_planar

needs_lut = pytest.mark.skipif(LUT_KERNEL not in available_kernels(), reason="this CPU lacks AVX-512 VBMI/VNNI")


@needs_lut
@pytest.mark.parametrize("m, k, group_size, n", [
    (1, 4, 0, 1), (32, 8, 4, 4), (33, 12, 0, 5), (128, 384, 128, 8), (640, 384, 128, 32), (384, 1024, 128, 8),
    (97, 772, 0, 7),  # per-tensor: 258 triples, so int16 chunks of 64, 64, 64, 64, 2
    (130, 192, 192, 3),  # exactly 64 triples in one group: one full chunk
])
def test_lut_matches_scalar_on_block_and_chunk_edges(m, k, group_size, n):
    rng = np.random.default_rng(m + k + n)
    planar = random_planar(rng, m, k, group_size)
    q = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    assert_kernel_exact(planar, q, rng.uniform(0.01, 1, size=n).astype(np.float32), LUT_KERNEL, threads=(1, 2, 3))


@needs_lut
@pytest.mark.parametrize("code, act", [(0b01, 127), (0b01, -128), (0b11, 127), (0b11, -128)])
@pytest.mark.parametrize("group_size", [0, 128])
def test_lut_extreme_rows_stay_exact_through_the_wrapping_int16_sums(code, act, group_size):
    """All +-1 weights against +-127 / -128: every table entry is +-3 * 128 at most, the biased int16 chunk sums wrap
    (64 triples of entries up to 768 would not fit), and the chunk's sum of q taken off before widening restores
    the exact value."""
    k = 1536
    planar = planar_from_packed(np.full((70, k // 4), code * 0b01010101, np.uint8),
                                np.ones((1, 1) if group_size == 0 else (70, k // group_size), np.float32), group_size)
    q = np.full((9, k), act, np.int8)
    assert_kernel_exact(planar, q, np.linspace(0.25, 2, 9).astype(np.float32), LUT_KERNEL)
    per_group = (1 if code == 0b01 else -1) * act * (group_size or k)
    assert (accumulators(prepare(planar), q, LUT_KERNEL) == per_group).all()


# ---- the choice rule ----

def test_lut_is_a_candidate_only_for_a_gemm_when_asked(monkeypatch):
    assert not dispatch.lut_wanted(8)
    assert LUT_KERNEL not in dispatch._candidates(8)
    monkeypatch.setenv("NANOCHAT_LUT", "1")
    supported = LUT_KERNEL in available_kernels()
    assert dispatch.lut_wanted(8) == supported
    assert not dispatch.lut_wanted(1)
    assert (LUT_KERNEL in dispatch._candidates(8)) == supported
    assert LUT_KERNEL not in dispatch._candidates(1)


@needs_lut
def test_autotune_measures_the_lut_kernel_and_keeps_its_layout_only_if_it_wins(monkeypatch):
    """Which kernel wins is the machine's business; the contract is that the layout stays exactly when it won."""
    monkeypatch.setenv("NANOCHAT_LUT", "1")
    prepared = prepare(random_planar(np.random.default_rng(3), 256, 384, 128, raw_codes=False))
    name = dispatch.kernel_for(prepared, 8, 1)
    assert name in dispatch._candidates(8)
    assert (prepared.codes_lut is not None) == (name == LUT_KERNEL)
    monkeypatch.delenv("NANOCHAT_LUT")
    assert dispatch.kernel_for(prepared, 8, 1) != LUT_KERNEL  # not a candidate without the opt-in
    assert dispatch.kernel_for(prepared, 1, 1) != LUT_KERNEL
