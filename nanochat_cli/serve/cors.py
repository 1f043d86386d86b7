"""Cross-origin access: `--cors ORIGIN` (repeatable, or `*`) lets other web front ends call the API; off by default.

With no origin configured the server sends no Access-Control-* header, so browsers keep other sites' pages off
it. A preflight (`OPTIONS` with Access-Control-Request-Method) from an allowed origin is answered 204 here,
before the API-key check: browsers never send credentials on a preflight.
"""

from __future__ import annotations

from aiohttp import web

from nanochat_cli.serve.state import STATE

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, X-Api-Key"
MAX_AGE_S = "600"


def allowed_origin(origins: list[str], origin: str | None) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this origin gets no CORS headers."""
    if not origin or not origins:
        return None
    if "*" in origins:
        return "*"
    return origin if origin.rstrip("/") in origins else None


@web.middleware
async def cors_middleware(request: web.Request, handler):
    allow = allowed_origin(request.app[STATE].cfg.cors, request.headers.get("Origin"))
    if allow is None:
        return await handler(request)
    cors = {"Access-Control-Allow-Origin": allow, "Vary": "Origin"}
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers={**cors, "Access-Control-Allow-Methods": ALLOW_METHODS,
                                                 "Access-Control-Allow-Headers": ALLOW_HEADERS,
                                                 "Access-Control-Max-Age": MAX_AGE_S})
    try:
        resp = await handler(request)
    except web.HTTPException as e:  # never raised past error_middleware, but keep the headers if one is
        e.headers.update(cors)
        raise
    if not resp.prepared:  # an SSE stream sent its headers already: open_sse adds them (see sse.py)
        resp.headers.update(cors)
    return resp


def cors_headers(request: web.Request) -> dict[str, str]:
    """The CORS headers for a response prepared inside a handler (an SSE stream)."""
    allow = allowed_origin(request.app[STATE].cfg.cors, request.headers.get("Origin"))
    return {} if allow is None else {"Access-Control-Allow-Origin": allow, "Vary": "Origin"}
