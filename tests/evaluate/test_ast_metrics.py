"""tree-sitter-rust metrics on hand-counted snippets."""

from __future__ import annotations

from nanochat_cli.evaluate.ast_metrics import rust_ast_metrics

SNIPPET = """fn f(x: i32) -> i32 {
    if x > 0 && x < 5 {
        unsafe { 1 }
    } else {
        match x {
            1 => 2,
            _ => x.checked_add(1).unwrap(),
        }
    }
}

fn g(v: Option<i32>) -> i32 {
    for _ in 0..3 {}
    if v.is_none() { panic!("none"); }
    v.expect("checked")
}
"""


def test_counts_on_a_hand_counted_snippet():
    m = rust_ast_metrics(SNIPPET)
    assert m.parse_errors == 0
    assert m.functions == 2
    # f: 1 + if + && + 2 match arms = 5; g: 1 + for + if = 3
    assert m.cyclomatic == 8
    assert m.unsafe_blocks == 1 and m.unwrap_calls == 1 and m.expect_calls == 1 and m.panic_macros == 1
    assert m.max_nesting == 3  # fn body > if block > unsafe block (match body is 3 as well)
    assert m.lines == 15


def test_parse_errors_are_counted():
    assert rust_ast_metrics("fn g( {").error_nodes >= 1
    missing = rust_ast_metrics("fn a() -> i32 {\n    let x = 1\n    x\n}\n")
    assert missing.missing_nodes == 1 and missing.parse_errors == 1


def test_deep_nesting_does_not_recurse():
    depth = 3000
    src = "fn deep() {\n" + "{" * depth + "}" * depth + "\n}\n"
    m = rust_ast_metrics(src)
    assert m.max_nesting >= depth
