"""Rust tooling shared by data, evaluate and rl: the evaluation problem sets, the rustc sandbox, tree-sitter parsing.

It sits below all three, so the data pipeline can decontaminate against the problems and verify snippets in the
sandbox without importing the evaluator (which sits on the inference engine).
- problems.py: `Problem`, `load_problem_set`, `assemble_program`, `eval_prompts_for_decontamination`
- sandbox.py: `RustSandbox`, `SandboxLimits`, `SandboxResult`
- syntax.py: the tree-sitter Rust parser, built once per process
"""
