"""Native ternary matmul kernels (the cffi C library built from native/, CuPy dp4a in cuda.py) and their dispatch.

The API the inference engine calls:

    prepared = prepare(planar)                  # PlanarWeights -> PreparedMatrix; layout built once, at load
    y = matmul(prepared, q, x_scale)            # q int8 (N, K) C-contiguous, x_scale float32 (N,) -> float32 (N, M)
    y = matmul(prepared, q, x_scale, out=buf)   # into a preallocated float32 (N, M) C-contiguous array
    y = matmul(prepared, q, x_scale, kernel="scalar")   # force one kernel for this call
    set_threads(2)                              # rows are split over a persistent pthread pool
    available_kernels()                         # e.g. ['scalar', 'avx2', 'avx512vnni'] (CPUID + XGETBV)
    selected_kernel((M, K), n)                  # what matmul picks for that shape and batch
    y = matmul_trusted(prepared, q, x_scale)    # a decode step's fast path: no checks, kernel choice remembered
    kernel_id(prepared, n, threads)             # the kernel matmul picks, as the id C's tq_matmul takes
    kernels.native.native()                     # (ffi, lib): the one C library (ternary.h, engine.h)

N = 1 is a GEMV; N > 1 is a GEMM that decodes each weight line once for a tile of columns (prefill,
batched decode). Numerics follow nanochat_cli/ternary/quant.py exactly: int32 per-group accumulators
(bit-exact across kernels; `accumulators()` exposes them for tests), float32 products summed in group order.
The C call releases the GIL (cffi does so around every call), so server threads overlap with it.
Bad input (wrong dtype, shape, non-contiguous or read-only arrays, undersized out) raises NanochatError
before any C runs. Kernel choice: NANOCHAT_KERNEL forces one; otherwise the fastest for the shape,
measured once and cached in ~/.cache/nanochat/autotune.json (see dispatch.py). Time them with
`nanochat bench-kernels`.
"""

from nanochat_cli.kernels.dispatch import available_kernels, selected_kernel
from nanochat_cli.kernels.matmul import accumulators, kernel_id, matmul, matmul_trusted
from nanochat_cli.kernels.native import get_threads, set_threads
from nanochat_cli.kernels.prepared import PreparedMatrix, prepare

__all__ = [
    "PreparedMatrix", "accumulators", "available_kernels", "get_threads", "kernel_id", "matmul", "matmul_trusted",
    "prepare", "selected_kernel", "set_threads",
]
