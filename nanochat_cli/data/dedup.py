"""Exact and near-duplicate removal: sha256 of normalized text, then MinHash + LSH over word 5-shingles.

`near_duplicates(texts, threshold)` returns the indices to drop (a later copy of an earlier kept file).
The MinHash is vectorised with numpy: one (shingles x permutations) uint64 matrix per document.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"\w+|[^\w\s]")
NUM_PERM = 64
BANDS = 16  # 16 bands x 4 rows: a pair at Jaccard 0.8 shares a band with probability ~0.999, at 0.3 ~0.12
SHINGLE = 5
_MASK61 = np.uint64((1 << 61) - 1)


def _perm_params(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 61, NUM_PERM, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 1 << 61, NUM_PERM, dtype=np.uint64)
    return a, b


_A, _B = _perm_params()


def _shingle_hashes(text: str, vocab: dict[str, int]) -> np.ndarray:
    """uint64 hashes of consecutive SHINGLE-token windows (token ids from a shared growing vocabulary)."""
    ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in _WORD.findall(text)), dtype=np.uint64)
    if len(ids) == 0:
        return np.zeros(1, dtype=np.uint64)
    if len(ids) < SHINGLE:
        ids = np.pad(ids, (0, SHINGLE - len(ids)))
    h = np.zeros(len(ids) - SHINGLE + 1, dtype=np.uint64)
    for k in range(SHINGLE):  # polynomial rolling combination; uint64 wrap-around is the intended modulus
        h = h * np.uint64(1_000_003) + ids[k : len(ids) - SHINGLE + 1 + k] + np.uint64(1)
    return np.unique(h)


def minhash_signature(text: str, vocab: dict[str, int]) -> np.ndarray:
    """NUM_PERM minima of (a*h + b) mod 2^64, top 61 bits kept (universal hashing, uint64 arithmetic)."""
    h = _shingle_hashes(text, vocab)
    with np.errstate(over="ignore"):
        mixed = (h[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(3)
    return mixed.min(axis=0)


def near_duplicates(texts: list[str], threshold: float) -> set[int]:
    """Indices of texts whose estimated Jaccard similarity with an earlier kept text is >= threshold."""
    if threshold <= 0 or len(texts) < 2:
        return set()
    vocab: dict[str, int] = {}
    sigs = np.stack([minhash_signature(t, vocab) for t in texts])
    rows = NUM_PERM // BANDS
    drop: set[int] = set()
    buckets: dict[bytes, list[int]] = {}
    for i in range(len(texts)):
        candidates: set[int] = set()
        keys = [bytes([b]) + sigs[i, b * rows : (b + 1) * rows].tobytes() for b in range(BANDS)]
        for key in keys:
            candidates.update(buckets.get(key, ()))
        if any(float(np.mean(sigs[i] == sigs[j])) >= threshold for j in candidates):
            drop.add(i)
            continue  # only kept files go into the buckets, so chains of near-copies collapse to the first
        for key in keys:
            buckets.setdefault(key, []).append(i)
    return drop


def exact_key(normalized_text: str) -> str:
    return hashlib.sha256(normalized_text.encode("utf-8")).hexdigest()
