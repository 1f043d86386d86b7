"""The native engine reproduces TernaryLM (eval mode) for every model option: logits, greedy tokens, cached decode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanochat_cli.formats import model_weights
from nanochat_cli.infer import Engine, NativeModel
from nanochat_cli.model import float64_mixing
from tests.infer.conftest import CTX, OPTIONS, make_model, rel_err

GREEDY_STEPS = 64


def torch_logits(model, ids: list[int]) -> np.ndarray:
    with torch.no_grad(), float64_mixing():
        return model(torch.tensor([ids])).logits[0].numpy()


def torch_greedy(model, ids: list[int], steps: int) -> list[int]:
    """Greedy decoding with the model's own KV cache / DeltaNet state."""
    out = []
    with torch.no_grad(), float64_mixing():
        cache = model.new_cache(1)
        logits = model(torch.tensor([ids]), cache).logits[0, -1]
        for _ in range(steps):
            tok = int(logits.argmax())
            out.append(tok)
            logits = model(torch.tensor([[tok]]), cache).logits[0, -1]
    return out


def engine_greedy(engine: Engine, ids: list[int], steps: int, slot: int = 0) -> list[int]:
    engine.reset(slot)
    logits = engine.prefill(slot, ids)
    out = []
    for _ in range(steps):
        tok = int(np.argmax(logits))
        out.append(tok)
        logits = engine.decode([slot], [tok])[0]
    return out


@pytest.fixture(scope="module", params=list(OPTIONS), ids=list(OPTIONS))
def option(request):
    model = make_model(**OPTIONS[request.param])
    return request.param, model, NativeModel(model_weights(model, None), mix=np.float64)


def test_engine_logits_match_torch_eval_for_every_option(option, prompt_ids):
    _, model, native = option
    ref = torch_logits(model, prompt_ids)
    got = Engine(native).prefill(0, prompt_ids, all_logits=True)
    assert got.shape == ref.shape
    assert rel_err(got, ref) < 1e-3


def test_greedy_tokens_match_torch_for_64_steps(option, prompt_ids):
    """The engine's 64 greedy tokens are torch's argmax at every step (one teacher-forced torch pass: if torch
    picks the same token at each step given the same prefix, its own greedy run produces the same sequence)."""
    name, model, native = option
    ids = prompt_ids[:24]
    generated = engine_greedy(Engine(native), ids, GREEDY_STEPS)
    ref = torch_logits(model, ids + generated[:-1])[len(ids) - 1:]
    assert ref.argmax(axis=1).tolist() == generated, name


@pytest.mark.slow
def test_greedy_tokens_match_torch_cached_decoding(prompt_ids):
    model = make_model()
    native = NativeModel(model_weights(model, None), mix=np.float64)
    ids = prompt_ids[:24]
    assert engine_greedy(Engine(native), ids, 32) == torch_greedy(model, ids, 32)


def test_cached_decode_equals_full_recompute(option, prompt_ids):
    _, _, native = option
    engine = Engine(native, n_slots=2)
    ids = prompt_ids[:16]
    generated = engine_greedy(engine, ids, 24, slot=0)
    step_logits = []
    engine.reset(0)
    step_logits.append(engine.prefill(0, ids))
    for tok in generated[:-1]:
        step_logits.append(engine.decode([0], [tok])[0])
    full = engine.prefill(1, ids + generated[:-1], all_logits=True)[len(ids) - 1:]
    assert rel_err(np.stack(step_logits), full) < 1e-5


def test_float32_engine_matches_torch_default_precision(prompt_ids):
    model = make_model(**OPTIONS["mhc2"])
    with torch.no_grad():
        ref = model(torch.tensor([prompt_ids])).logits[0].numpy()
    got = Engine(NativeModel(model_weights(model, None))).prefill(0, prompt_ids, all_logits=True)
    assert rel_err(got, ref) < 1e-3


@pytest.mark.parametrize("name", ["plain", "deltanet", "moe"])
def test_batched_decode_of_several_slots_equals_one_at_a_time(name, prompt_ids):
    native = NativeModel(model_weights(make_model(**OPTIONS[name]), None), mix=np.float64)
    prompts = [prompt_ids[:10], prompt_ids[5:30], prompt_ids[12:15]]
    alone = [engine_greedy(Engine(native), p, 12) for p in prompts]
    engine = Engine(native, n_slots=3)
    logits = np.stack([engine.prefill(s, p) for s, p in enumerate(prompts)])
    together = [[] for _ in prompts]
    for _ in range(12):
        toks = logits.argmax(axis=1)
        for s, t in enumerate(toks):
            together[s].append(int(t))
        logits = engine.decode([0, 1, 2], toks)
    assert together == alone


def test_prefix_reuse_keeps_cached_tokens(prompt_ids):
    native = NativeModel(model_weights(make_model(), None), mix=np.float64)
    engine = Engine(native)
    fresh = Engine(native).prefill(0, prompt_ids)
    engine.prefill(0, prompt_ids[:20] + [7, 8, 9])
    keep = engine.reusable_prefix(0, prompt_ids)
    assert keep == 20
    engine.truncate(0, keep)
    assert engine.length(0) == 20
    assert rel_err(engine.prefill(0, prompt_ids[keep:]), fresh) < 1e-5


def test_long_prompt_is_prefilled_in_chunks_with_the_same_result(monkeypatch, tokenizer):
    import nanochat_cli.infer.engine as engine_mod

    ids = (tokenizer.encode("fn main() { let x = 1; }\n" * 40).ids * 3)[:CTX - 8]
    native = NativeModel(model_weights(make_model(layer_pattern="AD"), None), mix=np.float64)
    whole = Engine(native).prefill(0, ids, all_logits=True)
    monkeypatch.setattr(engine_mod, "PREFILL_CHUNK", 37)
    chunked = Engine(native).prefill(0, ids, all_logits=True)
    assert rel_err(chunked, whole) < 1e-5
