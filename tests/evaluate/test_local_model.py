"""Local-model sources on a tiny random checkpoint: the batched native-engine source (checked against the
engine's own one-prompt `generate`), GGUF export, and `--server` against `nanochat serve` on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from nanochat_cli.evaluate.runner import EvalConfig, run_eval
from nanochat_cli.evaluate.completion_sources import CompletionRequest, GenerationParams, ServerSource, eval_sampling
from nanochat_cli.rust.problems import load_problem_set

pytestmark = pytest.mark.usefixtures("rustc_available")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A random `tiny` TernaryLM with a BPE trained on the built-in prompts (unscaled embeddings, so sampled
    text varies instead of repeating one token)."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_model

    from nanochat_cli.data.tokenizer import save_tokenizer, train_tokenizer
    from nanochat_cli.model import TernaryLM, named_config

    problems = load_problem_set("seed16") + load_problem_set("rust-basic")
    tok = train_tokenizer([p.prompt + (p.reference or "") + "\n}\n" for p in problems] * 10, 400)
    torch.manual_seed(0)
    model = TernaryLM(named_config("tiny", vocab_size=tok.get_vocab_size(), max_seq_len=256)).eval()
    path = tmp_path_factory.mktemp("tiny_ckpt")
    save_model(model, str(path / "model.safetensors"))
    (path / "config.json").write_text(json.dumps({"format": 1, "model": model.cfg.to_dict()}))
    save_tokenizer(tok, path / "tokenizer.json")
    return path


REQS = [CompletionRequest(p.name, p.prompt, p.stop_tokens) for p in load_problem_set("seed16")[:3]]
PARAMS = GenerationParams(2, eval_sampling(temperature=1.0, top_p=1.0, max_tokens=16, seed=5))


def test_batched_engine_source_matches_one_prompt_generate(tiny_checkpoint):
    from nanochat_cli.evaluate.engine_source import EngineSource
    from nanochat_cli.infer import SamplingParams, generate, load_model

    batched = EngineSource(tiny_checkpoint, batch=3, threads=1).complete(REQS, PARAMS)
    lm = load_model(str(tiny_checkpoint), threads=1)
    engine = lm.engine()
    for ri, req in enumerate(REQS):
        for si in range(PARAMS.n_samples):
            sp = SamplingParams(temperature=1.0, top_p=1.0, seed=PARAMS.sampling.seed + si, max_tokens=16, stop=list(req.stop))
            one = "".join(ev.text for ev in generate(engine, lm.tokenizer, req.prompt, sp, lm.eos_ids))
            assert batched.completions[ri][si] == one
    assert len({c for row in batched.completions for c in row}) > 1  # sampled text varies
    assert 0 < batched.tokens <= 3 * 2 * 16 and batched.seconds > 0


def test_engine_source_reports_each_finished_sample(tiny_checkpoint):
    from nanochat_cli.evaluate.engine_source import EngineSource

    calls = []
    source = EngineSource(tiny_checkpoint, batch=2, threads=1)
    gen = source.complete(REQS, PARAMS, progress=lambda n, t: calls.append((n, t)))
    assert len(calls) == len(REQS) * PARAMS.n_samples and all(n == 1 for n, _ in calls)
    assert sum(t for _, t in calls) == gen.tokens


def test_eval_with_a_checkpoint_end_to_end(tiny_checkpoint, tmp_path):
    from typer.testing import CliRunner

    from nanochat_cli.cli import app

    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["eval", "--checkpoint", str(tiny_checkpoint), "--problems", "seed16", "--n-samples", "2",
                                 "--max-tokens", "12", "--batch", "4", "--threads", "1", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data["source"]["kind"] == "engine" and len(data["source"]["file_sha256"]) == 64
    assert data["summary"]["samples"] == 32 and data["summary"]["generation"]["tokens_per_s"] > 0
    assert sum(data["summary"]["status_counts"].values()) == 32


def test_eval_with_an_exported_gguf_gives_the_checkpoint_completions(tiny_checkpoint, tmp_path):
    from nanochat_cli.evaluate.engine_source import EngineSource
    from nanochat_cli.formats.export import export_checkpoint

    gguf = export_checkpoint(tiny_checkpoint, tmp_path / "tiny.gguf")
    from_gguf = EngineSource(gguf, batch=2, threads=1)
    assert from_gguf.identity()["hashed_file"] == str(gguf.resolve())
    got = from_gguf.complete(REQS, PARAMS).completions
    assert got == EngineSource(tiny_checkpoint, batch=2, threads=1).complete(REQS, PARAMS).completions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_server_source_against_nanochat_serve(tiny_checkpoint, tmp_path):
    port = _free_port()
    with open(tmp_path / "serve.log", "w") as log:
        _serve_and_eval(tiny_checkpoint, tmp_path, port, log)


def _serve_and_eval(tiny_checkpoint, tmp_path, port, log) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "nanochat_cli.cli", "serve", str(tiny_checkpoint), "--port", str(port),
                             "--parallel", "2"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "nanochat serve did not become healthy"
            time.sleep(0.5)
        problems = load_problem_set("seed16")[:3]
        subset = tmp_path / "three.json"
        subset.write_text(json.dumps([p.to_dict() for p in problems]))
        results = run_eval(EvalConfig(problems=str(subset), params=PARAMS), ServerSource(f"http://127.0.0.1:{port}"))
        assert results["summary"]["samples"] == 6
        assert results["source"]["model"]  # taken from the server's /v1/models
        assert all(len(p["samples"]) == 2 for p in results["problems"])
        # the CLI with its default options (max_tokens 512 > this model's 256-token context): clamped, not refused
        out = tmp_path / "defaults.json"
        cli = subprocess.run([sys.executable, "-m", "nanochat_cli.cli", "eval", "--server", f"http://127.0.0.1:{port}",
                              "--problems", str(subset), "-o", str(out)], capture_output=True, text=True, timeout=300)
        assert cli.returncode == 0, cli.stderr
        assert "RuntimeWarning" not in cli.stderr and "never awaited" not in cli.stderr
        defaults = json.loads(out.read_text())
        assert defaults["config"]["max_tokens"] == 512 and defaults["summary"]["samples"] == 3
        assert defaults["summary"]["generation"]["tokens"] <= 3 * 255  # each clamped to the room its prompt leaves
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
