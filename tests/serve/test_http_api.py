"""The HTTP surface with the bigram test double: shapes, exact SSE framing, logprobs, limits, errors, auth."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

from tests.serve.conftest import healthy, sse_events, sse_json, start_bigram_server


def post(url: str, path: str, body, **kw) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=30, **kw)


# ---- happy paths ----

def test_health_models_and_tokenize_round_trip(bigram_server):
    server, backend = bigram_server
    assert healthy(server.url)["status"] == "ok"
    models = httpx.get(f"{server.url}/v1/models").json()
    assert models["object"] == "list" and models["data"][0]["id"] == "bigram-test"
    text = "fn main() { ✓ }"
    ids = post(server.url, "/tokenize", {"content": text}).json()["tokens"]
    assert ids == backend.encode(text)
    assert post(server.url, "/detokenize", {"tokens": ids}).json()["content"] == text


def test_completion_shape_and_usage(bigram_server):
    server, backend = bigram_server
    # token healing off: the argmax chain below starts at the prompt's own last token
    r = post(server.url, "/v1/completions", {"prompt": "fn add", "max_tokens": 7, "temperature": 0,
                                             "token_healing": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "length" and choice["logprobs"] is None
    assert body["usage"] == {"prompt_tokens": len(backend.encode("fn add")), "completion_tokens": 7,
                             "total_tokens": len(backend.encode("fn add")) + 7}
    # greedy bigram: the text is the argmax chain from the last prompt token
    ids, t = [], backend.encode("fn add")[-1]
    for _ in range(7):
        t = int(np.argmax(backend.table[t]))
        ids.append(t)
    assert choice["text"] == backend.decode_text(ids)


def test_completion_stream_framing_is_exact(bigram_server):
    server, _ = bigram_server
    body = {"prompt": "fn add", "max_tokens": 6, "temperature": 0, "stream": True}
    with httpx.stream("POST", f"{server.url}/v1/completions", json=body, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read()
    chunks = sse_json(raw)
    assert all(c["object"] == "text_completion" and "usage" not in c for c in chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "length"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    streamed = "".join(c["choices"][0]["text"] for c in chunks)
    whole = post(server.url, "/v1/completions", {**body, "stream": False}).json()["choices"][0]["text"]
    assert streamed == whole


def test_chat_stream_role_first_finish_last_usage_only_when_asked(bigram_server):
    server, _ = bigram_server
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=30) as r:
        chunks = sse_json(r.read())
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["completion_tokens"] <= 5
    final = chunks[-2]["choices"][0]
    assert final["delta"] == {} and final["finish_reason"] in ("stop", "length")
    assert all(c["usage"] is None for c in chunks[:-1])
    plain = post(server.url, "/v1/chat/completions", {**body, "stream": False, "stream_options": None}).json()
    assert plain["object"] == "chat.completion"
    assert plain["choices"][0]["message"]["content"] == "".join(c["choices"][0]["delta"].get("content", "")
                                                              for c in chunks[:-1])


def test_n_choices_and_prompt_lists_are_indexed(bigram_server):
    server, _ = bigram_server
    r = post(server.url, "/v1/completions", {"prompt": ["fn a", "fn b"], "n": 2, "max_tokens": 3, "seed": 1})
    body = r.json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2, 3]
    assert r.status_code == 200 and body["usage"]["completion_tokens"] == 12


def test_echo_logprobs_score_the_prompt_like_the_model(bigram_server):
    server, backend = bigram_server
    prompt = "fn main() { let x = 1; }"
    ids = backend.encode(prompt)
    r = post(server.url, "/v1/completions", {"prompt": prompt, "max_tokens": 0, "echo": True, "logprobs": 2})
    lp = r.json()["choices"][0]["logprobs"]
    assert r.json()["choices"][0]["text"] == prompt
    assert lp["tokens"] == [backend.token_text(t) for t in ids]
    assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
    for i in range(1, len(ids)):
        row = backend.table[ids[i - 1]].astype(np.float64)
        want = row[ids[i]] - np.logaddexp.reduce(row)
        assert lp["token_logprobs"][i] == pytest.approx(want, abs=1e-6)
        assert len(lp["top_logprobs"][i]) <= 2
        assert max(lp["top_logprobs"][i].values()) == pytest.approx(row.max() - np.logaddexp.reduce(row), abs=1e-6)
    assert lp["text_offset"][0] == 0


def test_echo_of_a_one_token_prompt_and_of_a_prompt_spanning_prefill_chunks(bigram_server):
    server, backend = bigram_server
    r = post(server.url, "/v1/completions", {"prompt": [42], "max_tokens": 0, "echo": True, "logprobs": 0})
    assert r.json()["choices"][0]["logprobs"]["token_logprobs"] == [None]
    ids = (backend.encode("fn main() { let x = vec![1, 2, 3]; }") * 20)[:129]  # prefill chunks of 64, 64, 1
    r = post(server.url, "/v1/completions", {"prompt": ids, "max_tokens": 0, "echo": True, "logprobs": 0})
    lps = r.json()["choices"][0]["logprobs"]["token_logprobs"]
    assert len(lps) == 129 and all(v is not None for v in lps[1:])


def test_seed_reproduces_and_different_seeds_differ(bigram_server):
    server, _ = bigram_server
    body = {"prompt": "struct", "max_tokens": 20, "temperature": 1.0}
    a = post(server.url, "/v1/completions", {**body, "seed": 7}).json()["choices"][0]["text"]
    b = post(server.url, "/v1/completions", {**body, "seed": 7}).json()["choices"][0]["text"]
    c = post(server.url, "/v1/completions", {**body, "seed": 8}).json()["choices"][0]["text"]
    assert a == b and a != c


def test_stop_string_cuts_the_completion(bigram_server):
    server, _ = bigram_server
    body = {"prompt": "fn", "max_tokens": 30, "temperature": 0}
    full = post(server.url, "/v1/completions", body).json()["choices"][0]["text"]
    stop = full[len(full) // 2:len(full) // 2 + 2]
    r = post(server.url, "/v1/completions", {**body, "stop": [stop]}).json()["choices"][0]
    assert r["text"] == full[:full.index(stop)] and r["finish_reason"] == "stop"


def test_prefix_reuse_skips_the_cached_prompt(bigram_server):
    server, backend = bigram_server
    prompt = "pub fn main() { let x = vec![1, 2, 3]; println!(x); }" * 3
    post(server.url, "/v1/completions", {"prompt": prompt, "max_tokens": 2})
    before = backend.prefilled_tokens
    post(server.url, "/v1/completions", {"prompt": prompt, "max_tokens": 2})
    assert backend.prefilled_tokens - before == 1  # only the last prompt token is run again
    assert "nanochat_prompt_tokens_reused_total" in httpx.get(f"{server.url}/metrics").text


def test_metrics_expose_the_promised_series(bigram_server):
    server, _ = bigram_server
    post(server.url, "/v1/completions", {"prompt": "x", "max_tokens": 2})
    text = httpx.get(f"{server.url}/metrics").text
    for name in ("nanochat_requests_total", "nanochat_prompt_tokens_total", "nanochat_generated_tokens_total",
                 "nanochat_time_to_first_token_seconds_bucket", "nanochat_request_latency_seconds_bucket",
                 "nanochat_slots_busy", "nanochat_queue_depth"):
        assert name in text, name
    assert 'endpoint="/v1/completions",status="200"' in text


# ---- bad input ----

BAD_REQUESTS = [
    ("/v1/completions", {"prompt": "x", "max_tokens": -1}, 400, "max_tokens"),
    ("/v1/completions", {"prompt": "x", "max_tokens": 10**9}, 400, "max_tokens"),
    ("/v1/completions", {"prompt": "x", "max_tokens": "5"}, 400, "max_tokens"),
    ("/v1/completions", {"prompt": "x", "temperature": "hot"}, 400, "temperature"),
    ("/v1/completions", {"prompt": "x", "temperature": 9}, 400, "temperature"),
    ("/v1/completions", {"prompt": "x", "stream": "yes"}, 400, "stream"),
    ("/v1/completions", {"prompt": "x", "n": 99}, 400, "n"),
    ("/v1/completions", {"prompt": "x", "stop": [1, 2]}, 400, "stop"),
    ("/v1/completions", {"prompt": 5}, 400, "prompt"),
    ("/v1/completions", {"prompt": [10**9]}, 400, "prompt"),
    ("/v1/completions", {"max_tokens": 3}, 400, "prompt"),
    ("/v1/completions", {"prompt": "x", "model": "gpt-4"}, 404, "model"),
    ("/v1/completions", {"prompt": "x " * 400, "max_tokens": 10}, 400, "max_tokens"),
    ("/v1/chat/completions", {"messages": []}, 400, "messages"),
    ("/v1/chat/completions", {"messages": "hi"}, 400, "messages"),
    ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}, 400, "messages[0].role"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": 3}]}, 400, "messages[0].content"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}] * 300}, 400, "messages"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "stream_options": {}}, 400,
     "stream_options"),
    ("/v1/completions", {"prompt": "x", "logit_bias": {"5": 100}}, 400, "logit_bias"),
    ("/v1/completions", {"prompt": "x", "best_of": 3}, 400, "best_of"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                              "response_format": {"type": "json_object"}}, 400, "response_format"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}, 400,
     "tools"),
    ("/tokenize", {"content": 3}, 400, "content"),
    ("/detokenize", {"tokens": [-1]}, 400, "tokens"),
]


@pytest.mark.parametrize("path,body,status,param", BAD_REQUESTS)
def test_bad_requests_get_openai_errors_and_the_server_stays_healthy(bigram_server, path, body, status, param):
    server, _ = bigram_server
    r = post(server.url, path, body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) >= {"message", "type", "code"} and err["message"] and err["param"] == param
    healthy(server.url)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_json_is_400(bigram_server, raw):
    server, _ = bigram_server
    r = httpx.post(f"{server.url}/v1/completions", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabyte_body_is_413_and_the_server_survives(bigram_server, chunked):
    server, _ = bigram_server
    blob = b'{"prompt": "' + b"a" * (10 << 20) + b'"}'
    # chunked: no Content-Length to refuse up front, so the limit must hold while the body is read
    content = (blob[i:i + (1 << 20)] for i in range(0, len(blob), 1 << 20)) if chunked else blob
    r = httpx.post(f"{server.url}/v1/completions", content=content, headers={"Content-Type": "application/json"},
                   timeout=60)
    assert r.status_code == 413 and r.json()["error"]["type"] == "invalid_request_error"
    assert post(server.url, "/v1/completions", {"prompt": "x", "max_tokens": 1}).status_code == 200


def test_unknown_route_and_wrong_method_are_json_errors(bigram_server):
    server, _ = bigram_server
    assert httpx.get(f"{server.url}/v2/nothing").json()["error"]["code"] == "not_found"
    r = httpx.get(f"{server.url}/v1/completions")
    assert r.status_code == 405 and "error" in r.json()


# ---- auth, queueing, disconnects, pings ----

def test_api_key_bearer_or_header_and_health_stays_open():
    server, _ = start_bigram_server(api_key="s3cret", parallel=1)
    try:
        body = {"prompt": "x", "max_tokens": 1}
        assert healthy(server.url)["status"] == "ok"
        r = post(server.url, "/v1/completions", body)
        assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
        r = post(server.url, "/v1/completions", body, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert post(server.url, "/v1/completions", body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert post(server.url, "/v1/completions", body, headers={"X-Api-Key": "s3cret"}).status_code == 200
        assert httpx.get(f"{server.url}/metrics").status_code == 401
    finally:
        server.stop()


def generated_tokens(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return float(next(line.split()[1] for line in text.splitlines()
                      if line.startswith("nanochat_generated_tokens_total ")))


def wait_for(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_full_queue_is_429_and_disconnect_frees_the_slot():
    server, _ = start_bigram_server(parallel=1, max_queue=0, eos_boost=-100.0, step_delay=0.01, ctx=4096)
    try:
        body = {"prompt": "fn", "max_tokens": 3000, "stream": True}
        with httpx.stream("POST", f"{server.url}/v1/completions", json=body, timeout=30) as r:
            it = r.iter_raw()
            next(it)
            wait_for(lambda: healthy(server.url)["slots_processing"] == 1)
            busy = post(server.url, "/v1/completions", {"prompt": "x", "max_tokens": 1})
            assert busy.status_code == 429 and busy.json()["error"]["type"] == "rate_limit_error"
        # the client closed mid-stream: its slot is free again long before its 3000 tokens could be done
        wait_for(lambda: healthy(server.url)["slots_processing"] == 0)
        assert generated_tokens(server.url) < 3000
        assert post(server.url, "/v1/completions", {"prompt": "x", "max_tokens": 1}).status_code == 200
    finally:
        server.stop()


def test_idle_stream_gets_ping_comments():
    server, backend = start_bigram_server(parallel=1, ping_interval=0.05, eos_boost=-100.0)
    try:
        backend._pause.clear()  # decode blocks: the stream sits idle after its first token
        body = {"prompt": "fn", "max_tokens": 3, "stream": True}
        with httpx.stream("POST", f"{server.url}/v1/completions", json=body, timeout=30) as r:
            got = b""
            for piece in r.iter_raw():
                got += piece
                if b": ping\n\n" in got:
                    backend._pause.set()
            blocks = sse_events(got)
        assert ": ping" in blocks and blocks[-1] == "data: [DONE]"
    finally:
        backend._pause.set()
        server.stop()


def test_next_event_times_out_and_delivers():
    """The idle-ping wait hands over a queued event and raises asyncio.TimeoutError when nothing comes."""
    import asyncio

    from nanochat_cli.serve import completions

    async def check():
        q: asyncio.Queue = asyncio.Queue()
        q.put_nowait((0, "event"))
        assert await completions._next_event(q, 1.0) == (0, "event")
        with pytest.raises(asyncio.TimeoutError):
            await completions._next_event(q, 0.01)

    asyncio.run(check())


def test_non_streaming_client_that_gives_up_frees_its_slot():
    server, _ = start_bigram_server(parallel=1, eos_boost=-100.0, step_delay=0.01, ctx=4096)
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{server.url}/v1/completions", json={"prompt": "fn", "max_tokens": 3000}, timeout=0.3)
        wait_for(lambda: healthy(server.url)["slots_processing"] == 0)
        assert generated_tokens(server.url) < 3000  # cancelled, not run to the end (~30 s of steps)
        assert post(server.url, "/v1/completions", {"prompt": "x", "max_tokens": 1}).status_code == 200
    finally:
        server.stop()


def test_a_prompt_that_breaks_the_model_fails_alone():
    server, _ = start_bigram_server(parallel=2, eos_boost=-100.0, step_delay=0.005, poison_token=7)
    try:
        body = {"prompt": "fn", "max_tokens": 40, "stream": True, "seed": -5}  # a negative seed is fine too
        with httpx.stream("POST", f"{server.url}/v1/completions", json=body, timeout=30) as r:
            it = r.iter_raw()
            got = [next(it)]
            bad = post(server.url, "/v1/completions", {"prompt": [5, 7, 9], "max_tokens": 3})
            assert bad.status_code == 500 and bad.json()["error"]["code"] == "engine_error"
            got += list(it)
        chunks = sse_json(b"".join(got))
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"
        healthy(server.url)
    finally:
        server.stop()


def test_lm_eval_loglikelihood_batch_keeps_one_entry_per_token_even_at_eos():
    # lm-evaluation-harness scores with echo + max_tokens 1 and reads token_logprobs[ctxlen:-1]: the generated
    # token must have its entry even when it is EOS (here the bigram always ends at once).
    server, backend = start_bigram_server(eos_boost=100.0)
    try:
        prompts = [backend.encode("fn main() {"), backend.encode("let x = 1;")]
        r = post(server.url, "/v1/completions", {"prompt": prompts, "max_tokens": 1, "echo": True, "logprobs": 1,
                                                  "temperature": 0, "seed": 1234})
        assert r.status_code == 200, r.text
        for choice, ids in zip(sorted(r.json()["choices"], key=lambda c: c["index"]), prompts):
            lp = choice["logprobs"]
            assert len(lp["token_logprobs"]) == len(ids) + 1 and lp["tokens"][-1] == "<|endoftext|>"
            assert choice["finish_reason"] == "stop" and choice["text"] == backend.decode_text(ids)
            for top, value in zip(lp["top_logprobs"][1:], lp["token_logprobs"][1:]):
                assert len(top) == 1 and all(v >= value - 1e-9 for v in top.values())
    finally:
        server.stop()
