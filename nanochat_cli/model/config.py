"""ModelConfig: every architecture option of the ternary LM, the named sizes, and parameter counts.

`nanochat info --configs` prints each named size's parameters split into ternary / full precision / mHC.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, fields

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary.constants import DEFAULT_GROUP_SIZE

FFN_TYPES = ("swiglu", "relu2")
LAYER_TYPES = {"A": "softmax attention", "D": "gated DeltaNet"}
MHC_STREAMS = (1, 2, 4)
# Longest max_seq_len a config may declare (1M positions): the RoPE tables and KV cache scale with it, so a number
# from a damaged file or a typo is refused here, before anything that size is allocated.
MAX_SEQ_LEN = 1 << 20


@dataclass
class ModelConfig:
    """Architecture of a TernaryLM. Every field has a default; `named_config` fills in the named sizes."""

    vocab_size: int = 8192
    """Tokens in the vocabulary (rows of the embedding)."""
    d_model: int = 256
    """Width of the residual stream."""
    n_layers: int = 2
    """Number of blocks (one sequence mixer + one FFN each)."""
    n_heads: int = 4
    """Query heads of attention; also the heads of DeltaNet layers. head_dim = d_model // n_heads."""
    n_kv_heads: int = 2
    """Key/value heads (GQA). Query head h reads kv head h // (n_heads // n_kv_heads)."""
    ffn_hidden: int = 512
    """Hidden width of the feed-forward network (of each expert with MoE unless moe_ffn_hidden is set)."""
    ffn_type: str = "swiglu"
    """"swiglu": down(silu(gate(x)) * up(x)); "relu2": down(relu(up(x))^2) (no gate projection)."""
    max_seq_len: int = 1024
    """Longest sequence (prompt + generated) the KV cache holds; at most MAX_SEQ_LEN (1,048,576)."""
    rope_theta: float = 10000.0
    """RoPE base. Rotation pairs are (i, i + head_dim/2) (rotate-half / NEOX layout)."""
    norm_eps: float = 1e-5
    """Epsilon of every RMSNorm."""
    ternary: bool = True
    """True: hidden linears are BitLinear (ternary weights, int8 activations). False: the float twin."""
    group_size: int = DEFAULT_GROUP_SIZE
    """Ternary weight scale granularity: one scale per row per G input columns; 0 = one scale per tensor."""
    tie_embeddings: bool = True
    """Output head shares the (full precision) token embedding matrix."""
    ternary_head: bool = False
    """Output head is a BitLinear (needs tie_embeddings = False)."""
    logit_softcap: float = 0.0
    """If > 0, logits = cap * tanh(logits / cap). 0 = off."""
    sub_norm: bool = False
    """SubLN: RMSNorm before the attention output projection and before the FFN down projection (BitNet b1.58)."""
    mhc_streams: int = 1
    """mHC-lite residual streams n in {1, 2, 4}; 1 = a plain residual."""
    mhc_dynamic: bool = False
    """mHC input-dependent coefficients (from an RMSNorm of the streams, zero-initialised gates)."""
    moe_experts: int = 0
    """Routed experts of a mixture-of-experts FFN; 0 = a dense FFN."""
    moe_top_k: int = 2
    """Experts each token is sent to."""
    moe_shared_expert: bool = False
    """Add an always-on shared expert to the routed ones."""
    moe_ffn_hidden: int = 0
    """Hidden width of each expert; 0 = ffn_hidden."""
    moe_aux_loss_weight: float = 0.01
    """Weight of the load-balancing loss; ModelOutput.aux_loss is already multiplied by it."""
    layer_pattern: str = "A"
    """Sequence mixer per layer, repeated over n_layers: "A" attention, "D" gated DeltaNet; e.g. "AD"."""
    deltanet_chunk_size: int = 64
    """Chunk length of DeltaNet's chunked (training / prefill) form."""
    init_std: float = 0.02
    """Std of the normal init of linears and embeddings (output projections are scaled by 1/sqrt(2 n_layers))."""

    def __post_init__(self) -> None:
        self.validate()

    # ---- derived sizes ----
    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def expert_hidden(self) -> int:
        return self.moe_ffn_hidden or self.ffn_hidden

    def layer_type(self, i: int) -> str:
        return self.layer_pattern[i % len(self.layer_pattern)]

    def validate(self) -> None:
        def bad(key: str, why: str) -> NanochatError:
            return NanochatError(f"model config {key}: {why}")

        for key in ("vocab_size", "d_model", "n_layers", "n_heads", "n_kv_heads", "ffn_hidden", "max_seq_len"):
            if getattr(self, key) <= 0:
                raise bad(key, "must be positive")
        if self.max_seq_len > MAX_SEQ_LEN:
            raise bad("max_seq_len", f"{self.max_seq_len} is larger than the supported {MAX_SEQ_LEN:,} positions; "
                      "set a smaller max_seq_len")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise bad(f.name, f"must be a finite number, got {value}")
        if self.norm_eps < 0 or self.rope_theta <= 0:
            raise bad("norm_eps" if self.norm_eps < 0 else "rope_theta", "must be positive")
        if self.d_model % self.n_heads:
            raise bad("n_heads", f"{self.n_heads} must divide d_model {self.d_model}")
        if self.head_dim % 2:
            raise bad("n_heads", f"head_dim {self.head_dim} must be even for RoPE")
        if self.n_heads % self.n_kv_heads:
            raise bad("n_kv_heads", f"{self.n_kv_heads} must divide n_heads {self.n_heads}")
        if self.ffn_type not in FFN_TYPES:
            raise bad("ffn_type", f"{self.ffn_type!r} is not one of {', '.join(FFN_TYPES)}")
        if self.mhc_streams not in MHC_STREAMS:
            raise bad("mhc_streams", f"{self.mhc_streams} is not one of 1, 2, 4")
        if not self.layer_pattern or set(self.layer_pattern) - set(LAYER_TYPES):
            raise bad("layer_pattern", f"{self.layer_pattern!r}: use letters A (attention) and D (DeltaNet)")
        if self.ternary_head and self.tie_embeddings:
            raise bad("ternary_head", "a ternary head cannot be tied to the float embedding; set tie_embeddings false")
        if self.moe_experts < 0 or (self.moe_experts and not 1 <= self.moe_top_k <= self.moe_experts):
            raise bad("moe_top_k", f"{self.moe_top_k} must be between 1 and moe_experts {self.moe_experts}")
        if self.logit_softcap < 0:
            raise bad("logit_softcap", "must be >= 0 (0 = off)")
        if self.deltanet_chunk_size <= 0:
            raise bad("deltanet_chunk_size", "must be positive")
        if self.ternary and self.group_size:
            widths = {self.d_model, self.n_heads * self.head_dim, self.ffn_hidden, self.expert_hidden}
            for k in sorted(widths):
                if self.group_size < 0 or self.group_size % 4 or k % self.group_size:
                    raise bad("group_size", f"{self.group_size} must be 0 or a multiple of 4 dividing every "
                              f"input width ({', '.join(map(str, sorted(widths)))}); {k} does not fit")

    # ---- (de)serialisation ----
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        hints = typing.get_type_hints(cls)
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for key, value in d.items():
            if key not in known:
                raise NanochatError(f"unknown model config key {key!r}; known keys: {', '.join(sorted(known))}")
            want = hints[key]
            ok = (isinstance(value, bool) if want is bool
                  else isinstance(value, (int, float)) and not isinstance(value, bool) if want is float
                  else isinstance(value, want) and not isinstance(value, bool) if want is int
                  else isinstance(value, want))
            if not ok:
                raise NanochatError(f"model config key {key!r} must be {want.__name__}, got {value!r}")
            kwargs[key] = float(value) if want is float else value
        return cls(**kwargs)

    def replace(self, **overrides) -> ModelConfig:
        return ModelConfig.from_dict({**self.to_dict(), **overrides})

    def param_counts(self) -> dict[str, int]:
        """Parameters split into ternary (BitLinear weights), full precision and mHC; built on the meta device."""
        import torch

        from nanochat_cli.model.transformer import TernaryLM

        with torch.device("meta"):
            model = TernaryLM(self)
        return model.param_counts()


NAMED_CONFIGS: dict[str, dict] = {
    # ~2.2M: for tests and smoke runs; widths are multiples of 256 so it exports to TQ1_0/TQ2_0 too.
    "tiny": dict(vocab_size=4096, d_model=256, n_layers=2, n_heads=4, n_kv_heads=2, ffn_hidden=512, max_seq_len=512),
    # ~18M: a CPU training run.
    "small": dict(vocab_size=8192, d_model=512, n_layers=6, n_heads=8, n_kv_heads=4, ffn_hidden=1024,
                  max_seq_len=1024),
    # ~117M: the seed project's model shape (768 d, 12 layers, 12 heads).
    "nano-125m": dict(vocab_size=32768, d_model=768, n_layers=12, n_heads=12, n_kv_heads=12, ffn_hidden=2304,
                      max_seq_len=2048),
    # ~569M
    "560m": dict(vocab_size=32768, d_model=1536, n_layers=24, n_heads=12, n_kv_heads=4, ffn_hidden=3328,
                 max_seq_len=2048),
}


def named_config(name: str, **overrides) -> ModelConfig:
    """The named size with keyword overrides, e.g. named_config("tiny", vocab_size=256, mhc_streams=4)."""
    if name not in NAMED_CONFIGS:
        raise NanochatError(f"unknown model config {name!r}; choose one of {', '.join(NAMED_CONFIGS)}")
    return ModelConfig.from_dict({**NAMED_CONFIGS[name], **overrides})


def parameter_table(names=tuple(NAMED_CONFIGS)) -> str:
    """One line per named config: its shape and parameter counts (what `nanochat info --configs` prints)."""
    header = (f"{'config':10} {'d':>5} {'layers':>6} {'heads':>5} {'kv':>3} {'ffn':>5} {'vocab':>6} "
              f"{'ternary':>12} {'full prec.':>12} {'mHC':>6} {'total':>12}")
    lines = [header]
    for name in names:
        cfg = named_config(name)
        c = cfg.param_counts()
        lines.append(f"{name:10} {cfg.d_model:>5} {cfg.n_layers:>6} {cfg.n_heads:>5} {cfg.n_kv_heads:>3} "
                     f"{cfg.ffn_hidden:>5} {cfg.vocab_size:>6} {c['ternary']:>12,} {c['full_precision']:>12,} "
                     f"{c['mhc']:>6,} {c['total']:>12,}")
    return "\n".join(lines)
