"""Property tests for the numeric contract: ternarization, activation quantization, packing, the reference GEMM."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary import (
    PlanarWeights, dequantize, integer_accumulators, latent_weights, pack_trits, quantize_activations, reference_matmul,
    ternarize, unpack_trits,
)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def matrices(draw, max_rows=9, max_groups=5):
    g = draw(st.sampled_from([4, 8, 16, 32]))
    m = draw(st.integers(1, max_rows))
    k = g * draw(st.integers(1, max_groups))
    w = draw(arrays(np.float32, (m, k), elements=finite))
    group_size = draw(st.sampled_from([0, g]))
    return w, group_size


@given(arrays(np.int8, st.tuples(st.integers(1, 6), st.integers(1, 12).map(lambda n: 4 * n)), elements=st.integers(-1, 1)))
def test_pack_unpack_round_trip_for_any_shape(trits):
    packed = pack_trits(trits)
    assert packed.shape == (trits.shape[0], trits.shape[1] // 4)
    assert np.array_equal(unpack_trits(packed), trits)


def test_codes_are_bitnet_convention_lsb_first():
    assert pack_trits(np.array([[-1, 0, 1, 0]], np.int8))[0, 0] == 0b00_01_00_11
    assert pack_trits(np.array([[1, 1, 1, 1]], np.int8))[0, 0] == 0b01010101


@given(st.integers(0, 255))
def test_invalid_code_0b10_decodes_to_zero(byte):
    trits = unpack_trits(np.array([[byte]], np.uint8))[0]
    for i in range(4):
        code = (byte >> (2 * i)) & 3
        assert trits[i] == {0b00: 0, 0b01: 1, 0b10: 0, 0b11: -1}[code]


@given(matrices())
def test_ternarize_then_dequantize_is_exactly_t_times_s(case):
    w, group_size = case
    t, s = ternarize(w, group_size)
    assert t.dtype == np.int8 and set(np.unique(t)) <= {-1, 0, 1}
    d = dequantize(t, s, group_size)
    m, k = w.shape
    expanded = np.full((m, k), s[0, 0], np.float32) if group_size == 0 else np.repeat(s, group_size, axis=1)
    assert np.array_equal(d, t.astype(np.float32) * expanded)


@given(matrices())
def test_scales_are_absmean_per_group(case):
    w, group_size = case
    _, s = ternarize(w, group_size)
    m, k = w.shape
    if group_size == 0:
        assert s.shape == (1, 1)
        np.testing.assert_allclose(s[0, 0], np.abs(w.astype(np.float64)).mean(), rtol=1e-6, atol=1e-38)
    else:
        assert s.shape == (m, k // group_size)
        ref = np.abs(w.astype(np.float64)).reshape(m, -1, group_size).mean(-1)
        np.testing.assert_allclose(s, ref, rtol=1e-6, atol=1e-38)


def test_trits_round_half_to_even_and_clamp():
    w = np.array([[0.5, -0.5, 1.5, 3.0, 0.0, 0.0, 0.0, 0.0]], np.float32)  # mean |w| = 0.6875
    t, s = ternarize(w, 0)
    assert s[0, 0] == np.float32(0.6875)
    assert t.tolist() == [[1, -1, 1, 1, 0, 0, 0, 0]]
    t, _ = ternarize(np.array([[1.0, 1.0, 1.0, 1.0]], np.float32) * np.array([0.5, 1, 1, 1.5], np.float32), 4)
    assert t.tolist() == [[0, 1, 1, 1]]  # 0.5 / 1.0 rounds to even (0)


def test_all_zero_group_gets_zero_scale_and_trits():
    w = np.zeros((2, 8), np.float32)
    w[1, 4:] = 2.0
    t, s = ternarize(w, 4)
    assert s.tolist() == [[0, 0], [0, 2]]
    assert t.tolist() == [[0] * 8, [0, 0, 0, 0, 1, 1, 1, 1]]


@given(arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(1, 40)), elements=finite))
def test_activation_quantization_error_is_at_most_half_a_step(x):
    q, scale = quantize_activations(x)
    assert q.dtype == np.int8 and np.abs(q.astype(int)).max(initial=0) <= 127
    err = np.abs(q.astype(np.float64) * scale[:, None] - x.astype(np.float64))
    assert (err <= scale[:, None].astype(np.float64) / 2 * (1 + 1e-6) + 1e-30).all()


def test_all_zero_token_has_zero_scale():
    q, scale = quantize_activations(np.zeros((2, 8), np.float32))
    assert scale.tolist() == [0, 0] and not q.any()


def test_bad_shapes_and_nan_are_clear_errors():
    with pytest.raises(NanochatError, match="group size"):
        ternarize(np.ones((2, 8), np.float32), 3)
    with pytest.raises(NanochatError, match="divides"):
        ternarize(np.ones((2, 12), np.float32), 8)
    with pytest.raises(NanochatError, match="NaN"):
        ternarize(np.array([[np.nan, 0, 0, 0]], np.float32), 0)
    with pytest.raises(NanochatError, match="multiple of 4"):
        pack_trits(np.zeros((1, 6), np.int8))


@settings(max_examples=50)
@given(matrices(), st.integers(1, 4), st.data())
def test_reference_matmul_matches_float_math_of_dequantized_operands(case, n, data):
    w, group_size = case
    t, s = ternarize(w, group_size)
    x = data.draw(arrays(np.float32, (n, w.shape[1]), elements=finite))
    q, xs = quantize_activations(x)
    y = reference_matmul(t, s, group_size, q, xs)
    expect = (q.astype(np.float64) * xs[:, None]) @ dequantize(t, s, group_size).astype(np.float64).T
    scale = np.abs(q.astype(np.float64) * xs[:, None]) @ np.abs(dequantize(t, s, group_size).astype(np.float64)).T
    assert (np.abs(y - expect) <= 1e-5 * scale + 1e-30).all()


def test_integer_accumulators_are_exact_at_extremes():
    t = np.full((3, 4096), -1, np.int8)
    q = np.full((2, 4096), 127, np.int8)
    acc = integer_accumulators(t, q, 0)
    assert acc.dtype == np.int32 and (acc == -127 * 4096).all()


@given(matrices())
def test_planar_buffers_are_128_byte_aligned_and_round_trip(case):
    w, group_size = case
    p = PlanarWeights.from_float(w, group_size)
    assert p.packed.ctypes.data % 128 == 0 and p.scales.ctypes.data % 128 == 0
    t, s = ternarize(w, group_size)
    assert np.array_equal(p.trits(), t) and np.array_equal(p.scales, s)


def test_activations_round_half_to_even_with_scale_amax_over_127():
    # amax 127 gives scale exactly 1, so x / scale lands on the ties themselves
    x = np.array([[127.0, 0.5, 1.5, 2.5, -0.5, -2.5, -127.0, 3.49]], np.float32)
    q, scale = quantize_activations(x)
    assert scale.tolist() == [1.0]
    assert q.tolist() == [[127, 0, 2, 2, 0, -2, -127, 3]]
    q, scale = quantize_activations(np.array([[-2.0, 1.0, 0.0, 0.0]], np.float32))
    assert scale[0] == np.float32(2.0) / np.float32(127) and q.tolist() == [[-127, 64, 0, 0]]


@given(matrices())
def test_latent_weights_ternarize_back_to_the_same_trits_and_scales(case):
    w, group_size = case
    t, s = ternarize(w, group_size)
    latent = latent_weights(t, s, group_size)
    t2, s2 = ternarize(latent, group_size)
    assert np.array_equal(t2, t) and np.array_equal(s2, s)


@given(st.data())
def test_latent_weights_reach_any_trits_and_scales(data):
    """Not only what ternarize made: any trits and positive scales, e.g. a file from another quantizer."""
    g = data.draw(st.sampled_from([0, 4, 32, 128]))
    m = data.draw(st.integers(1, 6))
    k = (g or 4) * data.draw(st.integers(1, 5))
    t = data.draw(arrays(np.int8, (m, k), elements=st.integers(-1, 1)))
    n_groups = 1 if g == 0 else k // g
    s = data.draw(arrays(np.float32, (1, 1) if g == 0 else (m, n_groups),
                         elements=st.floats(2.0**-90, 2.0**90, width=32)))
    t2, s2 = ternarize(latent_weights(t, s, g), g)
    live = np.abs(t).reshape(s.shape[0], s.shape[1], -1).any(axis=-1)
    assert np.array_equal(t2, t)
    assert np.array_equal(s2[live], s[live]) and (s2[~live] == 0).all()  # an all-zero group's scale is unused


def test_latent_weights_refuse_bad_scales():
    t = np.ones((1, 4), np.int8)
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(NanochatError, match="finite and non-negative"):
            latent_weights(t, np.array([[bad]], np.float32), 4)
    with pytest.raises(NanochatError, match="2 scales for 1 groups"):
        latent_weights(t, np.ones((1, 2), np.float32), 4)
