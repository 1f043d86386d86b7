"""Dispatch: CPU support from CPUID, NANOCHAT_KERNEL forcing, and the autotune cache on disk."""

import json
from pathlib import Path

import numpy as np
import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels import available_kernels, dispatch, matmul, prepare, selected_kernel
from nanochat_cli.ternary import PlanarWeights


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
    # the 1.6-bit kernel is never a default: only dispatch.tq16_wanted picks it
    assert selected_kernel((4096, 4096), 1) == [k for k in available_kernels() if k != "avx512vbmi-tq16"][-1]
    assert not dispatch.cache_path().exists()
