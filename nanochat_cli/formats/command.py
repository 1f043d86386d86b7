"""The body of `nanochat export`: write a checkpoint as a GGUF, then print the path, format and size.

`nanochat export --help` lists the options; cli.py only parses them into ExportOptions and calls export_command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape

from nanochat_cli.console import make_console
from nanochat_cli.formats.export import export_checkpoint


@dataclass
class ExportOptions:
    checkpoint: Path  # a checkpoint directory, or a run directory (its newest checkpoint)
    output: Path  # the GGUF file to write
    fmt: str = "nanochat"  # nanochat, bitnet-tq2 or bitnet-tq1 (export.FORMATS)
    embed_type: str = "q6_k"  # bitnet formats only: the token embedding's type, q6_k, f16 or f32


def export_command(opts: ExportOptions) -> Path:
    with make_console(stderr=True).status(f"exporting {escape(str(opts.checkpoint))} as {escape(opts.fmt)}"):
        path = export_checkpoint(opts.checkpoint, opts.output, opts.fmt, opts.embed_type)
    print(f"{path} ({opts.fmt}, {path.stat().st_size / 2**20:.2f} MiB)")
    return path
