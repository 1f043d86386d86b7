"""cffi build of the engine's C helpers into `nanochat_cli.infer._ops`: native/ops.c (int8, Q6_K and small-batch
float32 output heads, fused RMSNorm + int8 quantization, float32 causal attention) and native/stack.c (the whole
layer stack of an eligible model in one call).

Runs at `pip install -e .` through setup.py's cffi_modules; `python nanochat_cli/infer/ops_build.py` rebuilds
it in place. Same flags policy as the ternary kernels: no -march, per-function target attributes, runtime choice.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
CDEF = """
int head_best_kind(void);
int head_matmul(const int8_t *w, const float *w_scale, const int32_t *w_sum, int32_t M, int32_t K,
                const int8_t *q, const float *x_scale, int32_t N, float *y, int kind, int n_threads, void *pool);
int q6k_best_kind(void);
int q6k_repack(const uint8_t *src, uint8_t *dst, int32_t M, int32_t K, int n_threads, void *pool);
int q6k_head_matmul(const uint8_t *w, int32_t M, int32_t K, const int8_t *q, const float *x_scale, int32_t N,
                    float *y, int kind, int n_threads, void *pool);
int f32_head_best_kind(void);
int f32_head_matmul(const float *w, int32_t M, int32_t K, const float *x, int32_t N, float *y, int kind,
                    int n_threads, void *pool);
void norm_quantize(const float *x, const float *w, int32_t N, int32_t K, float eps, float *y_out,
                   int8_t *q, float *scale);
int attention_f32(const float *q, const float *k, const float *v, int32_t T, int32_t H, int32_t H_kv, int32_t D,
                  int64_t head_stride, int32_t start, float *out, int n_threads);
int rope_attend_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                    const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf,
                    float *out, int n_threads);
int swiglu_best_kind(void);
void swiglu_f32(const float *gate_up, int32_t N, int32_t F, float *h, int kind);
void *stack_plan_new(int32_t n_layers, int32_t d_model, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                     int32_t d_ff, int32_t relu2, float eps, const float *cos_t, const float *sin_t, int32_t rope_len,
                     void *matmul, void *pool_run);
int stack_plan_layer(void *plan, int32_t i, const float *attn_norm, const float *attn_sub_norm, const float *ffn_norm,
                     const float *ffn_sub_norm, const void *qkv, const void *o, const void *inp, const void *down);
void stack_plan_free(void *plan);
int stack_forward(void *plan, float *x, int32_t N, const int32_t *seg, int32_t n_seg, float *const *kv,
                  int32_t n_slots, int32_t ctx, const int32_t *kernel_ids, int n_threads);
"""


def make_builder(absolute: bool = False) -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    def path(name: str) -> str:
        src = HERE / "native" / name
        return str(src) if absolute else str(src.relative_to(HERE.parent.parent))

    builder.set_source("nanochat_cli.infer._ops", CDEF, sources=[path("ops.c"), path("stack.c")],
                       depends=[path("vexp.h")], extra_compile_args=["-O3", "-std=gnu11", "-pthread", "-Wall"],
                       extra_link_args=["-pthread"], libraries=["pthread"])
    return builder


ffibuilder = make_builder()


def main() -> None:
    repo = HERE.parent.parent
    os.chdir(repo)
    built = Path(make_builder(absolute=True).compile(tmpdir=str(repo / "native" / "_build" / "infer_ops"), verbose=False))
    # the name pip's editable build gives it (limited API), so a stale version-tagged copy can never shadow it
    dest = HERE / "_ops.abi3.so"
    for stale in HERE.glob("_ops.*.so"):
        stale.unlink()
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(built, tmp)
    os.replace(tmp, dest)
    print(dest)


if __name__ == "__main__":
    main()
