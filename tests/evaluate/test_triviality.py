"""Triviality on the syntax tree: a sample is trivial when the item its prompt opens holds no code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nanochat_cli.evaluate.triviality import is_trivial
from nanochat_cli.rust.problems import Problem, load_problem_set

SEED = {p.name: p for p in load_problem_set("seed16")}
ADD = Problem("add", "/// Add two numbers.\nfn add(a: i32, b: i32) -> i32 {\n", "}\n\nfn main() {}\n")


def seed(name: str) -> Problem:
    return SEED[f"seed16_{name}"]


@pytest.mark.parametrize(
    "problem, completion, trivial",
    [
        # the prompt's item is closed at once, then an unrelated function follows (this one compiles)
        (seed("trait_parser"), "}\n\nfn helper() -> i32 {\n    1\n}\n", True),
        (seed("factorial"), "}\n\nfn helper(v: &[u64]) -> u64 {\n    if v.is_empty() { 0 } else { v[0] }\n}\n", True),
        (ADD, "    todo!()\n}\n\nfn helper() -> i32 {\n    let x = 1;\n    x\n}\n", True),
        # placeholder bodies
        (seed("factorial"), "\n    todo!()", True),
        (seed("factorial"), "\n    unimplemented!();\n    // later", True),
        (seed("parse_int"), "\n    panic!(\"not yet: {}\", s)", True),
        (seed("parse_int"), "\n    std::unreachable!()\n}\n", True),
        (seed("factorial"), "\n    /* nothing */\n}", True),
        (seed("factorial"), "\n}", True),
        (seed("factorial"), "", True),
        # real bodies
        (seed("factorial"), "\n    if n == 0 { 1 } else { n * factorial(n - 1) }\n}\n", False),
        (seed("factorial"), "\n    1", False),  # a literal is code (whether it is right is the tests' job)
        (ADD, "    a + b\n}\n", False),
        # nested braces: an inner `}` is not the end of the item
        (seed("factorial"), "\n    let mut r = 1;\n    for i in 1..=n {\n        if i > 1 {\n            r *= i;\n        }\n    }\n    r\n}",
         False),
        (seed("factorial"), "\n    // {\n    todo!() // }\n}", True),
        (seed("find_duplicates"), "}\nfn f() {\n    if true {\n        let v = vec![1];\n    }\n}\n", True),
        # a prompt ending mid-line: the completion continues the prompt's last line
        (seed("sum_squares"), " nums.iter().map(|x| x * x).sum()\n}\n", False),
        (seed("sum_squares"), "}\nfn other() {\n    let x = 1;\n}\n", True),
        (Problem("is_even", "fn is_even(n: u32) -> bool {\n    n % 2 =", "\n}\n"), "= 0", False),
        # impl: only fns with placeholder bodies is still nothing; any real item is something
        (seed("impl_point"), "\n}\n\nfn f() {}", True),
        (seed("impl_point"), "\n    fn new() -> Point {\n        unimplemented!()\n    }", True),
        (seed("impl_tostring_point"), "\n    fn to_string(&self) -> String {\n        format!(\"{}\", self.x)\n    }", False),
        (seed("impl_point"), "\n    const ORIGIN: f64 = 0.0;", False),
        # trait / macro_rules: no items / no rules
        (seed("trait_parser"), "// nothing\n}\n", True),
        (seed("trait_parser"), "    fn parse(&self);\n", False),
        (seed("macro_vec_of_strings"), "\n", True),
        (seed("macro_vec_of_strings"), "\n    () => (Vec::<String>::new());", False),
        # a struct / enum the prompt completes: something is written only if an item names the type
        (seed("struct_point"), "", True),
        (seed("struct_point"), "\n\nimpl Point {\n    fn norm(&self) -> f64 {\n        self.x.hypot(self.y)\n    }", False),
        (seed("struct_point"), "\n\nimpl Point {\n    fn new() -> Point {\n        todo!()\n    }", True),
        (seed("struct_point"), "\n\nfn main() {\n    let a = 1;", True),  # unrelated to Point
        (seed("struct_point"), "\n\nfn origin() -> Point {\n    Point { x: 0.0, y: 0.0 }", False),
        (seed("enum_color"), "\n\nimpl Color {\n    fn is_red(&self) -> bool {\n        match *self { Color::Red => true, _ => false }\n    }",
         False),
        (seed("enum_color"), "\n\nimpl Color {}\n\nfn main() {\n    println!(\"hi\");", True),
        # a struct / enum whose body the prompt leaves open: fields or variants are something
        (Problem("shape", "enum Shape {\n", "}\n", kind="compile"), "    // none yet", True),
        (Problem("shape", "enum Shape {\n", "}\n", kind="compile"), "    Circle(f64),", False),
        # no item in the prompt: fall back to "only whitespace and comments"
        (Problem("expr", "let x =", ";\n"), "  // c", True),
        (Problem("expr", "let x =", ";\n"), " 1", False),
    ],
)
def test_is_trivial(problem, completion, trivial):
    assert is_trivial(problem, completion) is trivial


def test_preamble_items_are_not_the_prompts_item():
    p = seed("impl_point")
    assert "struct Point" in p.preamble
    assert is_trivial(p, "") and not is_trivial(p, p.reference)


def test_no_reference_solution_is_trivial():
    for name in ("seed16", "seed16-extra", "rust-basic"):
        for p in load_problem_set(name):
            assert not is_trivial(p, p.reference), p.name


_PLACEHOLDER_LINES = ["todo!()", "todo!();", "unimplemented!();", "unreachable!(\"x\");", "panic!(\"no\");",
                      "// note", "/* block */", "#[allow(unused)]", ""]


@given(st.lists(st.sampled_from(_PLACEHOLDER_LINES), max_size=6), st.text(alphabet="ab(){}\n; ", max_size=30))
def test_placeholder_bodies_are_trivial_and_one_statement_is_not(lines, after):
    body = "".join(f"\n    {ln}" for ln in lines)
    p = seed("factorial")
    # whatever follows the stop token does not matter
    assert is_trivial(p, body + "\n}" + after)
    assert not is_trivial(p, body + "\n    let _ = n;" + "\n}" + after)
