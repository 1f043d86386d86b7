"""Held-out loss of model files on prepared corpora: the trainer's own validation, so runs trained on different data
can be compared on the same windows.

Run: `python benchmarks/heldout_loss.py MODEL.gguf [MODEL ...] --data cache/data/KEY [--data ...]`. Each model
file (the shipped GGUF, an export) is loaded as the trainer loads `train.init_from` files and scored on each data
directory's validation split by `trainer.evaluate_val`, with --recipe's validation settings (windows, batch,
dtype): the figure a training run logs as `val_bpb`, for models that did not train on that split's corpus.
Record results in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from nanochat_cli.data.prepare import PreparedData
from nanochat_cli.recipes import load_recipe
from nanochat_cli.train.checkpoint import load_file_model
from nanochat_cli.train.distributed import DistInfo
from nanochat_cli.train.trainer import evaluate_val


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--data", action="append", type=Path, required=True, help="a prepared corpus directory")
    ap.add_argument("--recipe", type=Path, default=Path("recipes/rust_small_verified.toml"),
                    help="whose [train] and [validation] settings pick the windows")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    recipe = load_recipe(args.recipe)
    models = {path: load_file_model(path)[0] for path in args.models}
    for data in args.data:
        prepared = PreparedData(data, json.loads((data / "manifest.json").read_text()))
        tokens, bpt = prepared.tokens("val"), prepared.bytes_per_token("val")
        for path, model in models.items():
            loss, bpb = evaluate_val(model, tokens, recipe, torch.device("cpu"), DistInfo(), bpt)
            print(f"{data.name}  {path}: {loss:.4f} nats per token, {bpb:.4f} bits per byte", flush=True)


if __name__ == "__main__":
    main()
