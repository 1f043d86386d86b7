"""Rust code blocks from rust-doc HTML: rustdoc example blocks (Run link), mdBook blocks (boring lines), wrapping."""

from __future__ import annotations

import urllib.parse

import pytest

from nanochat_cli.data import rustdoc
from nanochat_cli.data.rustdoc import (
    block_snippet,
    external_crates,
    page_blocks,
    rust_doc_snippets,
    unhide,
    wrap_doctest,
)
from nanochat_cli.errors import NanochatError

FULL = "#![allow(unused)]\nfn main() {\nuse std::collections::HashMap;\nlet mut m = HashMap::new();\nm.insert(1, 2);\n}"

RUSTDOC_PAGE = f"""<html><body><div class="docblock">
<div class="example-wrap"><pre class="rust rust-example-rendered"><code><span class="kw">let</span> <span class="kw-2">mut</span> m = HashMap::new();
m.insert(<span class="number">1</span>, <span class="number">2</span>);</code></pre><a class="test-arrow" target="_blank" href="https://play.rust-lang.org/?code={urllib.parse.quote(FULL)}&amp;edition=2021">Run</a></div>
<div class="example-wrap"><pre class="rust rust-example-rendered compile_fail"><code>let x: u8 = &quot;no&quot;;</code></pre><a class="test-arrow" href="https://play.rust-lang.org/?code=x&amp;edition=2021">Run</a></div>
<div class="example-wrap"><pre class="rust rust-example-rendered"><code>#![feature(test)]</code></pre><a class="test-arrow" href="https://play.rust-lang.org/?code=%23!%5Bfeature(test)%5D&amp;version=nightly&amp;edition=2021">Run</a></div>
<div class="example-wrap"><pre class="rust rust-example-rendered"><code>assert_eq!(1 &lt; 2, true);</code></pre></div>
<pre class="rust fn"><code>pub fn len(&amp;self) -&gt; usize</code></pre>
</div></body></html>"""

MDBOOK_PAGE = """<html><body>
<pre><pre class="playground"><code class="language-rust">
<span class="boring">#![allow(unused)]
</span><span class="boring">fn main() {
</span>let guess: u32 = &quot;42&quot;.parse().expect(&quot;Not a number!&quot;);
<span class="boring">}
</span></code></pre></pre>
<pre><pre class="playground"><code class="language-rust ignore does_not_compile">fn main() { let x = ; }</code></pre></pre>
<pre><pre class="playground"><code class="language-rust no_run">use std::net::TcpListener;
fn main() { let _l = TcpListener::bind("127.0.0.1:7878").unwrap(); }</code></pre></pre>
<pre><pre class="playground"><code class="language-rust noplayground test_harness">#[test]
fn works() { assert_eq!(2 + 2, 4); }</code></pre></pre>
<pre><pre class="playground"><code class="language-rust">use rand::Rng;
fn main() { let n = rand::thread_rng().gen_range(1..=100); }</code></pre></pre>
<pre><code class="language-console">$ cargo run</code></pre>
</body></html>"""


def test_rustdoc_blocks_take_the_whole_program_from_the_run_link():
    blocks = page_blocks(RUSTDOC_PAGE)
    assert len(blocks) == 4  # the signature's `rust fn` pre is not an example
    first = block_snippet(blocks[0], "std/a.html", 0)
    assert first.text == FULL + "\n"  # hidden lines (the `use`) and the main wrapper come from the link
    assert first.kind == "bin" and first.group == "std/a.html" and first.origin == "std/a.html#0"
    assert block_snippet(blocks[1], "p", 1) is None  # compile_fail
    assert blocks[2].channel == "nightly" and block_snippet(blocks[2], "p", 2) is None
    # no Run link: the shown text is wrapped as rustdoc would
    assert block_snippet(blocks[3], "p", 3).text == "#![allow(unused)]\nfn main() {\nassert_eq!(1 < 2, true);\n}\n"


def test_mdbook_blocks_keep_boring_lines_and_map_fence_classes_to_kinds():
    blocks = page_blocks(MDBOOK_PAGE)
    assert len(blocks) == 5
    snips = [block_snippet(b, "book/ch.html", i) for i, b in enumerate(blocks)]
    assert snips[0].text == '#![allow(unused)]\nfn main() {\nlet guess: u32 = "42".parse().expect("Not a number!");\n}\n'
    assert snips[0].kind == "bin"
    assert snips[1] is None  # ignore / does_not_compile
    assert snips[2].kind == "lib"  # no_run: checked, never run
    assert snips[3].kind == "test"
    assert snips[4] is None  # needs the rand crate


def test_wrap_hoists_crate_attributes_and_extern_crate_and_adds_main():
    code = "# #![allow(dead_code)]\n# extern crate core;\n# use std::fmt;\nlet x = 5;\n## not hidden\nassert_eq!(x, 5);"
    out = wrap_doctest(code, hidden_markers=True)
    assert out == ("#![allow(unused)]\n#![allow(dead_code)]\nextern crate core;\nfn main() {\n"
                   "use std::fmt;\nlet x = 5;\n# not hidden\nassert_eq!(x, 5);\n}\n")
    with_main = "#![allow(unused)]\nfn helper() {}\nfn main() { helper(); }"
    assert wrap_doctest(with_main) == with_main + "\n"  # has a main: not wrapped again, attribute not doubled


def test_unhide_keeps_indentation_and_lone_hash():
    assert unhide("    # let a = 1;\n#\nlet b = 2;") == "    let a = 1;\n\nlet b = 2;"


def test_external_crates_ignores_std_and_local_modules():
    assert external_crates("use std::fmt;\nmod shapes { pub struct Sq; }\nuse shapes::Sq;\nfn main() {}") == set()
    assert external_crates("extern crate regex;\nuse serde::Serialize;\nfn main() {}") == {"regex", "serde"}


def test_pages_under_a_doc_root_become_grouped_snippets(tmp_path):
    (tmp_path / "std" / "vec").mkdir(parents=True)
    (tmp_path / "std" / "vec" / "struct.Vec.html").write_text(RUSTDOC_PAGE)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch01.html").write_text(MDBOOK_PAGE)
    (tmp_path / "book" / "print.html").write_text(MDBOOK_PAGE)  # the whole book again: skipped
    snippets, n_blocks = rust_doc_snippets(tmp_path)
    assert n_blocks == 9
    assert {s.group for s in snippets} == {"std/vec/struct.Vec.html", "book/ch01.html"}
    assert all(s.source == "rust-doc" for s in snippets) and len(snippets) == 5


def test_missing_apt_get_is_one_line_naming_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(rustdoc.shutil, "which", lambda _name: None)
    with pytest.raises(NanochatError, match="apt-get.*drop \"rust-doc\" from data.sources"):
        rustdoc.fetch_rust_doc(tmp_path)
