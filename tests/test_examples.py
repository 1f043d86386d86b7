"""Every script in examples/ runs as a user would run it (a fresh process, outside the repository) at tiny sizes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data.rustc import needs_rustc

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TESTED = {"generate.py", "score_completions.py", "train_custom_recipe.py", "serve_client.py"}


def run_example(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return proc


def test_every_example_has_a_test_and_a_docstring_that_says_how_to_run_it():
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts == TESTED, f"examples without a test here, or tests of missing examples: {scripts ^ TESTED}"
    for name in scripts:
        doc = ast.get_docstring(ast.parse((EXAMPLES / name).read_text(encoding="utf-8"))) or ""
        assert f"python examples/{name}" in doc, f"{name}: the docstring should say how to run it"


@pytest.mark.slow  # a fresh process loading the shipped model (~5-20 s on a busy machine)
def test_generate_example_continues_the_prompt(tmp_path):
    proc = run_example("generate.py", "--max-tokens", "8", "--threads", "1", cwd=tmp_path)
    assert proc.stdout.startswith("/// Returns the larger of two numbers.\nfn max(")
    assert "finish: " in proc.stderr


@needs_rustc
def test_score_completions_example_reports_compile_rate_and_pass_at_1(tmp_path):
    proc = run_example("score_completions.py", cwd=tmp_path)
    # per problem one right, one wrong and one uncompilable candidate
    assert "compile rate 0.67, pass@1 0.33" in proc.stdout


@pytest.mark.slow  # data preparation and a few training steps in a fresh process
def test_custom_recipe_example_trains_and_samples_in_a_temp_dir(tmp_path):
    proc = run_example("train_custom_recipe.py", "--steps", "3", cwd=tmp_path)
    assert "step           3" in proc.stdout and "sample         'fn main() {" in proc.stdout
    assert not any(tmp_path.iterdir()), "the example should leave nothing in the working directory"


@pytest.mark.slow  # starts a server on the shipped model in a fresh process
def test_serve_client_example_completes_and_streams(tmp_path):
    pytest.importorskip("openai")
    proc = run_example("serve_client.py", "--max-tokens", "6", cwd=tmp_path)
    assert "server http://127.0.0.1:" in proc.stdout
    assert "completion (" in proc.stdout and "streamed chat:" in proc.stdout
