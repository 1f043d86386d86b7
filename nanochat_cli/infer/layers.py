"""The engine's float operations in numpy, mirroring nanochat_cli.model op for op (same formulas, same order).

RMSNorm, RoPE (rotate-half pairing, tables from float64 angles), SwiGLU / ReLU^2, causal GQA attention over a
cached prefix, the gated delta rule step, mHC-lite coefficients, and the C attention's Python face. `mix` is the
dtype of the sequence mixers and small gates (float32 for speed, float64 to match `float64_mixing()` in
cross-checks). The reference path's torch RMSNorm and SiLU, bit-identical to the model, are in reference.py.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels.native import native


def rms_norm(x: np.ndarray, weight: np.ndarray | None, eps: float) -> np.ndarray:
    """x * rsqrt(mean(x^2) + eps) * w (reference.rms_norm is torch's, bit-identical to the model)."""
    x = np.asarray(x)
    y = x * (1 / np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True) + x.dtype.type(eps)))
    return y if weight is None else y * weight


def silu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(x) (reference.silu is torch's: its vectorised exp differs from numpy's in the last bit)."""
    return x / (np.float32(1) + np.exp(-x))


def softplus(x: np.ndarray) -> np.ndarray:
    # torch's softplus (beta 1, threshold 20)
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def rope_tables(head_dim: int, length: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos, sin (length, head_dim/2) float32 for positions 0..length-1, angles in float64 (as the model does)."""
    inv_freq = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.arange(length, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """x (T, heads, head_dim) rotated by per-row tables cos/sin (T, head_dim/2)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return np.concatenate((x1 * c - x2 * s, x2 * c + x1 * s), axis=-1)


def causal_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, start: int, mix) -> np.ndarray:
    """q (T, H, D) at positions start..; k, v (H_kv, S, D) with S = start + T -> (T, H*D) float32.

    Query head h reads kv head h // (H / H_kv) (contiguous groups, as the model and llama.cpp do).
    """
    t, h, d = q.shape
    h_kv, s, _ = k.shape
    rep = h // h_kv
    qg = q.astype(mix, copy=False).transpose(1, 0, 2).reshape(h_kv, rep * t, d)  # (H_kv, rep*T, D)
    scores = np.matmul(qg, k.astype(mix, copy=False).transpose(0, 2, 1))  # (H_kv, rep*T, S)
    scores *= mix(1.0 / math.sqrt(d))
    scores = scores.reshape(h_kv, rep, t, s)
    if t > 1:
        visible = np.arange(s)[None, :] <= (start + np.arange(t))[:, None]
        scores = np.where(visible, scores, -np.inf)
    probs = softmax(scores)
    y = np.matmul(probs.reshape(h_kv, rep * t, s), v.astype(mix, copy=False))  # (H_kv, rep*T, D)
    return y.reshape(h, t, d).transpose(1, 0, 2).reshape(t, h * d).astype(np.float32, copy=False)


def causal_attention_c(q: np.ndarray, kc: np.ndarray, vc: np.ndarray, start: int, threads: int) -> np.ndarray:
    """Fast-mode attention in C (native/attention.c, float32): q (T, H, D); kc, vc one slot's whole cache (H_kv, ctx, D)."""
    ffi, lib = native()

    t, h, d = q.shape
    h_kv, ctx, _ = kc.shape
    q = np.ascontiguousarray(q, dtype=np.float32)
    out = np.empty((t, h * d), np.float32)
    fb = ffi.from_buffer
    rc = lib.attention_f32(fb("float[]", q), fb("float[]", kc), fb("float[]", vc), t, h, h_kv, d, ctx * d, start,
                           fb("float[]", out, require_writable=True), threads)
    if rc:
        raise MemoryError("attention scratch allocation failed")
    return out


def rope_attend_c(qkv: np.ndarray, h: int, h_kv: int, d: int, cos: np.ndarray, sin: np.ndarray, kc: np.ndarray,
                  vc: np.ndarray, start: int, threads: int) -> np.ndarray:
    """Fast mode, one call per layer and slot (native/attention.c): rotate the fused q/k/v rows (T, (H + 2 H_kv) * D),
    store k and v in the slot's cache kc, vc (H_kv, ctx, D) at positions start.., attend -> (T, H * D)."""
    ffi, lib = native()

    t = qkv.shape[0]
    if start + t > kc.shape[1]:
        raise NanochatError(f"positions up to {start + t} do not fit the cache of {kc.shape[1]}")
    qkv = np.ascontiguousarray(qkv, dtype=np.float32)
    qbuf = np.empty((t, h, d), np.float32)
    out = np.empty((t, h * d), np.float32)
    fb = ffi.from_buffer
    rc = lib.rope_attend_f32(fb("float[]", qkv), t, h, h_kv, d, fb("float[]", cos), fb("float[]", sin),
                             fb("float[]", kc, require_writable=True), fb("float[]", vc, require_writable=True),
                             kc.shape[1] * d, start, fb("float[]", qbuf, require_writable=True),
                             fb("float[]", out, require_writable=True), threads)
    if rc:
        raise MemoryError("attention scratch allocation failed")
    return out


def delta_rule_step(s, q, k, v, beta, g):
    """One gated delta rule step for all heads (any leading dims): s (..., Dk, Dv) -> (o (..., Dv), s)."""
    s = s * np.exp(g)[..., None, None]
    ks = np.einsum("...k,...kv->...v", k, s)
    delta = beta[..., None] * (v - ks)
    s = s + k[..., :, None] * delta[..., None, :]
    return np.einsum("...k,...kv->...v", q, s), s


def l2_normalize(x: np.ndarray) -> np.ndarray:
    # F.normalize: x / max(||x||, 1e-12)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


# ---- mHC-lite ----


def permutation_matrices(n: int) -> np.ndarray:
    """All n! permutation matrices (identity first, itertools order), as in nanochat_cli.model.mhc."""
    perms = list(itertools.permutations(range(n)))
    mats = np.zeros((len(perms), n, n), dtype=np.float32)
    for i, perm in enumerate(perms):
        mats[i, np.arange(n), list(perm)] = 1.0
    return mats


class MHCCoefficients:
    """pre (.., n), post (.., n), H_res (.., n, n) of one sublayer; static ones computed once at load."""

    def __init__(self, tensors: dict, prefix: str, n: int, dynamic: bool, eps: float, mix):
        self.n, self.eps, self.mix = n, eps, mix
        self.perms = permutation_matrices(n)
        self.pre_logits = tensors[prefix + ".pre_logits"]
        self.post_logits = tensors[prefix + ".post_logits"]
        # the network's first and last sublayers have no H_res (the model never trains one there)
        self.res_logits = tensors.get(prefix + ".res_logits")
        self.dynamic = dynamic
        if dynamic:
            self.dyn_proj_t = np.ascontiguousarray(tensors[prefix + ".dyn_proj"].T.astype(mix))
            self.alpha = tensors[prefix + ".dyn_gates"].astype(mix)
        else:
            self.static = self._finish(self.pre_logits, self.post_logits, self.res_logits)

    def _finish(self, pre, post, res):
        h_res = None
        if res is not None:
            h_res = np.einsum("...k,kij->...ij", softmax(res), self.perms.astype(res.dtype)).astype(np.float32)
        return sigmoid(pre).astype(np.float32), (2 * sigmoid(post)).astype(np.float32), h_res

    def __call__(self, streams: np.ndarray):
        if not self.dynamic:
            return self.static
        n, mix = self.n, self.mix
        flat = streams.reshape(streams.shape[0], -1).astype(mix)
        dyn = rms_norm(flat, None, self.eps) @ self.dyn_proj_t
        pre = self.pre_logits.astype(mix) + self.alpha[0] * dyn[:, :n]
        post = self.post_logits.astype(mix) + self.alpha[1] * dyn[:, n:2 * n]
        res = None if self.res_logits is None else self.res_logits.astype(mix) + self.alpha[2] * dyn[:, 2 * n:]
        return self._finish(pre, post, res)


def mhc_read(streams: np.ndarray, coeffs) -> np.ndarray:
    """h = sum_i pre_i X_i for streams (N, n, d)."""
    pre = coeffs[0]
    return np.einsum("...i,...id->...d", pre, streams) if pre.ndim == 2 else np.einsum("i,nid->nd", pre, streams)


def mhc_write(streams: np.ndarray, y: np.ndarray, coeffs) -> np.ndarray:
    """H_res X + post^T y."""
    _, post, h_res = coeffs
    mixed = streams if h_res is None else np.matmul(h_res, streams)
    return mixed + post[..., :, None] * y[:, None, :]
