"""End to end: problems -> completions (canned server or JSONL file) -> sandbox -> results file, the CLI
commands, and `nanochat eval compare`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from nanochat_cli.cli import app
from nanochat_cli.evaluate.report import SCHEMA_VERSION, compare_results, load_results, write_results
from nanochat_cli.evaluate.runner import EvalConfig, run_eval
from nanochat_cli.evaluate.completion_sources import CompletionsFileSource, GenerationParams, ServerSource

from .canned_server import CannedCompletionServer

pytestmark = pytest.mark.usefixtures("rustc_available")

HUMANEVAL_PICK = {  # name -> (completion as a model would send it, expected status)
    "HumanEval_23_strlen": ("    string.len() as isize\n}\n", "OK"),
    "HumanEval_53_add": ("    x + y\n}\n\nfn main() {\n    println!(\"extra\");\n}\n", "OK"),  # text after the stop
    "HumanEval_45_triangle_area": ("    (a * h) as f64 / 2.0\n}", "OK"),
    "HumanEval_55_fib": ("    n\n}", "Exception"),  # wrong answer
    "HumanEval_30_get_positive": ("    l.iter().filter(|x| x > 0).collect()\n}", "SyntaxError"),  # type error
}


def _subset(path, names, tmp_path, fmt):
    if path.suffix == ".json":
        records = [r for r in json.loads(path.read_text()) if r["name"] in names]
    else:
        records = [r for r in map(json.loads, path.read_text().splitlines()) if r["name"] in names]
    assert len(records) == len(names)
    out = tmp_path / f"subset.{fmt}"
    out.write_text(json.dumps(records) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in records))
    return out, records


def test_humaneval_subset_through_a_server(humaneval_path, tmp_path):
    subset, records = _subset(humaneval_path, set(HUMANEVAL_PICK), tmp_path, "json")
    answers = {r["prompt"]: HUMANEVAL_PICK[r["name"]][0] for r in records}
    with CannedCompletionServer(answers) as srv:
        results = run_eval(EvalConfig(problems=str(subset), jobs=2), ServerSource(srv.url, concurrency=2))
    got = {p["name"]: p["samples"][0]["status"] for p in results["problems"]}
    assert got == {name: status for name, (_, status) in HUMANEVAL_PICK.items()}
    s = results["summary"]
    assert s["pass_at_k"] == {"1": pytest.approx(3 / 5)} and s["compile_rate"] == pytest.approx(4 / 5)
    assert s["status_counts"] == {"OK": 3, "SyntaxError": 1, "Exception": 1, "Timeout": 0}
    assert "E0308" in s["error_codes"] or "E0277" in s["error_codes"]
    assert s["generation"]["tokens_per_s"] > 0
    add = next(p for p in results["problems"] if p["name"] == "HumanEval_53_add")["samples"][0]
    assert add["completion"] == HUMANEVAL_PICK["HumanEval_53_add"][0]  # raw completion is kept
    assert add["ast"]["functions"] == 1 and add["ast"]["parse_errors"] == 0  # the item, not the harness


def test_mbpp_subset_from_a_completions_file_with_pass_at_k(mbpp_path, tmp_path):
    names = ["mbpp_127_multiply_int", "mbpp_14_find_Volume", "mbpp_135_hexagonal_num"]
    subset, _ = _subset(mbpp_path, set(names), tmp_path, "jsonl")
    rows = [
        ("mbpp_127_multiply_int", "    x * y\n}\n"), ("mbpp_127_multiply_int", "    x + y\n}\n"),
        ("mbpp_127_multiply_int", "    x * y\n"),
        ("mbpp_14_find_Volume", "    l * b * h / 2\n}"), ("mbpp_14_find_Volume", "    todo!()\n"),
        ("mbpp_14_find_Volume", "    let v: String = 1;\n    0\n"),
        ("mbpp_135_hexagonal_num", "    n * (2 * n - 1)\n"), ("mbpp_135_hexagonal_num", "    n\n"),
        ("mbpp_135_hexagonal_num", "    n * (2 * n - 1)\n"),
    ]
    comp = tmp_path / "completions.jsonl"
    comp.write_text("".join(json.dumps({"name": n, "completion": c}) + "\n" for n, c in rows))
    params = GenerationParams(n_samples=3)
    results = run_eval(EvalConfig(problems=str(subset), params=params, jobs=2, mode="2021"), CompletionsFileSource(comp))
    passed = {p["name"]: p["passed"] for p in results["problems"]}
    assert passed == {"mbpp_127_multiply_int": 2, "mbpp_14_find_Volume": 1, "mbpp_135_hexagonal_num": 2}
    # pass@1 = mean(c/n); pass@3 = 1 for every problem with a passing sample
    assert results["summary"]["pass_at_k"]["1"] == pytest.approx((2 + 1 + 2) / 9)
    assert results["summary"]["pass_at_k"]["3"] == pytest.approx(1.0)
    assert results["summary"]["compile_rate"] == pytest.approx(8 / 9)
    assert results["config"]["mode"] == "2021" and results["sandbox"]["edition"] == "2021"


def test_results_file_schema_and_atomic_write(tmp_path):
    comp = tmp_path / "c.jsonl"
    comp.write_text(json.dumps({"name": "seed16_factorial", "completion": "    1\n}\n"}) + "\n")
    subset = tmp_path / "one.json"
    from nanochat_cli.rust.problems import load_problem_set

    subset.write_text(json.dumps([load_problem_set("seed16")[0].to_dict()]))
    results = run_eval(EvalConfig(problems=str(subset)), CompletionsFileSource(comp))
    out = write_results(results, tmp_path / "out" / "r.json")
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]  # no temp file left behind
    data = load_results(out)
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) >= {"created", "config", "source", "problem_set", "sandbox", "summary", "problems"}
    assert data["source"]["file_sha256"] and len(data["problem_set"]["sha256"]) == 64
    sample = data["problems"][0]["samples"][0]
    assert set(sample) >= {"completion", "status", "first_error", "error_codes", "ast", "compiled", "passed"}
    assert sample["status"] == "OK"


def test_cli_eval_and_compare(tmp_path):
    runner = CliRunner()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    r = runner.invoke(app, ["eval", "--reference", "--problems", "seed16", "--mode", "2021", "-o", str(good), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)["summary"]
    assert summary["compile_rate"] == 1.0 and summary["pass_at_k"]["1"] == 1.0
    assert summary["non_trivial_compile_rate"] == 1.0 and summary["trivial_compiles"] == 0
    broken = tmp_path / "broken.jsonl"
    from nanochat_cli.rust.problems import load_problem_set

    broken.write_text("".join(json.dumps({"name": p.name, "completion": "    let x: i32 = \"\";\n"}) + "\n"
                              for p in load_problem_set("seed16")))
    r = runner.invoke(app, ["eval", "--completions", str(broken), "--problems", "seed16", "--mode", "2021", "-o", str(bad)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["eval", "compare", str(good), str(bad), "--json"])
    assert r.exit_code == 0, r.output
    diff = json.loads(r.stdout)
    assert diff["metrics"]["compile_rate"]["delta"] == pytest.approx(-1.0)
    assert diff["metrics"]["non_trivial_compile_rate"]["delta"] == pytest.approx(-1.0)
    assert len(diff["problems"]["stopped_compile"]) == 16 and diff["problems"]["became_pass"] == []
    assert diff["warnings"] == []
    assert diff == compare_results(load_results(good), load_results(bad))
    r = runner.invoke(app, ["eval", "compare", str(good), str(bad)])
    assert r.exit_code == 0 and "no longer compile (16)" in r.stdout and "non_trivial_compile_rate" in r.stdout


def test_compare_reads_files_written_before_the_non_trivial_rate(tmp_path):
    comp = tmp_path / "c.jsonl"
    comp.write_text(json.dumps({"name": "seed16_factorial", "completion": "\n    1\n}\n"}) + "\n")
    subset = tmp_path / "one.json"
    from nanochat_cli.rust.problems import load_problem_set

    subset.write_text(json.dumps([load_problem_set("seed16")[0].to_dict()]))
    new = run_eval(EvalConfig(problems=str(subset)), CompletionsFileSource(comp))
    old = json.loads(json.dumps(new))
    del old["summary"]["non_trivial_compile_rate"]
    diff = compare_results(old, new)
    assert diff["metrics"]["non_trivial_compile_rate"] == {"a": None, "b": 1.0, "delta": None}
    from rich.console import Console

    from nanochat_cli.evaluate.report import print_comparison

    console = Console(record=True, width=120)
    print_comparison(diff, console)
    assert "non_trivial_compile_rate" in console.export_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "--reference", "--server", "http://127.0.0.1:9"], "give exactly one completion source"),
        (["eval", "--reference", "--problems", "nope"], "unknown problem set"),
        (["eval", "--reference", "--mode", "2018"], "--mode '2018' is not known"),
        (["eval", "compare", "missing-a.json", "missing-b.json"], "not found"),
    ],
)
def test_cli_user_mistakes_are_one_line_errors(args, message, tmp_path):
    r = subprocess.run([sys.executable, "-m", "nanochat_cli.cli", *args], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120, check=False)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr


def test_trivial_samples_that_compile_are_not_counted_as_non_trivial(tmp_path):
    from nanochat_cli.rust.problems import load_problem_set

    seed = {p.name: p for p in load_problem_set("seed16")}
    subset = tmp_path / "three.json"
    names = ["seed16_trait_parser", "seed16_factorial", "seed16_fetch_data"]
    subset.write_text(json.dumps([seed[n].to_dict() for n in names]))
    comp = tmp_path / "c.jsonl"
    comp.write_text("".join(json.dumps({"name": n, "completion": c}) + "\n" for n, c in [
        ("seed16_trait_parser", "// nothing\n}\n"),
        ("seed16_trait_parser", "}\n\nfn helper() -> i32 {\n    1\n}\n"),  # closes at once, then an unrelated fn
        ("seed16_trait_parser", "\n    fn parse(&self);\n"),
        ("seed16_factorial", "\n}"), ("seed16_factorial", "\n    todo!()\n}"), ("seed16_factorial", "\n    1\n"),
        ("seed16_fetch_data", "\n    Ok(url.to_string())\n}"), ("seed16_fetch_data", "\n    unimplemented!()"),
        ("seed16_fetch_data", "\n    Err(\"offline\".into())"),
    ]))
    results = run_eval(EvalConfig(problems=str(subset), params=GenerationParams(n_samples=3)), CompletionsFileSource(comp))
    trait, fact, fetch = results["problems"]
    assert [s["status"] for s in trait["samples"]] == ["OK", "OK", "OK"]
    assert [s["trivial"] for s in trait["samples"]] == [True, True, False]
    assert [s["status"] for s in fact["samples"]] == ["SyntaxError", "OK", "OK"]  # an empty fn body does not type-check
    assert [s["non_trivial_compiled"] for s in fact["samples"]] == [False, False, True]
    assert fetch["edition"] == "2018" and [s["status"] for s in fetch["samples"]] == ["OK"] * 3  # async fn in multipl-e mode
    s = results["summary"]
    assert s["compile_rate"] == pytest.approx(8 / 9) and s["non_trivial_compile_rate"] == pytest.approx(4 / 9)
    assert s["trivial_compiles"] == 4 and s["trivial_passes"] == 4
    assert [p["non_trivial_compiled"] for p in results["problems"]] == [1, 1, 2]
