"""Absmean ternarization of weights, per-token int8 quantization of activations, and the integer reference GEMM.

This file is the numeric contract every implementation (torch, C, CUDA) is tested against:
  weights:      s = float32(mean(|w|) in float64) over a group; t = clamp(round_half_even(w / s), -1, 1)
  activations:  scale = float32(max|x| / 127) per row; q = clamp(round_half_even(x / scale), -127, 127)
  y = W x:      acc[m, g] = sum_k t[m, k] * q[k] (exact integers); y[m] = x_scale * sum_g (s[m, g] * acc[m, g]),
                accumulated in float32 in group order.
"""

from __future__ import annotations

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import ACT_QMAX


def check_group_size(k: int, group_size: int) -> int:
    """Validate a group size for K input columns and return the number of groups (1 for per-tensor)."""
    if group_size == 0:
        return 1
    if group_size < 0 or group_size % 4 or k % group_size:
        raise NanochatError(
            f"group size {group_size} does not fit {k} input columns: it must be 0 (per tensor) "
            f"or a positive multiple of 4 that divides {k}"
        )
    return k // group_size


def _grouped(w: np.ndarray, group_size: int) -> np.ndarray:
    """View a (M, K) matrix as (M, n_groups, G), or (1, 1, M*K) for a per-tensor scale."""
    m, k = w.shape
    if group_size == 0:
        return w.reshape(1, 1, m * k)
    return w.reshape(m, k // group_size, group_size)


def absmean_scales(w: np.ndarray, group_size: int) -> np.ndarray:
    """Scales s = mean(|w|) per group, reduced in float64 and rounded once to float32 (order-independent)."""
    w = np.asarray(w, dtype=np.float32)
    check_group_size(w.shape[1], group_size)
    return np.abs(_grouped(w, group_size)).mean(axis=-1, dtype=np.float64).astype(np.float32)


def ternarize(w: np.ndarray, group_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Ternarize a float (M, K) matrix: returns trits int8 (M, K) and scales float32, (M, K//G) or (1, 1)."""
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 2:
        raise NanochatError(f"expected a 2-D weight matrix, got shape {w.shape}")
    if not np.isfinite(w).all():
        raise NanochatError("weights contain NaN or Inf; fix the source checkpoint before quantizing")
    scales = absmean_scales(w, group_size)
    grouped = _grouped(w, group_size)
    s = scales[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        # a group whose scale is 0 (all zeros, or so tiny its mean underflows float32) gets all-zero trits
        ratio = np.where(s > 0, grouped / s, np.float32(0))
    trits = np.clip(np.rint(ratio), -1, 1).astype(np.int8)
    return trits.reshape(w.shape), scales


def dequantize(trits: np.ndarray, scales: np.ndarray, group_size: int) -> np.ndarray:
    """t * s as float32, the matrix the trained model actually uses."""
    trits = np.asarray(trits)
    out = _grouped(trits.astype(np.float32), group_size) * np.asarray(scales, dtype=np.float32)[..., None]
    return out.reshape(trits.shape)


def latent_weights(trits: np.ndarray, scales: np.ndarray, group_size: int) -> np.ndarray:
    """A float32 (M, K) matrix that `ternarize` maps back to exactly these trits and scales: the inverse of
    absmean ternarization, for starting training from a ternary model file (the float weights it came from are not
    in the file). In a group of n nonzero trits out of N, every nonzero entry is t * s * N / n except the first,
    which takes up the float32 rounding so that the float64 mean of |w| rounds to s exactly; each |w| / s is then
    at least about 1 and rounds to the trit. An all-zero group is all zeros (its scale, never used, becomes 0)."""
    t = np.asarray(trits, dtype=np.int8)
    check_group_size(t.shape[1], group_size)
    grouped = _grouped(t, group_size)
    n_groups = grouped.shape[0] * grouped.shape[1]
    s = np.asarray(scales, dtype=np.float32).reshape(-1).astype(np.float64)
    if s.size != n_groups:
        raise NanochatError(f"{s.size} scales for {n_groups} groups of a {t.shape} matrix")
    if not (np.isfinite(s).all() and (s >= 0).all()):
        raise NanochatError("ternary scales must be finite and non-negative")
    signs = grouped.reshape(n_groups, -1).astype(np.float32)
    width = signs.shape[1]
    nnz = np.count_nonzero(signs, axis=1).astype(np.float64)
    live = nnz > 0
    target = s * width  # the float64 sum of |w| whose mean is s (exact while width < 2^29: s has 24 bits)
    rest = np.where(live, np.float32(target / np.maximum(nnz, 1)).astype(np.float64), 0.0)
    first = np.float32(np.where(live, target - (nnz - 1) * rest, 0.0))
    # float32(first) may move the mean by a part of an ulp of s: walk it a few ulps until the mean is s again
    # (each step moves the mean by ulp(first) / width, under an ulp of s when more than two trits are nonzero;
    # with one or two over a power-of-two width the sum is already exact and no step is needed)
    for _ in range(64):
        mean = np.float32(((nnz - 1) * rest + first.astype(np.float64)) / width)
        off = live & (mean != np.float32(s))
        if not off.any():
            break
        toward = np.where(mean[off] < np.float32(s[off]), np.inf, -np.inf).astype(np.float32)
        first[off] = np.nextafter(first[off], toward)
    else:
        raise NanochatError("could not find float weights that ternarize to these scales exactly")
    magnitude = np.broadcast_to(rest.astype(np.float32)[:, None], signs.shape).copy()
    lead = np.argmax(signs != 0, axis=1)
    magnitude[np.arange(n_groups), lead] = np.where(live, first, magnitude[np.arange(n_groups), lead])
    return (signs * magnitude).reshape(t.shape)


def quantize_activations(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row int8 quantization of a (N, K) float array: returns q int8 (N, K) and scale float32 (N,).

    scale = max|x| / 127 (0 for an all-zero row, whose q is all 0); q * scale reconstructs x to within scale / 2.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if not np.isfinite(x).all():
        raise NanochatError("activations contain NaN or Inf")
    scale = (np.abs(x).max(axis=-1) / np.float32(ACT_QMAX)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(scale[:, None] > 0, x / scale[:, None], 0.0)
    q = np.clip(np.rint(q), -ACT_QMAX, ACT_QMAX).astype(np.int8)
    return q, scale


def integer_accumulators(trits: np.ndarray, q: np.ndarray, group_size: int) -> np.ndarray:
    """Exact per-group dot products acc[n, m, g] = sum_{k in g} t[m, k] * q[n, k] as int32."""
    m, k = trits.shape
    n_groups = check_group_size(k, group_size)
    g = k // n_groups
    t = trits.astype(np.int32).reshape(m, n_groups, g)
    qq = np.asarray(q).astype(np.int32).reshape(-1, n_groups, g)
    return np.einsum("mgk,ngk->nmg", t, qq).astype(np.int32)


def reference_matmul(
    trits: np.ndarray, scales: np.ndarray, group_size: int, q: np.ndarray, x_scale: np.ndarray
) -> np.ndarray:
    """y[n, m] per the contract: float32, groups accumulated in order. The specification, not the fast path."""
    acc = integer_accumulators(trits, q, group_size)
    n, m, n_groups = acc.shape
    s = np.asarray(scales, dtype=np.float32)
    s = np.broadcast_to(s, (m, n_groups)) if s.shape == (1, 1) else s
    y = np.zeros((n, m), dtype=np.float32)
    for g in range(n_groups):  # group order fixes the float32 rounding the kernels must reproduce
        y += s[None, :, g] * acc[:, :, g].astype(np.float32)
    return (np.asarray(x_scale, dtype=np.float32)[:, None] * y).astype(np.float32)
