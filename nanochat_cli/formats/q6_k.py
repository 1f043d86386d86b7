"""ggml's Q6_K block format (256 weights: 6-bit values, int8 scale per 16, fp16 super-scale), numpy encoder.

llama.cpp stores a BitNet model's tied token embedding / output head as Q6_K; gguf-py can decode Q6_K but not
encode it. This is a plain absmax encoder (not ggml's error-minimising search): valid blocks that
`gguf.quants.dequantize` and llama.cpp read; every value is within half a step (sub-scale rounded up, never clipped).
Layout per block: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d (fp16) = 210 bytes;
weight h*128 + j*32 + l (h < 2, j < 4, l < 32) is nibble (j // 2) of ql[h*64 + (j % 2)*32 + l] and
bits 2j..2j+1 of qh[h*32 + l]; its scale is scales[(h*128 + j*32 + l) // 16].
"""

from __future__ import annotations

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import QK_K

Q6_K_BLOCK_BYTES = 210


def encode_q6_k(x: np.ndarray) -> np.ndarray:
    """Q6_K blocks of a float (M, K) matrix, K a multiple of 256: uint8 (M, K // 256 * 210)."""
    x = np.asarray(x, dtype=np.float32)
    m, k = x.shape
    if k % QK_K:
        raise NanochatError(f"Q6_K needs rows that are multiples of {QK_K}; this matrix has {k} columns")
    blocks = x.reshape(-1, QK_K)
    sub = blocks.reshape(-1, 16, 16)
    sub_scale = np.abs(sub).max(axis=2) / 31  # values in [-31, 31] at this scale
    top = sub_scale.max(axis=1)
    d = (top / 127).astype(np.float16)
    low = d.astype(np.float32) * 127 < top  # fp16 rounded d down: step it up so every scale code stays <= 127
    d[low] = np.nextafter(d[low], np.float16(np.inf))
    d32 = d.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        # rounding the sub-scale up keeps every value within [-31, 31] steps: no clipping
        sc = np.where(d32[:, None] > 0, np.ceil(sub_scale / d32[:, None]), 0)
    sc = np.clip(sc, 0, 127).astype(np.int8)
    step = d32[:, None] * sc.astype(np.float32)  # (B, 16)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(step[:, :, None] > 0, np.rint(sub / step[:, :, None]), 0)
    u = (np.clip(q, -32, 31) + 32).astype(np.uint8).reshape(-1, 2, 4, 32)  # (B, half, j, l)
    lo, hi = u & 0xF, u >> 4
    ql = np.concatenate([lo[:, :, 0] | (lo[:, :, 2] << 4), lo[:, :, 1] | (lo[:, :, 3] << 4)], axis=2)  # (B, 2, 64)
    qh = hi[:, :, 0] | (hi[:, :, 1] << 2) | (hi[:, :, 2] << 4) | (hi[:, :, 3] << 6)  # (B, 2, 32)
    out = np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.view(np.uint8), d.view(np.uint8).reshape(-1, 2)],
                         axis=1)
    return out.reshape(m, k // QK_K * Q6_K_BLOCK_BYTES)


class Q6KRows:
    """A Q6_K matrix kept in its blocks, dequantized a few rows at a time: a tied embedding whose head runs on
    the same blocks (Q6KLinear) never needs the whole float32 copy (1.3 GB for a 128256 x 2560 vocabulary, and
    seconds of dequantization at load). Rows come out exactly as gguf-py dequantizes the whole matrix (blocks are
    independent). `numpy.asarray(rows)` materializes every row."""

    dtype = np.dtype(np.float32)

    def __init__(self, blocks: np.ndarray, shape: tuple[int, int]):
        m, k = shape
        if k % QK_K or blocks.shape != (m, k // QK_K * Q6_K_BLOCK_BYTES):
            raise NanochatError(f"Q6_K rows: {blocks.shape} bytes do not hold a {m} x {k} matrix")
        self.blocks, self.shape = blocks, (m, k)

    def __getitem__(self, rows) -> np.ndarray:
        import gguf

        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = gguf.quants.dequantize(self.blocks[rows], gguf.GGMLQuantizationType.Q6_K)
        return out.reshape(rows.size, self.shape[1]).astype(np.float32, copy=False)

    def __array__(self, dtype=None, copy=None):
        return self[np.arange(self.shape[0])].astype(dtype or np.float32, copy=False)
