"""Token sampling: penalties, temperature, top-k, top-p, min-p, seeded RNG per request. Greedy when temperature is 0.
A decode batch's rows are drawn together (`draw_tokens`, `sample_each`); a single row is a batch of one.

The settings are SamplingParams (nanochat_cli/sampling_params.py, the one type generate, serve, eval and rl share).

Order (llama.cpp's default chain): repetition / presence / frequency penalties over the last `penalty_last_n`
tokens -> top-k -> temperature -> softmax -> top-p -> min-p -> draw. The repetition penalty divides positive logits
and multiplies negative ones (CTRL / llama.cpp); presence and frequency penalties subtract (OpenAI).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from nanochat_cli.sampling_params import SamplingParams

__all__ = ["HistorySampler", "Sampler", "SamplingParams", "draw_tokens", "sample_each"]


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
        return draw_tokens([self], np.asarray(logits, dtype=np.float32)[None], [history])[0]


def draw_tokens(samplers: Sequence[Sampler], logits: np.ndarray, histories: Sequence[list[int]]) -> list[int]:
    """One token for each row of logits (B, V): row i by samplers[i]'s settings and RNG, after its penalties over
    histories[i]. Rows that share settings (an eval or RL batch: all but the seed) go through the passes over the
    vocabulary together, as (rows, V) arrays; each row's token is the one the row alone would give, bit for bit
    (numpy's row-wise reductions, exp and argpartition are those of a 1-D array), and each sampled row takes one
    uniform from its own RNG, so a seeded request draws the same tokens whatever else shares its batch, and the
    same as before sampling was batched (tests/infer/test_decode_batch.py holds it to that sampler)."""
    logits = np.asarray(logits, dtype=np.float32)
    out, penalized = [0] * len(samplers), False
    groups: dict[tuple, list[int]] = {}
    for i, (s, h) in enumerate(zip(samplers, histories)):
        given = logits[i]
        row = s.apply_penalties(given, h)
        if row is not given:
            if not penalized:  # the caller's logits stay as they are
                logits, penalized = logits.copy(), True
            logits[i] = row
        p = s.p
        key = ("greedy",) if p.temperature == 0 or p.top_k == 1 else (p.temperature, p.top_k, p.top_p, p.min_p)
        groups.setdefault(key, []).append(i)
    for key, rows in groups.items():
        group = logits[rows] if len(rows) < logits.shape[0] else logits
        if key[0] == "greedy":
            tokens = np.argmax(group, axis=1)
        else:
            tokens = _draw_group(samplers[rows[0]].p, group, [samplers[i].rng for i in rows])
        for i, t in zip(rows, tokens.tolist()):
            out[i] = t
    return out


_ROWS_AT_ONCE = 8  # rows per pass: 8 float64 rows of V = 8192 (512 KiB) stay in L2 across the passes over them,
# where a whole batch of 64 (4 MiB) would go to L3 and back on each of them


def _draw_group(p: SamplingParams, logits: np.ndarray, rngs: list) -> np.ndarray:
    """Tokens for rows of float32 logits (G, V) under one temperature / top-k / top-p / min-p, one RNG per row."""
    tokens = np.empty(logits.shape[0], np.int64)
    for a in range(0, logits.shape[0], _ROWS_AT_ONCE):
        tokens[a:a + _ROWS_AT_ONCE] = _draw_rows(p, logits[a:a + _ROWS_AT_ONCE], rngs[a:a + _ROWS_AT_ONCE])
    return tokens


def _draw_rows(p: SamplingParams, logits: np.ndarray, rngs: list) -> np.ndarray:
    """_draw_group for a few rows: top-k, softmax in float64 (the passes over V, for all rows at once), the draws."""
    g, v = logits.shape
    if 0 < p.top_k < v:
        idx = np.argpartition(-logits, p.top_k - 1, axis=1)[:, :p.top_k]
        z = np.take_along_axis(logits, idx, axis=1).astype(np.float64)
    else:
        idx, z = None, logits.astype(np.float64)
    top = z.max(axis=1)
    tokens = np.empty(g, np.int64)
    bad = ~np.isfinite(top)  # a +inf or NaN logit, or every candidate at -inf: no distribution to draw from
    for i in np.flatnonzero(bad):
        tokens[i] = np.argmax(np.where(np.isnan(z[i]), -np.inf, z[i]))
    # subtract the max before dividing: z / T overflows to inf (and inf - inf = NaN) for a tiny temperature;
    # in place, the same operations as out-of-place ones, without three (G, V) temporaries
    with np.errstate(over="ignore", invalid="ignore"):  # (z - top) / T -> -inf is the intended limit: probability 0
        z -= top[:, None]
        z /= p.temperature
        e = np.exp(z, out=z)
    total = e.sum(axis=1)
    for i in np.flatnonzero(~bad):
        if p.top_p >= 1 and p.min_p == 0:  # nothing to cut: no need to rank the vocabulary
            tokens[i] = _draw(e[i] / total[i], rngs[i])
        else:
            tokens[i] = _draw_nucleus(e[i], total[i], p.top_p, p.min_p, rngs[i])
    return tokens if idx is None else np.take_along_axis(idx, tokens[:, None], axis=1)[:, 0]


def _draw(probs: np.ndarray, rng) -> int:
    """Inverse-CDF draw of one position by probs (non-negative, positive sum): one uniform from the request's
    RNG against the running sum. A zero-probability position is never drawn (the sum does not rise there, and
    the first position whose running sum exceeds u is taken). Generator.choice does the same after ~40 us
    of argument checks per call, a third of a sampled token's cost at V = 8192."""
    cdf = np.cumsum(probs)
    u = rng.random() * cdf[-1]
    return min(int(np.searchsorted(cdf, u, side="right")), probs.size - 1)


def _draw_nucleus(e: np.ndarray, total: float, top_p: float, min_p: float, rng) -> int:
    """Top-p / min-p from one row's unnormalized probabilities e (their sum `total`): the most probable tokens,
    highest first and ties by position (the head of a full stable sort), cut to the nucleus, renormalized, drawn."""
    n = e.size
    if min_p == 0 and n > _CANDIDATES:
        # Top-p alone needs only the tokens above `cut`: those below it hold less than (1 - top_p) / 2 of the
        # mass together, so the nucleus lies among the others -- at low temperature a handful, found by one
        # comparison, where ranking _CANDIDATES tokens took a partition of the whole vocabulary.
        cut = total * ((1 - top_p) / (2 * n))
        cand = np.flatnonzero(e >= cut)
        if cand.size <= _CANDIDATES:
            probs = e[cand] / total
            order = np.lexsort((cand, -probs))
            probs = probs[order]
            keep = int(np.searchsorted(np.cumsum(probs), top_p) + 1)
            # a token left out has e < cut, so its probability is at most cut / total (division rounds
            # monotonically): when the nucleus ends inside the set and above that, no token left out can rank
            # inside it, and the set's head is the full sort's, to the bit
            if keep <= probs.size and probs[keep - 1] > cut / total:
                head = probs[:keep]
                return int(cand[order[_draw(head / head.sum(), rng)]])
    probs = e / total
    order = _ranked_prefix(probs, top_p, min_p)
    probs = probs[order]
    keep = probs.size
    if top_p < 1:
        keep = int(np.searchsorted(np.cumsum(probs), top_p) + 1)
    if min_p > 0:
        keep = min(keep, int((probs >= min_p * probs[0]).sum()))
    keep = max(1, min(keep, probs.size))
    return int(order[_draw(probs[:keep] / probs[:keep].sum(), rng)])


class HistorySampler:
    """A Sampler plus the token history its penalties look at (the prompt, then every sampled token): the
    `sample(logits)` a SequenceDecode calls (infer/decode.py). serve's test doubles bring their own."""

    def __init__(self, params: SamplingParams, prompt_ids: list[int]):
        self.sampler, self.history = Sampler(params), list(prompt_ids)

    def sample(self, logits: np.ndarray) -> int:
        return sample_each([self], np.asarray(logits)[None])[0]


def sample_each(samplers: Sequence, logits: np.ndarray) -> list[int]:
    """samplers[i].sample(logits[i]) for every row of logits (B, V): the HistorySamplers' rows in one draw_tokens
    call (each token the one its row alone gives), any other TokenSampler (serve's test doubles) by itself."""
    out: list[int] = [0] * len(samplers)
    ours = [i for i, s in enumerate(samplers) if isinstance(s, HistorySampler)]
    if ours:
        rows = logits if len(ours) == len(samplers) else np.asarray(logits)[ours]
        tokens = draw_tokens([samplers[i].sampler for i in ours], rows, [samplers[i].history for i in ours])
        for i, t in zip(ours, tokens):
            samplers[i].history.append(t)
            out[i] = t
    for i, s in enumerate(samplers):
        if not isinstance(s, HistorySampler):
            out[i] = s.sample(logits[i])
    return out


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
