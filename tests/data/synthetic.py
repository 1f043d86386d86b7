"""A small synthetic Rust corpus in a temp directory (crates of distinct, plausible files) for data/train tests."""

from __future__ import annotations

import random
from pathlib import Path

from nanochat_cli.recipes import recipe_from_dict

_TYPES = ["u32", "i64", "usize", "f64", "String", "Vec<u8>", "bool"]
_WORDS = ["alpha", "beta", "gamma", "delta", "count", "total", "value", "index", "buffer", "node", "tree", "parse",
          "render", "merge", "split", "token", "frame", "cache", "queue", "score", "limit", "width", "height"]


def rust_file(rng: random.Random, n_fns: int = 6) -> str:
    """A syntactically plausible Rust module with n_fns random functions and a struct."""
    parts = [f"//! Module {rng.choice(_WORDS)} {rng.randrange(10**6)}.\n\nuse std::collections::HashMap;\n"]
    name = "".join(w.capitalize() for w in rng.sample(_WORDS, 2))
    fields = rng.sample(_WORDS, 3)
    parts.append(f"pub struct {name} {{\n" + "".join(f"    pub {f}: {rng.choice(_TYPES)},\n" for f in fields) + "}\n")
    for _ in range(n_fns):
        fn = "_".join(rng.sample(_WORDS, 2)) + f"_{rng.randrange(1000)}"
        a, b = rng.sample(_WORDS, 2)
        op = rng.choice(["+", "-", "*", "^", "|"])
        parts.append(
            f"/// Combine {a} and {b} into a new {rng.choice(_WORDS)}.\n"
            f"pub fn {fn}({a}: u64, {b}: u64) -> u64 {{\n"
            f"    let mut acc = {a} {op} {b};\n"
            f"    for i in 0..{rng.randrange(2, 50)} {{\n        acc = acc.wrapping_mul({rng.randrange(3, 99)}) {op} i;\n    }}\n"
            f"    acc\n}}\n"
        )
    return "\n".join(parts)


def make_corpus(root: Path, n_crates: int = 6, files_per_crate: int = 4, seed: int = 0) -> Path:
    """root/<crate>-0.1.0/src/*.rs for n_crates crates; returns root."""
    rng = random.Random(seed)
    for c in range(n_crates):
        src = root / f"crate{c}-0.1.{c}" / "src"
        src.mkdir(parents=True)
        (src.parent / "Cargo.toml").write_text(f'[package]\nname = "crate{c}"\n')
        for f in range(files_per_crate):
            (src / f"m{f}.rs").write_text(rust_file(rng))
    return root


def tiny_recipe(corpus: Path, cache: Path, run_dir: Path | None = None, overrides=(), **sections):
    """A recipe over the synthetic corpus: small vocab, tiny model, a few steps."""
    d = {
        "data": {"sources": [str(corpus)], "cache_dir": str(cache), "vocab_size": 400, "min_file_bytes": 10,
                 "val_fraction": 0.3, "decontaminate": True},
        "model": {"size": "tiny", "d_model": 64, "n_layers": 1, "n_heads": 2, "n_kv_heads": 1, "ffn_hidden": 128,
                  "max_seq_len": 64, "group_size": 0},
        "train": {"steps": 6, "batch_size": 4, "seq_len": 32, "grad_accum": 1, "threads": 1},
        "schedule": {"warmup_steps": 2, "decay_fraction": 0.5},
        "validation": {"every": 3, "batches": 2},
        "checkpoint": {"dir": str(run_dir or cache / "run"), "every": 0, "keep": 2},
        "logging": {"every": 1, "progress": False},
    }
    for k, v in sections.items():
        d.setdefault(k, {}).update(v)
    return recipe_from_dict(d, list(overrides))
