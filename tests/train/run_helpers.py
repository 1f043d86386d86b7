"""Helpers for trainer tests: a prepared synthetic corpus, recipe files, metrics reading, CLI subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def write_recipe(recipe, path: Path) -> Path:
    """Write a Recipe back out as TOML (what a user's edited copy would look like)."""
    lines = []
    for section, body in recipe.to_dict().items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def read_metrics(run_dir: Path, name: str = "metrics.jsonl") -> list[dict]:
    return [json.loads(line) for line in (run_dir / name).read_text().splitlines() if line.strip()]


def nanochat(*args: str, env_extra: dict | None = None, torchrun: int = 0, timeout: int = 240) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess (optionally under torchrun) and return the completed process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    if torchrun:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={torchrun}",
               "-m", "nanochat_cli.cli", *args]
    else:
        cmd = [sys.executable, "-m", "nanochat_cli.cli", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def assert_same_weights(a, b) -> None:
    """Two ModelWeights hold the same tensors: every trit, scale and float value identical."""
    import numpy as np

    from nanochat_cli.ternary import PlanarWeights

    assert set(a.tensors) == set(b.tensors)
    for name, t in a.tensors.items():
        u = b.tensors[name]
        if isinstance(t, PlanarWeights):
            assert isinstance(u, PlanarWeights) and t.group_size == u.group_size, name
            assert np.array_equal(t.packed, u.packed) and np.array_equal(t.scales, u.scales), name
        else:
            assert np.array_equal(t, u), name
