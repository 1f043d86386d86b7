"""Token shards: documents encoded with the tokenizer, joined by <|endoftext|>, stored as raw uint16/uint32.

`write_shard(path, tokenizer, texts, dtype)` streams a split to disk; `open_shard(path, dtype)` maps it
back with np.memmap (no copy), which is what the trainer samples windows from. A fill-in-the-middle document
(fim.py) gets its control tokens as ids, so the same strings inside ordinary text stay plain bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from nanochat_cli.data.fim import FimDocument

ENCODE_BATCH = 256  # documents per encode_batch call (the Rust side parallelises inside a batch)


def token_dtype(vocab_size: int) -> str:
    return "uint16" if vocab_size <= 1 << 16 else "uint32"


def _encode(tok: Tokenizer, docs: list[str | FimDocument]) -> list[list[int]]:
    """Token ids of each document; a FimDocument's pieces are encoded apart, each after its control token's id."""
    texts: list[str] = []
    for d in docs:
        texts += [d] if isinstance(d, str) else [text for _, text in d.pieces()]
    encs = iter(tok.encode_batch(texts, add_special_tokens=False))
    out = []
    for d in docs:
        if isinstance(d, str):
            out.append(next(encs).ids)
        else:
            ids: list[int] = []
            for control, _ in d.pieces():
                ids += [tok.token_to_id(control), *next(encs).ids]
            out.append(ids)
    return out


def write_shard(
    path: Path, tok: Tokenizer, texts: list[str | FimDocument], dtype: str, eot_id: int = 0,
    progress: Callable[[int], None] | None = None, doc_tokens: list[int] | None = None,
) -> int:
    """Encode documents (each followed by <|endoftext|>) into path atomically; returns the token count.

    A document is a text or a FimDocument (fim.py). doc_tokens, when given, receives each document's count."""
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    # corpus files are text: a literal "<|endoftext|>" in a Rust file (tokenizer crates hold such strings) must be
    # encoded as its bytes, not as the document separator or a FIM control token
    encode_special_before = tok.encode_special_tokens
    tok.encode_special_tokens = True
    try:
        with open(tmp, "wb") as f:
            for i in range(0, len(texts), ENCODE_BATCH):
                chunk = texts[i : i + ENCODE_BATCH]
                ids: list[int] = []
                for doc_ids in _encode(tok, chunk):
                    ids.extend(doc_ids)
                    ids.append(eot_id)
                    if doc_tokens is not None:
                        doc_tokens.append(len(doc_ids) + 1)
                arr = np.asarray(ids, dtype=dtype)
                arr.tofile(f)
                count += len(arr)
                if progress:
                    progress(len(chunk))
            f.flush()
            os.fsync(f.fileno())
    finally:
        tok.encode_special_tokens = encode_special_before
    tmp.replace(path)
    return count


def open_shard(path: str | Path, dtype: str) -> np.ndarray:
    """The shard as a read-only memory map (an empty array for an empty file)."""
    p = Path(path)
    if p.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(p, dtype=dtype, mode="r")
