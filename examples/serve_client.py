"""A client of `nanochat serve` with the official OpenAI Python package: list models, complete, stream a chat.

Run against a server you started (`nanochat serve --port 8080`):
    python examples/serve_client.py --url http://127.0.0.1:8080
With no --url the script starts one itself on a free loopback port (ServerThread, the shipped
models/rust_small.gguf or --model) and stops it at the end. Needs `openai` (`pip install openai`; in the dev extra).
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext

import openai

from nanochat_cli.serve import ServeConfig, ServerThread
from nanochat_cli.shipped_model import model_or_shipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8080 (default: start one here)")
    ap.add_argument("--model", help="the model the started server loads (default: the shipped one)")
    ap.add_argument("--api-key", default="unused", help="the server's --api-key, if it has one")
    ap.add_argument("--max-tokens", type=int, default=32)
    args = ap.parse_args()

    own = None if args.url else ServerThread(ServeConfig(model=model_or_shipped(args.model), port=0, parallel=2))
    with own or nullcontext():
        url = args.url or own.url
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=args.api_key, max_retries=0)
        model = client.models.list().data[0].id
        print(f"server {url}, model {model}")

        done = client.completions.create(model=model, prompt="fn square(x: i32) -> i32 {\n", max_tokens=args.max_tokens,
                                         temperature=0, stop=["\n}"])
        print(f"completion ({done.choices[0].finish_reason}, {done.usage.completion_tokens} tokens):")
        print("fn square(x: i32) -> i32 {\n" + done.choices[0].text + "\n}")

        print("streamed chat:")
        question = [{"role": "user", "content": "Write a Rust function that adds two numbers."}]
        stream = client.chat.completions.create(model=model, messages=question, max_tokens=args.max_tokens,
                                                temperature=0, stream=True)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                print(chunk.choices[0].delta.content, end="", flush=True)
        print()


if __name__ == "__main__":
    main()
