"""Whether a sample is trivial: the item its prompt opens holds no code. Decided on the syntax tree.

`is_trivial(problem, completion)` parses the program as it is compiled (preamble + prompt + cut
completion + "\\n" + tests) with tree-sitter-rust and finds the prompt's item: the first fn, impl,
trait, struct, enum, union, mod or macro_rules item that starts inside the prompt. The sample is trivial when:
- fn: its body holds nothing but comments and placeholder macros (`todo!()`, `unimplemented!()`,
  `unreachable!()`, `panic!(..)`): `{}`, `{ todo!() }`, `{ // later }`;
- impl: every item in it is a fn with such a body (an empty impl included);
- trait, mod: it holds no items (a fn signature counts as an item);
- macro_rules: it has no rules;
- struct, enum, union whose body the prompt leaves open (`enum Shape {`): no fields or variants;
- struct, enum, union that the prompt already completes (`struct Point { x: f64, y: f64 }`): the
  completion adds no non-trivial item (by the rules above) that names the type, such as an
  `impl Point` with a real method or a fn that builds or takes a `Point`.
This catches the commonest empty sample: the completion closes the prompt's item at once (`}`) and
writes an unrelated function, which compiles. A literal body such as `1` counts as code.
When no prompt item can be found (the program does not parse that far), the sample is trivial when its
cut completion is only whitespace and comments.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from nanochat_cli.rust.problems import Problem, cut_at_stop_tokens
from nanochat_cli.rust.syntax import rust_parser, walk

_ITEMS = {"function_item", "impl_item", "trait_item", "struct_item", "enum_item", "union_item", "mod_item",
          "macro_definition"}
_TYPE_ITEMS = {"struct_item", "enum_item", "union_item"}
_NOT_CODE = {"line_comment", "block_comment", "attribute_item", "inner_attribute_item"}
_PLACEHOLDERS = {"todo", "unimplemented", "unreachable", "panic"}


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "replace")  # tree-sitter offsets are bytes


def _code(node: Node | None) -> list[Node]:
    """The named children of a body that are code (not comments or attributes)."""
    return [] if node is None else [c for c in node.named_children if c.type not in _NOT_CODE]


def _is_placeholder(node: Node) -> bool:
    if node.type == "expression_statement" and node.named_children:
        node = node.named_children[0]
    if node.type != "macro_invocation":
        return False
    mac = node.child_by_field_name("macro")
    name = (mac.text or b"").decode("utf-8", "replace").split("::")[-1] if mac is not None else ""
    return name in _PLACEHOLDERS


def _fn_is_empty(fn: Node) -> bool:
    return all(_is_placeholder(c) for c in _code(fn.child_by_field_name("body")))


def item_is_empty(item: Node) -> bool:
    """Whether an item's own body holds no code (the per-kind rules of the module docstring)."""
    t = item.type
    if t == "function_item":
        return _fn_is_empty(item)
    if t == "impl_item":
        return all(c.type == "function_item" and _fn_is_empty(c) for c in _code(item.child_by_field_name("body")))
    if t == "macro_definition":
        return not any(c.type == "macro_rule" for c in item.named_children)
    return not _code(item.child_by_field_name("body"))  # trait, mod, struct, enum, union


def _names(item: Node, name: bytes) -> bool:
    return any(n.type in ("type_identifier", "identifier") and n.text == name for n in walk(item))


def is_trivial(problem: Problem, completion: str) -> bool:
    """Whether the sample adds no code to its prompt's item (see the module docstring)."""
    cut = cut_at_stop_tokens(completion, problem.stop_tokens)
    head, prompt, body = _encode(problem.preamble), _encode(problem.prompt), _encode(cut)
    start, end = len(head), len(head) + len(prompt)
    tree = rust_parser().parse(head + prompt + body + _encode("\n" + problem.tests))
    items = [n for n in walk(tree.root_node) if n.type in _ITEMS]
    own = next((n for n in items if start <= n.start_byte < end), None)
    if own is None:
        text = re.sub(r"/\*.*?\*/", "", cut, flags=re.DOTALL)
        return not re.sub(r"//[^\n]*", "", text).strip()
    if own.type in _TYPE_ITEMS and own.end_byte <= end:  # the prompt is the whole type: judge what follows
        name_node = own.child_by_field_name("name")
        name = name_node.text if name_node is not None and name_node.text else b""
        added = [n for n in items if end <= n.start_byte < end + len(body)]
        return not any(not item_is_empty(n) and _names(n, name) for n in added)
    return item_is_empty(own)
