"""data/doc_examples.py: a program's own assertions shown in its doc comment as `>>>` lines."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.data.corpus_sources import with_doc_examples
from nanochat_cli.data.doc_examples import with_doc_examples as rewrite
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.data.synthetic_rust import synthetic_programs
from nanochat_cli.data.verify import VerifyOptions, verify_snippets
from tests.data.rustc import needs_rustc

PROGRAM = '''/// Splits `s` at commas, trimmed, "quoted, too".
fn fields(s: &str) -> Vec<String> {
    s.split(',').map(|f| f.trim().to_string()).collect()
}

/// Whether `n` is even.
fn is_even(n: i32) -> bool {
    n % 2 == 0
}

fn main() {
    assert_eq!(fields("a, b"), vec!["a", "b"]);
    assert_eq!(fields("x,(y)"), vec!["x", "(y)"]);
    assert!(is_even(4));
    assert!(!is_even(fields("q, r").len() as i32 + 1));
    assert_eq!(fields("\\"a, b\\""), vec!["\\"a", "b\\""]);
}
'''


class _Most(random.Random):
    def randint(self, a, b):
        return b


def test_the_most_called_function_shows_its_own_calls_in_order():
    out = rewrite(PROGRAM, _Most())
    assert out is not None
    added = [line for line in out.splitlines() if line not in PROGRAM.splitlines()]
    assert added == ['/// >>> fields("a, b")', '/// vec!["a", "b"]', '/// >>> fields("x,(y)")', '/// vec!["x", "(y)"]',
                     '/// >>> fields("\\"a, b\\"")', '/// vec!["\\"a", "b\\""]']
    # only comment lines were added, right above the function and after its doc text
    assert [line for line in out.splitlines() if line not in added] == PROGRAM.splitlines()
    assert out.index('/// Splits') < out.index("/// >>> fields") < out.index("fn fields(")


def test_at_least_one_example_and_never_more_than_asked():
    lo = rewrite(PROGRAM, random.Random(0), most=1)
    assert lo.count("/// >>> ") == 1


@pytest.mark.parametrize("change", [
    ("fn main() {\n", "fn main() {\n    let v = 3;\n"),            # a local of main
    ("/// Splits `s` at commas, trimmed, \"quoted, too\".\n", ""),  # no doc comment on the function
    ("\"quoted, too\".\n", "\"quoted, too\".\n///\n/// ```\n/// assert_eq!(fields(\"\"), vec![\"\"]);\n/// ```\n"),  # shows examples already
    ("assert_eq!(fields(\"a, b\"), vec![\"a\", \"b\"]);", "assert_eq!(fields(\"a, b\").len(), 2);"),  # not exactly a call
    ("    assert!(is_even(4));\n", "    println!(\"{}\", 1);\n"),    # a statement that is no assertion
])
def test_programs_that_do_not_qualify_are_left_alone(change):
    old, new = change
    assert old in PROGRAM
    assert rewrite(PROGRAM.replace(old, new), random.Random(0)) is None


def test_no_main_no_rewrite():
    assert rewrite("/// Doc.\nfn f() -> i32 {\n    1\n}\n", random.Random(0)) is None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([0.0, 0.3, 1.0]))
def test_rewriting_is_seeded_by_the_text_and_keeps_every_snippet(seed, rate):
    snips = synthetic_programs(30, seed=seed % 1000)
    a = with_doc_examples(snips, rate, seed=5)
    assert a == with_doc_examples(snips, rate, seed=5)
    assert len(a) == len(snips)
    changed = [x for x, s in zip(a, snips, strict=True) if x.text != s.text]
    if rate == 0.0:
        assert not changed
    for x, s in zip(a, snips, strict=True):
        assert (x.source, x.group, x.kind, x.origin) == (s.source, s.group, s.kind, s.origin)
        if x.text != s.text:  # comment lines added, nothing else
            assert [ln for ln in x.text.splitlines() if not ln.startswith("/// ")] == \
                [ln for ln in s.text.splitlines() if not ln.startswith("/// ")]


def test_about_half_of_the_generators_programs_qualify():
    snips = synthetic_programs(300, seed=3)
    n = sum(rewrite(s.text, random.Random(0)) is not None for s in snips)
    assert 0.3 * len(snips) <= n <= 0.8 * len(snips)


@needs_rustc
def test_rewritten_programs_build_and_pass(tmp_path):
    """The added lines are comments, so a program that passed still passes: checked by rustc like the rest."""
    snips = [Snippet("t", "g", "bin", PROGRAM, "program"), *synthetic_programs(40, seed=8)]
    changed = [x for x, s in zip(with_doc_examples(snips, 1.0, seed=2), snips, strict=True) if x.text != s.text]
    assert len(changed) >= 15
    verdicts = verify_snippets(changed, VerifyOptions(jobs=2, cache=tmp_path))
    assert all(v.passed for v in verdicts), [v.first_error for v in verdicts if not v.passed][:3]
