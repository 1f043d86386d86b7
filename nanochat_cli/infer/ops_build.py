"""cffi build of the engine's C helpers (native/ops.c: int8 output head, fused RMSNorm + int8 quantization,
float32 causal attention)
into `nanochat_cli.infer._ops`.

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
                const int8_t *q, const float *x_scale, int32_t N, float *y, int kind, int n_threads);
int f32_head_best_kind(void);
int f32_head_matmul(const float *w, int32_t M, int32_t K, const float *x, int32_t N, float *y, int kind,
                    int n_threads);
void norm_quantize(const float *x, const float *w, int32_t N, int32_t K, float eps, float *y_out,
                   int8_t *q, float *scale);
int attention_f32(const float *q, const float *k, const float *v, int32_t T, int32_t H, int32_t H_kv, int32_t D,
                  int64_t head_stride, int32_t start, float *out, int n_threads);
int rope_attend_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                    const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf,
                    float *out, int n_threads);
"""


def make_builder(absolute: bool = False) -> FFI:
    builder = FFI()
    builder.cdef(CDEF)
    src = HERE / "native" / "ops.c"
    builder.set_source("nanochat_cli.infer._ops", CDEF, sources=[str(src) if absolute else str(src.relative_to(
        HERE.parent.parent))], extra_compile_args=["-O3", "-std=gnu11", "-pthread", "-Wall"],
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
