"""Incremental detokenization that never splits a UTF-8 character, and stop strings that never leak.

A byte-level BPE token can end in the middle of a multi-byte character; the tokenizer then decodes the partial
bytes to U+FFFD. IncrementalDecoder holds such tokens back until the character completes (TGI's prefix/read
offsets). StopMatcher holds back any tail of the text that could still become a stop string. TextStream chains the
two (with token healing's cut of the re-spelled prompt text) and keeps what it sent: the text half of a
SequenceDecode (infer/decode.py).

tokenizers.decoders.DecodeStream (0.23) does what IncrementalDecoder.push does, about 1 us/token faster, but has no
flush (a character cut by the end of generation must still come out, as U+FFFD) and raises on a decode that does
not extend its prefix; a decode step costs milliseconds, so the hand-written decoder stays.
"""

from __future__ import annotations


class IncrementalDecoder:
    def __init__(self, tokenizer, prompt_ids: list[int] | None = None):
        self.tok = tokenizer
        # decoding starts from a few prompt tokens so that the first piece gets the same spacing as in context
        self.ids: list[int] = list(prompt_ids[-4:]) if prompt_ids else []
        self.prefix = 0
        self.read = len(self.ids)

    def _decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=False)

    def push(self, token: int) -> str:
        """Add one token; return the text it completes ('' while a character is still incomplete)."""
        self.ids.append(token)
        before = self._decode(self.ids[self.prefix:self.read])
        after = self._decode(self.ids[self.prefix:])
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return after[len(before):]
        return ""

    def flush(self) -> str:
        """Whatever is left at the end (an incomplete character comes out as U+FFFD)."""
        before = self._decode(self.ids[self.prefix:self.read])
        after = self._decode(self.ids[self.prefix:])
        self.prefix = self.read = len(self.ids)
        return after[len(before):]


class StopMatcher:
    """Feed text pieces; get back what is safe to emit, and whether a stop string was hit."""

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.stopped = False

    def push(self, piece: str) -> str:
        if self.stopped:
            return ""
        text = self.pending + piece
        hits = [(text.find(s), s) for s in self.stops if s in text]
        if hits:
            self.stopped = True
            self.pending = ""
            return text[:min(hits)[0]]
        hold = 0
        for s in self.stops:  # longest tail of text that is a proper prefix of a stop string
            for n in range(min(len(s) - 1, len(text)), hold, -1):
                if text.endswith(s[:n]):
                    hold = n
                    break
        self.pending = text[len(text) - hold:] if hold else ""
        return text[:len(text) - hold]

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return "" if self.stopped else out


class TextStream:
    """Sampled tokens -> text that is safe to send: whole UTF-8 characters, stop strings cut and never leaked."""

    def __init__(self, tokenizer, prompt_ids: list[int], stops: list[str], heal=None):
        """heal: the sequence's HealedPrompt (prompt_ids are then its ids); the text it re-spells is never sent."""
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
