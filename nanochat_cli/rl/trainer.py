"""The RL loop behind `nanochat rl RECIPE [--set k=v] [--resume DIR]`.

One step: refresh the native engine from the torch weights, draw rl.prompts_per_step prompts (curriculum), decode G
samples each while rustc scores finished ones, drop groups whose rewards are all equal and refill from new prompts
(up to rl.max_refill_rounds), compute advantages, update in torch. Checkpoints are the trainer's (step_N/ with
optimizer state, RNG, and the curriculum), so `--resume` continues exactly and `nanochat export` reads them;
metrics.jsonl and curves.png sit beside them. SIGINT/SIGTERM write a checkpoint at the end of the step.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from nanochat_cli.console import make_console
from nanochat_cli.errors import NanochatError
from nanochat_cli.file_hash import file_sha256
from nanochat_cli.formats.checkpoint_dir import list_checkpoints, load_checkpoint_model, read_config, resolve_checkpoint
from nanochat_cli.infer.sampling import SamplingParams
from nanochat_cli.recipes import Recipe
from nanochat_cli.rl.advantages import group_advantages, informative
from nanochat_cli.rl.prompts import Curriculum, RLPrompt, build_pool
from nanochat_cli.rl.rollout import policy_engine, rollout
from nanochat_cli.rl.update import policy_update
from nanochat_cli.train import checkpoint as ckpt
from nanochat_cli.train import distributed
from nanochat_cli.train.optim import build_optimizers, set_lr_multiplier
from nanochat_cli.train.plot import write_metric_panels
from nanochat_cli.train.progress import MetricsLog
from nanochat_cli.train.schedule import wsd_multiplier
from nanochat_cli.train.trainer import StopFlag, device_and_ranks, resolve_dtype

EOT = "<|endoftext|>"
# curves.png, top to bottom, lines in matplotlib's default colour order (train/plot.py): blue, orange, green, red
PANELS = [("reward", "compile_rate", "pass_rate", "trivial_share", "generic_share"), ("kl", "entropy"),
          ("generate_s", "reward_s", "update_s", "refresh_s")]


def sample_seed(seed: int, step: int, round_: int, prompt: int, g: int, rank: int = 0) -> int:
    return int(hashlib.sha256(f"{seed}:{rank}:{step}:{round_}:{prompt}:{g}".encode()).hexdigest()[:8], 16)


def _check_base(recipe: Recipe, base: Path, saved_model: dict) -> None:
    """A recipe's [model] keys (optional in an RL recipe) must be the base checkpoint's."""
    changed = sorted(k for k, v in recipe.model.overrides.items() if saved_model.get(k) != v)
    if changed:
        raise NanochatError(f"rl.init_from {base}: the base checkpoint's model differs from the recipe's [model] in "
                            f"{', '.join(changed)}; drop [model] from the RL recipe or point rl.init_from at its run")


def _optimizers(model, recipe: Recipe):
    if recipe.rl.optimizer == "adamw":
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=recipe.rl.adamw_lr,
                                betas=(0.9, 0.95), weight_decay=0.0)
        for g in opt.param_groups:
            g["base_lr"] = g["lr"]
        return [opt]
    return build_optimizers(model, recipe.optimizer)


def _mean(xs) -> float | None:
    xs = list(xs)
    return float(np.mean(xs)) if xs else None


def train_rl(recipe: Recipe, resume: str | Path | None = None, show_progress: bool | None = None,
             reward_fn=None, pool: list[RLPrompt] | None = None) -> dict:
    """Run (or resume) the recipe's RL; returns a summary. reward_fn / pool replace the sandbox reward and the
    recipe's prompt pool (tests use a toy reward)."""
    rl = recipe.rl
    run_dir, resume_dir = Path(recipe.checkpoint.dir).expanduser(), None
    if resume:
        resume_dir, run_dir = ckpt.resume_target(resume, recipe.checkpoint.dir, recipe.set_keys)
        recipe = dataclasses.replace(recipe, checkpoint=dataclasses.replace(recipe.checkpoint, dir=str(run_dir)))
    if not rl.init_from:
        raise NanochatError("rl.init_from is empty; set it to a model file or a training run directory, e.g. "
                            "--set rl.init_from=models/rust_small.gguf")
    base_file = Path(rl.init_from).expanduser()
    if not base_file.exists():
        raise NanochatError(f"rl.init_from {base_file} does not exist; give a model file (e.g. models/rust_small.gguf) "
                            "or a training run directory")
    if base_file.is_file():  # a model file (the shipped GGUF): its weights as float weights that ternarize back to it
        model, tokenizer, weights = ckpt.load_file_model(base_file)
        base, base_model = base_file, (model, tokenizer)
        base_config, base_sha = {"model": weights.config.to_dict()}, file_sha256(base)
    else:
        base, base_model = resolve_checkpoint(rl.init_from), None
        base_config, base_sha = read_config(base), file_sha256(base / "model.safetensors")
    _check_base(recipe, base, base_config["model"])
    if resume_dir is not None:
        was = read_config(resume_dir).get("rl_base", {})
        if was.get("sha256") != base_sha:
            raise NanochatError(f"cannot resume {resume_dir}: it started from {was.get('path')}, whose weights differ "
                                f"from rl.init_from {base}; resume with the base the run was started from")
    device, info = device_and_ranks(recipe.train.device)
    threads_before = torch.get_num_threads()
    if rl.threads > 0:
        torch.set_num_threads(rl.threads)
        from nanochat_cli.kernels import set_threads

        set_threads(rl.threads)
    show = (recipe.logging.progress if show_progress is None else show_progress) and info.is_main
    own_reward = reward_fn is None
    try:
        if own_reward:
            from nanochat_cli.rl.rewards import SandboxReward

            reward_fn = SandboxReward(rl)  # before the run directory exists: a missing rustc is one clear error
        if pool is None:
            pool, summary = build_pool(rl, getattr(reward_fn, "sandbox", None))
        else:
            summary = {"prompts": len(pool)}
        return _train(recipe, resume_dir, run_dir, base, base_model, base_config, base_sha, device, info, show,
                      reward_fn, pool, summary)
    finally:
        if own_reward and reward_fn is not None:
            reward_fn.close()
        torch.set_num_threads(threads_before)
        distributed.shutdown(info)


def _train(recipe, resume_dir, run_dir, base, base_model, base_config, base_sha, device, info, show, reward_fn, pool,
           summary):
    rl = recipe.rl
    console = make_console(stderr=True)
    if info.is_main:
        ckpt.check_writable(run_dir)
        if resume_dir is None and list_checkpoints(run_dir):
            raise NanochatError(f"{run_dir} already holds checkpoints; continue with `--resume {run_dir}` or start "
                                "fresh with `--set checkpoint.dir=runs/NEW`")
    if base_model is not None:  # a model file, read once: the policy and a copy as the KL reference
        model, tokenizer = base_model
        ref = copy.deepcopy(model)
        tokenizer_src = tokenizer
    else:
        model, tokenizer = load_checkpoint_model(base)
        ref, _ = load_checkpoint_model(base)
        tokenizer_src = base / "tokenizer.json"
    cfg = model.cfg
    model.to(device).train()
    ref.to(device).eval().requires_grad_(False)
    opts = _optimizers(model, recipe)
    curriculum = Curriculum([p.problem.name for p in pool], rl.curriculum_patience, rl.curriculum_retry_steps,
                            rl.curriculum)
    start = 0
    if resume_dir is not None:
        state = ckpt.load_training_state(resume_dir, model, opts)
        start = int(state["step"])
        curriculum.load_state_dict(state.get("curriculum", {}))
        if hasattr(reward_fn, "load_state_dict"):
            reward_fn.load_state_dict(state.get("reward", {}))
    params = [p for p in model.parameters() if p.requires_grad]
    tokenizer_json = tokenizer.to_str()
    eos = {i for i in (tokenizer.token_to_id(EOT),) if i is not None}
    ids_cache: dict[int, list[int]] = {}

    def prompt_ids(i: int) -> list[int]:
        if i not in ids_cache:
            ids_cache[i] = tokenizer.encode(pool[i].problem.prompt, add_special_tokens=False).ids
        return ids_cache[i]

    dtype = resolve_dtype(device, recipe.train.dtype)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if dtype == "bf16" else nullcontext

    def reduce_grads(ps):
        if info.enabled:  # under torchrun each rank rolls out its own prompts; gradients are averaged
            for p in ps:
                if p.grad is not None:
                    torch.distributed.all_reduce(p.grad)
                    p.grad /= info.world

    stale = ckpt.open_run_dir(run_dir) if info.is_main else []
    metrics = MetricsLog(run_dir / recipe.logging.metrics_file, start if resume_dir else None) if info.is_main else None
    if show:
        console.print(f"rl {rl.algorithm} from {base} on {summary}", highlight=False)
        if stale:
            console.print(f"removed what a killed run left in {run_dir}: {', '.join(stale)}", style="yellow")
        if resume_dir is not None:
            console.print(f"resumed from {resume_dir} at step {start}", style="green")

    def save(step: int) -> Path | None:
        if not info.is_main:
            return None
        state = {"total_steps": rl.steps, "curriculum": curriculum.state_dict()}
        if hasattr(reward_fn, "state_dict"):
            state["reward"] = reward_fn.state_dict()
        extra = {"rl_base": {"path": str(base), "sha256": base_sha}, "data": base_config.get("data")}
        path = ckpt.save_checkpoint(run_dir, step, model, cfg.to_dict(), recipe.to_dict(), tokenizer_src,
                                    opts, state, recipe.checkpoint.keep, extra)
        if recipe.logging.plot and metrics.records:
            write_metric_panels(metrics.records, run_dir / "curves.png", PANELS)
        return path

    ctx = cfg.max_seq_len  # a prompt too long for it gives empty samples (reward 0, no gradient)
    step, stopped, last_ckpt, last = start, None, None, {}
    t_begin = time.time()
    with StopFlag() as flag:
        while step < rl.steps:
            t_step = time.perf_counter()
            mult = wsd_multiplier(step, rl.steps, recipe.schedule.warmup_steps, recipe.schedule.decay_fraction,
                                  recipe.schedule.min_lr_ratio)
            set_lr_multiplier(opts, mult)
            model.eval()
            engine, refresh_s = policy_engine(model, tokenizer_json, rl.slots, ctx)
            kept, seen, gen_s, reward_s, gen_tokens, used = [], [], 0.0, 0.0, 0, set()
            for round_ in range(1 + rl.max_refill_rounds):
                need = rl.prompts_per_step - len(kept)
                if need <= 0:
                    break
                drawn = curriculum.draw(step, round_, need, rl.seed + 7919 * info.rank, used)
                if not drawn:
                    break
                used |= set(drawn)

                def params_for(i, g, round_=round_, step=step):
                    return SamplingParams(temperature=rl.temperature, top_p=rl.top_p, max_tokens=rl.max_tokens,
                                          stop=list(pool[i].problem.stop_tokens),
                                          seed=sample_seed(rl.seed, step, round_, i, g, info.rank))

                groups, timing = rollout(engine, tokenizer, eos, [(i, pool[i], prompt_ids(i)) for i in drawn],
                                         rl.group_size, params_for, reward_fn)
                gen_s, reward_s, gen_tokens = gen_s + timing.generate_s, reward_s + timing.reward_wait_s, \
                    gen_tokens + timing.tokens
                for grp in groups:
                    seen.append(grp)
                    curriculum.record(pool[grp.prompt].problem.name, sum(grp.success), rl.group_size, step)
                    if informative(grp.rewards, grp.success, rl.algorithm) and len(kept) < rl.prompts_per_step:
                        kept.append(grp)
            del engine
            model.train()
            t_update = time.perf_counter()
            batch = []
            for grp in kept:
                adv = group_advantages(grp.rewards, grp.success, rl.algorithm)
                batch += [(s, float(a)) for s, a in zip(grp.samples, adv) if rl.algorithm != "rest" or s.reward.success]
            any_batch = torch.tensor(float(bool(batch)), device=device)
            if info.enabled:  # every rank steps when any has data, so the all-reduces match
                torch.distributed.all_reduce(any_batch, op=torch.distributed.ReduceOp.MAX)
            up = policy_update(model, ref, opts, params, batch, rl, device, autocast, recipe.optimizer.grad_clip,
                               reduce_grads if info.enabled else None) if any_batch.item() > 0 else {}
            update_s = time.perf_counter() - t_update
            step += 1
            samples = [s for g in seen for s in g.samples]
            rewards = [s.reward for s in samples]
            step_s = time.perf_counter() - t_step
            record = {
                "step": step, "reward": _mean(r.value for r in rewards),
                "compile_rate": _mean(r.compiled for r in rewards), "pass_rate": _mean(r.success for r in rewards),
                "trivial_share": _mean(r.trivial for r in rewards),
                "generic_share": _mean(r.generic for r in rewards),
                "nontrivial_compile_rate": _mean(r.compiled and not r.trivial for r in rewards),
                "kl": up.get("kl"), "entropy": up.get("entropy"), "loss": up.get("loss"),
                "clipped_share": up.get("clipped"), "grad_norm": up.get("grad_norm"),
                "completion_tokens": _mean(len(s.tokens) for s in samples),
                "groups": len(seen), "groups_kept": len(kept), "samples": len(samples),
                "prompts_active": len(curriculum.active(step)), "lr_mult": mult,
                "rollout_tok_per_s": gen_tokens / max(gen_s, 1e-9),
                "rewards_per_s": len(samples) / max(gen_s + reward_s, 1e-9),
                "rustc_runs": sum(not r.cached for r in rewards),
                "refresh_s": refresh_s, "generate_s": gen_s, "reward_s": reward_s, "update_s": update_s,
                "step_s": step_s, "elapsed_s": time.time() - t_begin,
            }
            last = record
            if metrics and (step % recipe.logging.every == 0 or step == rl.steps):
                metrics.append(record)
            if show:
                console.print(f"step {step}/{rl.steps}  reward {record['reward']:.3f}  compile "
                              f"{record['compile_rate']:.2f}  pass {record['pass_rate']:.2f}  trivial "
                              f"{record['trivial_share']:.2f}  generic {record['generic_share']:.2f}  "
                              f"kept {len(kept)}/{len(seen)}  "
                              f"refresh {refresh_s:.2f}s gen {gen_s:.1f}s reward {reward_s:.1f}s "
                              f"update {update_s:.1f}s", highlight=False)
            got_signal = torch.tensor(1.0 if flag.signal else 0.0, device=device)
            if info.enabled:
                torch.distributed.all_reduce(got_signal, op=torch.distributed.ReduceOp.MAX)
            if got_signal.item() > 0:
                stopped = f"signal ({flag.signal or 'SIGTERM on another rank'})"
            if not curriculum.active(step):
                stopped = stopped or "curriculum: every prompt retired"
            every = recipe.checkpoint.every
            if stopped or step == rl.steps or (every > 0 and step % every == 0):
                last_ckpt = save(step) or last_ckpt
            if stopped:
                break
    if show and stopped and stopped.startswith("signal"):
        console.print(f"stopped by {stopped} at step {step}; checkpoint {last_ckpt}; continue with --resume {run_dir}",
                      style="bold yellow")
    return {"run_dir": str(run_dir), "checkpoint": str(last_ckpt) if last_ckpt else None, "step": step,
            "steps": rl.steps, "stopped": stopped, "algorithm": rl.algorithm, "base": str(base),
            "prompts": summary, "last": last, "wall_s": time.time() - t_begin, "rank": info.rank}
