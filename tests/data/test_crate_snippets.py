"""Candidate programs cut from a crate: doc tests, #[test] functions with their helpers, std-only items."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nanochat_cli.data.crate_snippets import crate_snippets

LIB_RS = '''\
//! The demo crate.
//!
//! ```
//! # use std::collections::HashMap;
//! let mut m = HashMap::new();
//! m.insert(1, 2);
//! assert_eq!(m[&1], 2);
//! ```
//!
//! ```ignore
//! not rust at all
//! ```
//!
//! ```
//! use demo::Thing;
//! ```

use std::fmt;
use std::collections::HashMap;
use crate::other::Config;

/// Counts the words of a text.
///
/// ```
/// fn helper() -> u32 { 3 }
/// fn main() { assert_eq!(helper(), 3); }
/// ```
pub fn word_count(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

/// A point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

/// The distance of a point to the origin, in steps.
pub fn manhattan(p: Point) -> i32 {
    p.x.abs() + p.y.abs()
}

/// Reads the configuration.
pub fn load(c: &Config) -> bool {
    c.enabled
}

fn double(x: i32) -> i32 {
    x * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twice(x: i32) -> i32 {
        double(double(x)) / 2
    }

    #[test]
    fn doubles() {
        assert_eq!(twice(3), 6);
    }

    #[test]
    fn needs_config() {
        assert!(load(&Config::default()));
    }
}
'''


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(LIB_RS)
    (tmp_path / "src" / "broken.rs").write_text("fn ok() -> u8 { 1 }\nfn broken( { let = ; }\nstruct S {\n")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "hello.rs").write_text('use std::env;\nfn main() { println!("{}", env::args().count()); }\n')
    (tmp_path / "examples" / "uses_crate.rs").write_text("use demo::word_count;\nfn main() { word_count(\"a\"); }\n")
    return tmp_path


def _by_kind(snippets, kind):
    return [s for s in snippets if s.kind == kind]


def test_doc_tests_unhide_lines_add_main_and_skip_crate_users(crate):
    docs = [s for s in _by_kind(crate_snippets(crate, "demo"), "bin") if "lib.rs" in s.origin]
    assert len(docs) == 2  # the ignore block and the `use demo::` block are dropped
    first = docs[0].text
    assert first.startswith("fn main() {\n    use std::collections::HashMap;\n")
    assert "m.insert(1, 2);" in first and first.rstrip().endswith("}")
    assert docs[1].text.count("fn main()") == 1  # a block with its own main is not wrapped again
    assert all(s.source == "crate-snippets" and s.group == "demo" for s in docs)


def test_question_mark_doc_test_gets_a_result_main(tmp_path):
    (tmp_path / "lib.rs").write_text('/// ```\n/// let n: u8 = "7".parse()?;\n/// # Ok::<(), std::num::ParseIntError>(())\n/// ```\npub fn f() {}\n')
    (doc,) = _by_kind(crate_snippets(tmp_path, "x"), "bin")
    assert "fn _inner() -> Result<(), impl std::fmt::Debug>" in doc.text and "_inner().unwrap()" in doc.text


def test_test_functions_come_with_their_helpers_in_a_test_module(crate):
    tests = _by_kind(crate_snippets(crate, "demo"), "test")
    assert len(tests) == 1
    text = tests[0].text
    assert "fn doubles()" in text and "fn twice(" in text and "fn double(" in text
    assert "needs_config" not in text  # it uses Config from another module
    assert "#[cfg(test)]\nmod tests {\n    use super::*;" in text and "#[test]" in text


def test_top_level_items_keep_docs_attributes_and_std_uses(crate):
    libs = {s.origin: s.text for s in _by_kind(crate_snippets(crate, "demo"), "lib")}
    word_count = next(t for t in libs.values() if "pub fn word_count" in t)
    assert word_count.startswith("use std::collections::HashMap;\n")
    assert "/// Counts the words of a text." in word_count and "use std::fmt;" not in word_count
    point = next(t for t in libs.values() if "pub struct Point" in t)
    assert "#[derive(Debug, Clone, Copy, PartialEq)]" in point and "impl fmt::Display for Point" in point
    assert "use std::fmt;" in point


def test_items_using_a_crate_local_type_bring_it_or_are_dropped(crate):
    libs = [s.text for s in _by_kind(crate_snippets(crate, "demo"), "lib")]
    manhattan = next(t for t in libs if "pub fn manhattan" in t)
    assert "pub struct Point" in manhattan  # defined in the same file: pulled in
    assert not any("pub fn load" in t for t in libs)  # Config lives elsewhere: dropped
    assert not any("use crate::" in t for t in libs)


def test_examples_are_kept_only_when_std_only(crate):
    examples = [s for s in crate_snippets(crate, "demo") if s.origin.startswith("examples/")]
    assert [s.origin for s in examples] == ["examples/hello.rs:1"]
    assert examples[0].kind == "bin"


def test_a_file_with_syntax_errors_keeps_its_sound_items(crate):
    broken = [s.text for s in crate_snippets(crate, "demo") if s.origin.startswith("src/broken.rs")]
    assert not any("broken(" in t or "struct S" in t for t in broken)


def test_order_is_deterministic(crate):
    assert crate_snippets(crate, "demo") == crate_snippets(crate, "demo")


def test_std_feature_gates_are_dropped_and_other_cfgs_drop_the_item(tmp_path):
    (tmp_path / "lib.rs").write_text(
        '#[cfg(feature = "std")]\npub fn a() -> String { String::new() }\n\n'
        '#[cfg(windows)]\npub fn b() {}\n\n#[cfg(any(feature = "std", test))]\npub fn c() {}\n')
    libs = [s.text for s in _by_kind(crate_snippets(tmp_path, "x"), "lib")]
    assert libs == ["pub fn a() -> String { String::new() }\n", "pub fn c() {}\n"]


def _rustc(kind: str, text: str, tmp: Path) -> subprocess.CompletedProcess:
    src = tmp / "m.rs"
    src.write_text(text)
    flags = {"lib": ["--crate-type", "lib", "--emit=metadata"], "test": ["--test"], "bin": []}[kind]
    return subprocess.run(["rustc", "--edition", "2021", *flags, "-o", str(tmp / "out"), str(src)],
                          check=False, capture_output=True, text=True, timeout=120, cwd=tmp)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")
def test_extracted_snippets_compile(crate, tmp_path):
    snippets = crate_snippets(crate, "demo")
    assert {s.kind for s in snippets} == {"lib", "test", "bin"}
    for i, s in enumerate(snippets):
        work = tmp_path / str(i)
        work.mkdir()
        res = _rustc(s.kind, s.text, work)
        assert res.returncode == 0, f"{s.origin} ({s.kind}) failed:\n{s.text}\n{res.stderr}"
