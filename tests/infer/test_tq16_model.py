"""The 1.6-bit GEMV kernel inside a model: chosen by dispatch.tq16_wanted at load, and bit-identical to the 2-bit
kernels (every kernel is exact), through the C layer stack and the Python path alike."""

from __future__ import annotations

import numpy as np
import pytest

from nanochat_cli.formats import model_weights
from nanochat_cli.infer import Engine, NativeModel
from nanochat_cli.kernels import available_kernels, dispatch, get_threads, native
from nanochat_cli.kernels.native import KERNEL_IDS, TQ16_KERNEL
from tests.infer.conftest import OPTIONS, make_model
from tests.infer.test_stack import greedy

pytestmark = pytest.mark.skipif(TQ16_KERNEL not in available_kernels(), reason="this CPU lacks AVX-512 VBMI/VNNI")


@pytest.fixture(autouse=True)
def _no_timing(monkeypatch):
    monkeypatch.setenv("NANOCHAT_AUTOTUNE", "0")  # the 2-bit choice without timing: the tests compare bits
    monkeypatch.delenv("NANOCHAT_KERNEL", raising=False)
    monkeypatch.delenv("NANOCHAT_TQ16", raising=False)
    monkeypatch.setattr(native, "_threads", 2)  # the rule wants 2+ threads, on any machine


def run(model: NativeModel, ids: list[int], steps: int = 6) -> tuple[list[int], np.ndarray]:
    return greedy(Engine(model), ids, steps)


@pytest.mark.parametrize("option", ["plain", "relu2-subln-pertensor", "moe", "ternary-head"])
def test_forcing_tq16_gives_the_same_logits_as_the_2bit_kernel(option, monkeypatch, prompt_ids):
    weights = model_weights(make_model(**OPTIONS[option]), None)
    monkeypatch.setenv("NANOCHAT_KERNEL", "avx512vnni")
    want = run(NativeModel(weights), prompt_ids)
    monkeypatch.setenv("NANOCHAT_KERNEL", TQ16_KERNEL)
    model = NativeModel(weights)
    got = run(model, prompt_ids)
    assert all(lin.prepared.codes16 is not None for lin in model.ternary_linears())
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


def test_a_model_beyond_the_cache_decodes_on_tq16_in_stack_and_python_path_alike(monkeypatch, prompt_ids):
    weights = model_weights(make_model(), None)
    plain = NativeModel(weights)  # a tiny model fits any cache: no 1.6-bit layout
    assert all(lin.prepared.codes16 is None for lin in plain.ternary_linears())
    monkeypatch.setattr(dispatch, "llc_bytes", lambda: 1024)  # now the same model is "far beyond the cache"
    fast, python = NativeModel(weights), NativeModel(weights)
    python.stack = None
    assert fast.stack is not None
    lins = fast.ternary_linears()
    assert lins and all(lin.prepared.codes16 is not None for lin in lins)
    assert {dispatch.kernel_for(lin.prepared, 1, 2) for lin in lins} == {TQ16_KERNEL}
    assert TQ16_KERNEL not in {dispatch.kernel_for(lin.prepared, 2, 2) for lin in lins}
    assert TQ16_KERNEL not in {dispatch.kernel_for(lin.prepared, 1, 1) for lin in lins}
    assert get_threads() == 2
    assert set(fast.stack._kernel_ids(1, 2)) == {KERNEL_IDS[TQ16_KERNEL]}  # what the C stack is handed
    want = run(plain, prompt_ids)
    for model in (fast, python):
        got = run(model, prompt_ids)
        assert got[0] == want[0]
        np.testing.assert_array_equal(got[1], want[1])
    monkeypatch.setenv("NANOCHAT_TQ16", "0")
    off = NativeModel(weights)
    assert all(lin.prepared.codes16 is None for lin in off.ternary_linears())
