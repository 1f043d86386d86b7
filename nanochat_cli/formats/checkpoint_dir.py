"""Reading a training checkpoint directory: find it, read its config.json, load its model and tokenizer.

A run directory holds `step_NNNNNNN/` checkpoints, each with model.safetensors, config.json
({"model": ModelConfig.to_dict(), "recipe": ..., "step": ...}), tokenizer.json, optimizer.pt and
trainer_state.json. `load_checkpoint_model(dir)` is the one loader the rest of the project uses; it accepts a
checkpoint or a run directory (newest checkpoint). Writing and resuming checkpoints is train/checkpoint.py's.
"""

from __future__ import annotations

import json
from pathlib import Path

from nanochat_cli.errors import NanochatError

PREFIX = "step_"


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


def require_files(ckpt: Path, names: tuple[str, ...]) -> None:
    missing = [n for n in names if not (ckpt / n).is_file()]
    if missing:
        raise NanochatError(f"checkpoint {ckpt} is missing {', '.join(missing)}; it is incomplete or not a nanochat checkpoint")


def read_config(path: str | Path) -> dict:
    ckpt = resolve_checkpoint(path)
    require_files(ckpt, ("config.json",))
    return json.loads((ckpt / "config.json").read_text())


def fim_rate(config: dict) -> float:
    """The fill-in-the-middle share a checkpoint's model was trained with: its recipe's data.fim_rate (0: none)."""
    recipe = config.get("recipe")
    data = recipe.get("data") if isinstance(recipe, dict) else None
    rate = data.get("fim_rate", 0.0) if isinstance(data, dict) else 0.0
    return float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else 0.0


def load_checkpoint_model(path: str | Path):
    """(TernaryLM in eval mode on CPU, tokenizers.Tokenizer) from a checkpoint or run directory."""
    from safetensors.torch import load_model

    from nanochat_cli.data.tokenizer import load_tokenizer
    from nanochat_cli.model import ModelConfig, TernaryLM

    ckpt = resolve_checkpoint(path)
    require_files(ckpt, ("model.safetensors", "config.json", "tokenizer.json"))
    config = json.loads((ckpt / "config.json").read_text())
    cfg = ModelConfig.from_dict(config["model"])
    model = TernaryLM(cfg)
    load_model(model, str(ckpt / "model.safetensors"), strict=True)
    model.eval()
    return model, load_tokenizer(ckpt / "tokenizer.json")
