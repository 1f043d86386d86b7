"""The distribution name is ours (PyPI's `nanochat` is another project), and the command is still `nanochat`."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_distribution_is_nanochat_ternary_and_the_command_is_nanochat():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert project["name"] == "nanochat-ternary"
    assert project["scripts"] == {"nanochat": "nanochat_cli.cli:main"}


def test_the_installed_distribution_is_this_checkout():
    dist = metadata.distribution("nanochat-ternary")  # `pip install -e .` of this pyproject
    assert any(ep.name == "nanochat" and ep.group == "console_scripts" for ep in dist.entry_points)
