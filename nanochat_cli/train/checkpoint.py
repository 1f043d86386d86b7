"""Checkpoint directories: write atomically, keep the last K, load for resuming or for inference.

A run directory holds `step_NNNNNNN/` checkpoints, each with model.safetensors, config.json
({"model": ModelConfig.to_dict(), "recipe": ..., "step": ...}), tokenizer.json, optimizer.pt and
trainer_state.json (step, schedule, RNG states, data position). `load_checkpoint_model(dir)` is the one
loader the rest of the project uses; it accepts a checkpoint or a run directory (newest checkpoint).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_model, save_model

from nanochat_cli.errors import NanochatError

FILES = ("model.safetensors", "config.json", "tokenizer.json", "optimizer.pt", "trainer_state.json")
PREFIX = "step_"


def step_dir_name(step: int) -> str:
    return f"{PREFIX}{step:07d}"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints in a run directory, oldest first (temp dirs of a killed write are ignored)."""
    if not run_dir.is_dir():
        return []
    return sorted(p for p in run_dir.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / "trainer_state.json").is_file())


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory itself, or the newest checkpoint inside a run directory."""
    p = Path(path).expanduser()
    if not p.exists():
        raise NanochatError(f"checkpoint {p} does not exist; pass a run directory or one of its step_* directories")
    if (p / "model.safetensors").is_file() or (p / "config.json").is_file():
        return p
    found = list_checkpoints(p)
    if not found:
        raise NanochatError(f"{p} holds no checkpoint (no model.safetensors and no step_* directories); train one with `nanochat train`")
    return found[-1]


def check_writable(run_dir: Path) -> None:
    """Fail before training starts, not at the first checkpoint, when the run directory cannot be written."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-probe-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise NanochatError(f"checkpoint.dir {run_dir} is not writable ({e.strerror}); set checkpoint.dir to a writable directory") from None


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
    run_dir: Path, step: int, model: torch.nn.Module, model_config: dict, recipe: dict, tokenizer_path: Path,
    optimizers: list[torch.optim.Optimizer], trainer_state: dict, keep: int, extra_config: dict | None = None,
) -> Path:
    """Write step_NNNNNNN/ under a temp name, rename it into place, then drop all but the newest `keep`."""
    final = run_dir / step_dir_name(step)
    tmp = run_dir / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # save_model (not save_file) because tied embedding/head weights share storage
    save_model(model, str(tmp / "model.safetensors"))
    config = {"format": 1, "model": model_config, "recipe": recipe, "step": step, **(extra_config or {})}
    (tmp / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copyfile(tokenizer_path, tmp / "tokenizer.json")
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


def _require(ckpt: Path, names: tuple[str, ...]) -> None:
    missing = [n for n in names if not (ckpt / n).is_file()]
    if missing:
        raise NanochatError(f"checkpoint {ckpt} is missing {', '.join(missing)}; it is incomplete or not a nanochat checkpoint")


def read_config(path: str | Path) -> dict:
    ckpt = resolve_checkpoint(path)
    _require(ckpt, ("config.json",))
    return json.loads((ckpt / "config.json").read_text())


def load_checkpoint_model(path: str | Path):
    """(TernaryLM in eval mode on CPU, tokenizers.Tokenizer) from a checkpoint or run directory."""
    from nanochat_cli.data.tokenizer import load_tokenizer
    from nanochat_cli.model import ModelConfig, TernaryLM

    ckpt = resolve_checkpoint(path)
    _require(ckpt, ("model.safetensors", "config.json", "tokenizer.json"))
    config = json.loads((ckpt / "config.json").read_text())
    cfg = ModelConfig.from_dict(config["model"])
    model = TernaryLM(cfg)
    load_model(model, str(ckpt / "model.safetensors"), strict=True)
    model.eval()
    return model, load_tokenizer(ckpt / "tokenizer.json")


def load_training_state(ckpt: Path, model: torch.nn.Module, optimizers: list[torch.optim.Optimizer]) -> dict:
    """Restore weights and optimizer states in place; returns trainer_state.json (RNG restored too)."""
    _require(ckpt, FILES)
    load_model(model, str(ckpt / "model.safetensors"), strict=True)
    states = torch.load(ckpt / "optimizer.pt", map_location="cpu", weights_only=False)
    if len(states) != len(optimizers):
        raise NanochatError(f"checkpoint {ckpt} has {len(states)} optimizer states, this model needs {len(optimizers)}")
    for o, s in zip(optimizers, states):
        o.load_state_dict(s)
    state = json.loads((ckpt / "trainer_state.json").read_text())
    restore_rng(state["rng"])
    return state
