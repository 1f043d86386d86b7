"""Output that survives pipes: a console not on a terminal neither wraps lines nor truncates tables."""

from __future__ import annotations

import io

from rich.table import Table

from nanochat_cli.console import PIPE_WIDTH, make_console


def test_table_written_to_a_pipe_keeps_its_natural_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # what a CI runner or `| tee` often reports
    out = io.StringIO()
    console = make_console(file=out)
    table = Table(title="kernels")
    table.add_column("kernel")
    table.add_column("GB/s")
    name = "avx512_vnni_gemv_interleaved_rows_with_a_very_long_name_" * 2
    table.add_row(name, "12.5")
    console.print(table)
    assert name in out.getvalue() and "…" not in out.getvalue()
    assert max(len(line) for line in out.getvalue().splitlines()) > 80


def test_long_record_written_to_a_pipe_is_one_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = io.StringIO()
    console = make_console(stderr=True, file=out)
    record = "step 3/100  " + "  ".join(f"field{i} {i}.000" for i in range(30))
    console.print(record, highlight=False)
    assert out.getvalue() == record + "\n"
    assert console.width == PIPE_WIDTH


def test_console_on_a_terminal_keeps_the_terminal_width():
    console = make_console(file=io.StringIO(), force_terminal=True, width=100)
    assert console.width == 100 and not console.soft_wrap
