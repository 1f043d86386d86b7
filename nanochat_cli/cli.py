"""The `nanochat` command: one thin Typer command per pipeline stage. Run `nanochat --help`.

Each command parses its options, calls one function of its stage's package and prints the result.
User mistakes raise NanochatError, printed here as one line with exit code 1.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from nanochat_cli import __version__
from nanochat_cli.errors import NanochatError

app = typer.Typer(
    name="nanochat",
    help="Train, quantize, run, evaluate and serve 1.58-bit ternary language models that write Rust.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"nanochat {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log debug details to stderr."),
) -> None:
    """nanochat: ternary (1.58-bit) Rust language models, end to end on a plain CPU."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# ---- info / quantize (ternary formats) ----


@app.command()
def info(
    path: Path = typer.Argument(..., help="A GGUF file (nanochat Q1_58 or any other GGUF)."),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON to stdout instead of tables."),
) -> None:
    """Print a GGUF file's metadata and a table of its tensors."""
    from nanochat_cli.ternary.inspect import describe_gguf, print_description

    desc = describe_gguf(path)
    print_description(desc, as_json=json_out)


@app.command()
def quantize(
    src: Path = typer.Argument(..., help="A safetensors file, or a directory of safetensors shards (Hugging Face Llama-style or a nanochat checkpoint)."),
    output: Path = typer.Option(..., "-o", "--output", help="The GGUF file to write (written to a temp name, then renamed)."),
    group_size: Optional[int] = typer.Option(None, "--group-size", help="Input columns per weight scale: 0 = one scale per tensor, else a multiple of 4 dividing each row (default 128; 256 for tq formats)."),
    fmt: str = typer.Option("q1_58", "--format", help="q1_58 (nanochat planar trits + scales), tq2_0 or tq1_0 (llama.cpp ternary blocks; rows must be multiples of 256)."),
    json_out: bool = typer.Option(False, "--json", help="Print the per-tensor report as JSON to stdout instead of a table."),
) -> None:
    """Ternarize the 2-D linear weights of a float model into a GGUF file (embeddings and norms are kept)."""
    from nanochat_cli.ternary.quantize import print_report, quantize_model, report_json

    report = quantize_model(src, output, group_size, fmt)
    print(report_json(report)) if json_out else print_report(report)


def main() -> None:
    """Console-script entry point: runs the app, turning NanochatError into one clean line."""
    try:
        app(standalone_mode=False)
    except NanochatError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Exit, SystemExit) as e:
        code = getattr(e, "exit_code", getattr(e, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as e:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


if __name__ == "__main__":
    main()
