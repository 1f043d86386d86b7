"""The playground page: `GET /` and `GET /static/NAME`, files shipped in serve/static/ (plain HTML, CSS and JS).

Served with their content types, a strong ETag (sha256 of the bytes) and `Cache-Control: no-cache`, so a
browser revalidates (304) and never runs a stale page after an upgrade. The page and its files need no API key
(they hold no data); every API call the page makes carries the key the user types (kept in sessionStorage).
A Content-Security-Policy of 'self' keeps the page to this server: no CDN, no third-party requests.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from aiohttp import web

from nanochat_cli.serve.api_error import ApiError

CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


class StaticFile:
    def __init__(self, name: str, body: bytes):
        self.body = body
        self.content_type = CONTENT_TYPES[name[name.rindex("."):]]
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def load_static() -> dict[str, StaticFile]:
    root = resources.files("nanochat_cli.serve") / "static"
    return {f.name: StaticFile(f.name, f.read_bytes()) for f in root.iterdir()
            if f.is_file() and "." in f.name and f.name[f.name.rindex("."):] in CONTENT_TYPES}


STATIC = load_static()


PAGE_ROUTES = frozenset({"/", "/static/{name}"})


def is_page_request(request: web.Request) -> bool:
    """Whether the request was routed to the page or its files (by the route matched, not by a path prefix)."""
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical in PAGE_ROUTES


def _respond(request: web.Request, f: StaticFile) -> web.Response:
    headers = {**PAGE_HEADERS, "ETag": f.etag}
    if f.etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=f.body, headers=headers, content_type=f.content_type, charset="utf-8")


async def index(request: web.Request) -> web.Response:
    return _respond(request, STATIC["index.html"])


async def static_file(request: web.Request) -> web.Response:
    f = STATIC.get(request.match_info["name"])
    if f is None:
        raise ApiError(404, f"no static file {request.path}", "not_found")
    return _respond(request, f)


def add_page_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static_file)
