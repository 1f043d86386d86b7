"""Time `nanochat rl`'s torch update (`policy_update`) against the code it replaced, on the shipped model's shape;
or, with --step, one whole RL step of whatever code is on PYTHONPATH, split into its parts.

Run: `python benchmarks/rl_update.py runs/rust_small_verified --prompts 8 --group 8 --reps 3 --threads 1`
     `PYTHONPATH=TREE python benchmarks/rl_update.py runs/rust_small_verified --step --reps 2 --threads 1 --json`
Default: a synthetic batch shaped like one RL step (prompts x group samples; each group shares one prompt of 25-70
tokens, completions of 20-160 tokens, random advantages) goes through both versions round-robin, so load from other
processes falls on both alike; medians reported. Before timing, both compute the gradient of the same weights
(the optimizer step replaced by a capture) and are checked to agree.
--step: the recipe's prompt pool (verified once, cached), the weight refresh (export to memory, native model, engine;
each part timed), G samples per prompt decoded by the native engine while rustc scores them (`rollout`, no verdict
cache), then `policy_update` on every sample with its group's advantage, the reference's forward timed apart;
--rescore adds rustc alone on the step's completions (checks/s). Each rep samples the same prompts with the same
seeds from the same weights, so two versions of the code (run one after the other) see the same rollouts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import time
from contextlib import nullcontext

import torch

from nanochat_cli.formats.checkpoint_dir import load_checkpoint_model
from nanochat_cli.recipes import load_recipe
from nanochat_cli.rl.advantages import k3_kl
from nanochat_cli.rl.rollout import Sample
from nanochat_cli.rl.update import _padded, policy_update
from nanochat_cli.train.optim import build_optimizers, clip_and_step
from nanochat_cli.train.trainer import resolve_dtype


# ---- the update as it was before 2026-12-06: full-vocab head at every position, batch order kept ----
def _token_logprobs_before(model, ids, autocast):
    with autocast():
        logits = model(ids[:, :-1]).logits
    logp_all = torch.log_softmax(logits.float(), dim=-1)
    logp = logp_all.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def policy_update_before(model, ref, opts, params, batch, rl, device, autocast, grad_clip: float) -> dict:
    batch = [(s, a) for s, a in batch if s.tokens]
    micro = [batch[i:i + rl.micro_batch] for i in range(0, len(batch), rl.micro_batch)]
    n_tokens = max(1, sum(len(s.tokens) for s, _ in batch))
    refs = []
    with torch.no_grad():
        for mb in micro:
            ids, _, _ = _padded([s for s, _ in mb], device)
            refs.append(_token_logprobs_before(ref, ids, autocast)[0])
    totals = {"loss": 0.0, "kl": 0.0, "entropy": 0.0, "clipped": 0.0}
    for i, mb in enumerate(micro):  # rl.ppo_epochs = 1, the recipes' value
        ids, mask, _ = _padded([s for s, _ in mb], device)
        adv = torch.tensor([a for _, a in mb], dtype=torch.float32, device=device).unsqueeze(1)
        logp, entropy = _token_logprobs_before(model, ids, autocast)
        ratio = torch.exp(logp - logp.detach())
        pg = -torch.minimum(ratio * adv, torch.clamp(ratio, 1 - rl.clip_eps, 1 + rl.clip_eps) * adv)
        kl = k3_kl(logp, refs[i])
        loss = ((pg + rl.kl_coef * kl) * mask).sum() / n_tokens
        loss.backward()
        totals["loss"] += float(loss.detach())
        totals["kl"] += float((kl.detach() * mask).sum()) / n_tokens
        totals["entropy"] += float((entropy.detach() * mask).sum()) / n_tokens
        totals["clipped"] += float((((ratio - 1).abs() > rl.clip_eps).float() * mask).sum()) / n_tokens
    grad_norm = clip_and_step(params, opts, grad_clip, "in the RL update")
    return {**totals, "grad_norm": grad_norm, "update_tokens": n_tokens}


# ---- harness ----
class GradCapture:
    """Stands in for the optimizers: keeps the gradients the update would step with, leaves the weights."""

    def __init__(self, params):
        self.params, self.grads = params, []

    def step(self):
        self.grads = [p.grad.detach().clone() for p in self.params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None


def cpu_name() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def synthetic_batch(prompts: int, group: int, vocab: int, seed: int) -> list[tuple[Sample, float]]:
    rng = random.Random(seed)
    batch = []
    for _ in range(prompts):
        prompt = [rng.randrange(vocab) for _ in range(rng.randint(25, 70))]
        for _ in range(group):
            tokens = [rng.randrange(vocab) for _ in range(rng.randint(20, 160))]
            batch.append((Sample(prompt, tokens, ""), rng.gauss(0.0, 1.0)))
    return batch


# ---- --step: one RL step of the code on PYTHONPATH, split into its parts ----
class Clock:
    """Wall, this process's CPU and its children's (rustc) CPU seconds since the last `lap`."""

    def __init__(self):
        self.last = self._now()

    @staticmethod
    def _now():
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter(), time.process_time(), kids.ru_utime + kids.ru_stime

    def lap(self) -> dict:
        now, last = self._now(), self.last
        self.last = now
        return {"wall_s": now[0] - last[0], "cpu_s": now[1] - last[1], "rustc_cpu_s": now[2] - last[2]}


class TimedForward:
    """Wraps a module's forward and sums its wall and CPU seconds (the reference's forward inside the update)."""

    def __init__(self, module):
        self.inner, self.wall_s, self.cpu_s = module.forward, 0.0, 0.0
        module.forward = self

    def __call__(self, *args, **kwargs):
        c, t = time.process_time(), time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.cpu_s += time.process_time() - c
            self.wall_s += time.perf_counter() - t


def rl_step_split(args, recipe) -> dict:
    from nanochat_cli.formats.export import model_weights
    from nanochat_cli.infer.engine import Engine
    from nanochat_cli.infer.forward import NativeModel
    from nanochat_cli.infer.sampling import SamplingParams
    from nanochat_cli.kernels import set_threads
    from nanochat_cli.rl.advantages import group_advantages
    from nanochat_cli.rl.prompts import build_pool
    from nanochat_cli.rl.rewards import SandboxReward
    from nanochat_cli.rl.rollout import rollout
    from nanochat_cli.rl.trainer import EOT, sample_seed
    from nanochat_cli.rust.sandbox import ResultCache

    rl = recipe.rl
    set_threads(args.threads)
    reward_fn = SandboxReward(rl)
    try:
        pool, _ = build_pool(rl, reward_fn.sandbox)  # the prompts' verification reads the disk cache ...
        reward_fn.sandbox.cache = ResultCache(None)  # ... the samples' verdicts do not: every rep runs rustc
        model, tokenizer = load_checkpoint_model(args.base)
        ref, _ = load_checkpoint_model(args.base)
        ref.eval().requires_grad_(False)
        ref_forward = TimedForward(ref)
        params = [p for p in model.parameters() if p.requires_grad]
        # GradCapture instead of the optimizers: the weights never move, so every rep samples alike (the optimizer
        # step is left out of the update's time)
        cap = GradCapture(params)
        dtype = resolve_dtype(torch.device("cpu"), recipe.train.dtype)
        autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dtype == "bf16" else nullcontext
        tokenizer_json = tokenizer.to_str()
        eos = {i for i in (tokenizer.token_to_id(EOT),) if i is not None}
        drawn = random.Random(args.seed).sample(range(len(pool)), args.prompts)
        prompts = [(i, pool[i], tokenizer.encode(pool[i].problem.prompt, add_special_tokens=False).ids) for i in drawn]

        def params_for(i, g):
            return SamplingParams(temperature=rl.temperature, top_p=rl.top_p, max_tokens=rl.max_tokens,
                                  stop=list(pool[i].problem.stop_tokens), seed=sample_seed(rl.seed, 0, 0, i, g))

        reps = []
        for _ in range(args.reps):
            reward_fn.memo.clear()  # every rep pays for its rustc runs, as a step of new samples does
            reward_fn.shapes.clear()
            rep: dict = {}
            clock = Clock()
            model.eval()
            weights = model_weights(model, tokenizer_json, "rl policy")
            rep["refresh_export"] = clock.lap()
            native = NativeModel(weights)
            rep["refresh_native_model"] = clock.lap()
            engine = Engine(native, rl.slots, model.cfg.max_seq_len)
            rep["refresh_engine"] = clock.lap()
            groups, timing = rollout(engine, tokenizer, eos, prompts, args.group, params_for, reward_fn)
            rep["rollout"] = clock.lap()
            rep["generate_wall_s"], rep["reward_wait_wall_s"] = timing.generate_s, timing.reward_wait_s
            del engine, native, weights
            model.train()
            batch = []
            for grp in groups:
                adv = group_advantages(grp.rewards, grp.success, rl.algorithm)
                batch += [(s, float(a)) for s, a in zip(grp.samples, adv)]
            ref_forward.wall_s = ref_forward.cpu_s = 0.0
            clock.lap()
            up = policy_update(model, ref, [cap], params, batch, rl, "cpu", autocast, recipe.optimizer.grad_clip)
            rep["update"] = clock.lap()
            rep["reference_forward"] = {"wall_s": ref_forward.wall_s, "cpu_s": ref_forward.cpu_s}
            samples = [s for g in groups for s in g.samples]
            rep["samples"], rep["completion_tokens"] = len(samples), timing.tokens
            rep["update_tokens"], rep["kl"] = up.get("update_tokens"), up.get("kl")
            rep["rewards"] = [s.reward.level for s in samples]
            rep["compile_rate"] = _fraction(s.reward.compiled for s in samples)
            rep["rustc_runs"] = sum(not s.reward.cached for s in samples)
            if args.rescore:
                rep["rescore"] = rescore(reward_fn, groups, pool)
            step_wall = sum(rep[k]["wall_s"] for k in ("refresh_export", "refresh_native_model", "refresh_engine",
                                                       "rollout", "update"))
            rep["step_wall_s"] = step_wall
            rep["samples_per_s"] = len(samples) / step_wall
            reps.append(rep)
    finally:
        reward_fn.close()
    return {"reps": reps, "prompts": args.prompts, "group": args.group}


def rescore(reward_fn, groups, pool) -> dict:
    """The step's completions scored again with nothing else running: all submitted at once to rl.jobs workers,
    memo and disk cache off, so rustc's own rate shows (checks/s)."""
    reward_fn.memo.clear()
    reward_fn.shapes.clear()
    clock = Clock()
    futures = [reward_fn.submit(pool[g.prompt].problem, s.text) for g in groups for s in g.samples if s.tokens]
    runs = sum(not f.result().cached for f in futures)
    lap = clock.lap()
    return {**lap, "checks": len(futures), "rustc_runs": runs, "checks_per_s": len(futures) / lap["wall_s"],
            "rustc_runs_per_s": runs / lap["wall_s"], "jobs": reward_fn.rl.jobs}


def _fraction(xs) -> float:
    xs = list(xs)
    return sum(map(bool, xs)) / max(1, len(xs))


def _median(reps, *path) -> float:
    def get(r):
        for k in path:
            r = r[k]
        return r
    return statistics.median(get(r) for r in reps)


def print_step_split(result: dict) -> None:
    reps = result["reps"]
    print(f"one RL step: {result['prompts']} prompts x {result['group']} samples, {result['threads']} thread(s), "
          f"load average {result['load_average'][0]:.1f}; medians of {len(reps)} reps (wall s / CPU s of this process)")
    for part in ("refresh_export", "refresh_native_model", "refresh_engine", "rollout", "update",
                 "reference_forward"):
        print(f"  {part:22s} {_median(reps, part, 'wall_s'):7.2f} / {_median(reps, part, 'cpu_s'):7.2f}")
    print(f"  rollout: generation {_median(reps, 'generate_wall_s'):.2f} s, waiting for rewards "
          f"{_median(reps, 'reward_wait_wall_s'):.2f} s, rustc CPU {_median(reps, 'rollout', 'rustc_cpu_s'):.2f} s "
          f"for {_median(reps, 'rustc_runs'):.0f} runs")
    print(f"  step {_median(reps, 'step_wall_s'):.2f} s wall: {_median(reps, 'samples_per_s'):.2f} samples/s")
    if "rescore" in reps[0]:
        print(f"  rustc alone, {reps[0]['rescore']['jobs']} jobs: {_median(reps, 'rescore', 'checks_per_s'):.2f} "
              f"checks/s ({_median(reps, 'rescore', 'rustc_runs_per_s'):.2f} rustc runs/s; the rest trivial or "
              "generic, no rustc)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", nargs="?", default="runs/rust_small_verified", help="training checkpoint (the RL base)")
    ap.add_argument("--recipe", default="recipes/rl_grpo.toml")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--step", action="store_true", help="time one whole RL step of the code on PYTHONPATH instead")
    ap.add_argument("--rescore", action="store_true", help="--step: also time rustc alone on the step's completions")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    recipe = load_recipe(args.recipe)
    if args.step:
        result = rl_step_split(args, recipe)
        result.update({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "machine": f"{cpu_name()}, {os.cpu_count()} logical CPUs", "torch": torch.__version__,
                       "threads": args.threads, "load_average": list(os.getloadavg())})
        if args.json:
            print(json.dumps(result, indent=1))
        else:
            print_step_split(result)
        return
    rl, grad_clip = recipe.rl, recipe.optimizer.grad_clip
    model, _ = load_checkpoint_model(args.base)
    ref, _ = load_checkpoint_model(args.base)
    model.train()
    ref.eval().requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    with torch.no_grad():  # a policy a few steps away from its reference, so that the KL term carries a gradient
        gen = torch.Generator().manual_seed(args.seed)
        for p in params:
            p.add_(torch.randn(p.shape, generator=gen) * 1e-3 * p.abs().mean())
    batch = synthetic_batch(args.prompts, args.group, model.cfg.vocab_size, args.seed)
    dtype = resolve_dtype(torch.device("cpu"), recipe.train.dtype)  # as `nanochat rl` picks it
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dtype == "bf16" else nullcontext
    variants = {"before": policy_update_before, "after": policy_update}

    grads, stats = {}, {}
    for name, fn in variants.items():
        cap = GradCapture(params)
        stats[name] = fn(model, ref, [cap], params, batch, rl, "cpu", autocast, 0.0)
        grads[name] = cap.grads
    diff = max(float((a - b).abs().max()) for a, b in zip(grads["before"], grads["after"]))
    scale = max(float(a.abs().max()) for a in grads["before"])
    rtol, atol = 2e-2, 2e-3 * scale
    same = all(torch.allclose(b, a, rtol=rtol, atol=atol) for a, b in zip(grads["before"], grads["after"]))
    flat = {k: torch.cat([g.flatten() for g in v]).double() for k, v in grads.items()}
    cos = float(flat["before"] @ flat["after"] / (flat["before"].norm() * flat["after"].norm()))

    opts = build_optimizers(model, recipe.optimizer)
    # CPU seconds of this process (one thread) say what the update costs on a shared machine; wall seconds mostly
    # say how the scheduler shared the cores
    times: dict[str, list[float]] = {k: [] for k in variants}
    walls: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.reps):
        for name, fn in variants.items():
            c, t = time.process_time(), time.perf_counter()
            fn(model, ref, opts, params, batch, rl, "cpu", autocast, grad_clip)
            times[name].append(time.process_time() - c)
            walls[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_wall = {k: statistics.median(v) for k, v in walls.items()}
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{cpu_name()}, {os.cpu_count()} logical CPUs",
        "torch": torch.__version__, "threads": args.threads, "load_average": list(os.getloadavg()),
        "samples": len(batch), "micro_batch": rl.micro_batch, "sampled_tokens": stats["after"]["update_tokens"],
        "dtype": dtype,
        "grad_max_abs_diff": diff, "grad_max_abs": scale, "grad_cosine": cos, "grads_allclose": same,
        "allclose_tolerance": {"rtol": rtol, "atol": atol},
        "stats": stats, "cpu_s": times, "median_cpu_s": med, "wall_s": walls, "median_wall_s": med_wall,
        "speedup": med["before"] / med["after"], "speedup_wall": med_wall["before"] / med_wall["after"],
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{len(batch)} samples ({args.prompts} prompts x {args.group}), micro-batch {rl.micro_batch}, "
          f"{args.threads} thread(s), load average {result['load_average'][0]:.1f}")
    print(f"gradients: max |before - after| {diff:.3g} (max |g| {scale:.3g}), cosine {cos:.6f}, "
          f"allclose(rtol={rtol}, atol={atol:.3g}): {same}")
    for k in ("loss", "kl", "entropy", "clipped"):
        print(f"  {k}: before {stats['before'][k]:.6g}  after {stats['after'][k]:.6g}")
    for name in variants:
        print(f"{name}: median {med[name]:.2f} CPU s ({', '.join(f'{t:.2f}' for t in times[name])}), "
              f"{med_wall[name]:.2f} wall s")
    print(f"speedup: {result['speedup']:.2f}x in CPU time, {result['speedup_wall']:.2f}x wall")


if __name__ == "__main__":
    main()
