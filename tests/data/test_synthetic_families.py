"""The generator's family modules beside `synthetic_rust` (items, numbers, text, collections and types, algorithms,
idioms, everyday tasks): each registers many families, each family is varied and rustfmt-shaped, and (with rustc)
three programs of every family build and pass their own asserts when checked as one crate, the verifier's
batching."""

from __future__ import annotations

import itertools
import random
import shutil

import pytest

import nanochat_cli.data.synthetic_rust as sr
from nanochat_cli.data import (
    synthetic_algorithms,
    synthetic_idioms,
    synthetic_items,
    synthetic_numeric,
    synthetic_tasks,
    synthetic_text,
    synthetic_types,
)
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.data.verify import batch_program, batchable
from tests.data.test_synthetic_rust import _build_and_run

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (synthetic_items, synthetic_numeric, synthetic_text, synthetic_types,
                                                      synthetic_algorithms, synthetic_idioms, synthetic_tasks)}


def _families(module: str) -> list[str]:
    return sorted(name for name, fn in sr._FAMILIES.items() if fn.__module__ == MODULES[module].__name__)


def _program(family: str, rng: random.Random) -> str:
    return sr._assemble(rng, sr._FAMILIES[family](rng))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_registers_many_families(module):
    assert len(_families(module)) >= 15
    assert set(_families(module)) <= set(sr.FAMILIES)


@pytest.mark.parametrize("family", [f for m in MODULES if m != "synthetic_items" for f in _families(m)])
def test_each_family_is_varied_and_rustfmt_shaped(family):
    rng = random.Random(1)
    texts = [_program(family, rng) for _ in range(20)]
    assert len(set(texts)) >= 10, f"{family}: only {len(set(texts))} distinct programs in 20 draws"
    for text in texts:
        lines = text.splitlines()
        assert 8 <= len(lines) <= 80, text
        assert "fn main() {" in text and "assert" in text, text
        assert "\t" not in text and all(line == line.rstrip() and len(line) <= 100 for line in lines), text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc not installed")
@pytest.mark.parametrize("module", MODULES)
def test_every_family_builds_and_passes_in_one_crate(module):
    rng = random.Random(6)
    texts = [_program(family, rng) for family in _families(module) for _ in range(3)]
    assert all(batchable(Snippet("synthetic", "g", "bin", t)) for t in texts)
    err = _build_and_run(batch_program(texts))
    assert err is None, err


@pytest.mark.parametrize("family", sr.FAMILIES)
def test_every_family_indents_one_level_at_a_time(family):
    """rustfmt's shape for every family, those of synthetic_rust and synthetic_items included: indents in steps
    of four, never more than one level deeper than the line before, and no doc comment on an item's closing line."""
    rng = random.Random(3)
    for _ in range(10):
        text = _program(family, rng)
        indents = [len(line) - len(line.lstrip(" ")) for line in text.splitlines() if line]
        assert all(i % 4 == 0 for i in indents) and all(b - a <= 4 for a, b in itertools.pairwise(indents)), text
        assert "}///" not in text and "} ///" not in text, text
