"""Score completions with the evaluator: compile and test them with rustc, report compile rate and pass@k.

Run: `python examples/score_completions.py` (needs rustc on PATH). Two problems written here in MultiPL-E's
format (a prompt ending in `{`, tests that close the function and assert in `fn main`) and three candidate
completions each, from any model or none: the same `run_eval` that `nanochat eval` runs, with a source of
our own in place of a model.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from nanochat_cli.evaluate import EvalConfig, GenerationParams, run_eval
from nanochat_cli.evaluate.report import print_summary
from nanochat_cli.evaluate.completion_sources import CompletionRequest, Generation

PROBLEMS = [
    {"name": "add", "prompt": "/// The sum of a and b.\nfn add(a: i64, b: i64) -> i64 {\n",
     "tests": "}\n\nfn main() {\n    let candidate = add;\n    assert_eq!(candidate(2, 3), 5);\n"
              "    assert_eq!(candidate(-1, 1), 0);\n}\n",
     "stop_tokens": ["\n}"]},
    {"name": "is_even", "prompt": "/// Whether n is even.\nfn is_even(n: u32) -> bool {\n",
     "tests": "}\n\nfn main() {\n    let candidate = is_even;\n    assert!(candidate(4));\n"
              "    assert!(!candidate(7));\n}\n",
     "stop_tokens": ["\n}"]},
]
CANDIDATES = {  # per problem: one right, one wrong answer, one that does not compile
    "add": ["    a + b\n}", "    a - b\n}", "    a + \"b\"\n}"],
    "is_even": ["    n % 2 == 0\n}", "    n % 2 == 1\n}", "    n.is_even(\n}"],
}


class FixedCompletions:
    """A completion source: anything with identity() and complete() (a model, a server, a file) can be scored."""

    def identity(self) -> dict:
        return {"kind": "fixed completions (examples/score_completions.py)"}

    def complete(self, requests: list[CompletionRequest], params: GenerationParams) -> Generation:
        return Generation([CANDIDATES[r.name][: params.n_samples] for r in requests])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        problems = Path(tmp) / "problems.jsonl"
        problems.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
        config = EvalConfig(problems=str(problems), mode="2021", params=GenerationParams(n_samples=3), cache=False)
        results = run_eval(config, FixedCompletions())
    print_summary(results)
    s = results["summary"]
    print(f"compile rate {s['compile_rate']:.2f}, pass@1 {s['pass_at_k']['1']:.2f}")


if __name__ == "__main__":
    main()
