"""Eval reports: the versioned results.json schema, the rich summary table, and `nanochat eval compare`.

Results file (schema_version 1), written atomically by `write_results`:
  schema_version   1
  created          ISO-8601 UTC time;  nanochat_version, host {machine, python}
  config           {problems, mode, jobs, cache, n_samples, temperature, top_p, max_tokens, seed}
  source           {kind: "server" | "completions" | ..., url/model or path, file_sha256 for files}
  problem_set      {name, sha256 (over name/prompt/tests/stop_tokens/kind/preamble, and edition where a
                    problem sets one), count, path, kinds}
  sandbox          {mode, edition, rustc, isolation, limits, sandbox_version}
  summary          {problems, samples, compile_rate, non_trivial_compile_rate (samples that compile AND are not
                    trivial), pass_rate, pass_at_k {"1": ..}, status_counts {OK, SyntaxError, Exception,
                    Timeout}, error_codes {"E0308": count, ..}, ast_means {..}, samples_with_parse_errors,
                    trivial_compiles, trivial_passes (compiling / passing samples that are trivial),
                    generation {tokens, seconds, tokens_per_s}}
  problems[]       {name, kind, edition (the one compiled in), n, compiled, non_trivial_compiled, passed,
                    pass_at_k {"k": ..},
                    samples[] {index, completion (raw, before the stop-token cut), status, compiled, passed,
                               trivial (the prompt's item holds no code: triviality.py), non_trivial_compiled,
                               first_error, error_codes, exit_code, compile_s, run_s, cached, tokens,
                               ast {parse_errors, error_nodes, missing_nodes, functions, cyclomatic,
                                    max_nesting, unsafe_blocks, unwrap_calls, expect_calls, panic_macros, lines}}}
Rates are fractions in [0, 1]; pass@k for a k above a problem's n is absent. Files written before
non_trivial_compile_rate, edition and trivial_compiles existed lack them; readers show "-" for them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nanochat_cli.atomic_write import atomic_output
from nanochat_cli.console import make_console
from nanochat_cli.errors import NanochatError

SCHEMA_VERSION = 1


def write_results(results: dict, path: str | Path) -> Path:
    """Write results JSON atomically (atomic_write.py); missing parent directories are created (library use:
    `nanochat eval -o` checks its path before the run and refuses a missing directory)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # atomic_output names the problem in one line
    with atomic_output(path, "--output") as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, allow_nan=True)
        f.write("\n")
    return path


def load_results(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise NanochatError(f"results file {path} not found; write one with nanochat eval --output FILE")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NanochatError(f"{path} is not valid JSON ({e}); give a file written by nanochat eval --output") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise NanochatError(f"{path} has schema_version {version!r}; this nanochat reads version {SCHEMA_VERSION}")
    return data


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def print_summary(results: dict, console: Console | None = None) -> None:
    """A rich table of the headline numbers, then the most common rustc error codes."""
    console = console or make_console()
    s, cfg = results["summary"], results["config"]
    src = results["source"]
    who = src.get("model") or src.get("url") or src.get("path") or src.get("kind")
    # names, paths and URLs come from the user's files: print them as text, never as rich markup
    t = Table(title=escape(f"nanochat eval: {results['problem_set']['name']} ({cfg['mode']}), {who}"))
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("problems x samples", f"{s['problems']} x {cfg['n_samples']}")
    t.add_row("compile rate", _pct(s["compile_rate"]))
    t.add_row("non-trivial compile rate", _pct(s.get("non_trivial_compile_rate")))
    t.add_row("pass rate", _pct(s["pass_rate"]))
    for k, v in s["pass_at_k"].items():
        t.add_row(f"pass@{k}", _pct(v))
    for st, c in s["status_counts"].items():
        t.add_row(f"status {st}", str(c))
    t.add_row("samples with parse errors", str(s["samples_with_parse_errors"]))
    if s.get("trivial_compiles"):
        t.add_row("trivial samples that compile", str(s["trivial_compiles"]))
    if s.get("trivial_passes"):
        t.add_row("trivial samples that pass", str(s["trivial_passes"]))
    for k in ("cyclomatic", "max_nesting", "unwrap_calls", "lines"):
        t.add_row(f"mean {k}", f"{s['ast_means'][k]:.2f}")
    g = s["generation"]
    if g.get("tokens_per_s"):
        t.add_row("generation tokens/s", f"{g['tokens_per_s']:.1f}")
    console.print(t)
    if s["error_codes"]:
        top = ", ".join(f"{code} x{n}" for code, n in list(s["error_codes"].items())[:8])
        console.print(f"rustc error codes: {top}")


# ---- compare ----


# Keys of "config" that change neither the completions nor their scores (workers, cache, the problem set's path:
# its content is compared by sha256). Every other config key, generation or scoring, is a setting.
_NOT_SETTINGS = {"jobs", "cache", "problems"}
_SANDBOX_SETTINGS = ("edition", "rustc", "sandbox_version")  # plus every key of sandbox.limits


def setting_differences(a: dict, b: dict) -> list[str]:
    """`key A vs B` for each generation setting (config) and scoring setting (mode, sandbox) the runs differ in."""
    def fmt(v) -> str:
        return "(absent)" if v is None else str(v)

    out = []
    ca, cb = a.get("config", {}), b.get("config", {})
    for key in sorted((set(ca) | set(cb)) - _NOT_SETTINGS):
        if ca.get(key) != cb.get(key):
            out.append(f"{key} {fmt(ca.get(key))} vs {fmt(cb.get(key))}")
    sa, sb = a.get("sandbox", {}), b.get("sandbox", {})
    for key in _SANDBOX_SETTINGS:
        if sa.get(key) != sb.get(key):
            out.append(f"sandbox {key} {fmt(sa.get(key))} vs {fmt(sb.get(key))}")
    la, lb = sa.get("limits", {}), sb.get("limits", {})
    for key in sorted(set(la) | set(lb)):
        if la.get(key) != lb.get(key):
            out.append(f"limits.{key} {fmt(la.get(key))} vs {fmt(lb.get(key))}")
    return out


def compare_results(a: dict, b: dict) -> dict:
    """What changed from run A to run B: metric deltas and problems whose outcome flipped."""
    sa, sb = a["summary"], b["summary"]
    metrics = {}
    for key in ("compile_rate", "non_trivial_compile_rate", "pass_rate"):
        va, vb = sa.get(key), sb.get(key)  # non_trivial_compile_rate is absent from older files
        metrics[key] = {"a": va, "b": vb, "delta": None if va is None or vb is None else vb - va}
    for k in sorted(set(sa["pass_at_k"]) & set(sb["pass_at_k"]), key=int):
        metrics[f"pass@{k}"] = {"a": sa["pass_at_k"][k], "b": sb["pass_at_k"][k],
                                "delta": sb["pass_at_k"][k] - sa["pass_at_k"][k]}
    for key in ("cyclomatic", "unwrap_calls", "lines"):
        metrics[f"mean {key}"] = {"a": sa["ast_means"][key], "b": sb["ast_means"][key],
                                  "delta": sb["ast_means"][key] - sa["ast_means"][key]}
    pa = {p["name"]: p for p in a["problems"]}
    pb = {p["name"]: p for p in b["problems"]}
    common = [name for name in pa if name in pb]
    became_pass = [n for n in common if pa[n]["passed"] == 0 and pb[n]["passed"] > 0]
    became_fail = [n for n in common if pa[n]["passed"] > 0 and pb[n]["passed"] == 0]
    began_compile = [n for n in common if pa[n]["compiled"] == 0 and pb[n]["compiled"] > 0]
    stopped_compile = [n for n in common if pa[n]["compiled"] > 0 and pb[n]["compiled"] == 0]
    codes = sorted(set(sa["error_codes"]) | set(sb["error_codes"]))
    code_delta = {c: sb["error_codes"].get(c, 0) - sa["error_codes"].get(c, 0) for c in codes}
    warnings = []
    if a["problem_set"]["sha256"] != b["problem_set"]["sha256"]:
        warnings.append("the problem sets differ (different sha256): only problems with the same name are compared")
    changed = setting_differences(a, b)
    if changed:
        warnings.append("the runs differ in generation or scoring settings, so the deltas mix model and setting: "
                        + "; ".join(changed))
    if a["config"].get("n_samples") != b["config"].get("n_samples"):
        warnings.append("n_samples differ: pass@k is compared only for k present in both")
    return {
        "a": {"source": a["source"], "created": a["created"]},
        "b": {"source": b["source"], "created": b["created"]},
        "metrics": metrics,
        "problems": {"common": len(common), "only_a": sorted(set(pa) - set(pb)), "only_b": sorted(set(pb) - set(pa)),
                     "became_pass": became_pass, "became_fail": became_fail,
                     "began_compile": began_compile, "stopped_compile": stopped_compile},
        "error_code_delta": {c: d for c, d in code_delta.items() if d},
        "warnings": warnings,
    }


def print_comparison(diff: dict, console: Console | None = None) -> None:
    console = console or make_console()
    for w in diff["warnings"]:
        console.print(f"[yellow]note:[/] {escape(w)}")
    t = Table(title="nanochat eval compare (B - A)")
    for col in ("metric", "A", "B", "delta"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for name, m in diff["metrics"].items():
        if name.startswith("mean "):
            t.add_row(name, f"{m['a']:.2f}", f"{m['b']:.2f}", f"{m['delta']:+.2f}")
        else:
            delta = "-" if m["delta"] is None else f"{100 * m['delta']:+.1f} pts"
            t.add_row(name, _pct(m["a"]), _pct(m["b"]), delta)
    console.print(t)
    pr = diff["problems"]
    for key, label in (("became_pass", "now pass"), ("became_fail", "no longer pass"),
                       ("began_compile", "now compile"), ("stopped_compile", "no longer compile")):
        if pr[key]:
            names = ", ".join(pr[key][:12]) + (" ..." if len(pr[key]) > 12 else "")
            console.print(escape(f"{label} ({len(pr[key])}): {names}"))
    if diff["error_code_delta"]:
        console.print("error codes: " + ", ".join(f"{c} {d:+d}" for c, d in diff["error_code_delta"].items()))
