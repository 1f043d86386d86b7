"""Built-in problem sets as package data: rust_basic.json (tested tasks) and seed16.json (compile-only)."""
