"""curves.png is drawn by matplotlib: labelled axes, a legend per panel, a valid PNG of the expected size."""

from __future__ import annotations

import struct

from nanochat_cli.train.plot import DPI, PANEL_INCHES, curves_figure, write_curves, write_metric_panels

RECORDS = [{"step": i, "loss_window": 6.0 - 0.2 * i, "entropy": 5.0 - 0.1 * i,
            "val_loss": 6.1 - 0.2 * i if i % 3 == 0 else None, "val_bpb": 2.0 - 0.05 * i if i % 3 == 0 else None}
           for i in range(1, 13)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_curves_figure_has_loss_bpb_and_entropy_on_labelled_axes_with_legends():
    fig = curves_figure(RECORDS)
    axes = fig.get_axes()
    assert [ax.get_ylabel() for ax in axes] == ["loss (nats/token)", "bits per byte", "entropy H (nats)"]
    assert axes[-1].get_xlabel() == "step"
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in axes]
    assert legends == [["train loss", "val loss"], ["val bits per byte"], ["entropy of next-token distribution"]]
    train_line, val_line = axes[0].get_lines()
    assert list(train_line.get_xdata()) == list(range(1, 13))
    assert list(val_line.get_xdata()) == [3, 6, 9, 12]  # steps without validation are skipped, not zeros


def test_write_curves_writes_a_png_of_the_expected_size(tmp_path):
    path = tmp_path / "curves.png"
    write_curves(RECORDS, path)
    assert png_size(path.read_bytes()) == (int(PANEL_INCHES[0] * DPI), int(3 * PANEL_INCHES[1] * DPI))


def test_curves_before_any_validation_still_draw_and_say_so(tmp_path):
    fig = curves_figure([{"step": 1, "loss_window": 5.0, "entropy": 4.0}])
    texts = [t.get_text() for t in fig.get_axes()[1].get_legend().get_texts()]
    assert texts == ["val bits per byte (no data yet)"]
    write_curves([], tmp_path / "empty.png")
    png_size((tmp_path / "empty.png").read_bytes())


def test_write_metric_panels_draws_one_panel_per_tuple(tmp_path):
    records = [{"step": i, "reward": 0.1 * i, "kl": 0.01 * i, "entropy": 2.0, "note": "text is skipped"} for i in range(4)]
    path = tmp_path / "rl.png"
    write_metric_panels(records, path, [("reward",), ("kl", "entropy")])
    assert png_size(path.read_bytes()) == (int(PANEL_INCHES[0] * DPI), int(2 * PANEL_INCHES[1] * DPI))
