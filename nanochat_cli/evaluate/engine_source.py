"""Completions from a local model (GGUF file or checkpoint dir) on nanochat's native engine, batched.

`EngineSource(path, batch=4)` loads the model with `nanochat_cli.infer.load_model` and decodes up to
`batch` samples together with infer's `decode_batch`: each sample gets a slot, its prompt is prefilled, then
one batched `engine.decode` step advances every unfinished slot; a finished slot takes the next pending sample.
Sample i of a problem is sampled with seed + i (as with --server), so a run is reproducible.
A prompt longer than the model's context yields an empty completion (counted in `context_overflows`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.completion_sources import CompletionRequest, Generation, GenerationParams
from nanochat_cli.file_hash import file_sha256


class EngineSource:
    """A `CompletionSource` running a nanochat GGUF / checkpoint directory in-process."""

    def __init__(self, path: str | Path, batch: int = 4, threads: int | None = None, ctx: int | None = None,
                 int8_head: bool = False):
        from nanochat_cli.infer import load_model

        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise NanochatError(f"model {self.path} not found; give a .gguf from nanochat export or a checkpoint dir")
        if batch < 1:
            raise NanochatError("--batch must be at least 1")
        self.lm = load_model(str(self.path), threads=threads, int8_head=int8_head or None)
        self.engine = self.lm.engine(n_slots=batch, ctx=ctx)
        self.context_overflows = 0

    def identity(self) -> dict:
        if self.path.is_file():
            digest, weights = file_sha256(self.path), self.path
        else:  # a checkpoint dir (or a run dir: its newest checkpoint): the weights file identifies it
            from nanochat_cli.formats.checkpoint_dir import resolve_checkpoint

            weights = resolve_checkpoint(self.path) / "model.safetensors"
            digest = file_sha256(weights) if weights.is_file() else None
        return {"kind": "engine", "path": str(self.path.resolve()), "file_sha256": digest,
                "hashed_file": str(weights.resolve()), "context": self.engine.ctx, "batch": self.engine.n_slots,
                "head": type(self.lm.model.head).__name__,
                "context_overflows": self.context_overflows}

    def complete(self, requests: list[CompletionRequest], params: GenerationParams,
                 progress: Callable[[int, int], None] | None = None) -> Generation:
        """Decode every sample; `progress(1, tokens)` is called as each one finishes (the eval bar)."""
        from nanochat_cli.infer.decode import SequenceDecode, decode_batch

        out = [["" for _ in range(params.n_samples)] for _ in requests]
        counts: list[list[int | None]] = [[0] * params.n_samples for _ in requests]

        def sequences():
            for ri, req in enumerate(requests):
                for si in range(params.n_samples):
                    sp = params.for_sample(si, req.stop)
                    yield (ri, si), SequenceDecode.start(self.lm.tokenizer, self.lm.encode(req.prompt), sp,
                                                         self.lm.eos_ids)

        t0 = time.perf_counter()
        total = 0
        for (ri, si), seq in decode_batch(self.engine, sequences()):
            if seq is None:
                self.context_overflows += 1  # an empty completion
                if progress:
                    progress(1, 0)
                continue
            out[ri][si], counts[ri][si] = seq.text, len(seq.tokens)
            total += len(seq.tokens)
            if progress:
                progress(1, len(seq.tokens))
        return Generation(out, total, time.perf_counter() - t0, counts)
