"""Running the `nanochat` CLI inside the test process, and the one-line-error contract its failures keep."""

from __future__ import annotations

import subprocess
import sys

import pytest


def in_process(capsys, monkeypatch, *args: str) -> subprocess.CompletedProcess:
    """cli.main() in this process (fast: no fresh torch import), as a CompletedProcess."""
    from nanochat_cli import cli

    monkeypatch.setattr(sys, "argv", ["nanochat", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, exit_info.value.code, out.out, out.err)


def one_error_line(proc: subprocess.CompletedProcess, match: str) -> None:
    """Exit 1, exactly one `error: ...` line on stderr that contains `match`, and no traceback."""
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert match in " ".join(proc.stderr.split()), proc.stderr  # rich may wrap the line on narrow terminals
    assert "Traceback" not in proc.stderr
