"""The body of `nanochat data prepare`: load the recipe, build (or find) the corpus, print its summary.

`nanochat data prepare --help` lists the options; cli.py only parses them into PrepareOptions and calls
prepare_command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PrepareOptions:
    recipe: Path  # the recipe TOML (its data section is used)
    overrides: list[str] = field(default_factory=list)  # `--set section.key=value`, in order
    force: bool = False  # rebuild even when a corpus for this data section exists
    json_out: bool = False  # print the manifest summary as JSON instead of aligned lines


def prepare_command(opts: PrepareOptions) -> dict:
    """Prepare the recipe's data and print the manifest summary; returns it."""
    from nanochat_cli.data.prepare import prepare_data, summary
    from nanochat_cli.recipes import load_recipe

    result = summary(prepare_data(load_recipe(opts.recipe, opts.overrides), force=opts.force))
    if opts.json_out:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:16} {value}")
    return result
