"""Candidate self-contained programs cut from a crate's sources, for the compile-verified corpus.

`crate_snippets(crate_dir, crate)` returns `Snippet`s: doc tests and std-only examples (kind "bin"),
`#[test]` functions with the items of their file they use (kind "test"), and top-level items with their
std `use` lines and same-file dependencies (kind "lib"). Only cheap prefilters run here (std-only paths,
every name resolved in the file or the std prelude); `data/verify.py` compiles what survives.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from nanochat_cli.data.corpus_sources import CrateDir, rust_files
from nanochat_cli.data.filters import is_generated
from nanochat_cli.data.snippet import Snippet

SOURCE = "crate-snippets"
MAX_ITEM_BYTES = 4096  # one item (fn, type with its impls) larger than this is rarely a clean lesson
MAX_PROGRAM_BYTES = 8192  # a whole candidate, dependencies included

STD_ROOTS = {"std", "core", "alloc"}
PRIMITIVES = {"u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
              "f32", "f64", "bool", "char", "str"}
# Names every 2021-edition module sees without a `use` (std prelude, plus Self).
PRELUDE = {"Option", "Some", "None", "Result", "Ok", "Err", "Vec", "String", "Box", "ToString", "ToOwned",
           "Clone", "Copy", "Send", "Sync", "Sized", "Unpin", "Drop", "Fn", "FnMut", "FnOnce", "Iterator",
           "IntoIterator", "DoubleEndedIterator", "ExactSizeIterator", "Extend", "Default", "Eq", "PartialEq",
           "Ord", "PartialOrd", "AsRef", "AsMut", "Into", "From", "TryFrom", "TryInto", "FromIterator", "Self",
           "drop"}
# Associated type names of std traits, as in `Iterator<Item = u8>`, and the `_` of `Vec<_>`.
ASSOCIATED = {"Item", "Output", "Target", "IntoIter", "Err", "_"}
STD_MACROS = {"println", "print", "eprintln", "eprint", "format", "format_args", "write", "writeln", "vec",
              "assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne",
              "panic", "unreachable", "unimplemented", "todo", "matches", "concat", "stringify", "line",
              "file", "column", "module_path", "cfg", "option_env", "compile_error", "dbg", "thread_local"}
STD_DERIVES = {"Debug", "Clone", "Copy", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash", "Default"}
# Attributes that need nothing outside std (tool attributes like rustfmt::skip are fine too).
PLAIN_ATTRIBUTES = {"inline", "cold", "must_use", "doc", "allow", "warn", "deny", "forbid", "expect",
                    "deprecated", "repr", "non_exhaustive", "track_caller", "test", "should_panic", "ignore",
                    "no_mangle", "automatically_derived", "cfg_attr", "macro_export", "rustfmt", "clippy",
                    "target_feature"}
# Traits a file imports only for their methods: keep such std `use` lines even when the name never appears.
METHOD_TRAITS = {"Write", "Read", "BufRead", "Seek", "FromStr", "Hash", "Hasher", "Borrow", "BorrowMut",
                 "Deref", "DerefMut", "Any", "Error", "Sum", "Product", "FusedIterator", "OsStrExt",
                 "OsStringExt", "PermissionsExt", "MetadataExt", "FileExt", "CommandExt", "ExitStatusExt",
                 "AsRawFd", "FromRawFd", "IntoRawFd", "Add", "Sub", "Mul", "Div", "Neg", "Not", "Index"}
# cfg predicates true on the verifier (std, Linux x86_64, under --test) keep the item and the attribute; those that
# only switch std or alloc on keep the item and lose the attribute; any other cfg may compile the item out.
TRUE_CFGS = {"test", "unix", "not(windows)", 'target_os="linux"', 'target_arch="x86_64"', 'target_pointer_width="64"'}
STD_FEATURES = {'feature="std"', 'feature="alloc"', "test"}

_ITEMS = {"function_item", "struct_item", "enum_item", "union_item", "trait_item", "type_item", "const_item",
          "static_item", "macro_definition", "impl_item"}
_TYPE_ITEMS = {"struct_item", "enum_item", "union_item"}
_QUERY = """
(identifier) @id
(type_identifier) @ty
(scoped_identifier path: [(identifier) (crate) (super) (self)] @root)
(scoped_type_identifier path: [(identifier) (crate) (super) (self)] @root)
(scoped_identifier !path name: (identifier) @root)
(scoped_type_identifier !path name: (_) @root)
(extern_crate_declaration name: (identifier) @root)
(scoped_identifier name: (_) @skip)
(scoped_type_identifier name: (_) @skip)
(lifetime (identifier) @skip)
(macro_invocation macro: (identifier) @mac)
(macro_invocation macro: (scoped_identifier name: (identifier) @mac))
(token_tree) @tt
(attribute_item) @attr
(inner_attribute_item) @attr
(use_declaration) @use
(function_item name: (identifier) @def)
(struct_item name: (_) @def)
(enum_item name: (_) @def)
(union_item name: (_) @def)
(trait_item name: (_) @def)
(type_item name: (_) @def)
(const_item name: (_) @def)
(static_item name: (_) @def)
(mod_item name: (_) @def)
(associated_type name: (_) @def)
(type_parameter name: (_) @def)
(const_parameter name: (_) @def)
(macro_definition name: (_) @macdef)
(call_expression function: (field_expression field: (field_identifier) @method))
"""
_TT_ROOT = re.compile(r"(?<![\w:$])(\$?\w+)\s*::")
_TT_MACRO = re.compile(r"(?<![\w:])(\w+)\s*!\s*[(\[{]")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*(.*)$")
_DOC_LINE = re.compile(r"^\s*(///|//!)(?!/)(.*)$")
_RESTRICTED_PUB = re.compile(r"\bpub\s*\(\s*(super|in\s[\w:\s]+)\)")
_ALLOC_PATH = re.compile(r"(?<![\w:])alloc\s*::")
_FN_MAIN = re.compile(r"\bfn\s+main\s*\(")


@lru_cache(maxsize=1)
def _language() -> tuple[Parser, Query]:
    import tree_sitter_rust

    language = Language(tree_sitter_rust.language())
    return Parser(language), Query(language, _QUERY)


# ---- what a stretch of code refers to ----


@dataclass
class _Refs:
    types: set[str] = field(default_factory=set)  # type names and Uppercase path roots
    values: set[str] = field(default_factory=set)  # every plain identifier (locals included)
    roots: set[str] = field(default_factory=set)  # lowercase path roots: modules, crates, crate/super/self
    macros: set[str] = field(default_factory=set)
    defs: set[str] = field(default_factory=set)  # names defined inside (items, type and const parameters)
    macro_defs: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)  # names called as `x.name(...)`
    uses: list[Node] = field(default_factory=list)  # use declarations inside the stretch
    attributes: list[str] = field(default_factory=list)

    def update(self, other: _Refs) -> None:
        for name in ("types", "values", "roots", "macros", "defs", "macro_defs", "methods"):
            getattr(self, name).update(getattr(other, name))
        self.uses += other.uses
        self.attributes += other.attributes

    def add_root(self, name: str) -> None:
        if name[:1].isupper():
            self.types.add(name)
        else:
            self.roots.add(name)


def _captures(root: Node) -> list[tuple[int, int, str, Node]]:
    """All query captures under root, sorted by position: (start, end, capture name, node)."""
    found = QueryCursor(_language()[1]).captures(root)
    flat = [(n.start_byte, n.end_byte, kind, n) for kind, nodes in found.items() for n in nodes]
    flat.sort(key=lambda c: (c[0], c[1]))
    return flat


def _refs_by_span(captures: list[tuple[int, int, str, Node]], spans: list[tuple[int, int]]) -> list[_Refs]:
    """One _Refs per (start, end) span (spans sorted, disjoint); captures outside every span are dropped."""
    refs = [_Refs() for _ in spans]
    starts = [s for s, _ in spans]
    skipped: set[int] = set()  # positions of qualified names, lifetimes, macro names: not references
    shadow: list[tuple[int, int]] = []  # attribute and use ranges: handled as a whole
    for start, end, kind, node in captures:
        if kind in ("skip", "mac", "root", "def", "macdef"):
            skipped.add(start)
        elif kind in ("attr", "use"):
            shadow.append((start, end))
    shadow.sort()
    shadow_starts = [s for s, _ in shadow]
    for start, end, kind, node in captures:
        i = bisect.bisect_right(starts, start) - 1
        if i < 0 or start >= spans[i][1]:
            continue
        r = refs[i]
        j = bisect.bisect_right(shadow_starts, start) - 1
        shadowed = j >= 0 and start < shadow[j][1] and (shadow[j][0], shadow[j][1]) != (start, end)
        text = node.text.decode("utf-8", "replace")
        if kind == "attr" and not shadowed:
            r.attributes.append(text)
        elif kind == "use" and not shadowed:
            r.uses.append(node)
        elif shadowed:
            continue
        elif kind == "def":
            r.defs.add(text)
        elif kind == "macdef":
            r.macro_defs.add(text)
        elif kind == "method":
            r.methods.add(text)
        elif kind == "mac":
            r.macros.add(text)
        elif kind == "root":
            r.add_root(text)
        elif kind == "ty" and start not in skipped:
            r.types.add(text)
        elif kind == "id" and start not in skipped:
            r.values.add(text)
        elif kind == "tt":  # macro arguments are not parsed: find paths and nested macros by hand
            r.roots.update(m for m in _TT_ROOT.findall(text) if not m[:1].isupper())
            r.types.update(m for m in _TT_ROOT.findall(text) if m[:1].isupper())
            r.macros.update(_TT_MACRO.findall(text))
    return refs


# ---- use declarations ----


@dataclass
class _Uses:
    std: dict[str, list[int]] = field(default_factory=dict)  # name -> indices of the std uses importing it
    std_decls: list[tuple[int, str, set[str]]] = field(default_factory=list)  # (position, text, names)
    std_glob: bool = False
    foreign: set[str] = field(default_factory=set)  # names imported from this crate or other crates
    parent: set[str] = field(default_factory=set)  # names imported with `super::`/`crate::` paths
    parent_glob: bool = False


def _path_root(node: Node) -> str:
    while node.type in ("scoped_identifier", "scoped_use_list", "use_wildcard", "use_as_clause", "use_list"):
        inner = node.child_by_field_name("path")
        if inner is None:
            inner = node.named_children[0] if node.named_children else None
        if inner is None:
            return ""
        node = inner
    return node.text.decode("utf-8", "replace")


def _imported_names(node: Node) -> tuple[set[str], bool]:
    """Names a use argument brings into scope, and whether it is a glob."""
    t = node.type
    if t == "use_as_clause":
        return {node.child_by_field_name("alias").text.decode()}, False
    if t == "use_wildcard":
        return set(), True
    if t == "scoped_use_list":
        return _imported_names(node.child_by_field_name("list"))
    if t == "use_list":
        names, glob = set(), False
        for child in node.named_children:
            if child.type == "self":  # `use std::fmt::{self, ...}` imports fmt itself
                names.add(_last_segment(node.parent.child_by_field_name("path")))
                continue
            n, g = _imported_names(child)
            names |= n
            glob |= g
        return names, glob
    return {_last_segment(node)}, False


def _last_segment(node: Node | None) -> str:
    if node is None:
        return ""
    name = node.child_by_field_name("name") if node.type == "scoped_identifier" else node
    return (name or node).text.decode("utf-8", "replace")


def _read_uses(decls: list[Node], source: bytes) -> _Uses:
    uses = _Uses()
    for decl in decls:
        arg = decl.child_by_field_name("argument")
        if arg is None:
            continue
        root = _path_root(arg)
        names, glob = _imported_names(arg)
        names.discard("_")
        if root in STD_ROOTS:
            uses.std_glob |= glob
            line_start = source.rfind(b"\n", 0, decl.start_byte) + 1
            text = source[line_start:decl.end_byte].decode("utf-8", "replace")
            # a trait imported `as _` or a glob is needed for its methods alone
            names_or_trait = names | ({"*"} if glob or " as _" in text else set())
            for name in names_or_trait:
                uses.std.setdefault(name, []).append(len(uses.std_decls))
            uses.std_decls.append((decl.start_byte, text, names_or_trait))
        elif root in ("super", "crate", "self"):
            uses.parent |= names
            uses.parent_glob |= glob
        else:
            uses.foreign |= names | {root}
    return uses


def _attribute_verdict(text: str) -> str:
    """"ok", "strip" (a std feature gate: drop the attribute, keep the item) or "bad" (needs more than std)."""
    m = re.match(r"#!?\[\s*([\w]+)", text)
    name = m.group(1) if m else ""
    body = text[m.end():] if m else ""
    if name == "derive":
        return "ok" if set(re.findall(r"[\w:]+", body)) <= STD_DERIVES else "bad"
    if name == "cfg":
        pred = re.sub(r"\s+", "", body)[1:-2]  # "(...)]" -> "..."
        if pred in TRUE_CFGS:
            return "ok"
        options = pred[4:-1].split(",") if pred.startswith("any(") else [pred]
        return "strip" if set(options) <= STD_FEATURES and options != ["test"] else "bad"
    if name == "doc" and "include" in body:
        return "bad"
    return "ok" if name in PLAIN_ATTRIBUTES else "bad"


# ---- units: an item with its doc comment and attributes (a type with its impls) ----


@dataclass
class _Unit:
    node_type: str
    names: set[str]  # what it defines for others to use
    spans: list[tuple[int, int]]  # byte ranges in the file, doc comments and attributes included
    refs: _Refs = field(default_factory=_Refs)
    methods: set[str] = field(default_factory=set)  # a trait's methods: calling one needs the trait (and its impls)
    is_test: bool = False
    broken: bool = False
    macro_impls: bool = False  # a trait a top-level macro implements: users miss those impls


def _units(container: Node, source: bytes) -> tuple[list[_Unit], list[Node], list[Node]]:
    """The units of a file or a mod body, its use declarations, and its inline mods."""
    units: list[_Unit] = []
    uses: list[Node] = []
    mods: list[Node] = []
    by_type: dict[str, _Unit] = {}
    impls: list[tuple[Node, int]] = []
    macro_calls: list[bytes] = []
    prefix_start: int | None = None
    prefix_attributes: list[str] = []
    for child in container.named_children:
        t = child.type
        is_doc = t in ("line_comment", "block_comment") and child.child_by_field_name("outer") is not None
        if t == "attribute_item" or is_doc:
            prefix_start = child.start_byte if prefix_start is None else prefix_start
            if t == "attribute_item":
                prefix_attributes.append(child.text.decode("utf-8", "replace"))
            continue
        start = child.start_byte if prefix_start is None else prefix_start
        attributes, prefix_start, prefix_attributes = prefix_attributes, None, []
        line_start = source.rfind(b"\n", 0, start) + 1
        if not source[line_start:start].strip():
            start = line_start
        if t == "use_declaration":
            if all(_attribute_verdict(a) != "bad" for a in attributes):  # not `#[cfg(windows)] use ...`
                uses.append(child)
        elif t == "mod_item" and child.child_by_field_name("body") is not None:
            mods.append(child)
        elif t == "impl_item":
            impls.append((child, start))
        elif t in ("macro_invocation", "expression_statement"):
            macro_calls.append(child.text)
        elif t in _ITEMS:
            name = child.child_by_field_name("name")
            unit = _Unit(t, {name.text.decode("utf-8", "replace")} if name is not None else set(),
                         [(start, child.end_byte)], broken=child.has_error or name is None)
            units.append(unit)
            if t == "trait_item" and child.child_by_field_name("body") is not None:
                unit.methods = {n.child_by_field_name("name").text.decode("utf-8", "replace")
                                for n in child.child_by_field_name("body").named_children
                                if n.type in ("function_item", "function_signature_item")
                                and n.child_by_field_name("name") is not None}
            if t in _TYPE_ITEMS or t == "trait_item":
                by_type.setdefault(next(iter(unit.names), ""), unit)
    for impl, start in impls:
        base = impl.child_by_field_name("type")
        while base is not None and base.type in ("generic_type", "reference_type"):
            base = base.child_by_field_name("type")
        trait = impl.child_by_field_name("trait")
        owner = by_type.get(_last_segment(base)) if base is not None else None
        if owner is None or owner.node_type == "trait_item":
            owner = by_type.get(_last_segment(trait)) if trait is not None else None
        if owner is not None:
            owner.spans.append((start, impl.end_byte))
            owner.broken |= impl.has_error
    for unit in units:
        unit.spans.sort()
        if unit.node_type == "trait_item" and unit.names:
            name = re.compile(rb"\b" + re.escape(next(iter(unit.names)).encode()) + rb"\b")
            unit.macro_impls = any(name.search(call) for call in macro_calls)
    return units, uses, mods


def _attach_refs(units: list[_Unit], captures: list[tuple[int, int, str, Node]]) -> None:
    pieces = sorted((span, i) for i, unit in enumerate(units) for span in unit.spans)
    refs = _refs_by_span(captures, [span for span, _ in pieces])
    for (_, i), r in zip(pieces, refs):
        units[i].refs.update(r)
    for unit in units:
        unit.is_test = unit.node_type == "function_item" and any(
            re.fullmatch(r"#\[\s*test\s*\]", a.strip()) for a in unit.refs.attributes)


# ---- resolving a candidate's names inside its file ----


@dataclass
class _Scope:
    units: list[_Unit]
    uses: _Uses
    by_name: dict[str, _Unit] = field(default_factory=dict)
    by_method: dict[str, _Unit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for unit in self.units:
            for name in unit.names:
                self.by_name.setdefault(name, unit)
            for name in unit.methods:
                self.by_method.setdefault(name, unit)


def _close(roots: list[_Unit], scopes: list[_Scope], crate_values: set[str]) -> list[list[_Unit]] | None:
    """The units of each scope that roots need (transitively), or None when a name can't be resolved here."""
    chosen: list[dict[int, _Unit]] = [{} for _ in scopes]
    todo = [(0, u) for u in roots]
    refs = _Refs()
    while todo:
        level, unit = todo.pop()
        if id(unit) in chosen[level]:
            continue
        if unit.macro_impls and unit not in roots:
            return None
        if unit.broken or any(_attribute_verdict(a) == "bad" for a in unit.refs.attributes):
            return None
        if any(_path_root(u.child_by_field_name("argument") or u) not in STD_ROOTS for u in unit.refs.uses):
            return None
        chosen[level][id(unit)] = unit
        refs.update(unit.refs)
        wanted = unit.refs.types | unit.refs.values | unit.refs.roots | unit.refs.macros
        for name in wanted:
            for lv in range(level, len(scopes)):
                # an inner scope sees its parent only through `use super::*` or a named import
                if lv > level and not (scopes[level].uses.parent_glob or name in scopes[level].uses.parent):
                    break
                dep = scopes[lv].by_name.get(name)
                if dep is not None:
                    todo.append((lv, dep))
                    break
        todo += [(lv, s.by_method[m]) for m in unit.refs.methods for lv, s in enumerate(scopes[level:], level)
                 if m in s.by_method]
    local = refs.defs | refs.macro_defs
    std = {n for s in scopes for n in s.uses.std} | {
        n for u in refs.uses for n in _imported_names(u.child_by_field_name("argument"))[0]}
    std_glob = any(s.uses.std_glob for s in scopes)
    foreign = set().union(*(s.uses.foreign for s in scopes))
    # a std glob is nearly always `io::prelude::*`: it brings the io traits, not arbitrary types
    known = local | std | PRELUDE | PRIMITIVES | ASSOCIATED | (METHOD_TRAITS if std_glob else set())
    if refs.types - known:
        return None
    if refs.roots - known - STD_ROOTS:  # crate::, super::, self:: and other crates name what we lack
        return None
    if refs.macros - STD_MACROS - refs.macro_defs:
        return None
    if (refs.values & (crate_values | foreign)) - local - std:
        return None
    # Capitalised values are constants, statics, unit/tuple structs or variants: they must be found too
    if {v for v in refs.values if v[:1].isupper()} - known:
        return None
    return [sorted(c.values(), key=lambda u: u.spans[0]) for c in chosen]


def _text(units: list[_Unit], source: bytes) -> str:
    parts = []
    for unit in units:
        for start, end in unit.spans:
            text = source[start:end].decode("utf-8", "replace")
            for attribute in unit.refs.attributes:
                if _attribute_verdict(attribute) == "strip":
                    text = re.sub(r"[ \t]*" + re.escape(attribute) + r"[ \t]*\n?", "", text)
            parts.append(text)
    return "\n\n".join(parts)


def _use_lines(uses: _Uses, units: list[_Unit]) -> list[str]:
    wanted = set().union(*(u.refs.types | u.refs.values | u.refs.roots for u in units)) | METHOD_TRAITS | {"*"}
    return [text for _, text, names in uses.std_decls if names & wanted]


def _program(use_lines: list[str], body: str) -> str:
    text = ("\n".join(use_lines) + "\n\n" if use_lines else "") + body.rstrip() + "\n"
    # pub(super) and pub(in path) name modules the program no longer has; alloc needs declaring outside no_std
    text = _RESTRICTED_PUB.sub("pub(crate)", text)
    return ("extern crate alloc;\n\n" + text) if _ALLOC_PATH.search(text) else text


# ---- the four kinds of candidate ----


def _lib_snippets(scope: _Scope, source: bytes, crate_values: set[str]) -> list[tuple[str, int]]:
    """(program, line) for each top-level item that may compile alone with its same-file dependencies."""
    out = []
    covered: set[int] = set()
    for unit in scope.units:
        if id(unit) in covered or unit.node_type in ("macro_definition", "impl_item") or unit.is_test:
            continue
        if sum(e - s for s, e in unit.spans) > MAX_ITEM_BYTES:
            continue
        closed = _close([unit], [scope], crate_values)
        if closed is None:
            continue
        units = closed[0]
        if any(sum(e - s for s, e in u.spans) > MAX_ITEM_BYTES for u in units):
            continue
        text = _program(_use_lines(scope.uses, units), _text(units, source))
        if len(text.encode()) > MAX_PROGRAM_BYTES:
            continue
        covered.update(id(u) for u in units)
        out.append((text, source.count(b"\n", 0, unit.spans[0][0]) + 1))
    return out


def _test_snippets(mod: Node, file_scope: _Scope, source: bytes, captures, crate_values: set[str]) -> list[tuple[str, int]]:
    """The #[test] functions of an inline mod, with what they use, packed into programs up to the size cap."""
    units, use_nodes, _ = _units(mod.child_by_field_name("body"), source)
    _attach_refs(units, captures)
    scope = _Scope(units, _read_uses(use_nodes, source))
    name = mod.child_by_field_name("name").text.decode("utf-8", "replace")
    chunks: list[tuple[list[_Unit], list[_Unit], list[_Unit]]] = []  # (file units, mod units, tests)
    for test in (u for u in units if u.is_test):
        closed = _close([test], [scope, file_scope], crate_values)
        if closed is None or sum(e - s for s, e in test.spans) > MAX_ITEM_BYTES:
            continue
        inner, outer = closed
        if chunks:
            merged_outer = _merge(chunks[-1][0], outer)
            merged_inner = _merge(chunks[-1][1], inner)
            if len(_test_program(scope, file_scope, merged_outer, merged_inner, name, source)) <= MAX_PROGRAM_BYTES:
                chunks[-1] = (merged_outer, merged_inner, chunks[-1][2] + [test])
                continue
        if len(_test_program(scope, file_scope, outer, inner, name, source)) <= MAX_PROGRAM_BYTES:
            chunks.append((outer, inner, [test]))
    return [(_test_program(scope, file_scope, outer, inner, name, source),
             source.count(b"\n", 0, tests[0].spans[0][0]) + 1) for outer, inner, tests in chunks]


def _merge(a: list[_Unit], b: list[_Unit]) -> list[_Unit]:
    seen = {id(u): u for u in a + b}
    return sorted(seen.values(), key=lambda u: u.spans[0])


def _test_program(scope: _Scope, file_scope: _Scope, outer: list[_Unit], inner: list[_Unit], name: str, source: bytes) -> str:
    head = _use_lines(file_scope.uses, outer + inner)
    body = _text(outer, source)
    mod_uses = "".join(line.rstrip() + "\n" for line in _use_lines(scope.uses, inner))
    module = f"#[cfg(test)]\nmod {name} {{\n    use super::*;\n{mod_uses}\n{_text(inner, source)}\n}}"
    return _program(head, (body + "\n\n" if body else "") + module)


def _whole_program_ok(text: str) -> bool:
    """A complete program (doc test, example): parses, and names nothing outside std and itself."""
    parser, _ = _language()
    source = text.encode()
    tree = parser.parse(source)
    if tree.root_node.has_error:
        return False
    unit = _Unit("program", set(), [(0, len(source))])
    unit.refs = _refs_by_span(_captures(tree.root_node), [(0, len(source))])[0]
    return _close([unit], [_Scope([unit], _Uses())], set()) is not None


def _doc_tests(source: str, crate: str) -> list[tuple[str, int]]:
    """Doc-test blocks of `///` and `//!` comments, wrapped as rustdoc does; those naming the crate are dropped."""
    out = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        m = _DOC_LINE.match(lines[i])
        if not m:
            i += 1
            continue
        marker, start = m.group(1), i
        doc = []
        while i < len(lines) and (m := _DOC_LINE.match(lines[i])) and m.group(1) == marker:
            doc.append(m.group(2).removeprefix(" "))
            i += 1
        out += [(code, start + 1 + offset) for code, offset in _fenced_blocks(doc, crate)]
    return out


def _fenced_blocks(doc: list[str], crate: str) -> list[tuple[str, int]]:
    out = []
    j = 0
    while j < len(doc):
        m = _FENCE.match(doc[j])
        if not m:
            j += 1
            continue
        fence, info, open_line = m.group(1), m.group(2), j
        indent = len(doc[j]) - len(doc[j].lstrip())
        code = []
        j += 1
        while j < len(doc) and not doc[j].strip().startswith(fence[:3]):
            code.append(doc[j][indent:] if doc[j][:indent].isspace() else doc[j].lstrip())
            j += 1
        j += 1
        tags = {t for t in re.split(r"[\s,]+", info.strip().strip("{}")) if t}
        if not tags <= {"rust", "edition2018", "edition2021"}:
            continue  # ignore, no_run, should_panic, compile_fail, text and other languages
        program = _rustdoc_wrap(code)
        if program and len(program.encode()) <= MAX_PROGRAM_BYTES and not re.search(
                rf"\b{re.escape(crate.replace('-', '_'))}\s*::", program) and _whole_program_ok(program):
            out.append((program, open_line))
    return out


def _rustdoc_wrap(code: list[str]) -> str:
    """Unhide `# ` lines, hoist `#![...]` attributes, add `fn main` when absent (rustdoc's make_test)."""
    shown = []
    for line in code:
        s = line.lstrip()
        if s == "#":
            line = ""
        elif s.startswith("# "):
            line = line[: len(line) - len(s)] + s[2:]
        elif s.startswith("##"):
            line = line[: len(line) - len(s)] + s[1:]
        shown.append(line)
    attrs = [ln for ln in shown if ln.lstrip().startswith("#![")]
    body = [ln for ln in shown if not ln.lstrip().startswith("#![")]
    if any("feature(" in a for a in attrs) or not "".join(body).strip():
        return ""  # nightly-only features fail on stable rustc
    text = "\n".join(body).strip("\n")
    if not _FN_MAIN.search(text):
        inner = "\n".join("    " + ln if ln.strip() else "" for ln in text.splitlines())
        if text.rstrip().endswith("(())"):  # rustdoc: a trailing Ok(()) makes main return a Result
            text = ("fn main() {\n    fn _inner() -> Result<(), impl std::fmt::Debug> {\n"
                    + "\n".join("    " + ln if ln.strip() else "" for ln in inner.splitlines())
                    + "\n    }\n    _inner().unwrap()\n}")
        else:
            text = "fn main() {\n" + inner + "\n}"
    return "\n".join(attrs + [text]) + "\n"


def _file_snippets(path: Path, rel: str, crate: str, crate_values: set[str], tree_and_source) -> list[Snippet]:
    tree, source = tree_and_source
    text = source.decode("utf-8", "replace")
    parts = rel.split("/")
    if parts[0] == "examples":
        ok = _FN_MAIN.search(text) and len(source) <= MAX_PROGRAM_BYTES and _whole_program_ok(text)
        return [Snippet(SOURCE, crate, "bin", text, f"{rel}:1")] if ok else []
    snippets = [Snippet(SOURCE, crate, "bin", code, f"{rel}:{line}") for code, line in _doc_tests(text, crate)]
    if "#![feature" in text or parts[0] in ("benches", "build.rs"):
        return snippets
    captures = _captures(tree.root_node)
    units, use_nodes, mods = _units(tree.root_node, source)
    _attach_refs(units, captures)
    scope = _Scope(units, _read_uses(use_nodes, source))
    for mod in mods:
        snippets += [Snippet(SOURCE, crate, "test", code, f"{rel}:{line}")
                     for code, line in _test_snippets(mod, scope, source, captures, crate_values)]
    if parts[0] != "tests":
        snippets += [Snippet(SOURCE, crate, "lib", code, f"{rel}:{line}")
                     for code, line in _lib_snippets(scope, source, crate_values)]
    return snippets


def crate_snippets(crate_dir: Path, crate: str) -> list[Snippet]:
    """Candidate programs of one crate, in file order (see the module docstring)."""
    parser, _ = _language()
    files = rust_files(CrateDir(SOURCE, crate, crate_dir))
    parsed = {}
    crate_values: set[str] = set()
    for path in files:
        try:
            source = path.read_bytes()
        except OSError:
            continue
        if is_generated(source):
            continue
        tree = parser.parse(source)
        parsed[path] = (tree, source)
        # free functions, consts and statics anywhere in the crate: a file naming one it lacks won't compile alone
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            for child in node.named_children:
                if child.type in ("function_item", "const_item", "static_item", "function_signature_item"):
                    name = child.child_by_field_name("name")
                    if name is not None:
                        crate_values.add(name.text.decode("utf-8", "replace"))
                elif child.type in ("mod_item", "foreign_mod_item") and child.child_by_field_name("body") is not None:
                    stack.append(child.child_by_field_name("body"))
    snippets: list[Snippet] = []
    for path, tree_and_source in parsed.items():
        rel = path.relative_to(crate_dir).as_posix()
        snippets += _file_snippets(path, rel, crate, crate_values, tree_and_source)
    return snippets
