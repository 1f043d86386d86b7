"""Rust code blocks from Debian's `rust-doc` package (std API examples, the Book, Rust by Example) as `Snippet`s.

Used by `nanochat data prepare` when a recipe lists the "rust-doc" source: `apt-get download rust-doc` and
`dpkg-deb -x` into CACHE/rust-doc (no root install), then every page's example blocks, wrapped as rustdoc
wraps a doc-test. Try one page with `python -m nanochat_cli.data.rustdoc PAGE.html`.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from nanochat_cli.data.snippet import Snippet
from nanochat_cli.errors import NanochatError

PACKAGE = "rust-doc"
DOC_ROOT = Path("usr/share/doc/rust-doc/html")
# std re-exports core and alloc, so their pages repeat std's examples: std alone holds the API examples
BOOKS = ("std", "book", "rust-by-example")
HOW_TO = (
    "the \"rust-doc\" source needs Debian's apt-get and dpkg-deb (run `sudo apt-get update` first so apt knows "
    "the rust-doc package); on other systems drop \"rust-doc\" from data.sources"
)

# fence classes (rustdoc's `<pre class="rust rust-example-rendered ...">`, mdBook's `<code class="language-rust ...">`)
# whose block is not a program rustc should accept and run
SKIP_CLASSES = {"compile_fail", "ignore", "should_panic", "does_not_compile", "panics", "not_desired_behavior"}
STD_CRATES = {"std", "core", "alloc", "proc_macro", "test"}
_CRATE_ATTR = re.compile(r"^\s*#!\[")
_EXTERN_CRATE = re.compile(r"^\s*extern\s+crate\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_USE_ROOT = re.compile(r"^\s*(?:pub\s+)?use\s+(?:::)?([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_DEFINED = re.compile(r"\b(?:mod|enum|struct|trait|union|type|fn|const|static)\s+([A-Za-z_][A-Za-z0-9_]*)")
_FN_MAIN = re.compile(r"\bfn\s+main\s*\(")


@dataclass(frozen=True)
class CodeBlock:
    """One Rust block of a page: its fence classes, the text shown, and the playground's full program if linked."""

    classes: frozenset[str]
    text: str
    playground: str | None = None  # rustdoc's "Run" link holds the whole wrapped program, hidden lines included
    channel: str = "stable"  # "nightly" when the playground link asks for it (the block uses #![feature])


# ---- fetch ----


def fetch_rust_doc(cache: Path) -> Path:
    """Download and unpack rust-doc into CACHE/rust-doc (reused when already there); returns its html root."""
    base = cache / PACKAGE
    root = base / "unpacked"
    if (root / ".done").exists():
        return root / DOC_ROOT
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise NanochatError(f"apt-get/dpkg-deb not found; {HOW_TO}")
    base.mkdir(parents=True, exist_ok=True)
    debs = sorted(base.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        res = subprocess.run(["apt-get", "download", PACKAGE], cwd=base, capture_output=True, text=True, check=False)
        debs = sorted(base.glob(f"{PACKAGE}_*.deb"))
        if res.returncode != 0 or not debs:
            msg = (res.stderr.strip().splitlines() or ["no .deb downloaded"])[-1]
            raise NanochatError(f"`apt-get download {PACKAGE}` failed ({msg}); {HOW_TO}")
    tmp = base / ".unpacked.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    res = subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tmp)], capture_output=True, text=True, check=False)
    if res.returncode != 0 or not (tmp / DOC_ROOT).is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
        raise NanochatError(f"cannot unpack {debs[-1].name}: {res.stderr.strip() or 'no html inside'}; delete {base} and retry")
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    (root / ".done").write_text(debs[-1].name)
    return root / DOC_ROOT


# ---- parse ----


class _BlockParser(HTMLParser):
    """Collects rustdoc example blocks (with their Run link) and mdBook `language-rust` blocks of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[CodeBlock] = []
        self._classes: frozenset[str] | None = None  # set while inside a Rust block
        self._end_tag = ""
        self._depth = 0  # nesting of _end_tag inside the block
        self._text: list[str] = []
        self._await_link = False  # a rustdoc block just ended: its Run link may follow

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = frozenset((a.get("class") or "").replace(",", " ").split())
        if self._classes is not None:
            if tag == self._end_tag:
                self._depth += 1
            return
        if tag == "a" and self._await_link and "test-arrow" in classes:
            self._attach_link(a.get("href") or "")
            return
        if tag == "pre" and "rust-example-rendered" in classes:
            self._open(classes - {"rust", "rust-example-rendered"}, "pre")
        elif tag == "code" and "language-rust" in classes:
            self._open(classes - {"language-rust"}, "code")
        elif tag in ("pre", "code", "p", "h2", "h3", "h4", "details"):
            self._await_link = False

    def handle_endtag(self, tag: str) -> None:
        if self._classes is None or tag != self._end_tag:
            return
        if self._depth:
            self._depth -= 1
            return
        self.blocks.append(CodeBlock(self._classes, "".join(self._text)))
        self._await_link = self._end_tag == "pre"
        self._classes = None

    def handle_data(self, data: str) -> None:
        if self._classes is not None:
            self._text.append(data)

    def _open(self, classes: frozenset[str], end_tag: str) -> None:
        self._classes, self._end_tag, self._depth, self._text = classes, end_tag, 0, []

    def _attach_link(self, href: str) -> None:
        self._await_link = False
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(href)).query)
        code = query.get("code", [None])[0]
        channel = "nightly" if query.get("version", [""])[0] == "nightly" else "stable"
        last = self.blocks[-1]
        self.blocks[-1] = CodeBlock(last.classes, last.text, code, channel)


def page_blocks(page_html: str) -> list[CodeBlock]:
    """The Rust code blocks of one HTML page, in page order."""
    parser = _BlockParser()
    parser.feed(page_html)
    parser.close()
    return parser.blocks


# ---- wrap ----


def unhide(code: str) -> str:
    """A doc-test's source as rustc sees it: `# line` hidden lines kept without their marker, `##` -> `#`."""
    out = []
    for line in code.split("\n"):
        s = line.lstrip()
        indent = line[: len(line) - len(s)]
        if s == "#":
            out.append("")
        elif s.startswith("# "):
            out.append(indent + s[2:])
        elif s.startswith("##"):
            out.append(indent + s[1:])
        else:
            out.append(line)
    return "\n".join(out)


def wrap_doctest(code: str, hidden_markers: bool = False) -> str:
    """Wrap a doc-test as rustdoc does: crate attributes and `extern crate` hoisted, `#![allow(unused)]`, and a
    `fn main() { ... }` around the body when it has no main. hidden_markers: the code still has `# ` lines."""
    if hidden_markers:
        code = unhide(code)
    lines = code.strip("\n").split("\n")
    attrs = [ln.strip() for ln in lines if _CRATE_ATTR.match(ln)]
    externs = [ln.strip() for ln in lines if _EXTERN_CRATE.match(ln)]
    body = "\n".join(ln for ln in lines if not _CRATE_ATTR.match(ln) and not _EXTERN_CRATE.match(ln)).strip("\n")
    head = attrs if any("allow(unused)" in a for a in attrs) else ["#![allow(unused)]", *attrs]
    head += externs
    if _FN_MAIN.search(body):
        return "\n".join([*head, body]) + "\n"
    return "\n".join([*head, "fn main() {", body, "}"]) + "\n"


def external_crates(program: str) -> set[str]:
    """Crates the program needs beyond std: `extern crate x` and `use x::...` roots it does not define itself."""
    defined = set(_DEFINED.findall(program))
    local = STD_CRATES | {"crate", "self", "super", "Self"} | defined
    names = set(_EXTERN_CRATE.findall(program)) | set(_USE_ROOT.findall(program))
    return {n for n in names if n not in local}


def block_snippet(block: CodeBlock, group: str, index: int) -> Snippet | None:
    """The block as a Snippet, or None when it is not meant to compile and run (fence classes, nightly, crates)."""
    if block.classes & SKIP_CLASSES or block.channel == "nightly":
        return None
    program = block.playground if block.playground is not None else wrap_doctest(html.unescape(block.text))
    if not program.endswith("\n"):
        program += "\n"
    if not program.strip() or "#![feature" in program or external_crates(program):
        return None
    if "test_harness" in block.classes:
        kind = "test"
    elif "no_run" in block.classes:
        kind = "lib"  # compiled, never run: it may read the network or loop on stdin
    else:
        kind = "bin"
    return Snippet("rust-doc", group, kind, program, f"{group}#{index}")


def doc_pages(html_root: Path) -> list[Path]:
    """The pages whose examples we take, in a stable order (print.html repeats a whole book: skipped)."""
    pages: list[Path] = []
    for book in BOOKS:
        d = html_root / book
        if d.is_dir():
            pages += sorted(p for p in d.rglob("*.html") if p.name != "print.html")
    return pages


def rust_doc_snippets(html_root: Path, progress=None) -> tuple[list[Snippet], int]:
    """(snippets, blocks seen) for every page under html_root; the group of a snippet is its page path."""
    snippets: list[Snippet] = []
    n_blocks = 0
    pages = doc_pages(html_root)
    for i, page in enumerate(pages):
        text = page.read_text(encoding="utf-8", errors="replace")
        if "rust-example-rendered" in text or "language-rust" in text:
            group = page.relative_to(html_root).as_posix()
            blocks = page_blocks(text)
            n_blocks += len(blocks)
            snippets += [s for j, b in enumerate(blocks) if (s := block_snippet(b, group, j)) is not None]
        if progress and (i % 100 == 0 or i == len(pages) - 1):
            progress(i + 1, len(pages))
    return snippets, n_blocks


if __name__ == "__main__":  # python -m nanochat_cli.data.rustdoc PAGE.html: print the page's programs
    for k, b in enumerate(page_blocks(Path(sys.argv[1]).read_text(encoding="utf-8"))):
        s = block_snippet(b, sys.argv[1], k)
        print(f"// ---- block {k} {sorted(b.classes)} -> {s.kind if s else 'skipped'}\n{s.text if s else b.text}")
