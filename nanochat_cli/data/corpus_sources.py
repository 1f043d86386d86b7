"""Find Rust crates in the recipe's sources: directories, ~/.cargo/registry/src, rustup's rust-src, Debian.

`collect_crates(data_section, cache)` returns `CrateDir`s; `rust_files(crate)` lists a crate's .rs files
(vendored and build-output directories skipped). The crate is the unit of the train/val split.
`collect_snippets(data_section, cache)` returns the candidate programs of the snippet sources
(SNIPPET_SOURCES), split later by each Snippet's group.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from nanochat_cli.data import debian
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.errors import NanochatError

_VERSION_SUFFIX = re.compile(r"-\d+(\.\d+)*([-+.][0-9A-Za-z.+-]*)?$")
# sources of whole programs (Snippets) rather than files: see collect_snippets
SNIPPET_SOURCES = ("rust-doc", "debian-snippets", "synthetic", "composed")
SKIP_DIRS = {"target", "vendor", "vendored", "third_party", "third-party", ".git", "node_modules"}


@dataclass(frozen=True)
class CrateDir:
    source: str  # the recipe source it came from ("debian", "cargo", "rust-src" or the directory)
    name: str  # crate name without version: versions of one crate never straddle the split
    path: Path


def crate_name(dirname: str) -> str:
    """`serde-1.0.152` -> `serde`; a name without a version stays as it is."""
    return _VERSION_SUFFIX.sub("", dirname)


def no_sources_message(tried: list[str]) -> str:
    return (
        f"no Rust sources found (tried: {', '.join(tried) or 'nothing'}). Get some with one of: "
        "`apt-get update` then keep \"debian\" in data.sources (librust-*-dev packages, no root install needed); "
        "`cargo fetch` in any Rust project and add \"cargo\" (reads ~/.cargo/registry/src); "
        "`rustup component add rust-src` and add \"rust-src\"; or add a directory of .rs files to data.sources"
    )


def _directory_crates(root: Path) -> list[CrateDir]:
    if (root / "Cargo.toml").exists():
        return [CrateDir(str(root), crate_name(root.resolve().name), root)]
    crates = [CrateDir(str(root), crate_name(d.name), d) for d in sorted(root.iterdir()) if d.is_dir() and d.name not in SKIP_DIRS]
    if any(f.suffix == ".rs" for f in root.iterdir() if f.is_file()):
        # loose files at the top level form one more crate named after the directory
        crates.append(CrateDir(str(root), crate_name(root.resolve().name) + "/", root))
    return crates


def _cargo_crates(max_crates: int) -> list[CrateDir]:
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    src = home / "registry" / "src"
    if not src.is_dir():
        return []
    dirs = sorted(d for index in src.iterdir() if index.is_dir() for d in index.iterdir() if d.is_dir())
    return [CrateDir("cargo", crate_name(d.name), d) for d in dirs[:max_crates]]


def _rust_src_crates() -> list[CrateDir]:
    try:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return []
    lib = Path(sysroot) / "lib" / "rustlib" / "src" / "rust" / "library"
    if not lib.is_dir():
        return []
    return [CrateDir("rust-src", d.name, d) for d in sorted(lib.iterdir()) if d.is_dir()]


def collect_crates(data, cache: Path, progress=None) -> list[CrateDir]:
    """All crates of all sources in the recipe's data section. None at all -> NanochatError with how-tos."""
    crates: list[CrateDir] = []
    for source in data.sources:
        if source in SNIPPET_SOURCES:
            continue
        if source == "debian":
            pkgs = debian.choose_packages(data.max_crates, data.max_package_kb, data.seed, data.debian_packages)
            dirs = debian.fetch_crates(pkgs, cache, progress)
            crates += [CrateDir("debian", crate_name(d.name), d) for d in dirs]
        elif source == "cargo":
            crates += _cargo_crates(data.max_crates)
        elif source == "rust-src":
            crates += _rust_src_crates()
        else:
            root = Path(source).expanduser()
            if not root.is_dir():
                raise NanochatError(
                    f"data source {source!r} is not a directory nor one of debian, cargo, rust-src, "
                    f"{', '.join(SNIPPET_SOURCES)}; "
                    "fix data.sources in the recipe"
                )
            crates += _directory_crates(root)
    return crates


def rust_files(crate: CrateDir) -> list[Path]:
    """The crate's .rs files in a stable order, skipping vendored and build-output directories."""
    if crate.name.endswith("/"):  # loose top-level files only
        return sorted(p for p in crate.path.iterdir() if p.is_file() and p.suffix == ".rs")
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(crate.path):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".rs")]
    return out


def _debian_snippets(data, cache: Path, progress=None) -> list[Snippet]:
    from nanochat_cli.data.crate_snippets import crate_snippets

    pkgs = debian.choose_packages(data.max_crates, data.max_package_kb, data.seed, data.debian_packages)
    dirs = debian.fetch_crates(pkgs, cache, progress)
    out: list[Snippet] = []
    for i, d in enumerate(dirs):
        out += crate_snippets(d, crate_name(d.name))
        if progress:
            progress(i + 1, len(dirs))
    return out


def collect_snippets(data, cache: Path, progress=None) -> dict[str, list[Snippet]]:
    """Candidate programs of each snippet source listed in data.sources (in that order); unverified."""
    found: dict[str, list[Snippet]] = {}
    for source in data.sources:
        if source == "rust-doc":
            from nanochat_cli.data.rustdoc import fetch_rust_doc, rust_doc_snippets

            found[source] = rust_doc_snippets(fetch_rust_doc(cache), progress)[0]
        elif source == "debian-snippets":
            found[source] = _debian_snippets(data, cache, progress)
        elif source == "synthetic":
            from nanochat_cli.data.synthetic_rust import synthetic_programs

            found[source] = synthetic_programs(data.synthetic_programs, data.seed)
        elif source == "composed":
            from nanochat_cli.data.synthetic_composed import composed_programs

            found[source] = composed_programs(data.composed_programs, data.seed)
    if data.renamed_copies:
        found = {src: with_renamed_copies(snips, data.renamed_copies, data.seed) for src, snips in found.items()}
    if data.retyped_copies:
        found = {src: with_retyped_copies(snips, data.retyped_copies, data.seed) for src, snips in found.items()}
    if data.doc_examples:
        found = {src: with_doc_examples(snips, data.doc_examples, data.seed) for src, snips in found.items()}
    # the recipe's source name labels them from here on (the manifest counts and the split use it)
    return {src: [replace(s, source=src) for s in snips] for src, snips in found.items()}


def with_renamed_copies(snippets: list[Snippet], copies: int, seed: int) -> list[Snippet]:
    """Each snippet followed by up to `copies` copies with its own names renamed (data/rename.py)."""
    from nanochat_cli.data.rename import renamed_copy

    return _with_copies(snippets, renamed_copy, "renamed", copies, seed)


def with_retyped_copies(snippets: list[Snippet], copies: int, seed: int) -> list[Snippet]:
    """Each snippet followed by up to `copies` copies over other integer types and/or with owned parameters
    (data/retype.py)."""
    from nanochat_cli.data.retype import retyped_copy

    return _with_copies(snippets, retyped_copy, "retyped", copies, seed)


def with_doc_examples(snippets: list[Snippet], rate: float, seed: int) -> list[Snippet]:
    """Each snippet, with probability `rate` (seeded by its text), rewritten with `>>>` example lines in its
    documented function's doc comment where it qualifies (data/doc_examples.py); the others as they are."""
    from nanochat_cli.data.doc_examples import with_doc_examples as rewrite

    out: list[Snippet] = []
    for s in snippets:
        rng = random.Random(f"{seed}:doc-examples:{_digest(s.text)}")
        text = rewrite(s.text, rng) if rng.random() < rate else None
        out.append(replace(s, text=text) if text else s)
    return out


def _digest(text: str) -> str:
    """What seeds a snippet's own draws: the sha256 of its text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _with_copies(snippets: list[Snippet], make_copy, label: str, copies: int, seed: int) -> list[Snippet]:
    """Each snippet followed by up to `copies` distinct copies `make_copy(text, rng)` makes, in the same group (so
    a copy never lands on the other side of the split), seeded by the snippet's text and the kind of copy."""
    out: list[Snippet] = []
    for s in snippets:
        out.append(s)
        digest = _digest(s.text)
        # renamed copies keep the seed they had before other kinds of copy existed, so their corpora stay the same
        rng = random.Random(f"{seed}:{digest}" if label == "renamed" else f"{seed}:{label}:{digest}")
        texts = {s.text}
        for k in range(copies):
            text = make_copy(s.text, rng)
            if text is not None and text not in texts:
                texts.add(text)
                out.append(replace(s, text=text, origin=f"{s.origin} ({label} {k + 1})"))
    return out
