"""The torch side: which positions are scored, and that a positive advantage raises a sample's log-probability."""

from __future__ import annotations

from contextlib import nullcontext

import torch

from nanochat_cli.recipes import RLSection
from nanochat_cli.rl.rollout import Sample
from nanochat_cli.rl.update import _padded, policy_update, token_logprobs
from nanochat_cli.train.checkpoint import load_checkpoint_model


def test_only_the_sampled_tokens_are_scored():
    a, b = Sample([5, 6, 7], [8, 9], ""), Sample([5], [4, 3, 2], "")
    ids, mask = _padded([a, b], "cpu")
    assert ids.tolist() == [[5, 6, 7, 8, 9], [5, 4, 3, 2, 0]]
    # mask[t] marks predicting ids[t + 1]: a's tokens 8, 9 sit at 3, 4; b's 4, 3, 2 at 1, 2, 3
    assert mask.tolist() == [[0, 0, 1, 1], [1, 1, 1, 0]]


def test_a_positive_advantage_raises_the_samples_log_probability(base):
    model, _ = load_checkpoint_model(base)
    ref, _ = load_checkpoint_model(base)
    model.train()
    good, bad = Sample([1, 2, 3], [10, 11, 12], ""), Sample([1, 2, 3], [20, 21, 22], "")
    opts = [torch.optim.AdamW(model.parameters(), lr=1e-2)]
    params = list(model.parameters())

    def seq_logp(s):
        ids, mask = _padded([s], "cpu")
        with torch.no_grad():
            return float((token_logprobs(model, ids, nullcontext)[0] * mask).sum())

    before = seq_logp(good), seq_logp(bad)
    stats = policy_update(model, ref, opts, params, [(good, 1.0), (bad, -1.0)], RLSection(kl_coef=0.1), "cpu",
                          nullcontext, grad_clip=1.0)
    after = seq_logp(good), seq_logp(bad)
    assert after[0] > before[0] and after[1] < before[1]
    assert stats["kl"] == 0.0 and stats["update_tokens"] == 6  # the policy was the reference during the update
