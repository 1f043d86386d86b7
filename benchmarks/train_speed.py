"""Training speed through the real trainer: precision variants, ternary vs its float twin, and bf16's loss cost.

Run: `python benchmarks/train_speed.py recipes/rust_small.toml --steps 6 --reps 3 --threads 2`
     `python benchmarks/train_speed.py recipes/tiny.toml recipes/stable_v2.toml --ternary-vs-float --threads 1`
     `python benchmarks/train_speed.py recipes/rust_small.toml --steps 0 --loss-steps 150 --set model.n_layers=2`
Speed: each variant trains `--steps` steps of each recipe's model on its real data (no checkpoints kept),
round-robin over `--reps` repetitions so that load from other processes falls on every variant alike; per-step
tokens/s and MFU, warm-up steps dropped, median over all repetitions. The variants are fp32 eager (the old
default), bf16 autocast and torch.compile (first two steps dropped: warm-up, compilation), or with
`--ternary-vs-float` the recipe's ternary model and its float twin in the recipe's own dtype (first step dropped).
Loss (`--loss-steps N`): the same recipe trained N steps from the same seed in fp32 and in bf16, validation loss at
the end (the same fixed windows): the cost of bf16 at a fixed token budget. One JSON line per result.
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

PRECISION = {
    "fp32 eager": ["train.dtype=fp32", "train.compile=false"],
    "bf16 eager": ["train.dtype=bf16", "train.compile=false"],
    "fp32 compile": ["train.dtype=fp32", "train.compile=true"],
    "bf16 compile": ["train.dtype=bf16", "train.compile=true"],
}
TWINS = {"ternary": ["model.ternary=true"], "float twin": ["model.ternary=false"]}
WARMUP = {"precision": 2, "ternary-vs-float": 1}  # steps dropped from the front of each speed run


def run(recipe_path: str, overrides: list[str], run_dir: Path, steps: int, threads: int, val: bool) -> list[dict]:
    r = load_recipe(recipe_path, [
        *overrides, f"train.steps={steps}", "train.stop_at_step=0", f"train.threads={threads}", "train.init_from=",
        f"validation.every={steps if val else 0}", "logging.every=1", "logging.progress=false", "logging.plot=false",
        "checkpoint.every=0", "checkpoint.keep=1", f"checkpoint.dir={run_dir}",
    ])
    train(r, show_progress=False)
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def speed(args, variants: dict[str, list[str]], warmup: int) -> None:
    names = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else list(variants)
    unknown = [n for n in names if n not in variants]
    if unknown:
        raise SystemExit(f"--variants {', '.join(unknown)}: choose from {', '.join(variants)}")
    records: dict[tuple[str, str], list[dict]] = {(p, n): [] for p in args.recipes for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for path in args.recipes:
                for n in names:
                    run_dir = Path(tmp) / f"{Path(path).stem}-{n}-{rep}".replace(" ", "_")
                    recs = run(path, [*args.overrides, *variants[n]], run_dir, args.steps, args.threads, val=False)
                    records[path, n] += recs[warmup:]
    for path in args.recipes:
        base = statistics.median(r["tok_per_s"] for r in records[path, names[0]])
        for n in names:
            recs = records[path, n]
            med = statistics.median(r["tok_per_s"] for r in recs)
            print(json.dumps({"recipe": path, "variant": n, "median_tok_per_s": round(med, 1),
                              "median_mfu": round(statistics.median(r["mfu"] for r in recs), 4),
                              "vs_" + names[0].replace(" ", "_"): round(med / base, 3), "samples": len(recs)}),
                  flush=True)


def loss_cost(args) -> None:
    for path in args.recipes:
        losses = {}
        with tempfile.TemporaryDirectory() as tmp:
            for n in ("fp32 eager", "bf16 eager"):
                recs = run(path, [*args.overrides, *PRECISION[n]], Path(tmp) / n.replace(" ", "_"), args.loss_steps,
                           args.threads, val=True)
                losses[n] = recs[-1]["val_loss"]
                print(json.dumps({"recipe": path, "variant": n, "steps": args.loss_steps, "tokens": recs[-1]["tokens"],
                                  "val_loss": round(losses[n], 4), "val_bpb": round(recs[-1]["val_bpb"], 4)}), flush=True)
        print(json.dumps({"recipe": path, "bf16_vs_fp32_val_loss": round(losses["bf16 eager"] / losses["fp32 eager"] - 1, 4)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipes", nargs="+")
    ap.add_argument("--steps", type=int, default=6, help="steps per variant per repetition (speed); 0 = skip speed")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ternary-vs-float", action="store_true",
                    help="speed variants: the ternary model and its float twin instead of the precision variants")
    ap.add_argument("--variants", default="", help="comma-separated subset of: " + ", ".join([*PRECISION, *TWINS]))
    ap.add_argument("--loss-steps", type=int, default=0, help="also compare fp32 vs bf16 validation loss after N steps")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override, e.g. train.batch_size=8")
    args = ap.parse_args()
    env = {"machine": platform.processor() or platform.machine(), "cpu_bf16": cpu_has_bf16(), "torch": torch.__version__,
           "threads": args.threads, "recipes": args.recipes, "overrides": args.overrides,
           "date": time.strftime("%Y-%m-%d %H:%M")}
    print(json.dumps({"env": env}), flush=True)
    if args.steps > 0 and args.reps > 0:
        kind = "ternary-vs-float" if args.ternary_vs_float else "precision"
        speed(args, TWINS if args.ternary_vs_float else PRECISION, WARMUP[kind])
    if args.loss_steps > 0:
        loss_cost(args)


if __name__ == "__main__":
    main()
