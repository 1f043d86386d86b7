"""An output head alone (native/heads.c): milliseconds per call.

Run: `python benchmarks/head.py [--vocab 128256 --dim 2560] [--threads 1,2]` (defaults: the 2B shape's tied
embedding, 269 MB of Q6_K blocks, which no cache holds: every call streams it from DRAM). Random blocks with a
small d, one token of int8 activations; medians of --repeats calls after one warm-up. To compare two builds, run
it in each checkout (it uses only `Q6KLinear`'s constructor and call).

`--float --rows 1,8,19,32,64,128` (defaults then: the shipped model's tied float32 head, 8192 x 384): the float
head (`FloatLinear`) on that many rows, its C kernel against numpy's BLAS product on the same rows, alternated,
timed on the process's CPU clock (other jobs on the machine do not count; run with OPENBLAS_NUM_THREADS=1).

`--int8 --rows 1,8,16,32,64` (same default shape): the float head as the engine calls it (`FloatLinear`: C up to 32
rows, BLAS above) against the same matrix as int8 rows (`Int8Linear`, what `--int8-head` runs), alternated, CPU
clock. It uses only the two constructors and calls, so it runs unchanged in an older checkout for an A/B.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=int, default=128256)
    ap.add_argument("--dim", type=int, default=2560)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--float", action="store_true", help="the float32 head: C kernel against BLAS (see above)")
    ap.add_argument("--int8", action="store_true", help="the float32 head against its int8 rows (see above)")
    ap.add_argument("--rows", default="1,8,19,32,64,128")
    args = ap.parse_args()
    if args.float or args.int8:
        float_head(args)
        return

    from nanochat_cli.infer.linear import Q6KLinear
    from nanochat_cli.kernels import set_threads

    m, k = args.vocab, args.dim
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, (m, k // 256, 210), dtype=np.uint8)
    blocks[:, :, 208:210] = np.frombuffer(np.float16(0.01).tobytes(), np.uint8)  # d: finite, small
    head = Q6KLinear(blocks.reshape(m, -1), (m, k))
    del blocks
    x = rng.standard_normal((1, k)).astype(np.float32)
    print(f"Q6_K head {m} x {k} ({head.nbytes / 1e6:.0f} MB), one token, kernel kind {head.kind}")
    for threads in [int(t) for t in args.threads.split(",")]:
        set_threads(threads)
        head(x)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            head(x)
            times.append(time.perf_counter() - t0)
        ms = statistics.median(times) * 1e3
        print(f"{threads} thread(s): {ms:6.2f} ms  ({head.nbytes / ms / 1e6:.1f} GB/s)")


def float_head(args) -> None:
    from nanochat_cli.infer.linear import FloatLinear
    from nanochat_cli.kernels import set_threads

    m, k = (8192, 384) if (args.vocab, args.dim) == (128256, 2560) else (args.vocab, args.dim)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((m, k)).astype(np.float32)
    head = FloatLinear(w)
    if args.int8:
        from nanochat_cli.infer.linear import Int8Linear

        # the engine's float head (C or BLAS by row count) and the same matrix as int8 rows
        contenders, names = (head, Int8Linear(w)), ("float32", "int8")
    else:
        contenders, names = (head._native, lambda v: v @ w.T), ("C", "BLAS")
    print(f"float32 head {m} x {k} ({w.nbytes / 1e6:.1f} MB); ms per call, process CPU time, medians of {args.repeats}")
    print(f"| threads | rows | {names[0]} | {names[1]} | {names[1]} / {names[0]} | {names[0]} per row |")
    print("|---:|---:|---:|---:|---:|---:|")
    for threads in [int(t) for t in args.threads.split(",")]:
        set_threads(threads)
        for n in [int(r) for r in args.rows.split(",")]:
            x = rng.standard_normal((n, k)).astype(np.float32)
            if not args.int8:
                np.testing.assert_allclose(head._native(x), x @ w.T, rtol=1e-4, atol=1e-3)
            c, b = [], []
            for _ in range(args.repeats):
                for fn, out in zip(contenders, (c, b)):
                    t0 = time.process_time()
                    for _ in range(5):
                        fn(x)
                    out.append((time.process_time() - t0) / 5)
            mc, mb = statistics.median(c) * 1e3, statistics.median(b) * 1e3
            print(f"| {threads} | {n} | {mc:.3f} | {mb:.3f} | {mb / mc:.2f} | {mc / n:.3f} |")


if __name__ == "__main__":
    main()
