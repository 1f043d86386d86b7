"""cffi (API mode) build of the native ternary kernels into `nanochat_cli.kernels._native`.

Runs at `pip install -e .` through setup.py's `cffi_modules=["native/build.py:ffibuilder"]`. For a
quick rebuild in place while working on the C code: `python native/build.py` (writes the extension
next to nanochat_cli/kernels/__init__.py). `python native/build.py --asan DIR` builds an
AddressSanitizer + UBSan variant under DIR (how to run the tests on it: docs/BENCHMARKS.md, ## kernels).

Flags: no -march: every SIMD file carries its own `#pragma GCC target`, so the library runs on any
x86-64 and dispatch.c picks kernels from CPUID. -ffp-contract=off keeps multiplies and adds separate
(the numeric contract rounds them separately; GCC would otherwise fuse them into FMAs).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
SOURCES = ["scalar.c", "avx2.c", "avx512.c", "avx512vbmi.c", "layout.c", "layout16.c", "pool.c", "dispatch.c",
           "bandwidth.c"]
HEADERS = ["ternary.h", "internal.h", "avx512_common.h"]  # a change to one rebuilds the library too
FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-strict-aliasing", "-pthread", "-Wall"]

CDEF = """
typedef struct {
    const uint8_t *planar;
    const float *planar_scales;
    const uint8_t *codes;
    const float *scales;
    int32_t M, K;
    int32_t group;
    int32_t n_groups;
    int32_t per_tensor;
    const uint8_t *codes16;
} tq_weights;

int tq_cpu_supports(int kernel);
const char *tq_kernel_name(int kernel);
const char *tq_cpu_brand(void);
size_t tq_layout_code_bytes(int32_t M, int32_t K);
size_t tq_layout_scale_count(int32_t M, int32_t n_groups);
void tq_layout_build(const tq_weights *w, uint8_t *codes, float *scales, int n_threads);
size_t tq_layout16_code_bytes(int32_t M, int32_t K);
void tq_layout16_build(const tq_weights *w, int n_threads);
int tq_matmul(int kernel, const tq_weights *w, const int8_t *q, const float *x_scale, int32_t N,
              float *out, int32_t *acc_out, int n_threads);
int tq_time_matmul(int kernel, const tq_weights *ws, int n_w, const int8_t *q, const float *x_scale, int32_t N,
                   float *out, int n_threads, int reps, double *ns_out);
double tq_read_bandwidth(size_t bytes, int n_threads, int reps);
double tq_int8_dot_peak(void);
void tq_pool_run(void (*fn)(void *, int, int), void *arg, int n_units, int n_threads);
int tq_numa_nodes(void);
int tq_max_threads(void);
"""


def make_builder(
    module: str = "nanochat_cli.kernels._native", extra_flags: list[str] | None = None, absolute: bool = False
) -> FFI:
    """setuptools (cffi_modules) wants source paths relative to setup.py; FFI.compile chdirs, so absolute."""
    if sys.platform == "win32" or os.uname().machine not in ("x86_64", "AMD64"):
        raise RuntimeError("nanochat's native kernels need an x86-64 Linux/macOS machine with gcc or clang")
    if shutil.which(os.environ.get("CC", "cc")) is None and shutil.which("gcc") is None:
        raise RuntimeError(
            "no C compiler found: install gcc (Debian/Ubuntu: apt-get install build-essential) "
            "or set CC, then reinstall with `pip install -e .`"
        )
    builder = FFI()
    builder.cdef(CDEF)
    flags = FLAGS + (extra_flags or [])
    builder.set_source(
        module,
        '#include "ternary.h"',
        sources=[str(HERE / s) if absolute else f"native/{s}" for s in SOURCES],
        depends=[str(HERE / h) if absolute else f"native/{h}" for h in HEADERS],
        include_dirs=[str(HERE)],
        extra_compile_args=flags,
        extra_link_args=["-pthread"] + [f for f in (extra_flags or []) if f.startswith("-fsanitize")],
        libraries=["pthread"],
    )
    return builder


ffibuilder = make_builder()


def main() -> None:
    """Build in place (next to nanochat_cli/kernels/__init__.py), or an ASan variant into a directory."""
    repo = HERE.parent
    os.chdir(repo)
    if len(sys.argv) == 3 and sys.argv[1] == "--asan":
        target = Path(sys.argv[2]).resolve()
        flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
        builder = make_builder("nanochat_cli.kernels._native", flags, True)
        print(builder.compile(tmpdir=str(target), verbose=False))
        return
    built = Path(make_builder(absolute=True).compile(tmpdir=str(repo / "native" / "_build"), verbose=False))
    # the name pip's editable build gives it (cffi compiles against the limited API), so the two never coexist
    dest = repo / "nanochat_cli" / "kernels" / "_native.abi3.so"
    for stale in dest.parent.glob("_native.*.so"):  # a version-tagged name would shadow pip's build
        stale.unlink()
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(built, tmp)
    os.replace(tmp, dest)
    print(dest)


if __name__ == "__main__":
    main()
