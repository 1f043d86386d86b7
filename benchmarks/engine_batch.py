"""How a decode step's cost grows with the batch: wall time per step of `Engine.decode` at 1, 2, 4 and 8 slots,
split into the layer stack and the output head, per kernel thread count. This is the ceiling of `nanochat serve`'s
8-clients-vs-1 throughput ratio (benchmarks/serve_load.py): the server cannot batch better than its engine.

Run: `python benchmarks/engine_batch.py [--model model.gguf] [--threads 1,2]`. Without --model it builds the
random-weight `small` model serve_load.py uses. Medians of --repeats runs of --steps steps after a short prompt.
Record results in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def step_times(lm, threads: int, batches: list[int], steps: int, repeats: int) -> list[dict]:
    from nanochat_cli.infer import Engine
    from nanochat_cli.infer.forward import Segment
    from nanochat_cli.infer.linear import Act
    from nanochat_cli.kernels import set_threads

    set_threads(threads)
    model = lm.model
    engine = Engine(model, max(batches), 512)
    prompt = lm.encode("def handler(request):\n    ")
    for s in range(max(batches)):
        engine.prefill(s, prompt)
    rows = []
    for n in batches:
        whole, stack, head = [], [], []
        for _ in range(repeats):
            t = time.perf_counter()
            for _ in range(steps):
                engine.decode(list(range(n)), [5] * n)
            whole.append((time.perf_counter() - t) / steps)
            for s in range(n):
                engine.truncate(s, len(prompt))
            if model.stack is not None:  # the same step in its two parts (the cache is written and rewound)
                segs = [Segment(s, len(prompt), 1, s) for s in range(n)]
                x0 = model.embed[[5] * n]
                t0 = time.perf_counter()
                y = model.stack(x0.copy(), segs, engine.state)
                t1 = time.perf_counter()
                model.head(Act(y, model.norm, model.cfg.norm_eps))
                t2 = time.perf_counter()
                stack.append(t1 - t0)
                head.append(t2 - t1)
        row = {"threads": threads, "batch": n, "step_ms": statistics.median(whole) * 1e3}
        if stack:
            row |= {"stack_ms": statistics.median(stack) * 1e3, "head_ms": statistics.median(head) * 1e3}
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a nanochat GGUF; default: a random-weight model of --config")
    ap.add_argument("--config", default="small")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--int8-head", action="store_true", help="run the output head as int8 rows (Int8Linear)")
    args = ap.parse_args()

    from nanochat_cli.infer import load_model

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from serve_load import build_small_model

            model = build_small_model(Path(tmp), args.config)
        lm = load_model(model, int8_head=True if args.int8_head else None)
        cfg, head = lm.model.cfg, type(lm.model.head).__name__
        print(f"{model.name}: {cfg.n_layers} layers, d {cfg.d_model}, vocab {cfg.vocab_size}, head {head}, "
              f"layer stack {'on' if lm.model.stack is not None else 'off'}")
        for threads in [int(t) for t in args.threads.split(",")]:
            rows = step_times(lm, threads, [1, 2, 4, 8], args.steps, args.repeats)
            one = rows[0]["step_ms"]
            for r in rows:
                split = f"  (stack {r['stack_ms']:.3f} + head {r['head_ms']:.3f})" if "stack_ms" in r else ""
                print(f"{threads}T batch {r['batch']}: {r['step_ms']:.3f} ms per step, "
                      f"{r['batch'] / r['step_ms'] * 1e3:7.0f} tok/s, {r['batch'] * one / r['step_ms']:.2f}x "
                      f"batch 1's tokens/s{split}")
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
