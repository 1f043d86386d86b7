"""Batched generation throughput, the eval / RL workload: samples/s, tokens/s and where a decode step's time goes.

Run: `python benchmarks/batched_generation.py [--model models/rust_small.gguf] [--batches 1,8,16,32,64]`.
Per batch size N it decodes max(--rounds x N, --min-samples) samples of the rust-basic prompts (sample i: problem
i // --per-prompt mod 26, seed i) over an N-slot engine with infer's `decode_batch`, as `nanochat eval --batch N` does (token
healing, temperature 0.2, top-p 0.95, the problems' stop strings; a finished slot takes the next sample, so the
mean batch is below N while the last samples drain), and splits a decode step into:
- products: the layer stack on the same number of rows at position 0 (its ternary products, plus the fused
  norm + quantize passes, SwiGLU and residual adds; attention over one key), timed apart for each batch size with
  the head run between calls, as in a step;
- attention: the step's stack time less that (RoPE, KV writes, attention over the slot's context);
- head: the rest of `Engine.decode` (output head, soft-cap, embedding lookup);
- Python: everything else per step (sampling, detokenization, stop strings, healing, the loop itself).
The clock is the process's CPU time (all its threads) by default, so that other jobs on the machine do not count;
`--clock wall` for wall time. numpy's OpenBLAS (the float head of more than 32 rows) keeps its idle worker thread
spinning after each product, and that CPU time lands in whichever phase comes next: compare with
`OPENBLAS_NUM_THREADS=1`. Medians of --repeats runs. `--profile N` prints a cProfile of one batch-N run.
Record results in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import os
import pstats
import statistics
import time
from pathlib import Path

import numpy as np

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


class Clocked:
    """A callable that adds its calls' time to `bucket[phase]`, phase being what the run is doing now."""

    def __init__(self, fn, name: str, run: Run):
        self.fn, self.name, self.run = fn, name, run

    def __call__(self, *args, **kwargs):
        clock, run = self.run.clock, self.run
        t = clock()
        try:
            return self.fn(*args, **kwargs)
        finally:
            run.add(self.name, clock() - t)


class Run:
    """One instrumented decode_batch run: the model's stack and head and the engine's prefill and decode timed."""

    def __init__(self, engine, clock):
        self.engine, self.clock = engine, clock
        self.phase = "decode"
        self.t: dict[str, float] = {}
        self.batch_sizes: list[int] = []
        model = engine.model
        self._undo = [(model, "stack", model.stack), (model, "head", model.head),
                      (engine, "prefill", engine.prefill), (engine, "decode", engine.decode)]
        model.stack, model.head = Clocked(model.stack, "stack", self), Clocked(model.head, "head", self)
        engine.prefill = self._phase("prefill", engine.prefill)
        engine.decode = self._phase("decode", engine.decode)

    def _phase(self, name: str, fn):
        def call(*args, **kwargs):
            if name == "decode":
                self.batch_sizes.append(len(args[0]))
            self.phase = name
            t = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add("engine", self.clock() - t)
        return call

    def add(self, what: str, seconds: float) -> None:
        key = f"{self.phase}.{what}"
        self.t[key] = self.t.get(key, 0.0) + seconds

    def close(self) -> None:
        for obj, attr, orig in self._undo:
            if attr in ("prefill", "decode"):
                del obj.__dict__[attr]
            else:
                setattr(obj, attr, orig)


def sequences(lm, problems, n: int, max_tokens: int, per_prompt: int):
    from nanochat_cli.evaluate.completion_sources import eval_sampling
    from nanochat_cli.infer.decode import SequenceDecode

    params = eval_sampling(max_tokens=max_tokens)
    for i in range(n):
        p = problems[i // per_prompt % len(problems)]
        sp = dataclasses.replace(params, seed=i, stop=list(p.stop_tokens))
        yield i, SequenceDecode.start(lm.tokenizer, lm.encode(p.prompt), sp, lm.eos_ids)


def stack_at_start_ms(model, n: int, clock, reps: int = 15) -> float:
    """The layer stack on n rows at position 0, in ms: its ternary products, fused norms + quantization, SwiGLU and
    residual adds as in a decode step (same kernels; the head runs between calls, as in a step, so the weights are
    read from the same cache level), with attention over one key.
    A decode step's stack time less this is its attention (RoPE, KV write, attention over the slot's context)."""
    from nanochat_cli.infer.forward import Segment
    from nanochat_cli.infer.linear import Act

    state = model.new_state(n, 2)
    segs = [Segment(s, 0, 1, s) for s in range(n)]
    x = np.random.default_rng(n).standard_normal((n, model.cfg.d_model)).astype(np.float32)
    times = []
    for _ in range(reps):
        y = x.copy()
        t = clock()
        model.stack(y, segs, state)
        times.append(clock() - t)
        model.head(Act(y, model.norm, model.cfg.norm_eps))  # evicts the weights from cache, as in a real step
    return statistics.median(times) * 1e3


def one_run(lm, problems, batch: int, samples: int, args, clock, products: dict[int, float] | None) -> dict:
    from nanochat_cli.infer.decode import decode_batch

    engine = lm.engine(n_slots=batch, ctx=args.ctx)
    run = Run(engine, clock)
    t0, c0 = time.perf_counter(), clock()
    tokens = done = 0
    try:
        for _, seq in decode_batch(engine, sequences(lm, problems, samples, args.max_tokens, args.per_prompt)):
            if seq is not None:
                tokens += len(seq.tokens)
                done += 1
    finally:
        total, wall = clock() - c0, time.perf_counter() - t0
        run.close()
    if products is None:  # a profiled run: no split
        return {}
    steps = len(run.batch_sizes)
    t = run.t
    stack, head = t.get("decode.stack", 0.0), t.get("decode.engine", 0.0) - t.get("decode.stack", 0.0)
    sizes = sorted(products)
    prod = float(np.interp(run.batch_sizes, sizes, [products[n] for n in sizes]).sum()) / 1e3
    python = total - t.get("prefill.engine", 0.0) - t.get("decode.engine", 0.0)
    ms = lambda s: s / max(steps, 1) * 1e3
    return {"tokens_per_s": tokens / total, "samples_per_s": done / total, "wall_tokens_per_s": tokens / wall,
            "tokens": tokens, "samples": done, "steps": steps, "mean_batch": sum(run.batch_sizes) / max(steps, 1),
            "step_ms": ms(total - t.get("prefill.engine", 0.0)), "products_ms": ms(prod),
            "attention_ms": ms(stack - prod), "head_ms": ms(head), "python_ms": ms(python),
            "prefill_share": t.get("prefill.engine", 0.0) / total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models/rust_small.gguf"))
    ap.add_argument("--batches", default="1,8,16,32,64")
    ap.add_argument("--rounds", type=int, default=3, help="samples per slot (a finished slot takes the next)")
    ap.add_argument("--min-samples", type=int, default=24)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--per-prompt", type=int, default=1,
                    help="consecutive samples of one prompt (eval --n-samples, an RL group); 1: the next problem each")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="kernel threads")
    ap.add_argument("--int8-head", action="store_true", help="the output head on int8 rows (generate/serve/eval's --int8-head)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    ap.add_argument("--profile", type=int, default=0, help="print a cProfile of one run at this batch size")
    args = ap.parse_args()

    from nanochat_cli.infer import load_model
    from nanochat_cli.rust.problems import load_problem_set

    lm = load_model(str(args.model), threads=args.threads, int8_head=args.int8_head or None)
    problems = load_problem_set("rust-basic")
    clock = CLOCKS[args.clock]
    batches = [int(b) for b in args.batches.split(",")]
    cfg = lm.model.cfg
    print(f"{args.model.name}: {cfg.n_layers} layers, d {cfg.d_model}, vocab {cfg.vocab_size}, "
          f"head {type(lm.model.head).__name__}, {args.threads} kernel thread(s), "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, clock {args.clock}, "
          f"{args.per_prompt} sample(s) per prompt; "
          f"load average {os.getloadavg()[0]:.2f}")
    warm = argparse.Namespace(**{**vars(args), "max_tokens": 8})
    for b in sorted(set(batches)):  # warm-up: kernel choices are timed on first use of each batch class
        one_run(lm, problems, b, min(b, 8), warm, clock, None)
    # the stack at position 0 for a ladder of row counts, interpolated for the others (it is close to linear in n)
    ladder = [n for n in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128) if n < max(batches)] + [max(batches)]
    products = {n: stack_at_start_ms(lm.model, n, clock) for n in ladder}
    print("products (stack at position 0), ms per row: " + ", ".join(f"{n}: {products[n] / n:.3f}" for n in ladder))
    if args.profile:
        prof = cProfile.Profile()
        samples = max(args.rounds * args.profile, args.min_samples)
        prof.enable()
        one_run(lm, problems, args.profile, samples, args, clock, None)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return
    keys = ["tokens_per_s", "samples_per_s", "wall_tokens_per_s", "mean_batch", "step_ms", "products_ms",
            "attention_ms", "head_ms", "python_ms", "prefill_share"]
    rows = {}
    print("| batch | tok/s | samples/s | tok/s wall | mean batch | ms/step | products | attention | head | Python "
          "| prefill share |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for b in batches:
        samples = max(args.rounds * b, args.min_samples)
        runs = [one_run(lm, problems, b, samples, args, clock, products)
                for _ in range(args.repeats)]
        r = rows[b] = {k: statistics.median(x[k] for x in runs) for k in keys}
        print(f"| {b} | {r['tokens_per_s']:.0f} | {r['samples_per_s']:.2f} | {r['wall_tokens_per_s']:.0f} | "
              f"{r['mean_batch']:.1f} | {r['step_ms']:.2f} | {r['products_ms']:.2f} | {r['attention_ms']:.2f} | "
              f"{r['head_ms']:.2f} | {r['python_ms']:.2f} | {r['prefill_share']:.0%} |", flush=True)
    if 1 in rows:
        for b in rows:
            print(f"batch {b} / batch 1 tokens/s: {rows[b]['tokens_per_s'] / rows[1]['tokens_per_s']:.2f}x")
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
