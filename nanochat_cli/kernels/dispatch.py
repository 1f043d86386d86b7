"""Which kernel runs: CPU support (CPUID + XGETBV, in C), NANOCHAT_KERNEL, and per-shape autotune cached on disk.

Among the kernels this CPU supports, the first product of a (shape, group size, batch, threads) times each
SIMD kernel a few times on the matrix at hand and remembers the fastest in
`$NANOCHAT_CACHE_DIR/autotune.json` (default `~/.cache/nanochat/`), keyed by the CPU's brand string.
`NANOCHAT_KERNEL=scalar|avx2|avx512vnni|avx512vbmi-tq16|avx512vbmi-lut` forces one kernel; `NANOCHAT_AUTOTUNE=0`
skips the measurement and takes the widest instruction set. (`NANOCHAT_THREADS`, the default thread count, is
native.py's.)

The 1.6-bit kernel (avx512vbmi-tq16) is never autotuned: autotune times a product hot, in cache, where it loses
(it decodes more per byte); it wins only when the weights stream from DRAM, which depends on the whole model, not
the matrix. `tq16_wanted` is that rule; NativeModel applies it at load, and `NANOCHAT_TQ16=0` turns it off.

The lookup-table kernel (avx512vbmi-lut) joins the autotune candidates only where `lut_wanted` holds: a GEMM
(n > 1) and `NANOCHAT_LUT=1`. It is opt-in because on the CPUs it was measured on it is slower than the 2-bit
kernel on a core of its own: 0.77-0.93x on an Intel Xeon whose two 512-bit ports both run vpdpbusd but only one
runs vpermb, 0.83-0.97x on Zen 4. On the Xeon it won (1.1-1.2x) only while the sibling hyperthread was busy with
other FMA work, a state a cached choice cannot follow (docs/BENCHMARKS.md, ## kernels). Where it is a candidate, autotune builds its layout, times it against the
others, and frees the layout if it lost.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels.native import KERNEL_IDS, LUT_KERNEL, TQ16_KERNEL, get_threads, native
from nanochat_cli.kernels.prepared import prepare
from nanochat_cli.ternary import PlanarWeights

_AUTOTUNE_REPS = 5
_AUTOTUNE_ROUNDS = 3
# The 1.6-bit kernel runs a GEMV only on models of more than this many last-level caches of ternary weights: a
# decode step sweeps every matrix once, so with LRU-like replacement a sweep over more than the cache finds almost
# none of it still there; the factor leaves room for the KV cache, activations and other tenants of a shared cache.
TQ16_LLC_FACTOR = 2
# ... and on at least this many threads: one thread of this kernel is slower than one core's DRAM read rate
TQ16_MIN_THREADS = 2
LLC_FALLBACK_BYTES = 32 << 20  # one Zen 4 CCD's L3; a typical server last-level cache per socket or more
_lock = threading.Lock()
_memo: dict[str, str] = {}


def available_kernels() -> list[str]:
    """Kernels this CPU and OS can run, simplest first (scalar is always there)."""
    return list(_supported())


@lru_cache(maxsize=1)
def _supported() -> tuple[str, ...]:
    _, lib = native()
    return tuple(name for name, kid in KERNEL_IDS.items() if lib.tq_cpu_supports(kid))


def check_kernel(name: str) -> str:
    if name not in KERNEL_IDS:
        raise NanochatError(f"unknown kernel {name!r}; choose one of {', '.join(KERNEL_IDS)}")
    if name not in _supported():
        raise NanochatError(f"this CPU cannot run the {name} kernel; it supports {', '.join(available_kernels())}")
    return name


def forced_kernel() -> str | None:
    name = os.environ.get("NANOCHAT_KERNEL")
    return check_kernel(name) if name else None


def cache_path() -> Path:
    root = os.environ.get("NANOCHAT_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "nanochat") / "autotune.json"


def _key(shape: tuple[int, int], group_size: int, n: int, threads: int) -> str:
    batch = 1 if n == 1 else (4 if n <= 4 else 8)  # GEMV, small GEMM, large GEMM
    # a choice made with the lookup-table kernel among the candidates is kept apart from one made without it
    return f"{shape[0]}x{shape[1]}/g{group_size}/n{batch}/t{threads}" + ("/lut" if lut_wanted(n) else "")


def _load_cache() -> dict[str, str]:
    path = cache_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("cpu") != _cpu() or not isinstance(data.get("kernels"), dict):
        return {}
    return {k: v for k, v in data["kernels"].items() if isinstance(v, str)}


def _save_cache(entries: dict[str, str]) -> None:
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"cpu": _cpu(), "kernels": entries}, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs a re-measurement next run


def _cpu() -> str:
    ffi, lib = native()
    return ffi.string(lib.tq_cpu_brand()).decode(errors="replace").strip()


def _candidates(n: int = 1) -> list[str]:
    """The kernels autotune times for n activation rows: not the 1.6-bit one, which only tq16_wanted picks, and the
    lookup-table one only where lut_wanted(n) holds (see the module docstring)."""
    simd = [k for k in available_kernels() if k not in ("scalar", TQ16_KERNEL, LUT_KERNEL)]
    if lut_wanted(n):
        simd.append(LUT_KERNEL)
    return simd or ["scalar"]


def lut_wanted(n: int) -> bool:
    """Whether autotune times the lookup-table kernel for n activation rows: a GEMM (n > 1: its per-row tables and
    layout only pay where several activation rows share each index load), NANOCHAT_LUT=1, and a CPU with AVX-512
    VBMI. Opt-in: on the CPU it was measured on it loses to the 2-bit kernel on a core of its own (module docstring)."""
    return n > 1 and os.environ.get("NANOCHAT_LUT", "0") == "1" and LUT_KERNEL in _supported()


@lru_cache(maxsize=1)
def llc_bytes() -> int:
    """This CPU's last-level (L3) cache size in bytes, from sysfs; the largest cache listed, or a 32 MiB guess."""
    sizes: dict[int, int] = {}
    for d in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            level = int((d / "level").read_text())
            text = (d / "size").read_text().strip().upper()
            unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
            sizes[level] = max(sizes.get(level, 0), int(text.rstrip("KMG")) * unit)
        except (OSError, ValueError):
            continue
    if 3 in sizes:
        return sizes[3]
    return max(sizes.values()) if sizes else LLC_FALLBACK_BYTES


def tq16_wanted(model_bytes: int, n: int, threads: int, llc: int | None = None) -> bool:
    """Whether a product of n activation rows on `threads` threads, in a model of `model_bytes` ternary weight bytes
    (2-bit layout, all its matrices), should run the 1.6-bit kernel: a GEMV (n == 1) on at least TQ16_MIN_THREADS
    threads, a model of more than TQ16_LLC_FACTOR last-level caches (`llc`, default llc_bytes()), a CPU with
    AVX-512 VBMI, and NANOCHAT_TQ16 not "0". NANOCHAT_KERNEL, when set, overrides this.

    Why: the kernel reads 20% fewer bytes but decodes more per byte, so it is faster only where memory, not the
    core, is the limit (Zen 4, docs/BENCHMARKS.md ## kernels): DRAM-cold GEMV 1.14-1.17x at 2 threads; in cache
    ~0.6x; at 8 rows ~0.75x (the 2-bit decode is shared across rows); and at 1 thread 0.82-0.86x cold, because one
    core decodes it at ~23 GB/s of 1.6-bit codes, less than the ~33 GB/s one core can read, while the 2-bit kernel
    keeps up with that read rate. A whole decode step: 1.07-1.10x at 2 threads (700M and 2B shapes), 0.96-1.02x
    at 1."""
    if os.environ.get("NANOCHAT_TQ16", "1") == "0" or n != 1 or threads < TQ16_MIN_THREADS:
        return False
    if TQ16_KERNEL not in _supported():
        return False
    return model_bytes > TQ16_LLC_FACTOR * (llc_bytes() if llc is None else llc)


def time_kernel(prepared, kernel: str, q: np.ndarray, x_scale: np.ndarray, threads: int, reps: int) -> float:
    """Median seconds of one product, timed in C (no Python overhead between calls)."""
    ffi, lib = native()
    out = np.empty((q.shape[0], prepared.shape[0]), dtype=np.float32)
    ns = np.empty(reps, dtype=np.float64)
    rc = lib.tq_time_matmul(
        KERNEL_IDS[kernel], prepared.c, 1, ffi.from_buffer("int8_t[]", q), ffi.from_buffer("float[]", x_scale),
        q.shape[0], ffi.from_buffer("float[]", out), threads, reps, ffi.from_buffer("double[]", ns),
    )
    if rc:
        raise NanochatError(f"kernel {kernel} failed (code {rc})")
    return float(np.median(ns)) * 1e-9


def tune(prepared, n: int, threads: int, q: np.ndarray | None = None) -> str:
    """Time every candidate kernel on `prepared` with n activation columns; cache and return the fastest."""
    key = _key(prepared.shape, prepared.group_size, n, threads)
    cands = _candidates(n)
    if len(cands) == 1:
        return cands[0]
    lut_before = prepared.codes_lut is not None
    if LUT_KERNEL in cands:
        prepared.ensure_lut()
    if q is None:
        q = np.random.default_rng(0).integers(-127, 128, size=(n, prepared.shape[1]), dtype=np.int8)
    x_scale = np.ones(q.shape[0], dtype=np.float32)
    # rounds alternate the kernels and keep each one's best median: on a shared machine other processes
    # only ever add time, so the least disturbed round is the fairest comparison
    times = dict.fromkeys(cands, float("inf"))
    for _ in range(_AUTOTUNE_ROUNDS):
        for k in cands:
            times[k] = min(times[k], time_kernel(prepared, k, q, x_scale, threads, _AUTOTUNE_REPS))
    best = min(times, key=times.get)
    if best != LUT_KERNEL and not lut_before:
        prepared.drop_lut()  # measured and lost: the layout is not kept
    with _lock:
        entries = _load_cache()
        entries[key] = best
        _memo[key] = best
        _save_cache(entries)
    return best


def _lookup(key: str) -> str | None:
    with _lock:
        if key not in _memo:
            _memo.update(_load_cache())
        name = _memo.get(key)
    return name if name in _supported() else None


def kernel_for(prepared, n: int, threads: int, q: np.ndarray | None = None) -> str:
    """The kernel `matmul(kernel=None)` runs: forced, else the 1.6-bit one where tq16_wanted holds and its layout
    was built, else cached, else measured now (once per key).

    Remembered on the matrix itself per (batch class, threads, environment), so a decode loop pays a
    dict lookup, not a cache-file lookup, per call."""
    env = os.environ
    memo_key = (1 if n == 1 else (4 if n <= 4 else 8), threads, env.get("NANOCHAT_KERNEL"),
                env.get("NANOCHAT_AUTOTUNE"), env.get("NANOCHAT_TQ16"), env.get("NANOCHAT_LUT"),
                prepared.codes16 is not None, prepared.model_bytes)
    memo = prepared.__dict__.setdefault("_kernel_choice", {})
    name = memo.get(memo_key)
    if name is None:
        name = memo[memo_key] = _choose(prepared, n, threads, q)
    prepared.ensure_layout_for(name)  # forced onto a matrix whose model did not build it, or a cached choice
    return name


def _known_choice(shape: tuple[int, int], group_size: int, n: int, threads: int) -> str | None:
    """The kernel for this key without measuring: forced, widest when autotune is off, else cached (or None)."""
    forced = forced_kernel()
    if forced:
        return forced
    if os.environ.get("NANOCHAT_AUTOTUNE", "1") == "0":
        return _candidates()[-1]  # the widest 2-bit kernel: the lookup-table one is only ever picked by measurement
    return _lookup(_key(shape, group_size, n, threads))


def _choose(prepared, n: int, threads: int, q: np.ndarray | None) -> str:
    """Forced, else the 1.6-bit kernel where its layout was built (the model asked) and tq16_wanted holds, else
    the autotuned 2-bit one."""
    forced = forced_kernel()
    if forced:
        return forced
    if prepared.codes16 is not None and tq16_wanted(prepared.model_bytes, n, threads):
        return TQ16_KERNEL
    return _known_choice(prepared.shape, prepared.group_size, n, threads) or tune(prepared, n, threads, q)


def selected_kernel(shape: tuple[int, int], n: int, group_size: int = 128, threads: int | None = None) -> str:
    """The kernel matmul picks for an (M, K) matrix and n columns, tuning on a random matrix if not cached."""
    threads = get_threads() if threads is None else threads
    known = _known_choice((int(shape[0]), int(shape[1])), group_size, n, threads)
    if known:
        return known
    rng = np.random.default_rng(0)
    trits = rng.integers(-1, 2, size=shape, dtype=np.int8)
    n_groups = 1 if group_size == 0 else shape[1] // group_size
    scales = np.ones((1, 1) if group_size == 0 else (shape[0], n_groups), dtype=np.float32)
    return tune(prepare(PlanarWeights.from_trits(trits, scales, group_size)), n, threads)
