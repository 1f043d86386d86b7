"""llama.cpp's server conventions: GET /props, GET /slots (off unless --slots), POST /infill and `suffix`
(refused, or flagged, on a model not trained fill-in-the-middle), the context overflow 400's n_ctx, and
GET /v1/models/{id} through the real openai client."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.serve.conftest import sse_json, start_bigram_server

openai = pytest.importorskip("openai")


def post(url: str, path: str, body) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, timeout=30)


def test_props_reports_model_context_slots_and_template(bigram_server):
    server, backend = bigram_server
    props = httpx.get(f"{server.url}/props").json()
    assert props["model_alias"] == "bigram-test" and props["total_slots"] == backend.n_slots
    assert props["n_ctx"] == props["default_generation_settings"]["n_ctx"] == backend.ctx
    assert "### Assistant" in props["chat_template"] and props["chat_template_is_default"] is True
    assert props["fim"] == {"tokens": True, "trained": False, "note": props["fim"]["note"]}
    assert "not trained fill-in-the-middle" in props["fim"]["note"]
    assert props["endpoint_slots"] is False and props["build_info"].startswith("nanochat ")


def test_slots_is_off_unless_enabled(bigram_server):
    server, _ = bigram_server
    r = httpx.get(f"{server.url}/slots")
    assert r.status_code == 501 and "--slots" in r.json()["error"]["message"]


def test_slots_shows_busy_and_idle_slots():
    server, backend = start_bigram_server(slots=True, parallel=2, eos_boost=-100.0)
    try:
        idle = httpx.get(f"{server.url}/slots").json()
        assert [s["id"] for s in idle] == [0, 1] and not any(s["is_processing"] for s in idle)
        backend._pause.clear()  # hold the worker mid-request so a slot is seen busy
        t = threading.Thread(target=post, args=(server.url, "/v1/completions", {"prompt": "fn main", "max_tokens": 50}))
        t.start()
        try:
            for _ in range(200):
                busy = httpx.get(f"{server.url}/slots").json()
                if any(s["is_processing"] for s in busy):
                    break
                threading.Event().wait(0.05)
            (slot,) = [s for s in busy if s["is_processing"]]
            assert slot["n_prompt_tokens"] > 0
        finally:
            backend._pause.set()
            t.join(60)
    finally:
        server.stop()


def test_infill_on_a_model_not_trained_fim_is_refused_or_flagged(bigram_server):
    server, _ = bigram_server
    body = {"input_prefix": "fn add(a: i32, b: i32) -> i32 {\n", "input_suffix": "\n}\n", "n_predict": 5}
    r = post(server.url, "/infill", body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "fim_not_trained"
    assert "allow_untrained_fim" in r.json()["error"]["message"]
    r = post(server.url, "/v1/completions", {"prompt": "fn f() {", "suffix": "}", "max_tokens": 4})
    assert r.status_code == 400 and r.json()["error"]["code"] == "fim_not_trained"
    flagged = post(server.url, "/infill", {**body, "allow_untrained_fim": True})
    assert flagged.status_code == 200, flagged.text
    out = flagged.json()
    assert "not trained fill-in-the-middle" in out["warning"] and out["usage"]["completion_tokens"] == 5
    chunks = sse_json(post(server.url, "/v1/completions", {"prompt": "fn f() {", "suffix": "}", "max_tokens": 3,
                                                           "stream": True, "allow_untrained_fim": True}).content)
    assert chunks and all("not trained" in c["warning"] for c in chunks)


def test_infill_on_a_fim_trained_model_prompts_psm_with_the_fim_tokens():
    server, backend = start_bigram_server(fim_rate=0.5, parallel=1, eos_boost=-100.0)
    try:
        seen = []
        prefill = backend.prefill

        def spy(slot, start, ids, all_logits=False):
            seen.append(list(ids))
            return prefill(slot, start, ids, all_logits)

        backend.prefill = spy
        r = post(server.url, "/infill", {"input_prefix": "fn a() {", "input_suffix": "}", "n_predict": 3})
        assert r.status_code == 200 and "warning" not in r.json()
        p, s, m = backend.fim_token_ids
        ids = seen[0]
        assert ids[0] == p and ids[-1] == m and ids.index(s) == 1 + len(backend.encode("fn a() {"))
        assert httpx.get(f"{server.url}/props").json()["fim"]["trained"] is True
        r = post(server.url, "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "suffix": "}"})
        assert r.status_code == 400 and r.json()["error"]["param"] == "suffix"
    finally:
        server.stop()


def test_context_overflow_400_names_prompt_tokens_and_context(bigram_server):
    server, backend = bigram_server
    r = post(server.url, "/v1/completions", {"prompt": "fn main() {}", "max_tokens": backend.ctx,
                                             "token_healing": False})
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "context_length_exceeded"
    assert err["n_ctx"] == backend.ctx and err["n_prompt_tokens"] == len(backend.encode("fn main() {}"))


def test_models_retrieve_through_the_openai_client(engine_server):
    client = openai.OpenAI(base_url=f"{engine_server.url}/v1", api_key="unused", max_retries=0, timeout=60)
    model = client.models.retrieve("tiny")
    assert model.id == "tiny" and model.object == "model" and model.owned_by == "nanochat"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.models.retrieve("gpt-4")
