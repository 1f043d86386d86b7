"""Training throughput benchmark: tokens/s and MFU of a recipe's model, ternary vs its float twin.

`python -m nanochat_cli.train.throughput recipes/tiny.toml recipes/stable_v2.toml --steps 8 --reps 3`
runs each recipe for a few steps (no validation, no checkpoints kept) alternating ternary and float in
every repetition, and prints the median per-step tokens/s (step 1, the warm-up, excluded) and MFU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from nanochat_cli.recipes import load_recipe
from nanochat_cli.train.trainer import train


def measure(recipe_path: str, ternary: bool, steps: int, threads: int, run_dir: Path, extra: list[str]) -> list[dict]:
    r = load_recipe(recipe_path, [*extra,
        f"train.steps={steps}", "train.stop_at_step=0", f"train.threads={threads}", f"model.ternary={str(ternary).lower()}",
        "validation.every=0", "logging.every=1", "logging.progress=false", "logging.plot=false", "checkpoint.every=0",
        "checkpoint.keep=1", f"checkpoint.dir={run_dir}", "schedule.warmup_steps=1",
    ])
    train(r, show_progress=False)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return records[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipes", nargs="+")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override, e.g. train.batch_size=4")
    args = ap.parse_args()
    results: dict[tuple[str, bool], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for path in args.recipes:
                for ternary in (True, False):
                    run = Path(tmp) / f"{Path(path).stem}-{ternary}-{rep}"
                    results.setdefault((path, ternary), []).extend(measure(path, ternary, args.steps, args.threads, run, args.overrides))
    for (path, ternary), recs in results.items():
        tok = statistics.median(r["tok_per_s"] for r in recs)
        mfu = statistics.median(r["mfu"] for r in recs)
        print(json.dumps({"recipe": path, "overrides": args.overrides, "ternary": ternary, "threads": args.threads,
                          "steps_measured": len(recs),
                          "median_tok_per_s": round(tok, 1), "median_mfu": round(mfu, 4)}))


if __name__ == "__main__":
    main()
