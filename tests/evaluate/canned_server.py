"""A tiny OpenAI-style /v1/completions server for tests: answers each prompt with a canned completion.

Runs an aiohttp app on a free loopback port in a background thread; records every request body and
Authorization header so tests can check what the client sent.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Self

from aiohttp import web


class CannedCompletionServer:
    def __init__(self, answers: dict[str, str], default: str = "    unimplemented!()\n}\n",
                 api_key: str | None = None, fail_first: int = 0, model: str = "canned-model",
                 fail_status: int = 503):
        self.answers, self.default, self.api_key, self.model = answers, default, api_key, model
        self.fail_first = fail_first  # answer fail_status to this many requests first (to test retries)
        self.fail_status = fail_status
        self.requests: list[dict] = []
        self.auth: list[str | None] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    async def _completions(self, request: web.Request) -> web.Response:
        self.auth.append(request.headers.get("Authorization"))
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "bad key", "type": "auth", "code": 401}}, status=401)
        body = await request.json()
        self.requests.append(body)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.json_response({"error": {"message": "busy", "type": "server", "code": self.fail_status}},
                                     status=self.fail_status)
        text = self.answers.get(body["prompt"], self.default)
        return web.json_response({
            "id": "cmpl-test", "object": "text_completion", "model": body.get("model"),
            "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())},
        })

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "test server did not start"
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
