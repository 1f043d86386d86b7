"""Sandbox throughput benchmark: seconds to check 100 programs with -j 1 (baseline) and -j N.

Run `python benchmarks/sandbox_jobs.py [--jobs 2] [--repeats 3]`. Two workloads, no result cache:
- compile-only: 100 seed16 items (the reference completions, each made distinct by a comment), type-checked
  as a library (`--emit=metadata`, edition 2021), as `nanochat eval --problems seed16` does;
- build+run: 100 rust-basic programs (reference solutions, cycled, made distinct), full MultiPL-E mode
  (`rustc -o`, edition 2015, then the test binary runs in the sandbox).
Prints the median of `repeats` runs per setting, and the speed-up of -j N over -j 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from nanochat_cli.rust.problems import assemble_program, load_problem_set
from nanochat_cli.rust.sandbox import RustSandbox


def workload(name: str, count: int = 100) -> tuple[str, list[tuple[str, str, str | None]]]:
    problems = load_problem_set(name)
    mode = "2021" if name == "seed16" else "multipl-e"
    programs = []
    for i in range(count):
        p = problems[i % len(problems)]
        programs.append((assemble_program(p, p.reference or "") + f"// sample {i}\n", p.kind, p.edition or None))
    return mode, programs


def time_run(mode: str, programs: list[tuple[str, str, str | None]], jobs: int) -> tuple[float, dict[str, int]]:
    box = RustSandbox(mode=mode, jobs=jobs, cache=None)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    results = box.run_many(programs)
    seconds = time.perf_counter() - t0
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return seconds, statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--count", type=int, default=100)
    args = ap.parse_args()
    report = {}
    for name in ("seed16", "rust-basic"):
        mode, programs = workload(name, args.count)
        row = {}
        for jobs in (1, args.jobs):
            times, statuses = [], {}
            for _ in range(args.repeats):  # alternate settings per repeat would be fairer; runs are short
                secs, statuses = time_run(mode, programs, jobs)
                times.append(secs)
            row[f"j{jobs}"] = {"median_s": statistics.median(times), "runs_s": [round(t, 2) for t in times],
                               "statuses": statuses}
        row["speedup"] = row["j1"]["median_s"] / row[f"j{args.jobs}"]["median_s"]
        report[f"{name} ({'compile-only' if name == 'seed16' else 'build+run'}, {mode})"] = row
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
