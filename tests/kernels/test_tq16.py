"""The 1.6-bit layout and its kernel (native/layout16.c, avx512vbmi.c) against the scalar reference, and the
explicit rule that picks it (dispatch.tq16_wanted)."""

import numpy as np
import pytest

from nanochat_cli.kernels import accumulators, available_kernels, dispatch, prepare
from nanochat_cli.kernels.native import TQ16_KERNEL
from tests.kernels.test_triangle import assert_kernel_exact, planar_from_packed, random_planar

needs_vbmi = pytest.mark.skipif(TQ16_KERNEL not in available_kernels(), reason="this CPU lacks AVX-512 VBMI/VNNI")


@needs_vbmi
@pytest.mark.parametrize("m, k, group_size, n", [(1, 4, 0, 1), (80, 8, 4, 2), (81, 4, 0, 3), (161, 2564, 0, 8),
                                                 (239, 1280, 128, 1), (2560, 512, 128, 1)])
def test_tq16_matches_scalar_on_block_edges(m, k, group_size, n):
    rng = np.random.default_rng(m + k + n)
    planar = random_planar(rng, m, k, group_size)
    q = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    assert_kernel_exact(planar, q, rng.uniform(0.01, 1, size=n).astype(np.float32), TQ16_KERNEL)


@needs_vbmi
@pytest.mark.parametrize("code, act", [(0b01, 127), (0b01, -128), (0b11, 127), (0b11, -128)])
@pytest.mark.parametrize("group_size", [0, 4096])
def test_tq16_extreme_rows_and_activations_stay_exact(code, act, group_size):
    """All +1 / all -1 rows against q = 127 / -128 over long groups: the raw B field's (<= 42 * 128 per
    multiply) sums are the largest int32 values the kernel keeps."""
    k = 16384
    m = 161
    scales = np.ones((1, 1) if group_size == 0 else (m, k // group_size), np.float32)
    planar = planar_from_packed(np.full((m, k // 4), code * 0b01010101, np.uint8), scales, group_size)
    q = np.full((2, k), act, np.int8)
    assert_kernel_exact(planar, q, np.array([1.0, 0.25], np.float32), TQ16_KERNEL)
    per_group = (1 if code == 0b01 else -1) * act * (group_size or k)
    assert (accumulators(prepare(planar), q, TQ16_KERNEL) == per_group).all()


# ---- the choice rule ----

def test_tq16_rule_wants_a_gemv_on_a_model_beyond_the_cache(monkeypatch):
    llc = 32 << 20
    supported = TQ16_KERNEL in available_kernels()
    assert dispatch.tq16_wanted(10 * llc, 1, 2, llc=llc) == supported
    assert dispatch.tq16_wanted(10 * llc, 1, 16, llc=llc) == supported
    assert not dispatch.tq16_wanted(10 * llc, 2, 2, llc=llc)  # a GEMM shares each line's decode: 2-bit wins
    assert not dispatch.tq16_wanted(10 * llc, 1, 1, llc=llc)  # one core decodes it slower than it can read
    assert not dispatch.tq16_wanted(8, 1, 2, llc=llc)
    assert not dispatch.tq16_wanted(dispatch.TQ16_LLC_FACTOR * llc, 1, 2, llc=llc)  # only strictly beyond
    monkeypatch.setenv("NANOCHAT_TQ16", "0")
    assert not dispatch.tq16_wanted(10 * llc, 1, 2, llc=llc)


def test_llc_size_comes_from_sysfs_or_a_sane_fallback(monkeypatch, tmp_path):
    assert dispatch.llc_bytes() >= 1 << 20
    for i, (level, size) in enumerate([(1, "32K"), (2, "1024K"), (3, "32768K")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "size").write_text(f"{size}\n")
    real_path = dispatch.Path
    monkeypatch.setattr(dispatch, "Path", lambda p: tmp_path if "cache" in str(p) else real_path(p))
    dispatch.llc_bytes.cache_clear()
    try:
        assert dispatch.llc_bytes() == 32 << 20
        for i in range(3):
            (tmp_path / f"index{i}" / "size").unlink()
        dispatch.llc_bytes.cache_clear()
        assert dispatch.llc_bytes() == dispatch.LLC_FALLBACK_BYTES
    finally:
        dispatch.llc_bytes.cache_clear()


@needs_vbmi
def test_dispatcher_picks_tq16_only_for_gemv_on_a_built_big_model(monkeypatch):
    monkeypatch.setenv("NANOCHAT_AUTOTUNE", "0")
    monkeypatch.setattr(dispatch, "llc_bytes", lambda: 1 << 20)  # a fake 1 MiB last-level cache
    prepared = prepare(random_planar(np.random.default_rng(1), 128, 256, 128))
    prepared.model_bytes = 64 << 20
    assert dispatch.kernel_for(prepared, 1, 2) != TQ16_KERNEL  # the model did not ask for the layout
    prepared.ensure_tq16()
    assert dispatch.kernel_for(prepared, 1, 2) == TQ16_KERNEL
    assert dispatch.kernel_for(prepared, 4, 2) != TQ16_KERNEL
    assert dispatch.kernel_for(prepared, 1, 1) != TQ16_KERNEL
    prepared.model_bytes = 1 << 20  # a model that fits the cache
    assert dispatch.kernel_for(prepared, 1, 2) != TQ16_KERNEL
    prepared.model_bytes = 64 << 20
    monkeypatch.setenv("NANOCHAT_TQ16", "0")
    assert dispatch.kernel_for(prepared, 1, 2) != TQ16_KERNEL
    monkeypatch.delenv("NANOCHAT_TQ16")
    monkeypatch.setenv("NANOCHAT_KERNEL", "scalar")  # forcing wins over the rule
    assert dispatch.kernel_for(prepared, 1, 2) == "scalar"
