"""The body of `nanochat bench-kernels`: run the benchmark (bench.py), print the rich table, write JSON.

`nanochat bench-kernels --help` lists the options; cli.py only parses them into BenchOptions and calls
bench_command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nanochat_cli.console import make_console
from nanochat_cli.kernels.bench import Report, check_json_path, parse_counts, parse_shapes, run_bench, write_json


def _x(v: float | None) -> str:
    return "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or make_console()
    p = report.probes
    mode = "DRAM-cold" if report.args["cold"] else "cache-hot"
    peak = p.get("int8_dot_peak_gops_per_core")
    title = f"ternary matmul, {mode}: {report.machine['cpu']} ({report.machine['cpus']} CPUs), {report.date}"
    table = Table(title=title, title_justify="left")
    for col in ("kernel", "shape", "T", "N", "median us", "GOPS", "% int8", "GB/s", "roof GB/s", "% roof",
                "x scalar", "x numpy"):
        table.add_column(col, justify="left" if col in ("kernel", "shape") else "right")
    last = None
    for r in report.rows:
        key = (tuple(r.shape), r.threads, r.batch)
        if last is not None and key != last:
            table.add_section()
        last = key
        name = f"[bold]{r.kernel}*[/]" if r.picked else r.kernel
        roof = "-" if r.roofline_gbs is None else f"{r.roofline_gbs:.1f}"
        pct = "-" if r.roofline_pct is None else f"{r.roofline_pct:.0f}%"
        peak_pct = "-" if r.int8_peak_pct is None else f"{r.int8_peak_pct:.0f}%"
        table.add_row(name, f"{r.shape[0]}x{r.shape[1]}", str(r.threads) if r.threads else "GPU", str(r.batch),
                      f"{r.median_us:.1f}", f"{r.gops:.1f}", peak_pct, f"{r.weight_gbs:.1f}", roof, pct,
                      _x(r.vs_scalar), _x(r.vs_numpy))
    console.print(table)
    notes = ["* = the dispatcher's pick (autotune cache or NANOCHAT_KERNEL); GB/s = weight bytes streamed;",
             "% int8 = GOPS against T x one core's int8 dot peak (the compute roofline; a lookup-table kernel",
             "  does fewer multiply-adds than it is credited with, so it may pass 100%)",
             "x numpy = speed-up over numpy float32 x @ W.T of the same shape",
             "roofline = read bandwidth of " + ("256 MiB (DRAM)" if report.args["cold"] else
                                                "a buffer the size of the weights") + ", measured in this run"]
    if peak:
        notes.append(f"int8 dot peak (vpdpbusd, one core): {peak:.0f} GOPS")
    if p.get("lut_lookup_peak_gops_per_core"):
        notes.append(f"lookup peak (vpermb + vpaddw, one core, counted as the weight ops they stand for): "
                     f"{p['lut_lookup_peak_gops_per_core']:.0f} GOPS")
    if report.numpy_us and not p.get("numpy_blas_threads_pinned"):
        notes.append("numpy's BLAS ran with its default thread count")
    load = report.machine.get("load_average_before"), report.machine.get("load_average_after")
    if all(load):
        notes.append(f"load average before / after: {load[0][0]:.2f} / {load[1][0]:.2f}")
    for note in notes:
        console.print(f"  {note}", highlight=False)


@dataclass
class BenchOptions:
    shapes: str = "768x768,768x2048,2048x768,4096x4096,4096x11008,11008x4096"  # MxK, comma-separated
    threads: str = "1,2"  # thread counts, comma-separated
    batch: str = "1,8"  # activation columns N, comma-separated
    cold: bool = False  # cycle through >= 1 GiB of weight copies so every product reads DRAM
    json_out: Path | None = None  # also write every figure here
    kernels: str | None = None  # only these kernels (comma-separated); None = all this machine runs
    numpy_baseline: bool = True  # time numpy float32 x @ W.T as the baseline


def bench_command(opts: BenchOptions) -> Report:
    err = make_console(stderr=True)
    parsed = (parse_shapes(opts.shapes), parse_counts(opts.threads, "thread", 64), parse_counts(opts.batch, "batch", 256))
    names = [k.strip() for k in opts.kernels.split(",") if k.strip()] if opts.kernels else None
    if opts.json_out:
        check_json_path(opts.json_out)
    with err.status("benchmarking kernels") as status:
        report = run_bench(*parsed, cold=opts.cold, kernels=names, with_numpy=opts.numpy_baseline,
                           progress=lambda msg: status.update(f"benchmarking kernels: {msg}"))
    print_report(report)
    if opts.json_out:
        write_json(report, opts.json_out)
        err.print(f"wrote {escape(str(opts.json_out))}")
    return report
