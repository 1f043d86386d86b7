"""Fill-in-the-middle: rewrite a share of training documents PSM-style so the model learns to complete a gap.

A document d split at two random character positions into prefix, middle, suffix becomes
`<|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>middle` (Bavarian et al. 2022, "PSM"). The control
tokens are inserted as ids by `shards.write_shard`, never parsed out of text, so a Rust file that contains
the literal string "<|fim_prefix|>" stays plain text. Set `data.fim_rate` in a recipe to use it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"


@dataclass(frozen=True)
class FimDocument:
    """One document cut into three pieces; `pieces()` is the order they are trained in (PSM)."""

    prefix: str
    middle: str
    suffix: str

    def document(self) -> str:
        """The original document: the pieces in reading order."""
        return self.prefix + self.middle + self.suffix

    def pieces(self) -> list[tuple[str, str]]:
        """(control token, text) in training order."""
        return [(FIM_PREFIX, self.prefix), (FIM_SUFFIX, self.suffix), (FIM_MIDDLE, self.middle)]

    def psm_text(self) -> str:
        """The training text written out with the control tokens as strings (for reading and tests)."""
        return "".join(tok + text for tok, text in self.pieces())


def fim_split(text: str, rng: random.Random) -> FimDocument:
    """Cut text at two uniformly random character positions (the middle may be empty)."""
    i, j = sorted(rng.randint(0, len(text)) for _ in range(2))
    return FimDocument(text[:i], text[i:j], text[j:])


def apply_fim(texts: list[str], rate: float, seed: int) -> list[str | FimDocument]:
    """Each document rewritten as a FimDocument with probability rate (seeded, so the corpus is reproducible)."""
    if rate <= 0:
        return list(texts)
    rng = random.Random(f"fim:{seed}")
    return [fim_split(t, rng) if rng.random() < rate else t for t in texts]
