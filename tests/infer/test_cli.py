"""`nanochat export` and `nanochat generate` end to end through the CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from nanochat_cli.cli import app
from nanochat_cli.infer import Engine, SamplingParams, generate, load_model
from tests.infer.conftest import make_model, write_checkpoint

runner = CliRunner()


def test_export_then_generate_streams_greedy_text_and_reports_rates(tokenizer, tmp_path):
    ckpt = write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt")
    out = tmp_path / "m.gguf"
    res = runner.invoke(app, ["export", str(ckpt), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.is_file()
    res = runner.invoke(app, ["generate", str(out), "--prompt", "fn main() {", "--max-tokens", "12",
                              "--temperature", "0", "--threads", "1"])
    assert res.exit_code == 0, res.output
    lm = load_model(out)
    expected = "".join(e.text for e in generate(Engine(lm.model), lm.tokenizer, "fn main() {",
                                                SamplingParams(temperature=0, max_tokens=12), lm.eos_ids))
    assert res.stdout == expected + "\n"
    assert "tok/s prefill" in res.stderr and "tok/s decode" in res.stderr


def test_export_errors_are_one_line(tokenizer, tmp_path):
    ckpt = write_checkpoint(make_model(mhc_streams=2), tokenizer, tmp_path / "ckpt")
    res = runner.invoke(app, ["export", str(ckpt), "-o", str(tmp_path / "b.gguf"), "--format", "bitnet-tq2"])
    assert res.exit_code != 0
    assert "mHC" in str(res.exception)
    res = runner.invoke(app, ["export", str(ckpt), "-o", str(tmp_path / "b.gguf"), "--format", "onnx"])
    assert res.exit_code != 0 and "unknown export format" in str(res.exception)
