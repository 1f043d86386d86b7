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
from nanochat_cli.infer.detok import StopMatcher
from nanochat_cli.infer.engine import Engine
from nanochat_cli.infer.forward import NativeModel
from nanochat_cli.infer.healing import HealedPrompt, healer_for
from nanochat_cli.infer.sampling import Sampler, SamplingParams
from nanochat_cli.infer.weights import ModelWeights, load_model_weights

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
    """Token ids for one prompt: yields (token, None) ..., the last one with its finish reason.

    With heal, prompt_ids is heal.ids and the first tokens are constrained to re-spell the backed-off text.
    A prompt that does not fit the context raises ContextFull; reaching the context ends with "length"."""
    stats = stats if stats is not None else GenerationStats()
    sampler = Sampler(params)
    if not prompt_ids:
        raise NanochatError("the prompt is empty; give at least one token of text")
    if params.max_tokens == 0:
        return
    engine.reset(slot)
    t0 = time.perf_counter()
    logits = engine.prefill(slot, prompt_ids)
    stats.prompt_tokens, stats.prefill_seconds = len(prompt_ids), time.perf_counter() - t0
    history = list(prompt_ids)
    t0 = time.perf_counter()
    while True:
        tok = sampler(heal.mask(logits) if heal else logits, history)
        if heal:
            heal.push(tok)
        history.append(tok)
        stats.generated_tokens += 1
        stats.decode_seconds = time.perf_counter() - t0  # kept current: a consumer may stop early (stop string)
        if tok in eos_ids:
            yield tok, "stop"
            return
        if stats.generated_tokens >= params.max_tokens or engine.length(slot) >= engine.ctx:
            yield tok, "length"
            return
        yield tok, None
        logits = engine.decode([slot], [tok])[0]


def generate(engine: Engine, tokenizer, prompt: str | list[int], params: SamplingParams, eos_ids=frozenset(),
             slot: int = 0, stats: GenerationStats | None = None) -> Iterator[GenerationEvent]:
    """Text events for one prompt, UTF-8 safe, stop strings cut out; the last event has finish_reason set.

    The text is what follows the prompt exactly: with token healing the first tokens re-spell the prompt's
    backed-off end, and that text is not returned (nor matched against stop strings)."""
    ids = prompt if isinstance(prompt, list) else tokenizer.encode(utf8_text(prompt), add_special_tokens=False).ids
    heal = HealedPrompt(healer_for(tokenizer), ids, params.token_healing and params.max_tokens > 0)
    decoder = heal.decoder(tokenizer)
    stops = StopMatcher(params.stop)
    finish = None
    for tok, finish in generate_ids(engine, heal.ids, params, eos_ids, slot, stats, heal):
        if finish == "stop" and tok in eos_ids:
            yield GenerationEvent(tok, stops.flush(), "stop")
            return
        text = stops.push(decoder.push(tok))
        if stops.stopped:
            yield GenerationEvent(tok, text, "stop")
            return
        if finish:
            yield GenerationEvent(tok, text + stops.push(decoder.flush()) + stops.flush(), finish)
            return
        yield GenerationEvent(tok, text)
    if finish is None:  # max_tokens == 0
        yield GenerationEvent(None, "", "length")
