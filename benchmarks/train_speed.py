"""Training speed on this CPU: fp32 eager (the old default) vs bf16 autocast vs torch.compile, and the loss cost.

Run: `python benchmarks/train_speed.py recipes/rust_small.toml --steps 6 --reps 3 --threads 2`
     `python benchmarks/train_speed.py recipes/rust_small.toml --loss-steps 150 --set model.n_layers=2`
Part 1 (speed): each variant trains `--steps` steps of the recipe's model on its real data through the real
trainer, round-robin over `--reps` repetitions so that load from other processes falls on every variant alike;
per-step tokens/s with the first two steps (warm-up, compilation) dropped, median over all repetitions.
Part 2 (`--loss-steps N`): the same recipe trained N steps from the same seed in fp32 and in bf16, validation
loss at the end (the same fixed windows): the cost of bf16 at a fixed token budget. One JSON line per result.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from nanochat_cli.recipes import load_recipe
from nanochat_cli.train.trainer import cpu_has_bf16, train

VARIANTS = {
    "fp32 eager": ["train.dtype=fp32", "train.compile=false"],
    "bf16 eager": ["train.dtype=bf16", "train.compile=false"],
    "fp32 compile": ["train.dtype=fp32", "train.compile=true"],
    "bf16 compile": ["train.dtype=bf16", "train.compile=true"],
}


def run(recipe_path: str, overrides: list[str], run_dir: Path, steps: int, threads: int, val: bool) -> list[dict]:
    r = load_recipe(recipe_path, [
        *overrides, f"train.steps={steps}", "train.stop_at_step=0", f"train.threads={threads}", "train.init_from=",
        f"validation.every={steps if val else 0}", "logging.every=1", "logging.progress=false", "logging.plot=false",
        "checkpoint.every=0", "checkpoint.keep=1", f"checkpoint.dir={run_dir}",
    ])
    train(r, show_progress=False)
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe")
    ap.add_argument("--steps", type=int, default=6, help="steps per variant per repetition (speed)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of: " + ", ".join(VARIANTS))
    ap.add_argument("--loss-steps", type=int, default=0, help="also compare fp32 vs bf16 validation loss after N steps")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override, e.g. train.batch_size=8")
    args = ap.parse_args()
    env = {"machine": platform.processor() or platform.machine(), "cpu_bf16": cpu_has_bf16(), "torch": torch.__version__,
           "threads": args.threads, "recipe": args.recipe, "overrides": args.overrides, "date": time.strftime("%Y-%m-%d %H:%M")}
    print(json.dumps({"env": env}), flush=True)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.steps > 0 and args.reps > 0:
        rates: dict[str, list[float]] = {n: [] for n in names}
        with tempfile.TemporaryDirectory() as tmp:
            for rep in range(args.reps):
                for n in names:
                    recs = run(args.recipe, [*args.overrides, *VARIANTS[n]], Path(tmp) / f"{n}-{rep}".replace(" ", "_"),
                               args.steps, args.threads, val=False)
                    rates[n] += [r["tok_per_s"] for r in recs[2:]]
        base = statistics.median(rates[names[0]])
        for n in names:
            med = statistics.median(rates[n])
            print(json.dumps({"variant": n, "median_tok_per_s": round(med, 1), "vs_" + names[0].replace(" ", "_"): round(med / base, 3),
                              "samples": len(rates[n])}), flush=True)
    if args.loss_steps > 0:
        losses = {}
        with tempfile.TemporaryDirectory() as tmp:
            for n in ("fp32 eager", "bf16 eager"):
                recs = run(args.recipe, [*args.overrides, *VARIANTS[n]], Path(tmp) / n.replace(" ", "_"), args.loss_steps,
                           args.threads, val=True)
                losses[n] = recs[-1]["val_loss"]
                print(json.dumps({"variant": n, "steps": args.loss_steps, "tokens": recs[-1]["tokens"],
                                  "val_loss": round(losses[n], 4), "val_bpb": round(recs[-1]["val_bpb"], 4)}), flush=True)
        print(json.dumps({"bf16_vs_fp32_val_loss": round(losses["bf16 eager"] / losses["fp32 eager"] - 1, 4)}))


if __name__ == "__main__":
    main()
