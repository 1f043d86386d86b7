"""2-bit trit codes, four per byte, least significant bits first (see constants.py for the code table)."""

from __future__ import annotations

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import CODE_TO_TRIT, TRITS_PER_BYTE

_SHIFTS = np.array([0, 2, 4, 6], dtype=np.uint8)


def pack_trits(trits: np.ndarray) -> np.ndarray:
    """Pack int8 trits (..., K) with K % 4 == 0 into uint8 codes (..., K // 4)."""
    trits = np.asarray(trits)
    if trits.shape[-1] % TRITS_PER_BYTE:
        raise NanochatError(f"the last dimension ({trits.shape[-1]}) must be a multiple of 4 to pack trits")
    codes = (trits.astype(np.int8).view(np.uint8) & np.uint8(0b11)).reshape(*trits.shape[:-1], -1, TRITS_PER_BYTE)
    return np.bitwise_or.reduce(codes << _SHIFTS, axis=-1).astype(np.uint8)


def unpack_trits(packed: np.ndarray) -> np.ndarray:
    """Unpack uint8 codes (..., K // 4) to int8 trits (..., K); the invalid code 0b10 decodes to 0."""
    packed = np.asarray(packed, dtype=np.uint8)
    codes = (packed[..., None] >> _SHIFTS) & np.uint8(0b11)
    return CODE_TO_TRIT[codes].reshape(*packed.shape[:-1], -1)
