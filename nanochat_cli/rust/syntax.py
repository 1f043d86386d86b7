"""Rust syntax trees for both sides of the project: the data side (renamed copies) and the evaluation side
(triviality, AST metrics, RL rewards) parse Rust with the same tree-sitter grammar, built once per process, and
walk the trees the same way. Parsers are not thread-safe: parse on one thread."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from tree_sitter import Language, Node, Parser


@lru_cache(maxsize=1)
def rust_parser() -> Parser:
    """The tree-sitter parser for Rust, built once per process."""
    import tree_sitter_rust

    return Parser(Language(tree_sitter_rust.language()))


def walk(root: Node) -> Iterator[Node]:
    """Every node in document order (iterative: model output can nest deeply)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def node_text(node: Node) -> str:
    """The source text a node spans (invalid UTF-8 replaced)."""
    return (node.text or b"").decode("utf-8", "replace")


def apply_edits(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """`data` with each (start byte, end byte, replacement) applied; the spans must not overlap."""
    out = bytearray(data)
    for start, end, repl in sorted(edits, reverse=True):
        out[start:end] = repl
    return bytes(out)
