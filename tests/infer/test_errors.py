"""User mistakes get one clear NanochatError each: bad GGUFs, a checkpoint without tokenizer, an overlong prompt."""

from __future__ import annotations

import numpy as np
import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats import export_checkpoint, model_weights
from nanochat_cli.formats.gguf_io import write_gguf
from nanochat_cli.infer import ContextFull, Engine, NativeModel, load_model
from nanochat_cli.infer.generate import generate
from nanochat_cli.infer.sampling import SamplingParams
from tests.infer.conftest import CTX, make_model, write_checkpoint


@pytest.fixture()
def gguf_path(tokenizer, tmp_path):
    return export_checkpoint(write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt"), tmp_path / "m.gguf")


def test_truncated_gguf_is_one_clear_error(gguf_path, tmp_path):
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(gguf_path.read_bytes()[:5000])
    with pytest.raises(NanochatError, match="corrupt or truncated|truncated"):
        load_model(bad)


def test_not_a_gguf_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"PK\x03\x04 definitely not a gguf" * 10)
    with pytest.raises(NanochatError, match="not a GGUF"):
        load_model(bad)


def test_gguf_of_another_architecture_is_unsupported(tmp_path):
    path = write_gguf(tmp_path / "llama.gguf", [("w", np.zeros((4, 4), np.float32))], {}, arch="llama")
    with pytest.raises(NanochatError, match="unsupported GGUF"):
        load_model(path)


def test_missing_model_path_is_one_clear_error(tmp_path):
    with pytest.raises(NanochatError, match="no such model file"):
        load_model(tmp_path / "nope.gguf")


def test_checkpoint_without_tokenizer_is_one_clear_error(tokenizer, tmp_path):
    ckpt = write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt", with_tokenizer=False)
    with pytest.raises(NanochatError, match="tokenizer.json"):
        load_model(ckpt)
    with pytest.raises(NanochatError, match="tokenizer.json"):
        export_checkpoint(ckpt, tmp_path / "m.gguf")


def test_prompt_longer_than_context_is_one_clear_error(gguf_path):
    lm = load_model(gguf_path)
    engine = lm.engine(ctx=32)
    with pytest.raises(ContextFull, match="does not fit the context of 32"):
        list(generate(engine, lm.tokenizer, list(range(5, 45)), SamplingParams(temperature=0), lm.eos_ids))
    with pytest.raises(NanochatError, match="exceeds the model's max_seq_len"):
        lm.engine(ctx=CTX + 1)


def test_generation_stops_with_length_at_the_context_limit(gguf_path):
    lm = load_model(gguf_path)
    engine = lm.engine(ctx=24)
    params = SamplingParams(temperature=0, max_tokens=100, token_healing=False)  # all 20 prompt tokens prefilled
    events = list(generate(engine, lm.tokenizer, list(range(5, 25)), params, eos_ids=set()))
    assert events[-1].finish_reason == "length"
    assert sum(e.token is not None for e in events) == 5  # 20 prompt tokens + 4 decoded fill 24; the 5th is sampled
    assert engine.length(0) == 24


def test_decode_on_a_full_slot_and_bad_token_ids_are_refused():
    engine = Engine(NativeModel(model_weights(make_model(), None)), n_slots=2, ctx=8)
    engine.prefill(0, list(range(8)))
    with pytest.raises(ContextFull):
        engine.decode([0], [1])
    with pytest.raises(NanochatError, match="out of range"):
        engine.prefill(1, [10**6])
    with pytest.raises(NanochatError, match="slot 5"):
        engine.prefill(5, [1])


def test_export_to_a_directory_or_unwritable_place_is_one_clear_error(tokenizer, tmp_path):
    ckpt = write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt")
    with pytest.raises(NanochatError, match="is a directory; pass a file name"):
        export_checkpoint(ckpt, tmp_path)
    with pytest.raises(NanochatError, match="directory .* does not exist"):
        export_checkpoint(ckpt, tmp_path / "missing" / "m.gguf")
    with pytest.raises(NanochatError, match="unknown export format 'gguf'"):
        export_checkpoint(ckpt, tmp_path / "m.gguf", "gguf")
    assert not list(tmp_path.glob("*.gguf*"))
