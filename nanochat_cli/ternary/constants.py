"""Format constants: trit codes, block sizes, alignment and GGUF keys. Every other module imports these."""

import numpy as np

# 2-bit trit codes (BitNet's convention): -1 -> 0b11, 0 -> 0b00, +1 -> 0b01; 0b10 is invalid and decodes to 0.
# With two's complement, the code of a trit t is simply t & 0b11.
CODE_NEG = 0b11
CODE_ZERO = 0b00
CODE_POS = 0b01
CODE_INVALID = 0b10
TRITS_PER_BYTE = 4
# code -> trit, indexed by the 2-bit code
CODE_TO_TRIT = np.array([0, 1, 0, -1], dtype=np.int8)

# Activations are int8 in [-127, 127] (symmetric: -128 is never produced).
ACT_QMAX = 127

# Buffers the SIMD kernels read are aligned to 128 bytes (two cache lines, covers any AVX-512 load).
BUFFER_ALIGN = 128

# The seed's default: one weight scale per 128 input columns of a row.
DEFAULT_GROUP_SIZE = 128

# llama.cpp's super-block size for TQ1_0 / TQ2_0 (QK_K) and their bytes per block.
QK_K = 256
TQ2_0_BLOCK_BYTES = 66  # 64 bytes of 2-bit codes + fp16 scale
TQ1_0_BLOCK_BYTES = 54  # 48 bytes of base-3 quintets + 4 bytes of quartets + fp16 scale

# nanochat GGUF metadata keys
GGUF_ARCH = "nanochat"
KEY_QUANT = "nanochat.quant"
QUANT_Q1_58 = "q1_58"
KEY_GROUP_SIZE = "nanochat.group_size"
KEY_CONFIG_JSON = "nanochat.config_json"
KEY_TOKENIZER_JSON = "tokenizer.huggingface.json"
KEY_SOURCE = "nanochat.source"  # the name (never the full local path) of what the file was made from
KEY_CONTEXT_LENGTH = f"{GGUF_ARCH}.context_length"  # the standard `<arch>.context_length` key, u32
KEY_FIM_RATE = "nanochat.fim_rate"  # f32, share of training documents rewritten fill-in-the-middle; absent: none
TRITS_SUFFIX = ".trits"
SCALES_SUFFIX = ".scales"
