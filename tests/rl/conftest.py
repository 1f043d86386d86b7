"""A tiny base checkpoint (trained tokenizer, random TernaryLM) and a toy reward for RL runs that take seconds."""

from __future__ import annotations

import json
from concurrent.futures import Future
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_model

from nanochat_cli.model import TernaryLM, named_config
from nanochat_cli.recipes import recipe_from_dict
from nanochat_cli.rl.prompts import RLPrompt
from nanochat_cli.rl.rewards import Reward
from nanochat_cli.rust.problems import Problem

TEXT = [
    "fn main() {\n    let x = 42;\n    println!(\"{}\", x);\n}\n",
    "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    "let mut v: Vec<u64> = Vec::new();\nfor i in 0..10 {\n    v.push(i * 2);\n}\n",
    "struct Point { x: f64, y: f64 }\nimpl Point {\n    fn norm(&self) -> f64 { (self.x * self.x).sqrt() }\n}\n",
]


def write_base(path: Path, seed: int = 0) -> Path:
    from nanochat_cli.data.tokenizer import train_tokenizer

    tok = train_tokenizer(TEXT * 40, 320)
    torch.manual_seed(seed)
    cfg = named_config("tiny", vocab_size=320, d_model=64, n_heads=2, n_kv_heads=1, ffn_hidden=128, n_layers=1, group_size=64,
                       max_seq_len=64)
    model = TernaryLM(cfg)
    path.mkdir(parents=True, exist_ok=True)
    save_model(model, str(path / "model.safetensors"))
    (path / "config.json").write_text(json.dumps({"format": 1, "model": cfg.to_dict()}))
    tok.save(str(path / "tokenizer.json"))
    return path


@pytest.fixture(scope="session")
def base(tmp_path_factory) -> Path:
    return write_base(tmp_path_factory.mktemp("rl") / "base")


class ToyReward:
    """Share of the completion's characters that are 'x' (success: at least one); no rustc."""

    def __init__(self):
        self.calls = 0

    def submit(self, problem, completion: str) -> Future:
        self.calls += 1
        f: Future = Future()
        share = completion.count("x") / max(len(completion), 1)
        f.set_result(Reward(share, "pass" if share > 0 else "compiles", compiled=True, success=share > 0))
        return f

    def close(self) -> None:
        pass


def toy_pool() -> list[RLPrompt]:
    return [RLPrompt(Problem(f"p{i}", p, "}\n", stop_tokens=("\n}",))) for i, p in
            enumerate(["fn main() {\n", "let x = ", "pub fn add(a: i32", "impl Point {\n"])]


def toy_recipe(base: Path, run_dir: Path, overrides=()) -> object:
    d = {
        "rl": {"init_from": str(base), "algorithm": "grpo", "steps": 6, "prompts_per_step": 2, "group_size": 6,
               "max_refill_rounds": 1, "max_tokens": 6, "slots": 6, "micro_batch": 6, "optimizer": "adamw",
               "adamw_lr": 0.01, "kl_coef": 0.0, "temperature": 1.0, "curriculum": False, "threads": 1},
        "schedule": {"warmup_steps": 0, "decay_fraction": 0.0},
        "checkpoint": {"dir": str(run_dir), "every": 2, "keep": 10},
        "logging": {"every": 1, "progress": False},
    }
    return recipe_from_dict(d, list(overrides))
