"""The live training line: step, loss and ETA at any terminal width; less important fields leave first."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from nanochat_cli.train.progress import LiveLine, fit_fields

RECORD = dict(loss_window=3.1234, entropy=2.5, max_logit=12.3, lr_mult=0.5, grad_norm=1.2, tok_per_s=12345, mfu=0.123,
              eta_s=30, val_loss=3.2, val_bpb=1.1)


def render_line(width: int) -> str:
    console = Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None)
    line = LiveLine(1000, 0, True, console=console)
    line.update(3, RECORD)
    line.close()
    out = Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None, record=True)
    out.print(line.prog.get_renderable())
    return out.export_text()


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160, 240])
def test_live_line_keeps_step_loss_and_eta_on_one_line(width):
    text = render_line(width)
    assert text.count("\n") == 1 and len(text.rstrip("\n")) <= width, text
    for kept in ("3/1000", "loss 3.123", "ETA"):
        assert kept in text, (width, text)


def test_live_line_shows_every_field_when_wide_and_drops_the_least_important_first():
    wide = render_line(240)
    for field in ("val 3.200", "H 2.50", "max logit 12.3", "lr x0.500", "|g| 1.20", "12,345 tok/s", "MFU 12.3%"):
        assert field in wide
    mid = render_line(120)
    assert "val 3.200" in mid and "tok/s" in mid and "max logit" not in mid


def test_fit_fields_keeps_loss_even_when_nothing_fits():
    parts = [(0, "loss 3.000"), (2, "1 tok/s"), (1, "val 2.0")]
    assert fit_fields(parts, 3) == "loss 3.000"
    assert fit_fields(parts, 19) == "loss 3.000  val 2.0"
    assert fit_fields(parts, 100) == "loss 3.000  1 tok/s  val 2.0"
