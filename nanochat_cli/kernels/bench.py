"""`nanochat bench-kernels`: time every kernel per shape x threads x batch against this machine's own rooflines.

Timing runs in C (tq_time_matmul: no Python between calls); figures are medians. Rooflines are measured by
the same run: read bandwidth of a buffer the size of the weights (hot) or of 256 MiB (DRAM, cold mode),
one core's vpdpbusd rate, and its vpermb + vpaddw rate (the lookup-table kernel's ceiling). Baselines: the
scalar kernel and numpy float32 matmul of the same shape (BLAS pinned to the same thread count where numpy's
OpenBLAS allows it). Cold mode cycles through distinct copies of the weights totalling >= 1 GiB, so every
product streams its weights from DRAM.
"""

from __future__ import annotations

import glob
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nanochat_cli.atomic_write import check_output_path, write_text_atomic
from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels.cuda import cuda_status
from nanochat_cli.kernels.dispatch import available_kernels, check_kernel, kernel_for
from nanochat_cli.kernels.native import KERNEL_IDS, LUT_KERNEL, TQ16_KERNEL, native
from nanochat_cli.kernels.prepared import PreparedMatrix, prepare
from nanochat_cli.ternary import PlanarWeights, aligned_empty, dequantize, unpack_trits

DEFAULT_SHAPES = "768x768,768x2048,2048x768,4096x4096,4096x11008,11008x4096"
COLD_BYTES = 1 << 30
DRAM_PROBE_BYTES = 256 << 20
TARGET_SECONDS = 0.25  # per measured configuration
CUDA_KERNEL = "cuda-dp4a"


@dataclass
class Row:
    kernel: str
    shape: tuple[int, int]
    mode: str
    threads: int
    batch: int
    median_us: float
    gops: float
    weight_gbs: float
    roofline_gbs: float | None
    roofline_pct: float | None
    vs_scalar: float | None = None
    vs_numpy: float | None = None
    int8_peak_pct: float | None = None  # GOPS against `threads` x one core's vpdpbusd peak (the compute roofline)
    picked: bool = False
    reps: int = 0


@dataclass
class Report:
    date: str
    machine: dict
    args: dict
    probes: dict = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    numpy_us: dict = field(default_factory=dict)


def parse_shapes(text: str) -> list[tuple[int, int]]:
    shapes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise NanochatError(f"bad shape {item!r}: write shapes as MxK, e.g. --shapes 4096x4096,768x2048")
        m, k = int(parts[0]), int(parts[1])
        if m < 1 or k < 128 or k % 128:
            raise NanochatError(f"bad shape {item!r}: K must be a positive multiple of 128 (the group size)")
        shapes.append((m, k))
    return shapes


def parse_counts(text: str, what: str, high: int) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NanochatError(f"bad {what} list {text!r}: write integers separated by commas, e.g. 1,2") from None
    if not values or any(v < 1 or v > high for v in values):
        raise NanochatError(f"bad {what} list {text!r}: each value must be from 1 to {high}")
    return values


def random_prepared(shape: tuple[int, int], seed: int = 0) -> PreparedMatrix:
    rng = np.random.default_rng(seed)
    m, k = shape
    trits = rng.integers(-1, 2, size=shape, dtype=np.int8)
    scales = rng.uniform(0.5, 1.5, size=(m, k // 128)).astype(np.float32)
    return prepare(PlanarWeights.from_trits(trits, scales, 128))


def cold_copies(prepared: PreparedMatrix, total_bytes: int):
    """A C array of tq_weights, each pointing at its own copy of the layouts, plus the memory backing them.

    The optional layouts (1.6-bit codes, lookup-table indices), when built, are copied too (after the 2-bit ones):
    each kernel then streams its own layout from DRAM, while the count of copies stays the same for all, so every
    kernel sees the same sweep."""
    ffi, _ = native()
    n = max(2, math.ceil(total_bytes / prepared.nbytes))
    extras = [(f, a) for f, a in (("codes16", prepared.codes16), ("codes_lut", prepared.codes_lut)) if a is not None]
    size = prepared.nbytes + sum(a.nbytes for _, a in extras)
    stride = (size + 4095) // 4096 * 4096  # page-aligned copies: no line is shared between two
    pool = aligned_empty((n * stride,), np.uint8, align=4096)
    ws = ffi.new("tq_weights[]", n)
    for i in range(n):
        codes = pool[i * stride : i * stride + prepared.codes.nbytes]
        scales = pool[i * stride + prepared.codes.nbytes : i * stride + prepared.nbytes].view(np.float32)
        codes[...] = prepared.codes
        scales[...] = prepared.scales
        ws[i] = prepared.c[0]
        ws[i].codes = ffi.cast("uint8_t *", codes.ctypes.data)
        ws[i].scales = ffi.cast("float *", scales.ctypes.data)
        at = i * stride + prepared.nbytes
        for name, src in extras:
            copy = pool[at : at + src.nbytes]
            copy[...] = src
            setattr(ws[i], name, ffi.cast("uint8_t *", copy.ctypes.data))
            at += (src.nbytes + 63) // 64 * 64  # the kernels read these lines with aligned loads
    return ws, n, pool


def time_native(kernel: str, ws, n_w: int, q: np.ndarray, threads: int, reps: int | None) -> tuple[float, int]:
    """Median seconds per product; reps chosen to fill TARGET_SECONDS unless given."""
    ffi, lib = native()
    n = q.shape[0]
    x_scale = np.ones(n, np.float32)
    out = np.empty((n, ws[0].M), np.float32)
    args = (ffi.from_buffer("int8_t[]", q), ffi.from_buffer("float[]", x_scale), n, ffi.from_buffer("float[]", out))

    def run(count: int) -> np.ndarray:
        ns = np.empty(count, np.float64)
        rc = lib.tq_time_matmul(KERNEL_IDS[kernel], ws, n_w, args[0], args[1], args[2], args[3], threads, count,
                                ffi.from_buffer("double[]", ns))
        if rc:
            raise NanochatError(f"kernel {kernel} failed (code {rc})")
        return ns

    warm = run(1 if kernel == "scalar" else 2)
    if reps is None:
        reps = int(np.clip(TARGET_SECONDS / max(float(np.min(warm)) * 1e-9, 1e-7), 5, 2000))
        if n_w > 1:  # cold: whole passes over the copies, so no copy is still cached from the last visit
            reps = max(n_w, reps // n_w * n_w)
    return float(np.median(run(reps))) * 1e-9, reps


def _blas_set_threads() -> Callable[[int], None] | None:
    """numpy's bundled OpenBLAS thread setter, through cffi's ABI mode; None where numpy links another BLAS."""
    import cffi

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas*.so"))
    if not libs:
        return None
    ffi = cffi.FFI()
    ffi.cdef("void scipy_openblas_set_num_threads64_(int);")
    try:
        lib = ffi.dlopen(libs[0])
        fn = lib.scipy_openblas_set_num_threads64_
    except (OSError, AttributeError):
        return None
    return lambda n: fn(int(n))


def time_numpy(w: np.ndarray, n: int, threads: int, set_blas) -> float:
    """Median seconds of x @ W.T in float32: what a user would otherwise run."""
    x = np.random.default_rng(1).standard_normal((n, w.shape[1])).astype(np.float32)
    if set_blas:
        set_blas(threads)
    x @ w.T
    times = []
    deadline = time.perf_counter() + TARGET_SECONDS
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 200):
        t0 = time.perf_counter()
        x @ w.T
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def machine_info() -> dict:
    ffi, lib = native()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": ffi.string(lib.tq_cpu_brand()).decode(errors="replace").strip(),
        "cpus": os.cpu_count(),
        "numa_nodes": int(lib.tq_numa_nodes()),
        "kernels": available_kernels(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average_before": load,
    }


def run_bench(shapes: list[tuple[int, int]], threads: list[int], batches: list[int], cold: bool = False,
              kernels: list[str] | None = None, with_numpy: bool = True,
              progress: Callable[[str], None] | None = None) -> Report:
    """Measure every (kernel, shape, threads, batch); `picked` marks the kernel the dispatcher chooses."""
    _, lib = native()
    kernels_given = kernels
    kernels = [check_kernel(k) for k in kernels if k != CUDA_KERNEL] if kernels else available_kernels()
    say = progress or (lambda msg: None)
    report = Report(
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine_info(),
        args={"shapes": [f"{m}x{k}" for m, k in shapes], "threads": threads, "batch": batches, "cold": cold,
              "kernels": kernels},
    )
    say("measuring the rooflines")
    peak = float(lib.tq_int8_dot_peak())
    report.probes["int8_dot_peak_gops_per_core"] = peak / 1e9 if peak > 0 else None
    lut_peak = float(lib.tq_lut_lookup_peak()) if LUT_KERNEL in kernels else -1.0
    report.probes["lut_lookup_peak_gops_per_core"] = lut_peak / 1e9 if lut_peak > 0 else None
    dram = {t: lib.tq_read_bandwidth(DRAM_PROBE_BYTES, t, 5) / 1e9 for t in threads} if cold else {}
    report.probes["dram_read_gbs"] = {str(t): v for t, v in dram.items()}
    report.probes["hot_read_gbs"] = {}
    set_blas = _blas_set_threads() if with_numpy else None
    with_cuda = cuda_status()[0] and (kernels_given is None or CUDA_KERNEL in kernels_given)
    if kernels_given and CUDA_KERNEL in kernels_given and not with_cuda:
        raise NanochatError(f"cannot time {CUDA_KERNEL}: {cuda_status()[1]}")
    report.probes["cuda"] = cuda_status()[1]
    report.probes["numpy_blas_threads_pinned"] = bool(set_blas)
    for shape in shapes:
        say(f"{shape[0]}x{shape[1]}: preparing weights")
        prepared = random_prepared(shape)
        for kernel in kernels:
            prepared.ensure_layout_for(kernel)
        if cold:
            ws, n_w, backing = cold_copies(prepared, COLD_BYTES)
            prepared.model_bytes = n_w * prepared.nbytes  # the sweep tq16_wanted weighs: a model this size
        else:
            ws, n_w, backing = prepared.c, 1, None
        w = None
        if with_numpy:
            w = dequantize(unpack_trits(prepared.planar.packed), prepared.planar.scales, prepared.group_size)
        for t in threads:
            if cold:
                roof = dram[t]
            else:
                roof = lib.tq_read_bandwidth(prepared.nbytes, t, 21) / 1e9
                report.probes["hot_read_gbs"][f"{shape[0]}x{shape[1]}/t{t}"] = roof
            for n in batches:
                q = np.random.default_rng(2).integers(-127, 128, size=(n, shape[1]), dtype=np.int8)
                picked = kernel_for(prepared, n, t, q)
                numpy_s = None
                if with_numpy:
                    say(f"{shape[0]}x{shape[1]} T{t} N{n}: numpy float32")
                    numpy_s = time_numpy(w, n, t, set_blas)
                    report.numpy_us[f"{shape[0]}x{shape[1]}/t{t}/n{n}"] = numpy_s * 1e6
                group: list[Row] = []
                for kernel in kernels:
                    say(f"{shape[0]}x{shape[1]} T{t} N{n}: {kernel}")
                    reps = 3 if kernel == "scalar" else None
                    sec, reps = time_native(kernel, ws, min(n_w, 3) if kernel == "scalar" else n_w, q, t, reps)
                    streamed = {TQ16_KERNEL: prepared.nbytes16, LUT_KERNEL: prepared.nbytes_lut}
                    gbs = streamed.get(kernel, prepared.nbytes) / sec / 1e9
                    gops = 2.0 * shape[0] * shape[1] * n / sec / 1e9
                    group.append(Row(kernel, shape, "cold" if cold else "hot", t, n, sec * 1e6, gops, gbs, roof,
                                     100.0 * gbs / roof, picked=kernel == picked, reps=reps,
                                     vs_numpy=numpy_s / sec if numpy_s else None,
                                     int8_peak_pct=100.0 * gops / (peak / 1e9 * t) if peak > 0 else None))
                scalar = next((r for r in group if r.kernel == "scalar"), None)
                for r in group:
                    r.vs_scalar = scalar.median_us / r.median_us if scalar else None
                report.rows.extend(group)
        if with_cuda:
            report.rows.extend(_cuda_rows(prepared, batches, cold, say))
        del backing, w
    report.machine["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return report


def _cuda_rows(prepared: PreparedMatrix, batches: list[int], cold: bool, say) -> list[Row]:
    """The CUDA dp4a kernel's rows (threads shown as 0): the GPU joins the table when one is present."""
    from nanochat_cli.kernels.cuda import CudaMatrix, time_cuda

    cm = CudaMatrix(prepared.planar)
    rows = []
    m, k = prepared.shape
    for n in batches:
        say(f"{m}x{k} N{n}: {CUDA_KERNEL}")
        q = np.random.default_rng(2).integers(-127, 128, size=(n, k), dtype=np.int8)
        sec = time_cuda(cm, q)
        rows.append(Row(CUDA_KERNEL, prepared.shape, "cold" if cold else "hot", 0, n, sec * 1e6,
                        2.0 * m * k * n / sec / 1e9, prepared.planar.nbytes / sec / 1e9, None, None, reps=50))
    return rows


def check_json_path(path: Path) -> None:
    """Refuse an unwritable or special output path (atomic_write.py) before any timing runs, not after."""
    check_output_path(path, "--json")


def write_json(report: Report, path: Path) -> None:
    write_text_atomic(path, json.dumps(asdict(report), indent=1), "--json")
