"""`nanochat eval --server` against a real `nanochat serve` of the tiny model (256 tokens a slot): the default
max_tokens (512) is clamped to the server's context, and a failed run leaves no un-awaited coroutine behind."""

from __future__ import annotations

import gc
import warnings

import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.completion_sources import CompletionRequest, GenerationParams, ServerSource, eval_sampling


def test_eval_server_defaults_clamp_max_tokens_to_the_server_context(engine_server):
    reqs = [CompletionRequest("a", "fn a() -> i32 {\n"), CompletionRequest("long", "let x = 1;\n" * 200)]
    assert GenerationParams().sampling.max_tokens > engine_server.state.backend.ctx  # the defaults overflow without a clamp
    src = ServerSource(engine_server.url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = src.complete(reqs, GenerationParams())
    assert src.model == "tiny" and src.max_tokens_cap == engine_server.state.backend.ctx - 1
    assert len(gen.completions) == 2 and all(len(c) == 1 for c in gen.completions)
    assert gen.token_counts[0][0] >= 1  # the short prompt got a completion, ended by the context or a stop
    # the long prompt either left some room (a clamped completion) or none (an empty one, counted as --model does)
    assert (gen.completions[1] == [""] and src.context_overflows == 1) or gen.token_counts[1][0] >= 1


def test_eval_server_error_names_the_fix_and_leaves_no_coroutine(engine_server):
    reqs = [CompletionRequest(str(i), "fn f() {\n") for i in range(8)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NanochatError, match="--server-model"):
            ServerSource(engine_server.url, model="nope", concurrency=2).complete(reqs, GenerationParams(sampling=eval_sampling(max_tokens=4)))
        with pytest.raises(NanochatError, match="--max-tokens"):
            ServerSource(engine_server.url, concurrency=2).complete(reqs, GenerationParams(sampling=eval_sampling(temperature=5.0)))
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)], [str(w.message) for w in caught]
