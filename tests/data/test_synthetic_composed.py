"""The composed-task generator: Rust's integer semantics, deterministic distinct programs, no evaluation
function names, bodies that do what their doc text says, groups by composition, the recipe key, and every
kind's programs build and pass their own asserts (rustc)."""

from __future__ import annotations

import random
import re
from fractions import Fraction
from math import trunc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nanochat_cli.data import prepare as prepare_mod
from nanochat_cli.data.prepare import prepare_data
from nanochat_cli.data.synthetic_composed import _tdiv, _trem, composed_program, composed_programs
from nanochat_cli.data.verify import VerifyOptions, verify_snippets
from nanochat_cli.errors import NanochatError
from tests.data.rustc import needs_rustc
from tests.data.synthetic import tiny_recipe

NONE: frozenset[str] = frozenset()


@given(st.integers(-10**6, 10**6), st.integers(-1000, 1000).filter(bool))
def test_division_and_remainder_follow_rust(a, b):
    q, r = _tdiv(a, b), _trem(a, b)
    assert q == trunc(Fraction(a, b))  # toward zero
    assert a == b * q + r and abs(r) < abs(b)
    assert r == 0 or (r > 0) == (a > 0)  # the remainder takes the dividend's sign


def test_same_seed_gives_the_same_distinct_programs():
    a, b = composed_programs(400, seed=5, banned=NONE), composed_programs(400, seed=5, banned=NONE)
    assert a == b and len({s.text for s in a}) == 400
    assert composed_programs(400, seed=6, banned=NONE) != a
    assert {s.source for s in a} == {"composed"} and {s.kind for s in a} == {"bin"}


def test_every_kind_is_drawn_and_groups_are_compositions():
    progs = composed_programs(1000, seed=1, banned=NONE)
    kinds = {s.group.split(":", 1)[0] for s in progs}
    assert kinds == {"scalar", "pred", "seq", "str"}
    groups = {s.group for s in progs}
    assert len(groups) > 200  # many compositions, each a unit of the train/val split
    # a predicate's constants are not part of its group: `gt7` and `gt3` are one composition
    assert not any(re.search(r"(gt|lt|ge|div)\d", g) for g in groups if g.startswith(("pred:", "seq:")))


def test_no_program_defines_a_banned_name():
    banned = frozenset({"count_vowels", "add", "sum", "multiply", "is_even"})
    free = composed_programs(3000, seed=2, banned=NONE)
    assert any(set(re.findall(r"\bfn\s+(\w+)", s.text)) & banned for s in free)  # they would come up
    for s in composed_programs(3000, seed=2, banned=banned):
        assert not set(re.findall(r"\bfn\s+(\w+)", s.text)) & banned, s.text


def test_bodies_do_what_the_group_says():
    """The doc text, the name and the body come from the same parts: the reducer of a pipeline shows in its
    body, a predicate's test in its condition, a string task's operation in its chain or loop."""
    body_marks = {
        "sum": (".sum()", "total +="), "product": (".product()", "total *="), "count": (".count()", "count += 1"),
        "max": (".max()", "y > b"), "min": (".min()", "y < b"), "collect": (".collect()", "out.push("),
        "any": (".any(", "return true"), "all": (".all(", "return false"), "first": (".find(", "return Some(x)"),
        "position": (".position(", "return Some(i)"),
    }
    pred_marks = {"even": "% 2 == 0", "odd": "% 2 != 0", "positive": "> 0", "negative": "< 0", "zero": "== 0",
                  "div": "% ", "gt": " > ", "lt": " < ", "ge": " >= ", "digit": "(0..=9)"}
    for s in composed_programs(1500, seed=3, banned=NONE):
        fn = s.text[s.text.index("\nfn ") if not s.text.startswith("fn ") else 0:s.text.index("\nfn main")]
        kind, _, what = s.group.partition(":")
        if kind == "seq":
            reducer, pred, _ = what.split("|")
            assert any(m in fn for m in body_marks[reducer]), s.text
            if pred in pred_marks:
                assert pred_marks[pred] in fn, s.text
        elif kind == "str":
            op = what.split("|")[0]
            assert ("chars()" in fn) and (op not in ("count", "position") or any(m in fn for m in body_marks[op])), s.text
        elif kind == "scalar" and what.startswith("add("):
            assert "+" in fn.split("{", 1)[1], s.text


def test_doc_text_names_the_operation():
    rng = random.Random(11)
    seen = 0
    for _ in range(600):
        text, group, _ = composed_program(rng)
        if group == "scalar:add(p0,p1)":
            doc = " ".join(line for line in text.splitlines() if line.startswith("///"))
            assert re.search(r"sum|plus|added", doc), text
            seen += 1
    assert seen


def test_the_source_enters_the_cache_key_only_when_listed(tmp_path):
    def key(*overrides):
        return prepare_mod.data_dir(tiny_recipe(tmp_path / "unused", tmp_path / "cache", overrides=[
            "data.verify=false", 'data.sources=["synthetic"]', *overrides]))

    plain = key()
    assert key("data.composed_programs=99") == plain  # not a source of this recipe: same corpus
    with_it = key('data.sources=["synthetic", "composed"]')
    assert with_it != plain
    assert key('data.sources=["synthetic", "composed"]', "data.composed_programs=99") != with_it


def test_a_negative_count_is_refused_by_name(tmp_path):
    recipe = tiny_recipe(tmp_path / "unused", tmp_path / "cache", overrides=[
        "data.verify=false", 'data.sources=["composed"]', "data.composed_programs=-1"])
    with pytest.raises(NanochatError, match="data.composed_programs"):
        prepare_data(recipe, show_progress=False)


@needs_rustc
def test_programs_of_every_kind_build_and_pass_their_asserts():
    progs = composed_programs(160, seed=9, banned=NONE)
    assert {s.group.split(":")[0] for s in progs} == {"scalar", "pred", "seq", "str"}
    verdicts = verify_snippets(progs, VerifyOptions(jobs=2, timeout_s=60))
    failed = [(v.snippet.text, v.status, v.first_error) for v in verdicts if not v.passed]
    assert not failed, "\n\n".join(f"{t}\n{s}: {e}" for t, s, e in failed[:3])
