"""The playground page (GET /): content types, caching, same-origin-only JS, its place beside --api-key, and the
Rust highlighter run under node; CORS off by default and on with --cors, preflight included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources

import httpx
import pytest

from tests.serve.conftest import sse_json, start_bigram_server

STATIC = resources.files("nanochat_cli.serve") / "static"


def test_page_is_html_with_revalidating_cache_headers(bigram_server):
    server, _ = bigram_server
    r = httpx.get(f"{server.url}/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "<title>nanochat playground</title>" in r.text
    etag = r.headers["ETag"]
    again = httpx.get(f"{server.url}/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag


@pytest.mark.parametrize("name,ctype", [("page.js", "text/javascript"), ("rust_highlight.js", "text/javascript"),
                                        ("page.css", "text/css")])
def test_static_files_have_their_content_types(bigram_server, name, ctype):
    server, _ = bigram_server
    r = httpx.get(f"{server.url}/static/{name}")
    assert r.status_code == 200 and r.headers["Content-Type"] == f"{ctype}; charset=utf-8"
    assert r.headers["ETag"] and r.headers["Cache-Control"] == "no-cache"
    assert httpx.get(f"{server.url}/static/{name}", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_unknown_static_file_is_a_json_404(bigram_server):
    server, _ = bigram_server
    r = httpx.get(f"{server.url}/static/../app.py")
    assert r.status_code == 404
    assert httpx.get(f"{server.url}/static/nope.js").json()["error"]["code"] == "not_found"


def test_page_references_only_same_origin_urls():
    """No CDN and no absolute URL: every src/href and every fetch() is a relative path on this server."""
    html = (STATIC / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(not re.match(r"^[a-z]+:|^//", u) for u in refs), refs
    for f in STATIC.iterdir():
        text = f.read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), f.name
        if f.name.endswith(".js"):
            for target in re.findall(r"fetch\(\s*([^,)]+)", text):
                assert target.strip().startswith(("\"v1/", "'v1/", "isChat")), target


def test_page_is_open_but_the_api_needs_the_key():
    server, _ = start_bigram_server(api_key="s3cret", parallel=1)
    try:
        assert httpx.get(f"{server.url}/").status_code == 200
        assert httpx.get(f"{server.url}/static/page.js").status_code == 200
        assert httpx.get(f"{server.url}/v1/models").status_code == 401
        assert httpx.get(f"{server.url}/props").status_code == 401
        ok = httpx.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    finally:
        server.stop()


def test_page_keeps_the_key_in_session_storage_only():
    js = (STATIC / "page.js").read_text()
    assert "sessionStorage" in js and "localStorage" not in js and "document.cookie" not in js


# ---- the highlighter, run by node ----

@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (apt-get install nodejs)")
def test_rust_highlighter_marks_keywords_strings_comments_and_escapes_html():
    src = 'fn main() { let s = "<b>fn</b>"; // if x < 1\n    println!("{}", 42u8); }'
    script = (STATIC / "rust_highlight.js").read_text() + f"\nprocess.stdout.write(highlightRust({json.dumps(src)}));"
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, check=True).stdout
    assert '<span class="tok-kw">fn</span> main()' in out
    assert '<span class="tok-kw">let</span>' in out
    assert '<span class="tok-str">&quot;&lt;b&gt;fn&lt;/b&gt;&quot;</span>' in out  # no keyword inside a string
    assert '<span class="tok-com">// if x &lt; 1</span>' in out
    assert '<span class="tok-mac">println!</span>' in out and '<span class="tok-num">42u8</span>' in out
    assert "<b>" not in out
    plain = re.sub(r"<[^>]+>", "", out).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert plain.replace("&amp;", "&") == src


# ---- CORS ----

def test_cors_is_off_by_default(bigram_server):
    server, _ = bigram_server
    r = httpx.get(f"{server.url}/v1/models", headers={"Origin": "http://elsewhere.test"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    pre = httpx.options(f"{server.url}/v1/completions", headers={
        "Origin": "http://elsewhere.test", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 405 and "Access-Control-Allow-Origin" not in pre.headers


def test_cors_origin_gets_headers_preflight_and_streams_others_do_not():
    server, _ = start_bigram_server(cors=["http://localhost:3000"], api_key="k", parallel=1, eos_boost=-100.0)
    origin = {"Origin": "http://localhost:3000"}
    try:
        pre = httpx.options(f"{server.url}/v1/chat/completions", headers={
            **origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert pre.status_code == 204  # before the key check: browsers send no credentials on a preflight
        assert pre.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "POST" in pre.headers["Access-Control-Allow-Methods"]
        assert "authorization" in pre.headers["Access-Control-Allow-Headers"].lower()
        denied = httpx.get(f"{server.url}/v1/models", headers=origin)  # a 401 a page can read
        assert denied.status_code == 401 and denied.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        auth = {**origin, "Authorization": "Bearer k"}
        stream = httpx.post(f"{server.url}/v1/completions", headers=auth, timeout=30,
                            json={"prompt": "fn", "max_tokens": 3, "stream": True})
        assert stream.status_code == 200 and stream.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert sse_json(stream.content)[-1]["choices"][0]["finish_reason"] == "length"
        other = httpx.get(f"{server.url}/v1/models", headers={"Origin": "http://evil.test", "Authorization": "Bearer k"})
        assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    finally:
        server.stop()
