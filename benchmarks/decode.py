"""End-to-end prefill and decode tokens/s: nanochat's engine vs llama.cpp (llama-cpp-python) on the same TQ2_0 file.

Run: `python benchmarks/decode.py --shape 700m --threads 1,2` (also `--shape 2b`). The first run writes a
random-weight llama.cpp `bitnet` GGUF of that shape (TQ2_0 matrices, Q6_K tied embedding, like the files in
../shared/REFERENCE.md) to --dir; both engines then load that one file. Per engine and thread count: prefill of
--prompt tokens and --decode single-token steps, repeated --runs times, engines alternating so that load from
other processes falls on both alike; medians reported. Random weights: the tokens are fixed ids, not sampled.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

SHAPES = {
    # bitnet_b1_58-large
    "700m": {"vocab_size": 32002, "d_model": 1536, "n_layers": 24, "n_heads": 16, "n_kv_heads": 16, "ffn_hidden": 4096},
    # BitNet b1.58 2B4T
    "2b": {"vocab_size": 128256, "d_model": 2560, "n_layers": 30, "n_heads": 20, "n_kv_heads": 5, "ffn_hidden": 6912},
}


def synthetic_tokenizer_json(vocab_size: int) -> str:
    """A valid byte-level BPE vocabulary of vocab_size distinct tokens and one merge: llama.cpp needs one to load."""
    from tokenizers import Tokenizer, models

    from nanochat_cli.data.tokenizer import SPECIAL_TOKENS

    alphabet = [chr(c) for c in range(0x21, 0x7F)] + [chr(c) for c in range(0xA1, 0x180)]
    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    vocab['!"'] = len(vocab)  # the result of the one merge (GGUF arrays cannot be empty)
    i = 0
    while len(vocab) < vocab_size:
        tok = alphabet[i % len(alphabet)] + (str(i // len(alphabet)) if i >= len(alphabet) else "")
        vocab.setdefault(tok, len(vocab))
        i += 1
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("!", '"')]))
    tok.add_special_tokens(SPECIAL_TOKENS)
    return tok.to_str()


def write_random_model(shape: str, path: Path, seed: int = 0) -> Path:
    from nanochat_cli.formats.bitnet_gguf import write_bitnet_gguf
    from nanochat_cli.formats.weights import ModelWeights
    from nanochat_cli.model.config import ModelConfig
    from nanochat_cli.ternary import PlanarWeights, pack_trits

    cfg = ModelConfig(**SHAPES[shape], max_seq_len=2048, ffn_type="swiglu", sub_norm=True, group_size=0,
                      tie_embeddings=True)
    rng = np.random.default_rng(seed)
    tensors: dict = {"embed.weight": (rng.standard_normal((cfg.vocab_size, cfg.d_model), np.float32) * 0.02),
                     "norm.weight": np.ones(cfg.d_model, np.float32)}
    kv = cfg.n_kv_heads * cfg.head_dim
    mats = {"attn.q_proj": (cfg.d_model, cfg.d_model), "attn.k_proj": (kv, cfg.d_model),
            "attn.v_proj": (kv, cfg.d_model), "attn.o_proj": (cfg.d_model, cfg.d_model),
            "ffn.gate_proj": (cfg.ffn_hidden, cfg.d_model), "ffn.up_proj": (cfg.ffn_hidden, cfg.d_model),
            "ffn.down_proj": (cfg.d_model, cfg.ffn_hidden)}
    for i in range(cfg.n_layers):
        for norm, width in (("attn_norm", cfg.d_model), ("ffn_norm", cfg.d_model), ("attn.sub_norm", cfg.d_model),
                            ("ffn.sub_norm", cfg.ffn_hidden)):
            tensors[f"blocks.{i}.{norm}.weight"] = np.ones(width, np.float32)
        for name, (m, k) in mats.items():
            trits = rng.integers(-1, 2, (m, k), dtype=np.int8)
            scale = np.array([[0.5 / np.sqrt(k)]], np.float32)  # keeps activations O(1) through the layers
            tensors[f"blocks.{i}.{name}.weight"] = PlanarWeights.from_packed(pack_trits(trits), scale, (m, k), 0)
    weights = ModelWeights(cfg, tensors, synthetic_tokenizer_json(cfg.vocab_size), f"random {shape}")
    return write_bitnet_gguf(weights, path, "tq2_0", "q6_k")


def time_nanochat(model, prompt: list[int], n_decode: int) -> tuple[float, float]:
    from nanochat_cli.infer import Engine

    engine = Engine(model, n_slots=1, ctx=len(prompt) + n_decode + 1)
    t0 = time.perf_counter()
    engine.prefill(0, prompt)
    t1 = time.perf_counter()
    tok = prompt[-1]
    for _ in range(n_decode):
        engine.decode([0], [tok])
        tok = (tok * 7 + 3) % 1000 + 10
    t2 = time.perf_counter()
    return len(prompt) / (t1 - t0), n_decode / (t2 - t1)


def time_llama(llm, prompt: list[int], n_decode: int) -> tuple[float, float]:
    llm.reset()
    llm._ctx.memory_clear(True) if hasattr(llm._ctx, "memory_clear") else None
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    tok = prompt[-1]
    for _ in range(n_decode):
        llm.eval([tok])
        tok = (tok * 7 + 3) % 1000 + 10
    t2 = time.perf_counter()
    return len(prompt) / (t1 - t0), n_decode / (t2 - t1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=list(SHAPES), default="700m")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prompt", type=int, default=128, help="prompt tokens (prefill)")
    ap.add_argument("--decode", type=int, default=32, help="decode steps per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "nanochat-bench")
    ap.add_argument("--no-llama", action="store_true", help="time nanochat only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from nanochat_cli.formats import load_model_weights
    from nanochat_cli.infer import NativeModel
    from nanochat_cli.kernels import set_threads

    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"random-{args.shape}-tq2_0.gguf"
    if not path.exists():
        t = time.perf_counter()
        write_random_model(args.shape, path)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f} s")
    prompt = [int(x) for x in np.random.default_rng(1).integers(10, 1000, args.prompt)]
    t = time.perf_counter()
    model = NativeModel(load_model_weights(path))
    print(f"nanochat loaded {path.name} in {time.perf_counter() - t:.1f} s")
    llama = None
    if not args.no_llama:
        import llama_cpp

    results = []
    for threads in [int(x) for x in args.threads.split(",")]:
        set_threads(threads)
        if not args.no_llama:
            del llama
            gc.collect()
            llama = llama_cpp.Llama(model_path=str(path), n_ctx=args.prompt + args.decode + 8, n_batch=args.prompt,
                                    n_threads=threads, n_threads_batch=threads, verbose=False)
        time_nanochat(model, prompt[:8], 2)  # warm-up: kernel choice, page faults
        if llama is not None:
            time_llama(llama, prompt[:8], 2)
        runs: dict[str, list[tuple[float, float]]] = {"nanochat": [], "llama.cpp": []}
        for _ in range(args.runs):
            runs["nanochat"].append(time_nanochat(model, prompt, args.decode))
            if llama is not None:
                runs["llama.cpp"].append(time_llama(llama, prompt, args.decode))
        for engine, rs in runs.items():
            if rs:
                row = {"engine": engine, "shape": args.shape, "threads": threads,
                           "prefill_tps": statistics.median(r[0] for r in rs),
                           "decode_tps": statistics.median(r[1] for r in rs), "runs": len(rs)}
                results.append(row)
                print(f"{engine:10s} {args.shape} {threads}T  prefill {row['prefill_tps']:7.1f} tok/s  "
                      f"decode {row['decode_tps']:6.2f} tok/s  (median of {len(rs)})", flush=True)
    by = {(r["engine"], r["threads"]): r for r in results}
    for threads in sorted({r["threads"] for r in results}):
        a, b = by.get(("nanochat", threads)), by.get(("llama.cpp", threads))
        if a and b:
            print(f"{args.shape} {threads}T: decode {a['decode_tps'] / b['decode_tps']:.2f}x llama.cpp, "
                  f"prefill {a['prefill_tps'] / b['prefill_tps']:.2f}x")
    print(f"machine: {platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
