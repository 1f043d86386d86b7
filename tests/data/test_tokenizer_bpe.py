"""The byte-level BPE tokenizer: contract special-token ids and lossless round trips."""

from __future__ import annotations

import random

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
    assert tok.decode(tok.encode(text).ids) == text


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
