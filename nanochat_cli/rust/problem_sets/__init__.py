"""Built-in problem sets as package data: rust_basic.json (tested tasks), seed16.json and seed16_extra.json (compile-only)."""
