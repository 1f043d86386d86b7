"""The body of `nanochat generate`: load the model, stream the completion to stdout, the rates to stderr.

`nanochat generate --help` lists the options; cli.py only parses them into GenerateOptions and calls
generate_command.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from rich.markup import escape

from nanochat_cli.console import make_console
from nanochat_cli.infer.sampling import SamplingParams


@dataclass
class GenerateOptions:
    prompt: str  # the text to continue
    model: str | None = None  # a GGUF or checkpoint directory; None: the shipped models/rust_small.gguf
    params: SamplingParams = field(default_factory=SamplingParams)  # temperature, top-k/p, stops, max_tokens, ...
    threads: int = 0  # kernel threads; 0 = the kernels' default
    ctx: int = 0  # context (prompt + completion) in tokens; 0 = the model's max_seq_len
    int8_head: bool = False  # the output head on int8 rows (load_model's int8_head); False = the file's own head


def generate_command(opts: GenerateOptions) -> None:
    """Stream the completion to stdout, then the token counts and rates to stderr."""
    from nanochat_cli.infer.generate import GenerationStats, generate, load_model
    from nanochat_cli.shipped_model import model_or_shipped

    model = model_or_shipped(opts.model)
    opts.params.validate()
    err = make_console(stderr=True)
    with err.status(f"loading {escape(str(model))}"):
        lm = load_model(model, threads=opts.threads or None, int8_head=opts.int8_head or None)
        engine = lm.engine(1, opts.ctx or None)
    stats = GenerationStats()
    finish = None
    for ev in generate(engine, lm.tokenizer, opts.prompt, opts.params, lm.eos_ids, stats=stats):
        sys.stdout.write(ev.text)
        sys.stdout.flush()
        finish = ev.finish_reason or finish
    sys.stdout.write("\n")
    err.print(f"prompt {stats.prompt_tokens} tokens, {stats.prefill_tps:.1f} tok/s prefill | generated "
              f"{stats.generated_tokens} tokens, {stats.decode_tps:.1f} tok/s decode | finish: {finish}",
              highlight=False, soft_wrap=True)  # one line however wide the figures (rich wraps at 80 columns)
