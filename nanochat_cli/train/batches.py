"""Batches of token windows drawn from a memory-mapped shard, as a pure function of (seed, step).

Because step s's windows depend only on (seed, s), the data position to save for `--resume` is just the
step, and a DDP run sees exactly the windows a single process would: the global batch of step s is
drawn once and split into (micro-step, rank) slices.
"""

from __future__ import annotations

import numpy as np
import torch

from nanochat_cli.errors import NanochatError


class WindowSampler:
    """Random windows of seq_len + 1 tokens (input and shifted target) from one split."""

    def __init__(self, tokens: np.ndarray, seq_len: int, seed: int, split: str = "train"):
        if len(tokens) < seq_len + 2:
            raise NanochatError(
                f"the {split} split has {len(tokens)} tokens, fewer than train.seq_len + 2 = {seq_len + 2}; "
                "use a larger corpus (data.max_crates) or a shorter train.seq_len"
            )
        self.tokens = tokens
        self.seq_len = seq_len
        self.seed = seed

    def step_offsets(self, step: int, n: int) -> np.ndarray:
        """The n window starts of global batch `step` (same on every rank and after a resume)."""
        rng = np.random.default_rng([self.seed, step])
        return rng.integers(0, len(self.tokens) - self.seq_len - 1, size=n)

    def windows(self, offsets: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        idx = offsets[:, None] + np.arange(self.seq_len + 1)[None, :]
        block = torch.from_numpy(np.asarray(self.tokens[idx], dtype=np.int64))
        return block[:, :-1], block[:, 1:]

    def micro_batch(self, step: int, micro: int, rank: int, world: int, batch_size: int, accum: int):
        """Inputs and targets for one micro-step of one rank: a slice of the step's global batch."""
        offsets = self.step_offsets(step, batch_size * accum * world)
        start = (micro * world + rank) * batch_size
        return self.windows(offsets[start : start + batch_size])


def validation_offsets(n_tokens: int, seq_len: int, count: int) -> np.ndarray:
    """Fixed, evenly spaced validation windows (the same every evaluation, so curves compare)."""
    last = n_tokens - seq_len - 1
    return np.linspace(0, last, num=count).astype(np.int64)
