"""llama.cpp's server conventions that fit a code model: GET /props, GET /slots, and GET /v1/models/{id}.

/props lets a client (the page, `nanochat eval --server`, llama.cpp front ends) read the context size before it
sends a request. /slots is off unless `--slots` is given, as in llama.cpp: it shows what others are generating.
"""

from __future__ import annotations

from aiohttp import web

from nanochat_cli import __version__
from nanochat_cli.serve.api_error import ApiError
from nanochat_cli.serve.state import STATE, ServerState


def model_object(state: ServerState) -> dict:
    b = state.backend
    return {"id": b.model_id, "object": "model", "created": state.created, "owned_by": "nanochat",
            "meta": {"n_ctx": b.ctx, "n_slots": b.n_slots, "n_vocab": b.vocab_size}}


async def models(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    state.ready_backend()
    return web.json_response({"object": "list", "data": [model_object(state)]})


async def model_by_id(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    b = state.ready_backend()
    wanted = request.match_info["model_id"]
    if wanted != b.model_id:
        raise ApiError(404, f"the model '{wanted}' does not exist; this server serves '{b.model_id}' "
                            "(GET /v1/models)", "model_not_found", "model")
    return web.json_response(model_object(state))


async def props(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    b = state.ready_backend()
    fim = state.fim
    return web.json_response({
        "model_alias": b.model_id,
        "n_ctx": b.ctx,  # also under default_generation_settings, where llama.cpp puts it
        "total_slots": b.n_slots,
        "default_generation_settings": {
            "n_ctx": b.ctx,
            "params": {"n_predict": 16, "temperature": 1.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0,
                       "max_tokens_limit": state.max_tokens_limit},
        },
        "chat_template": state.chat_template.source,  # the template in use: the model's, or the default
        "chat_template_is_default": state.chat_template.is_default,
        "bos_token": b.bos_token,
        "eos_token": b.eos_token,
        "fim": {"tokens": fim.tokens is not None, "trained": fim.trained, "note": fim.note},
        "endpoint_slots": state.cfg.slots,
        "build_info": f"nanochat {__version__}",
    })


async def slots(request: web.Request) -> web.Response:
    state: ServerState = request.app[STATE]
    if not state.cfg.slots:
        raise ApiError(501, "the /slots endpoint is disabled; start the server with --slots to enable it",
                       "not_supported")
    state.ready_backend()
    return web.json_response(state.scheduler.slot_snapshot())


def add_info_routes(app: web.Application) -> None:
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model_id}", model_by_id)
    app.router.add_get("/props", props)
    app.router.add_get("/slots", slots)
