"""Sampling (greedy, top-k/p, min-p, penalties, seeds), UTF-8 safe incremental detokenization, stop strings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.errors import NanochatError
from nanochat_cli.infer import IncrementalDecoder, Sampler, SamplingParams, StopMatcher
from tests.infer.conftest import RUST


def test_greedy_picks_the_argmax():
    logits = np.array([0.1, 3.0, 2.9, -1.0], np.float32)
    assert Sampler(SamplingParams(temperature=0))(logits, []) == 1
    assert Sampler(SamplingParams(temperature=1.0, top_k=1))(logits, []) == 1


def test_edge_cases_draw_a_valid_token_instead_of_nan_probabilities():
    logits = np.array([1.0, 2.0, 3.0, -1.0], np.float32)
    for t in (1e-300, 1e-320):  # logits / T would overflow to inf
        assert Sampler(SamplingParams(temperature=t, seed=0))(logits, []) == 2
    assert Sampler(SamplingParams(temperature=1.0, top_k=100, seed=0))(logits, []) in range(4)  # top_k > vocab
    everything_masked = np.full(4, -np.inf, np.float32)
    assert Sampler(SamplingParams(temperature=1.0, seed=0))(everything_masked, []) in range(4)
    with_inf_and_nan = np.array([np.nan, 0.0, np.inf, 2.0], np.float32)
    assert Sampler(SamplingParams(temperature=1.0, top_p=0.5, seed=0))(with_inf_and_nan, []) == 2


def test_same_seed_gives_the_same_draws_and_other_seeds_differ():
    logits = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    a = Sampler(SamplingParams(temperature=1.0, seed=7))
    b = Sampler(SamplingParams(temperature=1.0, seed=7))
    c = Sampler(SamplingParams(temperature=1.0, seed=8))
    sa, sb, sc = ([s(logits, []) for _ in range(20)] for s in (a, b, c))
    assert sa == sb and sa != sc


def test_draws_follow_the_distribution():
    """20,000 seeded draws at temperature 1 land on each token about as often as softmax says (4+ sigma off
    would fail), with or without top-k, and a token at -inf (probability 0) is never drawn."""
    logits = np.append(np.log([0.5, 0.3, 0.15, 0.05]), -np.inf).astype(np.float32)
    want = np.array([0.5, 0.3, 0.15, 0.05, 0.0])
    for top_k in (0, 4):
        s = Sampler(SamplingParams(temperature=1.0, top_k=top_k, seed=3))
        counts = np.bincount([s(logits, []) for _ in range(20_000)], minlength=5)
        assert counts[4] == 0
        sigma = np.sqrt(want * (1 - want) / 20_000)
        assert np.all(np.abs(counts / 20_000 - want) <= 4 * sigma + 1e-12)


@given(st.integers(2, 300), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_a_zero_probability_token_is_never_drawn(n, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(n).astype(np.float32)
    banned = rng.random(n) < 0.5
    banned[rng.integers(n)] = False  # at least one token left
    logits[banned] = -np.inf
    s = Sampler(SamplingParams(temperature=rng.uniform(0.1, 2), seed=seed))
    assert not any(banned[s(logits, [])] for _ in range(20))


@given(st.integers(1, 20), st.floats(0.05, 1.0), st.floats(0.0, 0.9), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_filters_only_ever_return_allowed_tokens(top_k, top_p, min_p, seed):
    logits = np.random.default_rng(seed).standard_normal(50).astype(np.float32) * 3
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    tok = Sampler(SamplingParams(temperature=1.0, top_k=top_k, top_p=top_p, min_p=min_p, seed=seed))(logits, [])
    rank = int(np.where(order == tok)[0][0])
    assert rank < top_k
    assert rank == 0 or probs[order[:rank]].sum() < top_p + 1e-6  # inside the nucleus
    assert rank == 0 or probs[tok] >= min_p * probs[order[0]] - 1e-9


def test_repetition_presence_and_frequency_penalties():
    logits = np.array([2.0, -1.0, 1.9, 0.0], np.float32)
    s = Sampler(SamplingParams(temperature=0, repeat_penalty=2.0))
    out = s.apply_penalties(logits, [0, 1])
    np.testing.assert_allclose(out, [1.0, -2.0, 1.9, 0.0])
    assert s(logits, [0]) == 2
    s = Sampler(SamplingParams(temperature=0, presence_penalty=0.5, frequency_penalty=0.25))
    np.testing.assert_allclose(s.apply_penalties(logits, [0, 0, 3]), [2.0 - 0.5 - 0.5, -1.0, 1.9, -0.75])
    s = Sampler(SamplingParams(temperature=0, repeat_penalty=2.0, penalty_last_n=1))
    np.testing.assert_allclose(s.apply_penalties(logits, [0, 1]), [2.0, -2.0, 1.9, 0.0])


@pytest.mark.parametrize("bad", [{"temperature": -1}, {"top_p": 0}, {"min_p": 2}, {"repeat_penalty": 0},
                                 {"stop": [""]}])
def test_invalid_sampling_parameters_are_refused(bad):
    with pytest.raises(NanochatError, match="sampling"):
        Sampler(SamplingParams(**bad))


@given(st.text(min_size=1, max_size=60))
@settings(max_examples=80, deadline=None)
def test_incremental_detokenization_reassembles_any_text_without_broken_characters(tokenizer, text):
    ids = tokenizer.encode(text).ids
    dec = IncrementalDecoder(tokenizer)
    pieces = [dec.push(t) for t in ids] + [dec.flush()]
    assert all("\ufffd" not in p for p in pieces[:-1])
    assert "".join(pieces) == tokenizer.decode(ids, skip_special_tokens=False)


def test_multibyte_characters_are_held_back_until_complete(tokenizer):
    ids = tokenizer.encode("🦀").ids
    assert len(ids) > 1  # a 4-byte character split over several byte tokens
    dec = IncrementalDecoder(tokenizer)
    pieces = [dec.push(t) for t in ids]
    assert pieces[:-1] == [""] * (len(ids) - 1) and pieces[-1] == "🦀"


@given(st.lists(st.text(alphabet="ab}\n", min_size=0, max_size=4), max_size=12))
@settings(max_examples=200, deadline=None)
def test_stop_strings_cut_output_exactly_before_the_first_match(pieces):
    stops = ["\n}", "bb}"]
    m = StopMatcher(stops)
    out = "".join(m.push(p) for p in pieces) + m.flush()
    text = "".join(pieces)
    hits = [text.find(s) for s in stops if s in text]
    assert out == (text[:min(hits)] if hits else text)
    assert m.stopped == bool(hits)


def test_pieces_after_a_prompt_concatenate_to_the_completion_text(tokenizer):
    ids = tokenizer.encode(RUST[4]).ids
    dec = IncrementalDecoder(tokenizer, ids[:5])
    text = "".join(dec.push(t) for t in ids[5:]) + dec.flush()
    assert tokenizer.decode(ids[:5]) + text == tokenizer.decode(ids)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2000), st.floats(0.05, 1.0), st.sampled_from([0.0, 0.01, 0.2]), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_ranked_prefix_is_the_head_of_a_full_stable_sort(n, top_p, min_p, ties, seed):
    from nanochat_cli.infer.sampling import _ranked_prefix

    z = np.random.default_rng(seed).standard_normal(n) * 4
    if ties:
        z = np.round(z)  # many exactly equal probabilities, also at the candidate boundary
    p = np.exp(z - z.max())
    p /= p.sum()
    full = np.argsort(-p, kind="stable")
    order = _ranked_prefix(p, top_p, min_p)
    assert np.array_equal(order, full[: order.size])
    need = int(np.searchsorted(np.cumsum(p[full]), top_p) + 1) if top_p < 1 else n
    if min_p > 0:
        need = min(need, int((p >= min_p * p[full[0]]).sum()))
    assert min(max(need, 1), n) <= order.size
