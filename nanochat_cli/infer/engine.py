"""Engine: n_slots independent sequences over one NativeModel, with prefill, batched decode and prefix reuse.

    engine = Engine(load_model("model.gguf"), n_slots=4)
    logits = engine.prefill(0, prompt_ids)          # (V,) logits after the prompt (continues the slot's cache)
    logits = engine.decode([0, 2], [tok0, tok2])    # one batched step for slots 0 and 2 -> (2, V)
    engine.truncate(0, n)                           # keep the first n cached tokens (prefix reuse); 0 = reset
    engine.copy_prefix(0, 3, n)                     # slot 3 takes slot 0's first n cached tokens (a shared prompt)
    n = engine.take_prefix(3, ids)                  # the longest cached prefix of ids, from any slot, into slot 3
See nanochat_cli/infer/__init__.py for the whole API.
"""

from __future__ import annotations

import threading

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.infer.forward import NativeModel, Segment

# Prompts are prefilled in chunks of this many tokens: bounds the (heads, T, S) attention scores held at once.
PREFILL_CHUNK = 256


class ContextFull(NanochatError):
    """A slot has no room for more tokens: the prompt is longer than the context, or generation reached it."""


class Engine:
    """Per-slot caches of `ctx` tokens, preallocated once. Not thread-safe by itself: calls hold `self.lock`."""

    def __init__(self, model: NativeModel, n_slots: int = 1, ctx: int | None = None):
        if n_slots < 1:
            raise NanochatError(f"n_slots must be >= 1, got {n_slots}")
        self.model = model
        self.n_slots = n_slots
        self.ctx = int(ctx or model.cfg.max_seq_len)
        self.state = model.new_state(n_slots, self.ctx)
        self.tokens: list[list[int]] = [[] for _ in range(n_slots)]  # what each slot's cache holds
        self.lock = threading.Lock()
        self.has_recurrent_state = bool(self.state.delta)

    @property
    def vocab_size(self) -> int:
        return self.model.cfg.vocab_size

    def length(self, slot: int) -> int:
        return len(self.tokens[slot])

    def cached_tokens(self, slot: int) -> list[int]:
        return list(self.tokens[slot])

    def _check_slot(self, slot: int) -> None:
        if not 0 <= slot < self.n_slots:
            raise NanochatError(f"slot {slot} does not exist; the engine has slots 0..{self.n_slots - 1}")

    def _check_tokens(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise NanochatError(f"token id out of range 0..{self.vocab_size - 1}")
        return ids

    def truncate(self, slot: int, n: int = 0) -> None:
        """Keep the first n cached tokens of a slot (0 resets it). A DeltaNet state cannot rewind to the middle."""
        self._check_slot(slot)
        n = max(0, min(n, self.length(slot)))
        if self.has_recurrent_state and 0 < n < self.length(slot):
            raise NanochatError("this model has DeltaNet layers, whose recurrent state cannot be rewound to a "
                                "prefix; truncate to 0 (reset) or keep the whole cache")
        with self.lock:
            if n == 0:
                self.state.clear(slot)
            del self.tokens[slot][n:]

    def reset(self, slot: int) -> None:
        self.truncate(slot, 0)

    def reusable_prefix(self, slot: int, ids) -> int:
        """How many leading tokens of `ids` the slot's cache already holds and truncate() can keep.

        Always leaves at least one token of `ids` to prefill, so that prefill returns the logits after it."""
        cached = self.tokens[slot]
        n = 0
        for a, b in zip(cached, ids[:-1]):
            if a != b:
                break
            n += 1
        if self.has_recurrent_state and n != len(cached):
            return 0
        return n

    def copy_prefix(self, src: int, dst: int, n: int) -> None:
        """Make slot dst hold the first n cached tokens of slot src, their KV rows copied: a prompt another slot
        already prefilled is not computed again (n samples of one prompt in eval, a group in RL). In fast mode the rows
        are those a prefill of dst would write, bit for bit: each row of a forward is computed on its own
        (tests/infer/test_decode_batch.py). Not for DeltaNet models, whose recurrent state is not kept per
        position."""
        self._check_slot(src)
        self._check_slot(dst)
        if self.has_recurrent_state:
            raise NanochatError("this model has DeltaNet layers, whose recurrent state cannot be copied by position")
        n = max(0, min(n, self.length(src)))
        with self.lock:
            if src != dst:
                for k, v in self.state.kv.values():
                    k[dst, :, :n] = k[src, :, :n]
                    v[dst, :, :n] = v[src, :, :n]
            self.tokens[dst] = self.tokens[src][:n]

    def take_prefix(self, slot: int, ids) -> int:
        """Start `slot` on the longest prefix of ids that a slot's cache holds (its own: truncate; another's, such as
        an earlier sample of the same prompt: copy_prefix) and return its length; 0 resets the slot. At least one
        token of ids is left to prefill (reusable_prefix)."""
        self._check_slot(slot)
        ids = list(ids)
        sources = [slot] if self.has_recurrent_state else range(self.n_slots)
        src = max(sources, key=lambda s: (self.reusable_prefix(s, ids), s == slot))  # ties: keep the slot's own
        n = self.reusable_prefix(src, ids)
        if n == 0:
            self.reset(slot)
        elif src == slot:
            self.truncate(slot, n)
        else:
            self.copy_prefix(src, slot, n)
        return n

    def prefill(self, slot: int, ids, all_logits: bool = False) -> np.ndarray:
        """Append `ids` to a slot's cache; logits after the last one (V,), or after each one (T, V)."""
        self._check_slot(slot)
        ids = self._check_tokens(ids)
        if ids.size == 0:
            raise NanochatError("prefill needs at least one token")
        start = self.length(slot)
        if start + ids.size > self.ctx:
            raise ContextFull(f"prompt of {start + ids.size} tokens does not fit the context of {self.ctx} tokens; "
                              "shorten the prompt or raise the context (up to the model's max_seq_len)")
        outs = []
        with self.lock:
            for c in range(0, ids.size, PREFILL_CHUNK):
                chunk = ids[c:c + PREFILL_CHUNK]
                seg = [Segment(slot, start + c, chunk.size, 0)]
                outs.append(self.model.forward(chunk, seg, self.state, last_only=not all_logits))
            self.tokens[slot].extend(ids.tolist())
        return np.concatenate(outs, axis=0) if all_logits else outs[-1][0]

    def decode(self, slots, tokens) -> np.ndarray:
        """One step for several slots at once: token i is appended to slot i; returns logits (len(slots), V)."""
        slots = [int(s) for s in slots]
        tokens = self._check_tokens(tokens)
        if len(set(slots)) != len(slots) or len(slots) != tokens.size or not slots:
            raise NanochatError("decode needs one token for each of several distinct slots")
        for s in slots:
            self._check_slot(s)
            if self.length(s) + 1 > self.ctx:
                raise ContextFull(f"slot {s} is full: the context holds {self.ctx} tokens")
        segs = [Segment(s, self.length(s), 1, i) for i, s in enumerate(slots)]
        with self.lock:
            logits = self.model.forward(tokens, segs, self.state, last_only=True)
            for s, t in zip(slots, tokens.tolist()):
                self.tokens[s].append(t)
        return logits
