"""Syntax-tree metrics of Rust code with tree-sitter-rust: parse errors, size, complexity, risky calls.

`rust_ast_metrics(source)` parses a program (or a completion) and counts: ERROR and MISSING nodes
(parse errors), functions, cyclomatic complexity (1 + decision points per function, summed), the
deepest nesting of blocks, `unsafe` blocks, `.unwrap()` / `.expect()` calls, `panic!` invocations
and non-empty lines. Used per sample by `nanochat eval`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tree_sitter import Node

from nanochat_cli.rust.syntax import rust_parser

# Nodes that add a path through a function (McCabe): branches, loops, match arms, short-circuits, `?`.
_DECISIONS = {"if_expression", "while_expression", "for_expression", "loop_expression", "match_arm",
              "try_expression"}
_NESTING = {"block", "match_block", "declaration_list", "field_declaration_list", "enum_variant_list"}
_FUNCTIONS = {"function_item", "closure_expression"}


@dataclass
class AstMetrics:
    """Per-sample syntax metrics (see the module docstring)."""

    parse_errors: int = 0  # ERROR nodes + MISSING nodes
    error_nodes: int = 0
    missing_nodes: int = 0
    functions: int = 0  # fn items (closures are not counted here, but their branches add complexity)
    cyclomatic: int = 0  # sum over fn items of 1 + decision points
    max_nesting: int = 0  # deepest chain of nested blocks
    unsafe_blocks: int = 0
    unwrap_calls: int = 0
    expect_calls: int = 0
    panic_macros: int = 0
    lines: int = 0  # non-empty lines

    def to_dict(self) -> dict:
        return asdict(self)


def _method_name(call: Node) -> str | None:
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "field_expression":
        field = fn.child_by_field_name("field")
        if field is not None and field.text is not None:
            return field.text.decode("utf-8", "replace")
    return None


def rust_ast_metrics(source: str) -> AstMetrics:
    """Parse `source` as a Rust file and compute its AstMetrics."""
    data = source.encode("utf-8", "replace")
    tree = rust_parser().parse(data)
    m = AstMetrics(lines=sum(1 for ln in source.splitlines() if ln.strip()))
    # Iterative walk: (node, nesting depth, whether inside a fn item) — model output can nest deeply.
    stack: list[tuple[Node, int, bool]] = [(tree.root_node, 0, False)]
    while stack:
        node, depth, in_fn = stack.pop()
        t = node.type
        if node.is_error:
            m.error_nodes += 1
        if node.is_missing:
            m.missing_nodes += 1
        if t == "function_item":
            m.functions += 1
            m.cyclomatic += 1
            in_fn = True
        elif in_fn and t in _DECISIONS:
            m.cyclomatic += 1
        elif in_fn and t == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and op.type in ("&&", "||"):
                m.cyclomatic += 1
        if t == "unsafe_block":
            m.unsafe_blocks += 1
        elif t == "call_expression":
            name = _method_name(node)
            if name == "unwrap":
                m.unwrap_calls += 1
            elif name == "expect":
                m.expect_calls += 1
        elif t == "macro_invocation":
            mac = node.child_by_field_name("macro")
            if mac is not None and mac.text in (b"panic", b"std::panic", b"core::panic"):
                m.panic_macros += 1
        if t in _NESTING:
            depth += 1
            m.max_nesting = max(m.max_nesting, depth)
        for child in node.children:
            stack.append((child, depth, in_fn))
    m.parse_errors = m.error_nodes + m.missing_nodes
    return m
