"""Benchmark the ternary formats: ternarize + pack of a 4096 x 11008 matrix, and lazy (mmap) GGUF loading.

Run: `python benchmarks/ternary_formats.py [--gguf-mb 500]`. Prints medians; record them in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from nanochat_cli.formats.gguf_io import read_gguf, write_gguf
from nanochat_cli.ternary import PlanarWeights, pack_trits, ternarize


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_ternarize(repeats: int) -> None:
    w = np.random.default_rng(0).standard_normal((4096, 11008)).astype(np.float32)
    for group_size in (0, 128):
        times, copy_times = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            t, s = ternarize(w, group_size)
            pack_trits(t)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            w.copy()  # baseline: one pass over the same 180 MB
            copy_times.append(time.perf_counter() - t0)
        print(f"ternarize+pack 4096x11008 G={group_size}: median {statistics.median(times):.3f} s "
              f"(baseline memcpy of the matrix {statistics.median(copy_times):.3f} s; {repeats} runs)")


def bench_mmap(size_mb: int) -> None:
    rows = size_mb * 2**20 // (4096 // 4 + 4 * 32)  # trits + per-128 scales per row of 4096
    with tempfile.TemporaryDirectory() as d:
        chunk = PlanarWeights.from_float(np.random.default_rng(1).standard_normal((4096, 4096)).astype(np.float32), 128)
        n = max(1, rows // 4096)
        path = write_gguf(Path(d) / "big.gguf", [(f"w{i}", chunk) for i in range(n)], {}, group_size=128)
        size = os.path.getsize(path) / 2**20
        before = rss_mb()
        f = read_gguf(path)
        planars = [f.planar(f"w{i}") for i in range(n)]
        opened = rss_mb()
        total = sum(int(p.packed[:, ::4096].sum()) for p in planars[:1])  # touch one tensor's first page per row
        touched_one = rss_mb()
        for p in planars:
            total += int(p.packed.sum(dtype=np.uint64))
        touched_all = rss_mb()
        print(f"GGUF {size:.0f} MiB: RSS +{opened - before:.1f} MiB after open + planar views, "
              f"+{touched_one - before:.1f} MiB after touching one tensor's rows, "
              f"+{touched_all - before:.1f} MiB after reading every tensor")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gguf-mb", type=int, default=500)
    a = ap.parse_args()
    bench_ternarize(a.repeats)
    bench_mmap(a.gguf_mb)
