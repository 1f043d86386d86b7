"""ModelWeights: what the native engine runs, whatever it came from (nanochat GGUF, llama.cpp bitnet GGUF, checkpoint).

A ModelWeights is a ModelConfig, the tokenizer JSON and a flat name -> tensor map that uses TernaryLM's
state-dict names: ternary matrices as PlanarWeights (the exact trits and scales the training forward uses),
everything else float32 numpy. `check_weights` holds one against its config. Readers: nanochat_gguf.py,
bitnet_gguf.py, export.py (a checkpoint in memory); `model_file.load_model_weights(path)` picks one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.q6_k import Q6KRows
from nanochat_cli.model.config import ModelConfig
from nanochat_cli.ternary import PlanarWeights

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
    fim_rate: float = 0.0  # share of training documents rewritten fill-in-the-middle (the recipe's data.fim_rate)

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


def check_weights(w: ModelWeights) -> ModelWeights:
    """The one load-time check of a model file against its config, for every command that runs it: the names and
    shapes the config implies (TernaryLM's own state dict, built on the meta device), nothing unknown, and finite
    values (a NaN weight or an Inf scale would otherwise generate silently)."""
    cfg, src = w.config, w.source
    blocks = {int(n.split(".")[1]) for n in w.tensors if n.startswith("blocks.") and n.split(".")[1].isdigit()}
    n_file = max(blocks) + 1 if blocks else 0
    if n_file != cfg.n_layers:
        raise NanochatError(f"{src}: the config says n_layers {cfg.n_layers} but the file holds {n_file} blocks of "
                            "tensors; the file does not match its config (re-export it with `nanochat export`)")
    if cfg.n_layers * max(1, cfg.moe_experts) > len(w.tensors):
        raise NanochatError(f"{src}: the config describes {cfg.n_layers} blocks of {cfg.moe_experts} experts but the "
                            f"file holds only {len(w.tensors)} tensors; the file does not match its config")
    expected = expected_shapes(cfg)
    for name, shape in expected.items():
        t = w.get(name)  # missing: one error naming the tensor
        if tuple(t.shape) != shape:
            raise NanochatError(f"{src}: tensor {name!r} is {tuple(t.shape)} but the config (d_model {cfg.d_model}, "
                                f"{cfg.n_heads} heads, {cfg.n_kv_heads} kv heads, ffn_hidden {cfg.ffn_hidden}, vocab "
                                f"{cfg.vocab_size}) implies {shape}; the file does not match its config")
    unknown = sorted(set(w.tensors) - set(expected))
    if unknown:
        raise NanochatError(f"{src}: unknown tensor {unknown[0]!r} (the config has no place for it; "
                            f"{len(unknown)} such); the file does not match its config")
    for name, t in w.tensors.items():
        values = t.scales if isinstance(t, PlanarWeights) else t if isinstance(t, np.ndarray) else None
        if values is not None and not np.isfinite(values).all():
            what = "scales hold" if isinstance(t, PlanarWeights) else "holds"
            raise NanochatError(f"{src}: tensor {name!r} {what} NaN or Inf values; the file is damaged or the "
                                "training diverged (export a healthy checkpoint)")
    return w


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor a TernaryLM of this config has, with its shape (ternary ones as their (M, K) matrix): its
    state_dict, written out without building the model, so that loading a model file never imports torch.
    tests/infer/test_weights.py holds it to TernaryLM(cfg).state_dict() for every model option."""
    d, hd, h, h_kv = cfg.d_model, cfg.head_dim, cfg.n_heads, cfg.n_kv_heads
    shapes: dict[str, tuple[int, ...]] = {"embed.weight": (cfg.vocab_size, d)}

    def ffn(prefix: str, hidden: int) -> None:
        if cfg.ffn_type == "swiglu":
            shapes[prefix + ".gate_proj.weight"] = (hidden, d)
        shapes[prefix + ".up_proj.weight"] = (hidden, d)
        if cfg.sub_norm:
            shapes[prefix + ".sub_norm.weight"] = (hidden,)
        shapes[prefix + ".down_proj.weight"] = (d, hidden)

    def mhc(prefix: str, mixes: bool) -> None:  # model/mhc.py MHCResidual: no H_res on the first and last sublayer
        n = cfg.mhc_streams
        if n == 1:
            return
        n_perms = math.factorial(n) if mixes else 0
        if mixes:
            shapes[prefix + ".res_logits"] = (n_perms,)
        shapes[prefix + ".pre_logits"] = (n,)
        shapes[prefix + ".post_logits"] = (n,)
        if cfg.mhc_dynamic:
            shapes[prefix + ".dyn_proj"] = (2 * n + n_perms, n * d)
            shapes[prefix + ".dyn_gates"] = (3 if mixes else 2,)

    for i in range(cfg.n_layers):
        p = f"blocks.{i}"
        shapes[p + ".attn_norm.weight"] = (d,)
        if cfg.layer_type(i) == "A":
            for name, rows in (("q", h * hd), ("k", h_kv * hd), ("v", h_kv * hd)):
                shapes[f"{p}.attn.{name}_proj.weight"] = (rows, d)
            if cfg.sub_norm:
                shapes[p + ".attn.sub_norm.weight"] = (h * hd,)
        else:
            shapes[p + ".attn.A_log"] = (h,)
            shapes[p + ".attn.dt_bias"] = (h,)
            for name in ("q", "k", "v", "gate"):
                shapes[f"{p}.attn.{name}_proj.weight"] = (h * hd, d)
            shapes[p + ".attn.beta_proj.weight"] = (h, d)
            shapes[p + ".attn.decay_proj.weight"] = (h, d)
            shapes[p + ".attn.out_norm.weight"] = (hd,)
        shapes[p + ".attn.o_proj.weight"] = (d, h * hd)
        shapes[p + ".ffn_norm.weight"] = (d,)
        if cfg.moe_experts:
            shapes[p + ".ffn.router.weight"] = (cfg.moe_experts, d)
            for e in range(cfg.moe_experts):
                ffn(f"{p}.ffn.experts.{e}", cfg.expert_hidden)
            if cfg.moe_shared_expert:
                ffn(p + ".ffn.shared_expert", cfg.expert_hidden)
        else:
            ffn(p + ".ffn", cfg.ffn_hidden)
        mhc(p + ".attn_mhc", i > 0)
        mhc(p + ".ffn_mhc", i < cfg.n_layers - 1)
    shapes["norm.weight"] = (d,)
    if cfg.ternary_head or not cfg.tie_embeddings:
        shapes["head.weight"] = (cfg.vocab_size, d)
    return shapes
