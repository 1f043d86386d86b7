"""Run the server: listen first, load the model in a thread (/health says 503 meanwhile), drain on SIGTERM.

`serve(cfg)` is what `nanochat serve` calls; `ServerThread` runs the same server on a background
thread (tests, benchmarks, notebooks) and stops it with `.stop()`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from nanochat_cli.errors import NanochatError
from nanochat_cli.serve.app import create_app
from nanochat_cli.serve.backend import ServingBackend
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.state import STATE, ServerState

log = logging.getLogger(__name__)

BackendFactory = Callable[[ServeConfig], ServingBackend]


def default_backend_factory(cfg: ServeConfig) -> ServingBackend:
    from nanochat_cli.serve.engine_backend import load_engine_backend

    return load_engine_backend(cfg)


class RunningServer:
    """An app listening on a socket, with its model loading or loaded."""

    def __init__(self, cfg: ServeConfig, make_backend: BackendFactory):
        self.cfg, self.make_backend = cfg, make_backend
        self.app = create_app(cfg)
        self.state: ServerState = self.app[STATE]
        self.runner: web.AppRunner | None = None
        self.port = cfg.port
        self.loaded = asyncio.Event()

    async def start(self) -> None:
        # handler_cancellation: a client that disconnects cancels its handler, which cancels its jobs.
        self.runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.cfg.host, self.cfg.port)
        try:
            await site.start()
        except OSError as e:
            await self.runner.cleanup()
            raise NanochatError(f"cannot listen on {self.cfg.host}:{self.cfg.port} ({e.strerror}); "
                                "pick another --port or stop the other server") from None
        self.port = self.runner.addresses[0][1]
        asyncio.get_running_loop().create_task(self._load())

    async def _load(self) -> None:
        try:
            backend = await asyncio.get_running_loop().run_in_executor(None, self.make_backend, self.cfg)
            self.state.attach(backend)
        except Exception as e:  # noqa: BLE001 (any load failure is reported by /health and the CLI)
            self.state.status, self.state.load_error = "failed", str(e)
            log.error("model failed to load: %s", e)
        self.loaded.set()

    async def drain(self, timeout: float) -> None:
        """Refuse new requests, let in-flight ones finish for up to `timeout` s, cancel the rest, close."""
        self.state.status = "shutting_down"
        sched = self.state.scheduler
        if sched is not None:
            sched.stop_accepting()
            deadline = time.monotonic() + timeout
            while sched.in_flight and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            sched.cancel_all()
            # let handlers write their last chunk ([DONE] / the cancellation error) before sockets close
            deadline = time.monotonic() + 2.0
            while sched.in_flight and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        if self.runner is not None:
            await self.runner.cleanup()
        if sched is not None:
            await asyncio.get_running_loop().run_in_executor(None, sched.shutdown)


def serve(cfg: ServeConfig, make_backend: BackendFactory = default_backend_factory) -> None:
    """Serve until SIGTERM / SIGINT, then drain gracefully (`cfg.shutdown_timeout`) and return.

    A model that fails to load stops the server with a NanochatError naming the reason.
    """
    if make_backend is default_backend_factory:
        check_model_path(cfg.model)
    asyncio.run(_serve_forever(cfg, make_backend))


def check_model_path(model: str) -> None:
    if not model:
        raise NanochatError("no model given: pass MODEL (a .gguf written by `nanochat export`, or a checkpoint "
                            "directory) or set NANOCHAT_MODEL")
    if not Path(model).expanduser().exists():
        raise NanochatError(f"model {model} not found: pass a .gguf written by `nanochat export` or a checkpoint "
                            "directory")


async def _serve_forever(cfg: ServeConfig, make_backend: BackendFactory) -> None:
    server = RunningServer(cfg, make_backend)
    await server.start()
    print(f"nanochat serve: listening on http://{cfg.host}:{server.port} (model loading; GET /health)",
          file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loaded = loop.create_task(server.loaded.wait())
    stopped = loop.create_task(stop.wait())
    await asyncio.wait({loaded, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if server.state.status == "failed":
        await server.drain(0)
        raise NanochatError(f"model {cfg.model} failed to load: {server.state.load_error}")
    if server.state.status == "ok":
        b = server.state.backend
        print(f"nanochat serve: model {b.model_id!r} ready: {b.n_slots} slots x {b.ctx} tokens",
              file=sys.stderr, flush=True)
    await stopped
    print("nanochat serve: shutting down (finishing in-flight requests)", file=sys.stderr, flush=True)
    await server.drain(cfg.shutdown_timeout)


class ServerThread:
    """The server on a background thread with its own event loop: `with ServerThread(cfg, factory) as s: s.url`."""

    def __init__(self, cfg: ServeConfig, make_backend: BackendFactory = default_backend_factory):
        self.cfg, self.make_backend = cfg, make_backend
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nanochat-serve", daemon=True)
        self.server: RunningServer | None = None

    def start(self, wait_loaded: bool = True, timeout: float = 120.0) -> ServerThread:
        self._thread.start()
        self.server = RunningServer(self.cfg, self.make_backend)
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout)
        if wait_loaded:
            asyncio.run_coroutine_threadsafe(self.server.loaded.wait(), self._loop).result(timeout)
            if self.server.state.status != "ok":
                self.stop()
                raise NanochatError(f"the model failed to load: {self.server.state.load_error}")
        return self

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.server.port}"

    @property
    def state(self) -> ServerState:
        return self.server.state

    def stop(self, timeout: float = 5.0) -> None:
        if self.server is not None and self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.drain(timeout), self._loop).result(timeout + 10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()  # its selector and self-pipe descriptors, one set per server started

    def __enter__(self) -> ServerThread:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
