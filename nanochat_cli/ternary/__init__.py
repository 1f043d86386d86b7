"""Ternary numbers, numpy only: quantizers, 2-bit codes, planar buffers, TQ1_0/TQ2_0 blocks.

Files that hold them (GGUF reading and writing, export, quantize) are formats/'s.

The numeric contract every other implementation (torch, C, CUDA) follows is in quant.py.
"""

from nanochat_cli.ternary.constants import DEFAULT_GROUP_SIZE, QK_K
from nanochat_cli.ternary.packing import pack_trits, unpack_trits
from nanochat_cli.ternary.planar import PlanarWeights, aligned_copy, aligned_empty, is_aligned
from nanochat_cli.ternary.quant import (
    absmean_scales,
    check_group_size,
    dequantize,
    integer_accumulators,
    latent_weights,
    quantize_activations,
    reference_matmul,
    ternarize,
)
from nanochat_cli.ternary.tq import block_scales, decode_tq1_0, decode_tq2_0, encode_tq1_0, encode_tq2_0

__all__ = [
    "DEFAULT_GROUP_SIZE", "QK_K", "pack_trits",
    "unpack_trits", "PlanarWeights", "aligned_copy", "aligned_empty", "is_aligned", "absmean_scales",
    "check_group_size", "dequantize", "integer_accumulators", "latent_weights", "quantize_activations",
    "reference_matmul", "ternarize", "block_scales", "decode_tq1_0", "decode_tq2_0", "encode_tq1_0", "encode_tq2_0",
]
