"""Token shards: documents encoded with the tokenizer, joined by <|endoftext|>, stored as raw uint16/uint32.

`write_shard(path, tokenizer, texts, dtype)` streams a split to disk; `open_shard(path, dtype)` maps it
back with np.memmap (no copy), which is what the trainer samples windows from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

ENCODE_BATCH = 256  # documents per encode_batch call (the Rust side parallelises inside a batch)


def token_dtype(vocab_size: int) -> str:
    return "uint16" if vocab_size <= 1 << 16 else "uint32"


def write_shard(
    path: Path, tok: Tokenizer, texts: list[str], dtype: str, eot_id: int = 0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Encode texts (each followed by <|endoftext|>) into path atomically; returns the token count."""
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
                encs = tok.encode_batch(chunk, add_special_tokens=False)
                ids: list[int] = []
                for e in encs:
                    ids.extend(e.ids)
                    ids.append(eot_id)
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
