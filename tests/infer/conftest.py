"""Fixtures for the inference tests: a small BPE tokenizer, tiny TernaryLMs of every option, checkpoint dirs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_model

from nanochat_cli.model import TernaryLM, named_config

VOCAB = 512
CTX = 160

RUST = [
    "fn main() {\n    let x = 42;\n    println!(\"{}\", x);\n}\n",
    "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    "let mut v: Vec<u64> = Vec::new();\nfor i in 0..10 {\n    v.push(i * 2);\n}\n",
    "struct Point { x: f64, y: f64 }\nimpl Point {\n    fn norm(&self) -> f64 { (self.x * self.x).sqrt() }\n}\n",
    "// Émoji and ünïcode: 🦀 → λ\nmatch s.as_str() { \"a\" => 1, _ => 0 }\n",
]

# every model option the engine must reproduce (id -> ModelConfig overrides)
OPTIONS = {
    "plain": {},
    "mhc2": {"mhc_streams": 2},
    "mhc4-dynamic": {"mhc_streams": 4, "mhc_dynamic": True},
    "gqa": {"n_kv_heads": 1},
    "untied": {"tie_embeddings": False},
    "ternary-head": {"tie_embeddings": False, "ternary_head": True},
    "moe": {"moe_experts": 4, "moe_top_k": 2, "moe_shared_expert": True},
    "deltanet": {"layer_pattern": "AD"},
    "relu2-subln-pertensor": {"ffn_type": "relu2", "sub_norm": True, "group_size": 0},
    "float-twin": {"ternary": False},
    "softcap-mhc2-dynamic": {"logit_softcap": 20.0, "mhc_streams": 2, "mhc_dynamic": True},
}


@pytest.fixture(scope="session")
def tokenizer():
    from nanochat_cli.data.tokenizer import train_tokenizer

    return train_tokenizer(RUST * 40, 400)


def make_model(seed: int = 0, **overrides) -> TernaryLM:
    """A tiny TernaryLM whose every parameter matters: larger embeddings (clear greedy margins), random mHC
    coefficients and dynamic gates, a sharper router."""
    torch.manual_seed(seed)
    cfg = named_config("tiny", vocab_size=VOCAB, max_seq_len=CTX, **overrides)
    model = TernaryLM(cfg)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        model.embed.weight.mul_(30)
        for name, p in model.named_parameters():
            if "mhc" in name and "dyn_proj" not in name:
                p.add_(0.5 * torch.randn(p.shape, generator=g))
            if name.endswith("router.weight"):
                p.mul_(20)
        if model.head is not None:
            model.head.weight.mul_(30)
    return model.eval()


def write_checkpoint(model: TernaryLM, tokenizer, path: Path, with_tokenizer: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    save_model(model, str(path / "model.safetensors"))
    (path / "config.json").write_text(json.dumps({"format": 1, "model": model.cfg.to_dict()}))
    if with_tokenizer:
        tokenizer.save(str(path / "tokenizer.json"))
    return path


@pytest.fixture()
def prompt_ids(tokenizer) -> list[int]:
    return tokenizer.encode(RUST[0] + RUST[1]).ids[:40]


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())
