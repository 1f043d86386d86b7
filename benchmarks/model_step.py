"""Training-step time of a named model: BitLinear vs its float twin, and mHC n = 2 / 4 overhead over n = 1.

Run: `python benchmarks/model_step.py --config small --batch 8 --seq 256 --steps 7`
One step = forward + backward + AdamW step on random tokens. The variants are timed round-robin (one step of
each in turn) so that load from other processes on a shared CPU falls on all of them alike; medians reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from nanochat_cli.model import TernaryLM, named_config

VARIANTS = {
    "ternary, mHC n=1 (baseline)": dict(ternary=True, mhc_streams=1),
    "float twin (nn.Linear math), n=1": dict(ternary=False, mhc_streams=1),
    "ternary, mHC n=2": dict(ternary=True, mhc_streams=2),
    "ternary, mHC n=4": dict(ternary=True, mhc_streams=4),
    "ternary, mHC n=4 dynamic": dict(ternary=True, mhc_streams=4, mhc_dynamic=True),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="small")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=7, help="timed steps per variant (after one warm-up step)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tokens = torch.randint(0, named_config(args.config).vocab_size, (args.batch, args.seq + 1))
    runs = {}
    for name, overrides in VARIANTS.items():
        model = TernaryLM(named_config(args.config, **overrides)).train()
        runs[name] = (model, torch.optim.AdamW(model.parameters(), lr=1e-3), [])

    def step(model, opt) -> float:
        t0 = time.perf_counter()
        out = model(tokens[:, :-1])
        loss = F.cross_entropy(out.logits.flatten(0, 1), tokens[:, 1:].flatten()) + out.aux_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t0

    for model, opt, _ in runs.values():
        step(model, opt)  # warm-up
    for _ in range(args.steps):
        for model, opt, times in runs.values():
            times.append(step(model, opt))
    base = statistics.median(next(iter(runs.values()))[2])
    results = []
    for name, (model, _, times) in runs.items():
        med = statistics.median(times)
        results.append({"variant": name, "params": model.param_counts()["total"], "median_s": round(med, 4),
                        "min_s": round(min(times), 4), "tokens_per_s": round(args.batch * args.seq / med, 1),
                        "vs_baseline": round(med / base, 3)})
    meta = {"config": args.config, "batch": args.batch, "seq": args.seq, "steps": args.steps,
            "threads": args.threads, "torch": torch.__version__, "cpu": platform.processor() or platform.machine()}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return
    print(f"{args.config}: batch {args.batch} x {args.seq}, {args.threads} threads, median of {args.steps} steps")
    print(f"{'variant':36} {'params':>11} {'median s':>9} {'min s':>7} {'tok/s':>7} {'x baseline':>10}")
    for r in results:
        print(f"{r['variant']:36} {r['params']:>11,} {r['median_s']:>9.3f} {r['min_s']:>7.3f} "
              f"{r['tokens_per_s']:>7.0f} {r['vs_baseline']:>10.3f}")


if __name__ == "__main__":
    main()
