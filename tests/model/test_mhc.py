"""mHC-lite: H_res is exactly doubly stochastic, non-expansive, trainable for every n; n = 1 is a plain residual."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.model import TernaryLM, named_config
from nanochat_cli.model.mhc import MHCResidual, mhc_residual_matrix, permutation_matrices

logit = st.floats(-20, 20, allow_nan=False)


def _logits(n: int, values: list[float]) -> torch.Tensor:
    return torch.tensor(values[: math.factorial(n)], dtype=torch.float64)


def _assert_doubly_stochastic(h: torch.Tensor, tol: float = 1e-6) -> None:
    assert (h >= 0).all()
    ones = torch.ones(h.shape[-1], dtype=h.dtype)
    assert torch.allclose(h.sum(-1), ones, atol=tol, rtol=0)
    assert torch.allclose(h.sum(-2), ones, atol=tol, rtol=0)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([2, 4]), st.lists(logit, min_size=24, max_size=24))
def test_residual_matrix_is_doubly_stochastic_with_spectral_norm_at_most_one(n, values):
    h = mhc_residual_matrix(_logits(n, values), permutation_matrices(n))
    _assert_doubly_stochastic(h)
    assert torch.linalg.matrix_norm(h, ord=2) <= 1 + 1e-9
    h32 = mhc_residual_matrix(_logits(n, values).float(), permutation_matrices(n))
    _assert_doubly_stochastic(h32)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([2, 4]), st.integers(0, 2**31 - 1))
def test_product_of_64_residual_matrices_stays_doubly_stochastic(n, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(64, math.factorial(n), generator=gen, dtype=torch.float64) * 5
    product = torch.eye(n, dtype=torch.float64)
    for h in mhc_residual_matrix(logits, permutation_matrices(n)):
        product = h @ product
    _assert_doubly_stochastic(product)
    assert torch.linalg.matrix_norm(product, ord=2) <= 1 + 1e-9


def test_n2_matrix_is_a_one_minus_a():
    h = mhc_residual_matrix(torch.tensor([0.3, -1.1], dtype=torch.float64), permutation_matrices(2))
    a = torch.softmax(torch.tensor([0.3, -1.1], dtype=torch.float64), 0)[0]
    assert torch.allclose(h, torch.tensor([[a, 1 - a], [1 - a, a]], dtype=torch.float64))


@pytest.mark.parametrize("n", [2, 4])
@pytest.mark.parametrize("dynamic", [False, True])
def test_gradients_reach_every_mhc_parameter(n, dynamic):
    torch.manual_seed(0)
    model = TernaryLM(named_config("tiny", vocab_size=64, d_model=64, n_heads=2, n_kv_heads=1, ffn_hidden=64,
                                   group_size=32, mhc_streams=n, mhc_dynamic=dynamic))
    mhc_modules = [m for m in model.modules() if isinstance(m, MHCResidual)]
    with torch.no_grad():  # move off the symmetric, zero-gated init so that every path carries gradient
        for m in mhc_modules:
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.5)
    idx = torch.randint(0, 64, (2, 12))
    out = model(idx)
    torch.nn.functional.cross_entropy(out.logits.flatten(0, 1), idx.flatten()).backward()
    params = [(name, p) for m in mhc_modules for name, p in m.named_parameters()]
    # the first and last sublayers have no H_res (see mhc.py)
    assert len(params) == 2 * 2 * (5 if dynamic else 3) - 2
    for name, p in params:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_dynamic_gates_start_at_zero_and_receive_gradient_at_init():
    torch.manual_seed(0)
    model = TernaryLM(named_config("tiny", vocab_size=64, mhc_streams=4, mhc_dynamic=True))
    idx = torch.randint(0, 64, (1, 10))
    out = model(idx)
    torch.nn.functional.cross_entropy(out.logits.flatten(0, 1), idx.flatten()).backward()
    for m in model.modules():
        if isinstance(m, MHCResidual):
            assert not m.dyn_gates.detach().any()
            assert m.dyn_gates.grad.abs().sum() > 0 and m.pre_logits.grad.abs().sum() > 0
            if m.mixes:
                assert m.res_logits.grad.abs().sum() > 0


@pytest.mark.parametrize("ternary", [True, False])
def test_single_stream_block_is_exactly_a_plain_residual_block(ternary):
    torch.manual_seed(3)
    cfg = named_config("tiny", vocab_size=64, ternary=ternary, mhc_streams=1)
    model = TernaryLM(cfg)
    block = model.blocks[0]
    x = torch.randn(2, 9, cfg.d_model)
    streams, _ = block(x.unsqueeze(2), 0, None)
    h = x + block.attn(block.attn_norm(x))
    plain = h + block.ffn(block.ffn_norm(h))
    assert streams.shape == (2, 9, 1, cfg.d_model)
    assert torch.equal(streams[:, :, 0], plain)


@pytest.mark.parametrize("n", [2, 4])
def test_initial_multi_stream_network_computes_the_plain_residual_network(n):
    """Identical streams + doubly stochastic H_res + scale-free RMSNorm: the init is a plain residual net."""
    torch.manual_seed(4)
    plain = TernaryLM(named_config("tiny", vocab_size=64, ternary=False))
    multi = TernaryLM(named_config("tiny", vocab_size=64, ternary=False, mhc_streams=n, mhc_dynamic=True))
    multi.load_state_dict(plain.state_dict(), strict=False)
    idx = torch.randint(0, 64, (2, 16))
    torch.testing.assert_close(multi(idx).logits, plain(idx).logits, rtol=1e-4, atol=1e-4)
