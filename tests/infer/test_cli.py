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


def test_int8_head_option_reaches_generate_eval_and_serve(tokenizer, tmp_path):
    """`--int8-head` gives generate, eval's engine source and serve's backend the int8-row head (the file's float
    head otherwise), and generate's text is the engine's own with that head."""
    from nanochat_cli.evaluate.engine_source import EngineSource
    from nanochat_cli.infer.linear import FloatLinear, Int8Linear
    from nanochat_cli.serve.config import ServeConfig
    from nanochat_cli.serve.engine_backend import load_engine_backend

    ckpt = write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt")
    out = tmp_path / "m.gguf"
    assert runner.invoke(app, ["export", str(ckpt), "-o", str(out)]).exit_code == 0
    args = ["generate", str(out), "--prompt", "fn main() {", "--max-tokens", "12", "--temperature", "0",
            "--threads", "1"]
    res = runner.invoke(app, args + ["--int8-head"])
    assert res.exit_code == 0, res.output
    lm = load_model(out, int8_head=True)
    assert isinstance(lm.model.head, Int8Linear)
    expected = "".join(e.text for e in generate(Engine(lm.model), lm.tokenizer, "fn main() {",
                                                SamplingParams(temperature=0, max_tokens=12), lm.eos_ids))
    assert res.stdout == expected + "\n"

    for int8, kind in ((False, FloatLinear), (True, Int8Linear)):
        source = EngineSource(out, batch=2, threads=1, int8_head=int8)
        assert isinstance(source.lm.model.head, kind)
        assert source.identity()["head"] == kind.__name__  # the results file says which head made the samples
        backend = load_engine_backend(ServeConfig(model=str(out), port=0, parallel=2, int8_head=int8))
        assert isinstance(backend.lm.model.head, kind)
    res = runner.invoke(app, ["eval", "--server", "http://127.0.0.1:9", "--int8-head"])
    assert res.exit_code != 0 and "--int8-head" in str(res.exception) and "--server" in str(res.exception)
