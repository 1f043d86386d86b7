"""The CLI surface: every subcommand answers --help with a description of each option, and usage errors are clean."""

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from nanochat_cli import __version__
from nanochat_cli.cli import app

COMMANDS = [["info"], ["quantize"], ["data", "prepare"], ["train"], ["export"], ["generate"], ["serve"],
            ["bench-kernels"], ["eval"], ["eval", "compare"]]
runner = CliRunner()


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"nanochat {__version__}"


def test_root_help_lists_every_stage():
    res = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for name in ("info", "quantize", "data", "train", "export", "generate", "serve", "bench-kernels", "eval"):
        assert re.search(rf"│ {re.escape(name)}\s", res.stdout), name


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_option_has_a_description(cmd):
    res = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = [r for r in res.stdout.splitlines() if re.match(r"│\s+(-|\*)", r)]
    assert rows, res.stdout
    for row in rows:
        # "│ --name  <type>  Description ... │": at least a few words after the type column
        text = row.strip("│ ").split(">", 1)[-1]
        assert len(text.split()) >= 2, f"{' '.join(cmd)}: option without a description: {row}"


def test_usage_error_is_a_usage_message_not_a_traceback():
    res = subprocess.run([sys.executable, "-m", "nanochat_cli.cli", "serve", "--port", "abc"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "--port" in res.stderr


def test_info_configs_lists_the_named_model_sizes_without_a_file():
    from nanochat_cli.model.config import NAMED_CONFIGS

    res = runner.invoke(app, ["info", "--configs"])
    assert res.exit_code == 0, res.output
    assert [line.split()[0] for line in res.stdout.splitlines()[1:]] == list(NAMED_CONFIGS)


def test_train_describe_lists_every_recipe_section_without_a_recipe():
    from nanochat_cli.recipes import SECTIONS

    res = runner.invoke(app, ["train", "--describe"])
    assert res.exit_code == 0, res.output
    for section in SECTIONS:
        assert f"[{section}]" in res.stdout


def test_shell_completion_is_on_and_completes_subcommands():
    res = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--install-completion" in res.stdout and "--show-completion" in res.stdout
    script = runner.invoke(app, ["--show-completion", "bash"], prog_name="nanochat")
    assert script.exit_code == 0 and "_NANOCHAT_COMPLETE=complete_bash" in script.stdout
    done = runner.invoke(app, [], prog_name="nanochat",
                         env={"_NANOCHAT_COMPLETE": "complete_bash", "COMP_WORDS": "nanochat in", "COMP_CWORD": "1"})
    assert "info" in done.stdout.split()
