"""Hostile inputs get one clear line, never a traceback: damaged or mismatched GGUFs (refused once, at load, for
generate, eval and serve alike), absurd sizes (refused before allocating), bad seeds, ports and prompt bytes, and
a seeded byte-mutation fuzz of a tiny GGUF that must either run or raise NanochatError."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats import load_model_weights
from nanochat_cli.formats.gguf_io import write_gguf
from nanochat_cli.infer import load_model
from nanochat_cli.infer.generate import generate
from nanochat_cli.infer.sampling import SamplingParams
from nanochat_cli.ternary import PlanarWeights
from nanochat_cli.ternary.constants import CODE_INVALID, KEY_CONFIG_JSON, KEY_TOKENIZER_JSON
from tests.cli_helpers import in_process, one_error_line

REPO = Path(__file__).resolve().parents[2]
GREEDY = SamplingParams(temperature=0, max_tokens=3, token_healing=False)


def _write_model(path: Path, **overrides) -> Path:
    import torch

    from nanochat_cli.formats import model_weights, write_nanochat_gguf
    from nanochat_cli.model import TernaryLM, named_config
    from tests.serve.bigram_backend import small_tokenizer

    tok = small_tokenizer()
    torch.manual_seed(0)
    model = TernaryLM(named_config("tiny", vocab_size=tok.get_vocab_size(), max_seq_len=64, **overrides)).eval()
    return write_nanochat_gguf(model_weights(model, tok.to_str(), "tiny random"), path)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_inputs")
    return {"plain": _write_model(root / "plain.gguf"), "mhc": _write_model(root / "mhc.gguf", mhc_streams=2)}


def variant(base: Path, out: Path, config: dict | None = None, raw_config: str | None = None, drop: str = "",
            replace=None, add: dict | None = None) -> Path:
    """A copy of `base` with its config JSON changed, tensors dropped (by prefix), replaced or added."""
    w = load_model_weights(base)
    tensors = {k: v for k, v in w.tensors.items() if not (drop and k.startswith(drop))}
    tensors.update(replace(tensors) if replace else {})
    tensors.update(add or {})
    cfg_json = raw_config if raw_config is not None else json.dumps({"model": {**w.config.to_dict(), **(config or {})}})
    return write_gguf(out, sorted(tensors.items()), {KEY_CONFIG_JSON: cfg_json, KEY_TOKENIZER_JSON: w.tokenizer_json},
                      group_size=w.config.group_size)


def with_codes(name: str, code: int | None = None, nan_scale: bool = False):
    """Replace ternary matrix `name` by one whose every code is `code`, or whose first scale is Inf."""

    def change(tensors):
        p = tensors[name]
        packed = np.full_like(p.packed, code * 0b01010101) if code is not None else p.packed.copy()
        scales = p.scales.copy()
        if nan_scale:
            scales.flat[0] = np.inf
        return {name: PlanarWeights.from_packed(packed, scales, p.shape, p.group_size)}

    return change


def with_nan(name: str):
    def change(tensors):
        a = np.array(tensors[name], dtype=np.float32)
        a.flat[3] = np.nan
        return {name: a}

    return change


def run_a_little(path: Path) -> str:
    """What `generate` and `eval --model` do with a model file: load_model, then decode a few tokens."""
    lm = load_model(path)
    return "".join(ev.text for ev in generate(lm.engine(1, 32), lm.tokenizer, "fn main", GREEDY, lm.eos_ids))


Q = "blocks.0.attn.q_proj.weight"
HOSTILE = {  # case -> (variant arguments, base model, what the one error line says)
    "config-null": (dict(raw_config="null"), "plain", "must be a JSON object"),
    "config-list": (dict(raw_config="[1, 2]"), "plain", "must be a JSON object"),
    "config-model-5": (dict(raw_config='{"model": 5}'), "plain", "must be a JSON object"),
    "mhc-tensors-missing": (dict(drop="blocks.0.attn_mhc"), "mhc", "'blocks.0.attn_mhc.pre_logits' is missing"),
    "mhc-config-plain-file": (dict(config={"mhc_streams": 2}), "plain", "attn_mhc.pre_logits' is missing"),
    "ffn-tensor-missing": (dict(drop="blocks.1.ffn.down_proj"), "plain", "'blocks.1.ffn.down_proj.weight' is missing"),
    "max-seq-len-1e7": (dict(config={"max_seq_len": 10**7}), "plain", "max_seq_len: 10000000 is larger"),
    "max-seq-len-1e12": (dict(config={"max_seq_len": 10**12}), "plain", "max_seq_len: 1000000000000 is larger"),
    "heads-disagree": (dict(config={"n_heads": 8}), "plain", "'blocks.0.attn.k_proj.weight' is (128, 256)"),
    "kv-heads-disagree": (dict(config={"n_kv_heads": 1}), "plain", "implies (64, 256)"),
    "width-disagrees": (dict(config={"ffn_hidden": 1024}), "plain", "implies (1024, 256)"),
    "d-model-disagrees": (dict(config={"d_model": 512}), "plain", "'embed.weight' is"),
    "more-layers": (dict(config={"n_layers": 3}), "plain", "n_layers 3 but the file holds 2 blocks"),
    "fewer-layers": (dict(config={"n_layers": 1}), "plain", "n_layers 1 but the file holds 2 blocks"),
    "unknown-tensor": (dict(add={"blocks.0.bogus.weight": np.ones(4, np.float32)}), "plain",
                       "unknown tensor 'blocks.0.bogus.weight'"),
    "nan-weight": (dict(replace=with_nan("blocks.0.attn_norm.weight")), "plain",
                   "'blocks.0.attn_norm.weight' holds NaN or Inf"),
    "nan-embedding": (dict(replace=with_nan("embed.weight")), "plain", "'embed.weight' holds NaN or Inf"),
    "inf-scale": (dict(replace=with_codes(Q, nan_scale=True)), "plain", f"'{Q}' scales hold NaN or Inf"),
    "norm-eps-nan": (dict(config={"norm_eps": float("nan")}), "plain", "norm_eps: must be a finite number"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_gguf_is_refused_at_load_with_one_clear_error(models, tmp_path, case):
    kwargs, base, match = HOSTILE[case]
    path = variant(models[base], tmp_path / f"{case}.gguf", **kwargs)
    with pytest.raises(NanochatError, match=match.replace("(", r"\(").replace(")", r"\)")):
        run_a_little(path)


@pytest.mark.parametrize("case", ["config-null", "mhc-tensors-missing", "max-seq-len-1e12", "heads-disagree",
                                  "unknown-tensor", "nan-weight", "inf-scale", "norm-eps-nan"])
def test_generate_and_eval_print_the_load_error_as_one_line(models, tmp_path, capsys, monkeypatch, case):
    kwargs, base, match = HOSTILE[case]
    path = variant(models[base], tmp_path / f"{case}.gguf", **kwargs)
    one_error_line(in_process(capsys, monkeypatch, "generate", str(path), "-p", "fn main", "-n", "2"), match)
    if case in ("config-null", "nan-weight"):  # eval reaches the same load_model
        proc = in_process(capsys, monkeypatch, "eval", "--model", str(path), "--problems", "rust-basic")
        one_error_line(proc, match)


def test_header_declaring_more_tensors_than_the_file_holds_is_refused(models, tmp_path, capsys, monkeypatch):
    data = bytearray(models["plain"].read_bytes())
    n_tensors = struct.unpack_from("<Q", data, 8)[0]  # GGUF v3: magic, version, tensor count, kv count
    struct.pack_into("<Q", data, 8, n_tensors + 1)
    bad = tmp_path / "extra.gguf"
    bad.write_bytes(bytes(data))
    one_error_line(in_process(capsys, monkeypatch, "generate", str(bad), "-p", "x"), "corrupt")


def test_invalid_trit_code_decodes_to_zero_as_the_design_says(models, tmp_path):
    """DESIGN.md: 0b10 is invalid and decodes to 0. A file holding it loads, and every kernel path reads it as the
    zero code: the logits equal, bit for bit, those of the same file with 0b00 there."""
    invalid = variant(models["plain"], tmp_path / "invalid.gguf", replace=with_codes(Q, CODE_INVALID))
    zero = variant(models["plain"], tmp_path / "zero.gguf", replace=with_codes(Q, 0b00))
    ids = list(range(5, 25))
    logits = []
    for path in (invalid, zero):
        lm = load_model(path)
        logits.append(lm.engine(1, 32).prefill(0, ids, all_logits=True))
        ref = load_model(path, mix=np.float64)  # the reference path (numpy unpack of the codes)
        logits.append(ref.engine(1, 32).prefill(0, ids, all_logits=True))
    np.testing.assert_array_equal(logits[0], logits[2])
    np.testing.assert_array_equal(logits[1], logits[3])


def test_kv_cache_larger_than_memory_is_refused_before_allocating(models, monkeypatch):
    import nanochat_cli.host_memory as host_memory

    lm = load_model(models["plain"])
    monkeypatch.setattr(host_memory, "available_bytes", lambda: 1 << 16)
    with pytest.raises(NanochatError, match=r"KV cache of 4 slot\(s\) x 64 tokens needs .* pass a smaller --ctx"):
        lm.engine(4)


def test_negative_seed_and_non_utf8_prompt_are_one_line(models, capsys, monkeypatch):
    one_error_line(in_process(capsys, monkeypatch, "generate", str(models["plain"]), "-p", "x", "--seed", "-5"),
                   "seed must be >= 0")
    lm = load_model(models["plain"])
    with pytest.raises(NanochatError, match="not valid UTF-8"):
        list(generate(lm.engine(), lm.tokenizer, "fn \ud800 main", GREEDY))
    # what Python makes of argv bytes that are not UTF-8 (surrogate escapes)
    one_error_line(in_process(capsys, monkeypatch, "generate", str(models["plain"]), "-p", "\udcff\udcfe ab"),
                   "not valid UTF-8")


@pytest.mark.slow  # one real subprocess: the bytes reach argv as a shell would pass them
def test_prompt_bytes_that_are_not_utf8_from_a_shell_are_one_line(models):
    proc = subprocess.run([sys.executable, "-m", "nanochat_cli.cli", "generate", str(models["plain"]), "-p",
                           b"\xff\xfe fn"], capture_output=True, text=True, cwd=REPO, timeout=600)
    one_error_line(proc, "not valid UTF-8")


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_serve_port_out_of_range_is_one_line(models, capsys, monkeypatch, port):
    one_error_line(in_process(capsys, monkeypatch, "serve", str(models["plain"]), "--port", port),
                   f"--port {port} is not a TCP port")


@pytest.mark.parametrize("override, match", [
    ("model.d_model=1000000000", "training this model"),
    ("model.n_layers=100000", "100000 layers"),
    (f"validation.batches={10**12}", "validation.batches"),
    ("train.steps=" + "9" * 5000, "'train.steps'"),
    ("train.steps=" + "9" * 30, "'train.steps' is too large"),
])
def test_train_refuses_sizes_it_cannot_hold_before_allocating(tmp_path, capsys, monkeypatch, override, match):
    run_dir = tmp_path / "run"
    proc = in_process(capsys, monkeypatch, "train", str(REPO / "recipes" / "tiny.toml"), "--set", override,
                      "--set", f"checkpoint.dir={run_dir}", "--set", f"data.cache_dir={tmp_path / 'cache'}")
    one_error_line(proc, match)
    assert not (tmp_path / "cache").exists()  # refused before the data preparation


def test_fuzzed_gguf_either_runs_or_raises_nanochat_error(models, tmp_path):
    """Seeded byte mutations of a tiny GGUF, mostly in the header and metadata, fed to what generate and
    eval --model run (load_model, then a few decode steps): any other exception is a bug."""
    original = models["plain"].read_bytes()
    header = struct.unpack_from("<Q", original, 8)[0] * 64 + 4096  # about where the tensor infos end
    rng = np.random.default_rng(14)
    outcomes = {"ran": 0, "refused": 0}
    for i in range(60):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 9))):
            region = header if rng.random() < 0.8 else len(data)
            data[int(rng.integers(0, min(region, len(data))))] = int(rng.integers(0, 256))
        path = tmp_path / f"fuzz{i}.gguf"
        path.write_bytes(bytes(data))
        try:
            run_a_little(path)
            outcomes["ran"] += 1
        except NanochatError:
            outcomes["refused"] += 1
        path.unlink()
    assert outcomes["refused"] > 0, outcomes


@pytest.mark.parametrize("case", ["config-null", "mhc-tensors-missing", "heads-disagree", "nan-weight", "inf-scale"])
def test_serve_refuses_a_hostile_gguf_with_one_line(models, tmp_path, capsys, monkeypatch, case):
    kwargs, base, match = HOSTILE[case]
    path = variant(models[base], tmp_path / f"{case}.gguf", **kwargs)
    proc = in_process(capsys, monkeypatch, "serve", str(path), "--port", "0")
    # serve listens while it loads (/health says 503 "loading"), so its "listening" line comes first
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert match in " ".join(proc.stderr.split())
