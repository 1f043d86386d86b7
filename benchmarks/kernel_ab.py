"""Interleaved A/B of two kernels on the same matrices: the ratio figures of docs/BENCHMARKS.md on a shared machine.

    python benchmarks/kernel_ab.py --a avx512vnni --b avx512vbmi-lut --shapes 640x384,384x384 \\
        --batch 8,32 --threads 1,2 --rounds 7

Each round times A then B back to back (tq_time_matmul: medians of `reps` products, no Python between them), so
load from other processes falls on both alike; the figure is the median over rounds of time(A) / time(B), > 1 when
B is faster. Absolute times on a loaded machine mean little; the ratio from one run is what to quote.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from nanochat_cli.kernels.bench import parse_counts, parse_shapes, random_prepared, time_native
from nanochat_cli.kernels.dispatch import check_kernel

# The shipped model (models/rust_small.gguf, d_model 384) as the layer stack runs it: fused q|k|v, o, fused
# gate|up, down; then the `small` config (d_model 512, 8 heads of 64 with 4 kv heads, SwiGLU 1024).
DEFAULT_SHAPES = "640x384,384x384,2048x384,384x1024,1024x512,512x512,2048x512,512x1024"


def compare(a: str, b: str, shapes: list[tuple[int, int]], batches: list[int], threads: list[int], rounds: int,
            reps: int) -> list[dict]:
    """One dict per (shape, threads, batch): both kernels' best-round microseconds and the median ratio A / B."""
    rows = []
    for shape in shapes:
        prepared = random_prepared(shape)
        for kernel in (a, b):
            prepared.ensure_layout_for(kernel)
        for t in threads:
            for n in batches:
                q = np.random.default_rng(2).integers(-127, 128, size=(n, shape[1]), dtype=np.int8)
                ratios, best = [], {a: float("inf"), b: float("inf")}
                for _ in range(rounds):
                    sec = {k: time_native(k, prepared.c, 1, q, t, reps)[0] for k in (a, b)}
                    ratios.append(sec[a] / sec[b])
                    best = {k: min(best[k], sec[k]) for k in best}
                rows.append({"shape": f"{shape[0]}x{shape[1]}", "threads": t, "batch": n, "a_us": best[a] * 1e6,
                             "b_us": best[b] * 1e6, "ratio": statistics.median(ratios), "ratio_min": min(ratios),
                             "ratio_max": max(ratios)})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="avx512vnni", help="the baseline kernel")
    ap.add_argument("--b", default="avx512vbmi-lut", help="the kernel measured against it")
    ap.add_argument("--shapes", default=DEFAULT_SHAPES)
    ap.add_argument("--batch", default="8,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=31, help="products per timing (its median is the round's figure)")
    args = ap.parse_args(argv)
    a, b = check_kernel(args.a), check_kernel(args.b)
    rows = compare(a, b, parse_shapes(args.shapes), parse_counts(args.batch, "batch", 256),
                   parse_counts(args.threads, "thread", 64), args.rounds, args.reps)
    print(f"| shape | T | N | {a} us | {b} us | {a} / {b}, median (min-max) of {args.rounds} rounds |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['shape']} | {r['threads']} | {r['batch']} | {r['a_us']:.1f} | {r['b_us']:.1f} | "
              f"{r['ratio']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) |")


if __name__ == "__main__":
    main()
