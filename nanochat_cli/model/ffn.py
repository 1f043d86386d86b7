"""Feed-forward network: SwiGLU or ReLU^2, ternary projections, optional SubLN before the down projection."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.model.bitlinear import BitLinear, scaled_init_std


class FeedForward(nn.Module):
    """swiglu: down(silu(gate(x)) * up(x)); relu2: down(relu(up(x))^2)."""

    def __init__(self, cfg, hidden: int | None = None):
        super().__init__()
        hidden = hidden or cfg.ffn_hidden
        lin = dict(group_size=cfg.group_size, ternary=cfg.ternary)
        self.ffn_type = cfg.ffn_type
        self.gate_proj = BitLinear(cfg.d_model, hidden, init_std=cfg.init_std, **lin) if cfg.ffn_type == "swiglu" else None
        self.up_proj = BitLinear(cfg.d_model, hidden, init_std=cfg.init_std, **lin)
        self.sub_norm = nn.RMSNorm(hidden, eps=cfg.norm_eps) if cfg.sub_norm else None
        self.down_proj = BitLinear(hidden, cfg.d_model, init_std=scaled_init_std(cfg.init_std, cfg.n_layers), **lin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gate_proj is not None:
            h = F.silu(self.gate_proj(x)) * self.up_proj(x)
        else:
            h = F.relu(self.up_proj(x)).square()
        if self.sub_norm is not None:
            h = self.sub_norm(h)
        return self.down_proj(h)
