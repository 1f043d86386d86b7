"""Synthetic programs about items rather than algorithms: one-line structs and enums, impls (often placed
before the type they extend), traits, std trait impls, parsing, files, async fns and `macro_rules!`.

Every type, field, variant, method and parameter name is drawn from wide pools, so a model must read the
names in its context instead of recalling one program. `synthetic_rust` imports this module to register
its families; import `synthetic_rust`, not this module, to use them.
"""

from __future__ import annotations

import random
import textwrap

from nanochat_cli.data.synthetic_rust import _WORDS, _Prog, _check, _doc, _family, _lit, _some

_NOUNS = ["Point", "Item", "Node", "Cell", "Tile", "Pixel", "Pair", "Span", "Score", "Wallet", "Sensor", "Task",
          "Order", "Ticket", "Badge", "Parcel", "Token", "Robot", "Planet", "Card", "Coin", "Gem", "Slot", "Frame",
          "Track", "Meter", "Crate", "Vault", "Lamp", "Gear", "Engine", "Player", "Tower", "Garden", "Rocket",
          "Bucket", "Counter", "Ledger", "Batch", "Shelf", "Window", "Panel", "Cursor", "Budget", "Recipe",
          "Station", "Signal", "Module", "Sample", "Reading", "Grade", "Course", "Vehicle", "Island", "Market"]
_ADJ = ["Big", "Small", "Fast", "Raw", "Simple", "Grid", "Game", "Data", "Home", "Sky", "Red", "Blue", "Smart",
        "Tiny", "Main", "Next", "Old", "New", "Deep", "Solar", "Night", "Field", "Road", "Sea", "Stone", "Paper"]
_VARIANTS = ["Red", "Green", "Blue", "North", "South", "East", "West", "Idle", "Running", "Done", "Low", "High",
             "Small", "Large", "Open", "Closed", "Spring", "Summer", "Autumn", "Winter", "Alpha", "Beta", "Gamma",
             "Left", "Right", "Up", "Down", "Start", "Stop", "Paused", "Hearts", "Spades", "Fire", "Water", "Earth",
             "Gold", "Silver", "Bronze", "Empty", "Full", "Ready", "Failed", "Pending", "Active", "Hidden", "Cold",
             "Warm", "Hot", "Easy", "Hard", "Circle", "Square", "Triangle", "Morning", "Evening"]
_FIELDS = ["x", "y", "z", "w", "h", "a", "b", "width", "height", "left", "right", "total", "size", "level",
           "score", "speed", "weight", "price", "qty", "start", "end", "lo", "hi", "value", "amount", "depth", "age",
           "rank", "id", "first", "second", "base", "extra", "cost", "steps", "hits", "misses", "col"]
_INTS = ["i32", "i64", "u32", "u64", "usize"]
_DERIVES = ["", "#[derive(Debug)]\n", "#[derive(Debug, Clone, Copy)]\n", "#[derive(Clone, Copy, PartialEq)]\n",
            "#[derive(Debug, Clone, PartialEq, Eq)]\n", "#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n"]


def _type_names(r: random.Random, k: int) -> list[str]:
    names: list[str] = []
    while len(names) < k:
        name = r.choice(_NOUNS) if r.random() < 0.5 else r.choice(_ADJ) + r.choice(_NOUNS)
        if name not in names:
            names.append(name)
    return names


def _snake(name: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _var(r: random.Random, type_name: str) -> str:
    return r.choice([_snake(type_name), "p", "v", "item", "obj", "thing", _snake(type_name)[:1] + "1"])


def _block(head: str, members: list[str]) -> str:
    """`head {`, the members one level in with a blank line between them, `}`."""
    body = "\n".join(textwrap.indent(textwrap.dedent(m).strip("\n") + "\n", "    ") for m in members)
    return f"{head} {{\n{body}}}\n"


def _method(sig: str, body: str) -> str:
    return sig + " {\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n}"


def _ordered(r: random.Random, type_items: list[str], impls: list[str], rest: list[str] = ()) -> list[str]:
    """Types then impls, or (a good share of the time) impls first: both are valid Rust."""
    items = [*impls, *type_items] if r.random() < 0.45 else [*type_items, *impls]
    return [*items, *rest] if r.random() < 0.7 else [*rest, *items]


def _doc_line(r: random.Random, options: list[str]) -> str:
    return _doc(r, options) if r.random() < 0.6 else ""


# ---- structs and enums written on one line ----

@_family("struct_one_line")
def _struct_one_line(r: random.Random) -> _Prog:
    (S,), T = _type_names(r, 1), r.choice(_INTS)
    fa, fb = r.sample(_FIELDS, 2)
    a, b = r.randrange(1, 60), r.randrange(1, 60)
    derive = r.choice(_DERIVES)
    struct = _doc_line(r, [f"A {_snake(S).replace('_', ' ')} with a `{fa}` and a `{fb}`.", "Two numbers kept together."])
    struct += f"{derive}struct {S} {{ {fa}: {T}, {fb}: {T} }}\n"
    v = _var(r, S)
    new = r.choice(["new", "create", "from_parts", "with"])
    methods = [_method(f"fn {new}({fa}: {T}, {fb}: {T}) -> Self", r.choice([f"Self {{ {fa}, {fb} }}", f"{S} {{ {fa}, {fb} }}"]))]
    checks = [f"let {{mut}}{v} = {S}::{new}({a}, {b});"]
    getter = r.choice([fa, f"get_{fa}"])
    methods.append(_method(f"fn {getter}(&self) -> {T}", f"self.{fa}"))
    checks.append(_check(f"{v}.{getter}()", a))
    total = r.choice(["total", "combined", "add_up", f"{fa}_plus_{fb}"])
    methods.append(_method(f"fn {total}(&self) -> {T}", f"self.{fa} + self.{fb}"))
    checks.append(_check(f"{v}.{total}()", a + b))
    if r.random() < 0.5:
        big = r.choice(["largest", "max_part", "bigger", "top"])
        methods.append(_method(f"fn {big}(&self) -> {T}", r.choice([f"self.{fa}.max(self.{fb})",
                                                                   f"if self.{fa} > self.{fb} {{ self.{fa} }} else {{ self.{fb} }}"])))
        checks.append(_check(f"{v}.{big}()", max(a, b)))
    mutating = r.random() < 0.6
    if mutating:
        scale, k, param = r.choice(["scale", "scale_by", "times", "grow"]), r.randrange(2, 5), r.choice(["k", "factor", "by", "n"])
        methods.append(_method(f"fn {scale}(&mut self, {param}: {T})", f"self.{fa} *= {param};\nself.{fb} *= {param};"))
        checks += [f"{v}.{scale}({k});", _check(f"{v}.{total}()", (a + b) * k)]
        a, b = a * k, b * k
    if r.random() < 0.5:
        into = r.choice(["into_tuple", "parts", "unpack", "to_pair"])
        methods.append(_method(f"fn {into}(self) -> ({T}, {T})", f"(self.{fa}, self.{fb})"))
        checks.append(_check(f"{v}.{into}()", (a, b)))
    first, rest = methods[0], methods[1:]
    r.shuffle(rest)
    checks[0] = checks[0].replace("{mut}", "mut " if mutating else "")
    return _Prog(_ordered(r, [struct], [_block(f"impl {S}", [first, *rest])]), checks, params=f"{T} {len(methods)} methods")


@_family("tuple_struct")
def _tuple_struct(r: random.Random) -> _Prog:
    (S,), T = _type_names(r, 1), r.choice(_INTS)
    v, x = _var(r, S), r.randrange(1, 90)
    derive = r.choice(_DERIVES)
    if r.random() < 0.5:
        struct = f"{derive}struct {S}({T});\n"
        get, dbl, add = r.choice(["value", "get", "inner", "raw"]), r.choice(["doubled", "twice", "double"]), r.choice(["add_to", "bump", "increase"])
        n = r.choice(["n", "amount", "delta", "by"])
        methods = [_method(f"fn {get}(&self) -> {T}", "self.0"), _method(f"fn {dbl}(&self) -> Self", f"{S}(self.0 * 2)"),
                   _method(f"fn {add}(&mut self, {n}: {T})", f"self.0 += {n};")]
        k = r.randrange(1, 20)
        checks = [f"let mut {v} = {S}({x});", _check(f"{v}.{get}()", x), _check(f"{v}.{dbl}().{get}()", 2 * x),
                  f"{v}.{add}({k});", _check(f"{v}.{get}()", x + k), _check(f"{v}.0", x + k)]
        return _Prog(_ordered(r, [struct], [_block(f"impl {S}", methods)]), checks, params="newtype")
    y = r.randrange(1, 90)
    struct = f"{derive}struct {S}({T}, {T});\n"
    new, total, flip = r.choice(["new", "make", "pair"]), r.choice(["sum_parts", "total", "combined"]), r.choice(["swapped", "flipped", "reversed"])
    pa, pb = r.sample(["a", "b", "first", "second", "left", "right", "x", "y"], 2)
    methods = [_method(f"fn {new}({pa}: {T}, {pb}: {T}) -> Self", f"{S}({pa}, {pb})"), _method(f"fn {total}(&self) -> {T}", "self.0 + self.1"),
               _method(f"fn {flip}(self) -> Self", f"{S}(self.1, self.0)")]
    checks = [f"let {v} = {S}::{new}({x}, {y});", _check(f"{v}.{total}()", x + y), f"let {v} = {v}.{flip}();",
              _check(f"{v}.0", y), _check(f"{v}.1", x)]
    return _Prog(_ordered(r, [struct], [_block(f"impl {S}", methods)]), checks, params="pair")


@_family("enum_one_line")
def _enum_one_line(r: random.Random) -> _Prog:
    (E,) = _type_names(r, 1)
    vs = r.sample(_VARIANTS, r.randrange(3, 6))
    derive = r.choice(["", "#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n", "#[derive(Debug, PartialEq)]\n",
                       "#[derive(Clone, Copy, Debug, PartialEq)]\n"])
    enum = _doc_line(r, [f"One of {len(vs)} kinds of {_snake(E).replace('_', ' ')}.", "A small set of named cases."])
    enum += f"{derive}enum {E} {{ {', '.join(vs)} }}\n"
    codes = r.sample(range(1, 100), len(vs))
    words = [w.lower() for w in vs]
    name_fn, code_fn = r.choice(["name", "label", "as_str", "describe"]), r.choice(["code", "number", "id", "weight"])
    T = r.choice(["u8", "u32", "i32", "usize"])
    arms_name = "\n".join(f'{E}::{v} => "{w}",' for v, w in zip(vs, words))
    arms_code = "\n".join(f"{E}::{v} => {c}," for v, c in zip(vs, codes))
    free = r.random() < 0.4
    p = r.choice(["k", "kind", "x", "value", _snake(E)])
    if free:
        fns = [_method(f"fn {name_fn}({p}: &{E}) -> &'static str", f"match {p} {{\n{textwrap.indent(arms_name, '    ')}\n}}"),
               _method(f"fn {code_fn}({p}: &{E}) -> {T}", f"match {p} {{\n{textwrap.indent(arms_code, '    ')}\n}}")]
        items = [enum, *(f + "\n" for f in fns)] if r.random() < 0.6 else [*(f + "\n" for f in fns), enum]
        checks = [_check(f"{name_fn}(&{E}::{v})", w) for v, w in zip(vs, words)][:3]
        checks += [_check(f"{code_fn}(&{E}::{v})", c) for v, c in zip(vs, codes)][:2]
        return _Prog(items, checks, params="free fns")
    methods = [_method(f"fn {name_fn}(&self) -> &'static str", f"match self {{\n{textwrap.indent(arms_name, '    ')}\n}}"),
               _method(f"fn {code_fn}(&self) -> {T}", f"match self {{\n{textwrap.indent(arms_code, '    ')}\n}}")]
    checks = [_check(f"{E}::{v}.{name_fn}()", w) for v, w in zip(vs, words)][:3]
    checks += [_check(f"{E}::{v}.{code_fn}()", c) for v, c in zip(vs, codes)][:2]
    if "PartialEq" in derive and "Copy" in derive:
        nxt = r.choice(["next", "following", "cycle"])
        arms = "\n".join(f"{E}::{v} => {E}::{vs[(i + 1) % len(vs)]}," for i, v in enumerate(vs))
        methods.append(_method(f"fn {nxt}(self) -> Self", f"match self {{\n{textwrap.indent(arms, '    ')}\n}}"))
        i = r.randrange(len(vs))
        checks.append(f"assert_eq!({E}::{vs[i]}.{nxt}(), {E}::{vs[(i + 1) % len(vs)]});")
    is_fn = f"is_{words[0]}"
    methods.append(_method(f"fn {is_fn}(&self) -> bool", r.choice([f"matches!(self, {E}::{vs[0]})",
                                                                  f"match self {{\n    {E}::{vs[0]} => true,\n    _ => false,\n}}"])))
    checks += [_check(f"{E}::{vs[0]}.{is_fn}()", True), _check(f"{E}::{vs[1]}.{is_fn}()", False)]
    return _Prog(_ordered(r, [enum], [_block(f"impl {E}", methods)]), checks, params=f"{len(vs)} variants {derive.strip()}")


@_family("enum_data")
def _enum_data(r: random.Random) -> _Prog:
    (E,) = _type_names(r, 1)
    T = r.choice(["i32", "i64"])
    a, b, c = r.sample(_VARIANTS, 3)
    fa, fb = r.sample(_FIELDS, 2)
    derive = r.choice(["", "#[derive(Debug)]\n", "#[derive(Debug, Clone, PartialEq)]\n"])
    enum = f"{derive}enum {E} {{ {a}({T}), {b} {{ {fa}: {T}, {fb}: {T} }}, {c} }}\n"
    fn = r.choice(["value", "score", "measure", "amount", "weight"])
    kv = r.randrange(-9, 10)
    body = f"match self {{\n    {E}::{a}(n) => *n,\n    {E}::{b} {{ {fa}, {fb} }} => {fa} * {fb},\n    {E}::{c} => {kv},\n}}"
    cases = [(f"{E}::{a}({x})", x) for x in [r.randrange(-50, 50)]]
    x, y = r.randrange(-9, 10), r.randrange(1, 10)
    cases += [(f"{E}::{b} {{ {fa}: {x}, {fb}: {y} }}", x * y), (f"{E}::{c}", kv)]
    as_method = r.random() < 0.5
    if as_method:
        impl = _block(f"impl {E}", [_method(f"fn {fn}(&self) -> {T}", body)])
        checks = [_check(f"{e}.{fn}()", val) for e, val in cases]
        items = _ordered(r, [enum], [impl])
    else:
        p = r.choice(["e", "item", "x", _snake(E)])
        f = _method(f"fn {fn}({p}: &{E}) -> {T}", body.replace("match self", f"match {p}")) + "\n"
        checks = [_check(f"{fn}(&{e})", val) for e, val in cases]
        items = [enum, f] if r.random() < 0.6 else [f, enum]
    total = r.choice(["total", "sum_all", "combined"])
    if r.random() < 0.5:
        xs = r.choice(["items", "list", "all", "parts"])
        call = f"x.{fn}()" if as_method else f"{fn}(x)"
        items.append(_method(f"fn {total}({xs}: &[{E}]) -> {T}", f"{xs}.iter().map(|x| {call}).sum()") + "\n")
        checks.append(_check(f"{total}(&[{', '.join(e for e, _ in cases)}])", sum(val for _, val in cases)))
    return _Prog(items, checks, params=f"{T}")


# ---- traits ----

@_family("trait_generic")
def _trait_generic(r: random.Random) -> _Prog:
    Tr = r.choice(["Shape", "Measure", "Priced", "Scored", "Weighted", "Sized", "Valued", "Ranked", "Costly"])
    types = _type_names(r, r.randrange(2, 4))
    req, dflt = r.choice(["amount", "size", "value", "price", "score", "weight"]), r.choice(["doubled", "twice", "bonus", "scaled"])
    trait = _doc_line(r, ["Something that has a number attached.", f"Types that can report a `{req}`."])
    trait += _block(f"trait {Tr}", [f"fn {req}(&self) -> u64;", _method(f"fn {dflt}(&self) -> u64", f"self.{req}() * 2")])
    structs, impls, vals = [], [], []
    for S in types:
        kind = r.random()
        fa, fb = r.sample(_FIELDS, 2)
        x, y = r.randrange(1, 30), r.randrange(1, 30)
        if kind < 0.4:
            structs.append(f"struct {S} {{ {fa}: u64, {fb}: u64 }}\n")
            body, ctor, val = f"self.{fa} * self.{fb}", f"{S} {{ {fa}: {x}, {fb}: {y} }}", x * y
        elif kind < 0.7:
            structs.append(f"struct {S}(u64);\n")
            body, ctor, val = "self.0 + 1", f"{S}({x})", x + 1
        else:
            structs.append(f"struct {S} {{ {fa}: u64 }}\n")
            body, ctor, val = f"self.{fa}", f"{S} {{ {fa}: {x} }}", x
        members = [_method(f"fn {req}(&self) -> u64", body)]
        own = r.random() < 0.3
        if own:
            members.append(_method(f"fn {dflt}(&self) -> u64", f"self.{req}() + 100"))
        impls.append(_block(f"impl {Tr} for {S}", members))
        vals.append((S, ctor, val, val + 100 if own else val * 2))
    total = r.choice(["total", "sum_of", "combined", "add_all"])
    xs = r.choice(["items", "list", "shapes", "things", "xs"])
    sig = r.choice([f"fn {total}<T: {Tr}>({xs}: &[T]) -> u64", f"fn {total}<T>({xs}: &[T]) -> u64\nwhere\n    T: {Tr},"])
    generic = _method(sig, f"{xs}.iter().map(|x| x.{req}()).sum()").replace(",\n {", ",\n{") + "\n"
    show = r.choice(["describe", "report", "show"])
    one = _method(r.choice([f"fn {show}(x: &impl {Tr}) -> String", f"fn {show}(x: &dyn {Tr}) -> String"]),
                  f'format!("{req}={{}}", x.{req}())') + "\n"
    checks = []
    for S, ctor, val, dv in vals:
        checks += [_check(f"{ctor}.{req}()", val), _check(f"{ctor}.{dflt}()", dv)]
    S, ctor, val, _ = vals[0]
    c2 = f"{S}" + ctor[len(S):]
    checks += [_check(f"{total}(&[{ctor}, {c2}])", 2 * val), _check(f"{show}(&{ctor})", f"{req}={val}")]
    return _Prog(_ordered(r, [trait, *structs], impls, [generic, one]), checks, params=f"{len(types)} types")


def _display_fmt(r: random.Random, fa: str, fb: str) -> tuple[str, str]:
    """A Display format with two `{}` holes and its Python twin."""
    return r.choice([("({}, {})", "({}, {})"), ("{}x{}", "{}x{}"), ("<{}:{}>", "<{}:{}>"),
                     (f"{fa}={{}} {fb}={{}}", f"{fa}={{}} {fb}={{}}"), ("{} / {}", "{} / {}")])


@_family("display_random")
def _display_random(r: random.Random) -> _Prog:
    (S,) = _type_names(r, 1)
    fa, fb = r.sample(_FIELDS, 2)
    T = r.choice(_INTS)
    rust_fmt, py_fmt = _display_fmt(r, fa, fb)
    style = r.choice(["use", "path"])
    if style == "use":
        head, fmt_t, uses = "impl fmt::Display for", r.choice(["fmt::Formatter", "fmt::Formatter<'_>"]), ["std::fmt"]
        res = "fmt::Result"
    else:
        head, fmt_t, uses, res = "impl std::fmt::Display for", r.choice(["std::fmt::Formatter", "std::fmt::Formatter<'_>"]), [], "std::fmt::Result"
    impl = _block(f"{head} {S}", [_method(f"fn fmt(&self, f: &mut {fmt_t}) -> {res}", f'write!(f, "{rust_fmt}", self.{fa}, self.{fb})')])
    struct = r.choice(_DERIVES) + f"struct {S} {{ {fa}: {T}, {fb}: {T} }}\n"
    checks = []
    for _ in range(2):
        x, y = r.randrange(0, 500), r.randrange(0, 500)
        ctor = f"{S} {{ {fa}: {x}, {fb}: {y} }}"
        checks.append(_check(f"{ctor}.to_string()", py_fmt.format(x, y)))
    v = _var(r, S)
    checks += [f"let {v} = {S} {{ {fa}: 7, {fb}: 3 }};", _check(f'format!("[{{}}]", {v})', "[" + py_fmt.format(7, 3) + "]")]
    return _Prog(_ordered(r, [struct], [impl]), checks, uses=uses, params=style)


@_family("to_string_impl")
def _to_string_impl(r: random.Random) -> _Prog:
    (S,) = _type_names(r, 1)
    fa, fb = r.sample(_FIELDS, 2)
    rust_fmt, py_fmt = _display_fmt(r, fa, fb)
    struct = f"struct {S} {{ {fa}: u32, {fb}: u32 }}\n"
    body = r.choice([f'format!("{rust_fmt}", self.{fa}, self.{fb})'])
    impl = _block(f"impl ToString for {S}", [_method("fn to_string(&self) -> String", body)])
    checks = []
    for _ in range(3):
        x, y = r.randrange(0, 300), r.randrange(0, 300)
        checks.append(_check(f"{S} {{ {fa}: {x}, {fb}: {y} }}.to_string()", py_fmt.format(x, y)))
    return _Prog(_ordered(r, [struct], [impl]), checks, params=rust_fmt)


@_family("default_from")
def _default_from(r: random.Random) -> _Prog:
    (S,) = _type_names(r, 1)
    fa, fb = r.sample(_FIELDS, 2)
    T = r.choice(["u32", "i64", "u64", "i32"])
    d = r.randrange(1, 20)
    struct = f"#[derive(Debug, PartialEq{r.choice(['', ', Clone'])})]\nstruct {S} {{ {fa}: {T}, {fb}: {T} }}\n"
    impls = [_block(f"impl Default for {S}", [_method("fn default() -> Self", f"{S} {{ {fa}: {d}, {fb}: 0 }}")])]
    src = r.choice(["u8", "u16", T]) if T != "i32" else r.choice(["u8", "i8", "i16"])
    p = r.choice(["n", "value", "x", "raw"])
    conv = p if src == T else f"{T}::from({p})"
    impls.append(_block(f"impl From<{src}> for {S}", [_method(f"fn from({p}: {src}) -> Self", f"{S} {{ {fa}: {conv}, {fb}: {conv} }}")]))
    x = r.randrange(0, 100)
    v = _var(r, S)
    checks = [f"assert_eq!({S}::default(), {S} {{ {fa}: {d}, {fb}: 0 }});", f"let {v}: {S} = {x}{src}.into();",
              _check(f"{v}.{fa}", x), f"assert_eq!({S}::from({x}{src}), {v});",
              f"let d: {S} = Default::default();", _check(f"d.{fa} + d.{fb}", d)]
    return _Prog(_ordered(r, [struct], impls), checks, params=src)


@_family("eq_add_ops")
def _eq_add_ops(r: random.Random) -> _Prog:
    (S,) = _type_names(r, 1)
    fa, fb = r.sample(_FIELDS, 2)
    T = r.choice(_INTS)
    struct = f"#[derive(Debug, Clone, Copy)]\nstruct {S} {{ {fa}: {T}, {fb}: {T} }}\n"
    use_add = r.random() < 0.5
    add_head = f"impl Add for {S}" if use_add else f"impl std::ops::Add for {S}"
    rhs = r.choice(["other", "rhs", "o"])
    impls = [_block(add_head, ["type Output = Self;", _method(f"fn add(self, {rhs}: Self) -> Self",
                                                               f"{S} {{\n    {fa}: self.{fa} + {rhs}.{fa},\n    {fb}: self.{fb} + {rhs}.{fb},\n}}")])]
    # equality by the sum only, so two different values compare equal: a reason to write it by hand
    impls.append(_block(f"impl PartialEq for {S}", [_method(f"fn eq(&self, {rhs}: &Self) -> bool",
                                                              f"self.{fa} + self.{fb} == {rhs}.{fa} + {rhs}.{fb}")]))
    x1, y1, x2, y2 = (r.randrange(0, 40) for _ in range(4))
    a, b = r.sample(["a", "b", "p", "q", "lhs", "first", "second", "m", "n"], 2)
    checks = [f"let {a} = {S} {{ {fa}: {x1}, {fb}: {y1} }};", f"let {b} = {S} {{ {fa}: {x2}, {fb}: {y2} }};",
              f"let c = {a} + {b};", _check("c." + fa, x1 + x2), _check("c." + fb, y1 + y2),
              f"assert_eq!({a}, {S} {{ {fa}: {y1}, {fb}: {x1} }});"]
    if x1 + y1 != x2 + y2:
        checks.append(f"assert_ne!({a}, {b});")
    return _Prog(_ordered(r, [struct], impls), checks, uses=["std::ops::Add"] if use_add else [], params=T)


@_family("iterator_impl")
def _iterator_impl(r: random.Random) -> _Prog:
    (S,) = _type_names(r, 1)
    T = r.choice(["u32", "u64", "i32", "i64", "usize"])
    cur, end = r.choice([("current", "end"), ("next_value", "limit"), ("at", "stop"), ("pos", "max")])
    step = r.randrange(1, 4)
    start, stop = r.randrange(0, 10), r.randrange(10, 30)
    struct = f"struct {S} {{ {cur}: {T}, {end}: {T} }}\n"
    new = r.choice(["new", "up_to", "between", "range"])
    impls = [_block(f"impl {S}", [_method(f"fn {new}(from: {T}, to: {T}) -> Self", f"{S} {{ {cur}: from, {end}: to }}")])]
    body = r.choice([f"if self.{cur} >= self.{end} {{\n    return None;\n}}\nlet v = self.{cur};\nself.{cur} += {step};\nSome(v)",
                     f"if self.{cur} < self.{end} {{\n    let v = self.{cur};\n    self.{cur} += {step};\n    Some(v)\n}} else {{\n    None\n}}"])
    impls.append(_block(f"impl Iterator for {S}", [f"type Item = {T};", _method(f"fn next(&mut self) -> Option<{T}>", body)]))
    seq = list(range(start, stop, step))
    it = f"{S}::{new}({start}, {stop})"
    checks = [_check(f"{it}.collect::<Vec<_>>()", seq), _check(f"{it}.sum::<{T}>()", sum(seq)), _check(f"{it}.count()", len(seq)),
              _check(f"{it}.next()", _some(seq[0])) if r.random() < 0.5 else f"assert_eq!({it}.last(), Some({seq[-1]}));"]
    if r.random() < 0.5:
        checks.append(_check(f"{S}::{new}(5, 5).next()", None))
    return _Prog(_ordered(r, [struct], impls), checks, params=f"{T} step {step}")


# ---- parsing and errors ----

@_family("parse_fns")
def _parse_fns(r: random.Random) -> _Prog:
    T = r.choice(["i32", "i64", "u32", "u64", "usize"])
    s = r.choice(["s", "text", "input", "raw", "line", "field", "src"])
    task = r.choice(["ok", "map_err", "question"])
    def good() -> int:
        return r.randrange(0, 1000)
    bad = r.choice(["abc", "12x", "", " ", "4.5", "--3", "one"])
    if task == "ok":
        fn = r.choice(["parse_number", "to_int", "read_value", "parse_or_none", "as_number"])
        f = _method(f"fn {fn}({s}: &str) -> Option<{T}>", r.choice([f"{s}.trim().parse::<{T}>().ok()", f"{s}.trim().parse().ok()"]))
        n = good()
        checks = [_check(f"{fn}({_lit(f'  {n} ')})", _some(n)), _check(f"{fn}({_lit(bad)})", None)]
    elif task == "map_err":
        fn = r.choice(["parse_field", "parse_checked", "read_number", "try_parse"])
        f = _method(f"fn {fn}({s}: &str) -> Result<{T}, String>", f"{s}.trim().parse::<{T}>().map_err(|e| e.to_string())")
        n = good()
        checks = [f"assert_eq!({fn}({_lit(str(n))}), Ok({n}));", _check(f"{fn}({_lit(bad)}).is_err()", True),
                  f'assert_eq!({fn}(""), Err("cannot parse integer from empty string".to_string()));']
    else:
        fn = r.choice(["sum_two", "add_strings", "parse_and_add", "combine"])
        a, b = r.sample(["a", "b", "x", "y", "left", "right", "first", "second"], 2)
        body = f"let {a}: {T} = {a}.trim().parse()?;\nlet {b}: {T} = {b}.trim().parse()?;\nOk({a} + {b})"
        f = _method(f"fn {fn}({a}: &str, {b}: &str) -> Result<{T}, ParseIntError>", body)
        n, m = good(), good()
        checks = [f"assert_eq!({fn}({_lit(str(n))}, {_lit(str(m))}), Ok({n + m}));", _check(f"{fn}({_lit(str(n))}, {_lit(bad)}).is_err()", True)]
        doc = _doc(r, [f"Parses `{a}` and `{b}` as numbers and adds them; the first parse error is returned."])
        return _Prog([doc + f + "\n"], checks, uses=["std::num::ParseIntError"], params=task)
    doc = _doc(r, [f"Parses `{s}` (surrounding whitespace allowed) as a number.", f"Reads a number from `{s}`."])
    return _Prog([doc + f + "\n"], checks, params=f"{task} {T}")


@_family("custom_error")
def _custom_error(r: random.Random) -> _Prog:
    E = r.choice(["ParseError", "InputError", "FieldError", "ReadError", "BadValue"]) if r.random() < 0.5 else _type_names(r, 1)[0] + "Error"
    empty, nan, big = r.choice(["Empty", "Blank", "Missing"]), r.choice(["NotANumber", "Invalid", "BadDigit"]), r.choice(["TooLarge", "OutOfRange", "Overflow"])
    limit = r.choice([10, 100, 255, 1000])
    enum = f"#[derive(Debug, PartialEq{r.choice(['', ', Eq', ', Clone'])})]\nenum {E} {{ {empty}, {nan}, {big}({r.choice(['u32', 'u64'])}) }}\n"
    U = enum.split(f"{big}(")[1][:3]
    fn, s = r.choice(["parse_level", "read_limit", "parse_small", "checked_value"]), r.choice(["s", "text", "input", "raw"])
    body = (f"let {s} = {s}.trim();\nif {s}.is_empty() {{\n    return Err({E}::{empty});\n}}\n"
            f"let n: {U} = {s}.parse().map_err(|_| {E}::{nan})?;\n"
            f"if n > {limit} {{\n    return Err({E}::{big}(n));\n}}\nOk(n)")
    doc = _doc(r, [f"Parses `{s}` as a number no larger than {limit}.", f"Reads a value up to {limit} from `{s}`, saying what was wrong otherwise."])
    f = doc + _method(f"fn {fn}({s}: &str) -> Result<{U}, {E}>", body) + "\n"
    ok = r.randrange(0, limit + 1)
    checks = [f"assert_eq!({fn}({_lit(f' {ok}')}), Ok({ok}));", f'assert_eq!({fn}("  "), Err({E}::{empty}));',
              f"assert_eq!({fn}({_lit(r.choice(['x1', 'abc', '-4', '1.5']))}), Err({E}::{nan}));",
              f"assert_eq!({fn}({_lit(str(limit + 5))}), Err({E}::{big}({limit + 5})));"]
    items = [enum, f] if r.random() < 0.6 else [f, enum]
    return _Prog(items, checks, params=f"{U} {limit}")


# ---- files, async fns and macros ----

@_family("file_io")
def _file_io(r: random.Random) -> _Prog:
    # the verifier runs programs in a private writable temp dir, so main may write into the current directory
    path = f"{r.choice(_WORDS)}_{r.randrange(100, 999)}.{r.choice(['txt', 'log', 'csv', 'dat'])}"
    lines = r.sample(_WORDS, r.randrange(1, 5))
    task = r.choice(["write_read", "lines", "missing"])
    p = r.choice(["path", "file", "name", "file_name", "location"])
    qualified = r.random() < 0.5
    fs = "std::fs" if qualified else "fs"
    uses = [] if qualified else ["std::fs"]
    if task == "write_read":
        save, load = r.choice(["save", "store", "write_text", "dump"]), r.choice(["load", "read_back", "read_text", "fetch"])
        c = r.choice(["contents", "text", "data", "body"])
        items = [_method(f"fn {save}({p}: &str, {c}: &str) -> std::io::Result<()>", f"{fs}::write({p}, {c})") + "\n",
                 _method(f"fn {load}({p}: &str) -> std::io::Result<String>", f"{fs}::read_to_string({p})") + "\n"]
        text = "\n".join(lines) + "\n"
        checks = [f"{save}({_lit(path)}, {_lit(text)}).unwrap();", _check(f"{load}({_lit(path)}).unwrap()", text),
                  f"{fs}::remove_file({_lit(path)}).unwrap();", _check(f"{load}({_lit(path)}).is_err()", True)]
    elif task == "lines":
        fn = r.choice(["count_lines", "line_count", "lines_in"])
        body = (f"let file = {'std::fs::' if qualified else ''}File::open({p})?;\n"
                f"let reader = {'std::io::' if qualified else ''}BufReader::new(file);\nOk(reader.lines().count())")
        items = [_method(f"fn {fn}({p}: &str) -> std::io::Result<usize>", body) + "\n"]
        uses = ["std::io::BufRead"] + ([] if qualified else ["std::fs::File", "std::io::BufReader"])
        w = r.choice(["out", "f", "file"])
        checks = [f"let mut {w} = std::fs::File::create({_lit(path)}).unwrap();"]
        checks += [f"writeln!({w}, {_lit(line)}).unwrap();" for line in lines]
        checks += [f"drop({w});", _check(f"{fn}({_lit(path)}).unwrap()", len(lines)), f"std::fs::remove_file({_lit(path)}).unwrap();"]
        uses.append("std::io::Write")
    else:
        fn = r.choice(["read_config", "load_settings", "read_or_empty", "file_text"])
        body = r.choice([f"{fs}::read_to_string({p}).unwrap_or_default()",
                         f"match {fs}::read_to_string({p}) {{\n    Ok(text) => text,\n    Err(_) => String::new(),\n}}"])
        items = [_method(f"fn {fn}({p}: &str) -> String", body) + "\n"]
        checks = [_check(f"{fn}({_lit('no_such_' + path)})", ""), _check(f"{fs}::read_to_string({_lit('missing_' + path)}).is_err()", True)]
    doc = _doc(r, [f"File helpers working on the path `{p}`.", "Small wrappers around the standard library's file functions."])
    items[0] = doc + items[0]
    return _Prog(items, checks, uses=uses, params=task)


@_family("async_items")
def _async_items(r: random.Random) -> _Prog:
    host = r.choice(["example.com", "localhost", "api.test", "data.local", "my.site"])
    u = r.choice(["url", "path", "endpoint", "address", "route"])
    fetch = r.choice(["fetch", "fetch_page", "download", "get_body", "request", "load_remote"])
    asyncs = [_doc_line(r, [f"Pretends to fetch `{u}`; a real client would go here.", "Fetches a resource asynchronously."])
              + _method(f"async fn {fetch}({u}: &str) -> Result<String, String>", r.choice([f"Ok({u}.to_string())", f'Ok(format!("body of {{}}", {u}))']))]
    if r.random() < 0.5:
        both = r.choice(["fetch_both", "fetch_pair", "load_two"])
        asyncs.append(_method(f"async fn {both}(a: &str, b: &str) -> Result<String, String>",
                              f"let x = {fetch}(a).await?;\nlet y = {fetch}(b).await?;\nOk(x + &y)"))
    build = r.choice(["build_url", "make_url", "join_url", "endpoint_for"])
    seg = r.choice(["segment", "page", "name", "part"])
    sync = _method(f"fn {build}(host: &str, {seg}: &str) -> String", r.choice([f'format!("https://{{}}/{{}}", host, {seg})', f'format!("https://{{host}}/{{{seg}}}")']))
    checks = []
    for _ in range(2):
        w = r.choice(_WORDS)
        checks.append(_check(f"{build}({_lit(host)}, {_lit(w)})", f"https://{host}/{w}"))
    items = [*(a + "\n" for a in asyncs), sync + "\n"]
    r.shuffle(items)
    return _Prog(items, checks, params=f"{len(asyncs)} async")


@_family("macro_rules")
def _macro_rules(r: random.Random) -> _Prog:
    task = r.choice(["strings", "max", "min", "square", "map", "sum"])
    x = r.choice(["x", "e", "item", "v", "val"])
    if task == "strings":
        name = r.choice(["strings", "string_vec", "owned", "svec", "words"])
        body = f"macro_rules! {name} {{\n    ($$($${x}:expr),* $$(,)?) => {{\n        vec![$$($${x}.to_string()),*]\n    }};\n}}\n"
        ws = r.sample(_WORDS, r.randrange(1, 4))
        checks = [f"let v: Vec<String> = {name}![{', '.join(map(_lit, ws))}];", _check("v", ws), _check(f"{name}![{_lit(ws[0])}].len()", 1)]
    elif task in ("max", "min"):
        name = r.choice([f"{task}_of", f"{task}_all", f"pick_{task}", f"my_{task}"])
        op = ">" if task == "max" else "<"
        body = (f"macro_rules! {name} {{\n    ($$x:expr) => {{\n        $$x\n    }};\n    ($$x:expr, $$($$rest:expr),+) => {{{{\n"
                f"        let a = $$x;\n        let b = {name}!($$($$rest),+);\n        if a {op} b {{\n            a\n        }} else {{\n            b\n        }}\n    }}}};\n}}\n")
        xs = [r.randrange(-50, 50) for _ in range(r.randrange(2, 6))]
        checks = [_check(f"{name}!({', '.join(map(str, xs))})", max(xs) if task == "max" else min(xs)), _check(f"{name}!({xs[0]})", xs[0])]
    elif task == "square":
        name = r.choice(["square", "sq", "squared", "pow2"])
        body = f"macro_rules! {name} {{\n    ($$x:expr) => {{\n        $$x * $$x\n    }};\n}}\n"
        a, b = r.randrange(-20, 20), r.randrange(1, 9)
        checks = [_check(f"{name}!({a})", a * a), _check(f"{name}!({b} + 1)", (b + 1) * (b + 1))]
    elif task == "sum":
        name = r.choice(["sum_all", "add", "total", "plus"])
        body = f"macro_rules! {name} {{\n    ($$($${x}:expr),*) => {{\n        0 $$(+ $${x})*\n    }};\n}}\n"
        xs = [r.randrange(0, 100) for _ in range(r.randrange(1, 6))]
        checks = [_check(f"{name}!({', '.join(map(str, xs))})", sum(xs)), _check(f"{name}!()", 0)]
    else:
        name = r.choice(["hashmap", "map_of", "dict", "table"])
        body = (f"macro_rules! {name} {{\n    ($$($$k:expr => $$v:expr),* $$(,)?) => {{{{\n        let mut m = HashMap::new();\n"
                f"        $$(m.insert($$k, $$v);)*\n        m\n    }}}};\n}}\n")
        ks = r.sample(_WORDS, r.randrange(1, 4))
        vs = [r.randrange(0, 50) for _ in ks]
        pairs = ", ".join(f"{_lit(k)} => {v}" for k, v in zip(ks, vs))
        checks = [f"let m = {name}!({pairs});",
                  _check("m.len()", len(ks)), _check(f"m[{_lit(ks[0])}]", vs[0]), _check(f'm.get("zzz")', None)]
        return _Prog([body.replace("$$", "$")], checks, uses=["std::collections::HashMap"], params=task)
    return _Prog([body.replace("$$", "$")], checks, params=task)


# ---- Option and Result methods ----

@_family("option_methods")
def _option_methods(r: random.Random) -> _Prog:
    (S,) = _type_names(r, 1)
    T = r.choice(["u32", "u64", "i32", "i64"])
    keys_f, vals_f = r.choice([("names", "values"), ("keys", "amounts"), ("labels", "counts"), ("ids", "scores")])
    get, both = r.choice(["get", "lookup", "find_value", "value_of"]), r.choice(["sum_of", "both", "add_pair", "combined"])
    k = r.choice(["key", "name", "label", "id"])
    methods = [_method(f"fn new() -> Self", f"{S} {{\n    {keys_f}: Vec::new(),\n    {vals_f}: Vec::new(),\n}}"),
               _method(f"fn insert(&mut self, {k}: &str, value: {T})", f"self.{keys_f}.push({k}.to_string());\nself.{vals_f}.push(value);"),
               _method(f"fn {get}(&self, {k}: &str) -> Option<{T}>",
                       r.choice([f"let i = self.{keys_f}.iter().position(|x| x == {k})?;\nSome(self.{vals_f}[i])",
                                 f"self.{keys_f}.iter().position(|x| x == {k}).map(|i| self.{vals_f}[i])"])),
               _method(f"fn {both}(&self, a: &str, b: &str) -> Option<{T}>", f"Some(self.{get}(a)? + self.{get}(b)?)")]
    take = r.choice(["take", "withdraw", "remove_amount", "spend"])
    methods.append(_method(f"fn {take}(&mut self, {k}: &str, n: {T}) -> Result<{T}, String>",
                           f"let i = self\n    .{keys_f}\n    .iter()\n    .position(|x| x == {k})\n    .ok_or(format!(\"no {{}}\", {k}))?;\n"
                           f"if self.{vals_f}[i] < n {{\n    return Err(\"not enough\".to_string());\n}}\nself.{vals_f}[i] -= n;\nOk(self.{vals_f}[i])"))
    struct = f"struct {S} {{ {keys_f}: Vec<String>, {vals_f}: Vec<{T}> }}\n"
    ks = r.sample(_WORDS, 3)
    vs = [r.randrange(5, 60) for _ in ks]
    v = _var(r, S)
    checks = [f"let mut {v} = {S}::new();", *(f"{v}.insert({_lit(a)}, {b});" for a, b in zip(ks, vs)),
              _check(f"{v}.{get}({_lit(ks[1])})", _some(vs[1])), _check(f'{v}.{get}("nothing")', None),
              _check(f"{v}.{both}({_lit(ks[0])}, {_lit(ks[2])})", _some(vs[0] + vs[2])), _check(f'{v}.{both}({_lit(ks[0])}, "nothing")', None),
              f"assert_eq!({v}.{take}({_lit(ks[0])}, 5), Ok({vs[0] - 5}));",
              f"assert_eq!({v}.{take}({_lit(ks[0])}, 1000), Err(\"not enough\".to_string()));",
              f"assert_eq!({v}.{take}(\"nothing\", 1), Err(\"no nothing\".to_string()));"]
    return _Prog(_ordered(r, [struct], [_block(f"impl {S}", methods)]), checks, params=T)
