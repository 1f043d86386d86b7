"""TOML recipe -> nested dataclasses, with `--set section.key=value` overrides.

A recipe is the whole description of a data + training run (see `recipes/*.toml`). Load one with
`load_recipe("recipes/tiny.toml", ["train.steps=50"])`. Every key is documented in the `doc` metadata
of its field below; `nanochat train --describe` prints them all (`describe_recipe()`).
Unknown sections/keys and wrong types raise NanochatError naming the key and the valid choices.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from nanochat_cli.errors import NanochatError


def _f(default: Any, doc: str) -> Any:
    """A dataclass field with a documented default (lists get a factory so instances don't share them)."""
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


# ---- sections ----


@dataclass
class ModelSection:
    """The model: a named size from `nanochat_cli.model.named_config` plus any ModelConfig field overrides.

    Keys other than `size` are checked against ModelConfig's fields when the recipe is loaded.
    `vocab_size` is always taken from `data.vocab_size` (the tokenizer decides it).
    """

    size: str = _f("tiny", "named model config: tiny | small | nano-125m | 560m")
    overrides: dict = _f(None, "ModelConfig fields overriding the named config (written as plain keys)")  # noqa: RUF009

    def __post_init__(self) -> None:
        if self.overrides is None:
            self.overrides = {}


@dataclass
class DataSection:
    """Where the Rust corpus comes from, how it is cleaned, split and tokenized."""

    sources: list[str] = _f(  # noqa: RUF009 (_f gives lists a default_factory)
        ["debian"],
        'list of: "debian" (librust-*-dev packages, apt-get download + dpkg -x, no root install), '
        '"cargo" (~/.cargo/registry/src), "rust-src" (rustup component rust-src), or a directory path: whole files, '
        'split by crate. Snippet sources (whole programs, compile-verified when data.verify, split by '
        'page/crate/family/composition): '
        '"rust-doc" (Debian rust-doc: std, Book and Rust by Example code blocks), "debian-snippets" (doc-tests, '
        '#[test]s, examples of the same Debian crates as "debian"), "synthetic" (generated std-only programs), '
        '"composed" (generated tasks whose doc text, name and body are built from the same parts: arithmetic, '
        'predicates, sequence pipelines, character classes)',
    )
    max_crates: int = _f(40, "Debian packages fetched / ~/.cargo registry crates read (directories and rust-src: all)")
    debian_packages: list[str] = _f([], "explicit librust-*-dev names; empty = pick max_crates by a seeded hash")  # noqa: RUF009
    max_package_kb: int = _f(3000, "skip Debian packages whose installed size is larger (vendored/generated giants)")
    cache_dir: str = _f("cache", "downloads go to CACHE/debian, prepared data to CACHE/data/<hash of this section>")
    vocab_size: int = _f(4096, "BPE vocabulary size (special tokens included); also the model's vocab_size")
    val_fraction: float = _f(0.1, "fraction of crates held out for validation (at least one crate)")
    min_file_bytes: int = _f(100, "drop .rs files smaller than this")
    max_file_bytes: int = _f(200_000, "drop .rs files larger than this (generated tables, bindings)")
    max_line_length: int = _f(500, "drop files with any line longer than this (minified or generated)")
    near_dup_threshold: float = _f(0.8, "drop files whose MinHash Jaccard with a kept file is >= this (0 = off)")
    decontaminate: bool = _f(True, "drop files containing an evaluation prompt's signature and doc text")
    max_files: int = _f(0, "cap on files after filtering (0 = no cap); a quick way to shrink a corpus")
    seed: int = _f(1234, "seed for crate selection and the train/val split")
    verify: bool = _f(True, "snippet sources: keep only what rustc accepts (lib: type-checks; bin: builds and runs "
                      "to exit 0; test: its #[test]s pass); false = keep every candidate unchecked")
    verify_jobs: int = _f(0, "parallel rustc processes for verification (0 = one per core)")
    verify_timeout: float = _f(10.0, "seconds per compile and per run of one snippet; slower ones are dropped")
    synthetic_programs: int = _f(2000, "programs the \"synthetic\" source generates")
    composed_programs: int = _f(2000, "programs the \"composed\" source generates (data/synthetic_composed.py)")
    max_snippets: int = _f(0, "cap on candidates per snippet source after dedup, before verification (0 = no cap)")
    tokenizer_from: str = _f("", "\"\" = train a new BPE on the train split; else reuse a tokenizer: a tokenizer.json, "
                             "a directory holding one (checkpoint, prepared data), or a recipe .toml whose prepared "
                             "tokenizer is used (its data is prepared first if missing). data.vocab_size must match it")
    renamed_copies: int = _f(0, "snippet sources: add this many copies of each candidate with its own names (locals, "
                             "parameters, fields, types) consistently renamed (data/rename.py); verified like the rest")
    retyped_copies: int = _f(0, "snippet sources: add this many copies of each candidate (renamed copies included) "
                             "over another integer type (isize most often) and/or with &str / &[T] parameters taken as "
                             "String / Vec<T> (data/retype.py); verified like the rest")
    doc_examples: float = _f(0.0, "snippet sources: share of candidates (copies included) whose documented function "
                              "also shows some of main's assertions in its doc comment as `/// >>> f(x)` / `/// value` "
                              "lines, the layout of code-generation prompts (data/doc_examples.py); verified like the rest")
    fim_rate: float = _f(0.0, "fraction of train documents rewritten fill-in-the-middle (PSM, <|fim_prefix|>...), "
                         "seeded; val stays plain so bits per byte compare across recipes")


@dataclass
class TrainSection:
    """Batching, length of the run, device."""

    steps: int = _f(1000, "optimizer steps in the full run (the schedule is laid out over these)")
    stop_at_step: int = _f(0, "stop (with a checkpoint) after this step, e.g. to resume later; 0 = run to `steps`")
    time_budget_s: float = _f(0.0, "stop (with a checkpoint) once this many seconds have passed since the first "
                              "step (compile, validation and checkpoints count: wall clock), and lay the schedule's "
                              "decay over the budget's end as well as over `steps`, whichever comes first; 0 = off")
    batch_size: int = _f(8, "sequences per micro-batch per process")
    seq_len: int = _f(256, "tokens per sequence (<= the model's max_seq_len)")
    grad_accum: int = _f(1, "micro-batches per optimizer step; global batch = batch_size*grad_accum*world_size")
    seed: int = _f(1337, "seed for model init and batch sampling")
    device: str = _f("auto", "auto (cuda if present) | cpu | cuda")
    dtype: str = _f("auto", "auto (bf16 autocast on CUDA and on CPUs with AVX512-BF16 or AMX, else fp32) | fp32 | bf16")
    threads: int = _f(0, "torch CPU threads per process (0 = torch's default)")
    compile: bool = _f(False, "torch.compile (inductor) the training forward; the first steps pay the compile time")
    init_from: str = _f("", "start from this checkpoint's (or run directory's newest) weights, or a model file's "
                        "(e.g. models/rust_small.gguf), with fresh optimizer and schedule, e.g. a stage-2 run on other "
                        "data; \"\" = random init. The model config and tokenizer must match")


@dataclass
class LossSection:
    """Terms of the training objective (the MoE load-balancing loss is added as the model weights it: model.moe_aux_loss_weight)."""

    entropy_lambda: float = _f(0.0, "loss = CE - entropy_lambda * mean predictive entropy (nats); 0 = off")
    z_loss: float = _f(0.0, "coefficient of mean(logsumexp(logits)^2), keeps logits from drifting; 0 = off")
    label_smoothing: float = _f(0.0, "cross-entropy label smoothing in [0, 1)")


@dataclass
class OptimizerSection:
    """Muon for hidden 2-D weights, Lion for everything else; each with its own lr and weight decay."""

    matrix_lr: float = _f(0.02, "Muon learning rate (hidden matrices)")
    matrix_wd: float = _f(0.0, "Muon decoupled weight decay")
    muon_momentum: float = _f(0.95, "Muon momentum")
    muon_adjust_lr: str = _f("original", "Muon lr shape adjustment: original | match_rms_adamw")
    other_lr: float = _f(0.0005, "Lion learning rate (embeddings, head, norms, mHC, gates, router)")
    other_wd: float = _f(0.0, "Lion decoupled weight decay")
    lion_beta1: float = _f(0.9, "Lion beta1 (interpolation for the update sign)")
    lion_beta2: float = _f(0.99, "Lion beta2 (momentum decay)")
    grad_clip: float = _f(1.0, "clip the global gradient norm to this (0 = off)")


@dataclass
class ScheduleSection:
    """Warm-up, stable, decay (WSD) learning-rate multiplier over train.steps."""

    warmup_steps: int = _f(50, "linear warm-up from 0 over this many steps")
    decay_fraction: float = _f(0.2, "final fraction of train.steps over which lr decays linearly")
    min_lr_ratio: float = _f(0.0, "lr multiplier reached at the last step")


@dataclass
class ValidationSection:
    """Held-out loss and bits per byte."""

    every: int = _f(100, "validate every this many steps (and at the last step); 0 = never")
    batches: int = _f(8, "validation micro-batches per process: batches*batch_size*world_size fixed windows, the same every time")


@dataclass
class CheckpointSection:
    """Where and how often checkpoints are written."""

    dir: str = _f("runs/run", "run directory: step_NNNNNNN/ checkpoints, metrics.jsonl, curves.png")
    every: int = _f(200, "write a checkpoint every this many steps (and at the end); 0 = only at the end")
    keep: int = _f(3, "keep the newest this many checkpoints")


@dataclass
class LoggingSection:
    """What is shown and recorded while training."""

    every: int = _f(10, "append a metrics record (and refresh numbers) every this many steps")
    metrics_file: str = _f("metrics.jsonl", "metrics JSONL file name inside checkpoint.dir")
    plot: bool = _f(True, "write curves.png (loss, val loss, entropy) beside the checkpoints")
    progress: bool = _f(True, "live rich progress on stderr")
    peak_flops: float = _f(0.0, "peak FLOP/s for MFU; 0 = estimate (GPU data sheet, H100 bf16 989e12; CPU threads*clock*32 or 64 fp32 FLOP/cycle)")


@dataclass
class GuardSection:
    """Collapse guard: act when entropy gets too low or the max logit too high."""

    enabled: bool = _f(True, "check the thresholds every logging step")
    entropy_floor: float = _f(0.3, "mean predictive entropy (nats) below this trips the guard; 0 = unchecked")
    max_logit_ceiling: float = _f(60.0, "max logit above this trips the guard; 0 = unchecked")
    action: str = _f("warn", "warn | lower_lr | stop")
    lr_factor: float = _f(0.5, "lower_lr multiplies every learning rate by this on each trip")
    cooldown_steps: int = _f(50, "after a trip, ignore further trips for this many steps")
    after_step: int = _f(0, "only check from this step on")


@dataclass
class RLSection:
    """`nanochat rl`: reinforcement learning on rustc rewards, from a training checkpoint (nanochat_cli/rl/)."""

    init_from: str = _f("", "the base: a training run directory (its newest checkpoint), a step_* checkpoint, or a "
                        "model file such as models/rust_small.gguf (float weights rebuilt to ternarize back to it "
                        "exactly). Also the KL reference")
    algorithm: str = _f("grpo", "grpo: advantage (r - mean) / std in the group; maxrl: (r - mean) / mean on binary "
                        "success, 0 for a group without one; rest: expert iteration, fine-tune on the samples that pass")
    steps: int = _f(100, "RL steps: one rollout batch (with refills) and ppo_epochs updates each")
    prompts_per_step: int = _f(8, "groups per step that carry a gradient (DAPO: groups whose rewards are all equal are "
                               "dropped and replaced by new prompts)")
    group_size: int = _f(8, "G: samples per prompt")
    max_refill_rounds: int = _f(2, "extra rollout rounds per step to replace dropped groups; 0 = never refill")
    temperature: float = _f(1.0, "sampling temperature of the rollouts")
    top_p: float = _f(1.0, "nucleus sampling of the rollouts; 1 = off")
    max_tokens: int = _f(192, "most completion tokens per sample")
    slots: int = _f(16, "native-engine slots decoded together (batched rollouts)")
    kl_coef: float = _f(0.01, "weight of the KL penalty to the reference (the base checkpoint), k3 estimator per token")
    clip_eps: float = _f(0.2, "PPO ratio clipping, 1 +/- clip_eps; only bites when ppo_epochs > 1 reuses a batch")
    ppo_epochs: int = _f(1, "optimizer updates per rollout batch")
    micro_batch: int = _f(8, "sequences per torch forward/backward (gradients accumulate over a step)")
    optimizer: str = _f("muon_lion", "muon_lion: the trainer's Muon (hidden ternary matrices) + Lion (the rest), "
                        "lrs from [optimizer]; adamw: AdamW on every parameter at rl.adamw_lr")
    adamw_lr: float = _f(1e-5, "AdamW learning rate (rl.optimizer = \"adamw\")")
    seed: int = _f(0, "rollout sampling and prompt drawing")
    prompt_source: str = _f("synthetic", "\"synthetic\": the verified corpus's template families (doc comment + "
                            "signature up to `{`, its asserts as tests); \"composed\": its composed tasks, the same "
                            "way; or a JSON/JSONL file of MultiPL-E-shaped problems (name, prompt, tests). "
                            "Decontaminated against every evaluation set either way")
    prompt_pool: int = _f(2000, "generated programs (rl.prompt_source \"synthetic\" or \"composed\") that make the "
                          "prompt pool")
    prompt_seed: int = _f(1234, "seed of the synthetic prompt pool; data.seed of the verified corpus gives its own "
                          "programs (the first rl.prompt_pool of them)")
    compile_share: float = _f(0.25, "share of prompts scored compile-only (type-check as a library) instead of tests")
    verify_prompts: bool = _f(True, "drop prompts whose reference program fails in the sandbox (cached)")
    curriculum: bool = _f(True, "retire prompts the policy always fails or always passes")
    curriculum_patience: int = _f(2, "consecutive all-fail or all-pass groups after which a prompt is retired")
    curriculum_retry_steps: int = _f(0, "steps after which a retired prompt is drawn again; 0 = never")
    generic_prompts: int = _f(3, "a completion whose shape (the prompt's names abstracted) was written under this many "
                              "different prompts gets 0: one body that type-checks under any signature solves none; "
                              "0 = off")
    reward_syntax_error: float = _f(0.0, "reward of a program that does not parse")
    reward_type_error: float = _f(0.2, "reward of a program that parses but does not compile")
    reward_compiles: float = _f(0.5, "reward of a program that compiles but fails its tests (tested prompts)")
    reward_pass: float = _f(1.0, "reward of success: tests pass (tested prompts) or it compiles (compile prompts); "
                            "trivial completions (triviality.py) always get 0")
    mode: str = _f("2021", "sandbox mode: 2021 (edition 2021) or multipl-e (edition 2015, as published)")
    jobs: int = _f(2, "rustc workers; they run while the engine is still generating")
    compile_timeout: float = _f(10.0, "seconds per compile in the sandbox")
    run_timeout: float = _f(5.0, "seconds per test run in the sandbox")
    threads: int = _f(0, "torch and kernel threads; 0 = their defaults")


@dataclass
class Recipe:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)
    loss: LossSection = field(default_factory=LossSection)
    optimizer: OptimizerSection = field(default_factory=OptimizerSection)
    schedule: ScheduleSection = field(default_factory=ScheduleSection)
    validation: ValidationSection = field(default_factory=ValidationSection)
    checkpoint: CheckpointSection = field(default_factory=CheckpointSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    guard: GuardSection = field(default_factory=GuardSection)
    rl: RLSection = field(default_factory=RLSection)
    source: str = ""  # path the recipe was read from (informational)
    set_keys: tuple[str, ...] = ()  # "section.key" paths given by --set overrides, in order

    def to_dict(self) -> dict:
        d = {s: dataclasses.asdict(getattr(self, s)) for s in SECTIONS}
        model = d.pop("model")
        d["model"] = {"size": model["size"], **model["overrides"]}
        return d


SECTIONS = ("model", "data", "train", "loss", "optimizer", "schedule", "validation", "checkpoint", "logging", "guard",
            "rl")

_ENUMS = {
    ("train", "device"): ("auto", "cpu", "cuda"),
    ("train", "dtype"): ("auto", "fp32", "bf16"),
    ("optimizer", "muon_adjust_lr"): ("original", "match_rms_adamw"),
    ("guard", "action"): ("warn", "lower_lr", "stop"),
    ("rl", "algorithm"): ("grpo", "maxrl", "rest"),
    ("rl", "optimizer"): ("muon_lion", "adamw"),
    ("rl", "mode"): ("2021", "multipl-e"),
}


# ---- typed values ----


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check a TOML value against a field type; ints are accepted for floats."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], key)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is list or tp is list:
        (inner,) = typing.get_args(tp) or (str,)
        if isinstance(value, list):
            return [_coerce(v, inner, key) for v in value]
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            return tuple(value)
    else:
        return value
    raise NanochatError(f"recipe key {key!r} must be {_type_name(tp)}, got {value!r} ({type(value).__name__})")


def _parse_text(text: str, tp: Any, key: str) -> Any:
    """Turn an override's text into a value of the field's type (TOML syntax, or a bare string)."""
    if tp is str:
        return text
    if tp is bool and text.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return text.lower() in ("true", "yes", "on", "1")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except ValueError as e:  # TOMLDecodeError is one; Python's int parser refuses more than 4300 digits
        if not isinstance(e, tomllib.TOMLDecodeError):
            raise NanochatError(f"recipe key {key!r}: {text[:20]}... is too large a number") from None
        if typing.get_origin(tp) is list:
            value = [s.strip() for s in text.split(",") if s.strip()]
        else:
            value = text
    return _coerce(value, tp, key)


def _model_field_types() -> dict[str, Any] | None:
    """ModelConfig's field name -> type, or None while the model package is not importable."""
    try:
        from nanochat_cli.model import ModelConfig
    except ImportError:
        return None
    hints = typing.get_type_hints(ModelConfig)
    return {f.name: hints.get(f.name, type(f.default)) for f in dataclasses.fields(ModelConfig)}


def _set_model_key(model: ModelSection, key: str, value: Any, from_text: bool) -> None:
    if key == "size":
        model.size = value if not from_text else str(value)
        if not isinstance(model.size, str):
            raise NanochatError(f"recipe key 'model.size' must be a string, got {value!r}")
        return
    types = _model_field_types()
    if types is not None:
        if key not in types:
            raise NanochatError(f"unknown recipe key 'model.{key}'; valid keys: size, {', '.join(sorted(types))}")
        value = _parse_text(value, types[key], f"model.{key}") if from_text else _coerce(value, types[key], f"model.{key}")
    elif from_text:
        try:
            value = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            pass  # a bare string; the model config checks it when it is built
    model.overrides[key] = value


def _set_key(recipe: Recipe, section: str, key: str, value: Any, from_text: bool) -> None:
    if section not in SECTIONS:
        raise NanochatError(f"unknown recipe section [{section}]; valid sections: {', '.join(SECTIONS)}")
    obj = getattr(recipe, section)
    if section == "model":
        _set_model_key(obj, key, value, from_text)
        return
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    if key not in names:
        raise NanochatError(f"unknown recipe key '{section}.{key}'; valid keys in [{section}]: {', '.join(names)}")
    full = f"{section}.{key}"
    value = _parse_text(value, hints[key], full) if from_text else _coerce(value, hints[key], full)
    choices = _ENUMS.get((section, key))
    if choices and value not in choices:
        raise NanochatError(f"recipe key {full!r} is {value!r}; valid choices: {', '.join(choices)}")
    setattr(obj, key, value)


# ---- loading ----


def recipe_from_dict(d: dict, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Build a Recipe from a TOML-shaped dict, then apply `section.key=value` overrides in order."""
    recipe = Recipe()
    for section, body in d.items():
        if section not in SECTIONS:
            raise NanochatError(f"unknown recipe section [{section}]; valid sections: {', '.join(SECTIONS)}")
        if not isinstance(body, dict):
            raise NanochatError(f"recipe section [{section}] must be a table of keys")
        for key, value in body.items():
            _set_key(recipe, section, key, value, from_text=False)
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise NanochatError(f"override {item!r} must look like section.key=value (e.g. train.steps=100)")
        path, text = item.split("=", 1)
        section, key = path.strip().split(".", 1)
        _set_key(recipe, section, key.strip(), text.strip(), from_text=True)
        recipe.set_keys += (f"{section}.{key.strip()}",)
    _check(recipe)
    return recipe


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a recipe TOML file and apply overrides. Missing file / bad TOML -> NanochatError."""
    p = Path(path)
    if not p.is_file():
        raise NanochatError(f"recipe {p} not found; pass a TOML file such as recipes/tiny.toml")
    try:
        d = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as e:  # ValueError: an int of > 4300 digits
        raise NanochatError(f"recipe {p} is not valid TOML: {e}") from None
    recipe = recipe_from_dict(d, overrides)
    recipe.source = str(p)
    return recipe


def _check(r: Recipe) -> None:
    """Range checks that a type check cannot express."""
    for section in SECTIONS:  # torch and numpy hold counts as int64: a bigger one would overflow deep inside
        values = getattr(r, section).overrides if section == "model" else dataclasses.asdict(getattr(r, section))
        for key, v in values.items():
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63:
                raise NanochatError(f"recipe key '{section}.{key}' is too large ({str(v)[:12]}..., "
                                    f"{len(str(abs(v)))} digits); the largest is {2**63 - 1}")
    positive = {
        "data.vocab_size": r.data.vocab_size, "train.steps": r.train.steps, "train.batch_size": r.train.batch_size,
        "train.seq_len": r.train.seq_len, "train.grad_accum": r.train.grad_accum, "logging.every": r.logging.every,
        "checkpoint.keep": r.checkpoint.keep, "validation.batches": r.validation.batches,
    }
    for key, v in positive.items():
        if v <= 0:
            raise NanochatError(f"recipe key {key!r} must be > 0, got {v}")
    non_negative = {
        "schedule.warmup_steps": r.schedule.warmup_steps, "validation.every": r.validation.every,
        "checkpoint.every": r.checkpoint.every, "train.stop_at_step": r.train.stop_at_step, "train.threads": r.train.threads,
        "train.time_budget_s": r.train.time_budget_s,
        "data.max_files": r.data.max_files, "optimizer.matrix_lr": r.optimizer.matrix_lr, "optimizer.other_lr": r.optimizer.other_lr,
        "optimizer.matrix_wd": r.optimizer.matrix_wd, "optimizer.other_wd": r.optimizer.other_wd,
        "optimizer.grad_clip": r.optimizer.grad_clip, "guard.cooldown_steps": r.guard.cooldown_steps,
    }
    for key, v in non_negative.items():
        if not v >= 0:  # `not >=` also refuses NaN
            raise NanochatError(f"recipe key {key!r} must be >= 0, got {v}")
    for key in ("muon_momentum", "lion_beta1", "lion_beta2"):
        v = getattr(r.optimizer, key)
        if not 0.0 <= v < 1.0:
            raise NanochatError(f"recipe key 'optimizer.{key}' must be in [0, 1), got {v}")
    if not 0.0 <= r.schedule.min_lr_ratio <= 1.0:
        raise NanochatError(f"recipe key 'schedule.min_lr_ratio' must be in [0, 1], got {r.schedule.min_lr_ratio}")
    if r.data.vocab_size < 300:
        raise NanochatError(f"recipe key 'data.vocab_size' must be >= 300 (256 bytes + special tokens), got {r.data.vocab_size}")
    if not 0.0 < r.data.val_fraction < 1.0:
        raise NanochatError(f"recipe key 'data.val_fraction' must be in (0, 1), got {r.data.val_fraction}")
    if not 0.0 <= r.schedule.decay_fraction <= 1.0:
        raise NanochatError(f"recipe key 'schedule.decay_fraction' must be in [0, 1], got {r.schedule.decay_fraction}")
    if not 0.0 <= r.loss.label_smoothing < 1.0:
        raise NanochatError(f"recipe key 'loss.label_smoothing' must be in [0, 1), got {r.loss.label_smoothing}")
    name = r.logging.metrics_file
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise NanochatError(f"recipe key 'logging.metrics_file' must be a plain file name inside checkpoint.dir "
                            f"(e.g. metrics.jsonl), got {name!r}")
    if not r.data.sources:
        raise NanochatError("recipe key 'data.sources' is empty; list at least one of debian, cargo, rust-src or a directory")
    _check_rl(r.rl)


def _check_rl(rl: RLSection) -> None:
    """The [rl] section's ranges (a recipe without one keeps the defaults, which pass)."""
    for key in ("steps", "prompts_per_step", "group_size", "max_tokens", "slots", "ppo_epochs", "micro_batch",
                "prompt_pool", "jobs", "curriculum_patience"):
        if getattr(rl, key) <= 0:
            raise NanochatError(f"recipe key 'rl.{key}' must be > 0, got {getattr(rl, key)}")
    if rl.group_size < 2 and rl.algorithm != "rest":
        raise NanochatError(f"recipe key 'rl.group_size' must be >= 2 for {rl.algorithm} (advantages compare samples "
                            f"of one prompt), got {rl.group_size}")
    for key in ("max_refill_rounds", "temperature", "kl_coef", "clip_eps", "adamw_lr", "curriculum_retry_steps",
                "compile_timeout", "run_timeout", "threads", "seed", "prompt_seed", "generic_prompts"):
        if not getattr(rl, key) >= 0:
            raise NanochatError(f"recipe key 'rl.{key}' must be >= 0, got {getattr(rl, key)}")
    if not 0.0 < rl.top_p <= 1.0:
        raise NanochatError(f"recipe key 'rl.top_p' must be in (0, 1], got {rl.top_p}")
    if not 0.0 <= rl.compile_share <= 1.0:
        raise NanochatError(f"recipe key 'rl.compile_share' must be in [0, 1], got {rl.compile_share}")
    levels = [rl.reward_syntax_error, rl.reward_type_error, rl.reward_compiles, rl.reward_pass]
    if levels != sorted(levels) or rl.reward_pass <= rl.reward_syntax_error:
        raise NanochatError(f"recipe keys rl.reward_syntax_error <= reward_type_error <= reward_compiles < reward_pass "
                            f"must be graded in that order, got {levels}")


# ---- derived things ----


def data_key(data: DataSection) -> str:
    """Hash of the data section: the prepared corpus lives in CACHE/data/<key> and is reused when it matches."""
    d = dataclasses.asdict(data)
    d.pop("cache_dir")
    blob = json.dumps(d, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def model_config(recipe: Recipe):
    """The ModelConfig the recipe describes: named_config(size, **overrides, vocab_size=data.vocab_size)."""
    from nanochat_cli.model import named_config

    kwargs = dict(recipe.model.overrides)
    kwargs["vocab_size"] = recipe.data.vocab_size
    try:
        return named_config(recipe.model.size, **kwargs)
    except TypeError as e:  # an override the config does not take
        raise NanochatError(f"recipe [model] section: {e}") from None


def describe_recipe() -> str:
    """Every section and key with its default and doc, as TOML comments (the reference for recipe writers)."""
    lines = []
    for section in SECTIONS:
        cls = type(getattr(Recipe(), section))
        lines.append(f"[{section}]  # {(cls.__doc__ or '').strip().splitlines()[0]}")
        for f in dataclasses.fields(cls):
            if f.name == "overrides":
                lines.append("# <any ModelConfig field> = value   # overrides the named config")
                continue
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            lines.append(f"# {f.name} = {json.dumps(default)}   # {f.metadata.get('doc', '')}")
        lines.append("")
    return "\n".join(lines)
