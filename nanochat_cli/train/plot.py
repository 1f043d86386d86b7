"""curves.png: training curves drawn with numpy and written as a PNG with zlib (no plotting dependency).

Top panel: train loss averaged since the previous record (blue) and validation loss (orange); bottom panel: entropy H (green) and
bits per byte (purple, when validated). Each panel is labelled with its y range and the last step.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from nanochat_cli.atomic_write import write_bytes_atomic

W, H_PANEL, MARGIN = 720, 260, 40
COLORS = {"loss": (31, 119, 180), "val_loss": (255, 127, 14), "entropy": (44, 160, 44), "val_bpb": (148, 103, 189)}
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]

# 3x5 pixel glyphs for the axis labels
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "e": "000111101110011", " ": "000000000000000",
}


def _text(img: np.ndarray, x: int, y: int, s: str, scale: int = 2) -> None:
    for ch in s:
        g = _GLYPHS.get(ch, _GLYPHS[" "])
        for i, bit in enumerate(g):
            if bit == "1":
                r, c = divmod(i, 3)
                img[y + r * scale : y + (r + 1) * scale, x + c * scale : x + (c + 1) * scale] = 0
        x += 4 * scale


def _fmt(v: float) -> str:
    return f"{v:.3g}".replace("+", "")


def _line(img: np.ndarray, xs: np.ndarray, ys: np.ndarray, color) -> None:
    for i in range(len(xs) - 1):
        n = int(max(abs(xs[i + 1] - xs[i]), abs(ys[i + 1] - ys[i]), 1)) + 1
        px = np.linspace(xs[i], xs[i + 1], n).round().astype(int)
        py = np.linspace(ys[i], ys[i + 1], n).round().astype(int)
        for dy in (0, 1):
            img[np.clip(py + dy, 0, img.shape[0] - 1), px] = color
    if len(xs) == 1:
        img[int(ys[0]) - 1 : int(ys[0]) + 2, int(xs[0]) - 1 : int(xs[0]) + 2] = color


def _panel(series: dict[str, tuple[np.ndarray, np.ndarray]], max_step: int, colors: dict | None = None) -> np.ndarray:
    img = np.full((H_PANEL, W, 3), 255, dtype=np.uint8)
    x0, x1, y0, y1 = MARGIN + 30, W - 10, 10, H_PANEL - 30
    img[y0:y1, x0] = img[y0:y1, x1] = 150
    img[y0, x0:x1] = img[y1, x0:x1] = 150
    values = [v for _, (s, v) in series.items() if len(v)]
    if not values:
        return img
    lo = float(min(np.min(v) for v in values))
    hi = float(max(np.max(v) for v in values))
    if hi - lo < 1e-9:
        hi = lo + 1.0
    for name, (steps, vals) in series.items():
        if len(vals) == 0:
            continue
        xs = x0 + (steps / max(max_step, 1)) * (x1 - x0 - 1)
        ys = y1 - 1 - (vals - lo) / (hi - lo) * (y1 - y0 - 2)
        _line(img, xs, ys, (colors or COLORS)[name])
    _text(img, 2, y0, _fmt(hi))
    _text(img, 2, y1 - 10, _fmt(lo))
    _text(img, x1 - 8 * len(str(max_step)), y1 + 8, str(max_step))
    _text(img, x0, y1 + 8, "0")
    return img


def _png(img: np.ndarray) -> bytes:
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def write_curves(records: list[dict], path: Path) -> None:
    """Draw the metrics records (dicts with step and any of loss_window, val_loss, entropy, val_bpb) to a PNG."""

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        pts = [(r["step"], r[key]) for r in records if r.get(key) is not None]
        return (np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float))

    max_step = max((r["step"] for r in records), default=1)
    top = _panel({"loss": series("loss_window"), "val_loss": series("val_loss")}, max_step)
    bottom = _panel({"entropy": series("entropy"), "val_bpb": series("val_bpb")}, max_step)
    write_bytes_atomic(path, _png(np.concatenate([top, bottom], axis=0)), "curves.png")


def write_metric_panels(records: list[dict], path: Path, panels: list[tuple[str, ...]]) -> None:
    """Any numeric record keys, one panel per tuple, lines coloured in PALETTE order within a panel (`nanochat rl`)."""

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        pts = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
        return (np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float))

    max_step = max((r["step"] for r in records), default=1)
    imgs = [_panel({k: series(k) for k in keys}, max_step, {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)})
            for keys in panels]
    write_bytes_atomic(path, _png(np.concatenate(imgs, axis=0)), path.name)
