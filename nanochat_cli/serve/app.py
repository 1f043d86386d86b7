"""The aiohttp application: routes, CORS, API-key and error middleware, health / tokenize / metrics.

`create_app(cfg)` returns an app whose model is attached later by `ServerState.attach` (see server.py),
so /health can answer 503 while the model loads.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading

from aiohttp import web

from nanochat_cli.serve.api_error import ApiError, bad_request
from nanochat_cli.serve.completions import handle_chat, handle_completions, handle_infill
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.cors import cors_middleware
from nanochat_cli.serve.page import add_page_routes, is_page_request
from nanochat_cli.serve.server_info import add_info_routes
from nanochat_cli.serve.state import STATE, ServerState, too_large

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})  # answered without an API key, so load balancers can probe
_JSON_SLICE = 8192  # token ids (or id-piece objects) per json.dumps call: ~1 ms of GIL each
_TOKENS_TO_JSON = threading.Lock()


# ---- middleware ----

@web.middleware
async def error_middleware(request: web.Request, handler):
    state: ServerState = request.app[STATE]
    resource = request.match_info.route.resource
    endpoint = resource.canonical if resource is not None else "unmatched"
    try:
        resp = await handler(request)
    except ApiError as e:
        resp = e.response()
    except web.HTTPRequestEntityTooLarge:
        resp = too_large(state.cfg.max_body_bytes).response()
    except web.HTTPException as e:  # no such route (404), wrong method (405)
        if e.status < 400:
            raise
        resp = ApiError(e.status, f"{request.method} {request.path}: {e.reason}",
                        "not_found" if e.status == 404 else "method_not_allowed").response()
    except Exception as e:
        log.exception("unhandled error in %s", request.path)
        resp = ApiError(500, f"internal error: {type(e).__name__}", "internal_error").response()
    if resp.status == 408:  # the rest of a body that came too slowly is not worth waiting for
        resp.force_close()
    state.metrics.requests.labels(endpoint, str(resp.status)).inc()
    return resp


@web.middleware
async def api_key_middleware(request: web.Request, handler):
    key = request.app[STATE].cfg.api_key
    # The page and its files are open (they hold no data): the page asks for the key and sends it on API calls.
    if key and request.path not in OPEN_PATHS and not is_page_request(request):
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else request.headers.get("X-Api-Key")
        if not given:
            raise ApiError(401, "missing API key: send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'",
                           "missing_api_key")
        if not hmac.compare_digest(given.encode(), key.encode()):  # constant time: no timing oracle on the key
            raise ApiError(401, "invalid API key", "invalid_api_key")
    return await handler(request)


# ---- small endpoints ----

async def health(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    body = {"status": state.status}
    if state.scheduler is not None:
        body.update(slots_idle=state.scheduler.n_slots - state.scheduler.busy_slots,
                    slots_processing=state.scheduler.busy_slots, queue_depth=state.scheduler.queue_depth)
    if state.load_error:
        body["error"] = state.load_error
    return web.json_response(body, status=200 if state.status == "ok" else 503)


async def tokenize(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    b = state.ready_backend()
    body = await state.read_json(request)
    content = body.get("content")
    if not isinstance(content, str):
        raise bad_request("'content' must be a string", "content", "invalid_type")

    def encode() -> bytes:  # on the text threads: a 1 MB body is seconds of tokenizing
        ids = b.encode(content)
        tokens = [{"id": t, "piece": b.token_text(t)} for t in ids] if body.get("with_pieces") is True else ids
        return tokens_json(tokens)

    return web.Response(body=await state.off_loop(encode), content_type="application/json")


def tokens_json(tokens: list) -> bytes:
    """json.dumps({"tokens": tokens}).encode(), byte for byte, built a slice at a time on one text thread at a time.

    One json.dumps of the 400k ids of a 900 KB body holds the GIL for 60 ms without a break; slices hold it ~1 ms
    each, and the lock keeps the other text threads off the GIL meanwhile, so the event loop gets it within one slice.
    """
    with _TOKENS_TO_JSON:
        items = (json.dumps(tokens[i:i + _JSON_SLICE])[1:-1] for i in range(0, len(tokens), _JSON_SLICE))
        return ('{"tokens": [' + ", ".join(items) + "]}").encode()


async def detokenize(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    b = state.ready_backend()
    body = await state.read_json(request)
    tokens = body.get("tokens")
    if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
        raise bad_request("'tokens' must be a list of token ids", "tokens", "invalid_type")
    bad = next((t for t in tokens if not 0 <= t < b.vocab_size), None)
    if bad is not None:
        raise bad_request(f"token id {bad} is outside the vocabulary (0..{b.vocab_size - 1})", "tokens")
    return web.json_response({"content": await state.off_loop(b.decode_text, tokens)})


async def metrics(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    return web.Response(body=state.metrics.render(), headers={"Content-Type": state.metrics.content_type})


def create_app(cfg: ServeConfig) -> web.Application:
    # client_max_size makes aiohttp itself refuse an oversized body while reading it.
    # CORS first: a preflight is answered before the key check, and error responses get the headers too.
    app = web.Application(middlewares=[cors_middleware, error_middleware, api_key_middleware],
                          client_max_size=cfg.max_body_bytes)
    app[STATE] = ServerState(cfg)
    app.router.add_get("/health", health)
    add_page_routes(app)
    add_info_routes(app)
    app.router.add_post("/v1/completions", handle_completions)
    app.router.add_post("/infill", handle_infill)
    app.router.add_post("/v1/chat/completions", handle_chat)
    app.router.add_post("/tokenize", tokenize)
    app.router.add_post("/detokenize", detokenize)
    app.router.add_get("/metrics", metrics)
    return app
