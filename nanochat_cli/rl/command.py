"""The body of `nanochat rl`: load the recipe, run RL, print the run summary, exit 130 on a signal.

`nanochat rl --help` lists the options; cli.py only parses them into RLOptions and calls rl_command.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from nanochat_cli.train.command import print_summary

SUMMARY_KEYS = ("run_dir", "checkpoint", "step", "algorithm", "stopped", "wall_s")
LAST_KEYS = ("reward", "compile_rate", "pass_rate", "trivial_share", "generic_share", "kl", "refresh_s", "generate_s", "reward_s",
             "update_s")


@dataclass
class RLOptions:
    recipe: Path  # the recipe TOML with an [rl] section
    overrides: list[str] = field(default_factory=list)  # `--set section.key=value`, in order
    resume: Path | None = None  # an RL run directory or one of its step_* checkpoints
    json_out: bool = False  # print the run summary as JSON instead of aligned lines


def rl_command(opts: RLOptions) -> dict:
    from nanochat_cli.recipes import load_recipe
    from nanochat_cli.rl.trainer import train_rl

    result = train_rl(load_recipe(opts.recipe, opts.overrides), resume=opts.resume)
    if result["rank"] != 0:
        return result
    print_summary(result, SUMMARY_KEYS, opts.json_out, LAST_KEYS)
    if result["stopped"] and result["stopped"].startswith("signal"):
        sys.exit(130)
    return result
