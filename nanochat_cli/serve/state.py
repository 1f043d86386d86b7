"""ServerState: what every handler shares (config, metrics, the backend once loaded, the scheduler)."""

from __future__ import annotations

import json
import time

from aiohttp import web

from nanochat_cli.serve.api_error import ApiError, bad_request
from nanochat_cli.serve.backend import ServingBackend
from nanochat_cli.serve.chat_template import ChatTemplate
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.metrics import ServerMetrics
from nanochat_cli.serve.scheduler import Scheduler


class ServerState:
    """Everything the handlers share: config, metrics, and (once loaded) the backend and its scheduler."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.metrics = ServerMetrics()
        self.status = "loading"  # loading -> ok -> shutting_down | failed
        self.load_error: str | None = None
        self.backend: ServingBackend | None = None
        self.scheduler: Scheduler | None = None
        self.chat_template: ChatTemplate | None = None
        self.created = int(time.time())

    def attach(self, backend: ServingBackend) -> None:
        self.backend = backend
        self.chat_template = ChatTemplate(backend.chat_template, backend.bos_token, backend.eos_token)
        self.scheduler = Scheduler(backend, self.metrics, self.cfg.max_queue, self.cfg.prefill_chunk)
        self.scheduler.start()
        self.status = "ok"

    @property
    def max_tokens_limit(self) -> int:
        ctx = self.backend.ctx
        return min(self.cfg.max_tokens_limit, ctx) if self.cfg.max_tokens_limit > 0 else ctx

    def ready_backend(self) -> ServingBackend:
        if self.status == "loading":
            raise ApiError(503, "the model is still loading; retry when GET /health answers 200", "loading")
        if self.status == "shutting_down":
            raise ApiError(503, "the server is shutting down", "shutting_down")
        if self.status == "failed":
            raise ApiError(503, f"the model failed to load: {self.load_error}", "load_failed")
        return self.backend

    async def read_json(self, request: web.Request) -> dict:
        if request.content_length is not None and request.content_length > self.cfg.max_body_bytes:
            raise too_large(self.cfg.max_body_bytes)
        raw = await request.read()  # aiohttp stops at client_max_size with HTTPRequestEntityTooLarge
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise bad_request(f"the request body is not valid JSON: {e}", None, "invalid_json") from e
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object", None, "invalid_json")
        return body

    def prompt_ids(self, prompt: str | list[int]) -> list[int]:
        """Token ids of a prompt; ids given directly are range-checked; an empty prompt starts at <|endoftext|>."""
        b = self.backend
        if isinstance(prompt, str):
            ids = b.encode(prompt)
        else:
            bad = next((t for t in prompt if not 0 <= t < b.vocab_size), None)
            if bad is not None:
                raise bad_request(f"token id {bad} is outside the vocabulary (0..{b.vocab_size - 1})", "prompt")
            ids = list(prompt)
        return ids or [min(b.eos_ids)]


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body exceeds {limit} bytes; send a smaller request", "request_too_large")



STATE = web.AppKey("state", ServerState)
