"""Open any model file the engine runs, by what it is: `load_model_weights(path)` -> ModelWeights.

A nanochat GGUF (nanochat_gguf.py), a llama.cpp `bitnet` GGUF (bitnet_gguf.py) or a checkpoint directory (exported
in memory, export.py); every one is checked against its config (weights.check_weights).
"""

from __future__ import annotations

from pathlib import Path

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.bitnet_gguf import bitnet_weights
from nanochat_cli.formats.export import checkpoint_weights
from nanochat_cli.formats.gguf_io import read_gguf
from nanochat_cli.formats.nanochat_gguf import nanochat_gguf_weights
from nanochat_cli.formats.weights import ModelWeights, check_weights
from nanochat_cli.ternary.constants import KEY_CONFIG_JSON


def load_model_weights(path: str | Path) -> ModelWeights:
    """A nanochat GGUF, a llama.cpp `bitnet` GGUF (TQ2_0 / TQ1_0) or a checkpoint directory (exported in memory)."""
    p = Path(path).expanduser()
    if p.is_dir():
        return checkpoint_weights(p)
    if not p.exists():
        raise NanochatError(f"{p}: no such model file or checkpoint directory")
    f = read_gguf(p)
    arch = f.metadata.get("general.architecture")
    if arch == "bitnet":
        return check_weights(bitnet_weights(f))
    if arch != "nanochat" or KEY_CONFIG_JSON not in f.metadata:
        raise NanochatError(f"{p}: unsupported GGUF (architecture {arch!r}); the engine runs nanochat GGUFs written "
                            "by `nanochat export` and llama.cpp `bitnet` TQ1_0/TQ2_0 files")
    return check_weights(nanochat_gguf_weights(f))
