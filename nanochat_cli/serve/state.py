"""ServerState: what every handler shares (config, metrics, the backend once loaded, the scheduler)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from nanochat_cli.serve.api_error import ApiError, bad_request
from nanochat_cli.serve.backend import ServingBackend
from nanochat_cli.serve.chat_template import ChatTemplate
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.infill import FimSupport
from nanochat_cli.serve.prometheus import ServerMetrics
from nanochat_cli.serve.scheduler import Scheduler

# Tokenizing, detokenizing and chat templating run on this many threads, never on the event loop: a 900 KB
# prompt takes seconds to tokenize, and /health must answer meanwhile. Hugging Face tokenizers release the GIL
# in their batch calls (see EngineBackend.encode); Jinja is Python and yields the GIL every switch interval.
TEXT_THREADS = 4
# `\ud800`..`\udfff` escapes: the only way a JSON body can carry a lone surrogate (raw bytes must be UTF-8).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


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
        self.fim: FimSupport | None = None
        self.created = int(time.time())
        self.text_pool = ThreadPoolExecutor(TEXT_THREADS, thread_name_prefix="nanochat-text")
        self.generating = 0  # completion requests between admission and their last byte; the drain waits on them

    def attach(self, backend: ServingBackend) -> None:
        self.backend = backend
        self.chat_template = ChatTemplate(backend.chat_template, backend.bos_token, backend.eos_token)
        self.fim = FimSupport.of(backend)
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

    async def off_loop(self, fn, *args):
        """fn(*args) on the text threads: tokenizer and template work never blocks the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.text_pool, fn, *args)

    async def read_json(self, request: web.Request) -> dict:
        if request.content_length is not None and request.content_length > self.cfg.max_body_bytes:
            raise too_large(self.cfg.max_body_bytes)
        try:
            # aiohttp stops at client_max_size with HTTPRequestEntityTooLarge
            raw = await asyncio.wait_for(request.read(), self.cfg.read_timeout)
        except TimeoutError:
            raise ApiError(408, f"the request body did not arrive within {self.cfg.read_timeout:g} s "
                                "(read_timeout); send it faster", "request_timeout") from None
        return parse_json_body(raw)

    def prompt_ids(self, prompt: str | list[int]) -> list[int]:
        """Token ids of a prompt; ids given directly are range-checked; an empty prompt starts at <|endoftext|>.
        Tokenizing takes long on a long prompt: call it through off_loop."""
        b = self.backend
        if isinstance(prompt, str):
            ids = b.encode(prompt)
        else:
            bad = next((t for t in prompt if not 0 <= t < b.vocab_size), None)
            if bad is not None:
                raise bad_request(f"token id {bad} is outside the vocabulary (0..{b.vocab_size - 1})", "prompt")
            ids = list(prompt)
        return ids or [min(b.eos_ids)]


def parse_json_body(raw: bytes) -> dict:
    """A request body as a JSON object; anything a JSON parser rejects, or text no tokenizer can take, is a 400."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise bad_request("the request body nests arrays or objects too deeply", None, "invalid_json") from None
    except UnicodeDecodeError as e:
        raise bad_request(f"the request body is not valid UTF-8: {e}", None, "invalid_json") from None
    except json.JSONDecodeError as e:
        raise bad_request(f"the request body is not valid JSON: {e}", None, "invalid_json") from None
    except ValueError as e:  # Python refuses to convert integers of more than sys.get_int_max_str_digits() digits
        raise bad_request(f"a number in the request body is too long: {e}", None, "invalid_json") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None, "invalid_json")
    if _SURROGATE_ESCAPE.search(raw):  # rare: only then walk the body (escaped emoji pairs are fine)
        where = _lone_surrogate(body)
        if where is not None:
            raise bad_request(f"{where or 'the request body'} holds a lone UTF-16 surrogate (an unpaired "
                              "\\ud800-\\udfff escape), which is not text; send valid Unicode", where or None,
                              "invalid_unicode")
    return body


def _lone_surrogate(body) -> str | None:
    """The path of the first string (or key) holding an unpaired surrogate, e.g. 'messages[0].content'; None if none.
    Iterative: a body may nest as deep as the JSON parser allows."""
    stack = [(body, "")]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return path
        elif isinstance(v, dict):
            for k, x in v.items():
                sub = f"{path}.{k}" if path else k
                stack.append((k, path))
                stack.append((x, sub))
        elif isinstance(v, list):
            stack.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
    return None


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body exceeds {limit} bytes; send a smaller request", "request_too_large")



STATE = web.AppKey("state", ServerState)
