"""Server-sent events as OpenAI clients parse them: `data: {json}\\n\\n`, `data: [DONE]\\n\\n`, `: ping` comments."""

from __future__ import annotations

import json

from aiohttp import web

from nanochat_cli.serve.cors import cors_headers

DONE = b"data: [DONE]\n\n"
PING = b": ping\n\n"


def sse_data(obj: dict) -> bytes:
    # Compact JSON on one line: a newline inside would end the SSE field.
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


async def open_sse(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(status=200, headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",  # reverse proxies must not buffer a token stream
        **cors_headers(request),  # prepared here, before the CORS middleware sees the response
    })
    await resp.prepare(request)
    return resp
