"""Load a model and generate Rust with the native engine: the API under `nanochat generate`.

Run: `python examples/generate.py [MODEL] [--prompt TEXT] [--max-tokens N] [--temperature T]`.
MODEL is a nanochat GGUF, a llama.cpp bitnet GGUF or a checkpoint directory; default: the shipped
models/rust_small.gguf. The prompt and its continuation go to stdout, the finish reason and speed to stderr.
"""

from __future__ import annotations

import argparse
import sys

from nanochat_cli.infer import GenerationStats, SamplingParams, generate, load_model
from nanochat_cli.shipped_model import shipped_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", help="default: the shipped models/rust_small.gguf")
    ap.add_argument("--prompt", default="/// Returns the larger of two numbers.\nfn max(a: i32, b: i32) -> i32 {\n")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    ap.add_argument("--threads", type=int, default=0, help="kernel threads; 0 = the kernels' default")
    args = ap.parse_args()

    lm = load_model(args.model or shipped_model(), threads=args.threads)
    engine = lm.engine(n_slots=1, ctx=512)  # one sequence, a KV cache of 512 tokens
    params = SamplingParams(temperature=args.temperature, max_tokens=args.max_tokens, seed=0, stop=["\n}\n"])
    stats = GenerationStats()
    print(args.prompt, end="")
    for event in generate(engine, lm.tokenizer, args.prompt, params, lm.eos_ids, stats=stats):
        print(event.text, end="", flush=True)  # UTF-8 safe pieces; a stop string is never printed
        finish = event.finish_reason
    print()
    print(f"finish: {finish}, {stats.generated_tokens} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
