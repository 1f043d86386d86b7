"""`python -m tests.serve.gated_serve`: the real `nanochat serve` (CLI, env vars, engine) with a gate a test opens.

NANOCHAT_TEST_GATE=load: the model load waits for the gate; =decode: every batched decode step waits for it (a
stream has its first token, from prefill, then stays in flight). Any line on stdin opens the gate. Tests use it
to hold the server in a state (loading, streaming) for as long as they need, instead of racing it with sleeps.
"""

from __future__ import annotations

import os
import sys
import threading

from nanochat_cli.serve import engine_backend

GATE = threading.Event()
_real_load = engine_backend.load_engine_backend


def _open_on_stdin() -> None:
    if sys.stdin.readline():
        GATE.set()


def gated_load(cfg):
    which = os.environ.get("NANOCHAT_TEST_GATE", "")
    if which == "load":
        GATE.wait()
    backend = _real_load(cfg)
    if which == "decode":
        decode = backend.decode

        def gated_decode(slots, tokens):
            GATE.wait()
            return decode(slots, tokens)

        backend.decode = gated_decode
    return backend


if __name__ == "__main__":
    threading.Thread(target=_open_on_stdin, daemon=True).start()
    engine_backend.load_engine_backend = gated_load  # server.default_backend_factory looks it up at each call
    from nanochat_cli import cli

    sys.argv = ["nanochat", "serve"]
    cli.main()
