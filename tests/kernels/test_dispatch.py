"""Dispatch: CPU support from CPUID, NANOCHAT_KERNEL forcing, and the autotune cache on disk."""

import json
from pathlib import Path

import numpy as np
import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels import available_kernels, dispatch, matmul, prepare, selected_kernel, set_threads
from nanochat_cli.ternary import PlanarWeights
from tests.kernels.test_triangle import random_planar


def small_prepared(m=64, k=256):
    rng = np.random.default_rng(0)
    return prepare(PlanarWeights.from_trits(rng.integers(-1, 2, (m, k), dtype=np.int8),
                                            np.ones((m, k // 128), np.float32), 128))


def test_scalar_is_always_available_and_the_cpu_flags_agree():
    kernels = available_kernels()
    assert kernels[0] == "scalar"
    flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0].split()
    assert ("avx2" in kernels) == ("avx2" in flags)
    assert ("avx512vnni" in kernels) == all(f in flags for f in ("avx512f", "avx512bw", "avx512vl", "avx512_vnni"))
    assert ("avx512vbmi-tq16" in kernels) == ("avx512vnni" in kernels and "avx512vbmi" in flags)


def test_environment_forces_a_kernel(monkeypatch):
    monkeypatch.setenv("NANOCHAT_KERNEL", "scalar")
    assert selected_kernel((64, 256), 1) == "scalar"
    assert dispatch.kernel_for(small_prepared(), 1, 1) == "scalar"


def test_unknown_forced_kernel_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("NANOCHAT_KERNEL", "avx9000")
    with pytest.raises(NanochatError, match="unknown kernel"):
        matmul(small_prepared(), np.ones((1, 256), np.int8), np.ones(1, np.float32))


def test_autotune_measures_once_and_caches_on_disk(monkeypatch, tmp_path):
    prepared = small_prepared()
    choice = dispatch.kernel_for(prepared, 1, 1)
    assert choice in available_kernels()
    data = json.loads(dispatch.cache_path().read_text())
    assert data["kernels"] == {"64x256/g128/n1/t1": choice}
    assert data["cpu"]

    def no_more_tuning(*a, **k):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(dispatch, "tune", no_more_tuning)
    monkeypatch.setattr(dispatch, "_memo", {})
    assert dispatch.kernel_for(prepared, 1, 1) == choice
    assert selected_kernel((64, 256), 1, 128, threads=1) == choice


def test_cache_from_another_cpu_is_ignored(tmp_path):
    path = dispatch.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cpu": "some other cpu", "kernels": {"64x256/g128/n1/t1": "scalar"}}))
    assert dispatch._load_cache() == {}


def test_autotune_off_takes_the_widest_instruction_set(monkeypatch):
    monkeypatch.setenv("NANOCHAT_AUTOTUNE", "0")
    # neither the 1.6-bit nor the lookup-table kernel is ever a default: a rule or a measurement picks them
    widest = [k for k in available_kernels() if k not in ("avx512vbmi-tq16", "avx512vbmi-lut")][-1]
    assert selected_kernel((4096, 4096), 1) == widest
    assert selected_kernel((384, 384), 8) == widest
    assert not dispatch.cache_path().exists()


@pytest.mark.parametrize("kernel, field", [("avx512vbmi-tq16", "codes16"), ("avx512vbmi-lut", "codes_lut")])
@pytest.mark.parametrize("n", [1, 8])
def test_forcing_a_kernel_with_its_own_layout_builds_it_for_any_batch(monkeypatch, kernel, field, n):
    if kernel not in available_kernels():
        pytest.skip(f"this CPU cannot run {kernel}")
    monkeypatch.setenv("NANOCHAT_KERNEL", kernel)
    prepared = prepare(random_planar(np.random.default_rng(2), 90, 128, 0))
    assert dispatch.kernel_for(prepared, n, 1) == kernel
    assert getattr(prepared, field) is not None
    q = np.random.default_rng(4).integers(-127, 128, size=(n, 128), dtype=np.int8)
    set_threads(2)
    np.testing.assert_array_equal(matmul(prepared, q, np.ones(n, np.float32)),
                                  matmul(prepared, q, np.ones(n, np.float32), kernel="scalar"))
