"""GGUF files written by nanochat open with gguf-py's reader and gguf-dump, and read back exactly."""

import json
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from nanochat_cli.cli import app
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.gguf_io import read_gguf, write_gguf
from nanochat_cli.ternary import PlanarWeights, decode_tq2_0, ternarize

runner = CliRunner()


@pytest.fixture()
def llama_like(tmp_path: Path) -> Path:
    g = torch.Generator().manual_seed(0)
    tensors = {
        "model.embed_tokens.weight": torch.randn(300, 256, generator=g),
        "model.layers.0.self_attn.q_proj.weight": torch.randn(256, 256, generator=g).bfloat16(),
        "model.layers.0.mlp.down_proj.weight": torch.randn(256, 512, generator=g),
        "model.layers.0.input_layernorm.weight": torch.ones(256),
        "lm_head.weight": torch.randn(300, 256, generator=g),
    }
    d = tmp_path / "hf"
    d.mkdir()
    save_file(tensors, str(d / "model.safetensors"))
    (d / "config.json").write_text(json.dumps({"hidden_size": 256}))
    return d


def _gguf_dump(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("gguf-dump")
    return subprocess.run([str(exe), str(path)], capture_output=True, text=True, timeout=120)


def test_quantized_file_opens_with_gguf_reader_and_dump_and_reads_back_exactly(llama_like, tmp_path):
    out = tmp_path / "m.gguf"
    res = runner.invoke(app, ["quantize", str(llama_like), "-o", str(out), "--group-size", "128", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["bytes_after"] == out.stat().st_size and report["compression"] > 1
    reader = gguf.GGUFReader(str(out))
    names = {t.name for t in reader.tensors}
    assert "model.layers.0.mlp.down_proj.weight.trits" in names and "model.embed_tokens.weight" in names
    dump = _gguf_dump(out)
    assert dump.returncode == 0, dump.stderr
    assert "nanochat.quant" in dump.stdout

    f = read_gguf(out)
    assert f.is_q1_58 and f.group_size == 128 and f.metadata["nanochat.config_json"]
    from safetensors.torch import load_file

    src = load_file(str(llama_like / "model.safetensors"))
    for name in ("model.layers.0.mlp.down_proj.weight", "model.layers.0.self_attn.q_proj.weight"):
        t, s = ternarize(src[name].float().numpy(), 128)
        p = f.planar(name)
        assert np.array_equal(p.trits(), t) and np.array_equal(p.scales, s)
    assert np.array_equal(f.tensor("model.layers.0.input_layernorm.weight"), np.ones(256, np.float32))


def test_tq2_0_quantize_output_is_readable_by_gguf_dequantize(llama_like, tmp_path):
    out = tmp_path / "t.gguf"
    res = runner.invoke(app, ["quantize", str(llama_like), "-o", str(out), "--format", "tq2_0"])
    assert res.exit_code == 0, res.output
    f = read_gguf(out)
    info = f.tensors["model.layers.0.mlp.down_proj.weight"]
    assert info.tensor_type == gguf.GGMLQuantizationType.TQ2_0
    from safetensors.torch import load_file

    w = load_file(str(llama_like / "model.safetensors"))["model.layers.0.mlp.down_proj.weight"].numpy()
    t, _ = ternarize(w, 256)
    tt, _ = decode_tq2_0(info.data, w.shape)
    assert np.array_equal(tt, t)
    deq = gguf.quants.dequantize(info.data, info.tensor_type)
    assert deq.shape == w.shape and np.array_equal(np.sign(deq), t)


def test_planar_tensors_read_back_memory_mapped_without_copy(tmp_path):
    p = PlanarWeights.from_float(np.random.default_rng(1).standard_normal((64, 256)).astype(np.float32), 64)
    path = write_gguf(tmp_path / "x.gguf", [("w", p)], {"nanochat.note": "x"}, group_size=64)
    gf = read_gguf(path)
    q = gf.planar("w")
    # a view into the file's memory map, not a copy of it
    assert np.shares_memory(q.packed, gf.reader.data) and np.shares_memory(q.scales, gf.reader.data)
    assert q.packed.ctypes.data % 128 == 0 and np.array_equal(q.packed, p.packed)


def test_info_prints_metadata_and_tensor_table(llama_like, tmp_path):
    out = tmp_path / "m.gguf"
    assert runner.invoke(app, ["quantize", str(llama_like), "-o", str(out)]).exit_code == 0
    res = runner.invoke(app, ["info", str(out), "--json"])
    assert res.exit_code == 0
    desc = json.loads(res.stdout)
    assert desc["metadata"]["nanochat.quant"] == "q1_58"
    assert {"name": "model.layers.0.mlp.down_proj.weight.trits", "type": "I8", "shape": [256, 128],
            "logical_shape": [256, 512]}.items() <= \
        next(t for t in desc["tensors"] if t["name"].endswith("down_proj.weight.trits")).items()
    assert desc["gguf_version"] == 3
    assert desc["metadata"]["nanochat.source"] == llama_like.name  # a name, not the local path
    assert all("logical_shape" not in t for t in desc["tensors"] if not t["name"].endswith(".trits"))
    res = runner.invoke(app, ["info", str(out)])
    assert res.exit_code == 0 and "GGUF v3" in res.stdout and "256x512" in res.stdout


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nanochat_cli.cli", *args], capture_output=True, text=True, timeout=120)


def test_bad_inputs_give_one_clear_line_nonzero_exit_and_no_partial_file(llama_like, tmp_path):
    out = tmp_path / "o.gguf"
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"this is not a safetensors file")
    trunc = tmp_path / "trunc.safetensors"
    trunc.write_bytes((llama_like / "model.safetensors").read_bytes()[:5000])
    nan_dir = tmp_path / "nan"
    nan_dir.mkdir()
    save_file({"layers.0.w.weight": torch.full((8, 8), float("nan"))}, str(nan_dir / "m.safetensors"))
    cases = [
        (["quantize", str(tmp_path / "missing"), "-o", str(out)], "no such file"),
        (["quantize", str(bad), "-o", str(out)], "not a readable safetensors"),
        (["quantize", str(trunc), "-o", str(out)], "safetensors"),
        (["quantize", str(nan_dir), "-o", str(out)], "NaN"),
        (["quantize", str(llama_like), "-o", str(tmp_path / "nodir" / "o.gguf")], "does not exist"),
        (["quantize", str(llama_like), "-o", str(out), "--format", "tq1_0", "--group-size", "128"], "256"),
        (["quantize", str(llama_like), "-o", str(out), "--format", "q4"], "unknown format"),
        (["info", str(bad)], "not a GGUF"),
        (["info", str(tmp_path / "nope.gguf")], "no such file"),
        (["info", str(tmp_path)], "holds no checkpoint"),  # a directory is read as a checkpoint
    ]
    for args, needle in cases:
        res = _cli(*args)
        assert res.returncode == 1, (args, res.stderr)
        assert needle in res.stderr and "Traceback" not in res.stderr, (args, res.stderr)
        assert len(res.stderr.strip().splitlines()) <= 3, res.stderr  # one message (rich may wrap long lines)
    assert not out.exists() and not list(tmp_path.glob(".o.gguf.tmp*"))


def test_truncated_gguf_is_a_clear_error(llama_like, tmp_path):
    out = tmp_path / "m.gguf"
    assert runner.invoke(app, ["quantize", str(llama_like), "-o", str(out)]).exit_code == 0
    for cut in (6, 100, out.stat().st_size // 2, out.stat().st_size - 10):
        part = tmp_path / f"cut{cut}.gguf"
        part.write_bytes(out.read_bytes()[:cut])
        with pytest.raises(NanochatError, match="GGUF|truncated|corrupt"):
            f = read_gguf(part)
            for name in f.tensors:  # a reader that maps lazily must still refuse a short file
                f.tensor(name)


def test_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch):
    w = PlanarWeights.from_float(np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32), 4)
    with pytest.raises(TypeError, match="unsupported value type"):
        write_gguf(tmp_path / "m.gguf", [("blk.0.w", w)], {"nanochat.bad": object()})
    assert list(tmp_path.iterdir()) == []

    def disk_full(self, *args, **kwargs):  # the header is on disk already when the tensor data fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gguf.GGUFWriter, "write_tensors_to_file", disk_full)
    with pytest.raises(NanochatError, match="No space"):  # one line for the user, not a traceback
        write_gguf(tmp_path / "m.gguf", [("blk.0.w", w)], {})
    assert list(tmp_path.iterdir()) == []  # neither the target nor a half-written temp file


def test_info_prints_brackets_in_file_contents_and_paths_as_text(tmp_path: Path):
    # chat templates carry "[INST]" ... "[/INST]", which rich would otherwise parse (and reject) as markup
    path = write_gguf(tmp_path / "m.gguf", [("layers.[0].w", np.ones((2, 4), np.float32))],
                      {"tokenizer.chat_template": "[INST] {{ m }} [/INST]", "general.name": "[bold]x"})
    res = _cli("info", str(path))
    assert res.returncode == 0, res.stderr
    assert "[INST] {{ m }} [/INST]" in res.stdout and "[bold]x" in res.stdout and "layers.[0].w" in res.stdout
    missing = tmp_path / "[bold]nope.gguf"
    res = _cli("info", str(missing))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"{missing}: no such file" in res.stderr.replace("\n", "")
