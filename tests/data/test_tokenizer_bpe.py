"""The byte-level BPE tokenizer: contract special-token ids and lossless round trips."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.data.tokenizer import (
    SPECIAL_TOKENS,
    check_special_tokens,
    load_tokenizer,
    save_tokenizer,
    train_tokenizer,
)
from nanochat_cli.errors import NanochatError
from tests.data.synthetic import rust_file


@pytest.fixture(scope="module")
def tok():
    rng = random.Random(0)
    return train_tokenizer([rust_file(rng) for _ in range(40)], 500)


def test_special_tokens_have_the_contract_ids(tok):
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert tok.get_vocab_size() <= 500
    check_special_tokens(tok)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_round_trips(tok, text):
    tok.encode_special_tokens = True  # how corpus text is encoded (shards.write_shard): "<|fim_middle|>" stays text
    try:
        assert tok.decode(tok.encode(text).ids) == text
    finally:
        tok.encode_special_tokens = False


def test_special_token_strings_inside_a_document_are_not_separators(tok, tmp_path):
    from nanochat_cli.data.shards import open_shard, write_shard

    docs = ['let eot = "<|endoftext|>";\n', 'fn fim() -> &str { "<|fim_prefix|>" }\n']
    n = write_shard(tmp_path / "s.bin", tok, docs, "uint16", tok.token_to_id("<|endoftext|>"))
    ids = np.asarray(open_shard(tmp_path / "s.bin", "uint16"))
    assert n == ids.size and (ids == 0).sum() == 2 and ids[-1] == 0  # one separator after each document
    first, second = np.split(ids, np.flatnonzero(ids == 0) + 1)[:2]
    assert [tok.decode(first[:-1].tolist()), tok.decode(second[:-1].tolist())] == docs
    assert not np.isin(ids, [1, 2, 3, 4]).any()
    assert tok.encode_special_tokens is False  # the tokenizer is left as it was (prompts may use FIM tokens)


def test_rust_compresses_better_than_bytes(tok):
    code = rust_file(random.Random(99))
    assert len(tok.encode(code).ids) < len(code.encode()) / 2


def test_saved_tokenizer_loads_and_a_foreign_one_is_refused(tok, tmp_path):
    save_tokenizer(tok, tmp_path / "tokenizer.json")
    again = load_tokenizer(tmp_path / "tokenizer.json")
    assert again.encode("fn main() {}").ids == tok.encode("fn main() {}").ids
    with pytest.raises(NanochatError, match="not found"):
        load_tokenizer(tmp_path / "missing.json")
    from tokenizers import Tokenizer, models

    bare = Tokenizer(models.BPE())
    bare.save(str(tmp_path / "bare.json"))
    with pytest.raises(NanochatError, match="special tokens"):
        load_tokenizer(tmp_path / "bare.json")
