"""LayerStack: every block of an eligible NativeModel in one C call per forward (native/stack.c), no Python per layer.

Eligible: fast mode (float32 mixers), one residual stream (no mHC), every layer attention, a dense SwiGLU / ReLU^2
feed-forward, every block linear ternary (nanochat GGUFs and llama.cpp `bitnet` files alike). `LayerStack.build`
returns None for anything else, and NativeModel keeps its Python path. The C does what that path does, op for op:
tests/infer/test_stack.py holds the two against each other. `NANOCHAT_LAYER_STACK=0` (read at model load) or
`model.stack = None` forces the Python path, e.g. to time one against the other with benchmarks/decode.py.
"""

from __future__ import annotations

import os
import weakref

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.linear import TernaryLinear
from nanochat_cli.kernels import get_threads, kernel_id
from nanochat_cli.kernels.native import native

_swiglu_kind: int | None = None


def swiglu(gate_up: np.ndarray, kind: int | None = None) -> np.ndarray:
    """silu(gate) * up of fused (N, 2F) rows [gate | up], in C: the fast path's SwiGLU, Python and C stack alike
    (numpy's float32 exp differs from any C one in the last bit for ~40% of inputs, and a last bit is enough to move
    an int8 rounding of the next layer's input). kind: 2 AVX-512, 1 AVX2, 0 scalar; all give the same bits."""
    global _swiglu_kind
    ffi, lib = native()
    if kind is None:
        if _swiglu_kind is None:
            _swiglu_kind = int(lib.swiglu_best_kind())
        kind = _swiglu_kind
    gate_up = np.ascontiguousarray(gate_up, dtype=np.float32)
    n, f = gate_up.shape[0], gate_up.shape[1] // 2
    h = np.empty((n, f), np.float32)
    lib.swiglu_f32(ffi.from_buffer("float[]", gate_up), n, f, ffi.from_buffer("float[]", h, require_writable=True),
                   kind)
    return h


def _f32(a: np.ndarray | None, size: int | None) -> bool:
    """A float32 C array of `size` elements, or None where size is None (an optional sub-norm)."""
    if a is None:
        return size is None
    return isinstance(a, np.ndarray) and a.dtype == np.float32 and a.flags.c_contiguous and a.size == size


def eligible(model) -> bool:
    """Whether the C stack runs this model; the shapes are checked too, as the C trusts them for its scratch."""
    cfg = model.cfg
    if model.exact or cfg.mhc_streams != 1 or cfg.moe_experts or cfg.ffn_type not in ("swiglu", "relu2"):
        return False
    if not model.blocks or any(b.kind != "A" for b in model.blocks):
        return False
    d, a0 = cfg.d_model, model.blocks[0].mixer
    ff, hq, half = model.blocks[0].ffn.down.shape[1], a0.h * a0.d, a0.d // 2
    if a0.d % 2 or a0.h % a0.h_kv or not _f32(a0.cos, a0.cos.shape[0] * half):
        return False
    shapes = ((a0.h + 2 * a0.h_kv) * a0.d, d), (d, hq), ((1 if cfg.ffn_type == "relu2" else 2) * ff, d), (d, ff)
    for b in model.blocks:
        a, f = b.mixer, b.ffn
        lins = (a.qkv, a.o, f.inp, f.down)
        if not all(isinstance(lin, TernaryLinear) and lin.shape == s for lin, s in zip(lins, shapes)):
            return False
        if a.cos is not a0.cos or a.sin is not a0.sin or not _f32(a.sin, a0.cos.size):
            return False
        subs = (hq if a.sub_norm is not None else None, ff if f.sub_norm is not None else None)
        if not all(_f32(v, n) for v, n in zip((b.attn_norm, b.ffn_norm, a.sub_norm, f.sub_norm), (d, d, *subs))):
            return False
    return True


class LayerStack:
    """The per-model plan (per-layer weight descriptors and norms, held alive here) and the per-call entry point."""

    @classmethod
    def build(cls, model) -> LayerStack | None:
        if os.environ.get("NANOCHAT_LAYER_STACK", "1") == "0":
            return None
        return cls(model) if eligible(model) else None

    def __init__(self, model):
        ffi, lib = self.ffi, self.lib = native()
        cfg, blocks = model.cfg, model.blocks
        a0 = blocks[0].mixer
        self.linears = [(b.mixer.qkv, b.mixer.o, b.ffn.inp, b.ffn.down) for b in blocks]
        self.n_layers = len(blocks)
        self._keep = [a0.cos, a0.sin]
        fb = lambda a: ffi.NULL if a is None else self._hold(ffi.from_buffer("float[]", a))
        plan = lib.stack_plan_new(self.n_layers, cfg.d_model, a0.h, a0.h_kv, a0.d, blocks[0].ffn.down.shape[1],
                                  int(cfg.ffn_type == "relu2"), cfg.norm_eps, fb(a0.cos), fb(a0.sin),
                                  a0.cos.shape[0])
        if plan == ffi.NULL:
            raise MemoryError("could not allocate the layer stack's plan")
        self.plan = ffi.gc(plan, lib.stack_plan_free)
        for i, (b, lins) in enumerate(zip(blocks, self.linears)):
            lib.stack_plan_layer(self.plan, i, fb(b.attn_norm), fb(b.mixer.sub_norm), fb(b.ffn_norm),
                                 fb(b.ffn.sub_norm), *(lin.prepared.c for lin in lins))
        self._kernels: dict[tuple, object] = {}
        self._caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _hold(self, cdata):
        self._keep.append(cdata)
        return cdata

    def _kernel_ids(self, n: int, threads: int):
        """The dispatcher's kernel per matrix for this batch class and thread count (what TernaryLinear runs; an
        uncached choice is timed on n random rows, as TernaryLinear times it on its first n real ones)."""
        env = os.environ
        key = (1 if n == 1 else 4 if n <= 4 else 8, threads, env.get("NANOCHAT_KERNEL"), env.get("NANOCHAT_AUTOTUNE"))
        ids = self._kernels.get(key)
        if ids is None:
            ids = self._kernels[key] = self.ffi.new(
                "int32_t[]", [kernel_id(lin.prepared, n, threads) for lins in self.linears for lin in lins])
        return ids

    def _kv(self, state):
        """The state's KV caches as one C array of 2 * n_layers pointers, built once per SlotState (which allocates
        its caches once and never replaces them)."""
        entry = self._caches.get(state)
        if entry is None:
            bufs = [self.ffi.from_buffer("float[]", c, require_writable=True)
                    for i in range(self.n_layers) for c in state.kv[i]]
            k0 = state.kv[0][0]
            entry = self._caches[state] = (self.ffi.new("float *[]", bufs), k0.shape[0], k0.shape[2], bufs)
        return entry

    def __call__(self, x: np.ndarray, segments, state) -> np.ndarray:
        """Run every block on the (N, d) float32 rows x (updated in place and returned)."""
        ffi = self.ffi
        x = np.ascontiguousarray(x, dtype=np.float32)
        n, threads = x.shape[0], get_threads()
        kv, n_slots, ctx, _ = self._kv(state)
        seg = np.array([(s.slot, s.start, s.length, s.row) for s in segments], np.int32)
        rc = self.lib.stack_forward(self.plan, ffi.from_buffer("float[]", x, require_writable=True), n,
                                    ffi.from_buffer("int32_t[]", seg), len(segments), kv, n_slots, ctx,
                                    self._kernel_ids(n, threads), threads)
        if rc == -1:
            raise NanochatError(f"segments {segments} do not fit {n} rows, {n_slots} slots of {ctx} positions")
        if rc == -2:
            raise MemoryError("the layer stack could not allocate its scratch")
        if rc:
            raise NanochatError("a ternary kernel cannot run on this CPU; set NANOCHAT_KERNEL to one it supports")
        return x
