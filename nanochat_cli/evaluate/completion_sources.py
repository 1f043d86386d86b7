"""Where completions come from for `nanochat eval`: an OpenAI-compatible server or a JSONL file.

A source implements `CompletionSource`: `complete(requests, params) -> Generation` returns, for each
request (a problem's name, prompt and stop tokens), `params.n_samples` raw completions (the text after
the prompt), plus the generated token count and wall time for tokens/s.

- `ServerSource(url)`: POST /v1/completions on any OpenAI-compatible server (`nanochat serve`,
  llama.cpp's llama-server, vLLM, ...), one request per sample (seed + sample index, so samples differ
  at temperature > 0 and a run is reproducible), `concurrency` requests in flight.
- `CompletionsFileSource(path)`: completions made elsewhere. JSONL, one object per line:
  `{"name": "<problem name>", "completion": "<text after the prompt>"}`; several lines with the same
  name are several samples of that problem, in file order.
The local-model source (a GGUF file or checkpoint dir on nanochat's native engine) is `EngineSource`
in engine_source.py, kept apart so these two need neither torch nor the kernels.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from nanochat_cli.errors import NanochatError
from nanochat_cli.file_hash import file_sha256
from nanochat_cli.rust.problems import jsonl_objects
from nanochat_cli.sampling_params import SamplingParams


def eval_sampling(**settings) -> SamplingParams:
    """An eval run's sampling: MultiPL-E's usual pass@1 settings (temperature 0.2, top_p 0.95, 512 tokens, seed 0)
    unless `settings` say otherwise. Sample i of a problem uses seed + i."""
    return SamplingParams(**{"temperature": 0.2, "top_p": 0.95, "max_tokens": 512, "seed": 0, **settings})


@dataclass(frozen=True)
class GenerationParams:
    """What a run asks of its source: `n_samples` completions per problem, sampled with `sampling` (the one
    SamplingParams type; a server is sent its temperature, top_p, max_tokens and seed). `record()` is what results
    files hold."""

    n_samples: int = 1
    sampling: SamplingParams = field(default_factory=eval_sampling)

    def for_sample(self, sample: int, stop: tuple[str, ...] | list[str]) -> SamplingParams:
        """The settings of one sample of a problem: seed + sample, the problem's stop tokens."""
        return dataclasses.replace(self.sampling, seed=self.sampling.seed + sample, stop=list(stop))

    def record(self) -> dict:
        """The results file's record (its keys predate SamplingParams, so old and new files compare)."""
        s = self.sampling
        return {"n_samples": self.n_samples, "temperature": s.temperature, "top_p": s.top_p,
                "max_tokens": s.max_tokens, "seed": s.seed, "token_healing": s.token_healing}


@dataclass(frozen=True)
class CompletionRequest:
    name: str
    prompt: str
    stop: tuple[str, ...] = ("\n}",)


@dataclass
class Generation:
    """Completions per request (`n_samples` each), generated tokens (None if unknown) and seconds."""

    completions: list[list[str]]
    tokens: int | None = None
    seconds: float = 0.0
    token_counts: list[list[int | None]] = field(default_factory=list)


class CompletionSource(Protocol):
    def identity(self) -> dict:
        """What produced the completions (kind, url/model/path, file hash), recorded in results."""
        ...

    def complete(self, requests: list[CompletionRequest], params: GenerationParams) -> Generation: ...


# ---- completions file ----


class CompletionsFileSource:
    """Completions generated elsewhere, read from a JSONL file of {"name", "completion"} objects."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise NanochatError(f"completions file {self.path} not found; give a JSONL file of "
                                '{"name": ..., "completion": ...} lines')
        self.by_name: dict[str, list[str]] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise NanochatError(f"{self.path}: not UTF-8 text ({e}); give a JSONL file of "
                                '{"name": ..., "completion": ...} lines') from None
        for i, rec in jsonl_objects(text, str(self.path), '{"name": ..., "completion": ...}'):
            if not isinstance(rec.get("name"), str) or not isinstance(rec.get("completion"), str):
                raise NanochatError(f'{self.path}:{i}: each line needs "name" and "completion" strings')
            self.by_name.setdefault(rec["name"], []).append(rec["completion"])

    def identity(self) -> dict:
        return {"kind": "completions", "path": str(self.path.resolve()), "file_sha256": file_sha256(self.path)}

    def complete(self, requests: list[CompletionRequest], params: GenerationParams) -> Generation:
        wanted = {r.name for r in requests}
        unknown = sorted(set(self.by_name) - wanted)
        if unknown:
            raise NanochatError(f"{self.path}: completions for problems not in the set: {', '.join(unknown[:5])}"
                                f"{' ...' if len(unknown) > 5 else ''}; check --problems")
        missing = [r.name for r in requests if len(self.by_name.get(r.name, [])) < params.n_samples]
        if missing:
            raise NanochatError(f"{self.path}: fewer than {params.n_samples} completion(s) for "
                                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                                "lower --n-samples or add completions")
        return Generation([self.by_name[r.name][: params.n_samples] for r in requests])


# ---- OpenAI-compatible server ----


class ServerSource:
    """Completions from an OpenAI-compatible /v1/completions endpoint, with `concurrency` requests in flight.

    max_tokens is clamped to the server's context as the local engine does: to the context read from GET /props
    (nanochat serve, llama-server) before the run, and to the room a prompt leaves when a 400 names it
    (`n_prompt_tokens` and `n_ctx` in the error, as both servers send). A prompt with no room at all gets an
    empty completion, counted in `context_overflows`.
    """

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None,
                 concurrency: int = 4, timeout_s: float = 600.0, retries: int = 2):
        url = url.rstrip("/")
        url = url.removesuffix("/v1")
        if not url.startswith(("http://", "https://")):
            raise NanochatError(f"--server {url!r} is not an http(s) URL; e.g. http://127.0.0.1:8080")
        if concurrency < 1:
            raise NanochatError("--concurrency must be at least 1")
        self.url, self.model, self.api_key = url, model, api_key
        self.concurrency, self.timeout_s, self.retries = concurrency, timeout_s, retries
        self.max_tokens_cap: int | None = None  # from /props: the context less one prompt token, or the server's cap
        self.context_overflows = 0

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def identity(self) -> dict:
        return {"kind": "server", "url": self.url, "model": self.model}

    def complete(self, requests: list[CompletionRequest], params: GenerationParams,
                 progress: Callable[[int, int], None] | None = None) -> Generation:
        """All samples; `progress(1, tokens)` is called as each response arrives (the eval bar)."""
        return asyncio.run(self._complete(requests, params, progress))

    async def _complete(self, requests: list[CompletionRequest], params: GenerationParams,
                        progress: Callable[[int, int], None] | None = None) -> Generation:
        import httpx

        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.url, headers=self._headers(), timeout=self.timeout_s,
                                     limits=limits) as client:
            if self.model is None:
                self.model = await self._first_model(client)
            self.max_tokens_cap = await self._max_tokens_cap(client)
            sem = asyncio.Semaphore(self.concurrency)
            t0 = time.perf_counter()
            try:
                # A TaskGroup: the first failure cancels and awaits the others, so no request is left un-awaited.
                async with asyncio.TaskGroup() as tg:
                    tasks = [tg.create_task(self._one(client, sem, r, params, i, progress))
                             for r in requests for i in range(params.n_samples)]
            except BaseExceptionGroup as group:
                raise _first_error(group) from None
            outs = [t.result() for t in tasks]
            seconds = time.perf_counter() - t0
        completions = [[outs[ri * params.n_samples + i][0] for i in range(params.n_samples)] for ri in range(len(requests))]
        counts = [[outs[ri * params.n_samples + i][1] for i in range(params.n_samples)] for ri in range(len(requests))]
        known = [c for row in counts for c in row]
        tokens = sum(known) if known and all(c is not None for c in known) else None  # type: ignore[arg-type]
        return Generation(completions, tokens, seconds, counts)

    async def _first_model(self, client) -> str:
        import httpx

        try:
            r = await client.get("/v1/models")
            if r.status_code == 200:
                data = r.json().get("data") or []
                if data and isinstance(data[0], dict) and data[0].get("id"):
                    return str(data[0]["id"])
        except (httpx.HTTPError, ValueError):
            pass  # the completion request reports a dead server clearly
        return "default"

    async def _max_tokens_cap(self, client) -> int | None:
        """The most max_tokens the server takes, from GET /props (llama.cpp's convention); None if it has none."""
        import httpx

        try:
            r = await client.get("/props")
            if r.status_code != 200:
                return None
            props = r.json()
            settings = props.get("default_generation_settings") or {}
            n_ctx = settings.get("n_ctx") or props.get("n_ctx")
            limit = (settings.get("params") or {}).get("max_tokens_limit")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        caps = [c for c in (n_ctx - 1 if isinstance(n_ctx, int) else None, limit)
                if isinstance(c, int) and not isinstance(c, bool) and c > 0]
        return min(caps) if caps else None

    async def _one(self, client, sem: asyncio.Semaphore, req: CompletionRequest, params: GenerationParams,
                   sample: int, progress: Callable[[int, int], None] | None = None) -> tuple[str, int | None]:
        text, ntok = await self._request(client, sem, req, params, sample)
        if progress:
            progress(1, ntok or 0)
        return text, ntok

    async def _request(self, client, sem: asyncio.Semaphore, req: CompletionRequest, params: GenerationParams,
                       sample: int) -> tuple[str, int | None]:
        import httpx

        s = params.for_sample(sample, req.stop)
        max_tokens = s.max_tokens if self.max_tokens_cap is None else min(s.max_tokens, self.max_tokens_cap)
        body = {"model": self.model, "prompt": req.prompt, "max_tokens": max_tokens,
                "temperature": s.temperature, "top_p": s.top_p, "n": 1,
                "stop": s.stop[:4], "seed": s.seed}
        async with sem:
            attempt = 0
            while True:
                try:
                    r = await client.post("/v1/completions", json=body)
                except httpx.HTTPError as e:
                    if attempt < self.retries:
                        attempt += 1
                        await asyncio.sleep(0.5 * attempt)
                        continue
                    raise NanochatError(f"cannot reach {self.url}/v1/completions ({type(e).__name__}: {e}); "
                                        "start the server (nanochat serve) or check --server") from None
                # 429: the server's queue is full (nanochat serve, llama-server); 5xx: a transient failure
                if (r.status_code >= 500 or r.status_code == 429) and attempt < self.retries:
                    attempt += 1
                    await asyncio.sleep(0.5 * attempt)
                    continue
                if r.status_code == 400:
                    room = _context_room(r)
                    if room is not None and room < 1:  # the prompt alone fills the context, as --model counts it
                        self.context_overflows += 1
                        return "", 0
                    if room is not None and room < body["max_tokens"]:
                        body["max_tokens"] = room  # the clamp: what the context leaves after this prompt
                        continue
                if r.status_code != 200:
                    raise NanochatError(self._refusal(r))
                try:
                    data = r.json()
                    text = data["choices"][0]["text"]
                except (ValueError, KeyError, IndexError, TypeError):
                    raise NanochatError(f"{self.url}/v1/completions returned no choices[0].text; "
                                        "is it an OpenAI-compatible completions endpoint?") from None
                usage = data.get("usage") or {}
                ntok = usage.get("completion_tokens")
                return str(text), int(ntok) if isinstance(ntok, int) else None

    def _refusal(self, r) -> str:
        """One line for a response the run cannot go on from, naming the option to change."""
        message = _error_message(r)
        where = f"{self.url}/v1/completions answered {r.status_code}: {message}"
        if r.status_code in (401, 403):
            return f"{where}; pass the server's key with --api-key"
        if r.status_code == 404:
            if "model" in message.lower():
                return f"{where}; pick a model the server lists at GET /v1/models with --server-model"
            return f"{where}; --server must be the server's base URL (e.g. http://127.0.0.1:8080)"
        if r.status_code == 400:
            return f"{where}; change the generation options (--max-tokens, --temperature, --top-p) it names"
        return f"{where}; check the server's log"


def _error_message(r) -> str:
    try:
        err = r.json().get("error")
        message = err.get("message") if isinstance(err, dict) else err
        if isinstance(message, str) and message:
            return message[:300]
    except (ValueError, AttributeError):
        pass
    return r.text[:200]


def _context_room(r) -> int | None:
    """n_ctx - n_prompt_tokens from a 400 that says the prompt and max_tokens overflow the context; None if not one."""
    try:
        err = r.json().get("error")
        n_ctx, n_prompt = err.get("n_ctx"), err.get("n_prompt_tokens")
    except (ValueError, AttributeError):
        return None
    if isinstance(n_ctx, int) and isinstance(n_prompt, int):
        return n_ctx - n_prompt
    return None


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The exception a TaskGroup's failure stands for: the first NanochatError if any, else the first leaf."""
    leaves = list(_leaves(group))
    return next((e for e in leaves if isinstance(e, NanochatError)), leaves[0])


def _leaves(group: BaseExceptionGroup):
    for e in group.exceptions:
        if isinstance(e, BaseExceptionGroup):
            yield from _leaves(e)
        else:
            yield e
