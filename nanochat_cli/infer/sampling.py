"""Token sampling: penalties, temperature, top-k, top-p, min-p, seeded RNG per request. Greedy when temperature is 0.

The settings are SamplingParams (nanochat_cli/sampling_params.py, the one type generate, serve, eval and rl share).

Order (llama.cpp's default chain): repetition / presence / frequency penalties over the last `penalty_last_n`
tokens -> top-k -> temperature -> softmax -> top-p -> min-p -> draw. The repetition penalty divides positive logits
and multiplies negative ones (CTRL / llama.cpp); presence and frequency penalties subtract (OpenAI).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from nanochat_cli.sampling_params import SamplingParams

__all__ = ["HistorySampler", "Sampler", "SamplingParams"]


class Sampler:
    """Draws tokens for one request; owns its RNG so concurrent requests with seeds stay reproducible."""

    def __init__(self, params: SamplingParams):
        params.validate()
        self.p = params
        self.rng = np.random.default_rng(params.seed)

    def apply_penalties(self, logits: np.ndarray, history: list[int]) -> np.ndarray:
        p = self.p
        if p.repeat_penalty == 1 and p.presence_penalty == 0 and p.frequency_penalty == 0:
            return logits
        recent = history if p.penalty_last_n < 0 else history[-p.penalty_last_n:] if p.penalty_last_n else []
        if not recent:
            return logits
        counts = Counter(recent)
        ids = np.fromiter(counts.keys(), dtype=np.int64)
        n = np.fromiter(counts.values(), dtype=np.float32)
        out = logits.astype(np.float32, copy=True)
        v = out[ids]
        if p.repeat_penalty != 1:
            v = np.where(v > 0, v / p.repeat_penalty, v * p.repeat_penalty)
        v = v - n * p.frequency_penalty - p.presence_penalty
        out[ids] = v
        return out

    def __call__(self, logits: np.ndarray, history: list[int]) -> int:
        p = self.p
        logits = self.apply_penalties(np.asarray(logits, dtype=np.float32), history)
        if p.temperature == 0 or p.top_k == 1:
            return int(np.argmax(logits))
        if 0 < p.top_k < logits.size:
            idx = np.argpartition(-logits, p.top_k - 1)[:p.top_k]
            z = logits[idx].astype(np.float64)
        else:
            idx = _WholeVocabulary()
            z = logits.astype(np.float64)
        top = z.max()
        if not np.isfinite(top):  # a +inf or NaN logit, or every candidate at -inf: no distribution to draw from
            return int(idx[np.argmax(np.where(np.isnan(z), -np.inf, z))])
        # subtract the max before dividing: z / T overflows to inf (and inf - inf = NaN) for a tiny temperature
        with np.errstate(over="ignore"):  # (z - top) / T -> -inf is the intended limit: probability 0
            probs = np.exp((z - top) / p.temperature)
        probs /= probs.sum()
        if p.top_p >= 1 and p.min_p == 0:  # nothing to cut: no need to rank the vocabulary
            return int(idx[self._draw(probs)])
        order = _ranked_prefix(probs, p.top_p, p.min_p)
        idx, probs = idx[order], probs[order]
        keep = probs.size
        if p.top_p < 1:
            keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
        if p.min_p > 0:
            keep = min(keep, int((probs >= p.min_p * probs[0]).sum()))
        keep = max(1, min(keep, probs.size))
        idx, probs = idx[:keep], probs[:keep] / probs[:keep].sum()
        return int(idx[self._draw(probs)])

    def _draw(self, probs: np.ndarray) -> int:
        """Inverse-CDF draw of one position by probs (non-negative, positive sum): one uniform from the request's
        RNG against the running sum. A zero-probability position is never drawn (the sum does not rise there, and
        the first position whose running sum exceeds u is taken). Generator.choice does the same after ~40 us
        of argument checks per call, a third of a sampled token's cost at V = 8192."""
        cdf = np.cumsum(probs)
        u = self.rng.random() * cdf[-1]
        return min(int(np.searchsorted(cdf, u, side="right")), probs.size - 1)


class HistorySampler:
    """A Sampler plus the token history its penalties look at (the prompt, then every sampled token): the
    `sample(logits)` a SequenceDecode calls (infer/decode.py). serve's test doubles bring their own."""

    def __init__(self, params: SamplingParams, prompt_ids: list[int]):
        self.sampler, self.history = Sampler(params), list(prompt_ids)

    def sample(self, logits: np.ndarray) -> int:
        token = self.sampler(logits, self.history)
        self.history.append(token)
        return token


class _WholeVocabulary:
    """idx[i] = i: the candidate positions when the whole vocabulary is a candidate (no arange + gather)."""

    def __getitem__(self, i):
        return i


_CANDIDATES = 256  # ranking this many tokens instead of the whole vocabulary is what makes top-p cheap


def _ranked_prefix(probs: np.ndarray, top_p: float, min_p: float) -> np.ndarray:
    """Positions of the most probable tokens, highest first and ties by position, long enough for top-p / min-p.

    Identical to the head of a full stable argsort: the candidates are every token at or above the
    _CANDIDATES-th largest probability (ties at the boundary included), so no token left out can rank before
    one kept. Falls back to the full sort when the candidates do not reach the top-p mass or the min-p count.
    """
    n = probs.size
    if n > _CANDIDATES:
        threshold = np.partition(probs, n - _CANDIDATES)[n - _CANDIDATES]
        cand = np.flatnonzero(probs >= threshold)
        order = cand[np.lexsort((cand, -probs[cand]))]
        # top-p needs the candidates' mass to pass top_p; without top-p, min-p alone must bound the count
        enough_mass = probs[order].sum() > top_p if top_p < 1 else min_p > 0
        enough_count = min_p <= 0 or (probs >= min_p * probs[order[0]]).sum() <= order.size
        if enough_mass and enough_count:
            return order
    return np.argsort(-probs, kind="stable")
