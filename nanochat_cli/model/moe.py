"""Mixture-of-experts FFN: float router, top-k ternary experts, optional shared expert, load-balancing loss.

Token-dropping-free reference: every token reaches all of its top-k experts (no capacity limit).
Gate weights are the softmax probabilities of the chosen experts renormalised to sum to 1. The auxiliary loss is
Switch Transformer's E * sum_e f_e P_e (f_e: fraction of routed slots sent to e, P_e: mean router probability),
1.0 when perfectly balanced, multiplied by moe_aux_loss_weight.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.model.ffn import FeedForward
from nanochat_cli.model.precision import gate_linear


class MoEFeedForward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_experts, self.top_k, self.aux_weight = cfg.moe_experts, cfg.moe_top_k, cfg.moe_aux_loss_weight
        self.router = nn.Linear(cfg.d_model, cfg.moe_experts, bias=False)
        nn.init.normal_(self.router.weight, std=cfg.init_std)
        self.experts = nn.ModuleList(FeedForward(cfg, cfg.expert_hidden) for _ in range(cfg.moe_experts))
        self.shared_expert = FeedForward(cfg, cfg.expert_hidden) if cfg.moe_shared_expert else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, d) -> (output (B, T, d), weighted load-balancing loss scalar)."""
        flat = x.reshape(-1, x.shape[-1])
        probs = torch.softmax(gate_linear(flat, self.router.weight), dim=-1).float()
        top_p, top_i = probs.topk(self.top_k, dim=-1)
        top_p = top_p / top_p.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            rows, slot = (top_i == e).nonzero(as_tuple=True)
            if rows.numel():
                out = out.index_add(0, rows, expert(flat[rows]) * top_p[rows, slot].unsqueeze(-1))
        if self.shared_expert is not None:
            out = out + self.shared_expert(flat)
        routed = F.one_hot(top_i, self.n_experts).float().sum(dim=(0, 1)) / top_i.numel()
        aux = self.n_experts * (routed * probs.mean(dim=0)).sum()
        return out.view_as(x), self.aux_weight * aux
