"""`matmul(prepared, q, x_scale)`: y = W x on int8 activations, validated in Python before any C runs.

`matmul_trusted` is the decode step's fast path (no checks, the kernel choice remembered on the matrix), and
`kernel_id` the dispatcher's choice as the C id that tq_matmul takes (the engine's C layer stack gets one per matrix).
"""

from __future__ import annotations

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels.dispatch import check_kernel, kernel_for
from nanochat_cli.kernels.native import KERNEL_IDS, get_threads, native
from nanochat_cli.kernels.prepared import PreparedMatrix


def _check_inputs(prepared, q, x_scale) -> int:
    if not isinstance(prepared, PreparedMatrix):
        raise NanochatError(f"matmul() takes a PreparedMatrix from prepare(), got {type(prepared).__name__}")
    m, k = prepared.shape
    if not isinstance(q, np.ndarray) or q.dtype != np.int8 or q.ndim != 2:
        raise NanochatError(
            f"activations must be an int8 array of shape (N, {k}); got {getattr(q, 'dtype', type(q).__name__)} "
            f"{getattr(q, 'shape', '')} (quantize with nanochat_cli.ternary.quantize_activations)"
        )
    n = q.shape[0]
    if q.shape[1] != k or n < 1:
        raise NanochatError(f"activations have shape {q.shape} but the matrix is {m}x{k}: expected (N >= 1, {k})")
    if not q.flags.c_contiguous:
        raise NanochatError("activations must be C-contiguous; pass np.ascontiguousarray(q)")
    if not isinstance(x_scale, np.ndarray) or x_scale.dtype != np.float32 or x_scale.shape != (n,):
        raise NanochatError(
            f"x_scale must be a float32 array of shape ({n},), got {getattr(x_scale, 'dtype', type(x_scale).__name__)} "
            f"{getattr(x_scale, 'shape', '')}"
        )
    if not x_scale.flags.c_contiguous:
        raise NanochatError("x_scale must be C-contiguous")
    return n


def _check_out(out, n: int, m: int) -> np.ndarray:
    if out is None:
        return np.empty((n, m), dtype=np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32:
        raise NanochatError(f"out must be a float32 array, got {getattr(out, 'dtype', type(out).__name__)}")
    if out.shape != (n, m):
        raise NanochatError(f"out has shape {out.shape}; this product needs ({n}, {m})")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise NanochatError("out must be a writeable C-contiguous array")
    return out


def _run(prepared, q, x_scale, out, acc, kernel: str | None) -> None:
    ffi, lib = native()
    n = q.shape[0]
    threads = get_threads()
    if kernel:
        name = check_kernel(kernel)
        prepared.ensure_layout_for(name)  # kernel_for ensures it for its own choice
    else:
        name = kernel_for(prepared, n, threads, q)
    rc = lib.tq_matmul(
        KERNEL_IDS[name], prepared.c, ffi.from_buffer("int8_t[]", q), ffi.from_buffer("float[]", x_scale), n,
        ffi.from_buffer("float[]", out, require_writable=True),
        ffi.NULL if acc is None else ffi.from_buffer("int32_t[]", acc, require_writable=True), threads,
    )
    if rc == -2:
        raise MemoryError("tq_matmul could not allocate its activation sums")
    if rc:
        raise NanochatError(f"the {name} kernel cannot run on this CPU")


def matmul(prepared: PreparedMatrix, q: np.ndarray, x_scale: np.ndarray, out: np.ndarray | None = None,
           kernel: str | None = None) -> np.ndarray:
    """y[n, m] = x_scale[n] * sum_g s[m, g] * (exact int32 dot of trits and q[n] over group g); float32 (N, M)."""
    n = _check_inputs(prepared, q, x_scale)
    out = _check_out(out, n, prepared.shape[0])
    _run(prepared, q, x_scale, out, None, kernel)
    return out


def accumulators(prepared: PreparedMatrix, q: np.ndarray, kernel: str) -> np.ndarray:
    """Debug entry point: the exact int32 per-group accumulators acc[n, m, g] a kernel computed (tests use it)."""
    n = _check_inputs(prepared, q, np.ones(q.shape[0] if isinstance(q, np.ndarray) and q.ndim == 2 else 0,
                                           dtype=np.float32))
    m = prepared.shape[0]
    acc = np.zeros((n, m, prepared.n_groups), dtype=np.int32)
    _run(prepared, q, np.ones(n, dtype=np.float32), np.empty((n, m), dtype=np.float32), acc, kernel)
    return acc


def kernel_id(prepared: PreparedMatrix, n: int, threads: int) -> int:
    """The tq_kernel id (native/ternary.h) of the kernel `matmul` picks for n activation rows on `threads` threads
    (measured once per shape class if not cached, as matmul measures it)."""
    return KERNEL_IDS[kernel_for(prepared, n, threads)]


def matmul_trusted(prepared: PreparedMatrix, q: np.ndarray, x_scale: np.ndarray) -> np.ndarray:
    """`matmul` for callers whose inputs are well formed by construction (the engine's decode steps): q int8 (N, K)
    and x_scale float32 (N,), both C-contiguous. It skips matmul's checks and lookups (~15 us a call, about a tenth
    of a 700M model's decode step over its 96 products) and asks the dispatcher once per batch class (1, 2-4, 5+
    rows) and thread count, remembering the answer on the matrix. A kernel that refuses to run sends the call
    through `matmul`, which raises its clear error."""
    n, threads = q.shape[0], get_threads()
    key = (1 if n == 1 else 4 if n <= 4 else 8, threads)
    kid = prepared.kernel_ids.get(key)
    if kid is None:
        kid = prepared.kernel_ids[key] = kernel_id(prepared, n, threads)
    ffi, lib = native()
    out = np.empty((n, prepared.shape[0]), np.float32)
    rc = lib.tq_matmul(kid, prepared.c, ffi.from_buffer("int8_t[]", q), ffi.from_buffer("float[]", x_scale), n,
                       ffi.from_buffer("float[]", out, require_writable=True), ffi.NULL, threads)
    if rc:
        return matmul(prepared, q, x_scale)
    return out
