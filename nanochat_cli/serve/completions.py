"""POST /v1/completions and /v1/chat/completions: validate, queue one job per choice, stream or collect.

Streaming follows OpenAI's framing exactly: chat streams open with a delta carrying the role, every
choice ends with a chunk holding its finish_reason, the usage chunk (empty choices) comes only with
`stream_options.include_usage`, and `data: [DONE]` closes the stream. A `: ping` comment keeps an idle
stream alive. If the client goes away its jobs are cancelled and their slots freed at the next step.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from nanochat_cli.serve.api_error import ApiError, bad_request
from nanochat_cli.serve.infill import text_field
from nanochat_cli.serve.request_schema import (
    SamplingRequest,
    chat_messages,
    check_model,
    completion_prompts,
    sampling_request,
)
from nanochat_cli.serve.scheduler import Finished, Job, PromptScored, TextDelta, TokenLogprob
from nanochat_cli.serve.sse import DONE, PING, open_sse, sse_data
from nanochat_cli.serve.state import STATE


@dataclass
class ChoiceResult:
    text: str = ""
    logprobs: list[TokenLogprob | None] = field(default_factory=list)
    prompt_scores: list[TokenLogprob] = field(default_factory=list)
    finish_reason: str | None = None
    completion_tokens: int = 0
    error: str | None = None


# ---- entry points ----

async def handle_completions(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    backend = state.ready_backend()
    body = await state.read_json(request)
    check_model(body, backend.model_id)
    req = sampling_request(body, n_slots=backend.n_slots, max_tokens_limit=state.max_tokens_limit, chat=False)
    prompts = completion_prompts(body, state.cfg.max_prompts)
    suffix = text_field(body, "suffix")
    if suffix:  # fill-in-the-middle: each prompt is the prefix of a gap that ends where the suffix starts
        if not all(isinstance(p, str) for p in prompts):
            raise bad_request("'suffix' needs text prompts, not token ids", "prompt", "invalid_type")
        if req.echo:
            raise bad_request("'echo' is not supported with 'suffix'", "echo")
        return await _run_fim(request, state, req, body, prompts, suffix, "")
    check_capacity(state, len(prompts), req.n)
    prompt_ids = await state.off_loop(lambda: [state.prompt_ids(p) for p in prompts])
    fmt = CompletionFormat(backend, prompts, prompt_ids, req)
    return await _run(request, state, prompt_ids, req, req.sampling.stop, fmt)


async def handle_infill(request: web.Request) -> web.StreamResponse:
    """llama.cpp's POST /infill: `input_prefix`, `input_suffix` and an optional `prompt` (text after the middle
    token, where the completion starts); sampling fields as /v1/completions, `n_predict` accepted for max_tokens.
    Answers in the /v1/completions shape (stream or not)."""
    state = request.app[STATE]
    backend = state.ready_backend()
    body = await state.read_json(request)
    check_model(body, backend.model_id)
    if body.get("max_tokens") is None and body.get("n_predict") is not None:
        body["max_tokens"] = body["n_predict"]
    req = sampling_request(body, n_slots=backend.n_slots, max_tokens_limit=state.max_tokens_limit, chat=False)
    if req.echo:
        raise bad_request("'echo' is not supported on /infill", "echo")
    prefix, suffix = text_field(body, "input_prefix"), text_field(body, "input_suffix")
    return await _run_fim(request, state, req, body, [prefix], suffix, text_field(body, "prompt"))


async def _run_fim(request, state, req: SamplingRequest, body: dict, prefixes: list[str], suffix: str, middle: str):
    fim = state.fim
    warning = fim.check(body)  # a 400 unless the model was trained FIM (or the client accepts an untrained one)
    check_capacity(state, len(prefixes), req.n)
    req.sampling.token_healing = False  # the prompt ends with <|fim_middle|> (+ middle text): nothing to re-spell
    encode = state.backend.encode
    prompt_ids = await state.off_loop(lambda: [fim.prompt_ids(encode, p, suffix, middle) for p in prefixes])
    fmt = CompletionFormat(state.backend, prefixes, prompt_ids, req)
    fmt.warning = warning
    return await _run(request, state, prompt_ids, req, req.sampling.stop, fmt)


async def handle_chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    backend = state.ready_backend()
    body = await state.read_json(request)
    check_model(body, backend.model_id)
    req = sampling_request(body, n_slots=backend.n_slots, max_tokens_limit=state.max_tokens_limit, chat=True)
    if body.get("suffix") not in (None, ""):
        raise bad_request("'suffix' is for /v1/completions and /infill, not chat", "suffix", "unsupported_parameter")
    messages = chat_messages(body, state.cfg.max_messages)
    check_capacity(state, 1, req.n)
    ids = await state.off_loop(lambda: state.prompt_ids(state.chat_template.render(messages)))
    stops = req.sampling.stop + state.chat_template.extra_stops
    return await _run(request, state, [ids], req, stops, ChatFormat(backend, req))


def check_capacity(state, n_prompts: int, n: int) -> None:
    """A request with more choices than slots + queue could never be admitted: a 400 that says so, not a 429."""
    sched = state.scheduler
    if n_prompts * n > sched.capacity:
        raise ApiError(400, f"this request needs {n_prompts * n} slots ({n_prompts} prompt(s) x n={n}) but the server "
                            f"holds at most {sched.capacity} ({sched.n_slots} slots (--parallel) + a queue of "
                            f"{sched.max_queue} (--max-queue)); send fewer prompts or a smaller n",
                       "request_exceeds_capacity", "n")


# ---- the shared flow ----

async def _run(request, state, prompt_ids: list[list[int]], req: SamplingRequest, stops: list[str], fmt):
    backend = state.backend
    for ids in prompt_ids:
        room = backend.ctx - len(ids)
        if room < (1 if req.max_tokens is None else req.max_tokens) or room < 1:
            raise ApiError(400, f"the prompt has {len(ids)} tokens and max_tokens is {req.max_tokens}; together "
                                f"they exceed the context of {backend.ctx} tokens per slot: shorten the prompt or "
                                "lower max_tokens", "context_length_exceeded", "max_tokens",
                           extra={"n_prompt_tokens": len(ids), "n_ctx": backend.ctx})
    loop = asyncio.get_running_loop()
    events: asyncio.Queue = asyncio.Queue()
    jobs = []
    for ids in prompt_ids:
        for j in range(req.n):
            base = req.sampling.seed
            seed = None if base is None else (base + j) % (1 << 64)  # numpy seeds are non-negative
            jobs.append(Job(len(jobs), ids, req, seed, stops, events, loop))
    state.scheduler.submit(jobs)  # 429 / 503 before anything is sent
    state.generating += 1
    try:
        if req.stream:
            return await _stream(request, state, jobs, events, req, fmt)
        return await _collect(state, jobs, events, fmt, prompt_ids)
    except ConnectionResetError:  # the client left mid-stream: nothing to answer, the jobs are cancelled below
        return web.Response(status=499)
    finally:
        state.generating -= 1
        # Client gone or an error: every unfinished job leaves its slot at the next step.
        unfinished = [j for j in jobs if not j.finished]
        for job in unfinished:
            job.cancel()
        if unfinished:
            state.scheduler.wake()


async def _collect(state, jobs, events, fmt, prompt_ids) -> web.Response:
    results = [ChoiceResult() for _ in jobs]
    pending = len(jobs)
    while pending:
        index, ev = await events.get()
        r = results[index]
        if isinstance(ev, TextDelta):
            r.text += ev.text
            r.logprobs.append(ev.logprob)
        elif isinstance(ev, PromptScored):
            r.prompt_scores.extend(ev.logprobs)
        elif isinstance(ev, Finished):
            pending -= 1
            r.finish_reason, r.completion_tokens, r.error = ev.finish_reason, ev.completion_tokens, ev.error
    failed = next((r for r in results if r.finish_reason in ("error", "cancelled")), None)
    if failed is not None:
        if failed.finish_reason == "cancelled":
            raise ApiError(503, "the server is shutting down; the request was cancelled", "shutting_down")
        raise ApiError(500, f"generation failed: {failed.error}", "engine_error")
    return web.json_response(fmt.response(results, _usage(prompt_ids, results)))


async def _stream(request, state, jobs, events, req, fmt) -> web.StreamResponse:
    resp = await open_sse(request)
    for chunk in fmt.opening_chunks(len(jobs)):
        await resp.write(sse_data(chunk))
    results = [ChoiceResult() for _ in jobs]
    pending = len(jobs)
    while pending:
        try:
            batch = [await _next_event(events, state.cfg.ping_interval)]
        except TimeoutError:
            await resp.write(PING)
            continue
        while not events.empty():  # everything that arrived with it goes out in one write
            batch.append(events.get_nowait())
        out = []
        for index, ev in batch:
            r = results[index]
            if isinstance(ev, TextDelta):
                r.completion_tokens += 1
                if ev.text or ev.logprob is not None:
                    out.append(sse_data(fmt.delta_chunk(index, ev.text, ev.logprob)))
            elif isinstance(ev, Finished):
                pending -= 1
                r.finish_reason, r.completion_tokens = ev.finish_reason, ev.completion_tokens
                if ev.finish_reason in ("error", "cancelled"):
                    err = ApiError(503, "the server is shutting down; the request was cancelled", "shutting_down") \
                        if ev.finish_reason == "cancelled" else ApiError(500, f"generation failed: {ev.error}",
                                                                         "engine_error")
                    out.append(sse_data(err.body()))
                    continue
                out.append(sse_data(fmt.final_chunk(index, ev.finish_reason)))
        if out:
            await resp.write(b"".join(out))
    if req.include_usage:
        await resp.write(sse_data(fmt.usage_chunk(_usage([j.prompt_ids for j in jobs[::req.n]], results))))
    await resp.write(DONE)
    await resp.write_eof()
    return resp


async def _next_event(events: asyncio.Queue, timeout: float):
    """The next event, or asyncio.TimeoutError after `timeout` idle seconds: a timer handle rather than the task
    asyncio.wait_for wraps around every wait."""
    async with asyncio.timeout(timeout):
        return await events.get()


def _usage(prompt_ids: list[list[int]], results: list[ChoiceResult]) -> dict:
    # OpenAI counts each prompt once however many choices it has.
    p = sum(len(ids) for ids in prompt_ids)
    c = sum(r.completion_tokens for r in results)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


# ---- response shapes ----

class _Format:
    object_name = ""
    warning: str | None = None  # set for an infill by a model not trained FIM: every response says so

    def __init__(self, backend, req: SamplingRequest):
        self.backend, self.req = backend, req
        self.id = f"{self.prefix}-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def _chunk(self, choices: list[dict]) -> dict:
        out = {"id": self.id, "object": self.object_name, "created": self.created, "model": self.backend.model_id,
               "choices": choices}
        if self.warning:
            out["warning"] = self.warning
        if self.req.include_usage:
            out["usage"] = None
        return out

    def usage_chunk(self, usage: dict) -> dict:
        out = self._chunk([])
        out["usage"] = usage
        return out

    def opening_chunks(self, n: int) -> list[dict]:
        return []


class CompletionFormat(_Format):
    object_name, prefix = "text_completion", "cmpl"

    def __init__(self, backend, prompts, prompt_ids, req):
        super().__init__(backend, req)
        self.prompts, self.prompt_ids = prompts, prompt_ids

    def delta_chunk(self, index: int, text: str, lp: TokenLogprob | None) -> dict:
        logprobs = self._logprobs([lp], 0) if lp is not None else None
        return self._chunk([{"index": index, "text": text, "logprobs": logprobs, "finish_reason": None}])

    def final_chunk(self, index: int, reason: str) -> dict:
        return self._chunk([{"index": index, "text": "", "logprobs": None, "finish_reason": reason}])

    def response(self, results: list[ChoiceResult], usage: dict) -> dict:
        choices = []
        for i, r in enumerate(results):
            p = i // self.req.n
            prompt_text = self.prompts[p] if isinstance(self.prompts[p], str) else self.backend.decode_text(self.prompt_ids[p])
            text = prompt_text + r.text if self.req.echo else r.text
            logprobs = None
            if self.req.logprobs is not None:
                gen = [lp for lp in r.logprobs if lp is not None]
                if self.req.echo:
                    first = self.prompt_ids[p][0]
                    logprobs = self._logprobs([None] + r.prompt_scores + gen, 0, first_token=first)
                else:
                    logprobs = self._logprobs(gen, len(prompt_text))
            choices.append({"index": i, "text": text, "logprobs": logprobs, "finish_reason": r.finish_reason})
        out = {"id": self.id, "object": self.object_name, "created": self.created, "model": self.backend.model_id,
               "choices": choices, "usage": usage}
        if self.warning:
            out["warning"] = self.warning
        return out

    def _logprobs(self, lps: list[TokenLogprob | None], offset: int, first_token: int | None = None) -> dict:
        """The legacy completions shape; a None entry is the first echoed prompt token (nothing predicts it)."""
        tokens, token_lps, tops, offsets = [], [], [], []
        for lp in lps:
            tid = first_token if lp is None else lp.token_id
            piece = self.backend.token_text(tid)
            tokens.append(piece)
            token_lps.append(None if lp is None else lp.logprob)
            tops.append(None if lp is None else {self.backend.token_text(t): v for t, v in lp.top})
            offsets.append(offset)
            offset += len(piece)
        return {"tokens": tokens, "token_logprobs": token_lps, "top_logprobs": tops, "text_offset": offsets}


class ChatFormat(_Format):
    object_name, prefix = "chat.completion.chunk", "chatcmpl"

    def opening_chunks(self, n: int) -> list[dict]:
        return [self._chunk([{"index": i, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                              "finish_reason": None}]) for i in range(n)]

    def delta_chunk(self, index: int, text: str, lp: TokenLogprob | None) -> dict:
        logprobs = {"content": [self._token_logprob(lp)]} if lp is not None else None
        return self._chunk([{"index": index, "delta": {"content": text}, "logprobs": logprobs, "finish_reason": None}])

    def final_chunk(self, index: int, reason: str) -> dict:
        return self._chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": reason}])

    def response(self, results: list[ChoiceResult], usage: dict) -> dict:
        choices = []
        for i, r in enumerate(results):
            logprobs = None
            if self.req.logprobs is not None:
                logprobs = {"content": [self._token_logprob(lp) for lp in r.logprobs if lp is not None]}
            choices.append({"index": i, "message": {"role": "assistant", "content": r.text}, "logprobs": logprobs,
                            "finish_reason": r.finish_reason})
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.backend.model_id,
                "choices": choices, "usage": usage}

    def _token_logprob(self, lp: TokenLogprob) -> dict:
        def entry(tid: int, v: float) -> dict:
            piece = self.backend.token_text(tid)
            return {"token": piece, "logprob": v, "bytes": list(piece.encode())}

        return {**entry(lp.token_id, lp.logprob), "top_logprobs": [entry(t, v) for t, v in lp.top]}
