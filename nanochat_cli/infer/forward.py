"""NativeModel: TernaryLM's forward pass on the native kernels, over per-slot KV caches and DeltaNet states.

`forward(tokens, segments)` runs N token rows through the model in one pass: every linear layer is one kernel call
on all rows (prefill is a GEMM, a decode step over several slots is a GEMM too); attention and the DeltaNet
recurrence then run per segment (slot, start position, length) against that slot's cache. `engine.py` drives it.
The float operations that differ between fast mode and the float64 reference mode are the methods of one object,
`FastOps` here; reference.py's ReferenceOps (torch's RMSNorm and SiLU, numpy float64 attention) replaces it when
NativeModel is built with mix=np.float64, and only then is torch imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.q6_k import Q6KRows
from nanochat_cli.formats.weights import ModelWeights
from nanochat_cli.host_memory import check_fits
from nanochat_cli.infer import layers
from nanochat_cli.infer.linear import Act, Int8Linear, Q6KLinear, TernaryLinear, make_linear
from nanochat_cli.infer.stack import LayerStack, swiglu
from nanochat_cli.kernels import get_threads
from nanochat_cli.kernels.dispatch import tq16_wanted
from nanochat_cli.ternary import PlanarWeights


@dataclass(frozen=True)
class Segment:
    """Rows [row, row + length) of a forward call are tokens start..start+length-1 of `slot`."""

    slot: int
    start: int
    length: int
    row: int


class SlotState:
    """Preallocated decoding state for n_slots sequences of up to ctx tokens each."""

    def __init__(self, cfg, n_slots: int, ctx: int, mix):
        self.kv: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.delta: dict[int, np.ndarray] = {}
        for i in range(cfg.n_layers):
            if cfg.layer_type(i) == "A":
                shape = (n_slots, cfg.n_kv_heads, ctx, cfg.head_dim)
                self.kv[i] = (np.zeros(shape, np.float32), np.zeros(shape, np.float32))
            else:
                self.delta[i] = np.zeros((n_slots, cfg.n_heads, cfg.head_dim, cfg.head_dim), mix)

    @staticmethod
    def bytes_for(cfg, n_slots: int, ctx: int, mix) -> int:
        """What __init__ allocates, computed before allocating it."""
        attn = sum(cfg.layer_type(i) == "A" for i in range(cfg.n_layers))
        kv = 2 * n_slots * cfg.n_kv_heads * ctx * cfg.head_dim * 4
        delta = n_slots * cfg.n_heads * cfg.head_dim * cfg.head_dim * np.dtype(mix).itemsize
        return attn * kv + (cfg.n_layers - attn) * delta

    def clear(self, slot: int) -> None:
        for s in self.delta.values():
            s[slot] = 0

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in self.kv.values()) + sum(s.nbytes for s in self.delta.values())


class FastOps:
    """Fast mode's float operations: float32 rows, the engine's C for RMSNorm + quantization, SwiGLU and
    RoPE + attention (the C layer stack runs the same C, so the two fast paths agree to the bit)."""

    exact = False  # True for reference.ReferenceOps

    def act(self, x: np.ndarray, norm: np.ndarray | None, eps: float) -> Act:
        """Rows entering a linear layer, RMSNorm-ed by `norm` first when given."""
        return Act(x, norm, eps)

    def rms_norm(self, x: np.ndarray, weight: np.ndarray | None, eps: float) -> np.ndarray:
        return layers.rms_norm(x, weight, eps)

    def silu(self, x: np.ndarray) -> np.ndarray:
        return layers.silu(x)

    def swiglu(self, gate_up, x: Act) -> np.ndarray:
        """silu(gate) * up of the fused gate/up linear `gate_up` on x."""
        return swiglu(gate_up(x))

    def attend(self, attn: Attention, qkv: np.ndarray, segments: list[Segment], positions: np.ndarray,
               cache) -> np.ndarray:
        """RoPE of the fused q/k/v rows, their k and v into the slots' caches, causal attention -> (N, H * D)."""
        kc, vc = cache
        threads = get_threads()
        out = np.empty((qkv.shape[0], attn.h * attn.d), np.float32)
        for sg in segments:  # rope, cache write and attention in one C call per slot
            rows = slice(sg.row, sg.row + sg.length)
            out[rows] = layers.rope_attend_c(qkv[rows], attn.h, attn.h_kv, attn.d, attn.cos, attn.sin, kc[sg.slot],
                                        vc[sg.slot], sg.start, threads)
        return out


FAST = FastOps()


class FeedForward:
    def __init__(self, w: ModelWeights, prefix: str, cfg, ops: FastOps):
        self.relu2, self.ops = cfg.ffn_type == "relu2", ops
        get = w.get
        self.inp = make_linear(get(prefix + ".up_proj.weight") if self.relu2
                               else [get(prefix + ".gate_proj.weight"), get(prefix + ".up_proj.weight")])
        self.sub_norm = w.tensors.get(prefix + ".sub_norm.weight")
        self.down = make_linear(get(prefix + ".down_proj.weight"))
        self.eps = cfg.norm_eps

    def __call__(self, x: Act) -> np.ndarray:
        h = np.square(np.maximum(self.inp(x), 0)) if self.relu2 else self.ops.swiglu(self.inp, x)
        return self.down(self.ops.act(h, self.sub_norm, self.eps))


class MoE:
    def __init__(self, w: ModelWeights, prefix: str, cfg, mix, ops: FastOps):
        self.mix, self.top_k = mix, cfg.moe_top_k
        self.router_t = np.ascontiguousarray(w.float(prefix + ".router.weight").T.astype(mix))
        self.experts = [FeedForward(w, f"{prefix}.experts.{e}", cfg, ops) for e in range(cfg.moe_experts)]
        self.shared = FeedForward(w, prefix + ".shared_expert", cfg, ops) if cfg.moe_shared_expert else None

    def __call__(self, x: Act) -> np.ndarray:
        probs = layers.softmax(x.y.astype(self.mix) @ self.router_t).astype(np.float32)
        # torch.topk order: largest first (stable argsort of -p keeps the lower index first on ties)
        top_i = np.argsort(-probs, axis=-1, kind="stable")[:, :self.top_k]
        top_p = np.take_along_axis(probs, top_i, axis=-1)
        top_p = top_p / top_p.sum(axis=-1, keepdims=True)
        out = np.zeros(x.shape, np.float32)
        for e, expert in enumerate(self.experts):
            rows, slot = np.nonzero(top_i == e)
            if rows.size:
                out[rows] += expert(x.rows(rows)) * top_p[rows, slot][:, None]
        if self.shared is not None:
            out = out + self.shared(x)
        return out


class Attention:
    def __init__(self, w: ModelWeights, prefix: str, cfg, mix, rope, ops: FastOps):
        self.h, self.h_kv, self.d, self.ops = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, ops
        self.mix, self.cos, self.sin = mix, *rope
        get = w.get
        self.qkv = make_linear([get(f"{prefix}.{p}_proj.weight") for p in "qkv"])
        self.sub_norm = w.tensors.get(prefix + ".sub_norm.weight")
        self.o = make_linear(get(prefix + ".o_proj.weight"))
        self.eps = cfg.norm_eps

    def __call__(self, x: Act, segments: list[Segment], positions: np.ndarray, cache) -> np.ndarray:
        out = self.ops.attend(self, self.qkv(x), segments, positions, cache)
        return self.o(self.ops.act(out, self.sub_norm, self.eps))


class DeltaNet:
    def __init__(self, w: ModelWeights, prefix: str, cfg, mix, ops: FastOps):
        self.h, self.d, self.mix, self.eps, self.ops = cfg.n_heads, cfg.head_dim, mix, cfg.norm_eps, ops
        get = w.get
        self.qkvg = make_linear([get(f"{prefix}.{p}_proj.weight") for p in ("q", "k", "v", "gate")])
        self.o = make_linear(get(prefix + ".o_proj.weight"))
        self.beta_t = np.ascontiguousarray(w.float(prefix + ".beta_proj.weight").T.astype(mix))
        self.decay_t = np.ascontiguousarray(w.float(prefix + ".decay_proj.weight").T.astype(mix))
        self.neg_a = -np.exp(w.float(prefix + ".A_log").astype(mix))
        self.dt_bias = w.float(prefix + ".dt_bias").astype(mix)
        self.out_norm = w.float(prefix + ".out_norm.weight")

    def __call__(self, x: Act, segments: list[Segment], positions, cache) -> np.ndarray:
        n, h, d, mix = x.shape[0], self.h, self.d, self.mix
        q, k, v, gate = self.qkvg.split(x)
        q = layers.l2_normalize(q.reshape(n, h, d).astype(mix)) / mix(np.sqrt(d))
        k = layers.l2_normalize(k.reshape(n, h, d).astype(mix))
        v = v.reshape(n, h, d).astype(mix)
        xm = x.y.astype(mix)
        beta = layers.sigmoid(xm @ self.beta_t)
        g = self.neg_a * layers.softplus(xm @ self.decay_t + self.dt_bias)
        o = np.empty((n, h, d), mix)
        if all(sg.length == 1 for sg in segments):  # a decode step: all slots advance together
            rows = [sg.row for sg in segments]
            slots = [sg.slot for sg in segments]
            o[rows], cache[slots] = layers.delta_rule_step(cache[slots], q[rows], k[rows], v[rows], beta[rows], g[rows])
        else:
            for sg in segments:
                s = cache[sg.slot]
                for r in range(sg.row, sg.row + sg.length):
                    o[r], s = layers.delta_rule_step(s, q[r], k[r], v[r], beta[r], g[r])
                cache[sg.slot] = s
        o = self.ops.rms_norm(o.astype(np.float32), self.out_norm, self.eps) * self.ops.silu(gate).reshape(n, h, d)
        return self.o(Act(o.reshape(n, h * d)))


class Block:
    def __init__(self, w: ModelWeights, i: int, cfg, mix, rope, ops: FastOps):
        p = f"blocks.{i}"
        self.kind, self.ops = cfg.layer_type(i), ops
        self.attn_norm = w.float(p + ".attn_norm.weight")
        self.ffn_norm = w.float(p + ".ffn_norm.weight")
        self.mixer = (Attention(w, p + ".attn", cfg, mix, rope, ops) if self.kind == "A"
                      else DeltaNet(w, p + ".attn", cfg, mix, ops))
        self.ffn = MoE(w, p + ".ffn", cfg, mix, ops) if cfg.moe_experts else FeedForward(w, p + ".ffn", cfg, ops)
        self.n, self.eps = cfg.mhc_streams, cfg.norm_eps
        if self.n > 1:
            args = (cfg.mhc_streams, cfg.mhc_dynamic, cfg.norm_eps, mix)
            self.attn_mhc = layers.MHCCoefficients(w.tensors, p + ".attn_mhc", *args)
            self.ffn_mhc = layers.MHCCoefficients(w.tensors, p + ".ffn_mhc", *args)

    def __call__(self, x, segments, positions, cache):
        """x is (N, d) for a plain residual, (N, n, d) streams with mHC."""
        norm = lambda h, w: self.ops.act(h, w, self.eps)
        if self.n == 1:
            x = x + self.mixer(norm(x, self.attn_norm), segments, positions, cache)
            return x + self.ffn(norm(x, self.ffn_norm))
        c = self.attn_mhc(x)
        y = self.mixer(norm(layers.mhc_read(x, c), self.attn_norm), segments, positions, cache)
        x = layers.mhc_write(x, y, c)
        c = self.ffn_mhc(x)
        y = self.ffn(norm(layers.mhc_read(x, c), self.ffn_norm))
        return layers.mhc_write(x, y, c)


class NativeModel:
    """The whole network. Fast mode (default): float32 mixers, the engine's C and numpy float ops (FastOps).
    Reference mode (mix=np.float64): float64 mixers and reference.ReferenceOps (torch's RMSNorm/SiLU, numpy
    attention), reproducing TernaryLM under float64_mixing() to float rounding."""

    def __init__(self, weights: ModelWeights, mix=np.float32, int8_head: bool | None = None):
        """int8_head: run the output head on int8 activations: on the file's own Q6_K blocks when the tied
        embedding is stored Q6_K and the CPU has the vector kernel (Q6KLinear), else as int8 rows (Int8Linear, 4x
        fewer bytes per token than float32); None = only when the file already stored the embedding quantized
        (a Q6_K / F16 llama.cpp head), never in reference mode."""
        cfg = self.cfg = weights.config
        self.mix, self.weights = mix, weights
        self.exact = mix == np.float64
        if self.exact:
            from nanochat_cli.infer.reference import REFERENCE  # torch: only the reference mode imports it

            self.ops = REFERENCE
        else:
            self.ops = FAST
        stored, head = weights.tensors.get("embed.weight"), weights.tensors.get("head.weight")
        if int8_head is None:
            int8_head = weights.lossy_embedding and mix != np.float64
        # a Q6_K embedding that is also the head stays in its blocks: the head multiplies them (Q6KLinear) and a
        # lookup dequantizes just its rows
        q6_k_head = bool(int8_head) and head is None and isinstance(stored, Q6KRows) and Q6KLinear.fast()
        self.embed = stored if q6_k_head else np.ascontiguousarray(weights.float("embed.weight"), dtype=np.float32)
        if self.embed.shape != (cfg.vocab_size, cfg.d_model):
            raise NanochatError(f"{weights.source}: embedding is {self.embed.shape}, config says "
                                f"({cfg.vocab_size}, {cfg.d_model})")
        # float64 angles plus float32 cos and sin: 16 bytes per (position, rotation pair) while the tables are built
        check_fits(cfg.max_seq_len * cfg.head_dim * 8, f"the RoPE tables of max_seq_len {cfg.max_seq_len:,}",
                   "the file's config is damaged or made for a larger machine")
        rope = layers.rope_tables(cfg.head_dim, cfg.max_seq_len, cfg.rope_theta)
        self.blocks = [Block(weights, i, cfg, mix, rope, self.ops) for i in range(cfg.n_layers)]
        # every block in one C call when the model allows it (infer/stack.py); None = the Python path below
        self.stack = LayerStack.build(self)
        self.norm = weights.float("norm.weight")
        if head is None and not cfg.tie_embeddings:
            raise NanochatError(f"{weights.source}: untied model without head.weight")
        float_head = self.embed if head is None else head
        if q6_k_head:
            self.head = Q6KLinear(stored.blocks, stored.shape)  # the stored blocks, not a requantization
        elif int8_head and not isinstance(float_head, PlanarWeights):
            self.head = Int8Linear(float_head)
        else:
            self.head = make_linear(float_head)
        self._choose_gemv_layout()

    def ternary_linears(self) -> list[TernaryLinear]:
        """Every ternary matrix product of the model: the blocks' (MoE experts included) and a ternary head."""
        found: list[TernaryLinear] = []

        def walk(obj) -> None:
            for v in vars(obj).values():
                if isinstance(v, TernaryLinear):
                    found.append(v)
                elif isinstance(v, (Attention, DeltaNet, FeedForward, MoE)):
                    walk(v)
                elif isinstance(v, list):
                    for e in v:
                        if isinstance(e, FeedForward):
                            walk(e)

        for block in self.blocks:
            walk(block)
        if isinstance(self.head, TernaryLinear):
            found.append(self.head)
        return found

    def _choose_gemv_layout(self) -> None:
        """Build the 1.6-bit layout beside the 2-bit one when dispatch.tq16_wanted says a single-token decode step
        of this model, on the current thread count, is faster on it (its weights stream from DRAM). Every matrix
        learns the model's size, so the dispatcher's kernel_for -- which both the C layer stack and the Python path
        ask, per batch class and thread count -- picks the same kernel for a matrix, and the two stay bit-identical.
        The stack holds the matrices' descriptors by address, so the codes16 set here reaches it too."""
        lins = self.ternary_linears()
        total = sum(lin.prepared.nbytes for lin in lins)
        build = tq16_wanted(total, 1, get_threads())  # the thread count a loader sets before building the model
        for lin in lins:
            lin.prepared.model_bytes = total
            if build:
                lin.prepared.ensure_tq16()

    def new_state(self, n_slots: int, ctx: int) -> SlotState:
        if ctx > self.cfg.max_seq_len:
            raise NanochatError(f"context {ctx} exceeds the model's max_seq_len {self.cfg.max_seq_len}")
        check_fits(SlotState.bytes_for(self.cfg, n_slots, ctx, self.mix),
                   f"the KV cache of {n_slots} slot(s) x {ctx:,} tokens", "pass a smaller --ctx (or fewer slots)")
        return SlotState(self.cfg, n_slots, ctx, self.mix)

    def forward(self, tokens: np.ndarray, segments: list[Segment], state: SlotState,
                last_only: bool = True) -> np.ndarray:
        """Logits float32: (len(segments), V) for each segment's last token, or (N, V) for every row."""
        x = self.embed[tokens]
        n = self.cfg.mhc_streams
        if n > 1:
            x = np.repeat(x[:, None, :], n, axis=1)
        if self.stack is not None:
            x = self.stack(x, segments, state)
        else:
            positions = np.concatenate([np.arange(s.start, s.start + s.length) for s in segments])
            for i, block in enumerate(self.blocks):
                cache = state.kv[i] if block.kind == "A" else state.delta[i]
                x = block(x, segments, positions, cache)
        if n > 1:
            x = x.mean(axis=1, dtype=np.float32)
        if last_only:
            x = x[[s.row + s.length - 1 for s in segments]]
        logits = self.head(self.ops.act(x, self.norm, self.cfg.norm_eps))
        cap = self.cfg.logit_softcap
        if cap > 0:  # cap * tanh(logits / cap), in place on the head's fresh rows: no (N, V) temporaries
            c = np.float32(cap)
            logits /= c
            np.tanh(logits, out=logits)
            logits *= c
        return logits
