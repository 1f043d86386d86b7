"""Bad input is caught in Python with a NanochatError before any C code runs."""

import dataclasses

import numpy as np
import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels import matmul, prepare, set_threads
from nanochat_cli.ternary import PlanarWeights


@pytest.fixture(scope="module")
def prepared():
    rng = np.random.default_rng(0)
    return prepare(PlanarWeights.from_trits(rng.integers(-1, 2, (70, 128), dtype=np.int8),
                                            np.ones((70, 1), np.float32), 128))


def good(n=2, k=128):
    return np.ones((n, k), np.int8), np.ones(n, np.float32)


@pytest.mark.parametrize(
    "q, why",
    [
        (np.ones((2, 128), np.float32), "int8"),
        (np.ones((2, 128), np.int16), "int8"),
        (np.ones(128, np.int8), "int8"),
        (np.ones((2, 124), np.int8), "shape"),
        (np.ones((0, 128), np.int8), "shape"),
        (np.ones((2, 256), np.int8)[:, ::2], "C-contiguous"),
        ([[1] * 128], "int8"),
    ],
)
def test_bad_activations_are_rejected(prepared, q, why):
    with pytest.raises(NanochatError, match=why):
        matmul(prepared, q, np.ones(2, np.float32))


@pytest.mark.parametrize(
    "x_scale", [np.ones(3, np.float32), np.ones(2, np.float64), np.ones((2, 1), np.float32), [1.0, 1.0]]
)
def test_bad_activation_scales_are_rejected(prepared, x_scale):
    with pytest.raises(NanochatError, match="x_scale"):
        matmul(prepared, np.ones((2, 128), np.int8), x_scale)


def test_non_contiguous_activation_scales_are_rejected(prepared):
    with pytest.raises(NanochatError, match="x_scale"):
        matmul(prepared, np.ones((2, 128), np.int8), np.ones(4, np.float32)[::2])


@pytest.mark.parametrize(
    "out, why",
    [
        (np.empty((2, 69), np.float32), "shape"),
        (np.empty((1, 70), np.float32), "shape"),
        (np.empty((2, 70), np.float64), "float32"),
        (np.empty((2, 140), np.float32)[:, ::2], "C-contiguous"),
    ],
)
def test_bad_output_buffers_are_rejected(prepared, out, why):
    with pytest.raises(NanochatError, match=why):
        matmul(prepared, *good(), out=out)


def test_read_only_output_is_rejected(prepared):
    out = np.empty((2, 70), np.float32)
    out.flags.writeable = False
    with pytest.raises(NanochatError, match="writeable"):
        matmul(prepared, *good(), out=out)


def test_unknown_kernel_is_rejected(prepared):
    with pytest.raises(NanochatError, match="unknown kernel"):
        matmul(prepared, *good(), kernel="neon")


def test_matmul_needs_a_prepared_matrix(prepared):
    with pytest.raises(NanochatError, match="PreparedMatrix"):
        matmul(prepared.planar, *good())
    with pytest.raises(NanochatError, match="PlanarWeights"):
        prepare(prepared.codes)


def test_misaligned_planar_buffers_are_rejected(prepared):
    raw = np.empty(prepared.planar.packed.nbytes + 129, np.uint8)
    off = (-raw.ctypes.data) % 128 + 1
    shifted = raw[off : off + prepared.planar.packed.nbytes].reshape(prepared.planar.packed.shape)
    planar = prepared.planar
    bad = object.__new__(PlanarWeights)
    for f in dataclasses.fields(PlanarWeights):
        object.__setattr__(bad, f.name, getattr(planar, f.name))
    object.__setattr__(bad, "packed", shifted)
    with pytest.raises(NanochatError, match="aligned"):
        prepare(bad)


@pytest.mark.parametrize("n", [0, -1, 65, 1.5, "2"])
def test_bad_thread_counts_are_rejected(n):
    with pytest.raises(NanochatError, match="thread"):
        set_threads(n)


def test_bad_thread_env_is_rejected(monkeypatch, prepared):
    monkeypatch.setenv("NANOCHAT_THREADS", "many")
    with pytest.raises(NanochatError, match="NANOCHAT_THREADS"):
        matmul(prepared, *good())


def test_thread_env_zero_means_all_cores_and_negative_is_rejected(monkeypatch):
    # `nanochat serve --threads` reads NANOCHAT_THREADS too, and documents 0 as the default
    from nanochat_cli.kernels import native

    monkeypatch.setattr(native, "_threads", None)
    monkeypatch.setenv("NANOCHAT_THREADS", "0")
    assert native.get_threads() == native.max_threads()
    monkeypatch.setenv("NANOCHAT_THREADS", "-2")
    with pytest.raises(NanochatError, match="NANOCHAT_THREADS"):
        native.get_threads()
