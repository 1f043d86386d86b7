"""llama.cpp's TQ2_0 and TQ1_0 block formats (QK_K = 256 weights per block, fp16 scale), numpy encode/decode.

Byte-identical to `gguf.quants.quantize(t * s, TQ2_0 / TQ1_0)` for ternary weights t * s whose scale s is
constant over each 256-block (tests hold the two against each other). Both store trit + 1 in {0, 1, 2}.
TQ2_0: 64 bytes of 2-bit digits, byte j of half h holding weights h*128 + l*32 + j at bits 2l; then d.
TQ1_0: base-3 digits five per byte (weights 81, 27, 9, 3, 1), stored as ceil(v * 256 / 243) so that the
digit i of byte b is ((b * 3^i mod 256) * 3) >> 8: 32 bytes for weights 0-159, 16 for 160-239, 4 bytes of four
digits for 240-255; then d.
"""

from __future__ import annotations

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import QK_K, TQ1_0_BLOCK_BYTES, TQ2_0_BLOCK_BYTES
from nanochat_cli.ternary.quant import check_group_size

_SHIFTS4 = np.array([0, 2, 4, 6], dtype=np.uint8)
_POW3_DESC5 = np.array([81, 27, 9, 3, 1], dtype=np.uint16)
_POW3_DESC4 = np.array([81, 27, 9, 3], dtype=np.uint16)
_POW3_ASC5 = np.array([1, 3, 9, 27, 81], dtype=np.uint8)
_POW3_ASC4 = np.array([1, 3, 9, 27], dtype=np.uint8)


def block_scales(scales: np.ndarray, group_size: int, shape: tuple[int, int]) -> np.ndarray:
    """Expand per-group (or per-tensor) scales to one scale per 256-weight block: (M, K // 256)."""
    m, k = shape
    if k % QK_K:
        raise NanochatError(f"TQ1_0/TQ2_0 need rows that are multiples of {QK_K} weights; this matrix has {k} columns")
    check_group_size(k, group_size)
    scales = np.asarray(scales, dtype=np.float32)
    if group_size == 0:
        return np.full((m, k // QK_K), scales.reshape(-1)[0], dtype=np.float32)
    if group_size % QK_K:
        raise NanochatError(
            f"TQ1_0/TQ2_0 keep one scale per {QK_K}-weight block; group size {group_size} changes the scale inside "
            f"a block: quantize with --group-size 0 (per tensor) or a multiple of {QK_K}"
        )
    return np.repeat(scales, group_size // QK_K, axis=1)


def _digits_and_d(trits: np.ndarray, bscales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, k = trits.shape
    t = np.asarray(trits, dtype=np.int8).reshape(m * k // QK_K, QK_K)
    s = np.asarray(bscales, dtype=np.float32).reshape(-1)
    # gguf derives d from max|t * s|: s where the block has a nonzero trit, 0 otherwise
    d = np.where((t != 0).any(axis=1), s, np.float32(0)).astype(np.float16)
    if not np.isfinite(d).all():
        raise NanochatError("a weight scale is outside float16 range, which TQ1_0/TQ2_0 store; rescale the model")
    return (t + 1).astype(np.uint8), d.view(np.uint8).reshape(-1, 2)


def encode_tq2_0(trits: np.ndarray, bscales: np.ndarray) -> np.ndarray:
    """TQ2_0 blocks for a (M, K) ternary matrix with per-block scales: uint8 (M, K // 256 * 66)."""
    m, k = trits.shape
    u, d = _digits_and_d(trits, bscales)
    qs = np.bitwise_or.reduce(u.reshape(-1, 2, 4, 32) << _SHIFTS4[None, None, :, None], axis=2).reshape(-1, 64)
    return np.concatenate([qs, d], axis=1).reshape(m, k // QK_K * TQ2_0_BLOCK_BYTES)


def decode_tq2_0(data: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of encode_tq2_0: trits int8 (M, K) and block scales float32 (M, K // 256)."""
    m, k = shape
    blocks = np.asarray(data, dtype=np.uint8).reshape(-1, TQ2_0_BLOCK_BYTES)
    qs = blocks[:, :64].reshape(-1, 2, 1, 32)
    u = ((qs >> _SHIFTS4[None, None, :, None]) & 3).reshape(-1, QK_K)
    d = blocks[:, 64:].copy().view(np.float16).astype(np.float32)
    return (u.astype(np.int8) - 1).reshape(m, k), d.reshape(m, k // QK_K)


def encode_tq1_0(trits: np.ndarray, bscales: np.ndarray) -> np.ndarray:
    """TQ1_0 blocks for a (M, K) ternary matrix with per-block scales: uint8 (M, K // 256 * 54)."""
    m, k = trits.shape
    u, d = _digits_and_d(trits, bscales)
    u = u.astype(np.uint16)
    v0 = (u[:, :160].reshape(-1, 5, 32) * _POW3_DESC5[None, :, None]).sum(axis=1)
    v1 = (u[:, 160:240].reshape(-1, 5, 16) * _POW3_DESC5[None, :, None]).sum(axis=1)
    v2 = (u[:, 240:].reshape(-1, 4, 4) * _POW3_DESC4[None, :, None]).sum(axis=1)
    v = np.concatenate([v0, v1, v2], axis=1)
    q = ((v * 256 + 242) // 243).astype(np.uint8)  # ceil(v * 256 / 243): the top byte bits hold the first digit
    return np.concatenate([q, d], axis=1).reshape(m, k // QK_K * TQ1_0_BLOCK_BYTES)


def _tq1_digits(b: np.ndarray, pow3: np.ndarray) -> np.ndarray:
    x = (b[:, None, :] * pow3[None, :, None]).astype(np.uint8)  # wraps mod 256 on purpose
    return ((x.astype(np.uint16) * 3) >> 8).reshape(b.shape[0], -1)


def decode_tq1_0(data: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of encode_tq1_0: trits int8 (M, K) and block scales float32 (M, K // 256)."""
    m, k = shape
    blocks = np.asarray(data, dtype=np.uint8).reshape(-1, TQ1_0_BLOCK_BYTES)
    with np.errstate(over="ignore"):
        u = np.concatenate(
            [_tq1_digits(blocks[:, :32], _POW3_ASC5), _tq1_digits(blocks[:, 32:48], _POW3_ASC5),
             _tq1_digits(blocks[:, 48:52], _POW3_ASC4)], axis=1)
    d = blocks[:, 52:].copy().view(np.float16).astype(np.float32)
    return (u.astype(np.int8) - 1).reshape(m, k), d.reshape(m, k // QK_K)
