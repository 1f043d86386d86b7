"""The ternary transformer in torch: BitLinear, attention (RoPE, GQA), SwiGLU/ReLU^2, mHC-lite, MoE, DeltaNet.

`from nanochat_cli.model import named_config, TernaryLM; model = TernaryLM(named_config("tiny"))`
"""

from nanochat_cli.model.bitlinear import BitLinear
from nanochat_cli.model.cache import ModelCache
from nanochat_cli.model.config import NAMED_CONFIGS, ModelConfig, named_config
from nanochat_cli.model.precision import float64_mixing
from nanochat_cli.model.transformer import ModelOutput, TernaryLM

__all__ = [
           "NAMED_CONFIGS",
           "BitLinear",
           "ModelCache",
           "ModelConfig",
           "ModelOutput",
           "TernaryLM",
           "float64_mixing",
           "named_config",
]
