"""The `nanochat` command: one thin Typer command per pipeline stage. Run `nanochat --help`.

Each command only declares its options: it parses them (into the stage's options dataclass where there are
many) and calls one function of its stage's package, `<stage>/command.py` where the body is more than a call.
User mistakes raise NanochatError, printed here as one line with exit code 1.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from nanochat_cli import __version__
from nanochat_cli.console import make_console
from nanochat_cli.errors import NanochatError

app = typer.Typer(
    name="nanochat",
    help="Train, quantize, run, evaluate and serve 1.58-bit ternary language models that write Rust.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
)
err = make_console(stderr=True)


def _port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise NanochatError(f"--port {value} is not a TCP port; pass 0..65535 (0 picks a free one)")
    return value


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


# ---- info / quantize (model files) ----


def _model_configs(value: bool) -> None:
    if value:
        from nanochat_cli.model.config import parameter_table

        print(parameter_table())
        raise typer.Exit()


@app.command(epilog='Examples: nanochat info models/rust_small.gguf · nanochat info runs/tiny · nanochat info --configs')
def info(
    path: Path = typer.Argument(..., help="A GGUF file (nanochat Q1_58 or any other GGUF), or a checkpoint directory (described as the GGUF `nanochat export` would write)."),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON to stdout instead of tables."),
    configs: bool = typer.Option(False, "--configs", callback=_model_configs, is_eager=True, help="Print the named model sizes (recipes' model.size) with their parameter counts, and exit."),
) -> None:
    """Print a GGUF file's metadata (with its GGUF version) and a table of its tensors."""
    from nanochat_cli.formats.describe import describe_model, print_description

    print_description(describe_model(path), as_json=json_out)


@app.command(epilog='Example: nanochat quantize model.safetensors -o model.gguf')
def quantize(
    src: Path = typer.Argument(..., help="A safetensors file, or a directory of safetensors shards (Hugging Face Llama-style or a nanochat checkpoint)."),
    output: Path = typer.Option(..., "-o", "--output", help="The GGUF file to write (written to a temp name, then renamed)."),
    group_size: Optional[int] = typer.Option(None, "--group-size", help="Input columns per weight scale: 0 = one scale per tensor, else a multiple of 4 dividing each row (default 128; 256 for tq formats)."),
    fmt: str = typer.Option("q1_58", "--format", help="q1_58 (nanochat planar trits + scales), tq2_0 or tq1_0 (llama.cpp ternary blocks; rows must be multiples of 256)."),
    json_out: bool = typer.Option(False, "--json", help="Print the per-tensor report as JSON to stdout instead of a table."),
) -> None:
    """Ternarize the 2-D linear weights of a float model into a GGUF file (embeddings and norms are kept)."""
    from nanochat_cli.formats.quantize import print_report, quantize_model, report_json

    report = quantize_model(src, output, group_size, fmt)
    print(report_json(report)) if json_out else print_report(report)


# ---- data ----

data_app = typer.Typer(help="Build the Rust corpus, tokenizer and token shards a recipe trains on.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("prepare", epilog="Examples: nanochat data prepare recipes/tiny.toml · nanochat data prepare recipes/rust_small_verified.toml")
def data_prepare(
    recipe: Path = typer.Argument(..., help="Recipe TOML (its data section is used), e.g. recipes/tiny.toml."),
    set_: list[str] = typer.Option([], "--set", help="Override a recipe key: --set data.max_crates=100 (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when a corpus for this data section exists."),
    json_out: bool = typer.Option(False, "--json", help="Print the manifest summary as JSON."),
) -> None:
    """Collect, filter, deduplicate and decontaminate Rust sources; train the BPE; write token shards."""
    from nanochat_cli.data.command import PrepareOptions, prepare_command

    prepare_command(PrepareOptions(recipe=recipe, overrides=set_, force=force, json_out=json_out))


# ---- train ----


def _describe_recipe(value: bool) -> None:
    if value:
        from nanochat_cli.train.command import describe_command

        describe_command()
        raise typer.Exit()


@app.command(epilog='Examples: nanochat train recipes/tiny.toml · nanochat train recipes/rust_small.toml --set train.steps=50 · nanochat train recipes/tiny.toml --resume runs/tiny')
def train(
    recipe: Path = typer.Argument(..., help="Recipe TOML, e.g. recipes/tiny.toml (runs `data prepare` first when needed)."),
    set_: list[str] = typer.Option([], "--set", help="Override a recipe key: --set train.steps=100 (repeatable)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue from a run directory or one of its step_* checkpoints."),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    describe: bool = typer.Option(False, "--describe", callback=_describe_recipe, is_eager=True, help="Print every recipe section and key with its default and meaning (as TOML comments), and exit."),
) -> None:
    """Train a ternary LM (Muon + Lion, WSD, validation, collapse guard, checkpoints); works under torchrun."""
    from nanochat_cli.train.command import TrainOptions, train_command

    train_command(TrainOptions(recipe=recipe, overrides=set_, resume=resume, json_out=json_out))


# ---- rl ----


@app.command(epilog='Examples: nanochat rl recipes/rl_grpo.toml · nanochat rl recipes/rl_maxrl.toml --set rl.steps=20')
def rl(
    recipe: Path = typer.Argument(..., help="Recipe TOML (its rl section says what to do), e.g. recipes/rl_grpo.toml."),
    set_: list[str] = typer.Option([], "--set", help="Override a recipe key: --set rl.steps=50 (repeatable)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an RL run directory or one of its step_* checkpoints."),
    json_out: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Reinforce a trained checkpoint on rustc rewards (GRPO, MaxRL or ReST); checkpoints export like train's."""
    from nanochat_cli.rl.command import RLOptions, rl_command

    rl_command(RLOptions(recipe=recipe, overrides=set_, resume=resume, json_out=json_out))


# ---- eval ----

eval_app = typer.Typer(
    help="Evaluate Rust code generation: compile and test completions with rustc in a sandbox.",
    epilog="Examples: nanochat eval --problems seed16 --n-samples 100 · nanochat eval --model tiny.gguf -o results.json "
    "· nanochat eval --server http://127.0.0.1:8080",
)
app.add_typer(eval_app, name="eval")


@eval_app.callback(invoke_without_command=True)
def eval_run(
    ctx: typer.Context,
    problems: str = typer.Option("rust-basic", "--problems", help="rust-basic, seed16, seed16-extra, humaneval-rs, mbpp-rs, or a MultiPL-E JSON/JSONL file."),
    gguf: Optional[Path] = typer.Option(None, "--model", help="A .gguf (nanochat export, or llama.cpp bitnet) run on the native engine; with no completion source at all, the shipped models/rust_small.gguf."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="A training checkpoint directory run on the native engine."),
    batch: int = typer.Option(4, "--batch", help="Samples decoded together by the native engine (--model/--checkpoint)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="Kernel threads for the native engine (default: all cores)."),
    int8_head: bool = typer.Option(False, "--int8-head", help="--model/--checkpoint: Run the output head on int8 rows, one scale per row: 4x fewer bytes per token than a float32 head, so faster decoding; tokens may differ from the float head's."),
    server: Optional[str] = typer.Option(None, "--server", help="OpenAI-compatible server, e.g. http://127.0.0.1:8080 (nanochat serve, llama-server)."),
    completions: Optional[Path] = typer.Option(None, "--completions", help='JSONL of {"name", "completion"} lines generated elsewhere.'),
    reference: bool = typer.Option(False, "--reference", help="Score the built-in reference solutions (harness self-check)."),
    server_model: Optional[str] = typer.Option(None, "--server-model", help="Model name sent to --server (default: its first /v1/models entry)."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="NANOCHAT_API_KEY", help="Bearer key for --server."),
    concurrency: int = typer.Option(4, "--concurrency", help="Requests in flight to --server."),
    n_samples: int = typer.Option(1, "--n-samples", help="Completions per problem (pass@k for every reported k <= n)."),
    temperature: float = typer.Option(0.2, "--temperature", help="Sampling temperature."),
    top_p: float = typer.Option(0.95, "--top-p", help="Nucleus sampling threshold."),
    max_tokens: int = typer.Option(512, "--max-tokens", help="Most tokens generated per completion."),
    seed: int = typer.Option(0, "--seed", help="Base seed; sample i uses seed + i."),
    no_token_healing: bool = typer.Option(False, "--no-token-healing", help="--model/--checkpoint: feed the prompt's last tokens as they are instead of re-spelling them."),
    mode: str = typer.Option("multipl-e", "--mode", help="multipl-e (rustc edition 2015, as published) or 2021."),
    jobs: int = typer.Option(2, "-j", "--jobs", help="Parallel rustc workers."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompile everything instead of reusing cached results."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the full results (versioned JSON schema) here."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON instead of a table."),
) -> None:
    """Generate completions, compile and run them with rustc, report compile rate, pass@k and more."""
    if ctx.invoked_subcommand is not None:
        return
    from nanochat_cli.evaluate.command import EvalOptions, eval_command
    from nanochat_cli.evaluate.completion_sources import GenerationParams, eval_sampling

    params = GenerationParams(n_samples, eval_sampling(temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                                                       seed=seed, token_healing=not no_token_healing))
    eval_command(EvalOptions(problems=problems, model=gguf, checkpoint=checkpoint, server=server, completions=completions,
                             reference=reference, server_model=server_model, api_key=api_key, concurrency=concurrency,
                             batch=batch, threads=threads, int8_head=int8_head, params=params, mode=mode, jobs=jobs, cache=not no_cache,
                             output=output, as_json=json_out))


@eval_app.command("compare", epilog="Example: nanochat eval compare before.json after.json")
def eval_compare(
    a: Path = typer.Argument(..., help="Earlier results file (nanochat eval --output)."),
    b: Path = typer.Argument(..., help="Later results file."),
    json_out: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Show what changed between two eval runs: metric deltas and problems that flipped."""
    from nanochat_cli.evaluate.command import compare_command

    compare_command(a, b, json_out)


# ---- export / generate ----


@app.command(epilog='Examples: nanochat export runs/tiny -o tiny.gguf · nanochat export runs/tiny --format bitnet-tq2 -o tiny-tq2.gguf')
def export(
    checkpoint: Path = typer.Argument(..., help="A checkpoint directory (or a run directory: its newest checkpoint)."),
    output: Path = typer.Option(..., "-o", "--output", help="The GGUF file to write (written to a temp name, then renamed)."),
    fmt: str = typer.Option("nanochat", "--format", help="nanochat (every model; config, tokenizer, trits + scales), bitnet-tq2 or bitnet-tq1 (llama.cpp's bitnet architecture, for models that fit it)."),
    embed_type: str = typer.Option("q6_k", "--embed-type", help="bitnet formats only: token embedding / head type, q6_k (llama.cpp's usual), f16 or f32."),
) -> None:
    """Export a trained checkpoint as a self-contained GGUF (the trained trits and scales, exactly)."""
    from nanochat_cli.formats.command import ExportOptions, export_command

    export_command(ExportOptions(checkpoint=checkpoint, output=output, fmt=fmt, embed_type=embed_type))


@app.command(epilog='Examples: nanochat generate --prompt "fn fibonacci(n: u64) -> u64 {" · nanochat generate tiny.gguf -p "fn main() {" -n 64')
def generate(
    model: Optional[str] = typer.Argument(None, show_default=False, help="A .gguf from `nanochat export` (or a llama.cpp bitnet TQ2_0/TQ1_0 GGUF), or a checkpoint directory; default: the shipped models/rust_small.gguf."),
    prompt: str = typer.Option(..., "--prompt", "-p", help="The text to continue."),
    max_tokens: int = typer.Option(128, "--max-tokens", "-n", min=0, help="Most tokens to generate."),
    temperature: float = typer.Option(0.8, "--temperature", "-t", min=0.0, help="0 = greedy."),
    top_k: int = typer.Option(0, "--top-k", min=0, help="Sample from the k most likely tokens; 0 = off."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass in (0, 1]; 1 = off."),
    min_p: float = typer.Option(0.0, "--min-p", help="Drop tokens below min_p x the top probability; 0 = off."),
    repeat_penalty: float = typer.Option(1.0, "--repeat-penalty", help="> 1 discourages the last 64 tokens; 1 = off."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed (reproducible output)."),
    stop: list[str] = typer.Option([], "--stop", help="Stop before this string (repeatable)."),
    threads: int = typer.Option(0, "--threads", min=0, help="Kernel threads; 0 = the kernels' default."),
    ctx: int = typer.Option(0, "--ctx", min=0, help="Context (prompt + completion) in tokens; 0 = the model's max_seq_len."),
    no_token_healing: bool = typer.Option(False, "--no-token-healing", help="Feed the prompt's last tokens as they are instead of backing them off and re-spelling them."),
    int8_head: bool = typer.Option(False, "--int8-head", help="Run the output head on int8 rows, one scale per row: 4x fewer bytes per token than a float32 head, so faster decoding; tokens may differ from the float head's."),
) -> None:
    """Generate text from a prompt, streamed to stdout; prefill and decode tokens/s go to stderr."""
    from nanochat_cli.infer.command import GenerateOptions, generate_command
    from nanochat_cli.infer.sampling import SamplingParams

    params = SamplingParams(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                            repeat_penalty=repeat_penalty, seed=seed, max_tokens=max_tokens, stop=list(stop),
                            token_healing=not no_token_healing)
    generate_command(GenerateOptions(prompt=prompt, model=model, params=params, threads=threads, ctx=ctx,
                                     int8_head=int8_head))


# ---- serve ----


@app.command(epilog='Examples: nanochat serve --port 8080 · nanochat serve tiny.gguf --port 8080 --api-key SECRET')
def serve(
    model: Optional[str] = typer.Argument(None, envvar="NANOCHAT_MODEL", show_default=False, help="A .gguf from `nanochat export`, or a checkpoint directory; default: the shipped models/rust_small.gguf."),
    host: str = typer.Option("127.0.0.1", "--host", envvar="NANOCHAT_HOST", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(8080, "--port", envvar="NANOCHAT_PORT", callback=_port, help="TCP port; 0 picks a free one."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="NANOCHAT_API_KEY", help="Require 'Authorization: Bearer KEY' or 'X-Api-Key: KEY' (all endpoints but /health)."),
    parallel: int = typer.Option(4, "--parallel", "-np", envvar="NANOCHAT_PARALLEL", min=1, help="Slots: requests decoded together in one batch."),
    ctx: int = typer.Option(0, "--ctx", envvar="NANOCHAT_CTX", min=0, help="Tokens per slot (prompt + completion); 0 = the model's max_seq_len."),
    alias: Optional[str] = typer.Option(None, "--alias", envvar="NANOCHAT_MODEL_ALIAS", help="Model id in /v1/models and requests (default: the file name without extension)."),
    max_queue: int = typer.Option(64, "--max-queue", envvar="NANOCHAT_MAX_QUEUE", min=0, help="Requests waiting for a slot; one more gets 429."),
    max_body_bytes: int = typer.Option(1 << 20, "--max-body-bytes", envvar="NANOCHAT_MAX_BODY_BYTES", min=1024, help="Largest request body; bigger gets 413."),
    max_messages: int = typer.Option(256, "--max-messages", envvar="NANOCHAT_MAX_MESSAGES", min=1, help="Most chat messages per request."),
    max_tokens_limit: int = typer.Option(0, "--max-tokens-limit", envvar="NANOCHAT_MAX_TOKENS_LIMIT", min=0, help="Cap on a request's max_tokens; 0 = the slot context."),
    prefill_chunk: int = typer.Option(256, "--prefill-chunk", envvar="NANOCHAT_PREFILL_CHUNK", min=1, help="Prompt tokens prefilled per step between decode steps."),
    shutdown_timeout: float = typer.Option(30.0, "--shutdown-timeout", envvar="NANOCHAT_SHUTDOWN_TIMEOUT", min=0, help="On SIGTERM, seconds in-flight requests get to finish before they are cancelled."),
    threads: int = typer.Option(0, "--threads", envvar="NANOCHAT_THREADS", min=0, help="Kernel threads; 0 = the kernels' default."),
    read_timeout: float = typer.Option(15.0, "--read-timeout", envvar="NANOCHAT_READ_TIMEOUT", min=0.1, help="Seconds a client gets to send a request's headers, and then its body (408)."),
    cors: Optional[list[str]] = typer.Option(None, "--cors", envvar="NANOCHAT_CORS", help="Let web pages from ORIGIN (e.g. http://localhost:3000, or '*') call the API; repeatable. Off by default."),
    slots: bool = typer.Option(False, "--slots/--no-slots", envvar="NANOCHAT_SLOTS", help="Enable GET /slots (what each slot is generating)."),
    int8_head: bool = typer.Option(False, "--int8-head", envvar="NANOCHAT_INT8_HEAD", help="Run the output head on int8 rows, one scale per row: 4x fewer bytes per token than a float32 head, so faster decoding; tokens may differ from the float head's."),
) -> None:
    """Serve a model over an OpenAI-compatible HTTP API (SSE streaming, continuous batching, /metrics)."""
    from nanochat_cli.serve import ServeConfig
    from nanochat_cli.serve import serve as run_server
    from nanochat_cli.shipped_model import model_or_shipped

    run_server(ServeConfig(model=model_or_shipped(model), host=host, port=port, api_key=api_key, parallel=parallel, ctx=ctx,
                           model_alias=alias, max_queue=max_queue, max_body_bytes=max_body_bytes,
                           max_messages=max_messages, max_tokens_limit=max_tokens_limit, prefill_chunk=prefill_chunk,
                           shutdown_timeout=shutdown_timeout, threads=threads, read_timeout=read_timeout,
                           cors=[o.rstrip("/") for o in cors or []], slots=slots, int8_head=int8_head))


# ---- bench-kernels ----


@app.command("bench-kernels", epilog="Examples: nanochat bench-kernels · nanochat bench-kernels --json kernels.json")
def bench_kernels(
    shapes: str = typer.Option("768x768,768x2048,2048x768,4096x4096,4096x11008,11008x4096", "--shapes", help="Matrix shapes MxK (M outputs, K inputs), comma-separated."),
    threads: str = typer.Option("1,2", "--threads", help="Thread counts to time, comma-separated."),
    batch: str = typer.Option("1,8", "--batch", help="Activation columns N (1 = GEMV), comma-separated."),
    cold: bool = typer.Option(False, "--cold", help="Cycle through >= 1 GiB of weight copies so every product reads DRAM."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write every figure to this JSON file."),
    kernels: Optional[str] = typer.Option(None, "--kernels", help="Only these kernels, e.g. avx512vnni,scalar or cuda-dp4a (default: all this CPU runs, and the GPU's when present)."),
    numpy_baseline: bool = typer.Option(True, "--numpy/--no-numpy", help="Time numpy float32 x @ W.T as the baseline."),
) -> None:
    """Time the ternary kernels per shape x threads x batch against this machine's measured rooflines."""
    from nanochat_cli.kernels.command import BenchOptions, bench_command

    bench_command(BenchOptions(shapes, threads, batch, cold, json_out, kernels, numpy_baseline))


def main() -> None:
    """Console-script entry point. Usage errors are Click's (usage line, exit 2); a NanochatError is one line, exit 1."""
    try:
        app()  # standalone mode: Click reports bad options itself and exits through SystemExit
    except NanochatError as e:
        # the message quotes user input (paths, names): print it as text, not rich markup
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
