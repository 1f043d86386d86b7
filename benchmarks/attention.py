"""Fast-mode decode attention (`attention_f32`, native/attention.c) for one layer: microseconds per call.

Run: `python benchmarks/attention.py [--heads 20 --kv-heads 5 --head-dim 128 --position 150]` (defaults: the 2B
shape at the position benchmarks/decode.py ends near). `hot` repeats one layer's cache, so it stays in cache;
`cold` cycles through --layers caches (the default 96 MB is well beyond a 32 MB L3), which is what a real decode
step sees: the weights it streamed between two layers' attention evicted the cache rows. One thread, medians of
--repeats timings of --calls calls each. To compare two builds, run it in each checkout.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", type=int, default=20)
    ap.add_argument("--kv-heads", type=int, default=5)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--position", type=int, default=150, help="keys before the query (the query sees position+1)")
    ap.add_argument("--layers", type=int, default=96, help="caches cycled through in the cold case")
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    from nanochat_cli.kernels.native import native

    ffi, lib = native()

    h, h_kv, d, pos = args.heads, args.kv_heads, args.head_dim, args.position
    ctx = pos + 1
    rng = np.random.default_rng(0)
    caches = [[rng.standard_normal((h_kv, ctx, d)).astype(np.float32) for _ in range(2)] for _ in range(args.layers)]
    q = rng.standard_normal((1, h, d)).astype(np.float32)
    out = np.empty((1, h * d), np.float32)
    fb = ffi.from_buffer
    qb, ob = fb("float[]", q), fb("float[]", out, require_writable=True)
    bufs = [(fb("float[]", k), fb("float[]", v)) for k, v in caches]

    def per_call(n_caches: int) -> float:
        t0 = time.perf_counter()
        for i in range(args.calls):
            kb, vb = bufs[i % n_caches]
            if lib.attention_f32(qb, kb, vb, 1, h, h_kv, d, ctx * d, pos, ob, 1):
                raise MemoryError("attention scratch allocation failed")
        return (time.perf_counter() - t0) / args.calls * 1e6

    kv_kb = 2 * h_kv * ctx * d * 4 / 1000
    print(f"attention_f32, {h} heads / {h_kv} kv heads x {d}, {ctx} keys ({kv_kb:.0f} kB of K/V per call), 1 thread")
    for label, n in (("hot", 1), ("cold", args.layers)):
        per_call(n)
        us = statistics.median(per_call(n) for _ in range(args.repeats))
        print(f"{label:5s} {us:7.1f} us per call  ({kv_kb / 1000 / us * 1e6 / 1000:.1f} GB/s of K/V)")


if __name__ == "__main__":
    main()
