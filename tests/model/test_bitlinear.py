"""BitLinear against the numpy contract: bit-identical quantizers, integer-exact eval mode, STE gradients."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nanochat_cli.model import BitLinear
from nanochat_cli.model.bitlinear import dequantize_weight, quantize_activations, ternarize_weight
from nanochat_cli.ternary import dequantize, reference_matmul, ternarize
from nanochat_cli.ternary import quantize_activations as np_quantize_activations

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)
# multiples of 1/4 put many w / s and x / scale ratios exactly on .5 rounding boundaries
halves = st.integers(-12, 12).map(lambda i: i / 4)


@st.composite
def weights(draw, max_rows=9, max_groups=5):
    g = draw(st.sampled_from([4, 8, 16, 32]))
    m = draw(st.integers(1, max_rows))
    k = g * draw(st.integers(1, max_groups))
    w = draw(arrays(np.float32, (m, k), elements=draw(st.sampled_from([finite, halves]))))
    return w, draw(st.sampled_from([0, g]))


@settings(max_examples=200, deadline=None)
@given(weights())
def test_torch_ternarize_is_bit_identical_to_numpy(case):
    w, group_size = case
    trits, scales = ternarize(w, group_size)
    t_trits, t_scales = ternarize_weight(torch.from_numpy(w), group_size)
    np.testing.assert_array_equal(t_trits.numpy().astype(np.int8), trits)
    np.testing.assert_array_equal(t_scales.numpy(), scales)
    np.testing.assert_array_equal(dequantize_weight(t_trits, t_scales, group_size).numpy(),
                                  dequantize(trits, scales, group_size))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 40)),
              elements=st.one_of(finite, halves, st.just(0.0))))
def test_torch_activation_quantizer_is_bit_identical_to_numpy(x):
    q, scale = np_quantize_activations(x)
    t_q, t_scale = quantize_activations(torch.from_numpy(x))
    np.testing.assert_array_equal(t_q.numpy().astype(np.int8), q)
    np.testing.assert_array_equal(t_scale.numpy()[:, 0], scale)


@settings(max_examples=100, deadline=None)
@given(weights(), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_eval_mode_equals_integer_reference_matmul_exactly(case, n_tokens, seed):
    w, group_size = case
    x = np.random.default_rng(seed).standard_normal((n_tokens, w.shape[1])).astype(np.float32)
    layer = BitLinear(w.shape[1], w.shape[0], group_size=group_size).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        y = layer(torch.from_numpy(x)).numpy()
    trits, scales = layer.ternary_weights()
    np.testing.assert_array_equal(trits, ternarize(w, group_size)[0])
    q, x_scale = np_quantize_activations(x)
    np.testing.assert_array_equal(y, reference_matmul(trits, scales, group_size, q, x_scale))


def test_eval_mode_is_exact_for_wide_per_tensor_rows():
    """K = 2^17 per tensor: partial sums pass 2^24, so the exact accumulation must switch to float64."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2**17)).astype(np.float32)
    x = np.abs(rng.standard_normal((2, 2**17))).astype(np.float32) + 5.0  # all q near 127: large sums
    layer = BitLinear(2**17, 3, group_size=0).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        y = layer(torch.from_numpy(x)).numpy()
    trits, scales = ternarize(w, 0)
    np.testing.assert_array_equal(y, reference_matmul(trits, scales, 0, *np_quantize_activations(x)))


@pytest.mark.parametrize("group_size", [0, 8])
def test_train_mode_gradients_are_straight_through(group_size):
    """dL/dx = g W~ and dL/dW = g^T x~ with W~ = t*s and x~ = q*scale: quantization acts as identity backwards."""
    torch.manual_seed(0)
    layer = BitLinear(16, 8, group_size=group_size).train()
    x = torch.randn(5, 16, requires_grad=True)
    g = torch.randn(5, 8)
    y = layer(x)
    (y * g).sum().backward()
    trits, scales = ternarize_weight(layer.weight, group_size)
    w_q = dequantize_weight(trits, scales, group_size)
    q, x_scale = quantize_activations(x)
    x_q = q * x_scale
    torch.testing.assert_close(y, x_q @ w_q.T)
    torch.testing.assert_close(x.grad, g @ w_q)
    torch.testing.assert_close(layer.weight.grad, g.T @ x_q)


def test_train_and_eval_forward_agree_to_float_rounding():
    torch.manual_seed(1)
    layer = BitLinear(64, 32, group_size=16)
    x = torch.randn(4, 7, 64)
    y_train = layer.train()(x)
    y_eval = layer.eval()(x)
    assert y_eval.shape == (4, 7, 32)
    torch.testing.assert_close(y_train, y_eval, rtol=1e-5, atol=1e-5)


def test_float_twin_is_a_plain_linear():
    torch.manual_seed(2)
    layer = BitLinear(12, 5, ternary=False)
    x = torch.randn(3, 12)
    for mode in (layer.train(), layer.eval()):
        assert torch.equal(mode(x), F.linear(x, layer.weight))


def test_all_zero_group_and_token_give_zero_output():
    layer = BitLinear(8, 2, group_size=4).eval()
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0, :4] = torch.tensor([1.0, -2.0, 0.5, 0.0])
    trits, scales = layer.ternary_weights()
    assert scales[0, 1] == 0 and not trits[0, 4:].any()
    assert torch.equal(layer(torch.zeros(1, 8)), torch.zeros(1, 2))


@pytest.mark.parametrize("group_size,shape", [(0, (24, 64)), (32, (17, 96)), (128, (40, 256))])
def test_eval_mode_equals_every_native_kernel(group_size, shape):
    """Torch BitLinear (eval) and the C kernels compute the same contract: equal to float rounding (here exactly)."""
    kernels = pytest.importorskip("nanochat_cli.kernels", reason="native kernels not built")
    from nanochat_cli.ternary import PlanarWeights

    m, k = shape
    torch.manual_seed(5)
    layer = BitLinear(k, m, group_size=group_size).eval()
    x = torch.randn(3, k)
    with torch.no_grad():
        y = layer(x).numpy()
    trits, scales = layer.ternary_weights()
    prepared = kernels.prepare(PlanarWeights.from_trits(trits, scales, group_size))
    q, x_scale = np_quantize_activations(x.numpy())
    for kernel in kernels.available_kernels():
        y_native = kernels.matmul(prepared, q, x_scale, kernel=kernel)
        np.testing.assert_array_equal(y_native, y, err_msg=kernel)


def test_eval_mode_stays_exact_under_bf16_autocast():
    torch.manual_seed(6)
    layer = BitLinear(256, 16, group_size=128).eval()
    x = torch.randn(4, 256)
    with torch.no_grad():
        expected = layer(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert torch.equal(layer(x), expected)
