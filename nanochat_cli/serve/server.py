"""Run the server: listen first, load the model in a thread (/health says 503 meanwhile), drain on SIGTERM.

`serve(cfg)` is what `nanochat serve` calls; `ServerThread` runs the same server on a background
thread (tests, benchmarks, notebooks) and stops it with `.stop()`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
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
from nanochat_cli.serve.http_log import HttpErrorLog
from nanochat_cli.serve.state import STATE, ServerState

log = logging.getLogger(__name__)

BackendFactory = Callable[[ServeConfig], ServingBackend]


def default_backend_factory(cfg: ServeConfig) -> ServingBackend:
    from nanochat_cli.serve.engine_backend import load_engine_backend

    return load_engine_backend(cfg)


class RunningServer:
    """An app listening on a socket, with its model loading or loaded."""

    def __init__(self, cfg: ServeConfig, make_backend: BackendFactory, on_loaded: Callable[[], None] | None = None):
        """on_loaded: called on the loop once the model is loaded, before /health can answer 200."""
        self.cfg, self.make_backend, self.on_loaded = cfg, make_backend, on_loaded
        self.app = create_app(cfg)
        self.state: ServerState = self.app[STATE]
        self.runner: web.AppRunner | None = None
        self.port = cfg.port
        self.loaded = asyncio.Event()

    async def start(self) -> None:
        # handler_cancellation: a client that disconnects cancels its handler, which cancels its jobs.
        # keepalive_timeout: aiohttp closes a connection that has not sent a whole request head this long after
        # connecting (or after its last response): the header half of read_timeout (read_json does the body).
        # lingering_time: how long the unread rest of a refused body (408, 413) is drained before closing.
        self.runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None,
                                    keepalive_timeout=self.cfg.read_timeout, lingering_time=2.0,
                                    logger=HttpErrorLog(logging.getLogger("aiohttp.server")))
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
        # A daemon thread, not the loop's executor (which asyncio.run() and interpreter exit join): nothing ever
        # waits for a load the server no longer wants (a stop during the load, a failed start).
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()

        def load() -> None:
            try:
                backend = self.make_backend(self.cfg)
                # The worker's text and token-healing code loads torch on first use; do it here, so that 200 from
                # /health means a first request will not wait for an import (tens of seconds on a busy machine).
                importlib.import_module("nanochat_cli.infer.healing")
                importlib.import_module("nanochat_cli.infer.detok")
                result = (backend, None)
            except Exception as e:  # noqa: BLE001 (any load failure is reported by /health and the CLI)
                result = (None, e)
            try:
                loop.call_soon_threadsafe(lambda: done.done() or done.set_result(result))
            except RuntimeError:  # the server stopped while the model loaded: nobody is waiting for it
                pass

        threading.Thread(target=load, name="nanochat-load", daemon=True).start()
        backend, error = await done
        if self.state.status == "loading":  # not shut down meanwhile: never start a scheduler on a closing server
            if error is not None:
                self.state.status, self.state.load_error = "failed", str(error)
                log.error("model failed to load: %s", error)
            else:
                if self.on_loaded is not None:
                    self.on_loaded()
                self.state.attach(backend)
        self.loaded.set()

    async def drain(self, timeout: float) -> None:
        """Refuse new requests (503; the listener stays open), let in-flight ones finish for up to `timeout` s,
        cancel the rest, then close the listener."""
        state = self.state
        state.status = "shutting_down"
        sched = state.scheduler

        def busy() -> bool:  # jobs in slots or queued, or a handler still writing its response
            return state.generating > 0 or (sched is not None and sched.in_flight > 0)

        if sched is not None:
            sched.stop_accepting()
        deadline = time.monotonic() + timeout
        while busy() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if sched is not None:
            sched.cancel_all()
        # let handlers write their last chunk ([DONE] / the cancellation error) before sockets close
        deadline = time.monotonic() + 2.0
        while busy() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()
        state.text_pool.shutdown(wait=False, cancel_futures=True)
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
    # While the model loads there is nothing to drain, and the loading thread holds the GIL for seconds at a time
    # (dlopen of torch, building kernel layouts): a Python signal handler could not run before it let go. So
    # SIGTERM and SIGINT keep their default action (the process ends at once) until the model is loaded; then,
    # before /health says 200, they switch to the graceful drain.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    stop = asyncio.Event()

    def drain_on_signals() -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

    server = RunningServer(cfg, make_backend, on_loaded=drain_on_signals)
    await server.start()
    print(f"nanochat serve: listening on http://{cfg.host}:{server.port} (model loading; GET /health)",
          file=sys.stderr, flush=True)
    await server.loaded.wait()
    if server.state.status == "failed":
        await server.drain(0)
        raise NanochatError(f"model {cfg.model} failed to load: {server.state.load_error}")
    b = server.state.backend
    print(f"nanochat serve: model {b.model_id!r} ready: {b.n_slots} slots x {b.ctx} tokens", file=sys.stderr,
          flush=True)
    await stop.wait()
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

    def begin_drain(self, timeout: float = 30.0) -> concurrent.futures.Future:
        """Start what SIGTERM starts (503 to new requests, in-flight ones finish, then close); returns at once."""
        return asyncio.run_coroutine_threadsafe(self.server.drain(timeout), self._loop)

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
