"""Token sampling: penalties, temperature, top-k, top-p, min-p, seeded RNG per request. Greedy when temperature is 0.

Order (llama.cpp's default chain): repetition / presence / frequency penalties over the last `penalty_last_n`
tokens -> top-k -> temperature -> softmax -> top-p -> min-p -> draw. The repetition penalty divides positive logits
and multiplies negative ones (CTRL / llama.cpp); presence and frequency penalties subtract (OpenAI).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from nanochat_cli.errors import NanochatError


@dataclass
class SamplingParams:
    temperature: float = 0.8
    """0 = greedy (argmax)."""
    top_k: int = 0
    """Keep the k most likely tokens; 0 = all."""
    top_p: float = 1.0
    """Nucleus: keep the smallest set of tokens whose probability reaches top_p; 1 = off."""
    min_p: float = 0.0
    """Drop tokens less likely than min_p times the most likely one; 0 = off."""
    repeat_penalty: float = 1.0
    """> 1 discourages tokens seen in the last penalty_last_n tokens; 1 = off."""
    presence_penalty: float = 0.0
    """Subtracted from the logit of every token seen (OpenAI semantics)."""
    frequency_penalty: float = 0.0
    """Subtracted once per occurrence of a seen token (OpenAI semantics)."""
    penalty_last_n: int = 64
    """How many recent tokens the penalties look at; -1 = all (prompt included)."""
    seed: int | None = None
    """RNG seed; None = nondeterministic."""
    max_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    """Generation stops before the first occurrence of any of these strings (not included in the output)."""
    token_healing: bool = True
    """Back off the prompt's last tokens and make the first sampled tokens re-spell them (infer/healing.py)."""

    def validate(self) -> None:
        checks = [
            (self.temperature >= 0, "temperature must be >= 0"),
            (self.top_k >= 0, "top_k must be >= 0"),
            (0 < self.top_p <= 1, "top_p must be in (0, 1]"),
            (0 <= self.min_p <= 1, "min_p must be in [0, 1]"),
            (self.repeat_penalty > 0, "repeat_penalty must be > 0"),
            (-2 <= self.presence_penalty <= 2, "presence_penalty must be in [-2, 2]"),
            (-2 <= self.frequency_penalty <= 2, "frequency_penalty must be in [-2, 2]"),
            (self.max_tokens >= 0, "max_tokens must be >= 0"),
            (self.seed is None or self.seed >= 0, f"seed must be >= 0 (numpy seeds are non-negative), got {self.seed}"),
            (all(isinstance(s, str) and s for s in self.stop), "stop strings must be non-empty"),
        ]
        for ok, why in checks:
            if not ok:
                raise NanochatError(f"sampling: {why}")


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
