"""ServeConfig: every option of `nanochat serve` (host, port, key, slots, limits) in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServeConfig:
    """Options of the HTTP server. The CLI fills these from flags or NANOCHAT_* environment variables."""

    model: str = ""
    """Path of the model: a nanochat GGUF or a checkpoint directory."""
    host: str = "127.0.0.1"
    """Interface to listen on; loopback by default so nothing is exposed by accident."""
    port: int = 8080
    """TCP port; 0 picks a free one (the bound port is logged and stored in ServerHandle.port)."""
    api_key: str | None = None
    """If set, every endpoint but /health needs `Authorization: Bearer KEY` or `X-Api-Key: KEY`."""
    parallel: int = 4
    """Slots: requests (or choices of an n > 1 request) decoded at once in one batch."""
    ctx: int = 0
    """Tokens per slot (prompt + completion); 0 = the model's max_seq_len."""
    model_alias: str | None = None
    """The model id reported by /v1/models and accepted in requests; default: the file's stem."""
    max_queue: int = 64
    """Requests waiting for a slot; one more gets 429."""
    max_body_bytes: int = 1 << 20
    """Largest request body; a bigger one gets 413."""
    max_messages: int = 256
    """Most chat messages in one request."""
    max_prompts: int = 32
    """Most prompts in one /v1/completions request (a list of prompts, as lm-evaluation-harness sends)."""
    max_tokens_limit: int = 0
    """Cap on max_tokens; 0 = the slot context."""
    prefill_chunk: int = 256
    """Prompt tokens prefilled per scheduler step, so a long prompt never stalls the decode batch for long."""
    ping_interval: float = 15.0
    """Seconds without a token before an SSE stream gets a `: ping` comment line."""
    shutdown_timeout: float = 30.0
    """On SIGTERM, seconds to let in-flight requests finish before they are cancelled."""
    read_timeout: float = 15.0
    """Seconds a client gets to send a request's headers (from connecting, or from the previous response on a
    kept-alive connection; an idle kept-alive connection is closed after as long) and, separately, its body:
    a slower client is disconnected (headers) or answered 408 (body), so slow senders cannot hold connections."""
    cors: list[str] = field(default_factory=list)
    """Origins (e.g. http://localhost:3000, or "*") whose web pages may call the API; empty = no CORS headers."""
    slots: bool = False
    """Enable GET /slots (what each slot is generating); off by default, as in llama.cpp."""
    threads: int = 0
    """Threads of the native kernels (infer.load_model(threads=...)); 0 = the kernels' default."""
    int8_head: bool = False
    """Run the output head on int8 rows (infer.load_model(int8_head=True)): faster, and tokens may differ."""
