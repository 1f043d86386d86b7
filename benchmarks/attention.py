"""Fast-mode decode attention (`attention_f32`, native/attention.c) for one layer: microseconds per call.

Run: `python benchmarks/attention.py [--heads 20 --kv-heads 5 --head-dim 128 --position 150]` (defaults: the 2B
shape at the position benchmarks/decode.py ends near). `hot` repeats one layer's cache, so it stays in cache;
`cold` cycles through --layers caches (the default 96 MB is well beyond a 32 MB L3), which is what a real decode
step sees: the weights it streamed between two layers' attention evicted the cache rows. One thread, medians of
--repeats timings of --calls calls each. To compare two builds, `--baseline DIR` loads the library built in another
checkout (`git worktree add DIR REV && (cd DIR && python native/build.py)`) into the same process and alternates
the two builds' timings; `--clock cpu` times the thread's CPU instead of the wall clock (other jobs do not count).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

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
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout whose native build to alternate with")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = ap.parse_args()

    from nanochat_cli.kernels.native import native

    builds = {"this build": native()}
    if args.baseline is not None:
        builds["baseline"] = load_build(args.baseline)
    clock = time.perf_counter if args.clock == "wall" else time.thread_time

    h, h_kv, d, pos = args.heads, args.kv_heads, args.head_dim, args.position
    ctx = pos + 1
    rng = np.random.default_rng(0)
    caches = [[rng.standard_normal((h_kv, ctx, d)).astype(np.float32) for _ in range(2)] for _ in range(args.layers)]
    q = rng.standard_normal((1, h, d)).astype(np.float32)
    out = np.empty((1, h * d), np.float32)

    def timer(ffi, lib):
        fb = ffi.from_buffer
        qb, ob = fb("float[]", q), fb("float[]", out, require_writable=True)
        bufs = [(fb("float[]", k), fb("float[]", v)) for k, v in caches]

        def per_call(n_caches: int) -> float:
            t0 = clock()
            for i in range(args.calls):
                kb, vb = bufs[i % n_caches]
                if lib.attention_f32(qb, kb, vb, 1, h, h_kv, d, ctx * d, pos, ob, 1):
                    raise MemoryError("attention scratch allocation failed")
            return (clock() - t0) / args.calls * 1e6

        return per_call

    timers = {name: timer(*build) for name, build in builds.items()}
    kv_kb = 2 * h_kv * ctx * d * 4 / 1000
    print(f"attention_f32, {h} heads / {h_kv} kv heads x {d}, {ctx} keys ({kv_kb:.0f} kB of K/V per call), 1 thread, "
          f"{args.clock} clock")
    for label, n in (("hot", 1), ("cold", args.layers)):
        times: dict[str, list[float]] = {name: [] for name in timers}
        for per_call in timers.values():
            per_call(n)  # warm-up
        for _ in range(args.repeats):  # the builds alternate, so a slow spell of the machine hits both
            for name, per_call in timers.items():
                times[name].append(per_call(n))
        us = {name: statistics.median(t) for name, t in times.items()}
        for name, u in us.items():
            print(f"{label:5s} {name:10s} {u:7.2f} us per call  ({kv_kb / 1000 / u * 1e6 / 1000:.1f} GB/s of K/V)")
        if "baseline" in us:
            print(f"{label:5s} baseline / this build: {us['baseline'] / us['this build']:.2f}x")


def load_build(checkout: Path):
    """(ffi, lib) of the native library built in another checkout, loaded beside this one's."""
    found = sorted((checkout / "nanochat_cli" / "kernels").glob("_native*.so"))
    if not found:
        raise SystemExit(f"no native build in {checkout}: run `python native/build.py` there")
    spec = importlib.util.spec_from_file_location("_native", found[0])  # the name its init function carries
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ffi, module.lib


if __name__ == "__main__":
    main()
