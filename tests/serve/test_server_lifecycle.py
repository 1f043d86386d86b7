"""Server lifecycle: 503 while the model loads, the CLI's env-var options, graceful drain on SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
import time

import httpx
import pytest

from nanochat_cli.serve import ServeConfig, ServerThread
from tests.serve.bigram_backend import BigramBackend
from tests.serve.conftest import sse_json, start_gated_cli, wait_for_health


def test_health_is_503_while_the_model_loads_then_200():
    release = threading.Event()

    def slow_factory(cfg):
        release.wait()  # loading until the test says so; the finally below always opens it
        return BigramBackend(n_slots=cfg.parallel)

    server = ServerThread(ServeConfig(port=0, parallel=2), slow_factory).start(wait_loaded=False)
    try:
        r = httpx.get(f"{server.url}/health", timeout=60)
        assert r.status_code == 503 and r.json()["status"] == "loading"
        r = httpx.post(f"{server.url}/v1/completions", json={"prompt": "x"}, timeout=60)
        assert r.status_code == 503 and r.json()["error"]["code"] == "loading"
        release.set()
        # ready includes importing what the worker needs (torch: a minute on a busy machine); the deadline only
        # turns a hang into a failure
        deadline = time.monotonic() + 300
        while httpx.get(f"{server.url}/health", timeout=60).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        r = httpx.post(f"{server.url}/v1/completions", json={"prompt": "x", "max_tokens": 1}, timeout=60)
        assert r.status_code == 200
    finally:
        release.set()
        server.stop()


def test_a_model_that_fails_to_load_reports_why():
    def broken(cfg):
        raise ValueError("bad tensor")

    with pytest.raises(Exception, match="bad tensor"):
        ServerThread(ServeConfig(port=0), broken).start()


@pytest.mark.parametrize("argv,message", [([], "no model given"), (["/no/such/model.gguf"], "not found")])
def test_cli_without_a_usable_model_is_one_clear_line(monkeypatch, capsys, tmp_path, argv, message):
    from nanochat_cli import cli, shipped_model

    monkeypatch.delenv("NANOCHAT_MODEL", raising=False)
    # with no MODEL, serve runs the shipped models/rust_small.gguf: here it is missing
    monkeypatch.setattr(shipped_model, "SHIPPED_MODEL", tmp_path / "rust_small.gguf")
    monkeypatch.setattr(sys, "argv", ["nanochat", "serve", *argv])
    with pytest.raises(SystemExit) as e:
        cli.main()
    err = capsys.readouterr().err
    assert e.value.code == 1 and message in err and "Traceback" not in err


@pytest.mark.slow
def test_sigterm_finishes_the_in_flight_stream_then_exits(tiny_model):
    proc, url = start_gated_cli(tiny_model, "decode", NANOCHAT_PARALLEL="2", NANOCHAT_API_KEY="k")
    auth = {"Authorization": "Bearer k"}
    try:
        assert wait_for_health(proc, url, "ok")["slots_idle"] == 2  # NANOCHAT_PARALLEL took effect
        body = {"prompt": "fn", "max_tokens": 120, "stream": True, "ignore_eos": True}
        with httpx.stream("POST", f"{url}/v1/completions", json=body, headers=auth, timeout=60) as r:
            # headers are out: the job is queued, and the gate holds it in flight after its first token
            assert r.status_code == 200
            proc.send_signal(signal.SIGTERM)
            wait_for_health(proc, url, "shutting_down")
            late = httpx.post(f"{url}/v1/completions", json={"prompt": "x"}, headers=auth, timeout=10)
            assert late.status_code == 503 and late.json()["error"]["code"] == "shutting_down"
            proc.stdin.write("go\n")
            proc.stdin.flush()
            got = b"".join(r.iter_raw())
        chunks = sse_json(got)
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"
        assert proc.wait(60) == 0
        assert "shutting down" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
