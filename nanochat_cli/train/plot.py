"""curves.png: a run's metric curves drawn with matplotlib (Agg, no display), one panel per quantity.

`nanochat train` writes `curves_figure` (loss, bits per byte, entropy); `nanochat rl` draws its own panels with
`write_metric_panels`. Lines follow matplotlib's default colour cycle: blue, orange, green, red, ...
"""

from __future__ import annotations

import io
from pathlib import Path

from nanochat_cli.atomic_write import write_bytes_atomic

PANEL_INCHES = (9.0, 2.6)  # width, height of one panel
DPI = 100

# Train panels: (y-axis label, [(record key, legend label), ...]); a panel with no points says so.
TRAIN_PANELS = [
    ("loss (nats/token)", [("loss_window", "train loss"), ("val_loss", "val loss")]),
    ("bits per byte", [("val_bpb", "val bits per byte")]),
    ("entropy H (nats)", [("entropy", "entropy of next-token distribution")]),
]


def _series(records: list[dict], key: str) -> tuple[list[float], list[float]]:
    numeric = [r for r in records if isinstance(r.get(key), (int, float)) and not isinstance(r[key], bool)]
    pts = [(r["step"], r[key]) for r in numeric]
    return [float(s) for s, _ in pts], [float(v) for _, v in pts]


def panels_figure(records: list[dict], panels: list[tuple[str, list[tuple[str, str]]]], title: str = ""):
    """A matplotlib Figure with one panel per (y label, [(key, legend label)]), sharing the step axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(PANEL_INCHES[0], PANEL_INCHES[1] * len(panels)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # Agg: renders without a display, whatever MPLBACKEND says
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (ylabel, lines) in zip(axes, panels):
        drawn = 0
        for key, label in lines:
            xs, ys = _series(records, key)
            if xs:
                ax.plot(xs, ys, label=label, linewidth=1.4, marker="o" if len(xs) <= 40 else None, markersize=3)
                drawn += 1
            else:
                ax.plot([], [], label=f"{label} (no data yet)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("step")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    return fig


def curves_figure(records: list[dict]):
    """The training run's figure: train/val loss, validation bits per byte, and entropy against step."""
    return panels_figure(records, TRAIN_PANELS, title="nanochat train")


def save_png(fig, path: Path, what: str) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    write_bytes_atomic(path, buf.getvalue(), what)


def write_curves(records: list[dict], path: Path) -> None:
    """Draw the metrics records (dicts with step and any of loss_window, val_loss, entropy, val_bpb) to a PNG."""
    save_png(curves_figure(records), path, "curves.png")


def write_metric_panels(records: list[dict], path: Path, panels: list[tuple[str, ...]]) -> None:
    """Any numeric record keys, one panel per tuple of keys, each key a labelled line (`nanochat rl`)."""
    spec = [(keys[0] if len(keys) == 1 else "value", [(k, k) for k in keys]) for keys in panels]
    save_png(panels_figure(records, spec), path, path.name)
