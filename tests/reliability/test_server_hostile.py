"""Hostile and careless clients against `nanochat serve`: each gets a clean 4xx, a closed connection or one log line,
and /health keeps answering. No test here measures time: each waits on something the server shows (a counter,
/health, a closed socket) and gates hold the server in the state under test for as long as the test needs.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from nanochat_cli.serve import ServeConfig
from tests.serve.conftest import healthy, sse_json, start_bigram_server, start_gated_cli, wait_for_health


@pytest.fixture(scope="module")
def server():
    """4 slots, a queue of 64 (the defaults), a bigram that never ends by itself."""
    s, _ = start_bigram_server(eos_boost=-100.0)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.serve.tiny_model import write_tiny_model

    path = tmp_path_factory.mktemp("hostile-model") / "tiny.gguf"
    return path, write_tiny_model(path)


def wait_for(cond, timeout: float = 120.0) -> None:
    """Until cond() holds; the timeout only turns a hang into a failure, it is never what a test asserts."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def post_raw(url: str, path: str, raw: str | bytes) -> httpx.Response:
    data = raw.encode() if isinstance(raw, str) else raw
    return httpx.post(url + path, content=data, headers={"Content-Type": "application/json"}, timeout=60)


def raw_exchange(url: str, request: bytes) -> bytes:
    """Send bytes on a fresh connection; everything the server sends until it closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


# ---- tokenizing and templating never block the event loop ----

@pytest.mark.parametrize("path,size", [
    pytest.param("/tokenize", 900_000, marks=pytest.mark.slow),  # the case: minutes of tokenizing here
    ("/tokenize", 64_000),
    ("/v1/chat/completions", 64_000),
])
def test_health_answers_while_four_big_tokenizations_are_in_flight(path, size):
    srv, backend = start_bigram_server()
    big = "fn main() { let x = 1; }\n" * (size // 25)  # 900 KB is inside the 1 MiB body limit
    body = {"content": big} if path == "/tokenize" else {"messages": [{"role": "user", "content": big}]}
    backend.encode_gate.clear()  # every encode waits: four tokenizations stay in flight as long as the test wants
    try:
        with ThreadPoolExecutor(4) as pool:
            calls = [pool.submit(httpx.post, srv.url + path, json=body, timeout=600) for _ in range(4)]
            wait_for(lambda: backend.encodes_started == 4)
            assert httpx.get(f"{srv.url}/health", timeout=60).status_code == 200
            assert not any(c.done() for c in calls)  # /health answered before any of them finished
            backend.encode_gate.set()
            answers = [c.result() for c in calls]
    finally:
        backend.encode_gate.set()
        srv.stop()
    if path == "/tokenize":
        assert all(a.status_code == 200 and len(a.json()["tokens"]) > 1000 for a in answers)
    else:  # tokenized, then refused for the 256-token context: proof the prompt went through the tokenizer
        assert all(a.status_code == 400 and a.json()["error"]["code"] == "context_length_exceeded" for a in answers)


def test_the_off_loop_tokenize_answer_is_the_tokenizers_ids_as_json_dumps_writes_them(tiny_model):
    """The GIL-sparing path (encode_batch_fast, JSON a slice at a time) changes no byte of the answer."""
    from nanochat_cli.serve.app import tokens_json
    from nanochat_cli.serve.engine_backend import load_engine_backend

    backend = load_engine_backend(ServeConfig(model=str(tiny_model[0])))
    text = "fn main() { let crab = \"\U0001f980 \u00fcn\u00efc\u00f6d\u00e9\"; }\n\n\t<|endoftext|>  \n" * 3000
    ids = backend.encode(text)
    assert len(ids) > 20_000 and ids == backend.tokenizer.encode(text, add_special_tokens=False).ids
    pieces = [{"id": t, "piece": backend.token_text(t)} for t in ids]
    for tokens in ([], ids, pieces):
        assert tokens_json(tokens) == json.dumps({"tokens": tokens}).encode()


# ---- bad input is a 400, never a 500 ----

@pytest.mark.parametrize("path,raw,param", [
    ("/v1/completions", '{"prompt": "fn \\ud800", "max_tokens": 1}', "prompt"),
    ("/v1/completions", '{"prompt": ["ok", "\\udc00 x"], "max_tokens": 1}', "prompt[1]"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "hi \\ud800"}]}', "messages[0].content"),
    ("/tokenize", '{"content": "a\\udfffb"}', "content"),
    ("/v1/completions", '{"prompt": "x", "stop": ["\\ud800"]}', "stop[0]"),
])
def test_a_lone_surrogate_is_a_400_that_names_the_field(server, path, raw, param):
    r = post_raw(server.url, path, raw)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_unicode" and err["param"] == param and "surrogate" in err["message"]
    healthy(server.url)


def test_an_escaped_surrogate_pair_is_just_text(server):
    r = post_raw(server.url, "/tokenize", '{"content": "\\ud83e\\udd80 crab"}')  # what json.dumps sends for U+1F980
    assert r.status_code == 200 and r.json()["tokens"]


@pytest.mark.parametrize("field", ["max_tokens", "seed", "n", "temperature"])
def test_a_5000_digit_integer_is_a_400(server, field):
    r = post_raw(server.url, "/v1/completions", f'{{"prompt": "x", "{field}": {"9" * 5000}}}')
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_json" and "too long" in err["message"] and len(err["message"]) < 300


@pytest.mark.parametrize("field", ["max_tokens", "seed"])
def test_a_4000_digit_integer_is_out_of_range_with_a_short_message(server, field):
    r = post_raw(server.url, "/v1/completions", f'{{"prompt": "x", "{field}": {"9" * 4000}}}')
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] == field and "4000 characters" in err["message"] and len(err["message"]) < 200


@pytest.mark.parametrize("path,raw", [
    ("/v1/completions", "[" * 100_000 + "]" * 100_000),
    ("/v1/completions", '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001 + "]}"),
    ("/tokenize", '{"content": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"),
])
def test_json_nested_100k_deep_is_a_400(server, path, raw):
    r = post_raw(server.url, path, raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_json" and "deeply" in r.json()["error"]["message"]
    healthy(server.url)


def test_more_choices_than_slots_plus_queue_is_a_400_that_names_the_limit(server):
    # 32 prompts (--max-prompts) x n=4 (--parallel): each within its documented limit, 128 jobs in all
    r = httpx.post(f"{server.url}/v1/completions", json={"prompt": ["x"] * 32, "n": 4, "max_tokens": 1}, timeout=60)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "request_exceeds_capacity" and err["param"] == "n"
    assert "128" in err["message"] and "--max-queue" in err["message"] and "--parallel" in err["message"]
    # exactly slots + queue (4 + 64) fits an idle server
    r = httpx.post(f"{server.url}/v1/completions", json={"prompt": ["x"] * 17, "n": 4, "max_tokens": 1}, timeout=120)
    assert r.status_code == 200 and len(r.json()["choices"]) == 68


# ---- slow clients ----

def test_read_timeout_has_a_default():
    assert 0 < ServeConfig().read_timeout <= 60


def test_connections_that_never_finish_their_headers_are_closed():
    srv, _ = start_bigram_server(read_timeout=0.5)
    try:
        host, port = srv.url.removeprefix("http://").split(":")
        lorises = [socket.create_connection((host, int(port)), timeout=60) for _ in range(12)]
        try:
            for s in lorises:
                s.sendall(b"POST /tokenize HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and nothing more
            healthy(srv.url)  # the server answers others meanwhile
            for s in lorises:
                assert s.recv(1024) == b""  # closed by the server; a hang here would end in socket.timeout
        finally:
            for s in lorises:
                s.close()
        healthy(srv.url)
    finally:
        srv.stop()


def test_a_body_that_arrives_too_slowly_is_a_408_and_the_connection_closes():
    srv, _ = start_bigram_server(read_timeout=0.5)
    try:
        head = b"POST /tokenize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        out = raw_exchange(srv.url, head + b'{"content": "')  # 13 of the 1000 bytes promised, then silence
        status_line, _, rest = out.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 408"), out[:200]
        assert b"request_timeout" in rest
        healthy(srv.url)
    finally:
        srv.stop()


# ---- logs ----

@pytest.mark.parametrize("request_bytes", [
    b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\n\r\n",
])
def test_a_malformed_http_request_logs_one_line_without_a_traceback(server, caplog, request_bytes):
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    out = raw_exchange(server.url, request_bytes)
    assert out.split(b"\r\n")[0].split(b" ")[1] == b"400", out[:200]
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(records) == 1, [r.getMessage() for r in records]
    rec = records[0]
    assert rec.exc_info is None and "\n" not in rec.getMessage() and "bad HTTP request from" in rec.getMessage()


# ---- shutdown ----

def test_a_draining_server_answers_503_until_its_in_flight_stream_is_done():
    srv, backend = start_bigram_server(parallel=1, eos_boost=-100.0)
    try:
        backend._pause.clear()  # decode waits: the stream stays in flight after its first token
        body = {"prompt": "fn", "max_tokens": 5, "stream": True}
        with httpx.stream("POST", f"{srv.url}/v1/completions", json=body, timeout=60) as r:
            wait_for(lambda: healthy(srv.url)["slots_processing"] == 1)
            drained = srv.begin_drain(60)
            wait_for(lambda: httpx.get(f"{srv.url}/health", timeout=60).json()["status"] == "shutting_down")
            late = httpx.post(f"{srv.url}/v1/completions", json={"prompt": "x"}, timeout=60)
            assert late.status_code == 503 and late.json()["error"]["code"] == "shutting_down"
            assert not drained.done()
            backend._pause.set()
            chunks = sse_json(b"".join(r.iter_raw()))
        drained.result(60)
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    finally:
        backend._pause.set()
        srv.stop()


@pytest.mark.slow
def test_sigterm_while_the_model_loads_ends_the_process_without_waiting_for_the_load(tiny_model):
    proc, url = start_gated_cli(tiny_model, "load")  # the load waits for a gate this test never opens
    try:
        wait_for_health(proc, url, "loading")
        proc.send_signal(signal.SIGTERM)
        # it ends although the load never does: nothing to drain yet, so SIGTERM keeps its default action (a
        # Python handler could not run while a real load holds the GIL)
        assert proc.wait(120) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

