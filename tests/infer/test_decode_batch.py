"""The batched decode loop (decode_batch, draw_tokens) gives every sequence the tokens it gets decoded alone:
greedy and seeded sampling, with refilled slots, healing, stop strings and penalties; and the batched sampler
draws what the per-row sampler it replaced drew (same seed, same tokens)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.formats import model_weights
from nanochat_cli.infer import Engine, NativeModel, SamplingParams, SequenceDecode, decode_batch, generate
from nanochat_cli.infer.sampling import Sampler, _ranked_prefix, draw_tokens
from tests.infer.conftest import RUST, make_model


def params_for(i: int) -> SamplingParams:
    """A mix of what eval, RL and serve send: greedy, eval's nucleus, min-p, penalties, top-k; stop strings."""
    kinds = [{"temperature": 0.0}, {"temperature": 0.2, "top_p": 0.95}, {"temperature": 0.9, "min_p": 0.05},
             {"temperature": 0.8, "repeat_penalty": 1.3, "presence_penalty": 0.5}, {"temperature": 1.0, "top_k": 5}]
    return SamplingParams(**kinds[i % len(kinds)], seed=100 + i, max_tokens=20 + 3 * i, stop=["\n}", ";\n"])


def test_decode_batch_gives_each_sequence_the_tokens_it_gets_alone(tokenizer):
    """Refilled slots, and prompts shared by several samples (their prefix copied from another slot's cache
    instead of prefilled again) change no token."""
    native = NativeModel(model_weights(make_model(), None))
    prompts = [tokenizer.encode(RUST[i % len(RUST)][: 12 + 5 * i]).ids for i in range(8)]
    prompts += [prompts[1], prompts[1], prompts[6]]  # more samples of the same prompts
    alone = []
    for i, ids in enumerate(prompts):
        events = list(generate(Engine(native, 1, 160), tokenizer, ids, params_for(i)))
        alone.append(([e.token for e in events if e.token is not None], "".join(e.text for e in events)))
    for slots in (1, 3, 8):  # fewer slots than sequences: finished slots are refilled mid-batch
        engine, prefilled = Engine(native, slots, 160), []
        engine.prefill = lambda slot, ids, log=prefilled, run=engine.prefill: log.append(len(ids)) or run(slot, ids)
        seqs = [(i, SequenceDecode.start(tokenizer, ids, params_for(i))) for i, ids in enumerate(prompts)]
        whole = sum(len(seq.prefill_ids) for _, seq in seqs)
        got = {i: (seq.tokens, seq.text) for i, seq in decode_batch(engine, seqs)}
        assert [got[i] for i in range(len(prompts))] == alone, f"{slots} slots"
        assert sum(prefilled) <= whole - 2 * (len(prompts[1]) - 5), "a shared prompt was prefilled again"


def test_the_shipped_model_decodes_the_same_greedy_tokens_at_batch_16_as_at_batch_1():
    """The eval workload on the real model: batch 16 puts the head's 16 rows through another product than one row's."""
    from nanochat_cli.infer import load_model
    from nanochat_cli.rust.problems import load_problem_set
    from nanochat_cli.shipped_model import shipped_model

    lm = load_model(shipped_model(), threads=1)
    problems = load_problem_set("rust-basic")[:20]

    def run(slots: int) -> list[list[int]]:
        seqs = ((i, SequenceDecode.start(lm.tokenizer, lm.encode(p.prompt),
                                         SamplingParams(temperature=0, max_tokens=24, stop=list(p.stop_tokens)),
                                         lm.eos_ids)) for i, p in enumerate(problems))
        got = dict(decode_batch(lm.engine(slots, 256), seqs))
        return [got[i].tokens for i in range(len(problems))]

    assert run(16) == run(1)


def previous_sampler(p: SamplingParams, rng, logits: np.ndarray, history: list[int]) -> int:
    """Sampler.__call__ as it was before sampling was batched (one row at a time): the seeded stream to keep."""
    s = Sampler(p)
    logits = s.apply_penalties(np.asarray(logits, dtype=np.float32), history)
    if p.temperature == 0 or p.top_k == 1:
        return int(np.argmax(logits))
    if 0 < p.top_k < logits.size:
        idx = np.argpartition(-logits, p.top_k - 1)[:p.top_k]
        z = logits[idx].astype(np.float64)
    else:
        idx, z = np.arange(logits.size), logits.astype(np.float64)
    top = z.max()
    if not np.isfinite(top):
        return int(idx[np.argmax(np.where(np.isnan(z), -np.inf, z))])
    with np.errstate(over="ignore"):
        probs = np.exp((z - top) / p.temperature)
    probs /= probs.sum()
    if not (p.top_p >= 1 and p.min_p == 0):
        order = _ranked_prefix(probs, p.top_p, p.min_p)
        idx, probs = idx[order], probs[order]
        keep = probs.size
        if p.top_p < 1:
            keep = int(np.searchsorted(np.cumsum(probs), p.top_p) + 1)
        if p.min_p > 0:
            keep = min(keep, int((probs >= p.min_p * probs[0]).sum()))
        keep = max(1, min(keep, probs.size))
        idx, probs = idx[:keep], probs[:keep] / probs[:keep].sum()
    cdf = np.cumsum(probs)
    u = rng.random() * cdf[-1]
    return int(idx[min(int(np.searchsorted(cdf, u, side="right")), probs.size - 1)])


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 12), st.sampled_from([3, 50, 300, 2000]), st.sampled_from([0.0, 0.2, 1.0]),
       st.sampled_from([0, 1, 7]), st.sampled_from([1.0, 0.95, 0.3]), st.sampled_from([0.0, 0.05]),
       st.sampled_from([1.0, 1.2]), st.sampled_from(["normal", "ties", "masked"]), st.integers(0, 2**31 - 1))
def test_batched_draws_equal_the_previous_one_row_sampler(b, v, temperature, top_k, top_p, min_p, penalty, kind,
                                                           seed):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((b, v)) * 4).astype(np.float32)
    if kind == "ties":
        logits = np.round(logits)  # equal probabilities, also across the 256-candidate boundary
    elif kind == "masked":
        logits[rng.random((b, v)) < 0.5] = -np.inf
        logits[0] = -np.inf  # a row with nothing to draw from
    histories = [rng.integers(0, v, 8).tolist() for _ in range(b)]
    params = [SamplingParams(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p, repeat_penalty=penalty,
                             seed=seed + i) for i in range(b)]
    samplers, previous = [Sampler(p) for p in params], [Sampler(p) for p in params]
    before = logits.copy()
    for _ in range(3):  # a few steps: each row's RNG advances by its own draws only
        got = draw_tokens(samplers, logits, histories)
        assert got == [previous_sampler(p, r.rng, row, h) for p, r, row, h in zip(params, previous, logits, histories)]
    assert np.array_equal(logits, before)  # penalties work on a copy
