"""Training objective: cross-entropy - lambda * predictive entropy (+ z-loss, label smoothing, MoE aux loss).

`lm_loss(logits, targets, loss_section, aux_loss)` returns the loss to back-propagate and the detached
numbers the progress line shows (CE, entropy H in nats, max logit).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LossParts:
    loss: torch.Tensor  # what backward() runs on
    ce: torch.Tensor  # plain cross-entropy (nats/token), detached
    entropy: torch.Tensor  # mean predictive entropy (nats), detached
    max_logit: torch.Tensor  # detached


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, cfg, aux_loss: torch.Tensor | None = None) -> LossParts:
    logits = logits.float().reshape(-1, logits.size(-1))
    targets = targets.reshape(-1)
    logp = F.log_softmax(logits, dim=-1)
    ce = F.nll_loss(logp, targets)
    loss = F.cross_entropy(logits, targets, label_smoothing=cfg.label_smoothing) if cfg.label_smoothing else ce
    entropy = -(logp.exp() * logp).sum(-1).mean()
    if cfg.entropy_lambda:
        loss = loss - cfg.entropy_lambda * entropy
    if cfg.z_loss:
        loss = loss + cfg.z_loss * torch.logsumexp(logits, dim=-1).pow(2).mean()
    if aux_loss is not None:  # the model has already weighted it (model.moe_aux_loss_weight)
        loss = loss + aux_loss
    return LossParts(loss, ce.detach(), entropy.detach(), logits.detach().max())
