"""Fixtures: servers on free loopback ports (port 0), backed by the bigram test double or the real engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.server import ServerThread
from tests.serve.bigram_backend import BigramBackend

REPO = Path(__file__).resolve().parents[2]  # a subprocess imports tests.serve.gated_serve from here


def start_bigram_server(**overrides) -> tuple[ServerThread, BigramBackend]:
    backend_kw = {k: overrides.pop(k) for k in ("eos_boost", "step_delay", "ctx", "poison_token", "fim_rate") if k in overrides}
    cfg = ServeConfig(port=0, parallel=overrides.pop("parallel", 4), **overrides)
    backend = BigramBackend(n_slots=cfg.parallel, **backend_kw)
    return ServerThread(cfg, lambda _cfg: backend).start(), backend


@pytest.fixture(scope="module")
def bigram_server():
    # eos_boost < 0: the bigram never ends by itself, so length limits are exact
    server, backend = start_bigram_server(eos_boost=-100.0, prefill_chunk=64)
    yield server, backend
    server.stop()


def sse_events(raw: bytes) -> list[str]:
    """Split an SSE body into its blocks; asserts the framing is exactly `...\\n\\n` blocks."""
    text = raw.decode()
    assert text.endswith("\n\n"), text[-50:]
    blocks = text.split("\n\n")[:-1]
    for b in blocks:
        assert "\n" not in b, f"a block spans lines: {b!r}"
    return blocks


def sse_json(raw: bytes) -> list[dict]:
    blocks = [b for b in sse_events(raw) if not b.startswith(":")]
    assert blocks[-1] == "data: [DONE]"
    assert all(b.startswith("data: ") for b in blocks)
    return [json.loads(b[6:]) for b in blocks[:-1]]


def healthy(url: str) -> dict:
    r = httpx.get(f"{url}/health", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(path of a random-weight tiny GGUF, the torch TernaryLM it was exported from)."""
    from tests.serve.tiny_model import write_tiny_model

    path = tmp_path_factory.mktemp("serve-model") / "tiny.gguf"
    model = write_tiny_model(path)
    return path, model


@pytest.fixture(scope="module")
def engine_server(tiny_model):
    """The real engine behind the server: 4 slots of 256 tokens."""
    server = ServerThread(ServeConfig(model=str(tiny_model[0]), port=0, parallel=4)).start()
    yield server
    server.stop()


def start_gated_cli(tiny_model, gate: str, **env_extra) -> tuple[subprocess.Popen, str]:
    """`nanochat serve` in a subprocess (options from NANOCHAT_* variables, as the CLI documents) whose model load or
    decode steps wait until a line is written to its stdin (tests/serve/gated_serve.py). Returns once it listens."""
    env = {**os.environ, "NANOCHAT_MODEL": str(tiny_model[0]), "NANOCHAT_PORT": "0", "NANOCHAT_TEST_GATE": gate,
           **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "tests.serve.gated_serve"], env=env, cwd=REPO,
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # port 0: the server names the port it bound in its first line
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError(f"the server exited before listening (status {proc.wait()})")


def wait_for_health(proc: subprocess.Popen, url: str, status: str, timeout: float = 120) -> dict:
    """Poll /health until it reports `status` (an observable state, not a guessed delay)."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.stderr.read()
        try:
            body = httpx.get(f"{url}/health", timeout=10).json()
            if body["status"] == status:
                return body
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"/health never said {status!r}"
        time.sleep(0.05)
