"""Prefill-then-decode with ModelCache (KV cache, DeltaNet state) gives the logits of one full forward pass."""

import pytest
import torch

from nanochat_cli.errors import NanochatError
from nanochat_cli.model import TernaryLM, float64_mixing
from nanochat_cli.model.deltanet import chunked_gated_delta_rule, recurrent_gated_delta_rule

from .variants import VARIANTS, variant_config


def _incremental(model, idx, splits):
    cache = model.new_cache(idx.shape[0])
    pieces, start = [], 0
    for end in splits + [idx.shape[1]]:
        pieces.append(model(idx[:, start:end], cache).logits)
        start = end
    assert cache.length == idx.shape[1]
    return torch.cat(pieces, dim=1)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_prefill_then_decode_equals_full_forward(name):
    torch.manual_seed(0)
    model = TernaryLM(variant_config(name)).eval()
    idx = torch.randint(0, 64, (2, 23), generator=torch.Generator().manual_seed(1))
    # float64 mixing makes attention / DeltaNet insensitive to how the sequence is split, so BitLinear's int8
    # rounding sees the same inputs on both paths (see precision.py)
    with torch.no_grad(), float64_mixing():
        full = model(idx).logits
        # prefill 11 (crosses a DeltaNet chunk), decode 1 by 1, then a 5-token chunk with a cache, then 1 by 1
        steps = _incremental(model, idx, [11, 12, 13, 14, 19, 20, 21, 22])
    torch.testing.assert_close(steps, full, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["float_twin", "mhc4_dynamic", "attention_deltanet"])
def test_prefill_then_decode_in_float32_matches_within_rounding(name):
    torch.manual_seed(0)
    model = TernaryLM(variant_config(name, ternary=False)).eval()
    idx = torch.randint(0, 64, (1, 17), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        full = model(idx).logits
        steps = _incremental(model, idx, list(range(9, 17)))
    torch.testing.assert_close(steps, full, rtol=1e-4, atol=1e-4)


def test_cache_rejects_overflow_and_batch_mismatch():
    model = TernaryLM(variant_config("plain", max_seq_len=8)).eval()
    cache = model.new_cache(1)
    model(torch.zeros(1, 8, dtype=torch.long), cache)
    with pytest.raises(NanochatError, match="max_seq_len"):
        model(torch.zeros(1, 1, dtype=torch.long), cache)
    with pytest.raises(NanochatError, match="batch size"):
        model(torch.zeros(2, 1, dtype=torch.long), model.new_cache(1))


@pytest.mark.parametrize("t,chunk", [(1, 4), (13, 4), (16, 16), (37, 8)])
def test_chunked_delta_rule_equals_recurrent(t, chunk):
    gen = torch.Generator().manual_seed(t)
    b, h, dk, dv = 2, 3, 5, 7

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    q = torch.nn.functional.normalize(randn(b, h, t, dk), dim=-1)
    k = torch.nn.functional.normalize(randn(b, h, t, dk), dim=-1)
    v, beta = randn(b, h, t, dv), torch.sigmoid(randn(b, h, t))
    g = -torch.rand(b, h, t, generator=gen, dtype=torch.float64) * 2
    state = randn(b, h, dk, dv)
    o_rec, s_rec = recurrent_gated_delta_rule(q, k, v, beta, g, state)
    o_chk, s_chk = chunked_gated_delta_rule(q, k, v, beta, g, state, chunk)
    torch.testing.assert_close(o_chk, o_rec, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(s_chk, s_rec, rtol=1e-10, atol=1e-10)


def test_delta_rule_with_unit_beta_and_no_decay_recalls_the_last_value_written():
    """beta = 1, alpha = 1: writing v under key k replaces what k held, so reading with q = k returns v."""
    k = torch.nn.functional.normalize(torch.randn(1, 1, 3, 4, dtype=torch.float64), dim=-1)
    k[:, :, 2] = k[:, :, 0]
    v = torch.randn(1, 1, 3, 2, dtype=torch.float64)
    _, s = recurrent_gated_delta_rule(k, k, v, torch.ones(1, 1, 3), torch.zeros(1, 1, 3, dtype=torch.float64))
    torch.testing.assert_close((k[0, 0, 2] @ s[0, 0]), v[0, 0, 2])
