"""The decode loop, written once: one sequence's constrained first tokens, sampling, text, stop strings, finish.

`generate` (one slot), the serve scheduler (its own continuous batching), the eval engine source and RL rollouts
(`decode_batch`: many sequences over an engine's slots, G samples per prompt; `step_all` samples all its rows in
one call) all step a SequenceDecode:

    seq = SequenceDecode.start(tokenizer, prompt_ids, SamplingParams(...), eos_ids)
    logits = engine.prefill(slot, seq.prefill_ids)           # token healing may back off the prompt's end
    while not seq.finish_reason:
        step = seq.step(logits, full=engine.length(slot) >= engine.ctx)   # step.token, step.text
        if not step.finish_reason:
            logits = engine.decode([slot], [step.token])[0]
    seq.flush(); seq.tokens, seq.text, seq.finish_reason

Precedence at one token: EOS, then a stop string, then a limit (max_tokens, or a context with no room for it).
The text is the decode of the completion tokens (EOS excluded) cut before the first stop string; an end that
cuts a character (a limit or EOS after part of one) leaves it as U+FFFD, as tokenizer.decode would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from nanochat_cli.infer.detok import TextStream
from nanochat_cli.infer.engine import ContextFull, Engine
from nanochat_cli.infer.healing import HealedPrompt, healer_for
from nanochat_cli.infer.sampling import HistorySampler, SamplingParams, sample_each


class TokenSampler(Protocol):
    def sample(self, logits: np.ndarray) -> int:
        """Pick the next token from float32 logits [V] and remember it (penalties look at the history)."""


@dataclass
class DecodeStep:
    token: int
    text: str  # text this token completes, safe to send ('' while a character or a possible stop string is pending)
    finish_reason: str | None  # "stop" (EOS or stop string) or "length" (max_tokens, context full); None: go on
    eos: bool = False  # the token is an end-of-sequence token that ended the sequence (not part of the completion)


class SequenceDecode:
    """One sequence from its first sampled token to its finish reason. Not thread-safe: one owner steps it."""

    def __init__(self, tokenizer, heal: HealedPrompt, sampler: TokenSampler, *, stop: Iterable[str] = (),
                 eos_ids=frozenset(), max_tokens: int | None = None, ignore_eos: bool = False):
        """heal: the prompt (heal.ids is what to prefill; HealedPrompt(None, ids) does not heal). tokenizer None:
        token ids only (no text, no stop strings). max_tokens None: only the context limits the length."""
        self.heal, self.sampler = heal, sampler
        self.eos_ids = eos_ids if not ignore_eos else frozenset()
        self.max_tokens = max_tokens
        self.stream = TextStream(tokenizer, heal.ids, list(stop), heal) if tokenizer is not None else None
        self.tokens: list[int] = []  # every sampled token, an ending EOS included
        # one entry per leading token sampled under token healing's constraint: the ids it allowed (None: drawn
        # from logits the constraint did not mask). RL scores those tokens under the same renormalized choice.
        self.constraints: list[np.ndarray | None] = []
        self.finish_reason: str | None = None
        self.eos = False

    @classmethod
    def start(cls, tokenizer, prompt_ids: list[int], params: SamplingParams, eos_ids=frozenset(),
              ignore_eos: bool = False) -> SequenceDecode:
        """A sequence sampled with infer's Sampler under params (stop strings, max_tokens, token healing included)."""
        on = params.token_healing and params.max_tokens > 0 and tokenizer is not None
        heal = HealedPrompt(healer_for(tokenizer) if on else None, prompt_ids)
        return cls(tokenizer, heal, HistorySampler(params, heal.ids), stop=params.stop, eos_ids=eos_ids,
                   max_tokens=params.max_tokens, ignore_eos=ignore_eos)

    @property
    def prefill_ids(self) -> list[int]:
        return self.heal.ids

    @property
    def completion_tokens(self) -> int:
        """Tokens of the completion: the sampled ones less an ending EOS."""
        return len(self.tokens) - self.eos

    @property
    def text(self) -> str:
        """The text sent so far (all of it once flushed)."""
        return self.stream.text if self.stream is not None else ""

    def step(self, logits: np.ndarray, full: bool = False) -> DecodeStep:
        """Sample the next token from logits [V]; full: the context has no room to feed it back."""
        return self.accept(self.sampler.sample(self.heal.mask(logits)), full)

    def accept(self, token: int, full: bool = False) -> DecodeStep:
        """The sampled token (from this sequence's sampler on its masked logits): healing, text, finish reason."""
        if self.heal.constrained:
            self.constraints.append(self.heal.allowed_now)
        self.heal.push(token)
        self.tokens.append(token)
        if token in self.eos_ids:
            self.eos, self.finish_reason = True, "stop"
            return DecodeStep(token, "", "stop", eos=True)
        text = self.stream.push(token) if self.stream is not None else ""
        if self.stream is not None and self.stream.stopped:
            self.finish_reason = "stop"
        elif (self.max_tokens is not None and len(self.tokens) >= self.max_tokens) or full:
            self.finish_reason = "length"
        return DecodeStep(token, text, self.finish_reason)

    def flush(self) -> str:
        """At the end: the text held back (a partial stop-string prefix, an incomplete character); '' after a stop
        string. Ends the sequence as "length" if it has not ended (max_tokens 0 samples nothing)."""
        self.finish_reason = self.finish_reason or "length"
        return self.stream.flush() if self.stream is not None else ""


def step_all(seqs: Sequence[SequenceDecode], logits: np.ndarray, full: Sequence[bool]) -> list[DecodeStep]:
    """seqs[i].step(logits[i], full[i]) for a batch (B, V), the sampling done for all rows at once (sample_each):
    the same tokens as stepping each sequence alone."""
    masked = [seq.heal.mask(row) if seq.heal.constrained else row for seq, row in zip(seqs, logits)]
    if any(m is not row for m, row in zip(masked, logits)):  # a healing constraint replaced some rows
        logits = np.stack(masked)
    tokens = sample_each([seq.sampler for seq in seqs], logits)
    return [seq.accept(t, f) for seq, t, f in zip(seqs, tokens, full)]


K = TypeVar("K")


def decode_batch(engine: Engine, sequences: Iterable[tuple[K, SequenceDecode]]) -> Iterator[tuple[K, SequenceDecode | None]]:
    """Decode many sequences over the engine's slots: each free slot takes the next sequence and prefills it (what
    a slot already holds of its prompt is copied, not recomputed: Engine.take_prefix), then one batched
    engine.decode step advances every unfinished slot. Yields (key, seq) as each ends (flushed: seq.text is
    complete), (key, None) for one whose prompt is empty or does not fit the context. Sequences are drawn lazily,
    so a generator of G samples per prompt never holds more than the slots in memory."""
    pending = iter(sequences)
    active: dict[int, tuple[K, SequenceDecode, np.ndarray]] = {}  # slot -> (key, sequence, its next logits)
    decoded: tuple[list[int], np.ndarray] = ([], np.empty(0))  # the last engine.decode: its slots and logits

    def start(slot: int) -> Iterator[tuple[K, None]]:
        for key, seq in pending:
            ids = seq.prefill_ids
            reused = engine.take_prefix(slot, ids) if ids else 0
            try:
                logits = engine.prefill(slot, ids[reused:]) if ids else None
            except ContextFull:
                logits = None
            if logits is None:
                yield key, None
                continue
            active[slot] = (key, seq, logits)
            return

    for slot in range(engine.n_slots):
        yield from start(slot)
    while active:
        slots = list(active)
        # the last decode's rows as they are when no slot was refilled since; else gather each slot's row
        logits = decoded[1] if slots == decoded[0] else np.stack([active[s][2] for s in slots])
        steps = step_all([active[s][1] for s in slots], logits, [engine.length(s) >= engine.ctx for s in slots])
        step_slots, step_tokens = [], []
        for slot, step in zip(slots, steps):
            if step.finish_reason:
                decoded = ([], decoded[1])  # the slot's next row comes from a prefill, not from that decode
                key, seq, _ = active.pop(slot)
                seq.flush()
                yield key, seq
                yield from start(slot)
            else:
                step_slots.append(slot)
                step_tokens.append(step.token)
        if step_slots:
            rows = engine.decode(step_slots, step_tokens)
            decoded = (step_slots, rows)
            for slot, row in zip(step_slots, rows):
                key, seq, _ = active[slot]
                active[slot] = (key, seq, row)
