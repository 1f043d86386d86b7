"""The shipped default model, models/rust_small.gguf: present, the file the model card describes, and it runs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from nanochat_cli.shipped_model import SHIPPED_MODEL, shipped_model

CARD = SHIPPED_MODEL.parent / "README.md"


def test_the_shipped_model_is_the_one_its_card_names():
    path = shipped_model()
    assert path.stat().st_size < 20 * 1024 * 1024
    m = re.search(r"sha256 `([0-9a-f]{64})`", CARD.read_text())
    assert m, "models/README.md must give the GGUF's sha256 as: sha256 `<hex>`"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == m.group(1)


def test_gguf_py_reads_the_shipped_model():
    import json

    from gguf import GGUFReader

    reader = GGUFReader(str(shipped_model()))
    field = reader.fields["nanochat.config_json"]
    config = json.loads(bytes(field.parts[field.data[0]]).decode())
    assert config["model"]["d_model"] > 0 and any(t.name.endswith(".trits") for t in reader.tensors)


def test_the_shipped_model_writes_rust_on_the_native_engine():
    from nanochat_cli.infer import SamplingParams, generate, load_model

    lm = load_model(shipped_model(), threads=1)
    engine = lm.engine(n_slots=1, ctx=256)
    params = SamplingParams(temperature=0.0, max_tokens=24)
    text = "".join(ev.text for ev in generate(engine, lm.tokenizer, "fn fibonacci(n: u64) -> u64 {\n", params, lm.eos_ids))
    assert text.strip(), "greedy decoding produced nothing"


def test_commands_without_a_model_use_the_shipped_one(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "nanochat_cli.cli", "generate", "--prompt", "fn add(a: i32, b: i32) -> i32 {",
                        "--max-tokens", "8", "--temperature", "0"], capture_output=True, text=True, timeout=300,
                       check=False, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() and "generated 8 tokens" in r.stderr


def test_a_missing_shipped_model_is_one_clear_error(monkeypatch, tmp_path):
    from nanochat_cli import shipped_model as sm
    from nanochat_cli.errors import NanochatError

    monkeypatch.setattr(sm, "SHIPPED_MODEL", Path(tmp_path) / "nope.gguf")
    with pytest.raises(NanochatError, match="name a .gguf or a checkpoint directory"):
        sm.shipped_model()


def test_training_can_start_from_the_shipped_model_exactly():
    """train.init_from / rl.init_from on the shipped file: the rebuilt float weights are the file, every trit,
    scale and float tensor (so fine-tuning and RL on a fresh clone start from the model the card measures)."""
    from nanochat_cli.formats.export import model_weights
    from nanochat_cli.train.checkpoint import load_file_model
    from tests.train.run_helpers import assert_same_weights

    model, tokenizer, file = load_file_model(shipped_model())
    assert_same_weights(file, model_weights(model, tokenizer.to_str()))
