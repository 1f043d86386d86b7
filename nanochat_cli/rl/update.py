"""The policy update in torch: log-probabilities of the sampled tokens recomputed, the clipped policy-gradient loss
with a k3 KL penalty to the reference, accumulated over micro-batches (token-level mean over the whole batch, DAPO).

    stats = policy_update(model, ref, opts, params, batch, rl, device, autocast)   # batch: [(Sample, advantage)]
"""

from __future__ import annotations

import torch

from nanochat_cli.rl.advantages import k3_kl
from nanochat_cli.train.optim import clip_and_step


def _padded(samples, device) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, torch.Tensor]]]:
    """(ids [B, L], mask [B, L-1], constrained) where mask marks the positions whose next token is a sampled one
    and constrained lists (index among those positions, row-major; the ids allowed there) for the tokens token
    healing drew from a constrained choice."""
    seqs = [s.prefill_ids + s.tokens for s in samples]
    L = max(len(x) for x in seqs)
    ids = torch.zeros(len(seqs), L, dtype=torch.long)
    mask = torch.zeros(len(seqs), L - 1)
    constrained, offset = [], 0
    for b, (x, s) in enumerate(zip(seqs, samples)):
        ids[b, :len(x)] = torch.tensor(x)
        mask[b, len(s.prefill_ids) - 1:len(x) - 1] = 1.0
        constrained += [(offset + j, torch.as_tensor(a, dtype=torch.long, device=device))
                        for j, a in enumerate(s.constraints) if a is not None]
        offset += len(s.tokens)
    return ids.to(device), mask.to(device), constrained


def token_logprobs(model, ids: torch.Tensor, autocast, at: torch.Tensor | None = None,
                   constrained: list[tuple[int, torch.Tensor]] = ()) -> tuple[torch.Tensor, torch.Tensor]:
    """(log pi of each next token, the predictive entropy) at every position [B, L-1], or with `at` (a bool mask
    [B, L-1]) only at its positions [N]: the trunk still reads the whole sequence, but the head, the soft-cap and
    the full-vocabulary softmax skip the prompt and the padding. The entropy is only logged: it carries no gradient.
    constrained (with `at`; from _padded): at those positions the token was drawn from the allowed ids only (token
    healing), so its log-probability is taken within them, as the sampler drew it."""
    with autocast():
        logits = model(ids[:, :-1], logits_at=at).logits
    targets = ids[:, 1:] if at is None else ids[:, 1:][at]
    logp_all = torch.log_softmax(logits.float(), dim=-1)
    logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if constrained:
        rows = torch.tensor([r for r, _ in constrained], device=logp.device)
        norm = torch.stack([torch.logsumexp(logp_all[r, allowed], dim=0) for r, allowed in constrained])
        logp = logp.index_put((rows,), logp[rows] - norm)
    with torch.no_grad():
        entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def policy_update(model, ref, opts, params, batch, rl, device, autocast, grad_clip: float, reduce_grads=None) -> dict:
    """rl.ppo_epochs optimizer steps over batch [(Sample, advantage)]; returns loss, KL, entropy, clip share, |g|."""
    batch = [(s, a) for s, a in batch if s.tokens]
    if not batch and reduce_grads is None:
        return {}
    # under torchrun a rank without samples still steps: zero gradients into the all-reduce, the same update.
    # Micro-batches of similar lengths pad less; the loss is a sum over tokens, so the grouping does not change it.
    batch.sort(key=lambda sa: len(sa[0].prefill_ids) + len(sa[0].tokens))
    micro = []
    for i in range(0, len(batch), rl.micro_batch):
        mb = batch[i:i + rl.micro_batch]
        ids, mask, constrained = _padded([s for s, _ in mb], device)
        adv = torch.tensor([a for _, a in mb], dtype=torch.float32, device=device).unsqueeze(1)
        at = mask.bool()
        micro.append((ids, at, constrained, adv.expand_as(mask)[at]))
    n_tokens = max(1, sum(len(s.tokens) for s, _ in batch))
    olds: list[torch.Tensor | None] = [None] * len(micro)
    refs: list[torch.Tensor] = []
    with torch.no_grad():  # the reference's (and, when the batch is reused, the behaviour policy's) log-probs
        for i, (ids, at, constrained, _) in enumerate(micro):
            refs.append(token_logprobs(ref, ids, autocast, at, constrained)[0])
            if rl.ppo_epochs > 1:
                olds[i] = token_logprobs(model, ids, autocast, at, constrained)[0]
    totals = {"loss": 0.0, "kl": 0.0, "entropy": 0.0, "clipped": 0.0}
    grad_norm = 0.0
    for epoch in range(rl.ppo_epochs):
        for i, (ids, at, constrained, adv) in enumerate(micro):
            logp, entropy = token_logprobs(model, ids, autocast, at, constrained)  # [N]: the sampled tokens only
            old = olds[i] if olds[i] is not None else logp.detach()
            ratio = torch.exp(logp - old)
            pg = -torch.minimum(ratio * adv, torch.clamp(ratio, 1 - rl.clip_eps, 1 + rl.clip_eps) * adv)
            kl = k3_kl(logp, refs[i])
            loss = (pg + rl.kl_coef * kl).sum() / n_tokens
            loss.backward()
            if epoch == 0:
                totals["loss"] += float(loss.detach())
                totals["kl"] += float(kl.detach().sum()) / n_tokens
                totals["entropy"] += float(entropy.sum()) / n_tokens
                totals["clipped"] += float(((ratio.detach() - 1).abs() > rl.clip_eps).sum()) / n_tokens
        if reduce_grads is not None:
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            reduce_grads(params)
        grad_norm = clip_and_step(params, opts, grad_clip, "in the RL update; lower the learning rates or raise rl.kl_coef")
    return {**totals, "grad_norm": grad_norm, "update_tokens": n_tokens} if batch else {}
