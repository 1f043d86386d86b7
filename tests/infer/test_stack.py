"""The C layer stack (infer/stack.py, native/stack.c) against the engine's Python fast path on the same model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats import load_model_weights, model_weights
from nanochat_cli.formats.bitnet_gguf import write_bitnet_gguf
from nanochat_cli.infer import Engine, NativeModel
from nanochat_cli.infer.forward import Segment
from nanochat_cli.infer.stack import eligible, swiglu
from tests.infer.conftest import CTX, OPTIONS, make_model, rel_err

ELIGIBLE = ["plain", "gqa", "untied", "ternary-head", "relu2-subln-pertensor"]


def twins(weights) -> tuple[NativeModel, NativeModel]:
    """The same weights twice: through the C stack, and forced onto the Python path."""
    fast, python = NativeModel(weights), NativeModel(weights)
    assert fast.stack is not None
    python.stack = None
    return fast, python


def greedy(engine: Engine, ids: list[int], steps: int) -> tuple[list[int], np.ndarray]:
    logits = engine.prefill(0, ids)
    out, seen = [], [logits]
    for _ in range(steps):
        out.append(int(np.argmax(logits)))
        logits = engine.decode([0], [out[-1]])[0]
        seen.append(logits)
    return out, np.stack(seen)


@pytest.fixture(scope="module", params=ELIGIBLE, ids=ELIGIBLE)
def pair(request):
    return twins(model_weights(make_model(**OPTIONS[request.param]), None))


@pytest.mark.parametrize("name", list(OPTIONS))
def test_only_eligible_models_take_the_stack_and_the_rest_still_run(name, prompt_ids):
    weights = model_weights(make_model(**OPTIONS[name]), None)
    fast = NativeModel(weights)
    assert (fast.stack is not None) == (name in ELIGIBLE)
    reference = NativeModel(weights, mix=np.float64)
    assert reference.stack is None  # reference mode never takes it
    logits = Engine(fast).prefill(0, prompt_ids, all_logits=True)
    assert logits.shape == (len(prompt_ids), weights.config.vocab_size)
    assert rel_err(logits, Engine(reference).prefill(0, prompt_ids, all_logits=True)) < 1e-2


def test_a_block_of_another_shape_keeps_the_python_path():
    """The C sizes its scratch from the config: a layer that disagrees must never reach it."""
    model = NativeModel(model_weights(make_model(), None))
    assert eligible(model)
    model.blocks[1].mixer.o = model.blocks[1].mixer.qkv
    assert not eligible(model)
    model = NativeModel(model_weights(make_model(), None))
    model.blocks[0].ffn_norm = model.blocks[0].ffn_norm.astype(np.float64)
    assert not eligible(model)


def test_environment_can_turn_the_stack_off(monkeypatch):
    weights = model_weights(make_model(), None)
    monkeypatch.setenv("NANOCHAT_LAYER_STACK", "0")
    assert NativeModel(weights).stack is None
    monkeypatch.setenv("NANOCHAT_LAYER_STACK", "1")
    assert NativeModel(weights).stack is not None


def test_prefill_logits_are_the_python_paths_bit_for_bit(pair, prompt_ids):
    fast, python = pair
    got = Engine(fast).prefill(0, prompt_ids, all_logits=True)
    np.testing.assert_array_equal(got, Engine(python).prefill(0, prompt_ids, all_logits=True))


def test_greedy_decode_matches_the_python_path_for_64_steps(pair, prompt_ids):
    fast, python = pair
    tokens, logits = greedy(Engine(fast), prompt_ids[:24], 64)
    ref_tokens, ref_logits = greedy(Engine(python), prompt_ids[:24], 64)
    assert tokens == ref_tokens
    np.testing.assert_array_equal(logits, ref_logits)


def test_prefill_chunks_continuing_a_slot_match_the_python_path(pair, prompt_ids, monkeypatch):
    import nanochat_cli.infer.engine as engine_mod

    fast, _ = pair
    monkeypatch.setattr(engine_mod, "PREFILL_CHUNK", 7)  # chunks at start > 0, a short last one
    engines = [Engine(model, n_slots=2) for model in pair]
    for engine in engines:
        engine.prefill(1, prompt_ids[:5])
    got, ref = (engine.prefill(1, prompt_ids[5:], all_logits=True) for engine in engines)
    np.testing.assert_array_equal(got, ref)
    whole = Engine(fast).prefill(0, prompt_ids, all_logits=True)[5:]
    np.testing.assert_allclose(got, whole, rtol=0, atol=1e-5 * np.abs(whole).max())


def test_batched_decode_of_slots_at_different_positions_equals_one_at_a_time(pair, prompt_ids):
    fast, python = pair
    prompts = [prompt_ids[:10], prompt_ids[5:30], prompt_ids[12:15], prompt_ids[:1]]
    alone = [greedy(Engine(fast), p, 10)[0] for p in prompts]
    runs = []
    for model in (fast, python):
        engine = Engine(model, n_slots=len(prompts))
        logits = np.stack([engine.prefill(s, p) for s, p in enumerate(prompts)])
        together, steps = [[] for _ in prompts], []
        for _ in range(10):
            toks = logits.argmax(axis=1)
            for s, t in enumerate(toks):
                together[s].append(int(t))
            logits = engine.decode([3, 1, 0, 2], toks[[3, 1, 0, 2]])[[2, 1, 3, 0]]  # slots in another order
            steps.append(logits)
        runs.append((together, np.stack(steps)))
    assert runs[0][0] == alone
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("name", ["plain", "gqa"])
def test_decode_attention_on_the_pool_gives_the_calling_threads_bits(name, prompt_ids, monkeypatch):
    """Two threads spread a decode step's attention over the kernels' pool, one runs it inline: same logits."""
    from nanochat_cli.kernels import native

    fast, _ = twins(model_weights(make_model(**OPTIONS[name]), None))
    runs = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(native, "_threads", threads)
        engine = Engine(fast, n_slots=2)
        engine.prefill(0, prompt_ids[:9])
        engine.prefill(1, prompt_ids[:20])
        runs.append(np.stack([engine.decode([1, 0], [t, t + 1]) for t in range(3, 9)]))
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def test_engines_sharing_a_model_keep_their_own_caches(prompt_ids):
    fast, _ = twins(model_weights(make_model(), None))
    a, b = Engine(fast), Engine(fast, ctx=64)
    a.prefill(0, prompt_ids[:20])
    b.prefill(0, prompt_ids[20:30])
    got = [a.decode([0], [5])[0], b.decode([0], [5])[0]]
    ref = [Engine(fast).prefill(0, prompt_ids[:20] + [5]), Engine(fast).prefill(0, prompt_ids[20:30] + [5])]
    np.testing.assert_array_equal(np.stack(got), np.stack(ref))


def test_bitnet_gguf_takes_the_stack_and_matches_the_python_path(tokenizer, tmp_path, prompt_ids):
    weights = model_weights(make_model(sub_norm=True, group_size=256), tokenizer.to_str())
    fast, python = twins(load_model_weights(write_bitnet_gguf(weights, tmp_path / "b.gguf", "tq2_0", "q6_k")))
    np.testing.assert_array_equal(Engine(fast).prefill(0, prompt_ids, all_logits=True),
                                  Engine(python).prefill(0, prompt_ids, all_logits=True))
    assert greedy(Engine(fast), prompt_ids[:8], 16)[0] == greedy(Engine(python), prompt_ids[:8], 16)[0]


def test_segments_outside_the_cache_are_refused(prompt_ids):
    fast, _ = twins(model_weights(make_model(), None))
    state = fast.new_state(2, CTX)
    with pytest.raises(NanochatError, match="do not fit"):
        fast.forward(np.array([1, 2]), [Segment(0, CTX - 1, 2, 0)], state)
    with pytest.raises(NanochatError, match="do not fit"):
        fast.forward(np.array([1]), [Segment(2, 0, 1, 0)], state)


# ---- the SwiGLU both fast paths share ----

EXTREMES = [0.0, -0.0, 1e-30, -1e-30, 87.5, -87.5, 88.5, -88.5, 100.0, -100.0, 1e30, -1e30, np.inf, -np.inf]


@given(st.integers(1, 3), st.integers(1, 70), st.floats(1e-2, 60), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_swiglu_instruction_sets_agree_to_the_bit(n, f, magnitude, seed):
    from nanochat_cli.kernels.native import native

    _, lib = native()

    rng = np.random.default_rng(seed)
    gu = (rng.standard_normal((n, 2 * f)) * magnitude).astype(np.float32)
    flat = gu.reshape(-1)
    flat[rng.integers(0, flat.size, min(flat.size, len(EXTREMES)))] = EXTREMES[:min(flat.size, len(EXTREMES))]
    ref = swiglu(gu, kind=0)
    for kind in range(1, lib.swiglu_best_kind() + 1):
        np.testing.assert_array_equal(swiglu(gu, kind=kind), ref)


def test_swiglu_is_silu_times_up_to_float_rounding():
    x = np.linspace(-90, 90, 20001, dtype=np.float32)
    gu = np.concatenate([x, np.linspace(-3, 3, x.size, dtype=np.float32)])[None]
    g, up = gu[0, :x.size].astype(np.float64), gu[0, x.size:].astype(np.float64)
    exact = g / (1 + np.exp(-g)) * up
    np.testing.assert_allclose(swiglu(gu)[0], exact, rtol=1e-6, atol=1e-30)
    nan = swiglu(np.array([[np.nan, 1.0]], np.float32))
    assert np.isnan(nan).all()
