"""The float64 reference path of the native engine: `load_model(path, mix=numpy.float64)` or
`NativeModel(weights, mix=numpy.float64)`.

float64 sequence mixers, torch's own RMSNorm and SiLU (bit-identical to the model's) and numpy attention
reproduce TernaryLM under float64_mixing() to float rounding: the cross-checks of tests/infer/test_parity.py.
NativeModel loads this module only in that mode, so the runtime engine never imports torch.
"""

from __future__ import annotations

import numpy as np
import torch

from nanochat_cli.infer import layers
from nanochat_cli.infer.forward import Attention, FastOps, Segment
from nanochat_cli.infer.linear import Act


def rms_norm(x: np.ndarray, weight: np.ndarray | None, eps: float) -> np.ndarray:
    """x * rsqrt(mean(x^2) + eps) * w through torch's own reduction, bit-identical to the model: numpy sums in
    another order, and a last-bit difference moves the int8 rounding of the next BitLinear's input now and then
    (a 1e-3-sized change of the logits of a tiny random model). numpy (layers.rms_norm) is 4x faster per call."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    y = t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps)
    return (y if weight is None else y * torch.from_numpy(weight)).numpy()


def silu(x: np.ndarray) -> np.ndarray:
    """torch's x * sigmoid(x) (its vectorised exp differs from numpy's in the last bit)."""
    return torch.nn.functional.silu(torch.from_numpy(np.ascontiguousarray(x))).numpy()


class ReferenceOps(FastOps):
    """The reference mode's float operations: torch's RMSNorm before each quantization, torch's SiLU, and attention
    in numpy at the model's mixing precision (Attention.mix, float64)."""

    exact = True

    def act(self, x: np.ndarray, norm: np.ndarray | None, eps: float) -> Act:
        return Act(x, norm, eps, normalize=rms_norm)

    def rms_norm(self, x: np.ndarray, weight: np.ndarray | None, eps: float) -> np.ndarray:
        return rms_norm(x, weight, eps)

    def silu(self, x: np.ndarray) -> np.ndarray:
        return silu(x)

    def swiglu(self, gate_up, x: Act) -> np.ndarray:
        gate, up = gate_up.split(x)
        return silu(gate) * up

    def attend(self, attn: Attention, qkv: np.ndarray, segments: list[Segment], positions: np.ndarray,
               cache) -> np.ndarray:
        kc, vc = cache
        n, h, h_kv, d = qkv.shape[0], attn.h, attn.h_kv, attn.d
        cut = (h + h_kv) * d
        # q and k rotate together: one pass over (N, H + H_kv, D)
        qk = layers.apply_rope(qkv[:, :cut].reshape(n, h + h_kv, d), attn.cos[positions], attn.sin[positions])
        q, k = qk[:, :h], qk[:, h:]
        v = qkv[:, cut:].reshape(n, h_kv, d)
        out = np.empty((n, h * d), np.float32)
        for sg in segments:
            rows = slice(sg.row, sg.row + sg.length)
            end = sg.start + sg.length
            kc[sg.slot, :, sg.start:end] = k[rows].transpose(1, 0, 2)
            vc[sg.slot, :, sg.start:end] = v[rows].transpose(1, 0, 2)
            out[rows] = layers.causal_attention(q[rows], kc[sg.slot, :, :end], vc[sg.slot, :, :end], sg.start, attn.mix)
        return out


REFERENCE = ReferenceOps()
