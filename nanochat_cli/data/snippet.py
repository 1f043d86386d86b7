"""A candidate training program for the verified (compile-checked) corpus, before and after rustc sees it.

Every verified source (rust-doc examples, crate snippets, the synthetic generator) yields `Snippet`s;
`data/verify.py` type-checks or builds and runs each one in the evaluation sandbox and keeps those that pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# lib: type-checked as a library (`--crate-type lib --emit=metadata`);
# bin: built and run (exit 0, so its assert!s hold);
# test: built with `--test` and run (its #[test] functions pass).
SnippetKind = Literal["lib", "bin", "test"]


@dataclass(frozen=True)
class Snippet:
    source: str
    """Which verified source produced it: "rust-doc", "crate-snippets", "synthetic"."""
    group: str
    """Unit of the train/val split (a doc page, a crate, a generator family): a group never straddles it."""
    kind: SnippetKind
    """How rustc checks it (see SnippetKind)."""
    text: str
    """The whole program as rustc sees it, which is also the training document."""
    origin: str = ""
    """Where it came from, for the manifest and debugging (file and line, page and block number)."""
