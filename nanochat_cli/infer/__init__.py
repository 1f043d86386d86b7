"""Native inference: the forward pass on the ternary kernels, KV caches, sampling, the one decode loop.

Run it with `nanochat generate MODEL --prompt TEXT`. Model files (GGUF, checkpoints, export) are formats/'s:
`from nanochat_cli.formats import load_model_weights, export_checkpoint, ModelWeights`.

The API (what `nanochat serve` builds on):

    from nanochat_cli.infer import load_model, Engine, SamplingParams, Sampler, generate

    lm = load_model("model.gguf", threads=2)   # nanochat GGUF, llama.cpp bitnet TQ2_0/TQ1_0 GGUF, or checkpoint dir
    engine = lm.engine(n_slots=4, ctx=1024)   # KV caches / DeltaNet states for 4 sequences, preallocated
    ids = lm.encode("fn main() {")            # lm.tokenizer is the HF tokenizers.Tokenizer; lm.eos_ids
    logits = engine.prefill(slot, ids)        # (V,) float32 after the last token; continues the slot's cache;
                                              #   all_logits=True -> (T, V). Raises ContextFull when it won't fit.
    logits = engine.decode([0, 2], [t0, t2])  # one batched step for several slots -> (2, V); ContextFull if a slot is full
    engine.reusable_prefix(slot, ids)         # how many leading tokens of ids the slot already caches
    engine.truncate(slot, n)                  # keep the first n cached tokens (prefix reuse); engine.reset(slot) = 0
    engine.length(slot), engine.ctx, engine.n_slots, engine.lock (every engine call takes it)
    sampler = Sampler(SamplingParams(temperature=0.7, top_p=0.9, seed=1, stop=["\\n}"]))
    tok = sampler(logits, history_ids)        # penalties use history_ids (prompt + generated)
    for ev in generate(engine, lm.tokenizer, "fn main() {", params, lm.eos_ids):
        ev.token, ev.text, ev.finish_reason   # text is UTF-8 safe and never contains a stop string;
                                              #   finish_reason "stop" (EOS / stop string) or "length" on the last
    seq = SequenceDecode.start(tokenizer, ids, params, lm.eos_ids)   # the one decode loop (infer/decode.py):
    step = seq.step(logits); seq.flush()      #   serve's slots, eval and RL (decode_batch) step it too
    IncrementalDecoder(tokenizer, prompt_ids).push(tok) -> str, StopMatcher(stops).push(text) -> str

Heavy calls (the kernels through cffi, numpy/torch array ops) release the GIL, so an asyncio server can run
the engine in a worker thread and stay responsive. An Engine is used by one thread at a time (engine.lock).
DeltaNet models cannot truncate to the middle of a cached sequence (their state is recurrent): truncate to 0.
"""

from nanochat_cli.infer.decode import DecodeStep, SequenceDecode, decode_batch
from nanochat_cli.infer.detok import IncrementalDecoder, StopMatcher, TextStream
from nanochat_cli.infer.engine import ContextFull, Engine
from nanochat_cli.infer.forward import NativeModel
from nanochat_cli.infer.generate import (
    GenerationEvent,
    GenerationStats,
    LoadedModel,
    generate,
    generate_ids,
    load_model,
)
from nanochat_cli.infer.sampling import HistorySampler, Sampler, SamplingParams

__all__ = [
    "ContextFull", "DecodeStep", "Engine", "GenerationEvent", "GenerationStats", "HistorySampler",
    "IncrementalDecoder", "LoadedModel", "NativeModel", "Sampler", "SamplingParams", "SequenceDecode",
    "StopMatcher", "TextStream", "decode_batch", "generate", "generate_ids", "load_model",
]
