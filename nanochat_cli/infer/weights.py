"""ModelWeights: what the native engine runs, whatever it came from (nanochat GGUF, llama.cpp bitnet GGUF, checkpoint).

A ModelWeights is a ModelConfig, the tokenizer JSON and a flat name -> tensor map that uses TernaryLM's
state-dict names: ternary matrices as PlanarWeights (the exact trits and scales the training forward uses),
everything else float32 numpy. `load_model_weights(path)` picks the loader from what the path is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.q6_k import Q6KRows
from nanochat_cli.model.config import ModelConfig
from nanochat_cli.ternary import PlanarWeights, read_gguf
from nanochat_cli.ternary.constants import KEY_CONFIG_JSON, KEY_TOKENIZER_JSON

Tensor = np.ndarray | PlanarWeights | Q6KRows  # Q6KRows: a Q6_K embedding in its blocks


@dataclass
class ModelWeights:
    config: ModelConfig
    tensors: dict[str, Tensor]
    tokenizer_json: str | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. "token_embd stored Q6_K, dequantized"
    eos_ids: set[int] = field(default_factory=set)  # end-of-text ids beyond the tokenizer's <|endoftext|>
    lossy_embedding: bool = False  # the file stored the embedding / tied head quantized (Q6_K, F16, ...)

    def get(self, name: str) -> Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise NanochatError(f"{self.source}: model tensor {name!r} is missing; the file does not match its "
                                f"config (re-export it with `nanochat export`)") from None

    def float(self, name: str) -> np.ndarray:
        """A float tensor as a numpy array (a Q6_K embedding kept in its blocks is dequantized whole here)."""
        t = self.get(name)
        if isinstance(t, PlanarWeights):
            raise NanochatError(f"{self.source}: tensor {name!r} is ternary where a float tensor is expected")
        return np.asarray(t, dtype=np.float32) if isinstance(t, Q6KRows) else t

    def tokenizer(self):
        """The HF tokenizers.Tokenizer stored with the model."""
        if not self.tokenizer_json:
            raise NanochatError(f"{self.source}: the model has no tokenizer; export it from a checkpoint that has "
                                "tokenizer.json")
        from tokenizers import Tokenizer

        try:
            return Tokenizer.from_str(self.tokenizer_json)
        except Exception as e:  # noqa: BLE001 - tokenizers raises its own exception types
            raise NanochatError(f"{self.source}: the stored tokenizer JSON is unreadable ({e})") from None


def load_model_weights(path: str | Path) -> ModelWeights:
    """A nanochat GGUF, a llama.cpp `bitnet` GGUF (TQ2_0 / TQ1_0) or a checkpoint directory (exported in memory)."""
    p = Path(path).expanduser()
    if p.is_dir():
        from nanochat_cli.infer.export import checkpoint_weights

        return checkpoint_weights(p)
    if not p.exists():
        raise NanochatError(f"{p}: no such model file or checkpoint directory")
    f = read_gguf(p)
    arch = f.metadata.get("general.architecture")
    if arch == "bitnet":
        from nanochat_cli.infer.bitnet import bitnet_weights

        return bitnet_weights(f)
    if arch != "nanochat" or KEY_CONFIG_JSON not in f.metadata:
        raise NanochatError(f"{p}: unsupported GGUF (architecture {arch!r}); the engine runs nanochat GGUFs written "
                            "by `nanochat export` and llama.cpp `bitnet` TQ1_0/TQ2_0 files")
    return nanochat_gguf_weights(f)


def nanochat_gguf_weights(f) -> ModelWeights:
    try:
        cfg_dict = json.loads(f.metadata[KEY_CONFIG_JSON])
    except json.JSONDecodeError as e:
        raise NanochatError(f"{f.path}: {KEY_CONFIG_JSON} is not valid JSON ({e})") from None
    cfg = ModelConfig.from_dict(cfg_dict.get("model", cfg_dict))
    ternary = set(f.ternary_names())
    tensors: dict[str, Tensor] = {}
    for name in ternary:
        tensors[name] = f.planar(name)
    for t in f.reader.tensors:
        base = t.name.rsplit(".", 1)[0]
        if base in ternary:
            continue
        data = np.asarray(t.data)
        if data.dtype not in (np.float32, np.float16):
            raise NanochatError(f"{f.path}: tensor {t.name!r} has type {t.tensor_type.name}; nanochat GGUFs keep "
                                "float tensors as F32/F16")
        tensors[t.name] = data.astype(np.float32)
    return ModelWeights(cfg, tensors, f.metadata.get(KEY_TOKENIZER_JSON), str(f.path))
