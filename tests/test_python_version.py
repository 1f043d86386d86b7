"""The declared Python minimum (pyproject's requires-python) is the one the code needs; ruff and the README agree.

CI runs one interpreter (the machine's default), so the minimum is held by reading the sources: every file parses
with that version's grammar, and the newest standard-library name the code uses is from exactly that version.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SOURCE_DIRS = ("nanochat_cli", "tests", "benchmarks", "examples", "scripts")
OLDEST_TRACKED = (3, 10)  # older versions are not told apart: the grammar check below covers what they lack

# Standard-library names added after 3.10, by (module, name): name None means the module itself.
NEWER_STDLIB = {
    ("tomllib", None): (3, 11),
    ("typing", "Self"): (3, 11), ("typing", "LiteralString"): (3, 11), ("typing", "Never"): (3, 11),
    ("typing", "assert_never"): (3, 11), ("typing", "assert_type"): (3, 11), ("typing", "reveal_type"): (3, 11),
    ("typing", "Required"): (3, 11), ("typing", "NotRequired"): (3, 11), ("typing", "TypeVarTuple"): (3, 11),
    ("typing", "Unpack"): (3, 11), ("typing", "dataclass_transform"): (3, 11),
    ("datetime", "UTC"): (3, 11),
    ("enum", "StrEnum"): (3, 11), ("enum", "ReprEnum"): (3, 11), ("enum", "verify"): (3, 11),
    ("asyncio", "TaskGroup"): (3, 11), ("asyncio", "timeout"): (3, 11), ("asyncio", "timeout_at"): (3, 11),
    ("asyncio", "Runner"): (3, 11), ("asyncio", "Barrier"): (3, 11),
    ("hashlib", "file_digest"): (3, 11),
    ("contextlib", "chdir"): (3, 11),
    ("builtins", "ExceptionGroup"): (3, 11), ("builtins", "BaseExceptionGroup"): (3, 11),
    ("itertools", "batched"): (3, 12),
    ("typing", "override"): (3, 12),
    ("warnings", "deprecated"): (3, 13),
    ("copy", "replace"): (3, 13),
}


def declared_minimum() -> tuple[int, int]:
    spec = PYPROJECT["project"]["requires-python"]
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)", spec.strip())
    assert m, f"requires-python {spec!r}: expected the form '>=3.N'"
    return int(m[1]), int(m[2])


def python_sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS if (REPO / d).is_dir() for p in (REPO / d).rglob("*.py")
                  if ".venv" not in p.parts)


def newer_names_used(tree: ast.AST) -> set[tuple[str, str | None]]:
    """(module, name) pairs of NEWER_STDLIB this module imports or reaches as `module.name`."""
    modules: dict[str, str] = {}  # local name -> module
    used: set[tuple[str, str | None]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                used.add((alias.name, None))
                modules[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            used.add((node.module, None))
            used.update((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Name) and node.id in ("ExceptionGroup", "BaseExceptionGroup"):
            used.add(("builtins", node.id))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            used.add((modules[node.value.id], node.attr))
    return used & NEWER_STDLIB.keys()


def test_every_source_parses_with_the_declared_minimums_grammar():
    minimum = declared_minimum()
    for path in python_sources():
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=minimum)


def test_declared_minimum_is_the_newest_standard_library_the_code_uses():
    needs: dict[tuple[int, int], list[str]] = {}
    for path in python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module, name in newer_names_used(tree):
            label = f"{module}.{name}" if name else module
            needs.setdefault(NEWER_STDLIB[module, name], []).append(f"{path.relative_to(REPO)}: {label}")
    needed = max([OLDEST_TRACKED, *needs])
    declared = declared_minimum()
    assert declared >= needed, f"requires-python says {declared} but the code uses {needs[needed][:5]}"
    assert declared == needed, (f"requires-python says {declared}, the code needs only {needed}: lower it (and "
                                "ruff's target-version, the README), or use what the newer version brings")


def test_ruff_readme_and_this_interpreter_agree_with_requires_python():
    major, minor = declared_minimum()
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{major}{minor}"
    assert f"Python {major}.{minor} or newer" in (REPO / "README.md").read_text(encoding="utf-8")
    assert sys.version_info[:2] >= (major, minor)
