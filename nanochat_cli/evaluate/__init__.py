"""Rust code-generation evaluation: problems, rustc sandbox, pass@k, tree-sitter metrics, reports.

Run `nanochat eval --help`. Public names:
- problems (from nanochat_cli.rust): `Problem`, `load_problem_set`, `cut_at_stop_tokens`, `assemble_program`,
  `eval_prompts_for_decontamination`
- sandbox (from nanochat_cli.rust): `RustSandbox`, `SandboxLimits`, `SandboxResult`
- metrics: `pass_at_k`, `rust_ast_metrics`, `is_trivial` (the prompt's item holds no code)
- generation sources: `ServerSource`, `CompletionsFileSource`, `GenerationParams` (n_samples + the one
  SamplingParams, `eval_sampling()` for MultiPL-E's defaults), and
  `engine_source.EngineSource` (a GGUF / checkpoint on the native engine; imported on demand)
- runs and reports: `EvalConfig`, `run_eval`, `write_results`, `load_results`, `compare_results`
"""

from nanochat_cli.evaluate.ast_metrics import AstMetrics, rust_ast_metrics
from nanochat_cli.evaluate.metrics import pass_at_k
from nanochat_cli.evaluate.report import compare_results, load_results, write_results
from nanochat_cli.evaluate.runner import EvalConfig, run_eval
from nanochat_cli.evaluate.completion_sources import CompletionsFileSource, GenerationParams, ServerSource, eval_sampling
from nanochat_cli.evaluate.triviality import is_trivial
from nanochat_cli.rust.problems import (
    Problem,
    assemble_program,
    cut_at_stop_tokens,
    eval_prompts_for_decontamination,
    load_problem_set,
)
from nanochat_cli.rust.sandbox import RustSandbox, SandboxLimits, SandboxResult

__all__ = [
    "AstMetrics",
    "CompletionsFileSource",
    "EvalConfig",
    "GenerationParams",
    "Problem",
    "RustSandbox",
    "SandboxLimits",
    "SandboxResult",
    "ServerSource",
    "assemble_program",
    "compare_results",
    "eval_sampling",
    "cut_at_stop_tokens",
    "eval_prompts_for_decontamination",
    "is_trivial",
    "load_problem_set",
    "load_results",
    "pass_at_k",
    "run_eval",
    "rust_ast_metrics",
    "write_results",
]
