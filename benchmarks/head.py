"""The Q6_K output head alone (`Q6KLinear`, native/heads.c): milliseconds per single-token call.

Run: `python benchmarks/head.py [--vocab 128256 --dim 2560] [--threads 1,2]` (defaults: the 2B shape's tied
embedding, 269 MB of Q6_K blocks, which no cache holds: every call streams it from DRAM). Random blocks with a
small d, one token of int8 activations; medians of --repeats calls after one warm-up. To compare two builds, run
it in each checkout (it uses only `Q6KLinear`'s constructor and call).
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
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
