"""Interleaved A/B of single-token decode: the 2-bit kernels (NANOCHAT_TQ16=0) vs the 1.6-bit GEMV kernel, one process.

Run: `PYTHONPATH=. python benchmarks/tq16/ab_decode.py --shape 2b --threads 2,1 --pairs 24` (the model file is the one
benchmarks/decode.py writes, in --dir). One weights load, two NativeModels built from it (the first with the 1.6-bit
path off, the second with it on, as dispatch.tq16_wanted decides). Per pair: a burst of --burst decode steps on each,
the order alternating pair to pair; the figure is the median over pairs of t(2-bit) / t(1.6-bit) (> 1: the 1.6-bit
kernel is faster), so the host's bandwidth swings fall on both sides of each ratio alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def build(weights, tq16: bool):
    from nanochat_cli.infer import NativeModel

    os.environ["NANOCHAT_TQ16"] = "1" if tq16 else "0"  # read by tq16_wanted at load and at each kernel choice
    model = NativeModel(weights)
    built = sum(lin.prepared.codes16 is not None for lin in model.ternary_linears())
    return model, built


def burst(engines: dict, toks: dict, name: str, steps: int) -> float:
    """Seconds of `steps` single-token decode steps on one engine (fixed token ids: the weights are random)."""
    eng, tok = engines[name], toks[name]
    t0 = time.perf_counter()
    for _ in range(steps):
        eng.decode([0], [tok])
        tok = (tok * 7 + 3) % 1000 + 10
    toks[name] = tok
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="2b")
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--pairs", type=int, default=24)
    ap.add_argument("--burst", type=int, default=8, help="decode steps per side per pair")
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "nanochat-bench")
    ap.add_argument("--min-threads", type=int, default=None,
                    help="override dispatch.TQ16_MIN_THREADS, e.g. 1 to time the 1.6-bit kernel on one thread")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.min_threads is not None:
        from nanochat_cli.kernels import dispatch

        dispatch.TQ16_MIN_THREADS = args.min_threads

    from nanochat_cli.formats import load_model_weights
    from nanochat_cli.infer import Engine
    from nanochat_cli.kernels import set_threads
    from nanochat_cli.kernels.dispatch import llc_bytes

    path = args.dir / f"random-{args.shape}-tq2_0.gguf"
    if not path.exists():
        sys.exit(f"{path} is missing: run `python benchmarks/decode.py --shape {args.shape} --no-llama` once")
    t = time.perf_counter()
    weights = load_model_weights(path)
    off, _ = build(weights, False)
    on, built = build(weights, True)
    total = sum(lin.prepared.nbytes for lin in on.ternary_linears())
    print(f"loaded {path.name} in {time.perf_counter() - t:.0f} s: {total / 2**20:.0f} MiB of 2-bit ternary weights, "
          f"LLC {llc_bytes() / 2**20:.0f} MiB, 1.6-bit layout on {built} matrices", flush=True)
    if not built:
        sys.exit("the 1.6-bit layout was not built (CPU without VBMI, or the model fits the rule's cache bound)")

    prompt = [int(x) for x in np.random.default_rng(1).integers(10, 1000, 16)]
    results = []
    for threads in [int(x) for x in args.threads.split(",")]:
        set_threads(threads)
        ctx = len(prompt) + args.burst * (args.pairs + 2) + 4
        engines = {"2bit": Engine(off, n_slots=1, ctx=ctx), "tq16": Engine(on, n_slots=1, ctx=ctx)}
        toks = {}
        for name, eng in engines.items():
            eng.prefill(0, prompt)
            toks[name] = prompt[-1]

        burst(engines, toks, "2bit", args.burst), burst(engines, toks, "tq16", args.burst)  # warm-up
        ratios, t2, t16 = [], [], []
        for i in range(args.pairs):
            order = ("2bit", "tq16") if i % 2 == 0 else ("tq16", "2bit")
            times = {name: burst(engines, toks, name, args.burst) for name in order}
            ratios.append(times["2bit"] / times["tq16"])
            t2.append(args.burst / times["2bit"])
            t16.append(args.burst / times["tq16"])
        q = np.percentile(ratios, [10, 25, 50, 75, 90])
        row = {"shape": args.shape, "threads": threads, "pairs": args.pairs, "burst": args.burst,
               "median_ratio": statistics.median(ratios), "p10": q[0], "p25": q[1], "p75": q[3], "p90": q[4],
               "min": min(ratios), "max": max(ratios), "decode_tps_2bit": statistics.median(t2),
               "decode_tps_tq16": statistics.median(t16)}
        results.append(row)
        print(f"{args.shape} {threads}T: tq16 / 2-bit decode speed, median of {args.pairs} paired ratios "
              f"{row['median_ratio']:.3f}x (p25-p75 {q[1]:.3f}-{q[3]:.3f}, p10-p90 {q[0]:.3f}-{q[4]:.3f}, "
              f"min {row['min']:.3f} max {row['max']:.3f}); decode tok/s medians 2-bit {row['decode_tps_2bit']:.2f}, "
              f"tq16 {row['decode_tps_tq16']:.2f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
