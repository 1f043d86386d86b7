"""Causal self-attention with RoPE and grouped-query attention, q/k/v/o as BitLinear, optional SubLN.

GQA mapping everywhere (torch, native engine, exporters): query head h reads kv head h // (n_heads // n_kv_heads),
i.e. each kv head serves a contiguous run of query heads (repeat_interleave, llama.cpp's convention).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.model.bitlinear import BitLinear, scaled_init_std
from nanochat_cli.model.cache import KVCache
from nanochat_cli.model.precision import mixing_dtype
from nanochat_cli.model.rope import apply_rope, rope_tables


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.rope_theta = cfg.rope_theta
        inner, kv = cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
        lin = dict(group_size=cfg.group_size, ternary=cfg.ternary)
        self.q_proj = BitLinear(cfg.d_model, inner, init_std=cfg.init_std, **lin)
        self.k_proj = BitLinear(cfg.d_model, kv, init_std=cfg.init_std, **lin)
        self.v_proj = BitLinear(cfg.d_model, kv, init_std=cfg.init_std, **lin)
        self.sub_norm = nn.RMSNorm(inner, eps=cfg.norm_eps) if cfg.sub_norm else None
        self.o_proj = BitLinear(inner, cfg.d_model, init_std=scaled_init_std(cfg.init_std, cfg.n_layers), **lin)

    def forward(self, x: torch.Tensor, start: int = 0, cache: KVCache | None = None) -> torch.Tensor:
        """x (B, T, d) at positions start..start+T-1; with a cache, attends to the cached prefix too."""
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = rope_tables(self.head_dim, start, t, self.rope_theta, x.device)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            k, v = cache.append(start, k, v)
        y = causal_attention(q, k, v, start)
        y = y.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)
        if self.sub_norm is not None:
            y = self.sub_norm(y)
        return self.o_proj(y)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, start: int) -> torch.Tensor:
    """softmax(q k^T / sqrt(D)) v with query i (absolute position start + i) seeing keys 0..start+i.

    q (B, H, T, D); k, v (B, H_kv, S, D) with S = start + T. Computed in the mixing dtype, returned float32.
    """
    dtype = mixing_dtype()
    rep = q.shape[1] // k.shape[1]
    if rep > 1:
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    t, s = q.shape[2], k.shape[2]
    if start == 0 and t == s:
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    else:
        visible = torch.arange(s, device=q.device)[None, :] <= (start + torch.arange(t, device=q.device))[:, None]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=visible)
    return y.float()
