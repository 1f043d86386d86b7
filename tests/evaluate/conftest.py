"""Shared fixtures for the evaluator tests: an isolated result cache, the MultiPL-E files, sandboxes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nanochat_cli.rust.problems import MULTIPLE_FILES, multiple_dir

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own result cache, so nothing is served from an earlier run."""
    monkeypatch.setenv("NANOCHAT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def _multiple_file(name: str) -> Path:
    path = multiple_dir() / MULTIPLE_FILES[name]
    if not path.is_file():
        pytest.skip(f"MultiPL-E file {path} absent (set NANOCHAT_MULTIPLE_DIR)")
    return path


@pytest.fixture
def humaneval_path() -> Path:
    return _multiple_file("humaneval-rs")


@pytest.fixture
def mbpp_path() -> Path:
    return _multiple_file("mbpp-rs")


@pytest.fixture(scope="session")
def rustc_available() -> None:
    if shutil.which("rustc") is None and not Path.home().joinpath(".cargo/bin/rustc").exists():
        pytest.skip("rustc not installed")


def wrong_completions() -> dict[str, str]:
    """Deliberately wrong (compiling, failing) completions for every rust-basic problem."""
    lines = (FIXTURES / "rust_basic_wrong.jsonl").read_text().splitlines()
    return {r["name"]: r["completion"] for r in map(json.loads, lines)}
