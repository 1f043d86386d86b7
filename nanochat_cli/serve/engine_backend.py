"""EngineBackend: the infer package's Engine, Sampler and tokenizer behind the ServingBackend protocol.

`load_engine_backend(cfg)` loads a nanochat GGUF (or checkpoint directory), makes an Engine with
`cfg.parallel` slots of `cfg.ctx` tokens, and reads the chat template from the GGUF metadata
(`tokenizer.chat_template`) when the file carries one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nanochat_cli.infer.engine import Engine
from nanochat_cli.infer.generate import EOT, LoadedModel, load_model
from nanochat_cli.infer.sampling import Sampler, SamplingParams
from nanochat_cli.serve.config import ServeConfig
from nanochat_cli.serve.request_schema import SamplingRequest

CHAT_TEMPLATE_KEY = "tokenizer.chat_template"  # the GGUF / Hugging Face convention


class HistorySampler:
    """infer's Sampler plus the token history its penalties look at (prompt, then every sampled token)."""

    def __init__(self, params: SamplingParams, prompt_ids: list[int]):
        self.sampler, self.history = Sampler(params), list(prompt_ids)

    def sample(self, logits: np.ndarray) -> int:
        token = self.sampler(logits, self.history)
        self.history.append(token)
        return token


class EngineBackend:
    def __init__(self, lm: LoadedModel, n_slots: int, ctx: int, model_id: str, chat_template: str | None):
        self.lm = lm
        self.engine = Engine(lm.model, n_slots, ctx or None)
        self.tokenizer = lm.tokenizer
        self.model_id, self.n_slots, self.ctx = model_id, n_slots, self.engine.ctx
        self.vocab_size = self.engine.vocab_size
        self.eos_ids = frozenset(lm.eos_ids)
        self.chat_template = chat_template
        self.bos_token, self.eos_token = "", EOT

    # ---- text ----
    def encode(self, text: str) -> list[int]:
        # lm.encode's ids, through the batch call: tokenizers' encode_batch releases the GIL and encode does not,
        # so a long prompt tokenized on the server's text threads leaves the event loop running.
        return self.tokenizer.encode_batch([text], add_special_tokens=False)[0].ids

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
        params = SamplingParams(
            temperature=0.0 if req.top_p == 0 else req.temperature,  # top_p -> 0 is greedy
            top_k=req.top_k, top_p=req.top_p or 1.0, min_p=req.min_p, repeat_penalty=req.repetition_penalty,
            presence_penalty=req.presence_penalty, frequency_penalty=req.frequency_penalty, seed=seed,
            max_tokens=req.max_tokens or 0)
        return HistorySampler(params, prompt_ids)


def model_id_for(path: str) -> str:
    p = Path(path).expanduser()
    return p.name if p.is_dir() else p.stem


def read_chat_template(path: str) -> str | None:
    p = Path(path).expanduser()
    if p.is_dir():
        for name in ("chat_template.jinja",):
            if (p / name).is_file():
                return (p / name).read_text()
        return None
    from nanochat_cli.ternary import read_gguf

    value = read_gguf(p).metadata.get(CHAT_TEMPLATE_KEY)
    return value if isinstance(value, str) and value.strip() else None


def load_engine_backend(cfg: ServeConfig) -> EngineBackend:
    lm = load_model(cfg.model, threads=cfg.threads or None)
    return EngineBackend(lm, cfg.parallel, cfg.ctx, cfg.model_alias or model_id_for(cfg.model),
                         read_chat_template(cfg.model))
