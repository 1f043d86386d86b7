"""TextStream: sampled tokens -> text that is safe to send (whole UTF-8 characters, stop strings cut, never leaked).

It chains infer's IncrementalDecoder (holds a token that ends inside a multi-byte character) and StopMatcher
(holds any tail that could still become a stop string), and keeps the text sent so far.
"""

from __future__ import annotations


class TextStream:
    def __init__(self, tokenizer, prompt_ids: list[int], stops: list[str], heal=None):
        """heal: the job's HealedPrompt (prompt_ids are then its ids); the text it re-spells is never sent."""
        # Imported here: the infer package's __init__ loads torch, and the server should be listening (and
        # answering /health with 503) while that happens.
        from nanochat_cli.infer.detok import IncrementalDecoder, StopMatcher

        self._decoder = heal.decoder(tokenizer) if heal is not None else IncrementalDecoder(tokenizer, prompt_ids)
        self._stops = StopMatcher(stops)
        self._sent: list[str] = []

    @property
    def stopped(self) -> bool:
        return self._stops.stopped

    @property
    def text(self) -> str:
        return "".join(self._sent)

    def push(self, token_id: int) -> str:
        """Add a token; return the text now safe to send ("" while held back). Sets .stopped on a stop string."""
        return self._out(self._stops.push(self._decoder.push(token_id)))

    def flush(self) -> str:
        """At the end of generation: whatever was held back (a partial stop prefix, an incomplete character)."""
        if self.stopped:
            return ""
        return self._out(self._stops.push(self._decoder.flush()) + self._stops.flush())

    def _out(self, piece: str) -> str:
        if piece:
            self._sent.append(piece)
        return piece
