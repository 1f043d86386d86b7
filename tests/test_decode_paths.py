"""`generate`, the serve scheduler and the eval engine source decode the same token script to the same text and
finish reason: stop strings split across tokens or at the very start, multi-byte characters split across byte
tokens, max_tokens, EOS. A scripted engine forces each next token (greedy on a one-hot logit), so the cases are
exact; the test BPE is serve's (tests/serve/bigram_backend.py)."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import numpy as np
import pytest

from nanochat_cli.evaluate.engine_source import EngineSource
from nanochat_cli.evaluate.completion_sources import CompletionRequest, GenerationParams, eval_sampling
from nanochat_cli.infer import HistorySampler, SamplingParams, generate
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.server import ServerThread
from tests.serve.bigram_backend import small_tokenizer

TOK = small_tokenizer()
EOS = TOK.token_to_id("<|endoftext|>")
PROMPT = "fn main() {"


def ids(*pieces: str) -> list[int]:
    """Each piece tokenized alone: a token boundary falls between pieces."""
    return [t for p in pieces for t in TOK.encode(p).ids]


# name -> (token script, stop strings, max_tokens, expected text, expected finish reason)
CASES = {
    "stop split across tokens": (ids("let x = 1;", "\n", "}", " more"), ["\n}"], 20, "let x = 1;", "stop"),
    "stop at the very start": (ids("\n", "}", "rest of it"), ["\n}"], 20, "", "stop"),
    "stop inside held-back text": (ids("ab", "\n", "c\n}", "d"), ["\n}", "\nx"], 20, "ab\nc", "stop"),
    "multi-byte split across tokens": (ids("a🙂b", " λ") + [EOS], [], 20, "a🙂b λ", "stop"),
    "stop string that is a multi-byte character": (ids("x🙂y"), ["🙂"], 20, "x", "stop"),
    "max_tokens reached": (ids("let mut v = Vec::new();"), [";"], 4, TOK.decode(ids("let mut v = Vec::new();")[:4]),
                           "length"),
    "max_tokens cuts a character": (ids("a🙂b"), [], 3, "a\ufffd", "length"),
    "EOS": (ids("fn x") + [EOS] + ids("junk"), ["\n}"], 20, "fn x", "stop"),
    "EOS after part of a character": (ids("a🙂")[:3] + [EOS], [], 20, "a\ufffd", "stop"),
    "pending stop prefix released at the end": (ids("a\n"), ["\n}"], 2, "a\n", "length"),
}


class ScriptedEngine:
    """Engine / ServingBackend double: whatever the prompt, the k-th generated token of a slot is script[k]."""

    def __init__(self, script: list[int], n_slots: int = 2, ctx: int = 256):
        self.script, self.n_slots, self.ctx = script, n_slots, ctx
        self.tokenizer, self.vocab_size = TOK, TOK.get_vocab_size()
        self.cached, self.made = [0] * n_slots, [0] * n_slots  # cached tokens, generated tokens per slot
        # ServingBackend's text and identity fields
        self.model_id, self.eos_ids, self.chat_template = "scripted", frozenset({EOS}), None
        self.bos_token, self.eos_token = "", "<|endoftext|>"

    def _logits(self, slot: int) -> np.ndarray:
        row = np.zeros(self.vocab_size, np.float32)
        row[self.script[self.made[slot] % len(self.script)]] = 10.0
        return row

    # ---- infer Engine ----
    def reset(self, slot):
        self.cached[slot] = self.made[slot] = 0

    def length(self, slot):
        return self.cached[slot]

    def take_prefix(self, slot, ids_):  # no prefix reuse: every prompt is prefilled whole
        self.reset(slot)
        return 0

    def prefill(self, slot, *args, all_logits=False):  # Engine: (slot, ids); ServingBackend: (slot, start, ids)
        ids_ = args[-1]
        start = args[0] if len(args) == 2 else self.cached[slot]
        self.cached[slot], self.made[slot] = start + len(ids_), 0
        row = self._logits(slot)
        return np.tile(row, (len(ids_), 1)) if all_logits else row

    def decode(self, slots, tokens):
        for s in slots:
            self.cached[s] += 1
            self.made[s] += 1
        return np.stack([self._logits(s) for s in slots])

    # ---- ServingBackend ----
    def encode(self, text):
        return TOK.encode(text).ids

    def decode_text(self, ids_):
        return TOK.decode(ids_)

    def token_text(self, token_id):
        return TOK.decode([token_id], skip_special_tokens=False)

    def reusable_prefix(self, slot, ids_):
        return 0

    def new_sampler(self, req, seed, prompt_ids):
        return HistorySampler(SamplingParams(temperature=req.sampling.temperature, seed=seed), prompt_ids)


def via_generate(script, stops, max_tokens):
    params = SamplingParams(temperature=0, max_tokens=max_tokens, stop=stops, token_healing=False)
    events = list(generate(ScriptedEngine(script), TOK, PROMPT, params, {EOS}))
    assert all(e.finish_reason is None for e in events[:-1])
    return "".join(e.text for e in events), events[-1].finish_reason


def via_eval(script, stops, max_tokens):
    source = object.__new__(EngineSource)  # its model load replaced by the scripted engine
    source.lm = SimpleNamespace(tokenizer=TOK, eos_ids={EOS}, encode=lambda text: TOK.encode(text).ids)
    source.engine, source.context_overflows = ScriptedEngine(script), 0
    params = GenerationParams(2, eval_sampling(temperature=0.0, max_tokens=max_tokens, token_healing=False))
    got = source.complete([CompletionRequest("p", PROMPT, tuple(stops))], params).completions[0]
    assert got[0] == got[1]
    return got[0], None  # the eval source records no finish reason


@pytest.fixture(scope="module")
def serve_url():
    backend = ScriptedEngine([0])
    server = ServerThread(ServeConfig(port=0, parallel=2), lambda _cfg: backend).start()
    yield server.url, backend
    server.stop()


@pytest.mark.parametrize("case", CASES)
def test_generate_serve_and_eval_decode_a_script_alike(case, serve_url):
    script, stops, max_tokens, text, finish = CASES[case]
    assert via_generate(script, stops, max_tokens) == (text, finish)
    assert via_eval(script, stops, max_tokens)[0] == text
    url, backend = serve_url
    backend.script = script
    for stream in (False, True):
        body = {"prompt": PROMPT, "max_tokens": max_tokens, "temperature": 0, "stop": stops, "token_healing": False,
                "stream": stream}
        r = httpx.post(f"{url}/v1/completions", json=body, timeout=30)
        assert r.status_code == 200, r.text
        if stream:
            from tests.serve.conftest import sse_json

            chunks = sse_json(r.content)
            got = ("".join(c["choices"][0]["text"] for c in chunks),
                   next(c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0].get("finish_reason")))
        else:
            got = (r.json()["choices"][0]["text"], r.json()["choices"][0]["finish_reason"])
        assert got == (text, finish), f"serve stream={stream}"
