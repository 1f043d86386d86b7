"""Warm-up / stable / decay (WSD) learning-rate multiplier: a pure function of where the run is."""

from __future__ import annotations


def wsd_multiplier(step: int, total_steps: int, warmup_steps: int, decay_fraction: float, min_lr_ratio: float,
                   time_fraction: float = 0.0) -> float:
    """Multiplier for optimizer step `step` (0-based) of `total_steps`.

    Linear warm-up to 1 over warmup_steps, flat, then linear decay to min_lr_ratio over the last
    decay_fraction * total_steps steps (reaching it at the last step).

    A run with a time budget (train.time_budget_s) passes `time_fraction`, the share of the budget already
    spent: the decay then also follows time, over the budget's last decay_fraction, and whichever of the
    two clocks is further along sets the rate (the lower multiplier, as the decay only falls).
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    def decayed(done: float, length: float) -> float:  # `done` of the decay's `length` behind: 1 -> min_lr_ratio
        return 1.0 if length <= 0 or done <= 0 else 1.0 - (1.0 - min_lr_ratio) * min(1.0, done / length)

    decay_steps = round(decay_fraction * total_steps)
    by_steps = decayed(step - (total_steps - decay_steps) + 1, decay_steps)
    by_time = decayed(time_fraction - (1.0 - decay_fraction), decay_fraction)
    return min(by_steps, by_time)
