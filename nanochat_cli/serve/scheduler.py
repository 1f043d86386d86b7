"""Scheduler: N slots share one model; a worker thread runs continuous batching so the event loop never computes.

Each step of the worker: admit waiting jobs to free slots (a slot whose cached tokens share the longest
prefix with the prompt is preferred, and that prefix is not prefilled again), prefill one chunk of one
new prompt, then one batched decode step over every slot that is generating. New requests therefore
join the running batch between steps. A step's events go back to the jobs' asyncio.Queues in one
`loop.call_soon_threadsafe` (one wake-up of the event loop per step, not per token); a cancelled job
(client gone) leaves its slot at the next step.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from nanochat_cli.serve.api_error import ApiError
from nanochat_cli.serve.backend import ServingBackend
from nanochat_cli.serve.prometheus import ServerMetrics
from nanochat_cli.serve.request_schema import SamplingRequest

log = logging.getLogger(__name__)


# ---- events sent from the worker to a request handler ----

@dataclass
class TokenLogprob:
    token_id: int
    logprob: float
    top: list[tuple[int, float]]  # the k most likely (token id, logprob), best first


@dataclass
class TextDelta:
    text: str  # may be "" (held back for a stop string or an unfinished character)
    logprob: TokenLogprob | None = None


@dataclass
class PromptScored:
    """Echo logprobs: entry i scores prompt token i + 1 given the tokens before it."""
    logprobs: list[TokenLogprob]


@dataclass
class Finished:
    finish_reason: str  # "stop" | "length" | "cancelled" | "error"
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None


@dataclass
class Job:
    """One completion choice: a prompt, its sampling request, and its progress in a slot."""

    index: int  # the choice index in the response; events go out tagged with it
    prompt_ids: list[int]
    req: SamplingRequest
    seed: int | None
    stops: list[str]
    events: asyncio.Queue  # shared by all choices of one request: receives (index, event)
    loop: asyncio.AbstractEventLoop
    arrival: float = field(default_factory=time.perf_counter)
    cancelled: bool = False  # set by the handler (client gone) or at shutdown
    finished: bool = False  # set by the worker before it sends Finished
    # worker-side state
    slot: int = -1
    prefilled: int = 0  # prompt tokens in the slot's cache
    decode: object | None = None  # infer.decode.SequenceDecode, set when the prompt is prefilled
    next_token: int = -1  # sampled, not yet fed to the model
    first_token_at: float | None = None
    heal: object | None = None  # infer.healing.HealedPrompt, set at admission

    @property
    def prefill_ids(self) -> list[int]:
        """The prompt the slot runs: without the tokens token healing backs off (the first tokens re-spell them)."""
        return self.heal.ids if self.heal is not None else self.prompt_ids

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Owns the slots and the worker thread. submit() from the event loop; everything else runs in the worker."""

    def __init__(self, backend: ServingBackend, metrics: ServerMetrics, max_queue: int, prefill_chunk: int):
        self.backend, self.metrics = backend, metrics
        self.max_queue, self.prefill_chunk = max_queue, max(1, prefill_chunk)
        self.n_slots = backend.n_slots
        self._cv = threading.Condition()
        self._pending: deque[Job] = deque()
        self._slots: list[Job | None] = [None] * self.n_slots
        self._accepting = True
        self._stop = False
        self._outbox: list[tuple[Job, object]] = []  # events of the current step, delivered together
        self._thread = threading.Thread(target=self._run, name="nanochat-scheduler", daemon=True)
        metrics.slots_total.set(self.n_slots)

    # ---- event-loop side ----
    def start(self) -> None:
        self._thread.start()

    def submit(self, jobs: list[Job]) -> None:
        """Queue all choices of one request together, or refuse them all (429 when the queue is full)."""
        with self._cv:
            if not self._accepting:
                raise ApiError(503, "the server is shutting down", "shutting_down")
            if len(self._pending) + len(jobs) > self.max_queue + self._free_slots():
                raise ApiError(429, f"the server is busy: {len(self._pending)} requests are waiting for "
                                    f"{self.n_slots} slots; retry later", "queue_full")
            self._pending.extend(jobs)
            self.metrics.queue_depth.set(len(self._pending))
            self._cv.notify()

    def wake(self) -> None:
        """Make the worker look at cancellations now rather than after its current step."""
        with self._cv:
            self._cv.notify()

    @property
    def busy_slots(self) -> int:
        return sum(j is not None for j in self._slots)

    @property
    def queue_depth(self) -> int:
        return len(self._pending)

    @property
    def capacity(self) -> int:
        """The most jobs one request can have: every slot free and the queue empty."""
        return self.n_slots + self.max_queue

    @property
    def in_flight(self) -> int:
        return self.busy_slots + self.queue_depth

    def slot_snapshot(self) -> list[dict]:
        """Each slot as GET /slots reports it (llama.cpp's field names); read without the lock, so approximate."""
        out = []
        for i, job in enumerate(list(self._slots)):
            seq = None if job is None else job.decode
            out.append({"id": i, "is_processing": job is not None,
                        "n_prompt_tokens": 0 if job is None else len(job.prompt_ids),
                        "n_decoded": 0 if seq is None else len(seq.tokens)})
        return out

    def stop_accepting(self) -> None:
        with self._cv:
            self._accepting = False

    def cancel_all(self) -> None:
        with self._cv:
            for job in list(self._pending) + [j for j in self._slots if j is not None]:
                job.cancel()
            self._cv.notify()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the worker (after cancelling what is left) and wait for it."""
        self.cancel_all()
        with self._cv:
            self._stop = True
            self._cv.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ---- worker side ----
    def _free_slots(self) -> int:
        return sum(j is None for j in self._slots)

    def _emit(self, job: Job, event) -> None:
        self._outbox.append((job, event))

    def _flush_outbox(self) -> None:
        """Hand this step's events to their event loops, one wake-up per loop rather than one per token."""
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for job, event in self._outbox:
            by_loop.setdefault(job.loop, []).append((job, event))
        self._outbox = []
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # the event loop is closed: nobody is listening any more
                for job, _ in items:
                    job.cancelled = True

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stop and not self._pending and self.busy_slots == 0:
                    self._cv.wait()
                if self._stop and not self._pending and self.busy_slots == 0:
                    return
                self._admit()
            self._flush_outbox()
            self._drop_cancelled()
            try:
                self._prefill_step()
                self._decode_step()
            except Exception as e:  # a model failure ends the requests involved, never the server
                log.exception("engine step failed")
                for job in self._slots:
                    if job is not None:
                        self._fail(job, e)
            self._flush_outbox()

    def _admit(self) -> None:
        """Move waiting jobs into free slots (lock held), preferring the slot that caches the longest prefix."""
        while self._pending and self._free_slots():
            job = self._pending.popleft()
            if job.cancelled:
                job.finished = True
                self._emit(job, Finished("cancelled", len(job.prompt_ids), 0))
                continue
            job.heal = self._heal(job)
            free = [s for s, j in enumerate(self._slots) if j is None]
            reuse = {s: self.backend.reusable_prefix(s, job.prefill_ids) for s in free}
            slot = max(free, key=lambda s: reuse[s])  # the slot whose cache holds the longest prefix
            job.slot = slot
            self._slots[slot] = job
            # The engine keeps at least the last prompt token to prefill (its logits are needed); echo
            # logprobs need logits at every prompt position, so they prefill from 0.
            job.prefilled = 0 if job.req.echo and job.req.logprobs is not None else reuse[slot]
            self.metrics.reused_prompt_tokens.inc(job.prefilled)
        self.metrics.queue_depth.set(len(self._pending))
        self.metrics.slots_busy.set(self.busy_slots)

    def _heal(self, job: Job):
        """Token healing, unless the request turns it off, generates nothing, or scores its prompt (echo logprobs
        need every prompt token)."""
        from nanochat_cli.infer.healing import HealedPrompt, healer_for  # infer loads torch: not at import time

        req = job.req
        on = req.sampling.token_healing and req.max_tokens != 0 and not (req.echo and req.logprobs is not None)
        return HealedPrompt(healer_for(self.backend.tokenizer) if on else None, job.prompt_ids)

    def _drop_cancelled(self) -> None:
        for job in self._slots:
            if job is not None and job.cancelled:
                self._finish(job, "cancelled")

    def _prefill_step(self) -> None:
        """One chunk of the oldest job still prefilling; its last chunk samples the first token."""
        prefilling = [j for j in self._slots if j is not None and j.prefilled < len(j.prefill_ids)]
        if not prefilling:
            return
        job = min(prefilling, key=lambda j: j.arrival)
        try:
            self._prefill_chunk(job)
        except Exception as e:  # a prompt that breaks the model fails alone, not the batch
            log.exception("prefill failed")
            self._fail(job, e)

    def _prefill_chunk(self, job: Job) -> None:
        start = job.prefilled
        chunk = job.prefill_ids[start:start + self.prefill_chunk]
        echo_scores = job.req.echo and job.req.logprobs is not None
        logits = self.backend.prefill(job.slot, start, chunk, all_logits=echo_scores)
        job.prefilled = start + len(chunk)
        if echo_scores:
            # logits[i] predicts the token after chunk[i]; the prompt's own next token is known only inside it
            targets = job.prompt_ids[start + 1:start + 1 + len(chunk)]
            if targets:
                self._emit(job, PromptScored(_logprobs(logits[:len(targets)], targets, job.req.logprobs)))
            logits = logits[-1]
        if job.prefilled < len(job.prefill_ids):
            return
        from nanochat_cli.infer.decode import SequenceDecode  # infer loads torch: not at import time

        job.decode = SequenceDecode(self.backend.tokenizer, job.heal,
                                    self.backend.new_sampler(job.req, job.seed, job.prefill_ids), stop=job.stops,
                                    eos_ids=self.backend.eos_ids, max_tokens=job.req.max_tokens,
                                    ignore_eos=job.req.ignore_eos)
        self.metrics.prompt_tokens.inc(len(job.prompt_ids))
        if job.req.max_tokens == 0:
            self._finish(job, "length")
            return
        self._accept(job, logits)

    def _decode_step(self) -> None:
        batch = [j for j in self._slots if j is not None and j.next_token >= 0]
        if not batch:
            return
        self.metrics.decode_batch.observe(len(batch))
        from nanochat_cli.infer.decode import step_all  # infer loads torch: not at import time

        logits = self.backend.decode([j.slot for j in batch], [j.next_token for j in batch])
        # the batch's rows sampled in one call: the same tokens as stepping each job alone (decode.step_all)
        steps = step_all([j.decode for j in batch], logits, [self.backend.length(j.slot) >= self.backend.ctx for j in batch])
        for job, row, step in zip(batch, logits, steps):
            job.next_token = -1
            self._emit_step(job, row, step)

    def _accept(self, job: Job, logits: np.ndarray) -> None:
        """Sample from logits, emit the text it completes, and end the job on EOS, a stop string or a limit."""
        self._emit_step(job, logits, job.decode.step(logits, full=self.backend.length(job.slot) >= self.backend.ctx))

    def _emit_step(self, job: Job, logits: np.ndarray, step) -> None:
        """A sampled token (an infer.decode.DecodeStep): its text and log-probabilities to the client; the job
        ends on its finish reason."""
        if job.first_token_at is None:
            job.first_token_at = time.perf_counter()
            self.metrics.ttft.observe(job.first_token_at - job.arrival)
        lp = _logprob(logits, step.token, job.req.logprobs) if job.req.logprobs is not None else None
        if not step.eos:
            self.metrics.generated_tokens.inc()
            self._emit(job, TextDelta(step.text, lp))
        elif lp is not None:  # scorers (lm-evaluation-harness) expect the sampled token's entry, EOS included
            self._emit(job, TextDelta("", lp))
        if step.finish_reason:
            self._finish(job, step.finish_reason)
        else:
            job.next_token = step.token

    def _fail(self, job: Job, e: Exception) -> None:
        self._finish(job, "error", error=f"{type(e).__name__}: {e}")

    def _finish(self, job: Job, reason: str, error: str | None = None) -> None:
        if reason in ("stop", "length") and job.decode is not None:
            tail = job.decode.flush()
            if tail:
                self._emit(job, TextDelta(tail))
        job.finished = True
        completion_tokens = job.decode.completion_tokens if job.decode is not None else 0
        self._emit(job, Finished(reason, len(job.prompt_ids), completion_tokens, error))
        if reason in ("stop", "length"):
            self.metrics.latency.observe(time.perf_counter() - job.arrival)
        with self._cv:
            if self._slots[job.slot] is job:
                self._slots[job.slot] = None
            self.metrics.slots_busy.set(self.busy_slots)


def _deliver(items: list) -> None:
    for job, event in items:
        job.events.put_nowait((job.index, event))


def _logprobs(logits: np.ndarray, tokens: list[int], k: int) -> list[TokenLogprob]:
    """Log-softmax of each row of logits [T, V] at tokens[t], plus its k most likely tokens (best first)."""
    x = np.asarray(logits, dtype=np.float64).reshape(len(tokens), -1)
    m = x.max(axis=1, keepdims=True)
    logp = x - (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))
    out = []
    for row, token in zip(logp, tokens):
        top = np.argpartition(-row, k - 1)[:k] if 0 < k < row.size else np.arange(row.size if k else 0)
        top = top[np.argsort(-row[top], kind="stable")]
        out.append(TokenLogprob(int(token), float(row[token]), [(int(t), float(row[t])) for t in top]))
    return out


def _logprob(logits: np.ndarray, token: int, k: int) -> TokenLogprob:
    return _logprobs(logits, [token], k)[0]
