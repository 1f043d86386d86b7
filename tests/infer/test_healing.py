"""Token healing: the constraint on toy vocabularies (property tests), the byte-level tables of a real BPE, and a
prompt ending in "{\\n" through `generate`, `serve` and `eval` on a tiny random model."""

from __future__ import annotations

import codecs

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.infer.healing import MAX_BACKOFF, HealedPrompt, TokenHealer, healer_for, tokenizer_bytes
from nanochat_cli.infer.sampling import Sampler, SamplingParams

ALPHABET = b"ab_ \n{}\xc3\xa9"  # word bytes, whitespace, braces, and the two bytes of "é"


# ---- the constraint on toy vocabularies ----

@st.composite
def vocab_and_prompt(draw):
    """A vocabulary (id 0 special, then every byte of the alphabet, then random merges) and a prompt over it."""
    merges = draw(st.lists(st.binary(min_size=2, max_size=6).map(lambda b: bytes(ALPHABET[c % len(ALPHABET)] for c in b)),
                           max_size=30))
    vocab = [None] + [bytes([c]) for c in ALPHABET] + merges
    prompt = draw(st.lists(st.integers(0, len(vocab) - 1), min_size=1, max_size=12))
    return vocab, prompt


def _bytes(vocab, ids) -> bytes:
    return b"".join(vocab[t] or b"" if t < len(vocab) else b"" for t in ids)


def _run(vocab, prompt, seed, temperature, steps=12, dead=()):
    """Healed generation from random logits (tokens in `dead` get -inf); returns (heal, generated, completion)."""
    heal = HealedPrompt(TokenHealer(vocab), prompt)
    sampler = Sampler(SamplingParams(temperature=temperature, seed=seed))
    rng = np.random.default_rng(seed)
    generated, text, utf8 = [], [], codecs.getincrementaldecoder("utf-8")("replace")
    for _ in range(steps):
        logits = rng.normal(0, 3, len(vocab) + 3).astype(np.float32)  # a model vocabulary padded past the tokenizer's
        logits[list(dead)] = -np.inf
        masked = heal.mask(logits)
        t = sampler(masked, list(heal.ids) + generated)
        assert np.isfinite(masked[t]), "sampled a token the constraint forbids"
        heal.push(t)
        generated.append(t)
        text.append(heal.strip(utf8.decode(vocab[t] if t < len(vocab) and vocab[t] else b"")))
    text.append(heal.strip(utf8.decode(b"", final=True)))
    return heal, generated, "".join(text)


@settings(max_examples=300, deadline=None)
@given(vocab_and_prompt(), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 1.0, 5.0]))
def test_healed_generation_reproduces_the_prompt_and_returns_only_what_follows(vp, seed, temperature):
    vocab, prompt = vp
    heal, generated, completion = _run(vocab, prompt, seed, temperature)
    full, original = _bytes(vocab, heal.ids + generated), _bytes(vocab, prompt)
    assert heal.ids == prompt[:len(heal.ids)] and heal.removed == original[len(_bytes(vocab, heal.ids)):]
    if not heal.constrained:  # the constraint is met: the prompt text is a prefix of trimmed prompt + generated
        assert full.startswith(original)
        assert completion == full[len(original):].decode("utf-8", "replace")  # never R, nothing lost
    else:  # steps ran out while re-spelling R: what was generated is a prefix of R, and nothing is returned
        assert original.startswith(full) and completion == ""


@settings(max_examples=200, deadline=None)
@given(vocab_and_prompt())
def test_backoff_keeps_a_token_stops_at_specials_and_cuts_on_a_character_boundary(vp):
    vocab, prompt = vp
    heal = HealedPrompt(TokenHealer(vocab), prompt)
    n = len(prompt) - len(heal.ids)
    assert 0 <= n <= MAX_BACKOFF + 3 and (n == 0 or len(heal.ids) >= 1)
    assert all(vocab[t] is not None for t in prompt[len(heal.ids):])  # never backs into a special token
    if heal.removed:
        assert not 0x80 <= heal.removed[0] < 0xC0


@settings(max_examples=100, deadline=None)
@given(vocab_and_prompt(), st.integers(0, 2**32 - 1))
def test_when_the_model_allows_no_healing_token_the_prompt_text_is_forced(vp, seed):
    vocab, prompt = vp
    heal = HealedPrompt(TokenHealer(vocab), prompt)
    dead = [t for t in range(len(vocab)) if vocab[t] and len(vocab[t]) > 1]  # only single bytes survive...
    dead += [ALPHABET.index(heal.removed[:1]) + 1] if heal.removed else []  # ...and not R's first byte
    heal, generated, completion = _run(vocab, prompt, seed, 1.0, steps=MAX_BACKOFF * 6 + 2, dead=dead)
    full, original = _bytes(vocab, heal.ids + generated), _bytes(vocab, prompt)
    assert not heal.constrained and full.startswith(original)
    assert completion == full[len(original):].decode("utf-8", "replace")


def test_the_constrained_set_is_the_tokens_that_start_with_or_prefix_the_rest():
    vocab = [None, b"\n", b"\n  ", b"\n   ", b" ", b"  ", b"}", b"\n}", b"fi", b"fib", b"fibo", b"fibonacci", b"\xff",
             b"\xff\xff", b"\xff\xffa"]
    h = TokenHealer(vocab)

    def got(rest: bytes) -> list[bytes]:
        return sorted(vocab[i] for i in h.allowed(rest))

    assert got(b"\n") == [b"\n", b"\n  ", b"\n   ", b"\n}"]
    assert got(b"\n    ") == [b"\n", b"\n  ", b"\n   "]  # "\n   " then " " re-spells four spaces as training saw them
    assert got(b"fibo") == [b"fi", b"fib", b"fibo", b"fibonacci"]
    assert got(b"\xff\xff") == [b"\xff", b"\xff\xff", b"\xff\xffa"]


def test_healing_off_or_nothing_to_generate_changes_nothing():
    vocab = [None, b"{", b"\n", b" {"]
    for heal in (HealedPrompt(TokenHealer(vocab), [3, 2], enabled=False), HealedPrompt(None, [3, 2])):
        logits = np.arange(4, dtype=np.float32)
        assert heal.ids == [3, 2] and heal.removed == b"" and heal.mask(logits) is logits and heal.strip("x") == "x"


# ---- a real byte-level BPE ----

def test_token_bytes_match_the_tokenizer(tokenizer):
    table = tokenizer_bytes(tokenizer)
    for i, b in enumerate(table):
        if b is None:
            assert tokenizer.id_to_token(i).startswith("<|")
        else:
            assert b.decode("utf-8", "replace") == tokenizer.decode([i])


@pytest.mark.parametrize("prompt, removed", [
    ("fn main() {\n", b"\n"),                 # the trial's case: a lone "\n" token
    ("fn main() {\n    ", b"\n    "),         # the whole trailing whitespace run
    ("fn main() {\n    let x = fibo", b" fibo"),  # a word cut short: its pieces
    ("fn main() {", b" {"),                   # the last token otherwise
    ("<|fim_prefix|>\n", b"\n"),
    ("<|fim_prefix|>", b""),                  # never a special token
])
def test_what_a_prompt_backs_off(tokenizer, prompt, removed):
    heal = HealedPrompt(healer_for(tokenizer), tokenizer.encode(prompt).ids)
    assert heal.removed == removed
    assert tokenizer.decode(heal.ids, skip_special_tokens=False).encode() + removed == prompt.encode()


# ---- generate, serve and eval on a tiny model ----

PROMPT = "fn add(a: u32, b: u32) -> u32 {\n"


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    from tests.serve.tiny_model import write_tiny_model

    path = tmp_path_factory.mktemp("healing") / "tiny.gguf"
    write_tiny_model(path)
    return path


@pytest.fixture(scope="module")
def lm(tiny_gguf):
    from nanochat_cli.infer import load_model

    return load_model(str(tiny_gguf), threads=1)


def _generate(lm, healing: bool, max_tokens: int = 10):
    from nanochat_cli.infer import generate

    params = SamplingParams(temperature=0, max_tokens=max_tokens, token_healing=healing)
    events = list(generate(lm.engine(), lm.tokenizer, PROMPT, params, lm.eos_ids))
    return [ev.token for ev in events if ev.token is not None], "".join(ev.text for ev in events)


def test_generate_heals_a_prompt_ending_in_a_newline(lm):
    tokens, text = _generate(lm, True)
    heal = HealedPrompt(healer_for(lm.tokenizer), lm.encode(PROMPT))
    assert heal.removed == b"\n"
    assert lm.tokenizer.decode(tokens[:1]).startswith("\n")  # the first token re-spells the newline...
    assert PROMPT + text == lm.tokenizer.decode(heal.ids + tokens)  # ...and the completion does not repeat it
    off_tokens, off_text = _generate(lm, False)
    assert PROMPT + off_text == lm.tokenizer.decode(lm.encode(PROMPT) + off_tokens)


def test_serve_heals_by_default_and_takes_token_healing_false(lm, tiny_gguf):
    from nanochat_cli.serve.config import ServeConfig
    from nanochat_cli.serve.server import ServerThread

    server = ServerThread(ServeConfig(model=str(tiny_gguf), port=0, parallel=2)).start()
    try:
        def complete(**extra):
            r = httpx.post(f"{server.url}/v1/completions", json={"prompt": PROMPT, "max_tokens": 10, "temperature": 0,
                                                                  "logprobs": 0, **extra}, timeout=60)
            assert r.status_code == 200, r.text
            return r.json()["choices"][0]

        healed = complete()
        assert healed["text"] == _generate(lm, True)[1]
        first = healed["logprobs"]["tokens"][0]
        assert first.startswith("\n") and "".join(healed["logprobs"]["tokens"]).startswith("\n" + healed["text"])
        assert complete(token_healing=False)["text"] == _generate(lm, False)[1]
        bad = httpx.post(f"{server.url}/v1/completions", json={"prompt": PROMPT, "token_healing": "no"}, timeout=60)
        assert bad.status_code == 400 and "token_healing" in bad.text
    finally:
        server.stop()


def test_eval_engine_source_heals_like_generate(lm, tiny_gguf):
    from nanochat_cli.evaluate.engine_source import EngineSource
    from nanochat_cli.evaluate.completion_sources import CompletionRequest, GenerationParams, eval_sampling

    source = EngineSource(tiny_gguf, batch=2, threads=1)
    reqs = [CompletionRequest("add", PROMPT, ("\n}",))]
    for healing in (True, False):
        params = GenerationParams(sampling=eval_sampling(temperature=0.0, max_tokens=10, token_healing=healing))
        got = source.complete(reqs, params).completions[0][0]
        _, text = _generate(lm, healing)
        assert got == text.split("\n}")[0]  # the stop string is matched on the text after the prompt
