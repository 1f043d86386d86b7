"""Train a custom recipe through the API in a temporary directory, then sample from the checkpoint it wrote.

Run: `python examples/train_custom_recipe.py [RECIPE] [--steps N]`; RECIPE defaults to examples/custom_recipe.toml
(a 70K-parameter model on generated programs: under a minute on one CPU core, data preparation included).
Overrides are the dotted `section.key=value` strings of `nanochat train --set`; `nanochat train --describe` lists
every key. The run's data cache and checkpoints go to a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from nanochat_cli.infer import SamplingParams, generate, load_model
from nanochat_cli.recipes import load_recipe
from nanochat_cli.train.trainer import train

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe", nargs="?", default=str(HERE / "custom_recipe.toml"))
    ap.add_argument("--steps", type=int, default=0, help="train this many steps instead of the recipe's train.steps")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        overrides = [f"data.cache_dir={tmp}/cache", f"checkpoint.dir={tmp}/run", "logging.progress=false"]
        if args.steps:
            overrides.append(f"train.steps={args.steps}")
        recipe = load_recipe(args.recipe, overrides)  # checks every key and type; NanochatError names a bad one
        result = train(recipe)  # prepares the data first when its cache is missing
        for key in ("step", "loss", "val_loss", "val_bpb", "tokens_per_s"):
            print(f"{key:14} {result[key]}")

        lm = load_model(result["checkpoint"], threads=1)  # a checkpoint directory runs on the native engine too
        params = SamplingParams(temperature=0.0, max_tokens=16)
        prompt = "fn main() {\n"
        engine = lm.engine(n_slots=1, ctx=64)
        text = "".join(ev.text for ev in generate(engine, lm.tokenizer, prompt, params, lm.eos_ids))
        print(f"sample         {prompt + text!r}")


if __name__ == "__main__":
    main()
