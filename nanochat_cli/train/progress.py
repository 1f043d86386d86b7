"""What the user watches and what is recorded: a rich live line on stderr, metrics JSONL, FLOP and MFU figures.

On a terminal the line is a live progress bar; otherwise (CI logs, a pipe) one plain line per logging step.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from nanochat_cli.atomic_write import write_text_atomic
from nanochat_cli.console import make_console

# Dense peak FLOP/s per GPU (bf16, no sparsity), from the vendors' data sheets.
GPU_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12, "4090": 165e12}


def cpu_flops_per_cycle(cpuinfo: str) -> int:
    """fp32 FLOP per cycle per core: 2 FMA ports x lanes x 2. Intel AVX-512 cores have 512-bit FMA ports (64);
    AMD Zen 4 runs AVX-512 as two 256-bit halves, and AVX2-only cores have 256-bit ports (32)."""
    intel = "GenuineIntel" in cpuinfo
    return 64 if intel and " avx512f" in cpuinfo else 32


def peak_flops(device: torch.device, threads: int, configured: float) -> float:
    """Peak FLOP/s of one process's device: the recipe's figure, a GPU data-sheet figure, or threads*clock*FLOP/cycle."""
    if configured > 0:
        return configured
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return next((v for k, v in GPU_PEAK.items() if k in name), 100e12)
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    m = re.search(r"cpu MHz\s*:\s*([\d.]+)", cpuinfo)
    mhz = float(m.group(1)) if m else 3000.0
    return threads * mhz * 1e6 * cpu_flops_per_cycle(cpuinfo)


def flops_per_token(matmul_params: int, n_layers: int, d_model: int, seq_len: int) -> float:
    """Training FLOPs per token: 6 per matmul weight (forward + backward) + attention scores (PaLM appendix B)."""
    return 6.0 * matmul_params + 12.0 * n_layers * d_model * seq_len


class MetricsLog:
    """Append-only JSONL of metric records; on resume, records past the checkpoint's step are dropped."""

    def __init__(self, path: Path, resume_step: int | None):
        self.path = path
        self.records: list[dict] = []
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    try:
                        r = json.loads(line)
                    except json.JSONDecodeError:  # the half-written last line of a killed run
                        continue
                    if resume_step is not None and r.get("step", 0) <= resume_step:
                        self.records.append(r)
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in self.records), "logging.metrics_file")

    def append(self, record: dict) -> None:
        self.records.append(record)
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


# Metric fields in the order they appear; the number is their rank: a narrow terminal drops the highest first.
def _fields(r: dict, last_val: dict | None) -> list[tuple[int, str]]:
    parts = [(0, f"loss {r['loss_window']:.3f}")]  # mean since the previous line: less noise than one step
    if last_val is not None:  # the latest validation stays on the line until the next one
        parts.append((1, f"val {last_val['val_loss']:.3f} ({last_val['val_bpb']:.3f} bpb)"))
    parts += [
        (3, f"H {r['entropy']:.2f}"), (7, f"max logit {r['max_logit']:.1f}"), (4, f"lr x{r['lr_mult']:.3f}"),
        (6, f"|g| {r['grad_norm']:.2f}"), (2, f"{r['tok_per_s']:,.0f} tok/s"), (5, f"MFU {100 * r['mfu']:.1f}%"),
    ]
    return parts


def fit_fields(parts: list[tuple[int, str]], width: int) -> str:
    """Join the fields with two spaces, dropping the least important until the text fits `width` (loss stays)."""
    keep = list(parts)
    while len(keep) > 1 and len("  ".join(t for _, t in keep)) > width:
        keep.remove(max(keep, key=lambda p: p[0]))
    return "  ".join(t for _, t in keep)


def _fmt(r: dict, last_val: dict | None) -> str:
    return "  ".join(t for _, t in _fields(r, last_val))


class _FittedStats(ProgressColumn):
    """The metric fields that fit beside the fixed columns at the console's current width (read at each refresh)."""

    def __init__(self, line: LiveLine):
        super().__init__()
        self.line = line

    def render(self, task: Task) -> Text:
        budget = self.line.console.width - self.line.fixed_width()
        return Text(fit_fields(task.fields["parts"], budget), no_wrap=True, overflow="ellipsis")


class LiveLine:
    """The progress display; a no-op on ranks other than 0 or when logging.progress is off.

    On a terminal it is one live line: `train [bar] step/total metrics elapsed ETA remaining`; step, loss and ETA
    stay at any width, the bar narrows and metric fields leave in order of importance (see `_fields`).
    """

    def __init__(self, total: int, start: int, enabled: bool, console: Console | None = None):
        self.console = console or make_console(stderr=True)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self.start_time = time.time()
        self.total = total
        self.prog = None
        self.last_val: dict | None = None
        if self.live:
            self.bar = BarColumn(bar_width=self._bar_width())
            self.prog = Progress(
                TextColumn("[bold]train"), self.bar, MofNCompleteColumn(), _FittedStats(self),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
            )
            self.task = self.prog.add_task("train", total=total, completed=start, parts=[(0, "starting")])
            self.prog.start()

    def _bar_width(self) -> int:
        w = self.console.width
        return 24 if w >= 140 else 8 if w >= 70 else 0

    def fixed_width(self) -> int:
        """Columns other than the metrics, with the one-space gaps between the seven columns."""
        self.bar.bar_width = self._bar_width()
        mofn = 2 * len(str(self.total)) + 1
        return len("train") + self.bar.bar_width + mofn + len("0:00:00") + len("ETA") + len("0:00:00") + 6 + 1

    def update(self, step: int, record: dict | None) -> None:
        if record and record.get("val_loss") is not None:
            self.last_val = record
        if self.prog:
            kw = {"parts": _fields(record, self.last_val)} if record else {}
            self.prog.update(self.task, completed=step, **kw)
        elif self.enabled and record:
            self.console.print(f"step {step}/{self.total}  {_fmt(record, self.last_val)}  eta {record['eta_s']:.0f}s", highlight=False)

    def message(self, text: str, style: str = "yellow") -> None:
        if self.enabled or style != "dim":
            self.console.print(Text(text, style=style), highlight=False)

    def close(self) -> None:
        if self.prog:
            self.prog.stop()
