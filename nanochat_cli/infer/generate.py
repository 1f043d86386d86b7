"""Loading a model for inference and generating from one prompt: what `nanochat generate` runs.

    lm = load_model("model.gguf")                       # or a checkpoint directory, or a llama.cpp bitnet GGUF
    for ev in generate(lm.engine(), lm.tokenizer, "fn main() {", SamplingParams(temperature=0)):
        print(ev.text, end="")                          # ev.finish_reason is set on the last event
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.model_file import load_model_weights
from nanochat_cli.formats.weights import ModelWeights
from nanochat_cli.infer.decode import DecodeStep, SequenceDecode
from nanochat_cli.infer.engine import Engine
from nanochat_cli.infer.forward import NativeModel
from nanochat_cli.infer.healing import HealedPrompt
from nanochat_cli.infer.sampling import HistorySampler, SamplingParams

EOT = "<|endoftext|>"


@dataclass
class LoadedModel:
    model: NativeModel
    tokenizer: object  # tokenizers.Tokenizer
    weights: ModelWeights
    eos_ids: set[int] = field(default_factory=set)

    def engine(self, n_slots: int = 1, ctx: int | None = None) -> Engine:
        return Engine(self.model, n_slots, ctx)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(utf8_text(text), add_special_tokens=False).ids


def load_model(path, threads: int | None = None, mix=np.float32, int8_head: bool | None = None) -> LoadedModel:
    """A nanochat GGUF, llama.cpp bitnet GGUF or checkpoint directory, ready to run (kernel layouts built).

    mix=np.float64 is the reference mode (matches the torch model to float rounding); int8_head: see NativeModel."""
    if threads:
        from nanochat_cli.kernels import set_threads

        set_threads(int(threads))
    weights = load_model_weights(path)
    tokenizer = weights.tokenizer()
    model = NativeModel(weights, mix=mix, int8_head=int8_head)
    eos = {i for i in (tokenizer.token_to_id(EOT),) if i is not None} | set(weights.eos_ids)
    return LoadedModel(model, tokenizer, weights, eos)


def utf8_text(text: str, what: str = "the prompt") -> str:
    """text itself when it is valid Unicode; a lone surrogate (e.g. bytes that were not UTF-8 in a shell argument,
    which Python keeps as surrogate escapes) is one clear error instead of the tokenizer's TypeError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NanochatError(f"{what} is not valid UTF-8 text (character {e.start} is {text[e.start]!r}, from bytes "
                            "that are not UTF-8 or a lone surrogate); pass UTF-8 text") from None
    return text


@dataclass
class GenerationEvent:
    token: int | None  # None on a final event that carries no new token
    text: str  # text completed by this token ('' while a UTF-8 character or a possible stop string is pending)
    finish_reason: str | None = None  # "stop" (EOS or stop string), "length" (max_tokens or context full)


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    generated_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0

    @property
    def prefill_tps(self) -> float:
        return self.prompt_tokens / self.prefill_seconds if self.prefill_seconds else 0.0

    @property
    def decode_tps(self) -> float:
        # the first token comes from the prefill logits; decode steps = generated - 1
        steps = max(self.generated_tokens - 1, 0)
        return steps / self.decode_seconds if self.decode_seconds else 0.0


def generate_ids(engine: Engine, prompt_ids: list[int], params: SamplingParams, eos_ids=frozenset(),
                 slot: int = 0, stats: GenerationStats | None = None,
                 heal: HealedPrompt | None = None) -> Iterator[tuple[int, str | None]]:
    """Token ids for one prompt: yields (token, None) ..., the last one with its finish reason. No text, so
    params.stop is not looked at (generate matches stop strings).

    With heal, prompt_ids is heal.ids and the first tokens are constrained to re-spell the backed-off text.
    A prompt that does not fit the context raises ContextFull; reaching the context ends with "length"."""
    heal = heal if heal is not None else HealedPrompt(None, prompt_ids)
    seq = SequenceDecode(None, heal, HistorySampler(params, heal.ids), eos_ids=eos_ids, max_tokens=params.max_tokens)
    for step in _decode_one(engine, seq, slot, stats):
        yield step.token, step.finish_reason


def generate(engine: Engine, tokenizer, prompt: str | list[int], params: SamplingParams, eos_ids=frozenset(),
             slot: int = 0, stats: GenerationStats | None = None) -> Iterator[GenerationEvent]:
    """Text events for one prompt, UTF-8 safe, stop strings cut out; the last event has finish_reason set.

    The text is what follows the prompt exactly: with token healing the first tokens re-spell the prompt's
    backed-off end, and that text is not returned (nor matched against stop strings)."""
    ids = prompt if isinstance(prompt, list) else tokenizer.encode(utf8_text(prompt), add_special_tokens=False).ids
    seq = SequenceDecode.start(tokenizer, ids, params, eos_ids)
    for step in _decode_one(engine, seq, slot, stats):
        if step.finish_reason:
            yield GenerationEvent(step.token, step.text + seq.flush(), step.finish_reason)
            return
        yield GenerationEvent(step.token, step.text)
    yield GenerationEvent(None, seq.flush(), "length")  # max_tokens == 0


def _decode_one(engine: Engine, seq: SequenceDecode, slot: int, stats: GenerationStats | None) -> Iterator[DecodeStep]:
    """seq on one slot: prefill, then one decode step per token until it ends (nothing when max_tokens is 0)."""
    stats = stats if stats is not None else GenerationStats()
    if not seq.prefill_ids:
        raise NanochatError("the prompt is empty; give at least one token of text")
    if seq.max_tokens == 0:
        return
    engine.reset(slot)
    t0 = time.perf_counter()
    logits = engine.prefill(slot, seq.prefill_ids)
    stats.prompt_tokens, stats.prefill_seconds = len(seq.prefill_ids), time.perf_counter() - t0
    t0 = time.perf_counter()
    while True:
        step = seq.step(logits, full=engine.length(slot) >= engine.ctx)
        stats.generated_tokens += 1
        stats.decode_seconds = time.perf_counter() - t0  # kept current: a consumer may stop early (stop string)
        yield step
        if step.finish_reason:
            return
        logits = engine.decode([slot], [step.token])[0]
