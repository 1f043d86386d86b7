"""Fixtures: servers on free loopback ports (port 0), backed by the bigram test double or the real engine."""

from __future__ import annotations

import json

import httpx
import pytest

from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.server import ServerThread
from tests.serve.bigram_backend import BigramBackend


def start_bigram_server(**overrides) -> tuple[ServerThread, BigramBackend]:
    backend_kw = {k: overrides.pop(k) for k in ("eos_boost", "step_delay", "ctx", "poison_token") if k in overrides}
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
