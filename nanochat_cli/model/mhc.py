"""mHC-lite residual connections (arXiv 2601.05732): n residual streams mixed by an exactly doubly stochastic matrix.

For one sublayer F with streams X (n x d) per token:
    h      = sum_i pre_i X_i                       pre_i  = sigmoid(pre_logit_i)
    X'     = H_res X + post^T F(h)                 post_i = 2 sigmoid(post_logit_i)
    H_res  = sum_k a_k P_k,  a = softmax(res_logits) over the n! permutation matrices P_k (P_0 = identity)
A convex combination of permutation matrices is doubly stochastic by construction (Birkhoff), so no Sinkhorn
iterations and a spectral norm <= 1. Optional dynamic coefficients (mhc_dynamic): each logit vector gets
alpha * (rmsnorm(vec X) W) added (rmsnorm without weight), with alpha (one scalar per logit vector) set to 0.
Init: the embedding is copied into every stream and the model reads their mean at the end; pre favours stream
(sublayer index mod n) with weights summing to 1, post = 1, a_identity ~ 0.95. With identical streams every
doubly stochastic H_res is a no-op and RMSNorm ignores the scale of h, so the initial network computes a plain
residual network (up to RMSNorm's eps and float rounding).
n = 1 has no parameters and is exactly x + F(x). The network's first and last sublayers have no H_res (nor a res
part of dyn_proj), because there it could never receive a gradient: the first sublayer's streams are identical
copies of the embedding, on which every doubly stochastic matrix is the identity, and after the last sublayer
only the mean of the streams is read, which a doubly stochastic matrix preserves.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.model.precision import gate_linear, mixing_dtype


def permutation_matrices(n: int) -> torch.Tensor:
    """All n! permutation matrices (n!, n, n), identity first (itertools order), float32."""
    perms = list(itertools.permutations(range(n)))
    mats = torch.zeros(len(perms), n, n)
    for k, perm in enumerate(perms):
        mats[k, torch.arange(n), torch.tensor(perm)] = 1.0
    return mats


def mhc_residual_matrix(res_logits: torch.Tensor, perms: torch.Tensor) -> torch.Tensor:
    """H_res = sum_k softmax(res_logits)_k P_k for logits (..., n!) -> (..., n, n), in the logits' dtype."""
    a = torch.softmax(res_logits, dim=-1)
    return torch.einsum("...k,kij->...ij", a, perms.to(a.dtype))


class MHCResidual(nn.Module):
    """The residual connection of one sublayer over streams (B, T, n, d): read() before F, write() after it."""

    def __init__(self, n: int, d_model: int, dynamic: bool, sublayer_index: int, eps: float, init_std: float = 0.02,
                 mixes: bool = True):
        super().__init__()
        self.n, self.dynamic, self.eps = n, dynamic and n > 1, eps
        self.mixes = mixes and n > 1  # False for the network's first and last sublayer (see the module docstring)
        if n == 1:
            return
        n_perms = math.factorial(n) if self.mixes else 0
        if self.mixes:
            self.register_buffer("perms", permutation_matrices(n), persistent=False)
            res = torch.zeros(n_perms)
            res[0] = math.log(n_perms - 1) + 3.0  # identity gets softmax weight e^3 / (1 + e^3) ~ 0.95
            self.res_logits = nn.Parameter(res)
        # each sublayer mostly reads its own stream (breaks the streams' symmetry); the pre weights sum to 1
        pre = torch.full((n,), -3.0)
        favoured = 1.0 - (n - 1) * torch.sigmoid(torch.tensor(-3.0))
        pre[sublayer_index % n] = torch.log(favoured / (1 - favoured))
        self.pre_logits = nn.Parameter(pre)
        self.post_logits = nn.Parameter(torch.zeros(n))  # 2 sigmoid(0) = 1
        if self.dynamic:
            self.dyn_proj = nn.Parameter(torch.randn(2 * n + n_perms, n * d_model) * init_std)
            self.dyn_gates = nn.Parameter(torch.zeros(3 if self.mixes else 2))  # alpha for pre, post, res

    def coefficients(self, streams: torch.Tensor):
        """(pre (…, n), post (…, n), H_res (…, n, n) or None) in float32; static ones have no batch dimensions."""
        if self.n == 1:
            return None
        n = self.n
        pre, post = self.pre_logits, self.post_logits
        res = self.res_logits if self.mixes else None
        if self.dynamic:
            dtype = mixing_dtype()
            flat = streams.flatten(-2).to(dtype)
            dyn = gate_linear(F.rms_norm(flat, (flat.shape[-1],), eps=self.eps), self.dyn_proj)
            alpha = self.dyn_gates.to(dtype)
            pre = pre.to(dtype) + alpha[0] * dyn[..., :n]
            post = post.to(dtype) + alpha[1] * dyn[..., n:2 * n]
            if self.mixes:
                res = res.to(dtype) + alpha[2] * dyn[..., 2 * n:]
        h_res = mhc_residual_matrix(res, self.perms).float() if self.mixes else None
        return torch.sigmoid(pre).float(), (2 * torch.sigmoid(post)).float(), h_res

    def read(self, streams: torch.Tensor, coeffs) -> torch.Tensor:
        """The sublayer input h (B, T, d)."""
        if self.n == 1:
            return streams[:, :, 0]
        pre = coeffs[0]  # einsum, not a batched matmul: one GEMM instead of B*T tiny ones (~2-4x faster on CPU)
        return torch.einsum("i,btid->btd" if pre.ndim == 1 else "bti,btid->btd", pre, streams)

    def write(self, streams: torch.Tensor, y: torch.Tensor, coeffs) -> torch.Tensor:
        """New streams H_res X + post^T y."""
        if self.n == 1:
            return (streams[:, :, 0] + y).unsqueeze(2)
        _, post, h_res = coeffs
        if h_res is None:
            mixed = streams
        else:
            mixed = torch.einsum("ij,btjd->btid" if h_res.ndim == 2 else "btij,btjd->btid", h_res, streams)
        return mixed + post.unsqueeze(-1) * y.unsqueeze(-2)
