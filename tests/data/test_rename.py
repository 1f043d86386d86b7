"""data/rename.py: consistently renamed copies keep compiling and keep what must not change."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.data.corpus_sources import with_renamed_copies, with_retyped_copies
from nanochat_cli.data.rename import renamed_copy
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.data.synthetic_rust import synthetic_programs
from nanochat_cli.data.verify import VerifyOptions, verify_snippets
from tests.data.rustc import needs_rustc

PROGRAM = '''use std::collections::HashMap;

/// Counts how often each word of `text` occurs, then returns the `limit` most common.
fn top_words(text: &str, limit: usize) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_string()).or_insert(0) += 1;
    }
    let mut pairs: Vec<(String, usize)> = counts.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    pairs.truncate(limit);
    pairs
}

struct Point { x: i64, y: i64 }

impl Point {
    fn manhattan(&self) -> i64 {
        let Point { x, y } = self;
        x.abs() + y.abs()
    }
}

enum Shade { Light, Dark }

fn describe(shade: Shade, width: usize) -> String {
    let label = match shade {
        Shade::Light => "light",
        Shade::Dark => "dark",
    };
    format!("{label:>width$}")
}

fn main() {
    let len = 3;
    assert_eq!(top_words("a b a", len), vec![("a".to_string(), 2), ("b".to_string(), 1)]);
    assert_eq!(Point { x: -2, y: 3 }.manhattan(), 5);
    assert_eq!(describe(Shade::Dark, 6), "  dark");
    assert_eq!(std::cmp::max(len, 1), 3);
}
'''


def _idents(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Za-z_]\w*\b", text))


def _code_idents(text: str) -> set[str]:
    code = re.sub(r'//[^\n]*|"(?:[^"\\]|\\.)*"', " ", text)
    return _idents(code)


def test_own_names_are_renamed_and_fn_std_names_kept():
    out = renamed_copy(PROGRAM, random.Random(5))
    assert out is not None and out != PROGRAM
    names = _idents(out)
    # function and method names say what the code does: kept
    assert {"top_words", "manhattan", "describe", "main"} <= names
    # std names and method calls: kept
    assert {"HashMap", "split_whitespace", "entry", "or_insert", "truncate", "abs", "max", "String"} <= names
    # the program's own locals, parameters, fields, types and variants: renamed
    for own in ("counts", "pairs", "label", "Point", "Shade", "Light", "Dark", "limit"):
        assert own not in names, own
    # the doc comment follows the parameter names
    assert "`text`" not in out and "`limit`" not in out


def test_format_arguments_and_doc_backticks_follow_the_rename():
    out = renamed_copy(PROGRAM, random.Random(11))
    m = re.search(r'format!\("\{(\w+):>(\w+)\$\}"\)', out)
    assert m is not None
    label, width = m.groups()
    assert f"let {label} = match" in out
    assert f", {width}: usize)" in out
    doc = out.splitlines()[2]
    assert doc.startswith("/// Counts how often each word of `") and "`text`" not in doc


def test_a_name_used_for_a_std_path_or_method_stays():
    text = "fn f(max: i32, len: usize) -> i32 {\n    let v = vec![1; len];\n    std::cmp::max(max, v.len() as i32)\n}\n"
    out = renamed_copy(text, random.Random(0))
    assert out is not None
    assert "std::cmp::max(max," in out and ".len() as i32" in out  # `max`, `len` also name std items here
    assert "let v " not in out  # but `v` is the program's own


def test_unparsable_or_nameless_programs_give_none():
    assert renamed_copy("fn f( -> {", random.Random(0)) is None
    assert renamed_copy("fn main() {}\n", random.Random(0)) is None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_copy_and_no_collisions(seed):
    a = renamed_copy(PROGRAM, random.Random(seed))
    assert a == renamed_copy(PROGRAM, random.Random(seed))
    # consistent and injective: the code (comments and strings aside) has as many distinct identifiers
    assert len(_code_idents(a)) == len(_code_idents(PROGRAM))


@pytest.mark.parametrize("with_copies, label, copies", [(with_renamed_copies, "renamed", 2),
                                                         (with_retyped_copies, "retyped", 1)])
def test_copies_stay_in_their_group_and_are_distinct(with_copies, label, copies):
    """Renamed (data/rename.py) and retyped (data/retype.py) copies alike."""
    snippets = synthetic_programs(20, seed=3)
    out = with_copies(snippets, copies, seed=1)
    assert len(out) > len(snippets)
    assert len({s.text for s in out}) == len(out)
    originals = {s.origin: s for s in snippets}
    for s in out:
        base = originals[s.origin.split(f" ({label}")[0]]
        assert (s.group, s.kind, s.source) == (base.group, base.kind, base.source)
    assert with_copies(snippets, copies, seed=1) == out


@needs_rustc
def test_renamed_copies_still_build_and_pass(tmp_path):
    originals = [Snippet("t", "g", "bin", PROGRAM, "program"), *synthetic_programs(40, seed=21)]
    copies = [s for s in with_renamed_copies(originals, 1, seed=4) if "(renamed" in s.origin]
    assert len(copies) >= 38
    verdicts = verify_snippets(copies, VerifyOptions(jobs=2, cache=tmp_path))
    failed = [(v.snippet.origin, v.first_error) for v in verdicts if not v.passed]
    assert not failed, failed[:3]
