"""Completions from a local model (GGUF file or checkpoint dir) on nanochat's native engine, batched.

`EngineSource(path, batch=4)` loads the model with `nanochat_cli.infer.load_model` and decodes up to
`batch` samples together: each sample gets a slot, its prompt is prefilled, then one batched
`engine.decode` step advances every unfinished slot; a finished slot takes the next pending sample.
Sample i of a problem is sampled with seed + i (as with --server), so a run is reproducible.
A prompt longer than the model's context yields an empty completion (counted in `context_overflows`).
"""

from __future__ import annotations

import time
from pathlib import Path

from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.sources import CompletionRequest, Generation, GenerationParams, file_sha256


class EngineSource:
    """A `CompletionSource` running a nanochat GGUF / checkpoint directory in-process."""

    def __init__(self, path: str | Path, batch: int = 4, threads: int | None = None, ctx: int | None = None):
        from nanochat_cli.infer import load_model

        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise NanochatError(f"model {self.path} not found; give a .gguf from nanochat export or a checkpoint dir")
        if batch < 1:
            raise NanochatError("--batch must be at least 1")
        self.lm = load_model(str(self.path), threads=threads)
        self.engine = self.lm.engine(n_slots=batch, ctx=ctx)
        self.context_overflows = 0

    def identity(self) -> dict:
        if self.path.is_file():
            digest, weights = file_sha256(self.path), self.path
        else:  # a checkpoint dir (or a run dir: its newest checkpoint): the weights file identifies it
            from nanochat_cli.train.checkpoint import resolve_checkpoint

            weights = resolve_checkpoint(self.path) / "model.safetensors"
            digest = file_sha256(weights) if weights.is_file() else None
        return {"kind": "engine", "path": str(self.path.resolve()), "file_sha256": digest,
                "hashed_file": str(weights.resolve()), "context": self.engine.ctx, "batch": self.engine.n_slots,
                "context_overflows": self.context_overflows}

    def complete(self, requests: list[CompletionRequest], params: GenerationParams) -> Generation:
        from nanochat_cli.infer import ContextFull, Sampler, SamplingParams, StopMatcher
        from nanochat_cli.infer.healing import HealedPrompt, healer_for

        engine, tok = self.engine, self.lm.tokenizer
        jobs = [(ri, si) for ri in range(len(requests)) for si in range(params.n_samples)]
        out = [["" for _ in range(params.n_samples)] for _ in requests]
        counts: list[list[int | None]] = [[0] * params.n_samples for _ in requests]
        pending = list(reversed(jobs))
        active: dict[int, dict] = {}  # slot -> state of the sample it decodes
        t0 = time.perf_counter()
        total = 0

        def start(slot: int) -> None:
            while pending:
                ri, si = pending.pop()
                req = requests[ri]
                sp = SamplingParams(temperature=params.temperature, top_p=params.top_p, seed=params.seed + si,
                                    max_tokens=params.max_tokens, stop=list(req.stop),
                                    token_healing=params.token_healing)
                heal = HealedPrompt(healer_for(tok), self.lm.encode(req.prompt), sp.token_healing and sp.max_tokens > 0)
                ids = heal.ids
                engine.reset(slot)
                try:
                    logits = engine.prefill(slot, ids) if ids else None
                except ContextFull:
                    logits = None
                if logits is None:
                    self.context_overflows += 1
                    continue  # empty completion
                active[slot] = {"job": (ri, si), "sampler": Sampler(sp), "history": list(ids), "logits": logits,
                                "heal": heal, "decoder": heal.decoder(tok), "stops": StopMatcher(sp.stop),
                                "text": [], "n": 0, "max": params.max_tokens}
                return

        for slot in range(engine.n_slots):
            start(slot)
        while active:
            step_slots, step_tokens = [], []
            for slot, st in list(active.items()):
                t = st["sampler"](st["heal"].mask(st["logits"]), st["history"])
                st["heal"].push(t)
                st["history"].append(t)
                st["n"] += 1
                done = t in self.lm.eos_ids
                if not done:
                    st["text"].append(st["stops"].push(st["decoder"].push(t)))
                    done = st["stops"].stopped or st["n"] >= st["max"] or engine.length(slot) >= engine.ctx
                if done:
                    if not st["stops"].stopped and t not in self.lm.eos_ids:
                        st["text"].append(st["stops"].push(st["decoder"].flush()))
                    st["text"].append(st["stops"].flush())
                    ri, si = st["job"]
                    out[ri][si], counts[ri][si] = "".join(st["text"]), st["n"]
                    total += st["n"]
                    del active[slot]
                    start(slot)
                else:
                    step_slots.append(slot)
                    step_tokens.append(t)
            if step_slots:
                logits = engine.decode(step_slots, step_tokens)
                for i, slot in enumerate(step_slots):
                    active[slot]["logits"] = logits[i]
        return Generation(out, total, time.perf_counter() - t0, counts)
