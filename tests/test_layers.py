"""The layering contract in pyproject.toml ([tool.importlinter]) holds: lower layers never import higher ones and
the top-level packages import one another without cycles, function-level imports included. docs/ARCHITECTURE.md
draws the layers; run `lint-imports` to see a broken contract's import chains."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_layers_and_no_package_cycles(capsys):
    from importlinter import cli  # in the dev extra that CI installs: a missing linter fails, it does not skip
    code = cli.lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
