"""Every subcommand's --help ends with examples, and each example names a real command and real options."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from nanochat_cli.cli import app

COMMANDS = [["info"], ["quantize"], ["train"], ["rl"], ["export"], ["generate"], ["serve"], ["bench-kernels"],
            ["data", "prepare"], ["eval"], ["eval", "compare"]]


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "400", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_help_ends_with_examples_that_use_its_own_options(args):
    text = _help(args)
    tail = text[text.rindex("Example"):]
    examples = [e.strip() for e in re.split(r"·|\n", tail.split(":", 1)[1]) if e.strip().startswith("nanochat")]
    assert examples, tail
    options = set(re.findall(r"(--[a-z][\w-]*|-[a-zA-Z]\b)", text[: text.rindex("Example")]))
    for example in examples:
        assert example.split()[1:1 + len(args)] == args, example
        for flag in re.findall(r"\s(--?[a-zA-Z][\w-]*)", example):
            assert flag in options, (example, flag)
