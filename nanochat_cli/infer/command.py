"""What `nanochat export` and `nanochat generate` run: the CLI's thin commands call these."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.markup import escape

from nanochat_cli.console import make_console
from nanochat_cli.infer.sampling import SamplingParams


def export_command(checkpoint: Path, output: Path, fmt: str, embed_type: str = "q6_k") -> None:
    from nanochat_cli.infer.export import export_checkpoint

    with make_console(stderr=True).status(f"exporting {escape(str(checkpoint))} as {escape(fmt)}"):
        path = export_checkpoint(checkpoint, output, fmt, embed_type)
    print(f"{path} ({fmt}, {path.stat().st_size / 2**20:.2f} MiB)")


def generate_command(model: str, prompt: str, params: SamplingParams, threads: int = 0, ctx: int = 0) -> None:
    """Stream the completion to stdout, then the token counts and rates to stderr."""
    from nanochat_cli.infer.generate import GenerationStats, generate, load_model

    params.validate()
    err = make_console(stderr=True)
    with err.status(f"loading {escape(str(model))}"):
        lm = load_model(model, threads=threads or None)
        engine = lm.engine(1, ctx or None)
    stats = GenerationStats()
    finish = None
    for ev in generate(engine, lm.tokenizer, prompt, params, lm.eos_ids, stats=stats):
        sys.stdout.write(ev.text)
        sys.stdout.flush()
        finish = ev.finish_reason or finish
    sys.stdout.write("\n")
    err.print(f"prompt {stats.prompt_tokens} tokens, {stats.prefill_tps:.1f} tok/s prefill | generated "
              f"{stats.generated_tokens} tokens, {stats.decode_tps:.1f} tok/s decode | finish: {finish}",
              highlight=False, soft_wrap=True)  # one line however wide the figures (rich wraps at 80 columns)
