"""Fill-in-the-middle: `POST /infill` (llama.cpp's endpoint) and `suffix` on /v1/completions.

The prompt is laid out PSM, as data/fim.py trains it: `<|fim_prefix|>PREFIX<|fim_suffix|>SUFFIX<|fim_middle|>`,
the control tokens as ids. Only a model trained with FIM can fill a gap; a GGUF says it was when its metadata
holds `nanochat.fim_rate` > 0 (the share of training documents rewritten FIM). For any other model the server
answers 400 `fim_not_trained` rather than pretend; a request may set `"allow_untrained_fim": true` to try anyway,
and then every response (and stream chunk) carries a `warning` field saying the model was not trained for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nanochat_cli.serve.api_error import ApiError, bad_request
from nanochat_cli.ternary.constants import KEY_FIM_RATE

FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"
UNTRAINED_WARNING = (f"this model was not trained fill-in-the-middle (its GGUF has no {KEY_FIM_RATE} > 0): "
                     "the infill is unlikely to fit the gap")


@dataclass
class FimSupport:
    """What the loaded model offers for infill: its FIM token ids (None: the tokenizer has none) and training."""

    tokens: tuple[int, int, int] | None  # (prefix, suffix, middle)
    trained: bool
    note: str

    @classmethod
    def of(cls, backend) -> FimSupport:
        tokens = getattr(backend, "fim_token_ids", None)
        rate = getattr(backend, "fim_rate", None) or 0.0
        if tokens is None:
            return cls(None, False, "the tokenizer has no <|fim_prefix|>/<|fim_suffix|>/<|fim_middle|> tokens")
        if rate <= 0:
            return cls(tokens, False, UNTRAINED_WARNING)
        return cls(tokens, True, f"trained with {rate:.0%} of documents fill-in-the-middle")

    def check(self, body: dict) -> str | None:
        """Raise the 400 that refuses FIM on this model, or return the warning a response must carry (None: none)."""
        if self.tokens is None:
            raise ApiError(400, f"fill-in-the-middle is unavailable: {self.note}", "fim_unsupported", "suffix")
        if self.trained:
            return None
        allow = body.get("allow_untrained_fim")
        if allow is not None and not isinstance(allow, bool):
            raise bad_request("'allow_untrained_fim' must be true or false", "allow_untrained_fim", "invalid_type")
        if not allow:
            raise ApiError(400, f"{UNTRAINED_WARNING}; train it with data.fim_rate > 0, or send "
                                '"allow_untrained_fim": true to try anyway', "fim_not_trained", "suffix")
        return UNTRAINED_WARNING

    def prompt_ids(self, encode, prefix: str, suffix: str, middle: str = "") -> list[int]:
        p, s, m = self.tokens
        return [p, *encode(prefix), s, *encode(suffix), m, *(encode(middle) if middle else [])]


def text_field(body: dict, key: str) -> str:
    v = body.get(key, "")
    if not isinstance(v, str):
        raise bad_request(f"'{key}' must be a string", key, "invalid_type")
    return v

