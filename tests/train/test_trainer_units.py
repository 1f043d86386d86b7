"""Schedule, Lion, loss terms and batch sampling: the pieces the loop is built from."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.recipes import LossSection
from nanochat_cli.train.batches import WindowSampler
from nanochat_cli.train.loss import lm_loss
from nanochat_cli.train.optim import Lion
from nanochat_cli.train.schedule import wsd_multiplier


def test_wsd_shape():
    m = [wsd_multiplier(s, 100, 10, 0.2, 0.1) for s in range(100)]
    assert m[0] == pytest.approx(0.1) and m[9] == 1.0
    assert all(v == 1.0 for v in m[10:80])
    assert m[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in itertools.pairwise(m[80:]))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500), st.integers(0, 50), st.floats(0, 1), st.floats(0, 1))
def test_wsd_stays_in_range(total, warmup, frac, floor):
    for s in range(0, total, max(1, total // 20)):
        assert min(floor, 1 / max(warmup, 1)) - 1e-9 <= wsd_multiplier(s, total, warmup, frac, floor) <= 1.0


def test_lion_step_is_a_signed_update_with_decay():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = Lion([w], lr=0.1, betas=(0.9, 0.99), weight_decay=0.5)
    w.grad = torch.tensor([0.3, -0.1, 0.0])
    opt.step()
    # m = 0: update = sign(0.1 * g); w = w * (1 - 0.05) - 0.1 * update
    expected = torch.tensor([1.0, -2.0, 0.5]) * 0.95 - 0.1 * torch.tensor([1.0, -1.0, 0.0])
    assert torch.allclose(w.detach(), expected)
    assert torch.allclose(opt.state[w]["exp_avg"], 0.01 * torch.tensor([0.3, -0.1, 0.0]))


def test_loss_terms():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 11)
    y = torch.randint(0, 11, (2, 5))
    plain = lm_loss(logits, y, LossSection())
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), y.reshape(-1))
    assert torch.allclose(plain.loss, ce) and torch.allclose(plain.ce, ce)
    p = logits.softmax(-1)
    h = -(p * p.log()).sum(-1).mean()
    assert torch.allclose(plain.entropy, h, atol=1e-6)
    reg = lm_loss(logits, y, LossSection(entropy_lambda=0.5))
    assert torch.allclose(reg.loss, ce - 0.5 * h, atol=1e-6)
    z = lm_loss(logits, y, LossSection(z_loss=1e-2))
    assert torch.allclose(z.loss, ce + 1e-2 * torch.logsumexp(logits, -1).pow(2).mean(), atol=1e-6)
    aux = lm_loss(logits, y, LossSection(), torch.tensor(0.25))
    assert torch.allclose(aux.loss, ce + 0.25)
    assert plain.max_logit == logits.max()
    uniform = lm_loss(torch.zeros(1, 3, 11), y[:1, :3], LossSection())
    assert uniform.entropy.item() == pytest.approx(math.log(11))


def test_global_batch_is_split_across_ranks_and_micro_steps():
    tokens = np.arange(1000, dtype=np.uint16)
    s = WindowSampler(tokens, 16, seed=7)
    whole, _ = s.micro_batch(5, 0, 0, 1, 8, 1)
    parts = [s.micro_batch(5, m, r, 2, 2, 2)[0] for m in range(2) for r in range(2)]
    assert torch.equal(torch.cat(parts), whole)
    x, y = s.micro_batch(5, 0, 0, 1, 8, 1)
    assert torch.equal(x[:, 1:], y[:, :-1])
    assert not torch.equal(s.micro_batch(6, 0, 0, 1, 8, 1)[0], whole)


def test_cpu_peak_follows_the_fma_width():
    from nanochat_cli.train.progress import cpu_flops_per_cycle, flops_per_token

    assert cpu_flops_per_cycle("vendor_id : GenuineIntel\nflags : fma avx2 avx512f avx512bw") == 64
    assert cpu_flops_per_cycle("vendor_id : AuthenticAMD\nflags : fma avx2 avx512f avx512bw") == 32
    assert cpu_flops_per_cycle("vendor_id : GenuineIntel\nflags : fma avx2") == 32
    assert flops_per_token(1000, 2, 64, 128) == 6000 + 12 * 2 * 64 * 128


def test_metrics_log_resume_drops_later_records_and_a_half_written_line(tmp_path):
    from nanochat_cli.train.progress import MetricsLog

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.5}\n{"step": 3, "loss": 2.0}\n{"step": 4, "lo')
    log = MetricsLog(path, resume_step=2)
    assert [r["step"] for r in log.records] == [1, 2]
    log.append({"step": 3, "loss": 1.9})
    assert path.read_text() == '{"step": 1, "loss": 3.0}\n{"step": 2, "loss": 2.5}\n{"step": 3, "loss": 1.9}\n'


def test_optimizer_hyper_parameters_the_optimizers_refuse_are_one_recipe_error():
    from nanochat_cli.errors import NanochatError
    from nanochat_cli.model import TernaryLM, named_config
    from nanochat_cli.recipes import recipe_from_dict
    from nanochat_cli.train.optim import build_optimizers

    model = TernaryLM(named_config("tiny", vocab_size=300, d_model=64, n_layers=1, n_heads=2, n_kv_heads=2, ffn_hidden=128,
                                      group_size=64))
    with pytest.raises(NanochatError, match=r"recipe \[optimizer\] rejected: bad Lion hyper-parameters lr=0.0"):
        build_optimizers(model, recipe_from_dict({}, ["optimizer.other_lr=0"]).optimizer)
    assert len(build_optimizers(model, recipe_from_dict({}).optimizer)) == 2
