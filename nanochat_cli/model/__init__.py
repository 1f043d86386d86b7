"""The ternary transformer in torch: BitLinear, attention (RoPE, GQA), SwiGLU/ReLU^2, mHC-lite, MoE, DeltaNet.

`from nanochat_cli.model import named_config, TernaryLM; model = TernaryLM(named_config("tiny"))`

The config (model/config.py) needs no torch, and the native engine reads it: the torch modules load on first use
of their names, so `import nanochat_cli.model.config` does not import torch.
"""

from importlib import import_module

from nanochat_cli.model.config import NAMED_CONFIGS, ModelConfig, named_config

_TORCH_NAMES = {
    "BitLinear": "nanochat_cli.model.bitlinear",
    "ModelCache": "nanochat_cli.model.cache",
    "float64_mixing": "nanochat_cli.model.precision",
    "ModelOutput": "nanochat_cli.model.transformer",
    "TernaryLM": "nanochat_cli.model.transformer",
}


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        return getattr(import_module(_TORCH_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
