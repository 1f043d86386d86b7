"""The bodies of `nanochat eval` and `nanochat eval compare`: pick a source, run, write, print.

`python -m nanochat_cli.cli eval --help` lists the options; cli.py only parses them and calls these.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from nanochat_cli.atomic_write import check_output_path
from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.problems import load_problem_set
from nanochat_cli.evaluate.report import compare_results, load_results, print_comparison, print_summary, write_results
from nanochat_cli.evaluate.runner import EvalConfig, run_eval
from nanochat_cli.evaluate.sandbox import SandboxLimits
from nanochat_cli.evaluate.sources import (
    CompletionRequest,
    CompletionsFileSource,
    Generation,
    GenerationParams,
    ServerSource,
)


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


def eval_command(problems: str, server: str | None, completions: Path | None, reference: bool,
                 gguf: Path | None, checkpoint: Path | None, server_model: str | None, api_key: str | None,
                 concurrency: int, batch: int, threads: int | None, params: GenerationParams, mode: str, jobs: int,
                 cache: bool, output: Path | None, as_json: bool) -> dict:
    """Run one evaluation and report it (table to stdout, or a JSON summary with as_json)."""
    chosen = [name for name, given in (("--model", gguf), ("--checkpoint", checkpoint), ("--server", server),
                                       ("--completions", completions), ("--reference", reference)) if given]
    if len(chosen) != 1:
        raise NanochatError("give exactly one completion source: --model FILE.gguf, --checkpoint DIR, --server URL, "
                            "--completions FILE or --reference" + (f" (got {' and '.join(chosen)})" if chosen else ""))
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

        source = EngineSource(gguf or checkpoint, batch=batch, threads=threads)  # type: ignore[arg-type]
    elif server:
        source = ServerSource(server, model=server_model, api_key=api_key, concurrency=concurrency)
    elif completions:
        source = CompletionsFileSource(completions)
    else:
        source = ReferenceSource(problems)
    config = EvalConfig(problems=problems, mode=mode, params=params, jobs=jobs, cache=cache, limits=SandboxLimits())
    results = run_eval(config, source, console=Console(stderr=True))
    if output is not None:
        write_results(results, output)
        Console(stderr=True).print(f"wrote {escape(str(output))}")
    if as_json:
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
