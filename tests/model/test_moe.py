"""MoE FFN: every token gets exactly its top-k experts (no dropping), gate weights sum to 1, balancing loss."""

import pytest
import torch

from nanochat_cli.model import named_config
from nanochat_cli.model.moe import MoEFeedForward


def _moe(**overrides):
    torch.manual_seed(0)
    cfg = named_config("tiny", d_model=64, n_heads=4, n_kv_heads=2, ffn_hidden=64, group_size=32, moe_experts=4,
                       **overrides)
    return MoEFeedForward(cfg).eval()


@pytest.mark.parametrize("top_k,shared", [(1, False), (2, True), (4, False)])
def test_each_token_is_the_gated_sum_of_its_top_k_experts(top_k, shared):
    moe = _moe(moe_top_k=top_k, moe_shared_expert=shared)
    x = torch.randn(3, 9, 64)
    with torch.no_grad():
        y, _ = moe(x)
        for token in x.reshape(-1, 64):
            probs = torch.softmax(moe.router(token), -1)
            p, idx = probs.topk(top_k)
            expected = sum(w / p.sum() * moe.experts[e](token[None])[0] for w, e in zip(p, idx.tolist()))
            if shared:
                expected = expected + moe.shared_expert(token[None])[0]
            row = (x.reshape(-1, 64) == token).all(-1).nonzero()[0, 0]
            torch.testing.assert_close(y.reshape(-1, 64)[row], expected, rtol=1e-5, atol=1e-6)


def test_balancing_loss_is_its_weight_for_a_uniform_router_and_trains_the_router():
    moe = _moe(moe_top_k=2, moe_aux_loss_weight=0.05).train()
    with torch.no_grad():
        moe.router.weight.zero_()
    _, aux = moe(torch.randn(2, 5, 64))
    torch.testing.assert_close(aux, torch.tensor(0.05))
    with torch.no_grad():
        moe.router.weight.normal_()
    _, aux = moe(torch.randn(2, 5, 64))
    aux.backward()
    assert moe.router.weight.grad.abs().sum() > 0
