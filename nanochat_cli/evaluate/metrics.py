"""Evaluation metrics: unbiased pass@k, compile and pass rates, rustc error-code histogram.

pass@k is the unbiased estimator of Chen et al. (2021), in its numerically stable product form:
pass@k = 1 - prod_{i = n-c+1}^{n} (1 - k / i), which equals 1 - C(n-c, k) / C(n, k); it is 1 when
n - c < k (every draw of k samples contains a correct one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) is correct."""
    if not (0 <= c <= n) or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def ks_for(n: int) -> list[int]:
    """The k values reported for n samples per problem: 1, 5, 10, 20, 50, 100 where k <= n, and n itself."""
    ks = [k for k in (1, 5, 10, 20, 50, 100) if k <= n]
    if n not in ks:
        ks.append(n)
    return ks


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """pass@k averaged over problems, each given as (n, c); problems with fewer than k samples are skipped."""
    vals = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    return float(np.mean(vals)) if vals else float("nan")


def rate(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else float("nan")


def error_code_histogram(code_lists: Iterable[Iterable[str]]) -> dict[str, int]:
    """Counts of rustc error codes (E0308, E0382, ...) over samples, most frequent first."""
    counter: Counter[str] = Counter()
    for codes in code_lists:
        counter.update(codes)
    return dict(counter.most_common())
