"""ServingBackend: what the scheduler needs from a model (slots, prefill, batched decode, sampling, text).

The scheduler's worker thread is the only caller of prefill / decode / new_sampler; encode, decode_text
and token_text are pure and thread-safe: the server calls them on its text threads (a long encode must not
hold the GIL, see EngineBackend.encode) and token_text from the event loop.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from nanochat_cli.serve.request_schema import SamplingRequest


class TokenSampler(Protocol):
    def sample(self, logits: np.ndarray) -> int:
        """Pick the next token from float32 logits [V] and remember it for the penalties."""


class ServingBackend(Protocol):
    model_id: str
    n_slots: int
    ctx: int  # tokens per slot
    vocab_size: int
    eos_ids: frozenset[int]
    chat_template: str | None  # Jinja source stored in the model, or None
    bos_token: str
    eos_token: str
    fim_token_ids: tuple[int, int, int] | None  # <|fim_prefix|>, <|fim_suffix|>, <|fim_middle|>; None if absent
    fim_rate: float | None  # share of training documents rewritten FIM, as the model records it; None: not recorded

    def encode(self, text: str) -> list[int]: ...

    def decode_text(self, ids: list[int]) -> str: ...

    def token_text(self, token_id: int) -> str:
        """One token's text for logprobs (may be a partial UTF-8 character)."""

    def prefill(self, slot: int, start: int, ids: list[int], all_logits: bool = False) -> np.ndarray:
        """Write ids into the slot's cache at positions start.. (dropping anything cached from start on).
        Returns logits [len(ids), V] if all_logits else the last position's logits [V]."""

    def decode(self, slots: list[int], tokens: list[int]) -> np.ndarray:
        """One batched step: append tokens[i] to slots[i]; returns logits [len(slots), V]."""

    def new_sampler(self, req: SamplingRequest, seed: int | None, prompt_ids: list[int]) -> TokenSampler: ...
