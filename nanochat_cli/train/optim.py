"""Optimizers: Muon (torch.optim.Muon) for hidden 2-D weights, Lion for everything else.

`build_optimizers(model, opt_section)` returns the two optimizers; each param group remembers its base
lr in `group["base_lr"]` so the schedule and the collapse guard can scale it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nanochat_cli.errors import NanochatError


class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): sign of an interpolated momentum.

    update = sign(beta1 * m + (1 - beta1) * g); w -= lr * (update + wd * w); m = beta2 * m + (1 - beta2) * g.
    """

    def __init__(self, params, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0):
        if lr <= 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"bad Lion hyper-parameters lr={lr} betas={betas}")
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                update = (m * b1).add_(p.grad, alpha=1 - b1).sign_()
                if wd:
                    p.mul_(1 - lr * wd)
                p.add_(update, alpha=-lr)
                m.mul_(b2).add_(p.grad, alpha=1 - b2)
        return loss


def build_optimizers(model: nn.Module, opt) -> list[torch.optim.Optimizer]:
    """Muon over parameter_groups()["matrix"], Lion over parameter_groups()["other"]."""
    groups = model.parameter_groups()
    matrix = [p for p in groups["matrix"] if p.requires_grad]
    other = [p for p in groups["other"] if p.requires_grad]
    seen = {id(p) for p in matrix} | {id(p) for p in other}
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in seen]
    if missing:  # a parameter nobody optimizes would silently stay at its init
        raise NanochatError(f"model.parameter_groups() leaves parameters out: {', '.join(missing[:5])}")
    bad = [tuple(p.shape) for p in matrix if p.ndim != 2]
    if bad:
        raise NanochatError(f"Muon needs 2-D matrices; parameter_groups()['matrix'] holds shapes {bad[:3]}")
    opts: list[torch.optim.Optimizer] = []
    try:  # the optimizers check their hyper-parameters (lr > 0, betas and momentum in [0, 1)) with ValueError
        if matrix:
            opts.append(torch.optim.Muon(
                matrix, lr=opt.matrix_lr, weight_decay=opt.matrix_wd, momentum=opt.muon_momentum,
                adjust_lr_fn=opt.muon_adjust_lr,
            ))
        if other:
            opts.append(Lion(other, lr=opt.other_lr, betas=(opt.lion_beta1, opt.lion_beta2), weight_decay=opt.other_wd))
    except ValueError as e:
        raise NanochatError(f"recipe [optimizer] rejected: {e}; fix the value in the recipe or --set") from None
    for o in opts:
        for g in o.param_groups:
            g["base_lr"] = g["lr"]
    return opts


def set_lr_multiplier(opts: list[torch.optim.Optimizer], multiplier: float) -> None:
    for o in opts:
        for g in o.param_groups:
            g["lr"] = g["base_lr"] * multiplier


def clip_and_step(params, opts: list[torch.optim.Optimizer], grad_clip: float, what_to_do: str) -> float:
    """Clip the global gradient norm to grad_clip (0 = no clip), step every optimizer and clear the gradients;
    returns the norm before clipping. A non-finite norm is one error: "gradient norm is nan " + `what_to_do`."""
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, grad_clip if grad_clip > 0 else float("inf")))
    if not math.isfinite(grad_norm):
        raise NanochatError(f"gradient norm is {grad_norm} {what_to_do}")
    for o in opts:
        o.step()
    for o in opts:
        o.zero_grad(set_to_none=True)
    return grad_norm
