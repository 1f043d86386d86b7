"""The default model of a source checkout, `models/rust_small.gguf`: what `generate`, `serve` and `eval` run
when no model is named. Its card, with how it was trained and measured, is `models/README.md`."""

from __future__ import annotations

from pathlib import Path

from nanochat_cli.errors import NanochatError

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "rust_small.gguf"


def shipped_model() -> Path:
    """The shipped GGUF's path; one clear error where this install has no models/ directory beside the package."""
    if not SHIPPED_MODEL.is_file():
        raise NanochatError(
            f"no model given and the shipped model {SHIPPED_MODEL} is not here (it comes with a source checkout); "
            "name a .gguf or a checkpoint directory"
        )
    return SHIPPED_MODEL


def model_or_shipped(given: str | Path | None) -> str:
    """The model a command was given, else the shipped one (what `generate`, `serve` and `eval` do with none)."""
    return str(given) if given else str(shipped_model())
