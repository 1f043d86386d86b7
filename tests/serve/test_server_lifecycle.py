"""Server lifecycle: 503 while the model loads, the CLI's env-var options, graceful drain on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from nanochat_cli.serve import ServeConfig, ServerThread
from tests.serve.bigram_backend import BigramBackend
from tests.serve.conftest import sse_json


def test_health_is_503_while_the_model_loads_then_200():
    release = threading.Event()

    def slow_factory(cfg):
        release.wait(30)
        return BigramBackend(n_slots=cfg.parallel)

    server = ServerThread(ServeConfig(port=0, parallel=2), slow_factory).start(wait_loaded=False)
    try:
        r = httpx.get(f"{server.url}/health")
        assert r.status_code == 503 and r.json()["status"] == "loading"
        r = httpx.post(f"{server.url}/v1/completions", json={"prompt": "x"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "loading"
        release.set()
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/health").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert httpx.post(f"{server.url}/v1/completions", json={"prompt": "x", "max_tokens": 1}).status_code == 200
    finally:
        release.set()
        server.stop()


def test_a_model_that_fails_to_load_reports_why():
    def broken(cfg):
        raise ValueError("bad tensor")

    with pytest.raises(Exception, match="bad tensor"):
        ServerThread(ServeConfig(port=0), broken).start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv,message", [([], "no model given"), (["/no/such/model.gguf"], "not found")])
def test_cli_without_a_usable_model_is_one_clear_line(monkeypatch, capsys, argv, message):
    from nanochat_cli import cli

    monkeypatch.delenv("NANOCHAT_MODEL", raising=False)
    monkeypatch.setattr(sys, "argv", ["nanochat", "serve", *argv])
    with pytest.raises(SystemExit) as e:
        cli.main()
    err = capsys.readouterr().err
    assert e.value.code == 1 and message in err and "Traceback" not in err


@pytest.mark.slow
def test_sigterm_finishes_the_in_flight_stream_then_exits(tiny_model):
    port = free_port()
    # options from NANOCHAT_* environment variables, as the CLI documents
    env = {**os.environ, "NANOCHAT_MODEL": str(tiny_model[0]), "NANOCHAT_PORT": str(port),
           "NANOCHAT_PARALLEL": "2", "NANOCHAT_API_KEY": "k"}
    proc = subprocess.Popen([sys.executable, "-m", "nanochat_cli.cli", "serve"], env=env, stderr=subprocess.PIPE,
                            text=True)
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer k"}
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server never became healthy"
            time.sleep(0.1)
        health = httpx.get(f"{url}/health").json()
        assert health["slots_idle"] == 2  # NANOCHAT_PARALLEL took effect
        body = {"prompt": "fn", "max_tokens": 120, "stream": True, "ignore_eos": True}
        got = []
        with httpx.stream("POST", f"{url}/v1/completions", json=body, headers=auth, timeout=60) as r:
            for piece in r.iter_raw():
                if not got:
                    proc.send_signal(signal.SIGTERM)
                    late = httpx.post(f"{url}/v1/completions", json={"prompt": "x"}, headers=auth, timeout=10)
                    assert late.status_code == 503 and late.json()["error"]["code"] == "shutting_down"
                got.append(piece)
        chunks = sse_json(b"".join(got))
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"
        assert proc.wait(30) == 0
        assert "shutting down" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
