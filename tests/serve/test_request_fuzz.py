"""Property: whatever JSON a client sends, the server answers 200 or a well-formed 4xx, never a 500, and stays up."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serve.conftest import healthy

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=6)
FIELDS = ["prompt", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p",
          "presence_penalty", "frequency_penalty", "repetition_penalty", "seed", "stop", "n", "stream",
          "stream_options", "logprobs", "top_logprobs", "echo", "ignore_eos", "model", "logit_bias", "best_of",
          "response_format", "tools", "user"]
MESSAGE = st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant", "tool", "bot"]),
                                 "content": st.one_of(st.text(max_size=20), SCALARS)})
BODIES = st.dictionaries(st.sampled_from(FIELDS), st.one_of(VALUES, st.lists(MESSAGE, max_size=3),
                                                             st.integers(0, 8), st.text(max_size=20)),
                         max_size=6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"]), body=BODIES)
def test_any_json_body_gets_200_or_a_clean_4xx(bigram_server, path, body):
    server, _ = bigram_server
    body.pop("stream", None)  # a stream body is SSE, not JSON: framing is tested elsewhere
    r = httpx.post(f"{server.url}{path}", json=body, timeout=30)
    assert r.status_code in (200, 400, 404), r.text
    if r.status_code != 200:
        err = r.json()["error"]
        assert isinstance(err["message"], str) and err["message"] and err["type"] and err["code"]


def test_server_is_healthy_after_the_fuzzing(bigram_server):
    assert healthy(bigram_server[0].url)["slots_processing"] == 0


def test_nan_and_infinity_literals_are_400(bigram_server):
    # Python's json module accepts these non-standard literals; they must not slip past the range checks
    server, _ = bigram_server
    for raw in (b'{"prompt": "x", "temperature": NaN}', b'{"prompt": "x", "top_p": Infinity}',
                b'{"prompt": "x", "max_tokens": -Infinity}'):
        r = httpx.post(f"{server.url}/v1/completions", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (raw, r.text)
