"""Completion sources: the OpenAI-compatible server client (against a canned aiohttp server) and the
completions JSONL file."""

from __future__ import annotations

import json
import socket

import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.completion_sources import (
    CompletionRequest,
    CompletionsFileSource,
    GenerationParams,
    ServerSource,
    eval_sampling,
)

from .canned_server import CannedCompletionServer

REQS = [CompletionRequest("a", "fn a() -> i32 {\n"), CompletionRequest("b", "fn b() -> i32 {\n")]


def test_server_source_sends_prompt_stop_seed_and_key():
    answers = {"fn a() -> i32 {\n": "    1\n}\n", "fn b() -> i32 {\n": "    2\n}\n"}
    with CannedCompletionServer(answers, api_key="sekrit") as srv:
        src = ServerSource(srv.url + "/v1/", api_key="sekrit", concurrency=3)
        ticks = []
        gen = src.complete(REQS, GenerationParams(3, eval_sampling(temperature=0.8, top_p=0.9, max_tokens=64, seed=7)),
                           progress=lambda n, tokens: ticks.append((n, tokens)))
    assert ticks == [(1, 2)] * 6  # the eval bar advances once per response, with its completion tokens
    assert gen.completions == [["    1\n}\n"] * 3, ["    2\n}\n"] * 3]
    assert len(srv.requests) == 6
    assert sorted(r["seed"] for r in srv.requests if r["prompt"] == REQS[0].prompt) == [7, 8, 9]
    first = srv.requests[0]
    assert first["stop"] == ["\n}"] and first["max_tokens"] == 64 and first["temperature"] == 0.8
    assert first["top_p"] == 0.9 and first["n"] == 1 and first["model"] == "canned-model"  # from /v1/models
    assert set(srv.auth) == {"Bearer sekrit"}
    assert gen.tokens == 6 * 2 and gen.seconds > 0
    assert src.identity() == {"kind": "server", "url": srv.url, "model": "canned-model"}


@pytest.mark.parametrize("status", [503, 429])  # 429: nanochat serve's queue is full
def test_server_source_retries_a_busy_server(status):
    with CannedCompletionServer({}, fail_first=2, fail_status=status) as srv:
        gen = ServerSource(srv.url, model="m", concurrency=1).complete(REQS[:1], GenerationParams())
    assert gen.completions == [["    unimplemented!()\n}\n"]] and len(srv.requests) == 3


def test_server_source_errors_are_one_line():
    with CannedCompletionServer({}, api_key="right") as srv, pytest.raises(NanochatError, match="answered 401"):
        ServerSource(srv.url, model="m", api_key="wrong").complete(REQS, GenerationParams())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with pytest.raises(NanochatError, match="cannot reach"):
        ServerSource(f"http://127.0.0.1:{dead}", model="m", retries=0).complete(REQS, GenerationParams())
    with pytest.raises(NanochatError, match="not an http"):
        ServerSource("127.0.0.1:8080")


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_completions_file_groups_samples_by_name_in_order(tmp_path):
    f = _write_jsonl(tmp_path / "c.jsonl", [
        {"name": "a", "completion": "    1\n"}, {"name": "b", "completion": "    2\n"}, {"name": "a", "completion": "    3\n"},
    ])
    src = CompletionsFileSource(f)
    assert src.complete(REQS, GenerationParams(n_samples=1)).completions == [["    1\n"], ["    2\n"]]
    with pytest.raises(NanochatError, match="fewer than 2 completion"):
        src.complete(REQS, GenerationParams(n_samples=2))
    ident = src.identity()
    assert ident["kind"] == "completions" and len(ident["file_sha256"]) == 64


def test_completions_file_errors(tmp_path):
    with pytest.raises(NanochatError, match="not found"):
        CompletionsFileSource(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a"}\n')
    with pytest.raises(NanochatError, match=r"bad.jsonl:1: .*completion"):
        CompletionsFileSource(bad)
    other = _write_jsonl(tmp_path / "o.jsonl", [{"name": "zzz", "completion": ""}])
    with pytest.raises(NanochatError, match="not in the set: zzz"):
        CompletionsFileSource(other).complete(REQS, GenerationParams())
