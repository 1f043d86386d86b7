"""`nanochat serve`: an OpenAI-compatible HTTP server (aiohttp) with SSE streaming and continuous batching.

Run `nanochat serve model.gguf --port 8080`, then point any OpenAI client at http://127.0.0.1:8080/v1.

Modules: config (ServeConfig), request_schema (validation), chat_template, scheduler (slots, worker thread,
batching; each slot steps infer's SequenceDecode: sampling, UTF-8-safe text, stop strings), engine_backend (the infer engine behind
the ServingBackend protocol), completions (the generation endpoints, /infill included), infill (FIM prompts and
whether the model was trained for them), server_info (llama.cpp's /props, /slots, /v1/models/{id}), page (the
playground at GET /, files in static/), cors (--cors), app (routes, auth, errors), prometheus (the /metrics
series), http_log (one line per malformed HTTP request), server (listen, load, drain on SIGTERM; ServerThread for
tests and scripts).
"""

from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.server import ServerThread, serve

__all__ = ["ServeConfig", "ServerThread", "serve"]
