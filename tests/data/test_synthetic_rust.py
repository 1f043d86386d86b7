"""The synthetic Rust generator: deterministic, distinct, clean of evaluation prompts, and every family's
programs build and pass their own asserts (the last needs rustc)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nanochat_cli.data.synthetic_rust import FAMILIES, _wrap_check, program, synthetic_programs

ITEM_FAMILIES = ("struct_one_line", "tuple_struct", "enum_one_line", "enum_data", "trait_generic", "display_random",
                 "to_string_impl", "default_from", "eq_add_ops", "iterator_impl", "parse_fns", "custom_error", "file_io",
                 "async_items", "macro_rules", "option_methods")

MULTIPL_E = Path(os.environ.get("NANOCHAT_MULTIPLE_DIR", "/work/shared/benchmarks/multipl-e"))


def test_same_seed_gives_the_same_distinct_programs():
    a, b = synthetic_programs(300, seed=7), synthetic_programs(300, seed=7)
    assert a == b
    assert len({s.text for s in a}) == 300
    assert synthetic_programs(50, seed=8) != a[:50]
    assert all(s.source == "synthetic" and s.kind == "bin" and s.group in FAMILIES for s in a)
    assert all(s.origin.startswith(s.group) for s in a)


def test_every_family_is_represented_and_varied():
    progs = synthetic_programs(20 * len(FAMILIES), seed=1)
    by_family: dict[str, set[str]] = {}
    for s in progs:
        by_family.setdefault(s.group, set()).add(s.text)
    assert set(by_family) == set(FAMILIES)
    assert len(FAMILIES) >= 60
    assert min(len(texts) for texts in by_family.values()) >= 10


def test_item_families_are_registered_and_use_many_type_names():
    assert set(ITEM_FAMILIES) <= set(FAMILIES)
    rng = random.Random(5)
    for family in ("struct_one_line", "tuple_struct", "enum_one_line", "display_random", "option_methods"):
        names = {re.search(r"\b(?:struct|enum) (\w+)", program(family, rng)[0]).group(1) for _ in range(50)}
        assert len(names) >= 25, f"{family}: only {len(names)} type names in 50 programs"


def test_programs_are_small_and_rustfmt_shaped():
    for s in synthetic_programs(2 * len(FAMILIES), seed=2):
        lines = s.text.splitlines()
        assert 8 <= len(lines) <= 80, s.origin
        assert "fn main() {" in s.text and ("assert" in s.text), s.origin
        assert "\t" not in s.text and all(line == line.rstrip() for line in lines), s.origin
        assert all((len(line) - len(line.lstrip(" "))) % 4 == 0 for line in lines), s.origin


def test_long_assertions_are_wrapped_one_argument_per_line():
    call = 'assert_eq!(f(&["a, b", "c"], \',\'), vec![(1, 2), (3, 4)]);'
    assert _wrap_check(call, width=200) == call
    assert _wrap_check(call, width=20) == 'assert_eq!(\n    f(&["a, b", "c"], \',\'),\n    vec![(1, 2), (3, 4)]\n);'


def _benchmark_fn_names() -> set[str]:
    names = set()
    he = MULTIPL_E / "humaneval-rs-reworded.json"
    mbpp = MULTIPL_E / "mbpp-rs-reworded.jsonl"
    prompts = [p["prompt"] for p in json.loads(he.read_text())]
    prompts += [json.loads(line)["prompt"] for line in mbpp.read_text().splitlines() if line.strip()]
    for prompt in prompts:
        names.update(re.findall(r"\bfn\s+(\w+)", prompt))
    return names


@pytest.mark.skipif(not (MULTIPL_E / "humaneval-rs-reworded.json").exists(), reason="MultiPL-E prompts not present")
def test_no_program_defines_an_evaluation_function():
    banned = _benchmark_fn_names() - {"add"}  # std::ops::Add's required method, not a task
    rng = random.Random(3)
    for family in FAMILIES:
        for _ in range(40):
            text, params = program(family, rng)
            clash = set(re.findall(r"\bfn\s+(\w+)", text)) & banned
            assert not clash, f"{family} ({params}) defines {clash}"


def _build_and_run(text: str) -> str | None:
    """None when the program builds and exits 0, else rustc's or the program's complaint."""
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "main.rs", Path(tmp) / "main"
        src.write_text(text)
        built = subprocess.run(["rustc", "--edition", "2021", "-C", "opt-level=0", "-o", str(exe), str(src)],
                               capture_output=True, text=True, timeout=300, check=False)
        if built.returncode:
            return built.stderr[-2000:]
        ran = subprocess.run([str(exe)], cwd=tmp, capture_output=True, text=True, timeout=10, check=False)
        return ran.stderr[-2000:] if ran.returncode else None


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
def test_every_family_builds_and_passes_its_asserts():
    rng = random.Random(4)
    cases = [(family, *program(family, rng)) for family in FAMILIES]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        failures = [(family, params, text, err)
                    for (family, text, params), err in zip(cases, pool.map(lambda c: _build_and_run(c[1]), cases))
                    if err is not None]
    assert not failures, "\n\n".join(f"{f} ({p}):\n{t}\n{e}" for f, p, t, e in failures[:3])
