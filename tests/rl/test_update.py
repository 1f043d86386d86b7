"""The torch side: which positions are scored, and that a positive advantage raises a sample's log-probability."""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer

from nanochat_cli.formats.checkpoint_dir import load_checkpoint_model
from nanochat_cli.infer.decode import SequenceDecode
from nanochat_cli.infer.sampling import SamplingParams
from nanochat_cli.recipes import RLSection
from nanochat_cli.rl.advantages import k3_kl
from nanochat_cli.rl.rollout import Sample
from nanochat_cli.rl.update import _padded, policy_update, token_logprobs
from tests.rl.conftest import write_base


def test_only_the_sampled_tokens_are_scored():
    a, b = Sample([5, 6, 7], [8, 9], ""), Sample([5], [4, 3, 2], "")
    ids, mask, constrained = _padded([a, b], "cpu")
    assert ids.tolist() == [[5, 6, 7, 8, 9], [5, 4, 3, 2, 0]]
    # mask[t] marks predicting ids[t + 1]: a's tokens 8, 9 sit at 3, 4; b's 4, 3, 2 at 1, 2, 3
    assert mask.tolist() == [[0, 0, 1, 1], [1, 1, 1, 0]]
    assert constrained == []


def test_healed_tokens_are_scored_within_the_ids_they_were_drawn_from(base):
    """Token healing drew b's first two tokens from allowed sets (the second forced: one id): their log-probability
    is taken within those ids, as the sampler drew them; every other token's is unchanged."""
    model, _ = load_checkpoint_model(base)
    a = Sample([5, 6, 7], [8, 9], "")
    b = Sample([5], [4, 3, 2], "", constraints=[np.array([4, 17, 30]), np.array([3])])
    ids, mask, constrained = _padded([a, b], "cpu")
    assert [r for r, _ in constrained] == [2, 3]  # b's first two of the five scored positions (a's two come first)
    at = mask.bool()
    with torch.no_grad():
        plain, _ = token_logprobs(model, ids, nullcontext, at)
        healed, _ = token_logprobs(model, ids, nullcontext, at, constrained)
        logp_all = torch.log_softmax(model(ids[:, :-1]).logits.float(), dim=-1)[at]
    want = plain.clone()
    want[2] = logp_all[2, 4] - torch.logsumexp(logp_all[2, [4, 17, 30]], dim=0)
    want[3] = 0.0  # a forced token: probability 1 within its one allowed id
    torch.testing.assert_close(healed, want, rtol=0, atol=1e-5)
    assert healed[2] > plain[2]


def test_a_healed_decode_records_what_each_constrained_token_was_drawn_from():
    """A prompt ending in a newline is backed off; the first sampled token must re-spell it: its allowed ids are
    recorded, and the sampled token is one of them."""
    tok = Tokenizer.from_file(str(write_base(Path(tempfile.mkdtemp())) / "tokenizer.json"))
    ids = tok.encode("fn main() {\n    let x = 42;\n").ids
    seq = SequenceDecode.start(tok, ids, SamplingParams(seed=0, max_tokens=4))
    assert len(seq.prefill_ids) < len(ids)  # healing backed off the prompt's end
    rng = np.random.default_rng(0)
    while seq.finish_reason is None:
        seq.step(rng.normal(size=tok.get_vocab_size()).astype(np.float32))
    assert 1 <= len(seq.constraints) <= len(seq.tokens)
    for token, allowed in zip(seq.tokens, seq.constraints):
        assert allowed is not None and token in allowed.tolist()


def test_a_positive_advantage_raises_the_samples_log_probability(base):
    model, _ = load_checkpoint_model(base)
    ref, _ = load_checkpoint_model(base)
    model.train()
    good, bad = Sample([1, 2, 3], [10, 11, 12], ""), Sample([1, 2, 3], [20, 21, 22], "")
    opts = [torch.optim.AdamW(model.parameters(), lr=1e-2)]
    params = list(model.parameters())

    def seq_logp(s):
        ids, mask, _ = _padded([s], "cpu")
        with torch.no_grad():
            return float((token_logprobs(model, ids, nullcontext)[0] * mask).sum())

    before = seq_logp(good), seq_logp(bad)
    stats = policy_update(model, ref, opts, params, [(good, 1.0), (bad, -1.0)], RLSection(kl_coef=0.1), "cpu",
                          nullcontext, grad_clip=1.0)
    after = seq_logp(good), seq_logp(bad)
    assert after[0] > before[0] and after[1] < before[1]
    assert stats["kl"] == 0.0 and stats["update_tokens"] == 6  # the policy was the reference during the update


# ---- the update against a plain per-sample computation: no padding, no micro-batches, full-vocab head ----
def _tiny_batch():
    # two prompts, completions of several lengths, so that sorting regroups them and padding differs per micro-batch
    p1, p2 = [1, 2, 3, 4, 5], [7, 8]
    return [(Sample(p1, [10, 11, 12, 13, 14, 15, 16], ""), 1.2), (Sample(p1, [20, 21], ""), -0.7),
            (Sample(p2, [30, 31, 32, 33], ""), 0.4), (Sample(p2, [40], ""), -1.5), (Sample(p1, [50, 51, 52], ""), 0.3),
            (Sample(p2, [], ""), 2.0)]  # an empty sample carries no gradient


def _plain_loss(model, ref, batch, rl) -> tuple[torch.Tensor, dict]:
    """The update's loss written out sample by sample: sum over sampled tokens of the clipped policy-gradient term
    plus kl_coef x k3 KL, over the batch's token count; and the logged means."""
    batch = [(s, a) for s, a in batch if s.tokens]
    n = sum(len(s.tokens) for s, _ in batch)
    loss, kl_sum, ent_sum = torch.zeros(()), 0.0, 0.0
    for s, a in batch:
        ids = torch.tensor([s.prefill_ids + s.tokens])
        p = len(s.prefill_ids)
        targets = ids[0, p:].unsqueeze(-1)
        logp_all = torch.log_softmax(model(ids[:, :-1]).logits[0, p - 1:], dim=-1)
        logp = logp_all.gather(-1, targets).squeeze(-1)
        with torch.no_grad():
            ref_logp = torch.log_softmax(ref(ids[:, :-1]).logits[0, p - 1:], dim=-1).gather(-1, targets).squeeze(-1)
            ent_sum += float(-(logp_all.exp() * logp_all).sum())
        ratio = torch.exp(logp - logp.detach())
        pg = -torch.minimum(ratio * a, torch.clamp(ratio, 1 - rl.clip_eps, 1 + rl.clip_eps) * a)
        kl = k3_kl(logp, ref_logp)
        loss = loss + (pg + rl.kl_coef * kl).sum() / n
        kl_sum += float(kl.detach().sum())
    return loss, {"loss": float(loss.detach()), "kl": kl_sum / n, "entropy": ent_sum / n, "update_tokens": n}


def _gradients(model) -> list[torch.Tensor]:
    return [p.grad.clone() for p in model.parameters()]


def _policy_and_reference(base, tmp_path):
    model, _ = load_checkpoint_model(base)
    ref, _ = load_checkpoint_model(write_base(tmp_path / "ref", seed=1))  # other weights: the KL term is not zero
    model.train()
    ref.eval().requires_grad_(False)
    return model, ref


def test_the_head_at_chosen_positions_gives_the_full_forwards_rows(base):
    model, _ = load_checkpoint_model(base)
    ids = torch.tensor([[1, 2, 3, 4, 5, 6], [7, 8, 9, 0, 0, 0]])
    at = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 0, 0, 0]], dtype=torch.bool)
    for train in (False, True):
        model.train(train)
        with torch.no_grad():
            full, part = model(ids).logits, model(ids, logits_at=at).logits
        assert part.shape == (5, model.cfg.vocab_size)
        torch.testing.assert_close(part, full[at], rtol=0, atol=1e-6)


def test_token_logprobs_at_the_mask_are_the_full_computations_values(base):
    model, _ = load_checkpoint_model(base)
    ids, mask, _ = _padded([s for s, _ in _tiny_batch()[:3]], "cpu")
    at = mask.bool()
    with torch.no_grad():
        logp, entropy = token_logprobs(model, ids, nullcontext)
        logp_at, entropy_at = token_logprobs(model, ids, nullcontext, at)
    torch.testing.assert_close(logp_at, logp[at], rtol=0, atol=1e-6)
    torch.testing.assert_close(entropy_at, entropy[at], rtol=0, atol=1e-5)


@pytest.mark.parametrize("ppo_epochs", [1, 2])
def test_policy_update_gradient_and_stats_equal_the_plain_per_sample_loss(base, tmp_path, ppo_epochs):
    model, ref = _policy_and_reference(base, tmp_path)
    rl = RLSection(kl_coef=0.5, micro_batch=2, ppo_epochs=ppo_epochs)
    batch = _tiny_batch()
    loss, want = _plain_loss(model, ref, batch, rl)
    loss.backward()
    expected = [g * ppo_epochs for g in _gradients(model)]  # no optimizer: the epochs' gradients add up
    model.zero_grad(set_to_none=True)
    params = list(model.parameters())
    stats = policy_update(model, ref, [], params, batch, rl, "cpu", nullcontext, grad_clip=0.0)
    for g, e in zip(_gradients(model), expected):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-6)
    assert want["kl"] > 1e-3 and stats["update_tokens"] == want["update_tokens"] == 17
    for k in ("loss", "kl", "entropy"):
        assert stats[k] == pytest.approx(want[k], rel=1e-5, abs=1e-7), k
    assert stats["clipped"] == 0.0  # on-policy: every ratio is 1
