"""Advantages of one group of G samples of a prompt (GRPO, MaxRL, ReST), the DAPO drop, and the k3 KL estimator.

- grpo: A_i = (r_i - mean) / (std + eps), std the sample standard deviation (TRL's convention) -- DeepSeekMath.
- maxrl: Maximum Likelihood RL (arXiv 2602.02710) on binary success s_i: A_i = (s_i - p) / p with p the group's
  success rate, 0 for a group with no success. Then (1/G) sum_i A_i grad log pi_i = (1/K) sum_{s_i=1} grad log pi_i
  - (1/G) sum_i grad log pi_i: the mean score of the K successes minus a zero-mean baseline.
- rest: expert iteration: A_i = s_i (fine-tune on what passed, nothing else).
"""

from __future__ import annotations

import numpy as np
import torch

EPS = 1e-4


def group_advantages(rewards, success, algorithm: str) -> np.ndarray:
    """Per-sample advantages of one group: rewards (graded, for grpo), success (bool, for maxrl and rest)."""
    r = np.asarray(rewards, dtype=np.float64)
    s = np.asarray(success, dtype=np.float64)
    if algorithm == "grpo":
        std = r.std(ddof=1) if r.size > 1 else 0.0
        return (r - r.mean()) / (std + EPS)
    if algorithm == "maxrl":
        p = s.mean()
        return np.zeros_like(s) if p == 0 else (s - p) / p
    if algorithm == "rest":
        return s.copy()
    raise ValueError(f"unknown algorithm {algorithm!r}")


def informative(rewards, success, algorithm: str) -> bool:
    """Whether a group carries a gradient (DAPO's dynamic sampling keeps only these): grpo needs unequal rewards,
    maxrl unequal successes; rest needs at least one success (an all-pass group is still fine-tuning data)."""
    if algorithm == "rest":
        return bool(np.any(success))
    values = np.asarray(rewards if algorithm == "grpo" else success, dtype=np.float64)
    return bool(values.size > 1 and np.ptp(values) > 0)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token KL(pi || ref) estimate from the sampled token's log-probabilities (Schulman's k3):
    exp(ref - logp) - (ref - logp) - 1, unbiased and always >= 0."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1.0
