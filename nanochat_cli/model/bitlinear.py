"""BitLinear: absmean ternary weights x per-token int8 activations (BitNet b1.58), in torch.

Train mode: fake quantization with straight-through estimators: y = linear(x~, W~) where
x~ = x + (dequant(quant(x)) - x).detach() and W~ = W + (t*s - W).detach(), so dL/dx = g W~ and dL/dW = g^T x~.
Eval mode: the integer contract of nanochat_cli.ternary.quant exactly (int8 x trit dot products accumulated
exactly, then w_scale per group summed in float32 in group order, then x_scale), bit-identical to
`reference_matmul`; on CPU its matmuls may run on bf16 units (exact for these integers: `_integer_matmuls`).
The quantizers here give bit-identical trits/scales/int8 to the numpy ones: the absmean is reduced in float64 and
rounded once to float32 on both sides, so numpy's and torch's different summation orders could only disagree if
their float64 sums (exact to ~1e-16) straddled a float32 rounding midpoint. Train and eval use the same torch
scale; `ternary_weights()` (the export path) runs numpy's `ternarize` itself.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nanochat_cli.ternary import check_group_size, ternarize
from nanochat_cli.ternary.constants import ACT_QMAX, DEFAULT_GROUP_SIZE


def _grouped(w: torch.Tensor, group_size: int) -> torch.Tensor:
    """(M, K) -> (M, K // G, G), or (1, 1, M*K) for one scale per tensor (the numpy layout)."""
    m, k = w.shape
    return w.reshape(1, 1, m * k) if group_size == 0 else w.reshape(m, k // group_size, group_size)


def ternarize_weight(w: torch.Tensor, group_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Absmean ternarization: trits as float32 (M, K) in {-1, 0, 1} and scales float32 (M, K//G) or (1, 1)."""
    w = w.detach().float()
    grouped = _grouped(w, group_size)
    scales = grouped.abs().to(torch.float64).mean(dim=-1).to(torch.float32)
    s = scales.unsqueeze(-1)
    # s == 0 (an all-zero group, or a mean that underflows float32) gives all-zero trits, as in numpy
    ratio = torch.where(s > 0, grouped / torch.where(s > 0, s, 1.0), 0.0)
    trits = ratio.round().clamp_(-1, 1)
    return trits.reshape(w.shape), scales


def dequantize_weight(trits: torch.Tensor, scales: torch.Tensor, group_size: int) -> torch.Tensor:
    """t * s as float32, the matrix the ternary model computes with."""
    return (_grouped(trits, group_size) * scales.unsqueeze(-1)).reshape(trits.shape)


def quantize_activations(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token int8: q (float32 holding integers in [-127, 127]) and scale (..., 1) = max|x| / 127."""
    x = x.detach().float()
    scale = x.abs().amax(dim=-1, keepdim=True) / ACT_QMAX
    q = torch.where(scale > 0, x / torch.where(scale > 0, scale, 1.0), 0.0)  # no data-dependent branch: compiles
    return q.round_().clamp_(-ACT_QMAX, ACT_QMAX), scale


def _exact_dtype(group_len: int) -> torch.dtype:
    # float32 sums of integers are exact while every partial sum stays below 2^24 (and TF32 keeps 127 exactly)
    return torch.float32 if ACT_QMAX * group_len < 2**24 else torch.float64


@contextmanager
def _integer_matmuls(device: torch.device):
    """Lets oneDNN run the float32 matmuls of the integer path on bf16 units (AMX / AVX512-BF16; ~4x on Sapphire
    Rapids). Exact: int8 values and trits are bf16 without rounding, oneDNN accumulates bf16 products in float32,
    and every partial sum is an integer below 2^24 (`_exact_dtype`). The switch is process-wide while it is on, so
    it is held only around these matmuls; other threads' float32 CPU matmuls in that window would run in bf16."""
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        yield
        return
    matmul = torch.backends.mkldnn.matmul
    before = matmul.fp32_precision
    matmul.fp32_precision = "bf16"
    try:
        yield
    finally:
        matmul.fp32_precision = before


def integer_linear(x: torch.Tensor, trits: torch.Tensor, scales: torch.Tensor, group_size: int) -> torch.Tensor:
    """y = W x per the integer contract; x (..., K) float, output float32 (..., M)."""
    m, k = trits.shape
    n_groups = check_group_size(k, group_size)
    width = k // n_groups
    q, x_scale = quantize_activations(x.reshape(-1, k))
    dtype = _exact_dtype(width)
    q, t = q.to(dtype), trits.to(dtype)
    with torch.autocast(q.device.type, enabled=False), _integer_matmuls(q.device):  # bf16 autocast would round
        if scales.shape == (1, 1):
            y = scales[0, 0] * (q @ t.T).to(torch.float32)
        else:
            # the same float32 operations in the same order as `reference_matmul` (0 + s_0 a_0, + s_1 a_1, ...),
            # done in place; one matmul per group, because each group's exact integer sums get their own scale.
            # (One bmm over the groups measured slower: it needs the groups copied out contiguous first.)
            group_scales = scales.T.contiguous()  # rows contiguous: a strided row makes each multiply ~3x slower
            y = torch.zeros(q.shape[0], m, dtype=torch.float32, device=q.device)
            for g in range(n_groups):
                cols = slice(g * width, (g + 1) * width)
                y.add_((q[:, cols] @ t[:, cols].T).to(torch.float32).mul_(group_scales[g]))  # exact integer sums
    return y.mul_(x_scale).reshape(*x.shape[:-1], m)


class BitLinear(nn.Module):
    """Linear layer without bias whose weight is ternary (absmean) and whose input is int8 per token.

    `ternary=False` makes it a plain float linear (the "float twin"); the state dict is the same.
    """

    def __init__(self, in_features: int, out_features: int, group_size: int = DEFAULT_GROUP_SIZE,
                 ternary: bool = True, init_std: float = 0.02):
        super().__init__()
        if ternary:
            check_group_size(in_features, group_size)
        self.in_features, self.out_features = in_features, out_features
        self.group_size, self.ternary, self.init_std = group_size, ternary, init_std
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=self.init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.ternary:
            return F.linear(x, self.weight)
        trits, scales = ternarize_weight(self.weight, self.group_size)
        if not self.training:
            return integer_linear(x, trits, scales, self.group_size)
        q, x_scale = quantize_activations(x)
        x_q = x + (q * x_scale - x).detach()
        w_q = self.weight + (dequantize_weight(trits, scales, self.group_size) - self.weight).detach()
        return F.linear(x_q, w_q)

    def ternary_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(trits int8 [out, in], scales float32) by the numpy contract on the float master weight (for export)."""
        return ternarize(self.weight.detach().float().cpu().numpy(), self.group_size)

    def extra_repr(self) -> str:
        kind = f"ternary, group_size={self.group_size}" if self.ternary else "float"
        return f"in_features={self.in_features}, out_features={self.out_features}, {kind}"


def scaled_init_std(init_std: float, n_layers: int) -> float:
    """Init std of projections that write into the residual stream (GPT-2's 1/sqrt(2 L))."""
    return init_std / math.sqrt(2 * n_layers)
