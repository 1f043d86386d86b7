"""Advantage formulas against hand-computed groups, the DAPO drop, the k3 KL estimator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanochat_cli.rl.advantages import EPS, group_advantages, informative, k3_kl


def test_grpo_is_r_minus_mean_over_sample_std():
    # r = [1, 0, 0.5, 0.5]: mean 0.5, sample variance (0.25 + 0.25 + 0 + 0) / 3 = 1/6
    std = (1 / 6) ** 0.5
    a = group_advantages([1.0, 0.0, 0.5, 0.5], [True, False, False, False], "grpo")
    np.testing.assert_allclose(a, [0.5 / (std + EPS), -0.5 / (std + EPS), 0.0, 0.0])


def test_maxrl_is_s_minus_p_over_p_and_zero_without_success():
    # 1 success of 4: p = 0.25 -> success (1 - 0.25) / 0.25 = 3, failures -1
    np.testing.assert_allclose(group_advantages([1, 0.2, 0.5, 0], [True, False, False, False], "maxrl"), [3, -1, -1, -1])
    np.testing.assert_allclose(group_advantages([0.5, 0.2], [False, False], "maxrl"), [0, 0])
    # 2 of 2: p = 1 -> 0 each
    np.testing.assert_allclose(group_advantages([1, 1], [True, True], "maxrl"), [0, 0])


def test_maxrl_gradient_is_the_successes_mean_score_minus_a_baseline():
    rng = np.random.default_rng(0)
    success = np.array([True, False, True, False, False, True, False, False])
    grads = rng.normal(size=(8, 5))  # grad log pi of each sample
    a = group_advantages(np.zeros(8), success, "maxrl")
    lhs = (a[:, None] * grads).mean(0)
    rhs = grads[success].mean(0) - grads.mean(0)
    np.testing.assert_allclose(lhs, rhs, atol=1e-12)


def test_rest_keeps_only_successes():
    np.testing.assert_allclose(group_advantages([1, 0.5], [True, False], "rest"), [1, 0])


@pytest.mark.parametrize("algorithm, rewards, success, keep", [
    ("grpo", [0.5, 0.5, 0.5], [False] * 3, False),       # equal graded rewards: no gradient, dropped
    ("grpo", [0.5, 0.2, 0.5], [False] * 3, True),        # graded rewards differ though nothing passes
    ("maxrl", [0.5, 0.2, 0.5], [False] * 3, False),      # binary success all equal
    ("maxrl", [1, 1, 1], [True] * 3, False),
    ("maxrl", [1, 0, 0], [True, False, False], True),
    ("rest", [1, 1, 1], [True] * 3, True),                # fine-tuning data even when all pass
    ("rest", [0.5, 0.2, 0], [False] * 3, False),
])
def test_zero_variance_groups_are_dropped(algorithm, rewards, success, keep):
    assert informative(rewards, success, algorithm) is keep
    if not keep and algorithm != "rest":
        assert not np.any(group_advantages(rewards, success, algorithm))


def test_k3_is_exact_on_equal_policies_nonnegative_and_unbiased():
    logp = torch.log(torch.tensor([0.2, 0.5, 0.3]))
    assert torch.equal(k3_kl(logp, logp), torch.zeros(3))
    ref = torch.log(torch.tensor([0.4, 0.4, 0.2]))
    assert (k3_kl(logp, ref) >= 0).all()
    # E_{x~pi}[k3] = KL(pi || ref)
    pi = logp.exp()
    expected = float((pi * (logp - ref)).sum())
    assert float((pi * k3_kl(logp, ref)).sum()) == pytest.approx(expected, rel=1e-5)
    # hand value at one token: d = ref - logp = log(0.4/0.2); k3 = 2 - log 2 - 1
    assert float(k3_kl(logp[:1], ref[:1])) == pytest.approx(1 - np.log(2), rel=1e-6)
