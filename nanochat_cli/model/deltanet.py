"""Gated DeltaNet layer (Yang et al., "Gated Delta Networks"): linear attention with the gated delta rule.

Per head, with L2-normalised q (scaled by d_k^-1/2) and k, beta_t = sigmoid(w_b x_t) and log-decay
g_t = -exp(A_log) softplus(w_a x_t + dt_bias) <= 0, alpha_t = exp(g_t):
    S_t = alpha_t S_{t-1} + k_t delta_t^T,  delta_t = beta_t (v_t - alpha_t S_{t-1}^T k_t),  o_t = S_t^T q_t
(S: d_k x d_v). `recurrent_gated_delta_rule` is that loop (O(1) state, decoding); `chunked_gated_delta_rule` is
the same map computed chunk by chunk with a triangular solve (training, prefill). Both are causal and take an
initial state. Output: per-head RMSNorm, times silu(gate_proj(x)), then o_proj. No short convolution.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.model.bitlinear import BitLinear, scaled_init_std
from nanochat_cli.model.cache import DeltaNetState
from nanochat_cli.model.precision import gate_linear, mixing_dtype


def recurrent_gated_delta_rule(q, k, v, beta, g, state=None):
    """q, k (B, H, T, Dk), v (B, H, T, Dv), beta, g (B, H, T) -> (o (B, H, T, Dv), final state (B, H, Dk, Dv))."""
    b, h, t, dk = k.shape
    s = state if state is not None else q.new_zeros(b, h, dk, v.shape[-1])
    outs = []
    for i in range(t):
        s = s * g[:, :, i].exp()[..., None, None]
        k_i = k[:, :, i]
        delta = beta[:, :, i, None] * (v[:, :, i] - (k_i.unsqueeze(-2) @ s).squeeze(-2))
        s = s + k_i.unsqueeze(-1) * delta.unsqueeze(-2)
        outs.append((q[:, :, i].unsqueeze(-2) @ s).squeeze(-2))
    return torch.stack(outs, dim=2), s


def chunked_gated_delta_rule(q, k, v, beta, g, state=None, chunk_size: int = 64):
    """The same map as `recurrent_gated_delta_rule`, chunk-parallel.

    Within a chunk with cumulative log-decay G_i (gamma_i = exp(G_i)) and start state S_0, the deltas solve
    (I + A) Delta = beta V - beta gamma K S_0 with A_tj = beta_t (gamma_t / gamma_j) k_t.k_j for j < t.
    """
    b, h, t, dk = k.shape
    dv = v.shape[-1]
    c = chunk_size
    pad = (-t) % c
    if pad:  # padded steps have k = v = beta = 0 and g = 0: they change neither the outputs nor the state
        q, k, v = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
        beta, g = F.pad(beta, (0, pad)), F.pad(g, (0, pad))
    n = (t + pad) // c
    q, k, v = (x.reshape(b, h, n, c, x.shape[-1]) for x in (q, k, v))
    beta, g = beta.reshape(b, h, n, c), g.reshape(b, h, n, c)
    cum = g.cumsum(dim=-1)
    diff = cum[..., :, None] - cum[..., None, :]  # G_i - G_j
    idx = torch.arange(c, device=q.device)
    below = idx[:, None] > idx[None, :]
    causal = idx[:, None] >= idx[None, :]
    neg_inf = torch.tensor(float("-inf"), dtype=diff.dtype, device=diff.device)
    k_beta = k * beta.unsqueeze(-1)
    a = (k_beta @ k.transpose(-1, -2)) * torch.where(below, diff, neg_inf).exp()
    eye = torch.eye(c, dtype=a.dtype, device=a.device)
    rhs = torch.cat((v * beta.unsqueeze(-1), k_beta * cum.exp().unsqueeze(-1)), dim=-1)
    sol = torch.linalg.solve_triangular(eye + a, rhs, upper=False, unitriangular=True)
    u, w = sol[..., :dv], sol[..., dv:]
    scores = (q @ k.transpose(-1, -2)) * torch.where(causal, diff, neg_inf).exp()
    s = state if state is not None else q.new_zeros(b, h, dk, dv)
    outs = []
    for i in range(n):
        delta = u[:, :, i] - w[:, :, i] @ s
        outs.append((q[:, :, i] * cum[:, :, i].exp().unsqueeze(-1)) @ s + scores[:, :, i] @ delta)
        last = cum[:, :, i, -1:]
        s = s * last.exp().unsqueeze(-1) + (k[:, :, i] * (last - cum[:, :, i]).exp().unsqueeze(-1)).transpose(-1, -2) @ delta
    o = torch.cat(outs, dim=2)[:, :, :t]
    return o, s


class GatedDeltaNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads, self.head_dim, self.chunk_size = cfg.n_heads, cfg.head_dim, cfg.deltanet_chunk_size
        inner = cfg.n_heads * cfg.head_dim
        lin = dict(group_size=cfg.group_size, ternary=cfg.ternary)
        self.q_proj = BitLinear(cfg.d_model, inner, init_std=cfg.init_std, **lin)
        self.k_proj = BitLinear(cfg.d_model, inner, init_std=cfg.init_std, **lin)
        self.v_proj = BitLinear(cfg.d_model, inner, init_std=cfg.init_std, **lin)
        self.gate_proj = BitLinear(cfg.d_model, inner, init_std=cfg.init_std, **lin)
        self.o_proj = BitLinear(inner, cfg.d_model, init_std=scaled_init_std(cfg.init_std, cfg.n_layers), **lin)
        self.beta_proj = nn.Linear(cfg.d_model, cfg.n_heads, bias=False)
        self.decay_proj = nn.Linear(cfg.d_model, cfg.n_heads, bias=False)
        nn.init.normal_(self.beta_proj.weight, std=cfg.init_std)
        nn.init.normal_(self.decay_proj.weight, std=cfg.init_std)
        # Mamba-2's decay init: A in [1, 16], softplus(dt_bias) in [0.001, 0.1]
        self.A_log = nn.Parameter(torch.empty(cfg.n_heads).uniform_(1, 16).log())
        dt = torch.exp(torch.empty(cfg.n_heads).uniform_(math.log(1e-3), math.log(1e-1)))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.out_norm = nn.RMSNorm(cfg.head_dim, eps=cfg.norm_eps)

    def forward(self, x: torch.Tensor, start: int = 0, cache: DeltaNetState | None = None) -> torch.Tensor:
        b, t, _ = x.shape
        dtype = mixing_dtype()

        def heads(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.n_heads, self.head_dim).transpose(1, 2).to(dtype)

        q = F.normalize(heads(self.q_proj(x)), dim=-1) / math.sqrt(self.head_dim)
        k = F.normalize(heads(self.k_proj(x)), dim=-1)
        v = heads(self.v_proj(x))
        beta = torch.sigmoid(gate_linear(x, self.beta_proj.weight)).transpose(1, 2)
        g = -self.A_log.to(dtype).exp() * F.softplus(gate_linear(x, self.decay_proj.weight) + self.dt_bias.to(dtype))
        g = g.transpose(1, 2)
        state = cache.state.to(dtype) if cache is not None and cache.state is not None else None
        if t == 1 and cache is not None:
            o, state = recurrent_gated_delta_rule(q, k, v, beta, g, state)
        else:
            o, state = chunked_gated_delta_rule(q, k, v, beta, g, state, self.chunk_size)
        if cache is not None:
            cache.state = state
        o = self.out_norm(o.float()) * F.silu(self.gate_proj(x)).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1))
