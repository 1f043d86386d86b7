"""The playground in a real headless Chromium, driven over the DevTools protocol (aiohttp's websocket client):
type a prompt, stream a completion, stop a stream, and read the highlighted code, tokens/s and finish reason from
the DOM. Needs Debian's `chromium` (`apt-get install chromium`); skipped without it.
NANOCHAT_SCREENSHOT_DIR=docs also saves the page as docs/serve_page.png."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.serve.conftest import start_bigram_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium")]


class Page:
    """One browser tab over the DevTools protocol: `evaluate(js)` returns the expression's value."""

    def __init__(self, ws):
        self.ws, self.ids = ws, itertools.count(1)

    async def send(self, method: str, **params) -> dict:
        i = next(self.ids)
        await self.ws.send_json({"id": i, "method": method, "params": params})
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg.get("id") == i:
                assert "error" not in msg, msg
                return msg["result"]

    async def evaluate(self, js: str):
        r = await self.send("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    async def wait_for(self, js: str, timeout: float = 60.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(js)
            if value:
                return value
            assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {js}"
            await asyncio.sleep(0.1)


def drive(url: str, profile: Path, shot: Path | None, model_id: str = "bigram-test") -> dict:
    """Load the page in a fresh headless Chromium, run a completion and a stopped stream; what the DOM showed."""
    proc = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1200,900",
                             "about:blank"], stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stderr:
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                port = m.group(1)
                break
        assert port, "chromium did not start its DevTools endpoint"
        return asyncio.run(_drive(port, url, shot, model_id))
    finally:
        proc.kill()
        proc.wait()


async def _drive(port: str, url: str, shot: Path | None, model_id: str) -> dict:
    async with aiohttp.ClientSession() as http:
        targets = await (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            page = Page(ws)
            await page.send("Page.enable")
            await page.send("Page.navigate", url=url + "/")
            await page.wait_for("document.readyState === 'complete' && !!window.highlightRust")
            await page.wait_for(f"document.getElementById('model').textContent.includes({json.dumps(model_id)})")
            out = {}
            # a whole streamed completion
            await page.evaluate("""(() => {
                document.getElementById('prompt').value = 'fn main() {\\n    let x = 1;';
                document.getElementById('max_tokens').value = '12';
                document.getElementById('send').click(); })()""")
            out["finish"] = await page.wait_for(
                "(() => { const f = document.getElementById('finish').textContent;"
                " return f !== '…' && f !== '–' ? f : null; })()")
            out["tps"] = await page.evaluate("document.getElementById('tps').textContent")
            out["keywords"] = await page.evaluate(
                "[...document.querySelectorAll('#output .tok-kw')].map(e => e.textContent)")
            out["copy"] = await page.evaluate("!!document.querySelector('#output .codeblock button.copy')")
            out["code"] = await page.evaluate("document.querySelector('#output code').textContent")
            if shot is not None:
                png = await page.send("Page.captureScreenshot", format="png")
                shot.write_bytes(base64.b64decode(png["data"]))
            # a long stream, stopped midway
            await page.evaluate("""(() => {
                document.getElementById('max_tokens').value = '200';
                document.getElementById('send').click(); })()""")
            await page.wait_for("!document.getElementById('stop').disabled")
            await page.wait_for("document.querySelector('#output code').textContent.length > 40")
            await page.evaluate("document.getElementById('stop').click()")
            out["stopped"] = await page.wait_for(
                "document.getElementById('finish').textContent === 'stopped' && "
                "!document.getElementById('send').disabled")
            return out


def test_page_streams_highlights_and_stops_in_chromium(tmp_path):
    # step_delay: a slow stream the stop button can catch mid-way; eos_boost < 0: no early end
    server, _ = start_bigram_server(parallel=2, eos_boost=-100.0, step_delay=0.02)
    shot_dir = os.environ.get("NANOCHAT_SCREENSHOT_DIR")
    shot = Path(shot_dir) / "serve_page.png" if shot_dir else tmp_path / "page.png"
    try:
        out = drive(server.url, tmp_path / "profile", shot)
    finally:
        server.stop()
    assert out["finish"] == "length"
    assert re.fullmatch(r"\d+(\.\d)? tok/s", out["tps"]), out["tps"]
    assert {"fn", "let"} <= set(out["keywords"]) and out["copy"]
    assert out["code"].startswith("fn main() {\n    let x = 1;") and len(out["code"]) > len("fn main() {\n    let x = 1;")
    assert out["stopped"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
