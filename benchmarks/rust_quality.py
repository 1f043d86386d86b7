"""Rust code quality of one or more models as one markdown table, for docs/BENCHMARKS.md and model cards.

Runs `nanochat eval` (the CLI, one process per set and model) on seed16 (compile-only, --n-seed16 samples
per problem, default 100), rust-basic, humaneval-rs and mbpp-rs (--n samples, default 10), then prints
| set | model | problems | samples | compile rate | non-trivial compile | pass@1 | pass@10 |
followed by the exact commands, the machine and the date. HumanEval-rs / MBPP-rs are read from the
MultiPL-E files (../shared/benchmarks/multipl-e or $NANOCHAT_MULTIPLE_DIR; the same files as the
MultiPL-E repository's prompts/). --limit N keeps the first N problems of every set (the table says so).

Run: `python benchmarks/rust_quality.py models/model.gguf runs/tiny/step_0000400 [--limit 20] [--out-dir DIR]`
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.completion_sources import GenerationParams
from nanochat_cli.rust.problems import load_problem_set

SETS = ("seed16", "rust-basic", "humaneval-rs", "mbpp-rs")
DEFAULTS = GenerationParams().sampling


def _pct(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str:
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def problems_arg(name: str, limit: int | None, out_dir: Path) -> tuple[str, int]:
    """What to pass as --problems (the set's name, or a file of its first `limit` problems) and the count."""
    problems = load_problem_set(name)
    if limit is None or limit >= len(problems):
        return name, len(problems)
    subset = out_dir / f"{name}-first{limit}.json"
    subset.write_text(json.dumps([p.to_dict() for p in problems[:limit]], indent=1) + "\n", encoding="utf-8")
    return str(subset), limit


def eval_args(model: Path, problems: str, n: int, args: argparse.Namespace, output: Path) -> list[str]:
    source = ["--model", str(model)] if model.is_file() else ["--checkpoint", str(model)]
    argv = ["eval", *source, "--problems", problems, "--n-samples", str(n), "--temperature", str(args.temperature),
            "--top-p", str(args.top_p), "--max-tokens", str(args.max_tokens), "--seed", str(args.seed),
            "--mode", args.mode, "-j", str(args.jobs), "--batch", str(args.batch)]
    if args.threads is not None:
        argv += ["--threads", str(args.threads)]
    return argv + ["-o", str(output), "--json"]


def table_row(set_name: str, model: str, results: dict) -> str:
    s = results["summary"]
    pak = s["pass_at_k"]
    cells = [set_name, model, str(s["problems"]), str(s["samples"]), _pct(s["compile_rate"]),
             _pct(s.get("non_trivial_compile_rate")), _pct(pak.get("1")), _pct(pak.get("10"))]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, help="GGUF files (nanochat export) or checkpoint directories")
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated problem sets (default {','.join(SETS)})")
    ap.add_argument("--n-seed16", type=int, default=100, help="samples per seed16 problem (default 100)")
    ap.add_argument("--n", type=int, default=10, help="samples per problem of the other sets (default 10)")
    ap.add_argument("--limit", type=int, default=None, help="evaluate only the first N problems of each set")
    ap.add_argument("--temperature", type=float, default=DEFAULTS.temperature)
    ap.add_argument("--top-p", type=float, default=DEFAULTS.top_p)
    ap.add_argument("--max-tokens", type=int, default=DEFAULTS.max_tokens)
    ap.add_argument("--seed", type=int, default=DEFAULTS.seed)
    ap.add_argument("--mode", default="multipl-e", choices=["multipl-e", "2021"])
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel rustc workers")
    ap.add_argument("--batch", type=int, default=4, help="samples decoded together by the native engine")
    ap.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    ap.add_argument("--out-dir", type=Path, default=None, help="where results files go (default: a new temp dir)")
    args = ap.parse_args()

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    missing = [str(m) for m in args.models if not m.exists()]
    if missing:
        sys.exit(f"error: model {missing[0]} not found; give a .gguf from nanochat export or a checkpoint dir")
    if args.limit is not None and args.limit < 1:
        sys.exit("error: --limit must be at least 1")
    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="rust-quality-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    try:  # every set resolves (MultiPL-E files present) before anything runs
        chosen = {name: problems_arg(name, args.limit, out_dir) for name in sets}
    except NanochatError as e:
        sys.exit(f"error: {e}")

    started = dt.datetime.now(dt.timezone.utc)
    rows, commands, notes = [], [], []
    short = [m.name for m in args.models]
    for i, model in enumerate(args.models):
        label = short[i] if short.count(short[i]) == 1 else str(model)  # the path where names collide
        for name, (problems, count) in chosen.items():
            n = args.n_seed16 if name == "seed16" else args.n
            output = out_dir / f"{i}-{model.name}.{name}.json"
            argv = eval_args(model, problems, n, args, output)
            commands.append("nanochat " + shlex.join(argv))
            print(f"[rust_quality] {label} / {name}: {count} problems x {n}", file=sys.stderr)
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "nanochat_cli.cli", *argv], stdout=subprocess.DEVNULL,
                                  check=False)
            if proc.returncode != 0:
                sys.exit(f"error: nanochat eval failed for {label} on {name} (exit {proc.returncode}); "
                         f"rerun the command below to see why:\n  {commands[-1]}")
            results = json.loads(output.read_text(encoding="utf-8"))
            rows.append(table_row(name, label, results))
            src, sb = results["source"], results["sandbox"]
            notes.append(f"{label} / {name}: {time.perf_counter() - t0:.0f} s, weights sha256 "
                         f"{(src.get('file_sha256') or '?')[:12]}, {sb['rustc']}, edition {sb['edition']}")

    print("| set | model | problems | samples | compile rate | non-trivial compile | pass@1 | pass@10 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    limit = f"the first {args.limit} problems of each set" if args.limit else "every problem of each set"
    print(f"- {limit}; samples per problem: seed16 {args.n_seed16}, others {args.n}; temperature {args.temperature}, "
          f"top-p {args.top_p}, max tokens {args.max_tokens}, seed {args.seed}, mode {args.mode}.")
    print("- compile rate counts every sample that compiles; non-trivial compile counts only those whose prompt item "
          "holds code (an empty body, `todo!()` or an unrelated item after an at-once `}` does not count).")
    print("- seed16 is compile-only: its pass@k counts compiling samples, trivial ones included. pass@10 is - "
          "where a set has fewer than 10 samples per problem.")
    print(f"- date {started.isoformat(timespec='seconds')}; machine: {_cpu_name()}, {os.cpu_count()} CPUs, "
          f"{platform.system()} {platform.machine()}, load average {os.getloadavg()[0]:.1f} at the end; "
          f"nanochat commit {_git_commit()}.")
    for note in notes:
        print(f"- {note}")
    print(f"- results files in {out_dir}; commands:")
    print()
    print("```")
    print("\n".join(commands))
    print("```")


if __name__ == "__main__":
    main()
