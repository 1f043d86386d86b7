"""The body of `nanochat train`: load the recipe, train, print the run summary, exit with the stop reason's code.

`nanochat train --help` lists the options; cli.py only parses them into TrainOptions and calls train_command.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

SUMMARY_KEYS = ("run_dir", "checkpoint", "step", "loss", "val_loss", "val_bpb", "tokens_per_s", "mfu", "stopped")


@dataclass
class TrainOptions:
    recipe: Path  # the recipe TOML
    overrides: list[str] = field(default_factory=list)  # `--set section.key=value`, in order
    resume: Path | None = None  # a run directory or one of its step_* checkpoints
    json_out: bool = False  # print the run summary as JSON instead of aligned lines


def print_summary(result: dict, keys, json_out: bool, last_keys=()) -> None:
    """A finished run's summary on stdout: the whole result as JSON, or `keys` (then `last_keys` of result["last"],
    floats to 4 significant digits) as aligned lines. `nanochat train` and `nanochat rl` both report this way."""
    if json_out:
        print(json.dumps(result, indent=2))
        return
    for key in keys:
        print(f"{key:14} {result[key]}")
    for key in last_keys:
        value = result["last"].get(key)
        print(f"{key:14} {value:.4g}" if isinstance(value, float) else f"{key:14} {value}")


def train_command(opts: TrainOptions) -> dict:
    """Train the recipe and report it; exits 3 when the collapse guard stopped the run, 130 on a signal."""
    from nanochat_cli.recipes import load_recipe
    from nanochat_cli.train.trainer import train

    result = train(load_recipe(opts.recipe, opts.overrides), resume=opts.resume)
    if result["rank"] != 0:  # under torchrun only rank 0 reports
        return result
    print_summary(result, SUMMARY_KEYS, opts.json_out)
    # sys.exit, not typer.Exit: in main()'s non-standalone mode click turns Exit into a return value
    if result["stopped"] == "collapse_guard":
        sys.exit(3)
    if result["stopped"] and result["stopped"].startswith("signal"):
        sys.exit(130)
    return result


def describe_command() -> None:
    """`nanochat train --describe`: every recipe section and key with its default and meaning, as TOML comments."""
    from nanochat_cli.recipes import describe_recipe

    print(describe_recipe())
