"""The real engine behind the server, driven by the official `openai` client: chat and completions, streaming and
not, usage, stop strings, seeds, n, logprobs cross-checked against the torch model, batching, disconnects."""

from __future__ import annotations

import re
import threading

import httpx
import numpy as np
import pytest
import torch

from tests.serve.conftest import healthy, sse_json

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def client(engine_server):
    return openai.OpenAI(base_url=f"{engine_server.url}/v1", api_key="unused", max_retries=0, timeout=60)


def test_models_lists_the_gguf_by_name(client):
    assert [m.id for m in client.models.list().data] == ["tiny"]


def test_chat_completion_and_its_stream_agree(client):
    kw = {"model": "tiny", "max_tokens": 12, "temperature": 0,
          "messages": [{"role": "system", "content": "Write Rust."}, {"role": "user", "content": "fn add"}]}
    whole = client.chat.completions.create(**kw)
    msg = whole.choices[0]
    assert msg.message.role == "assistant" and msg.finish_reason in ("stop", "length")
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
    assert whole.usage.completion_tokens <= 12
    chunks = list(client.chat.completions.create(**kw, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert chunks[-2].choices[0].finish_reason == msg.finish_reason
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == msg.message.content


def test_completion_stream_without_usage_option_has_no_usage_chunk(client):
    chunks = list(client.completions.create(model="tiny", prompt="fn main() {", max_tokens=8, temperature=0,
                                            stream=True, extra_body={"ignore_eos": True}))
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "length"
    whole = client.completions.create(model="tiny", prompt="fn main() {", max_tokens=8, temperature=0,
                                      extra_body={"ignore_eos": True})
    assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text
    assert whole.usage.completion_tokens == 8


def test_seed_reproduces_sampled_text(client):
    kw = {"model": "tiny", "prompt": "let x =", "max_tokens": 24, "temperature": 1.0, "top_p": 0.95,
          "presence_penalty": 0.5, "frequency_penalty": 0.2,
          "extra_body": {"ignore_eos": True, "repetition_penalty": 1.1, "top_k": 50, "min_p": 0.01}}
    a = client.completions.create(seed=1234, **kw).choices[0].text
    b = client.completions.create(seed=1234, **kw).choices[0].text
    c = client.completions.create(seed=4321, **kw).choices[0].text
    assert a == b and a != c


def test_stop_string_ends_the_completion_before_it(client):
    kw = {"model": "tiny", "prompt": "pub fn", "max_tokens": 40, "temperature": 0, "extra_body": {"ignore_eos": True}}
    full = client.completions.create(**kw).choices[0].text
    assert len(full) > 6
    stop = full[len(full) // 2: len(full) // 2 + 3]
    cut = client.completions.create(stop=[stop], **kw).choices[0]
    assert cut.text == full[:full.index(stop)] and cut.finish_reason == "stop"
    streamed = client.completions.create(stop=stop, stream=True, **kw)
    assert "".join(c.choices[0].text for c in streamed) == cut.text


def test_n_choices_sample_independently(client):
    r = client.completions.create(model="tiny", prompt="fn", max_tokens=10, n=3, seed=5, temperature=1.0,
                                  extra_body={"ignore_eos": True})
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({c.text for c in r.choices}) > 1 and r.usage.completion_tokens == 30


def test_echo_logprobs_match_the_torch_model(client, tiny_model, engine_server):
    _, model = tiny_model
    prompt = "fn main() { let v = vec![1, 2]; }"
    ids = httpx.post(f"{engine_server.url}/tokenize", json={"content": prompt}).json()["tokens"]
    r = client.completions.create(model="tiny", prompt=prompt, max_tokens=0, echo=True, logprobs=1)
    lp = r.choices[0].logprobs
    assert r.choices[0].text == prompt and len(lp.token_logprobs) == len(ids) and lp.token_logprobs[0] is None
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    want = torch.log_softmax(logits, -1)[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].numpy()
    np.testing.assert_allclose(lp.token_logprobs[1:], want, atol=2e-3)
    # lm-evaluation-harness's loglikelihood request: echo + one generated token
    r2 = client.completions.create(model="tiny", prompt=prompt, max_tokens=1, echo=True, logprobs=1, temperature=0)
    assert len(r2.choices[0].logprobs.tokens) in (len(ids), len(ids) + 1)


def test_concurrent_requests_share_decode_steps(client, engine_server):
    results = []

    def one(i):
        r = client.completions.create(model="tiny", prompt=f"fn f{i}()", max_tokens=30, temperature=0,
                                      extra_body={"ignore_eos": True})
        results.append(r.usage.completion_tokens)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [30] * 4
    text = httpx.get(f"{engine_server.url}/metrics").text
    count = float(re.search(r"^nanochat_decode_batch_size_count (\S+)", text, re.MULTILINE).group(1))
    single = float(re.search(r'^nanochat_decode_batch_size_bucket\{le="1.0"\} (\S+)', text, re.MULTILINE).group(1))
    assert single < count  # some steps decoded several slots at once


def test_concurrent_sampled_requests_get_the_texts_they_get_alone(client):
    """A decode step samples its rows together (decode.step_all), each with its own settings and seed: every
    request's text is the one it gets when it runs alone."""
    settings = [dict(temperature=0.8, seed=1), dict(temperature=0.3, top_p=0.9, seed=2),
                dict(temperature=1.0, seed=3, extra_body={"min_p": 0.05}), dict(temperature=0, seed=4)]

    def one(i):
        r = client.completions.create(model="tiny", prompt=f"fn g{i}(x: i32)", max_tokens=24, **settings[i])
        return r.choices[0].text

    alone = [one(i) for i in range(4)]
    together = [None] * 4

    def run(i):
        together[i] = one(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone


def test_client_disconnect_mid_stream_frees_the_slot(client, engine_server):
    stream = client.completions.create(model="tiny", prompt="fn", max_tokens=200, stream=True,
                                       extra_body={"ignore_eos": True})
    for i, _ in enumerate(stream):
        if i == 2:
            break
    stream.close()
    import time

    deadline = time.monotonic() + 10
    while healthy(engine_server.url)["slots_processing"]:
        assert time.monotonic() < deadline, "slot still busy after the client left"
        time.sleep(0.05)
    assert client.completions.create(model="tiny", prompt="x", max_tokens=2).choices[0].finish_reason


def test_raw_chat_stream_framing_with_the_engine(engine_server):
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": True, "seed": 1}
    with httpx.stream("POST", f"{engine_server.url}/v1/chat/completions", json=body, timeout=60) as r:
        raw = r.read()
    assert raw.endswith(b"data: [DONE]\n\n")
    chunks = sse_json(raw)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert len({c["id"] for c in chunks}) == 1


def test_unknown_model_is_404_through_the_client(client):
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="gpt-4", prompt="x", max_tokens=1)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny", messages=[], max_tokens=1)


def test_chat_logprobs_have_one_entry_per_token(client):
    # token healing off: while it constrains the first tokens, greedy picks the most likely *allowed* token,
    # and logprobs stay the model's own
    r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "fn"}], max_tokens=5,
                                       temperature=0, logprobs=True, top_logprobs=2,
                                       extra_body={"ignore_eos": True, "token_healing": False})
    entries = r.choices[0].logprobs.content
    assert len(entries) == r.usage.completion_tokens
    for e in entries:
        assert len(e.top_logprobs) == 2 and e.logprob <= 0
        assert e.top_logprobs[0].logprob == pytest.approx(e.logprob, abs=1e-9)  # greedy picks the most likely


def test_repeated_prompt_reuses_the_slot_cache(engine_server):
    def reused() -> float:
        text = httpx.get(f"{engine_server.url}/metrics").text
        return float(re.search(r"^nanochat_prompt_tokens_reused_total (\S+)", text, re.MULTILINE).group(1))

    # token healing off: it would prefill the prompt less its backed-off last token
    body = {"prompt": "pub fn parse(input: &str) -> Result<Vec<u32>, String> {", "max_tokens": 2, "token_healing": False}
    ids = httpx.post(f"{engine_server.url}/tokenize", json={"content": body["prompt"]}).json()["tokens"]
    httpx.post(f"{engine_server.url}/v1/completions", json=body, timeout=60)
    before = reused()
    httpx.post(f"{engine_server.url}/v1/completions", json=body, timeout=60)
    assert reused() - before == len(ids) - 1  # all but the last prompt token came from the cache


def test_sixteen_streaming_clients_all_complete_while_health_answers(engine_server):
    import asyncio

    async def one(client, i):
        body = {"prompt": f"fn f{i}() ->", "max_tokens": 12, "stream": True, "ignore_eos": True,
                "stream_options": {"include_usage": True}}
        async with client.stream("POST", f"{engine_server.url}/v1/completions", json=body) as r:
            assert r.status_code == 200
            raw = b"".join([piece async for piece in r.aiter_raw()])
        chunks = sse_json(raw)
        assert chunks[-1]["usage"]["completion_tokens"] == 12
        assert chunks[-2]["choices"][0]["finish_reason"] == "length"

    async def main():
        health = []
        async with httpx.AsyncClient(timeout=120) as client:
            done = asyncio.Event()

            async def poll():
                while not done.is_set():
                    health.append((await client.get(f"{engine_server.url}/health")).status_code)
                    await asyncio.sleep(0.05)

            poller = asyncio.create_task(poll())
            await asyncio.gather(*(one(client, i) for i in range(16)))
            done.set()
            await poller
        return health

    health = asyncio.run(main())
    assert health and all(code == 200 for code in health)
