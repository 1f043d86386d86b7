"""benchmarks/gpu_check.sh, the prepared GPU run: it parses, names only paths and recipe keys that exist, and
stops with one clear line where there is no CUDA GPU (the GPU run itself happens on a lent device, not here)."""

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
SCRIPTS = [REPO / "benchmarks" / "gpu_check.sh", REPO / "benchmarks" / "gpu_check_prepare.sh"]
# repo paths a script names: recipes, tests, native build, other scripts
PATH_PATTERN = re.compile(r"\b(?:recipes|tests|native|benchmarks)/[\w./-]+\.(?:toml|py|sh)\b")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def _sourced(expr: str) -> str:
    """What `expr` prints after sourcing gpu_check.sh, which defines its shared settings and returns."""
    run = subprocess.run(["bash", "-c", f'source "$1"; {expr}', "-", str(SCRIPTS[0])], capture_output=True, text=True,
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


def test_gpu_check_without_cuda_stops_with_one_clear_line(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the script would run the whole check")
    out = tmp_path / "out"
    run = subprocess.run(["bash", str(SCRIPTS[0]), str(out)], capture_output=True, text=True, timeout=120,
                         check=False, env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(tmp_path)})
    assert run.returncode != 0
    assert "no CUDA GPU" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not out.exists(), "nothing may be written before the GPU check"
