"""Consistent renaming of a program's own identifiers: one more training copy that teaches binding.

A small model trained on verified programs learns their bodies by heart and writes them under any
signature: asked for `fn find_duplicates(arr: &[i32])` it writes a body over `left` and `right`, the
names of a training program (rustc: E0425). A copy of each program whose own names (functions,
parameters, locals, fields, types, variants, traits) are all replaced, consistently, by other plausible
names holds the same lesson but no fixed names, so the cheapest way to predict it is to copy names from
the context. `renamed_copy(text, rng)` makes one such copy with tree-sitter-rust:

- only names the program defines are renamed: parameters, locals, closure and pattern bindings, fields,
  types, variants, traits, consts. Function and method names stay (they say what the code does, and a
  std trait's methods must keep theirs), as do std names. A defined name that the program also uses
  for something it does not define (a method call `.len()` beside a local `len`, a path
  `std::cmp::max` beside a local `max`) is left alone;
- names keep their style (snake_case, CamelCase, SCREAMING_CASE, one letter) and never collide with
  any name already in the program;
- the same names are renamed inside doc comments (in backticks and in example code) and in inline
  format arguments (`"{total}"`), so the text stays true to the code.

The copy is a new candidate: it is verified by rustc like every other snippet, so a rename that
breaks the program is dropped, never trained on.
"""

from __future__ import annotations

import random
import re

from tree_sitter import Node

from nanochat_cli.rust.syntax import apply_edits, rust_parser, walk
from nanochat_cli.rust.syntax import node_text as _text

_NAME_NODES = {"identifier", "type_identifier", "field_identifier", "shorthand_field_identifier"}
_BINDING_PARENTS = {"parameter": "pattern", "let_declaration": "pattern", "for_expression": "pattern",
                    "let_condition": "pattern", "closure_parameters": None, "match_pattern": None}
_TYPE_ITEMS = {"struct_item", "enum_item", "trait_item", "type_item", "union_item"}
_KEEP = {"main", "self", "Self", "super", "crate", "Some", "None", "Ok", "Err", "_"}

_WORDS = (
    "acc", "accum", "amount", "anchor", "apple", "area", "base", "batch", "bin", "block", "bound", "bucket", "buf",
    "budget", "cache", "cap", "cell", "chunk", "city", "clock", "code", "coin", "column", "count", "counter",
    "cursor", "data", "day", "delta", "depth", "digit", "dist", "edge", "elem", "entry", "event", "extra", "factor",
    "field", "first", "flag", "floor", "frame", "gap", "gate", "goal", "grade", "grid", "group", "guess", "head",
    "height", "hint", "hour", "idx", "index", "input", "item", "job", "key", "label", "last", "layer", "left",
    "length", "level", "limit", "line", "link", "list", "load", "lower", "mark", "mask", "max_val", "mid",
    "min_val", "mode", "month", "name", "needle", "node", "num", "offset", "order", "origin", "out", "output",
    "page", "pair", "part", "path", "peak", "piece", "pivot", "point", "pos", "prev", "price", "prime", "queue",
    "quota", "range", "rank", "rate", "record", "rest", "result", "right", "root", "round", "row", "rule", "scale",
    "score", "seed", "shift", "side", "sign", "size", "slot", "span", "speed", "stack", "start", "state", "step",
    "stock", "store", "stride", "sum", "tail", "target", "task", "tally", "term", "text", "tick", "token", "top",
    "total", "track", "upper", "value", "weight", "width", "window", "word", "year", "zone"
)
_TYPES = (
    "Account", "Animal", "Badge", "Basket", "Board", "Book", "Box2", "Bucket", "Card", "Cell", "Circle", "Clock",
    "Coin", "Counter", "Crate", "Cube", "Deck", "Device", "Dial", "Entry", "Event", "Field", "Flag", "Frame",
    "Gauge", "Grid", "Item", "Job", "Journal", "Key", "Lamp", "Ledger", "Level", "Light", "Meter", "Node", "Note",
    "Order", "Packet", "Page", "Pair", "Panel", "Parcel", "Pixel", "Planet", "Player", "Point", "Pos", "Price",
    "Queue", "Range", "Rect", "Record", "Reading", "Robot", "Room", "Route", "Rule", "Sample", "Score", "Sensor",
    "Shape", "Shelf", "Signal", "Slot", "Span", "Stack", "Stamp", "State", "Step", "Store", "Task", "Tile", "Timer",
    "Token", "Tool", "Track", "Train", "Tree", "Unit", "Vector", "Wallet", "Zone"
)
_PARTS = (
    "alpha", "beta", "north", "south", "east", "west", "red", "green", "blue", "small", "large", "first", "second",
    "inner", "outer", "fast", "slow"
)


def _pattern_names(node: Node, out: set[str]) -> None:
    """The names a pattern binds: identifiers, except the type or path of a struct/tuple-struct pattern."""
    if node.type == "identifier":
        out.add(_text(node))
        return
    if node.type in ("scoped_identifier", "type_identifier", "scoped_type_identifier"):
        return
    skip = node.child_by_field_name("type") if node.type in ("tuple_struct_pattern", "struct_pattern") else None
    for c in node.named_children:
        if skip is not None and c.id == skip.id:
            continue
        if c.type == "field_pattern" and c.child_by_field_name("pattern") is not None:
            _pattern_names(c.child_by_field_name("pattern"), out)  # `Point { x: px }` binds px, not x
            continue
        if c.type in ("field_pattern", "shorthand_field_identifier"):
            out.update(_text(n) for n in walk(c) if n.type == "shorthand_field_identifier")
            continue
        if c.type.endswith("_type") or c.type == "type_identifier":
            continue  # `x: i32` in a closure parameter
        _pattern_names(c, out)


def defined_names(root: Node) -> tuple[set[str], set[str]]:
    """(names the program defines, names it must keep): see the module docstring."""
    defined: set[str] = set()
    keep: set[str] = set(_KEEP)
    for n in walk(root):
        t = n.type
        name = n.child_by_field_name("name")
        if t in _TYPE_ITEMS or t in ("const_item", "static_item", "enum_variant", "field_declaration"):
            if name is not None:
                # an associated type or const of an impl (`type Output = Self;`) is named by its trait
                in_impl = n.parent is not None and n.parent.parent is not None and n.parent.parent.type == "impl_item"
                (keep if in_impl and t in ("type_item", "const_item") else defined).add(_text(name))
        elif t in ("function_item", "function_signature_item") and name is not None:
            keep.add(_text(name))  # a function's name says what it does: it stays, and so does its meaning
        elif t in _BINDING_PARENTS:
            field = _BINDING_PARENTS[t]
            target = n.child_by_field_name(field) if field else n
            if target is not None:
                if t == "closure_parameters":
                    for c in n.named_children:
                        _pattern_names(c.child_by_field_name("pattern") or c, defined)
                else:
                    _pattern_names(target, defined)
        elif t == "macro_invocation":
            mac = n.child_by_field_name("macro")
            if mac is not None:
                keep.add(_text(mac).split("::")[-1])
        elif t == "macro_definition" and name is not None:
            keep.add(_text(name))
    keep |= _foreign_uses(root, defined)
    return defined - keep, keep


def _foreign_uses(root: Node, defined: set[str]) -> set[str]:
    """Names used in positions that refer to something outside the program: method calls and paths whose
    root the program does not define, `use` declarations, attributes."""
    out: set[str] = set()
    for n in walk(root):
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "field_expression":
                field = fn.child_by_field_name("field")
                if field is not None:
                    out.add(_text(field))
        elif n.type in ("scoped_identifier", "scoped_type_identifier"):
            parts = [p for p in re.split(r"::|<.*", _text(n)) if p]
            if parts and parts[0] not in defined and parts[0] not in ("Self", "self", "crate", "super"):
                out.update(parts)
        elif n.type in ("use_declaration", "attribute_item", "inner_attribute_item"):
            out.update(_text(c) for c in walk(n) if c.type in _NAME_NODES)
    return out


def _style(name: str) -> str:
    core = name.lstrip("_")
    if len(core) == 1:
        return "letter_upper" if core.isupper() else "letter"
    if core.isupper():
        return "screaming"
    if core[:1].isupper():
        return "camel"
    return "snake"


def _fresh(style: str, rng: random.Random, taken: set[str]) -> str:
    for _ in range(200):
        if style == "letter":
            cand = rng.choice("abcdefghkmnpqrstuvwxyz") if rng.random() < 0.6 else rng.choice(_WORDS)
        elif style == "letter_upper":
            cand = rng.choice("ABCDEFGHKMNPQRSTUVWXYZ") if rng.random() < 0.5 else rng.choice(_TYPES)
        elif style == "camel":
            cand = rng.choice(_TYPES)
            if rng.random() < 0.3:
                cand = rng.choice(_PARTS).capitalize() + cand
        elif style == "screaming":
            cand = rng.choice(_WORDS).upper() + (f"_{rng.choice(_WORDS).upper()}" if rng.random() < 0.5 else "")
        else:
            cand = rng.choice(_WORDS)
            if rng.random() < 0.35:
                cand = f"{cand}_{rng.choice(_WORDS)}"
        if cand not in taken:
            return cand
    return ""


def renamed_copy(text: str, rng: random.Random) -> str | None:
    """`text` with the names it defines renamed consistently; None when it does not parse cleanly or
    defines nothing that may be renamed."""
    data = text.encode("utf-8")
    root = rust_parser().parse(data).root_node
    if root.has_error:
        return None
    defined, _keep = defined_names(root)
    present = {_text(n) for n in walk(root) if n.type in _NAME_NODES}
    taken = present | _KEEP | _RUST_KEYWORDS
    mapping: dict[str, str] = {}
    for name in sorted(defined):
        prefix = "_" if name.startswith("_") else ""
        new = _fresh(_style(name), rng, taken)
        if new:
            mapping[name] = prefix + new
            taken.add(prefix + new)
    if not mapping:
        return None
    names = "|".join(map(re.escape, sorted(mapping, key=len, reverse=True)))
    word = re.compile(rf"\b({names})\b")
    inline_arg = re.compile(rf"(?<=\{{)({names})(?=[:}}])|\b({names})(?=\$)")  # "{total:>width$}"
    edits: list[tuple[int, int, bytes]] = []
    for n in walk(root):
        if n.type in _NAME_NODES and _text(n) in mapping:
            edits.append((n.start_byte, n.end_byte, mapping[_text(n)].encode()))
        elif n.type == "string_literal":
            old = _text(n)
            new = inline_arg.sub(lambda m: mapping[m.group(1) or m.group(2)], old)
            if new != old:
                edits.append((n.start_byte, n.end_byte, new.encode()))
        elif n.type in ("line_comment", "block_comment"):
            old = _text(n)
            new = _rename_in_comment(old, word, mapping)
            if new != old:
                edits.append((n.start_byte, n.end_byte, new.encode()))
    return apply_edits(data, edits).decode("utf-8")


def _rename_in_comment(comment: str, word: re.Pattern, mapping: dict[str, str]) -> str:
    """Rename inside backtick spans, and everywhere on a doc comment that is example code (an assertion,
    a `let`, a call): prose words that happen to equal a name stay as they are."""
    sub = lambda s: word.sub(lambda m: mapping[m.group(1)], s)
    body = comment.lstrip("/!* ").strip()
    if re.match(r"(assert|let |use |fn |[A-Za-z_][\w:]*\(.*\);?$)", body):
        return sub(comment)
    return re.sub(r"`[^`\n]+`", lambda m: sub(m.group(0)), comment)


_RUST_KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "union", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    "gen"
}
