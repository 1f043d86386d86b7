"""Checkpoint directories for training: write atomically, keep the last K, load for resuming.

A run directory holds `step_NNNNNNN/` checkpoints, each with model.safetensors, config.json
({"model": ModelConfig.to_dict(), "recipe": ..., "step": ...}), tokenizer.json, optimizer.pt and
trainer_state.json (step, schedule, RNG states, data position). Reading one for inference
(`load_checkpoint_model`, `resolve_checkpoint`, `read_config`) is formats/checkpoint_dir.py's, below both
training and the engine. A resumed run writes into the run directory it continues (`resume_target`), whatever
the recipe says.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_model, save_model

from nanochat_cli.atomic_write import apply_umask, probe_writable_dir, remove_stale_temps
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.checkpoint_dir import PREFIX, list_checkpoints, require_files, resolve_checkpoint

FILES = ("model.safetensors", "config.json", "tokenizer.json", "optimizer.pt", "trainer_state.json")


def step_dir_name(step: int) -> str:
    return f"{PREFIX}{step:07d}"


def resume_target(resume: str | Path, checkpoint_dir: str, set_keys: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """(checkpoint to resume, run directory to keep writing): `--resume DIR` continues DIR's own run.

    The run directory is DIR, or DIR's parent when DIR is a checkpoint; the recipe's checkpoint.dir is not used
    (it may be another run's). A checkpoint.dir given with --set that names another directory is an error.
    """
    given = Path(resume).expanduser()
    for d in (given, given.parent):  # DIR may be the run or one of its checkpoints
        restore_interrupted_rewrite(d)
    found = resolve_checkpoint(given)
    require_files(found, FILES)
    run_dir = found.parent if found == given else given
    wanted = Path(checkpoint_dir).expanduser()
    if "checkpoint.dir" in set_keys and wanted.resolve() != run_dir.resolve():
        raise NanochatError(
            f"--resume {resume} continues the run in {run_dir}, but --set checkpoint.dir={checkpoint_dir} names "
            "another directory; drop that --set (copy the run directory first to branch a run)"
        )
    return found, run_dir


def check_writable(run_dir: Path) -> None:
    """Fail before training starts, not at the first checkpoint, when the run directory cannot be written.

    Creates nothing: the directory is made by `open_run_dir` once everything else has been checked.
    """
    existing = run_dir
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NanochatError(f"checkpoint.dir {run_dir} is not writable ({existing} is not a directory); "
                            "set checkpoint.dir to a writable directory")
    probe_writable_dir(existing, "checkpoint.dir")


def restore_interrupted_rewrite(run_dir: Path) -> None:
    """Put back `.step_N.old-PID` as step_N when step_N is missing: a kill between save_checkpoint's two
    renames of a rewritten step leaves the old copy as the only one."""
    if not run_dir.is_dir():
        return
    for old in sorted(run_dir.glob(f".{PREFIX}*.old-*")):
        final = run_dir / old.name[1:].split(".old-")[0]
        if not final.exists() and (old / "trainer_state.json").is_file():
            os.replace(old, final)


def open_run_dir(run_dir: Path) -> list[str]:
    """Create the run directory and clear what a killed writer left there; returns the names removed.

    Unfinished checkpoints (`.step_N.tmp-PID/`) and temp files go; a `.step_N.old-PID/` goes once step_N is
    back in place (restore_interrupted_rewrite ran when the run was checked).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    restore_interrupted_rewrite(run_dir)
    removed = remove_stale_temps(run_dir)
    for old in sorted(run_dir.glob(f".{PREFIX}*.old-*")):
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed


def _rng_state() -> dict:
    state = {"torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode()}
    if torch.cuda.is_available():
        state["cuda"] = [base64.b64encode(s.numpy().tobytes()).decode() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(torch.frombuffer(bytearray(base64.b64decode(state["torch"])), dtype=torch.uint8))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8) for s in state["cuda"]])


def save_checkpoint(
    run_dir: Path, step: int, model: torch.nn.Module, model_config: dict, recipe: dict, tokenizer,
    optimizers: list[torch.optim.Optimizer], trainer_state: dict, keep: int, extra_config: dict | None = None,
) -> Path:
    """Write step_NNNNNNN/ under a temp name, rename it into place, then drop all but the newest `keep`.
    tokenizer: the tokenizer.json path to copy, or a tokenizers.Tokenizer (an RL base read from a model file)."""
    final = run_dir / step_dir_name(step)
    tmp = run_dir / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # save_model (not save_file) because tied embedding/head weights share storage
    save_model(model, str(tmp / "model.safetensors"))
    apply_umask(tmp / "model.safetensors")  # safetensors writes 0600; the user's umask decides, as for the rest
    config = {"format": 1, "model": model_config, "recipe": recipe, "step": step, **(extra_config or {})}
    (tmp / "config.json").write_text(json.dumps(config, indent=2))
    if isinstance(tokenizer, (str, Path)):
        shutil.copyfile(tokenizer, tmp / "tokenizer.json")
    else:
        tokenizer.save(str(tmp / "tokenizer.json"))
    torch.save([o.state_dict() for o in optimizers], tmp / "optimizer.pt")
    state = {**trainer_state, "step": step, "rng": _rng_state()}
    (tmp / "trainer_state.json").write_text(json.dumps(state, indent=2))
    if final.exists():  # rewriting a step: keep the old copy until the new one is in place
        old = run_dir / f".{final.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_training_state(ckpt: Path, model: torch.nn.Module, optimizers: list[torch.optim.Optimizer]) -> dict:
    """Restore weights and optimizer states in place; returns trainer_state.json (RNG restored too)."""
    require_files(ckpt, FILES)
    load_model(model, str(ckpt / "model.safetensors"), strict=True)
    states = torch.load(ckpt / "optimizer.pt", map_location="cpu", weights_only=False)
    if len(states) != len(optimizers):
        raise NanochatError(f"checkpoint {ckpt} has {len(states)} optimizer states, this model needs {len(optimizers)}")
    for o, s in zip(optimizers, states):
        o.load_state_dict(s)
    state = json.loads((ckpt / "trainer_state.json").read_text())
    restore_rng(state["rng"])
    return state


def load_initial_weights(path: str | Path, model: torch.nn.Module, model_config: dict, tokenizer_path: Path) -> Path:
    """Load a checkpoint's weights, or a model file's, into a fresh run's model (`train.init_from`); returns the
    checkpoint or file used.

    The recipe's model must be the checkpoint's, and the run's tokenizer the one the checkpoint was trained
    with (same file bytes): otherwise token ids would silently mean other strings. A GGUF (e.g. the shipped
    model) holds no float master weights: see `file_state_dict`.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise NanochatError(f"train.init_from {p} does not exist; give a training run directory, one of its step_* "
                            "checkpoints or a model file (e.g. models/rust_small.gguf)")
    if p.is_file():
        model.load_state_dict(gguf_state_dict(p, model_config, tokenizer_path), strict=True)
        return p
    ckpt = resolve_checkpoint(p)
    require_files(ckpt, ("model.safetensors", "config.json", "tokenizer.json"))
    saved = json.loads((ckpt / "config.json").read_text())["model"]
    _check_same_model(ckpt, saved, model_config)
    if (ckpt / "tokenizer.json").read_bytes() != Path(tokenizer_path).read_bytes():
        raise NanochatError(
            f"train.init_from {ckpt}: its tokenizer differs from this run's data; prepare the data with "
            "data.tokenizer_from pointing at the run (or recipe) the checkpoint came from"
        )
    load_model(model, str(ckpt / "model.safetensors"), strict=True)
    return ckpt


def _check_same_model(source: Path, saved: dict, model_config: dict) -> None:
    changed = sorted(k for k, v in model_config.items() if saved.get(k) != v)
    if changed:
        raise NanochatError(
            f"train.init_from {source}: the recipe's model differs from the {'file' if source.is_file() else 'checkpoint'}'s "
            f"in {', '.join(changed)}; use the [model] section of the run it came from"
        )


def file_state_dict(weights) -> dict[str, torch.Tensor]:
    """A model file's weights (formats.weights.ModelWeights) as a TernaryLM state dict that computes exactly what
    the file computes.

    Float tensors are copied (a quantized embedding is dequantized: what the engine runs). Each ternary matrix
    becomes float weights that ternarize to exactly its trits and scales (`ternary.latent_weights`), so the
    training forward reproduces the file bit for bit. How far each weight sat from its rounding threshold is not in
    the file: the rebuilt weights sit at least half a scale from it (nonzero ones at s * N / n, zeros at 0), where
    the original ones were spread across it, so the first updates flip fewer trits than in the run that made it.
    """
    from nanochat_cli.ternary import PlanarWeights, latent_weights

    state = {}
    for name, t in weights.tensors.items():
        if isinstance(t, PlanarWeights):
            value = latent_weights(t.trits(), t.scales, t.group_size)
        else:
            value = weights.float(name)
        state[name] = torch.from_numpy(np.array(value, dtype=np.float32))
    return state


def load_file_model(path: str | Path):
    """(TernaryLM in eval mode on CPU, tokenizers.Tokenizer, ModelWeights) from a model file: the shipped GGUF, an
    export, a llama.cpp bitnet file. The base of `nanochat rl` when rl.init_from names a file."""
    from nanochat_cli.formats.model_file import load_model_weights
    from nanochat_cli.model import TernaryLM

    weights = load_model_weights(path)
    tokenizer = weights.tokenizer()
    model = TernaryLM(weights.config)
    model.load_state_dict(file_state_dict(weights), strict=True)
    model.eval()
    return model, tokenizer, weights


def gguf_state_dict(path: Path, model_config: dict, tokenizer_path: Path) -> dict[str, torch.Tensor]:
    """`file_state_dict` of a model file whose model is the recipe's and whose tokenizer is the run's."""
    from tokenizers import Tokenizer

    from nanochat_cli.formats.model_file import load_model_weights

    weights = load_model_weights(path)
    _check_same_model(path, weights.config.to_dict(), model_config)
    if weights.tokenizer_json is None or (
        weights.tokenizer().to_str() != Tokenizer.from_file(str(tokenizer_path)).to_str()
    ):
        raise NanochatError(
            f"train.init_from {path}: its tokenizer differs from this run's data; prepare the data with "
            "data.tokenizer_from pointing at the recipe the model was trained with"
        )
    return file_state_dict(weights)
