"""The training loop behind `nanochat train RECIPE.toml [--set k=v] [--resume DIR]`, also under torchrun (DDP).

One step = grad_accum micro-batches per rank, a clipped Muon + Lion update at the WSD learning rate.
Every logging.every steps a metrics record is written; every validation.every steps the held-out loss
and bits per byte; every checkpoint.every steps (and at the end, on SIGINT/SIGTERM, on a guard stop)
an atomic checkpoint. With train.time_budget_s the run also ends, validated and saved, once that many
seconds have passed, its learning rate decayed into the budget's end. Rank 0 writes everything; all ranks
compute.
"""

from __future__ import annotations

import dataclasses
import math
import re
import signal
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from nanochat_cli.data.prepare import PreparedData, load_prepared, prepare_data
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.checkpoint_dir import list_checkpoints, read_config
from nanochat_cli.recipes import Recipe, model_config
from nanochat_cli.train import checkpoint as ckpt
from nanochat_cli.train import distributed
from nanochat_cli.train.batches import WindowSampler, validation_offsets
from nanochat_cli.train.guard import CollapseGuard
from nanochat_cli.train.loss import lm_loss
from nanochat_cli.train.memory import check_training_memory
from nanochat_cli.train.optim import build_optimizers, clip_and_step, set_lr_multiplier
from nanochat_cli.train.plot import write_curves
from nanochat_cli.train.progress import LiveLine, MetricsLog, flops_per_token, peak_flops
from nanochat_cli.train.schedule import wsd_multiplier


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise NanochatError("train.device = \"cuda\" but torch sees no CUDA GPU; use train.device = \"auto\" or \"cpu\"")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)



def device_and_ranks(name: str) -> tuple[torch.device, distributed.DistInfo]:
    """The recipe's device and the torchrun ranks (one process alone when not under torchrun); under torchrun each
    rank takes the CUDA device of its local rank. `nanochat train` and `nanochat rl` both start this way."""
    device = resolve_device(name)
    info = distributed.init_distributed(device.type)
    if device.type == "cuda" and info.enabled:
        device = torch.device("cuda", info.local_rank)
    return device, info

def cpu_has_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AVX512-BF16 or AMX-BF16), where oneDNN's bf16 matmuls pay off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def resolve_dtype(device: torch.device, dtype: str) -> str:
    """The recipe's train.dtype made concrete: "auto" is bf16 on CUDA and on bf16-capable CPUs, else fp32."""
    if dtype != "auto":
        return dtype
    return "bf16" if device.type == "cuda" or cpu_has_bf16() else "fp32"


def _autocast(device: torch.device, dtype: str):
    if resolve_dtype(device, dtype) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


class _StopFlag:
    """SIGINT/SIGTERM set a flag; the loop checkpoints and exits at the end of the step. A second signal aborts."""

    def __init__(self):
        self.signal: str | None = None
        self._old = {}

    def __enter__(self):
        for s in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[s] = signal.signal(s, self._handle)
            except ValueError:  # not the main thread (e.g. inside a test runner thread): no handlers
                pass
        return self

    def _handle(self, signum, frame):
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)


StopFlag = _StopFlag  # the public name (`nanochat rl` stops the same way)


def _matmul_params(model, cfg) -> int:
    return sum(p.numel() for p in model.parameter_groups()["matrix"]) + cfg.vocab_size * cfg.d_model


@torch.no_grad()
def evaluate_val(model, tokens: np.ndarray, recipe: Recipe, device, info: distributed.DistInfo, bytes_per_token: float) -> tuple[float, float]:
    """(mean validation CE in nats/token, bits per byte) over fixed windows, split across ranks."""
    t = recipe.train
    # the window set depends on the global batch only, so a DDP run validates on the same windows as one process
    offsets = validation_offsets(len(tokens), t.seq_len, recipe.validation.batches * t.batch_size * info.world)
    mine = offsets[info.rank :: info.world]
    sampler = WindowSampler(tokens, t.seq_len, 0, "val")
    total = torch.zeros(2, dtype=torch.float64, device=device)
    was_training = model.training
    model.eval()
    for i in range(0, len(mine), t.batch_size):
        x, y = sampler.windows(mine[i : i + t.batch_size])
        with _autocast(device, t.dtype):
            logits = model(x.to(device)).logits
        ce = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.to(device).reshape(-1), reduction="sum")
        total += torch.stack([ce.double(), torch.tensor(float(y.numel()), dtype=torch.float64, device=device)])
    model.train(was_training)
    total = distributed.all_reduce_sum(total, info)
    loss = float(total[0] / total[1])
    return loss, loss / math.log(2) / bytes_per_token


def _optimizer_step(net, opts, params, sampler: WindowSampler, step: int, recipe: Recipe, device, info: distributed.DistInfo):
    """One optimizer step over grad_accum micro-batches on every rank.

    Returns (CE, entropy, objective, max logit, grad norm) for the whole global batch: the loss terms are
    averaged over micro-batches and ranks, not one micro-batch's figure.
    """
    t_cfg = recipe.train
    sums = torch.zeros(3, dtype=torch.float64, device=device)  # CE, entropy, objective
    max_logit = torch.zeros((), device=device)
    for micro in range(t_cfg.grad_accum):
        x, y = sampler.micro_batch(step, micro, info.rank, info.world, t_cfg.batch_size, t_cfg.grad_accum)
        # DDP all-reduces gradients on the last micro-batch only
        sync = nullcontext() if (not info.enabled or micro == t_cfg.grad_accum - 1) else net.no_sync()
        with sync:
            with _autocast(device, t_cfg.dtype):
                out = net(x.to(device))
            parts = lm_loss(out.logits, y.to(device), recipe.loss, out.aux_loss)
            (parts.loss / t_cfg.grad_accum).backward()
        sums += torch.stack([parts.ce.double(), parts.entropy.double(), parts.loss.detach().double()]) / t_cfg.grad_accum
        max_logit = torch.maximum(max_logit, parts.max_logit.float())
    grad_norm = clip_and_step(params, opts, recipe.optimizer.grad_clip,
                              f"at step {step + 1}; lower the learning rates or enable loss.z_loss")
    sums = distributed.all_reduce_mean(sums, info)
    if info.enabled:
        dist.all_reduce(max_logit, op=dist.ReduceOp.MAX)
    ce, entropy, objective = (float(v) for v in sums)
    return ce, entropy, objective, float(max_logit), grad_norm


_clock = time.monotonic  # what train.time_budget_s is measured on (a module attribute, so tests can drive it)


def _eta(steps_left: int, s_per_step: float, budget_left: float | None) -> float:
    """Seconds to the run's end: the steps left at the recent pace, or the time budget's rest if that is sooner."""
    eta = steps_left * s_per_step
    return eta if budget_left is None else max(0.0, min(eta, budget_left))


def _prepare(recipe: Recipe, info: distributed.DistInfo, show: bool) -> PreparedData:
    """Rank 0 builds (or finds) the corpus; the other ranks wait for it."""
    if info.is_main:
        prepared = prepare_data(recipe, show_progress=show)
    distributed.barrier(info)
    if not info.is_main:
        prepared = load_prepared(recipe, check_eval=False)  # rank 0 has just checked it
        if prepared is None:
            raise NanochatError("rank 0 did not produce the prepared data; data.cache_dir must be on storage all ranks share")
    return prepared


def train(recipe: Recipe, resume: str | Path | None = None, show_progress: bool | None = None) -> dict:
    """Run (or resume) the recipe's training; returns a summary dict. See the module docstring."""
    t_cfg = recipe.train
    resume_dir, run_dir = None, Path(recipe.checkpoint.dir).expanduser()
    if resume:  # a resume writes into the run it continues, never into the recipe's checkpoint.dir
        resume_dir, run_dir = ckpt.resume_target(resume, recipe.checkpoint.dir, recipe.set_keys)
        recipe = dataclasses.replace(recipe, checkpoint=dataclasses.replace(recipe.checkpoint, dir=str(run_dir)))
    device, info = device_and_ranks(t_cfg.device)
    threads_before = torch.get_num_threads()
    if t_cfg.threads > 0:
        torch.set_num_threads(t_cfg.threads)
    show = recipe.logging.progress if show_progress is None else show_progress
    show = show and info.is_main
    try:
        return _train(recipe, resume_dir, device, info, run_dir, show)
    finally:
        torch.set_num_threads(threads_before)  # a caller in the same process keeps its setting
        distributed.shutdown(info)


def _train(recipe: Recipe, resume_dir: Path | None, device, info: distributed.DistInfo, run_dir: Path, show: bool) -> dict:
    """Everything is checked (recipe, model, resume target, data) before the run directory is created."""
    from nanochat_cli.model import TernaryLM

    t_cfg = recipe.train
    if info.is_main:
        ckpt.check_writable(run_dir)
        if resume_dir is None:
            ckpt.restore_interrupted_rewrite(run_dir)
        if resume_dir is None and list_checkpoints(run_dir):
            raise NanochatError(
                f"{run_dir} already holds checkpoints; continue with `--resume {run_dir}` "
                "or start fresh with `--set checkpoint.dir=runs/NEW`"
            )
    cfg = model_config(recipe)  # before the (long) data preparation, so a bad [model] fails at once
    if t_cfg.seq_len > cfg.max_seq_len:
        raise NanochatError(f"train.seq_len {t_cfg.seq_len} exceeds the model's max_seq_len {cfg.max_seq_len}; lower it or set model.max_seq_len")
    check_training_memory(cfg, recipe, device)  # before allocating the model or the validation windows
    if resume_dir is not None:
        saved = read_config(resume_dir)["model"]
        changed = sorted(k for k, v in cfg.to_dict().items() if saved.get(k) != v)
        if changed:
            raise NanochatError(
                f"cannot resume {resume_dir}: the recipe's model differs from the checkpoint's in {', '.join(changed)}; "
                "resume with the recipe the run was started with"
            )
    prepared = _prepare(recipe, info, show)
    if prepared.manifest["vocab_size"] > cfg.vocab_size:
        raise NanochatError(f"the tokenizer has {prepared.manifest['vocab_size']} tokens but the model only {cfg.vocab_size}")

    torch.manual_seed(t_cfg.seed)
    model = TernaryLM(cfg).to(device)
    model.train()
    opts = build_optimizers(model, recipe.optimizer)
    guard = CollapseGuard(recipe.guard)
    start, spent_before = 0, 0.0  # spent_before: seconds the run had trained before a resume (time_budget_s)
    if resume_dir is not None:
        state = ckpt.load_training_state(resume_dir, model, opts)
        start = int(state["step"])
        spent_before = float(state.get("train_s", 0.0))
        guard.load_state_dict(state["guard"])
    elif t_cfg.init_from:
        init_dir = ckpt.load_initial_weights(t_cfg.init_from, model, cfg.to_dict(), prepared.tokenizer_path)
    params = [p for p in model.parameters() if p.requires_grad]
    net = model
    if t_cfg.compile:
        net = torch.compile(model)
    if info.enabled:
        net = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=bool(getattr(cfg, "moe_experts", 0)),
        )

    train_tokens, val_tokens = prepared.tokens("train"), prepared.tokens("val")
    sampler = WindowSampler(train_tokens, t_cfg.seq_len, t_cfg.seed, "train")
    WindowSampler(val_tokens, t_cfg.seq_len, 0, "val")  # fail early when val is too short
    bpt_val = prepared.bytes_per_token("val")
    total_steps = t_cfg.steps
    end = min(total_steps, t_cfg.stop_at_step) if t_cfg.stop_at_step > 0 else total_steps
    tokens_per_step = t_cfg.batch_size * t_cfg.seq_len * t_cfg.grad_accum * info.world
    flops_tok = flops_per_token(_matmul_params(model, cfg), cfg.n_layers, cfg.d_model, t_cfg.seq_len)
    peak = peak_flops(device, torch.get_num_threads(), recipe.logging.peak_flops) * info.world

    stale = ckpt.open_run_dir(run_dir) if info.is_main else []  # the first thing this run creates
    metrics = MetricsLog(run_dir / recipe.logging.metrics_file, start if resume_dir else None) if info.is_main else None
    live = LiveLine(total_steps, start, show)
    if stale:
        live.message(f"removed what a killed run left in {run_dir}: {', '.join(stale)}", "yellow")
    if resume_dir is not None:
        live.message(f"resumed from {resume_dir} at step {start}", "green")
    elif t_cfg.init_from:
        live.message(f"initialised from {init_dir}", "green")
    checkpoint_cfg = {"data": {"dir": str(prepared.dir), "bytes_per_token": prepared.manifest["bytes_per_token"]}}

    def save(step: int) -> Path | None:
        if not info.is_main:
            return None
        state = {"total_steps": total_steps, "data_position": {"step": step, "seed": t_cfg.seed}, "guard": guard.state_dict(),
                 "tokens_seen": step * tokens_per_step, "train_s": spent()}
        path = ckpt.save_checkpoint(run_dir, step, model, cfg.to_dict(), recipe.to_dict(), prepared.tokenizer_path, opts,
                                    state, recipe.checkpoint.keep, checkpoint_cfg)
        if recipe.logging.plot and metrics.records:
            write_curves(metrics.records, run_dir / "curves.png")
        return path

    last = {"loss": None, "val_loss": None, "val_bpb": None}
    stopped, last_ckpt = None, None
    window_t, window_steps, window_loss = time.time(), 0, []
    t_begin = time.time()
    budget, clock_begin = t_cfg.time_budget_s, _clock()

    def spent() -> float:
        """Seconds of training so far, a resumed run's earlier sittings included (rank 0's clock under DDP)."""
        return spent_before + _clock() - clock_begin

    clock = spent_before  # the shared value of spent(), agreed by all ranks once per step
    step = start
    with _StopFlag() as flag:
        try:
            while step < end:
                mult = wsd_multiplier(step, total_steps, recipe.schedule.warmup_steps, recipe.schedule.decay_fraction,
                                      recipe.schedule.min_lr_ratio, clock / budget if budget else 0.0) * guard.lr_scale
                set_lr_multiplier(opts, mult)
                loss, entropy, objective, max_logit, grad_norm = _optimizer_step(
                    net, opts, params, sampler, step, recipe, device, info
                )
                step += 1
                window_steps += 1
                last["loss"] = loss
                window_loss.append(loss)
                shared = torch.tensor([1.0 if flag.signal else 0.0, spent() if info.is_main else 0.0],
                                      dtype=torch.float64, device=device)
                if info.enabled:
                    dist.all_reduce(shared, op=dist.ReduceOp.MAX)  # any rank's signal; rank 0's clock
                got_signal, clock = shared.tolist()
                out_of_time = bool(budget) and clock >= budget and step < end
                is_last = step == end or out_of_time  # validated, logged and saved as the run's last step
                do_val = recipe.validation.every > 0 and (step % recipe.validation.every == 0 or is_last)
                do_log = step % recipe.logging.every == 0 or do_val or is_last
                record = None
                dt = time.time() - window_t  # measured before validation: tok/s counts training only
                if do_val:
                    last["val_loss"], last["val_bpb"] = evaluate_val(model, val_tokens, recipe,
                                                                      device, info, bpt_val)
                if do_log:
                    tok_s = window_steps * tokens_per_step / max(dt, 1e-9)
                    record = {
                        # loss: this step's global-batch CE; loss_window: its mean over the steps since the last record
                        "step": step, "loss": loss, "loss_window": sum(window_loss) / len(window_loss),
                        "objective": objective, "entropy": entropy,
                        "max_logit": max_logit, "lr_mult": mult, "grad_norm": grad_norm,
                        "tok_per_s": tok_s, "mfu": tok_s * flops_tok / peak, "tokens": step * tokens_per_step,
                        "eta_s": _eta(end - step, dt / window_steps, budget - clock if budget else None),
                        "elapsed_s": time.time() - t_begin,
                        "val_loss": last["val_loss"] if do_val else None, "val_bpb": last["val_bpb"] if do_val else None,
                    }
                    window_t, window_steps, window_loss = time.time(), 0, []
                    trip = guard.check(step, entropy, max_logit)
                    if trip:
                        live.message(trip.message, "bold red" if trip.action == "stop" else "yellow")
                        record["guard"] = trip.action
                        if trip.action == "stop":
                            stopped = "collapse_guard"
                    if metrics:
                        metrics.append(record)
                live.update(step, record)
                if got_signal > 0:
                    stopped = stopped or f"signal ({flag.signal or 'SIGTERM on another rank'})"
                elif out_of_time:
                    stopped = stopped or "time_budget"
                every = recipe.checkpoint.every
                if stopped or is_last or (every > 0 and step % every == 0):
                    last_ckpt = save(step) or last_ckpt
                if stopped:
                    break
        finally:
            live.close()
    if info.is_main and stopped and stopped.startswith("signal"):
        live.message(f"stopped by {stopped} at step {step}; checkpoint {last_ckpt}; continue with --resume {run_dir}", "bold yellow")
    wall = time.time() - t_begin
    tok_s = (step - start) * tokens_per_step / max(wall, 1e-9)
    return {
        "run_dir": str(run_dir), "checkpoint": str(last_ckpt) if last_ckpt else None, "step": step, "steps": total_steps,
        "stopped": stopped or ("stop_at_step" if end < total_steps else None),
        "loss": last["loss"], "val_loss": last["val_loss"], "val_bpb": last["val_bpb"],
        "tokens_per_s": tok_s, "mfu": tok_s * flops_tok / peak, "wall_s": wall, "world_size": info.world, "rank": info.rank,
        "device": str(device), "params": cfg.param_counts(),
    }
