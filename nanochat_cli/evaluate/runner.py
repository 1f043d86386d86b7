"""One evaluation run: problems -> completions -> rustc sandbox -> metrics -> results dict.

`run_eval(EvalConfig(...), source)` is what `nanochat eval` calls; the results dict follows the schema
in report.py (write it with `write_results`, print it with `print_summary`).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import platform
from dataclasses import asdict, dataclass, field

from rich.console import Console
from rich.markup import escape
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

from nanochat_cli import __version__
from nanochat_cli.console import make_console
from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.ast_metrics import rust_ast_metrics
from nanochat_cli.evaluate.metrics import error_code_histogram, ks_for, mean_pass_at_k, pass_at_k, rate
from nanochat_cli.evaluate.report import SCHEMA_VERSION
from nanochat_cli.evaluate.completion_sources import CompletionRequest, CompletionSource, Generation, GenerationParams
from nanochat_cli.evaluate.triviality import is_trivial
from nanochat_cli.rust.problems import (
    Problem,
    assemble_program,
    cut_at_stop_tokens,
    describe_problem_set,
    load_problem_set,
)
from nanochat_cli.rust.sandbox import STATUSES, RustSandbox, SandboxLimits

# Numeric AST metrics averaged over samples in the summary.
_AST_MEANS = ("parse_errors", "functions", "cyclomatic", "max_nesting", "unsafe_blocks", "unwrap_calls",
              "expect_calls", "panic_macros", "lines")


@dataclass
class EvalConfig:
    """Settings of one `nanochat eval` run (recorded under "config" in results files)."""

    problems: str = "rust-basic"  # built-in set name, MultiPL-E set name or file path
    mode: str = "multipl-e"  # "multipl-e" (edition 2015, as published) or "2021"
    params: GenerationParams = field(default_factory=GenerationParams)
    jobs: int = 2  # parallel rustc workers
    cache: bool = True  # reuse sandbox results by program hash
    limits: SandboxLimits = field(default_factory=SandboxLimits)


def item_source(problem: Problem, completion: str) -> str:
    """The completed item without the test harness (for AST metrics): prompt + cut completion + `}`."""
    body = problem.preamble + problem.prompt + cut_at_stop_tokens(completion, problem.stop_tokens)
    closing = problem.tests.lstrip("\n")
    return body + ("\n}\n" if closing.startswith("}") else "\n")


class _TokensPerSecond(ProgressColumn):
    """Generated tokens per second since the bar started (the task's `tokens` field over its elapsed time)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.fields.get("tokens", 0) / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} tok/s")


def _generate(source: CompletionSource, requests: list[CompletionRequest], params: GenerationParams,
              console: Console) -> Generation:
    """Run the source's generation under a bar (samples done, tokens/s, ETA) if it reports progress, else a spinner.

    A source reports progress by accepting `progress=`, a callback `(samples_finished, tokens)` called as samples
    finish; sources without it (a completions file, a server source without the hook) keep the spinner.
    """
    if "progress" not in inspect.signature(source.complete).parameters:
        with console.status("generating completions"):
            return source.complete(requests, params)
    columns = (TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TextColumn("samples"), _TokensPerSecond(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("generate", total=len(requests) * params.n_samples, tokens=0)

        def progress(samples: int, tokens: int) -> None:
            bar.update(task, advance=samples, tokens=bar.tasks[task].fields["tokens"] + tokens)

        return source.complete(requests, params, progress=progress)


def run_eval(config: EvalConfig, source: CompletionSource, console: Console | None = None) -> dict:
    """Generate, compile/run and score; returns the results dict (schema in report.py)."""
    console = console or make_console(stderr=True)
    if config.params.n_samples < 1:
        raise NanochatError("--n-samples must be at least 1")
    problems = load_problem_set(config.problems)
    info = describe_problem_set(config.problems, problems)
    sandbox = RustSandbox(mode=config.mode, limits=config.limits, jobs=config.jobs,  # type: ignore[arg-type]
                          cache="default" if config.cache else None)
    n = config.params.n_samples

    console.print(f"[bold]eval[/] {escape(info.name)}: {len(problems)} problems x {n} sample(s), mode {config.mode}, "
                  f"-j {config.jobs}, isolation {sandbox.isolation}")
    requests = [CompletionRequest(p.name, p.prompt, p.stop_tokens) for p in problems]
    gen = _generate(source, requests, config.params, console)
    if len(gen.completions) != len(problems) or any(len(c) != n for c in gen.completions):
        raise NanochatError("the completion source returned the wrong number of completions")

    flat = [(pi, si) for pi in range(len(problems)) for si in range(n)]
    programs = [(assemble_program(problems[pi], gen.completions[pi][si]), problems[pi].kind,
                 problems[pi].edition or None) for pi, si in flat]
    with Progress(TextColumn("rustc"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("rustc", total=len(programs))
        outcomes = sandbox.run_many(programs, progress=lambda i, r: bar.advance(task))

    records = []
    for pi, p in enumerate(problems):
        samples = []
        for si in range(n):
            r = outcomes[pi * n + si]
            completion = gen.completions[pi][si]
            ntok = gen.token_counts[pi][si] if gen.token_counts else None
            trivial = is_trivial(p, completion)
            samples.append({
                "index": si, "completion": completion, "status": r.status, "compiled": r.compiled,
                "passed": r.status == "OK", "trivial": trivial, "non_trivial_compiled": r.compiled and not trivial,
                "first_error": r.first_error,
                "error_codes": r.error_codes,
                "exit_code": r.exit_code, "compile_s": round(r.compile_s, 4), "run_s": round(r.run_s, 4),
                "cached": r.cached, "tokens": ntok, "ast": rust_ast_metrics(item_source(p, completion)).to_dict(),
            })
        c_pass = sum(s["passed"] for s in samples)
        records.append({
            "name": p.name, "kind": p.kind, "edition": sandbox.edition_for(p.edition or None), "n": n,
            "compiled": sum(s["compiled"] for s in samples),
            "non_trivial_compiled": sum(s["non_trivial_compiled"] for s in samples), "passed": c_pass,
            "pass_at_k": {str(k): pass_at_k(n, c_pass, k) for k in ks_for(n)}, "samples": samples,
        })
    return {
        "schema_version": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "nanochat_version": __version__,
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        "config": {"problems": config.problems, "mode": config.mode, "jobs": config.jobs, "cache": config.cache,
                   **config.params.record()},
        "source": source.identity(),
        "problem_set": asdict(info),
        "sandbox": sandbox.describe(),
        "summary": summarize(records, gen.tokens, gen.seconds),
        "problems": records,
    }


def summarize(records: list[dict], tokens: int | None, seconds: float) -> dict:
    samples = [s for rec in records for s in rec["samples"]]
    n = records[0]["n"] if records else 0
    counts = [(rec["n"], rec["passed"]) for rec in records]
    statuses = {st: sum(s["status"] == st for s in samples) for st in STATUSES}
    return {
        "problems": len(records),
        "samples": len(samples),
        "compile_rate": rate(s["compiled"] for s in samples),
        "non_trivial_compile_rate": rate(s["non_trivial_compiled"] for s in samples),
        "pass_rate": rate(s["passed"] for s in samples),
        "pass_at_k": {str(k): mean_pass_at_k(counts, k) for k in ks_for(n)} if n else {},
        "status_counts": statuses,
        "error_codes": error_code_histogram(s["error_codes"] for s in samples),
        "ast_means": {k: (sum(s["ast"][k] for s in samples) / len(samples) if samples else 0.0) for k in _AST_MEANS},
        "samples_with_parse_errors": sum(s["ast"]["parse_errors"] > 0 for s in samples),
        "trivial_compiles": sum(s["compiled"] and s["trivial"] for s in samples),  # the prompt's item holds no code
        "trivial_passes": sum(s["passed"] and s["trivial"] for s in samples),
        "generation": {"tokens": tokens, "seconds": round(seconds, 3),
                       "tokens_per_s": (tokens / seconds) if tokens and seconds > 0 else None},
    }

