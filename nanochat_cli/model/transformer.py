"""TernaryLM: embedding -> blocks (attention or DeltaNet mixer + dense or MoE FFN, pre-norm, mHC-lite residuals)
-> final RMSNorm -> head (tied float, untied float, or ternary) -> optional logit soft-cap.

State-dict names (exporters rely on them): embed.weight, blocks.N.{attn_norm, attn.*, ffn_norm, ffn.*, attn_mhc.*,
ffn_mhc.*}, norm.weight, head.weight (untied only). Attention: attn.{q,k,v,o}_proj.weight, attn.sub_norm.weight;
FFN: ffn.{gate,up,down}_proj.weight, ffn.sub_norm.weight; MoE: ffn.router.weight, ffn.experts.E.*,
ffn.shared_expert.*; DeltaNet: attn.{q,k,v,gate,o}_proj.weight, attn.{beta,decay}_proj.weight, attn.A_log,
attn.dt_bias, attn.out_norm.weight; mHC: {attn,ffn}_mhc.{res_logits, pre_logits, post_logits, dyn_proj, dyn_gates}.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.errors import NanochatError
from nanochat_cli.model.attention import CausalSelfAttention
from nanochat_cli.model.bitlinear import BitLinear
from nanochat_cli.model.cache import ModelCache
from nanochat_cli.model.config import ModelConfig
from nanochat_cli.model.deltanet import GatedDeltaNet
from nanochat_cli.model.ffn import FeedForward
from nanochat_cli.model.mhc import MHCResidual
from nanochat_cli.model.moe import MoEFeedForward


@dataclass
class ModelOutput:
    logits: torch.Tensor  # float32 (B, T, vocab)
    aux_loss: torch.Tensor  # scalar: weighted MoE load-balancing loss (mean over MoE layers), 0 without MoE
    cache: ModelCache | None


class Block(nn.Module):
    """streams -> mixer sublayer -> FFN sublayer, each `X <- residual(X, F(norm(read(X))))`."""

    def __init__(self, cfg: ModelConfig, index: int):
        super().__init__()
        self.kind = cfg.layer_type(index)
        self.attn_norm = nn.RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.attn = CausalSelfAttention(cfg) if self.kind == "A" else GatedDeltaNet(cfg)
        self.ffn_norm = nn.RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.ffn = MoEFeedForward(cfg) if cfg.moe_experts else FeedForward(cfg)
        mhc = dict(n=cfg.mhc_streams, d_model=cfg.d_model, dynamic=cfg.mhc_dynamic, eps=cfg.norm_eps,
                   init_std=cfg.init_std)
        self.attn_mhc = MHCResidual(sublayer_index=2 * index, mixes=index > 0, **mhc)
        self.ffn_mhc = MHCResidual(sublayer_index=2 * index + 1, mixes=index < cfg.n_layers - 1, **mhc)

    def forward(self, streams: torch.Tensor, start: int, cache) -> tuple[torch.Tensor, torch.Tensor | None]:
        coeffs = self.attn_mhc.coefficients(streams)
        y = self.attn(self.attn_norm(self.attn_mhc.read(streams, coeffs)), start, cache)
        streams = self.attn_mhc.write(streams, y, coeffs)
        coeffs = self.ffn_mhc.coefficients(streams)
        h = self.ffn_norm(self.ffn_mhc.read(streams, coeffs))
        y, aux = self.ffn(h) if isinstance(self.ffn, MoEFeedForward) else (self.ffn(h), None)
        return self.ffn_mhc.write(streams, y, coeffs), aux


class TernaryLM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        nn.init.normal_(self.embed.weight, std=cfg.init_std)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layers))
        self.norm = nn.RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        if cfg.ternary_head:
            self.head = BitLinear(cfg.d_model, cfg.vocab_size, group_size=cfg.group_size, ternary=cfg.ternary,
                                  init_std=cfg.init_std)
        elif not cfg.tie_embeddings:
            self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
            nn.init.normal_(self.head.weight, std=cfg.init_std)
        else:
            self.head = None

    def new_cache(self, batch_size: int) -> ModelCache:
        return ModelCache(self.cfg, batch_size, device=self.embed.weight.device)

    def forward(self, idx: torch.Tensor, cache: ModelCache | None = None,
                logits_at: torch.Tensor | None = None) -> ModelOutput:
        """logits (B, T, vocab); with logits_at, a bool (B, T) mask, the head runs only where it is True and the
        logits are (N, vocab) in row-major order of the mask (RL scores only the sampled tokens' positions)."""
        b, t = idx.shape
        start = 0
        if cache is not None:
            cache.check_room(b, t)
            start = cache.length
        elif t > self.cfg.max_seq_len:
            raise NanochatError(f"sequence of {t} tokens exceeds max_seq_len {self.cfg.max_seq_len}")
        x = self.embed(idx)
        n = self.cfg.mhc_streams
        streams = x.unsqueeze(2).expand(b, t, n, x.shape[-1]) if n > 1 else x.unsqueeze(2)
        aux_losses = []
        for i, block in enumerate(self.blocks):
            streams, aux = block(streams, start, None if cache is None else cache.layers[i])
            if aux is not None:
                aux_losses.append(aux)
        x = streams[:, :, 0] if n == 1 else streams.mean(dim=2)
        if logits_at is not None:  # every step from here is per position
            x = x[logits_at]
        x = self.norm(x)
        logits = F.linear(x, self.embed.weight) if self.head is None else self.head(x)
        if self.cfg.logit_softcap > 0:
            logits = self.cfg.logit_softcap * torch.tanh(logits / self.cfg.logit_softcap)
        if cache is not None:
            cache.length += t
        aux_loss = torch.stack(aux_losses).mean() if aux_losses else logits.new_zeros(())
        return ModelOutput(logits.float(), aux_loss, cache)

    # ---- parameter bookkeeping ----
    def _ternary_and_mhc_ids(self) -> tuple[set[int], set[int]]:
        ternary = {id(m.weight) for m in self.modules() if isinstance(m, BitLinear) and m.ternary}
        mhc = {id(p) for m in self.modules() if isinstance(m, MHCResidual) for p in m.parameters()}
        return ternary, mhc

    def param_counts(self) -> dict[str, int]:
        """{"ternary", "full_precision", "mhc", "total"}: BitLinear weights / everything else / mHC parameters."""
        ternary, mhc = self._ternary_and_mhc_ids()
        counts = {"ternary": 0, "full_precision": 0, "mhc": 0}
        for p in self.parameters():  # tied weights appear once
            key = "ternary" if id(p) in ternary else "mhc" if id(p) in mhc else "full_precision"
            counts[key] += p.numel()
        counts["total"] = sum(counts.values())
        return counts

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """"matrix": the hidden BitLinear weights (Muon); "other": embeddings, head, norms, mHC, gates, router."""
        matrix = [m.weight for m in self.blocks.modules() if isinstance(m, BitLinear)]
        ids = {id(p) for p in matrix}
        return {"matrix": matrix, "other": [p for p in self.parameters() if id(p) not in ids]}
