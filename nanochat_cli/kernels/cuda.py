"""The CUDA dp4a ternary kernel (cuda_dp4a.cu) through CuPy RawKernel: same semantics as `matmul`.

Optional: needs the `cuda` extra (`pip install -e .[cuda]`) and an NVIDIA GPU; `cuda_status()` says
why it cannot run. Usage: `cm = CudaMatrix(planar); y = cuda_matmul(cm, q, x_scale)` (numpy in, numpy out).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary import PlanarWeights

SOURCE = Path(__file__).with_name("cuda_dp4a.cu")
ROWS_PER_BLOCK = 8  # warps per thread block, one output row each
NCOL = 4  # activation columns per block (must match NCOL in the .cu file)


def cuda_status() -> tuple[bool, str]:
    """(usable, reason): whether CuPy imports and sees a CUDA device."""
    try:
        import cupy
    except ImportError:
        return False, "CuPy is not installed (install the package's cuda extra, or cupy-cuda12x)"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CuPy raises its own runtime errors when no driver is present
        return False, f"no usable CUDA driver ({type(e).__name__}: {e})"
    if count < 1:
        return False, "no CUDA device"
    return True, f"{count} CUDA device(s)"


@lru_cache(maxsize=1)
def _kernel():
    ok, why = cuda_status()
    if not ok:
        raise NanochatError(f"the CUDA kernel cannot run: {why}")
    import cupy

    return cupy.RawKernel(SOURCE.read_text(), "ternary_gemm_dp4a", options=("--std=c++14",))


class CudaMatrix:
    """A PlanarWeights uploaded to the GPU (the kernel reads the planar codes directly)."""

    def __init__(self, planar: PlanarWeights):
        import cupy

        _kernel()
        self.shape = planar.shape
        self.group_size = planar.group_size
        self.n_groups = planar.n_groups
        self.codes = cupy.asarray(planar.packed)
        self.scales = cupy.asarray(planar.scales.reshape(-1))


def _upload(cm: CudaMatrix, q: np.ndarray, x_scale: np.ndarray):
    import cupy

    k = cm.shape[1]
    if q.dtype != np.int8 or q.ndim != 2 or q.shape[1] != k:
        raise NanochatError(f"activations must be int8 (N, {k}), got {q.dtype} {q.shape}")
    n = q.shape[0]
    if x_scale.dtype != np.float32 or x_scale.shape != (n,):
        raise NanochatError(f"x_scale must be float32 ({n},), got {x_scale.dtype} {x_scale.shape}")
    return cupy.asarray(np.ascontiguousarray(q)), cupy.asarray(x_scale)


def _run(cm: CudaMatrix, dq, dx, out, acc) -> None:
    m, k = cm.shape
    n = dq.shape[0]
    group = k if cm.group_size == 0 else cm.group_size
    grid = ((m + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK, (n + NCOL - 1) // NCOL)
    _kernel()(grid, (32, ROWS_PER_BLOCK),
              (cm.codes, cm.scales, np.int32(cm.group_size == 0), dq, dx, out,
               acc if acc is not None else np.uint64(0), np.int32(m), np.int32(k), np.int32(group), np.int32(n)))


def _launch(cm: CudaMatrix, q: np.ndarray, x_scale: np.ndarray, want_acc: bool):
    import cupy

    dq, dx = _upload(cm, q, x_scale)
    out = cupy.empty((q.shape[0], cm.shape[0]), dtype=cupy.float32)
    acc = cupy.zeros((q.shape[0], cm.shape[0], cm.n_groups), dtype=cupy.int32) if want_acc else None
    _run(cm, dq, dx, out, acc)
    return out, acc


def cuda_matmul(cm: CudaMatrix, q: np.ndarray, x_scale: np.ndarray) -> np.ndarray:
    """y = W x on the GPU: float32 (N, M), bit-identical to the C kernels."""
    out, _ = _launch(cm, q, x_scale, False)
    return out.get()


def cuda_accumulators(cm: CudaMatrix, q: np.ndarray) -> np.ndarray:
    """The exact int32 per-group accumulators [N, M, n_groups] (Triangle of Truth tests)."""
    _, acc = _launch(cm, q, np.ones(q.shape[0], np.float32), True)
    return acc.get()


def time_cuda(cm: CudaMatrix, q: np.ndarray, reps: int = 50) -> float:
    """Median seconds of one product on the GPU (CUDA events; activations already on the device)."""
    import cupy

    dq, dx = _upload(cm, q, np.ones(q.shape[0], np.float32))
    out = cupy.empty((q.shape[0], cm.shape[0]), dtype=cupy.float32)
    _run(cm, dq, dx, out, None)
    times = []
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    for _ in range(reps):
        start.record()
        _run(cm, dq, dx, out, None)
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) * 1e-3)
    return float(np.median(times))
