"""The prepared GPU runs, benchmarks/gpu_check.sh and benchmarks/gpu_train.sh: they parse, name only paths and
recipe keys that exist, and stop with one clear line where there is no CUDA GPU (the GPU runs themselves happen on
a lent device, not here; gpu_train.sh's CPU rehearsal is in docs/BENCHMARKS.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nanochat_cli.recipes import load_recipe

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = [REPO / "benchmarks" / name for name in ("gpu_check.sh", "gpu_check_prepare.sh", "gpu_train.sh",
                                                   "gpu_train_prepare.sh", "gpu_env.sh")]
RUNS = [SCRIPTS[0], SCRIPTS[2]]  # the two that run on the device
# repo paths a script names: recipes, tests, native build, other scripts
PATH_PATTERN = re.compile(r"\b(?:recipes|tests|native|benchmarks)/[\w./-]+\.(?:toml|py|sh)\b")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def _sourced(expr: str, script: Path = SCRIPTS[0]) -> str:
    """What `expr` prints after sourcing a run script, which defines its shared settings and returns."""
    run = subprocess.run(["bash", "-c", f'source "$1"; {expr}', "-", str(script)], capture_output=True, text=True,
                         timeout=30, check=True)
    return run.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_gpu_check_scripts_parse(script):
    run = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_gpu_check_names_only_existing_paths(script):
    named = set(PATH_PATTERN.findall(script.read_text()))
    assert named, "the pattern found no paths: it no longer matches how the script names them"
    missing = sorted(p for p in named if not (REPO / p).is_file())
    assert not missing, f"{script.name} names missing files: {missing}"


def test_gpu_check_bench_kernel_name_is_the_cuda_kernel():
    # read from the source, not imported: bench.py loads the native library
    assert 'CUDA_KERNEL = "cuda-dp4a"' in (REPO / "nanochat_cli" / "kernels" / "bench.py").read_text()
    assert "--kernels cuda-dp4a" in SCRIPTS[0].read_text()


def test_gpu_check_data_overrides_are_recipe_keys():
    recipe_path = _sourced('echo "$GPU_CHECK_RECIPE"').strip()
    sets = _sourced('printf "%s\\n" "${GPU_CHECK_DATA_SETS[@]}"').split()
    overrides = [s for s in sets if s != "--set"]
    assert len(overrides) == sets.count("--set") and all("=" in o for o in overrides)
    recipe = load_recipe(REPO / recipe_path, overrides)
    assert recipe.data.cache_dir == "cache/gpu_check"
    assert "cache/gpu_check/data" in SCRIPTS[0].read_text(), "the carry path must match data.cache_dir"
    # every key the training command sets (`--set "train.stop_at_step=$STEPS"`, ...) is one the recipe has
    sections = recipe.to_dict()
    keys = re.findall(r'--set "?(\w+)\.(\w+)=', SCRIPTS[0].read_text())
    assert ("train", "stop_at_step") in keys
    assert [k for k in keys if k[1] not in sections.get(k[0], {})] == []


def test_gpu_train_keys_are_recipe_keys():
    text = SCRIPTS[2].read_text()
    stage1 = REPO / _sourced('echo "$GPU_TRAIN_STAGE1"', SCRIPTS[2]).strip()
    stage2 = REPO / _sourced('echo "$GPU_TRAIN_STAGE2"', SCRIPTS[2]).strip()
    sets = _sourced('printf "%s\\n" "${GPU_TRAIN_STAGE1_DATA[@]}"', SCRIPTS[2]).split()
    data_overrides = [s for s in sets if s != "--set"]
    assert data_overrides and len(data_overrides) == sets.count("--set")
    recipe = load_recipe(stage1, data_overrides)
    assert recipe.data.max_crates > load_recipe(stage1).data.max_crates
    # both stages read the shipped tokenizer: the corpus archive carries one prepared tokenizer directory
    assert recipe.data.tokenizer_from == load_recipe(stage2).data.tokenizer_from == "recipes/rust_small.toml"
    keys = set(re.findall(r'--set "?(\w+)\.(\w+)=', text))
    assert {("train", "time_budget_s"), ("train", "init_from"), ("schedule", "decay_fraction")} <= keys
    for path in (stage1, stage2):
        sections = load_recipe(path).to_dict()
        assert sorted(k for k in keys if k[1] not in sections.get(k[0], {})) == []
    assert _sourced('echo "$GPU_TRAIN_ARCHIVE"', SCRIPTS[2]).strip() in text.split("carry=")[1]


@pytest.mark.parametrize("script", RUNS, ids=lambda p: p.name)
def test_gpu_run_without_cuda_stops_with_one_clear_line(script, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the script would run on it")
    out = tmp_path / "out"
    run = subprocess.run(["bash", str(script), str(out)], capture_output=True, text=True, timeout=120,
                         check=False, env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(tmp_path)})
    assert run.returncode != 0
    assert "no CUDA GPU" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not out.exists(), "nothing may be written before the GPU check"
    assert run.stderr.startswith(f"{script.stem}: no CUDA GPU")
