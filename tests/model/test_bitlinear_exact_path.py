"""The eval-mode integer path (in-place group sum, matmuls on bf16 units) is bit-identical to the one it replaced."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.model.bitlinear import integer_linear, quantize_activations, ternarize_weight
from nanochat_cli.ternary import check_group_size
from nanochat_cli.ternary.constants import ACT_QMAX


# ---- the code before 2026-12-06, kept as the specification of the rounding order ----
def quantize_activations_before(x):
    x = x.detach().float()
    scale = x.abs().amax(dim=-1, keepdim=True) / ACT_QMAX
    q = torch.where(scale > 0, x / torch.where(scale > 0, scale, 1.0), 0.0)
    return q.round().clamp_(-ACT_QMAX, ACT_QMAX), scale


def integer_linear_before(x, trits, scales, group_size):
    m, k = trits.shape
    n_groups = check_group_size(k, group_size)
    width = k // n_groups
    q, x_scale = quantize_activations_before(x.reshape(-1, k))
    dtype = torch.float32 if ACT_QMAX * width < 2**24 else torch.float64
    q, t = q.to(dtype), trits.to(dtype)
    with torch.autocast(q.device.type, enabled=False):
        if scales.shape == (1, 1):
            y = scales[0, 0] * (q @ t.T).to(torch.float32)
        else:
            y = torch.zeros(q.shape[0], m, dtype=torch.float32, device=q.device)
            for g in range(n_groups):
                cols = slice(g * width, (g + 1) * width)
                y = y + scales[:, g] * (q[:, cols] @ t[:, cols].T).to(torch.float32)
    return (x_scale * y).reshape(*x.shape[:-1], m)


def assert_same_bits(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert torch.equal(a.view(torch.int32), b.view(torch.int32))  # also tells -0 from +0 and NaN payloads apart


def layer_case(lead, m, n_groups, width, group_size, seed, kind):
    gen = torch.Generator().manual_seed(seed)
    k = n_groups * width
    w = torch.randn(m, k, generator=gen) * torch.rand(m, k, generator=gen).pow(4) * 3  # varied group scales
    x = torch.randn(*lead, k, generator=gen)
    if kind == "extreme":  # every |q| = 127 and every trit +-1: the largest exact sums a group can have
        w = torch.where(torch.rand(m, k, generator=gen) < 0.5, -1.0, 1.0)
        x = torch.where(torch.rand(*lead, k, generator=gen) < 0.5, -1.0, 1.0) * 3.5
    elif kind == "zeros":  # all-zero tokens and all-zero weight groups, and values that round to -0
        x[..., : k // 2] *= 1e-6
        x.view(-1, k)[::2] = 0.0
        w[:, :width] = 0.0
    elif kind == "tiny":
        x *= 1e-30
        w *= 1e-30
    trits, scales = ternarize_weight(w, group_size)
    return x, trits, scales


@settings(max_examples=150, deadline=None)
@given(lead=st.lists(st.integers(1, 5), min_size=1, max_size=3), m=st.integers(1, 40),
       n_groups=st.integers(1, 9), width=st.sampled_from([4, 8, 32, 128]), per_tensor=st.booleans(),
       seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["normal", "extreme", "zeros", "tiny"]))
def test_integer_linear_is_bit_identical_to_before(lead, m, n_groups, width, per_tensor, seed, kind):
    group_size = 0 if per_tensor else width
    x, trits, scales = layer_case(lead, m, n_groups, width, group_size, seed, kind)
    assert_same_bits(integer_linear(x, trits, scales, group_size), integer_linear_before(x, trits, scales, group_size))


@pytest.mark.parametrize("k,m", [(384, 384), (384, 128), (384, 1024), (1024, 384)])
@pytest.mark.parametrize("kind", ["normal", "extreme", "zeros"])
def test_integer_linear_is_bit_identical_to_before_on_the_models_shapes(k, m, kind):
    """The default model's BitLinears on a micro-batch's worth of tokens: sizes where oneDNN takes its bf16 path."""
    x, trits, scales = layer_case((3, 101), m, k // 128, 128, 128, k + m, kind)
    assert_same_bits(integer_linear(x, trits, scales, 128), integer_linear_before(x, trits, scales, 128))


@settings(max_examples=150, deadline=None)
@given(rows=st.integers(1, 6), k=st.integers(1, 40), seed=st.integers(0, 2**31 - 1),
       special=st.sampled_from([None, 0.0, float("nan"), float("inf"), -float("inf"), 1e-40]))
def test_quantize_activations_is_bit_identical_to_before(rows, k, seed, special):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, k, generator=gen) * 10 ** torch.randint(-3, 4, (rows, 1), generator=gen).float()
    if special is not None:
        x[0, seed % k] = special
        x[-1] = special
    for new, old in zip(quantize_activations(x), quantize_activations_before(x)):
        assert_same_bits(new, old)


def test_integer_path_leaves_the_matmul_precision_as_it_found_it():
    matmul = torch.backends.mkldnn.matmul
    before = matmul.fp32_precision
    x, trits, scales = layer_case((4,), 8, 2, 8, 8, 0, "normal")
    integer_linear(x, trits, scales, 8)
    assert matmul.fp32_precision == before
    with pytest.raises(RuntimeError):
        integer_linear(x, trits[:4], scales, 8)  # 4 rows, 8 rows of scales: fails inside the matmul window
    assert matmul.fp32_precision == before
