"""BigramBackend: a test double for the HTTP layer — a seeded random bigram table behind the ServingBackend protocol.

It has per-slot caches like the real engine (so prefix reuse and cancellation are observable) but costs
microseconds per step, so the framing and validation tests run fast. The real engine is tested in
test_engine_backend.py and test_openai_client.py.
"""

from __future__ import annotations

import threading

import numpy as np
from tokenizers import Tokenizer

from nanochat_cli.data.tokenizer import train_tokenizer

TEXT = [
    "fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n",
    "pub fn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{:?}\", x);\n}\n",
    "struct Point { x: f64, y: f64 }\nimpl Point { fn norm(&self) -> f64 { (self.x * self.x).sqrt() } }\n",
    "Hello, world! Ünïcödé ✓ 日本語のテキスト\n",
] * 20


def small_tokenizer(vocab_size: int = 400) -> Tokenizer:
    return train_tokenizer(TEXT, vocab_size)


class BigramSampler:
    def __init__(self, temperature: float, seed: int | None):
        self.temperature = temperature
        self.rng = np.random.default_rng(seed)

    def sample(self, logits: np.ndarray) -> int:
        if self.temperature == 0:
            return int(np.argmax(logits))
        p = np.exp((logits - logits.max()) / self.temperature)
        return int(self.rng.choice(len(p), p=p / p.sum()))


class BigramBackend:
    def __init__(self, n_slots: int = 4, ctx: int = 256, seed: int = 0, eos_boost: float = 0.0,
                 step_delay: float = 0.0, poison_token: int | None = None, fim_rate: float | None = None):
        self.tok = self.tokenizer = small_tokenizer()
        self.model_id = "bigram-test"
        self.n_slots, self.ctx = n_slots, ctx
        self.vocab_size = self.tok.get_vocab_size()
        self.eos_ids = frozenset({0})
        self.chat_template, self.bos_token, self.eos_token = None, "", "<|endoftext|>"
        self.fim_token_ids = tuple(self.tok.token_to_id(t) for t in ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"))
        self.fim_rate = fim_rate
        rng = np.random.default_rng(seed)
        self.table = rng.normal(0, 3, (self.vocab_size, self.vocab_size)).astype(np.float32)
        self.table[:, 0] += eos_boost
        self.table[:, 1:5] = -1e9  # never sample the FIM / pad specials
        self.caches: list[list[int]] = [[] for _ in range(n_slots)]
        self.prefilled_tokens = 0  # tokens actually run through prefill (prefix reuse skips some)
        self.step_delay = step_delay
        self.poison_token = poison_token  # prefill of a prompt holding it raises, as a broken model would
        self._pause = threading.Event()
        self._pause.set()
        # clear() it and every encode waits (a tokenization in flight); encodes_started counts the callers
        self.encode_gate = threading.Event()
        self.encode_gate.set()
        self.encodes_started = 0

    def encode(self, text: str) -> list[int]:
        self.encodes_started += 1
        self.encode_gate.wait()
        return self.tok.encode_batch([text])[0].ids  # releases the GIL, as EngineBackend.encode does

    def decode_text(self, ids: list[int]) -> str:
        return self.tok.decode(ids)

    def token_text(self, token_id: int) -> str:
        return self.tok.decode([token_id], skip_special_tokens=False)

    def reusable_prefix(self, slot, ids):
        n = 0
        for a, b in zip(self.caches[slot], ids[:-1]):
            if a != b:
                break
            n += 1
        return n

    def length(self, slot):
        return len(self.caches[slot])

    def prefill(self, slot, start, ids, all_logits=False):
        assert start <= len(self.caches[slot])
        if self.poison_token in ids:
            raise FloatingPointError("poisoned prompt")
        self.caches[slot] = self.caches[slot][:start] + list(ids)
        self.prefilled_tokens += len(ids)
        rows = self.table[np.asarray(ids)]
        return rows if all_logits else rows[-1]

    def decode(self, slots, tokens):
        self._pause.wait()
        if self.step_delay:
            import time

            time.sleep(self.step_delay)
        for s, t in zip(slots, tokens):
            self.caches[s].append(t)
        return self.table[np.asarray(tokens)]

    def new_sampler(self, req, seed, prompt_ids):
        return BigramSampler(req.sampling.temperature, seed)
