"""Attention conventions the native engine and exporters share: GQA head mapping and rotate-half RoPE."""

import math

import torch

from nanochat_cli.model import named_config
from nanochat_cli.model.attention import CausalSelfAttention, causal_attention
from nanochat_cli.model.rope import apply_rope, rope_tables


def test_query_head_h_reads_kv_head_h_div_group():
    gen = torch.Generator().manual_seed(0)
    b, h, h_kv, t, d = 2, 6, 2, 5, 4
    q, k, v = (torch.randn(b, n, t, d, generator=gen) for n in (h, h_kv, h_kv))
    y = causal_attention(q, k, v, 0)
    mask = torch.ones(t, t).tril().bool()
    for head in range(h):
        kv = head // (h // h_kv)
        scores = (q[:, head] @ k[:, kv].transpose(-1, -2) / math.sqrt(d)).masked_fill(~mask, float("-inf"))
        torch.testing.assert_close(y[:, head], torch.softmax(scores, -1) @ v[:, kv])


def test_rope_rotates_pairs_i_and_i_plus_half():
    d, theta, pos = 8, 10000.0, 3
    cos, sin = rope_tables(d, pos, 1, theta, "cpu")
    for i in range(d // 2):
        x = torch.zeros(1, d)
        x[0, i] = 1.0
        angle = pos * theta ** (-2 * i / d)
        expected = torch.zeros(1, d)
        expected[0, i], expected[0, i + d // 2] = math.cos(angle), math.sin(angle)
        torch.testing.assert_close(apply_rope(x, cos, sin), expected)


def test_rope_scores_depend_only_on_relative_position():
    gen = torch.Generator().manual_seed(1)
    q, k = torch.randn(1, 16, generator=gen), torch.randn(1, 16, generator=gen)

    def score(pq, pk):
        cq, sq = rope_tables(16, pq, 1, 500.0, "cpu")
        ck, sk = rope_tables(16, pk, 1, 500.0, "cpu")
        return (apply_rope(q, cq, sq) * apply_rope(k, ck, sk)).sum()

    torch.testing.assert_close(score(7, 3), score(104, 100))


def test_sub_norm_sits_before_the_output_projection():
    cfg = named_config("tiny", vocab_size=32, sub_norm=True)
    attn = CausalSelfAttention(cfg)
    seen = {}
    attn.o_proj.register_forward_hook(lambda m, inp, out: seen.setdefault("x", inp[0]))
    attn(torch.randn(1, 4, cfg.d_model))
    rms = seen["x"].pow(2).mean(-1).sqrt()
    torch.testing.assert_close(rms, torch.ones_like(rms), rtol=1e-3, atol=1e-3)
