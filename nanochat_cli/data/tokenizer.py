"""The byte-level BPE tokenizer (HF `tokenizers`), trained on the train split and saved as tokenizer.json.

Special tokens (ids fixed by the model contract): <|endoftext|> = 0, then the fill-in-the-middle
tokens and <|pad|>. Byte-level means any UTF-8 text round-trips: decode(encode(s)) == s.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from nanochat_cli.errors import NanochatError

SPECIAL_TOKENS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|pad|>"]
EOT = "<|endoftext|>"


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    """Train byte-level BPE to vocab_size (special tokens included) on the given documents."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,  # added first, in this order: <|endoftext|> gets id 0
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def check_special_tokens(tok: Tokenizer) -> None:
    """The contract's ids; a tokenizer.json from elsewhere that breaks them is refused."""
    if tok.token_to_id(EOT) != 0 or any(tok.token_to_id(t) is None for t in SPECIAL_TOKENS):
        raise NanochatError(f"tokenizer lacks the special tokens {SPECIAL_TOKENS} with <|endoftext|> = 0; rebuild it with `nanochat data prepare`")


def load_tokenizer(path: str | Path) -> Tokenizer:
    p = Path(path)
    if not p.is_file():
        raise NanochatError(f"tokenizer {p} not found; build it with `nanochat data prepare RECIPE.toml`")
    tok = Tokenizer.from_file(str(p))
    check_special_tokens(tok)
    return tok


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tok.save(str(tmp))
    tmp.replace(path)
