"""Warm-up / stable / decay (WSD) learning-rate multiplier: a pure function of the step."""

from __future__ import annotations


def wsd_multiplier(step: int, total_steps: int, warmup_steps: int, decay_fraction: float, min_lr_ratio: float) -> float:
    """Multiplier for optimizer step `step` (0-based) of `total_steps`.

    Linear warm-up to 1 over warmup_steps, flat, then linear decay to min_lr_ratio over the last
    decay_fraction * total_steps steps (reaching it at the last step).
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    decay_steps = round(decay_fraction * total_steps)
    decay_start = total_steps - decay_steps
    if decay_steps <= 0 or step < decay_start:
        return 1.0
    progress = min(1.0, (step - decay_start + 1) / decay_steps)
    return 1.0 - (1.0 - min_lr_ratio) * progress
