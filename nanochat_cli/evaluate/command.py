"""The bodies of `nanochat eval` and `nanochat eval compare`: pick a source, run, write, print.

`nanochat eval --help` lists the options; cli.py only parses them (into EvalOptions) and calls these.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape

from nanochat_cli.atomic_write import check_output_path
from nanochat_cli.console import make_console
from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.report import compare_results, load_results, print_comparison, print_summary, write_results
from nanochat_cli.evaluate.runner import EvalConfig, run_eval
from nanochat_cli.evaluate.completion_sources import (
    CompletionRequest,
    CompletionsFileSource,
    Generation,
    GenerationParams,
    ServerSource,
)
from nanochat_cli.rust.problems import load_problem_set
from nanochat_cli.rust.sandbox import SandboxLimits


class ReferenceSource:
    """The built-in sets' reference solutions as completions: a self-check of the harness."""

    def __init__(self, problems: str):
        self.problems = problems
        self.by_name = {p.name: p.reference for p in load_problem_set(problems)}
        if any(ref is None for ref in self.by_name.values()):
            raise NanochatError(f"--reference needs a built-in set with reference solutions (rust-basic, seed16, seed16-extra); "
                                f"{problems!r} has none")

    def identity(self) -> dict:
        return {"kind": "reference", "problems": self.problems}

    def complete(self, requests: list[CompletionRequest], params: GenerationParams) -> Generation:
        return Generation([[self.by_name[r.name]] * params.n_samples for r in requests])  # type: ignore[list-item]


@dataclass
class EvalOptions:
    """One `nanochat eval` run. Exactly one completion source: model, checkpoint, server, completions or reference;
    with none at all, the shipped models/rust_small.gguf."""

    problems: str = "rust-basic"  # a built-in set's name, or a MultiPL-E JSON/JSONL file
    model: Path | None = None  # a .gguf run on the native engine
    checkpoint: Path | None = None  # a training checkpoint directory run on the native engine
    server: str | None = None  # an OpenAI-compatible server's base URL
    completions: Path | None = None  # JSONL of {"name", "completion"} lines generated elsewhere
    reference: bool = False  # score the built-in reference solutions (harness self-check)
    server_model: str | None = None  # model name sent to the server (default: its first /v1/models entry)
    api_key: str | None = None  # bearer key for the server
    concurrency: int = 4  # requests in flight to the server
    batch: int = 4  # samples decoded together by the native engine
    threads: int | None = None  # native engine kernel threads (None: all cores)
    int8_head: bool = False  # native engine: the output head on int8 rows (load_model's int8_head)
    params: GenerationParams = field(default_factory=GenerationParams)
    mode: str = "multipl-e"  # multipl-e (rustc edition 2015, as published) or 2021
    jobs: int = 2  # parallel rustc workers
    cache: bool = True  # reuse cached compile/run results
    output: Path | None = None  # write the full results JSON here
    as_json: bool = False  # print the summary as JSON instead of a table


def eval_command(opts: EvalOptions) -> dict:
    """Run one evaluation and report it (table to stdout, or a JSON summary with as_json)."""
    problems, server, completions, reference = opts.problems, opts.server, opts.completions, opts.reference
    gguf, checkpoint, output, mode = opts.model, opts.checkpoint, opts.output, opts.mode
    if not (gguf or checkpoint or server or completions or reference):
        from nanochat_cli.shipped_model import shipped_model

        gguf = shipped_model()
    chosen = [name for name, given in (("--model", gguf), ("--checkpoint", checkpoint), ("--server", server),
                                       ("--completions", completions), ("--reference", reference)) if given]
    if len(chosen) != 1:
        raise NanochatError("give exactly one completion source: --model FILE.gguf, --checkpoint DIR, --server URL, "
                            "--completions FILE or --reference" + (f" (got {' and '.join(chosen)})" if chosen else ""))
    if opts.int8_head and not (gguf or checkpoint):
        raise NanochatError(f"--int8-head sets the native engine's output head; {chosen[0]} does not run it "
                            "(use it with --model or --checkpoint)")
    if mode not in ("multipl-e", "2021"):
        raise NanochatError(f"--mode {mode!r} is not known; use multipl-e or 2021")
    if gguf is not None and not gguf.is_file():
        raise NanochatError(f"--model {gguf} is not a file; give a .gguf (or use --checkpoint for a directory)")
    if checkpoint is not None and not checkpoint.is_dir():
        raise NanochatError(f"--checkpoint {checkpoint} is not a directory; give a training checkpoint dir")
    if output is not None:
        check_output_path(output, "--output")  # now, not after an evaluation that took an hour
    if gguf or checkpoint:
        from nanochat_cli.evaluate.engine_source import EngineSource

        source = EngineSource(gguf or checkpoint, batch=opts.batch, threads=opts.threads,  # type: ignore[arg-type]
                              int8_head=opts.int8_head)
    elif server:
        source = ServerSource(server, model=opts.server_model, api_key=opts.api_key, concurrency=opts.concurrency)
    elif completions:
        source = CompletionsFileSource(completions)
    else:
        source = ReferenceSource(problems)
    config = EvalConfig(problems=problems, mode=mode, params=opts.params, jobs=opts.jobs, cache=opts.cache,
                        limits=SandboxLimits())
    results = run_eval(config, source, console=make_console(stderr=True))
    if output is not None:
        write_results(results, output)
        make_console(stderr=True).print(f"wrote {escape(str(output))}")
    if opts.as_json:
        head = {k: results[k] for k in ("schema_version", "config", "source", "problem_set", "sandbox", "summary")}
        head["output"] = str(output) if output else None
        json.dump(head, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_summary(results)
    return results


def compare_command(a: Path, b: Path, as_json: bool) -> dict:
    """Print what changed between two results files (B relative to A)."""
    diff = compare_results(load_results(a), load_results(b))
    if as_json:
        json.dump(diff, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_comparison(diff)
    return diff
