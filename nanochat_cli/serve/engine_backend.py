"""EngineBackend: the infer package's Engine, Sampler and tokenizer behind the ServingBackend protocol.

`load_engine_backend(cfg)` loads a nanochat GGUF (or checkpoint directory), makes an Engine with
`cfg.parallel` slots of `cfg.ctx` tokens, and reads the chat template from the GGUF metadata
(`tokenizer.chat_template`) when the file carries one.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from pathlib import Path

import numpy as np

from nanochat_cli.infer.engine import Engine
from nanochat_cli.infer.generate import EOT, LoadedModel, load_model
from nanochat_cli.infer.sampling import HistorySampler
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.infill import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from nanochat_cli.serve.request_schema import SamplingRequest
from nanochat_cli.ternary.constants import KEY_FIM_RATE

CHAT_TEMPLATE_KEY = "tokenizer.chat_template"  # the GGUF / Hugging Face convention
# Turning a long prompt's ids into a Python list holds the GIL (15 ms for the 400k ids of 900 KB): one text thread
# at a time, so the event loop waits behind one such step, never behind four in a row.
_IDS_TO_PYTHON = threading.Lock()


class EngineBackend:
    def __init__(self, lm: LoadedModel, n_slots: int, ctx: int, model_id: str, chat_template: str | None,
                 fim_rate: float | None = None):
        self.lm = lm
        self.engine = Engine(lm.model, n_slots, ctx or None)
        self.tokenizer = lm.tokenizer
        start_tokenizer_threads_at_low_priority(self.tokenizer)
        self.model_id, self.n_slots, self.ctx = model_id, n_slots, self.engine.ctx
        self.vocab_size = self.engine.vocab_size
        self.eos_ids = frozenset(lm.eos_ids)
        self.chat_template = chat_template
        self.bos_token, self.eos_token = "", EOT
        fim = [self.tokenizer.token_to_id(t) for t in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)]
        self.fim_token_ids = tuple(fim) if None not in fim else None
        self.fim_rate = fim_rate

    # ---- text ----
    def encode(self, text: str) -> list[int]:
        # lm.encode's ids, through a batch call: those release the GIL while they tokenize and encode does not, so a
        # long prompt tokenized on the server's text threads leaves the event loop running. The fast one skips the
        # character offsets nothing here reads: half the time, and no 900 KB Encoding to free under the GIL (35 ms).
        encoding = self.tokenizer.encode_batch_fast([text], add_special_tokens=False)[0]
        with _IDS_TO_PYTHON:
            return encoding.ids

    def decode_text(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def token_text(self, token_id: int) -> str:
        return self.tokenizer.decode([token_id], skip_special_tokens=False)

    # ---- slots ----
    def reusable_prefix(self, slot: int, ids: list[int]) -> int:
        return self.engine.reusable_prefix(slot, ids)

    def length(self, slot: int) -> int:
        return self.engine.length(slot)

    def prefill(self, slot: int, start: int, ids: list[int], all_logits: bool = False) -> np.ndarray:
        if start != self.engine.length(slot):
            self.engine.truncate(slot, start)
        return self.engine.prefill(slot, ids, all_logits=all_logits)

    def decode(self, slots: list[int], tokens: list[int]) -> np.ndarray:
        return self.engine.decode(slots, tokens)

    def new_sampler(self, req: SamplingRequest, seed: int | None, prompt_ids: list[int]) -> HistorySampler:
        s = req.sampling
        params = dataclasses.replace(
            s, temperature=0.0 if s.top_p == 0 else s.temperature, top_p=s.top_p or 1.0,  # top_p -> 0 is greedy
            seed=seed, max_tokens=req.max_tokens or 0)
        return HistorySampler(params, prompt_ids)


def start_tokenizer_threads_at_low_priority(tokenizer) -> None:
    """Start tokenizers' worker pool (rayon: one thread a core, made on first use) from a thread at nice 19.

    Linux nice values are per thread and inherited by the threads a thread starts, so the tokenizing itself (all
    cores for four 900 KB prompts) yields the CPU to the event loop, and to text threads holding the GIL, whenever
    they can run. Elsewhere, or when the pool already exists, this only starts it.
    """
    def start() -> None:
        if sys.platform.startswith("linux"):  # elsewhere PRIO_PROCESS of a thread id is not one thread
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            except OSError:
                pass
        tokenizer.encode_batch_fast(["", ""], add_special_tokens=False)

    thread = threading.Thread(target=start, name="nanochat-tokenizer-start", daemon=True)
    thread.start()
    thread.join()

def model_id_for(path: str) -> str:
    p = Path(path).expanduser()
    return p.name if p.is_dir() else p.stem


def read_serving_metadata(path: str) -> tuple[str | None, float | None]:
    """(chat template, FIM training rate) recorded with the model; None where it records none."""
    p = Path(path).expanduser()
    if p.is_dir():  # a checkpoint directory: what its export would record
        from nanochat_cli.formats.checkpoint_dir import fim_rate, read_config

        template = p / "chat_template.jinja"
        return (template.read_text() if template.is_file() else None), fim_rate(read_config(p))
    from nanochat_cli.formats.gguf_io import read_gguf

    meta = read_gguf(p).metadata
    template, rate = meta.get(CHAT_TEMPLATE_KEY), meta.get(KEY_FIM_RATE)
    return (template if isinstance(template, str) and template.strip() else None,
            float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None)


def load_engine_backend(cfg: ServeConfig) -> EngineBackend:
    lm = load_model(cfg.model, threads=cfg.threads or None, int8_head=cfg.int8_head or None)
    template, fim_rate = read_serving_metadata(cfg.model)
    return EngineBackend(lm, cfg.parallel, cfg.ctx, cfg.model_alias or model_id_for(cfg.model), template, fim_rate)
