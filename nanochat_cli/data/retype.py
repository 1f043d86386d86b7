"""Retyped copies of a program: the same code over other integer types and with owned parameters.

The generator and most snippets write `i32`, `u64`, `usize`, `&[i32]` and `&str` in their signatures, and almost
never `isize`, `Vec<T>` taken by value or `String` taken by value. A model trained only on the first kind meets
`fn f(xs: Vec<isize>, s: String) -> isize` as something it has never seen and mixes the types up (rustc E0308):
the same lesson over more types is Rust the model does not yet know. `retyped_copy(text, rng)` makes one copy of
a program with tree-sitter-rust, applying one or both of:

- **integer width**: one integer type the program's free functions use in their signatures (`i32`, `i64`, `u32`,
  `u64`) replaced everywhere in the code (types, `as` casts, `i32::MAX`, literal suffixes, doc comments) by
  another, `isize` most often;
- **owned parameters**: a free function's `&str` parameter becomes `String` and its `&[T]` parameter `Vec<T>`, and
  every call of that function passes an owned value (`"ab"` -> `String::from("ab")` or `"ab".to_string()`,
  `&[1, 2]` -> `vec![1, 2]`, `&v` -> `v.to_vec()` / `v.to_string()`, anything else `(e).to_vec()`).

String literals are left as they are. The copy is a new candidate, verified by rustc like every other snippet:
a copy the change breaks (a method `isize` lacks, a `match` on a `String`, a helper that wants `&str`) is
dropped, never trained on.
"""

from __future__ import annotations

import itertools
import random
import re

from tree_sitter import Node

from nanochat_cli.rust.syntax import apply_edits, rust_parser, walk
from nanochat_cli.rust.syntax import node_text as _text

_INT_SOURCES = ("i32", "i64", "u32", "u64")
_INT_TARGETS = {"i32": ("isize", "isize", "isize", "i64"), "i64": ("isize", "isize", "isize", "i32"),
                "u32": ("isize", "usize", "u64"), "u64": ("isize", "usize", "u32")}
_LITERALS = {"string_literal", "raw_string_literal", "char_literal"}


def _free_functions(root: Node) -> list[Node]:
    return [n for n in root.named_children if n.type == "function_item" and n.child_by_field_name("name") is not None
            and _text(n.child_by_field_name("name")) != "main"]


def _owned(param_type: str) -> str | None:
    """The owned type for a borrowed parameter type, or None when it is not one we change."""
    if param_type == "&str":
        return "String"
    m = re.fullmatch(r"&\[([^\[\];]+)\]", param_type)
    return f"Vec<{m.group(1)}>" if m else None


def _owned_arg(arg: str, owned: str, rng: random.Random) -> str:
    """The argument expression `arg` (a &str or &[T] at the call) as the owned value `owned` wants."""
    if owned == "String":
        if re.fullmatch(r'"(?:[^"\\\n]|\\.)*"', arg):
            return f"String::from({arg})" if rng.random() < 0.5 else f"{arg}.to_string()"
        conv = ".to_string()"
    else:
        if arg.startswith("&[") and arg.endswith("]"):
            return "vec!" + arg[1:]
        conv = ".to_vec()"
    bare = arg[1:] if arg.startswith("&") and not arg.startswith("&&") else arg
    if re.fullmatch(r"[A-Za-z_][\w.]*(\[[^\[\]]*\])?", bare):
        return bare + conv
    return f"({arg}){conv}"


def _owned_parameters(data: bytes, rng: random.Random) -> bytes | None:
    """Free functions' &str / &[T] parameters taken by value, their calls adjusted; None when nothing changes."""
    root = rust_parser().parse(data).root_node
    changed: dict[str, dict[int, str]] = {}
    edits: list[tuple[int, int, bytes]] = []
    for fn in _free_functions(root):
        params = fn.child_by_field_name("parameters")
        if params is None or fn.child_by_field_name("type_parameters") is not None:
            continue
        for i, p in enumerate(c for c in params.named_children if c.type in ("parameter", "self_parameter")):
            ty = p.child_by_field_name("type") if p.type == "parameter" else None
            owned = _owned(_text(ty)) if ty is not None else None
            if owned is not None and rng.random() < 0.75:  # each such parameter with probability 3/4
                changed.setdefault(_text(fn.child_by_field_name("name")), {})[i] = owned
                edits.append((ty.start_byte, ty.end_byte, owned.encode()))
    if not changed:
        return None
    for name, spans in _calls(root, set(changed)):
        for i, (start, end) in enumerate(spans):
            if i in changed[name]:
                arg = data[start:end].decode("utf-8")
                edits.append((start, end, _owned_arg(arg, changed[name][i], rng).encode()))
    return apply_edits(data, edits)


def _calls(root: Node, names: set[str]):
    """(name, argument byte spans) of every call of the named functions: call expressions, and calls inside macro
    arguments (`assert_eq!(f(&[1, 2]), 3)`), which tree-sitter keeps as token trees split here at top-level commas."""
    for n in walk(root):
        if n.type == "call_expression":
            fn_node, args = n.child_by_field_name("function"), n.child_by_field_name("arguments")
            if fn_node is not None and args is not None and fn_node.type == "identifier" and _text(fn_node) in names:
                yield _text(fn_node), [(a.start_byte, a.end_byte) for a in args.named_children
                                       if a.type not in ("line_comment", "block_comment")]
        elif n.type == "token_tree":
            kids = n.children
            for ident, tree in itertools.pairwise(kids):
                if (ident.type == "identifier" and _text(ident) in names and tree.type == "token_tree"
                        and tree.children and tree.children[0].type == "("):
                    spans, part = [], []
                    for c in tree.children[1:-1]:
                        if c.type == ",":
                            spans.append(part)
                            part = []
                        else:
                            part.append(c)
                    spans.append(part)
                    yield _text(ident), [(p[0].start_byte, p[-1].end_byte) for p in spans if p]


def _signature_ints(root: Node) -> list[str]:
    """Integer types written in free functions' signatures (parameters and return type), in order of use."""
    seen: list[str] = []
    for fn in _free_functions(root):
        for field in ("parameters", "return_type"):
            part = fn.child_by_field_name(field)
            for n in walk(part) if part is not None else ():
                if n.type == "primitive_type" and _text(n) in _INT_SOURCES:
                    seen.append(_text(n))
    return seen


def _retype_ints(data: bytes, rng: random.Random) -> bytes | None:
    """One integer type of the signatures replaced by another throughout the code; None when none is used."""
    root = rust_parser().parse(data).root_node
    used = _signature_ints(root)
    if not used:
        return None
    src = max(set(used), key=lambda t: (used.count(t), t))
    if any(n.type == "identifier" and src in _text(n) and _text(n) != src for n in walk(root)):
        return None  # a name that says the type (`hex_to_u32`) would no longer be true
    dst = rng.choice(_INT_TARGETS[src])
    # the type as a word (`i32`, `i32::MAX`, `as i32`) or a literal's suffix (`5i32`, `1_000_i32`), never part of a
    # name (`hex_to_u32`)
    word = re.compile(rf"(?<![\w$]){src}\b|(?<![\w.])([0-9][0-9_]*){src}\b")
    protected = [(n.start_byte, n.end_byte) for n in walk(root) if n.type in _LITERALS]
    out, pos = [], 0
    for start, end in sorted(protected) + [(len(data), len(data))]:
        if start < pos:
            continue
        out.append(word.sub(lambda m: (m.group(1) or "") + dst, data[pos:start].decode("utf-8")))
        out.append(data[start:end].decode("utf-8"))
        pos = end
    new = "".join(out).encode("utf-8")
    return None if new == data else new


def retyped_copy(text: str, rng: random.Random) -> str | None:
    """`text` with its integer types and/or borrowed parameters changed (see the module docstring); None when it
    does not parse cleanly or neither change applies."""
    data = text.encode("utf-8")
    if rust_parser().parse(data).root_node.has_error:
        return None
    ints, owned = rng.random() < 0.8, rng.random() < 0.6
    if not ints and not owned:
        ints = owned = True
    out = data
    if owned:
        out = _owned_parameters(out, rng) or out
    if ints:
        out = _retype_ints(out, rng) or out
    return None if out == data else out.decode("utf-8")
