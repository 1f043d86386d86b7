"""Token healing: back off the prompt's last tokens and make the completion start with their text.

A byte-level BPE cuts the prompt where the text ends, not where training cut it: a prompt ending in "{\\n" ends
on a lone "\\n" token, which in training almost always comes right before a "}" at column 0 (an indented line
would have tokenized as "\\n   " + " x"), so the model closes the item at once. Healing removes the last
tokens (their bytes are R), prefills the rest, and allows at each of the first steps only tokens whose bytes
start with R (the constraint is met: lift it) or are a proper prefix of R (consume it, constrain to the rest).
The completion the user sees is the generated text minus R: exactly what follows the original prompt.

    heal = HealedPrompt(healer_for(tokenizer), prompt_ids)   # heal.ids: the prompt to prefill
    tok = sampler(heal.mask(logits), history); heal.push(tok)
    decoder = heal.decoder(tokenizer)                        # an IncrementalDecoder that never returns R

Every entry point (`nanochat generate`, `serve`, `eval`) heals by default; SamplingParams.token_healing,
the request field "token_healing" and --no-token-healing turn it off.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from nanochat_cli.infer.detok import IncrementalDecoder

MAX_BACKOFF = 4
"""Most tokens backed off (one more per byte when the cut would split a UTF-8 character). A cut word or a
whitespace run is rarely longer; each backed-off token costs one constrained decode step."""

_SPACE = frozenset(b" \t\n\r\x0b\x0c")


def _is_space(b: bytes) -> bool:
    return all(c in _SPACE for c in b)


def _is_word(c: int) -> bool:
    """A byte of an identifier or a number: ASCII letter, digit, '_', or any byte of a non-ASCII character."""
    return c >= 0x80 or c == 0x5F or chr(c).isalnum()


class TokenHealer:
    """Per-vocabulary tables for healing, tokenizer-agnostic: token i is the byte string token_bytes[i], or None
    for a token that is not text (special / added tokens): never backed off, never allowed while constrained."""

    def __init__(self, token_bytes: Sequence[bytes | None]):
        self.token_bytes = list(token_bytes)
        usable = sorted((b, i) for i, b in enumerate(self.token_bytes) if b)
        # sorted byte strings: the tokens starting with R are one contiguous run, found by two bisections
        self._sorted = [b for b, _ in usable]
        self._sorted_ids = np.array([i for _, i in usable], dtype=np.int64)
        self._exact: dict[bytes, list[int]] = {}
        for b, i in usable:
            self._exact.setdefault(b, []).append(i)

    def bytes_of(self, token: int) -> bytes | None:
        """The token's bytes; None for a special token or an id past the tokenizer's vocabulary."""
        return self.token_bytes[token] if 0 <= token < len(self.token_bytes) else None

    def backoff(self, prompt_ids: Sequence[int]) -> int:
        """How many trailing tokens to back off (0 = do not heal).

        The prompt's end cuts short only its last pre-token; every earlier token boundary is one training also
        saw. Approximated on bytes: a trailing run of whitespace tokens ("\\n", "\\n    ": the regex splits a
        run differently when text follows it), else the trailing word pieces ("fn fibo" -> " f" "i" "b" "o":
        back off while a piece starts with a word byte and the one before ends with one), else the last token
        (" {" may continue as " {}"). At least one prompt token is kept; R starts on a character boundary."""
        limit = min(MAX_BACKOFF, len(prompt_ids) - 1)
        last = self.bytes_of(prompt_ids[-1]) if prompt_ids else None
        if limit < 1 or not last:
            return 0
        n = 1
        while n < limit:
            prev, cur = self.bytes_of(prompt_ids[-n - 1]), self.bytes_of(prompt_ids[-n])
            if not prev or not (_is_space(prev) if _is_space(last) else _is_word(cur[0]) and _is_word(prev[-1])):
                break
            n += 1
        # a token cut inside a UTF-8 character: take the character's first bytes too, or do not heal
        while 0x80 <= self.bytes_of(prompt_ids[-n])[0] < 0xC0:
            if n + 1 > min(limit + 3, len(prompt_ids) - 1) or not self.bytes_of(prompt_ids[-n - 1]):
                return 0
            n += 1
        return n

    def allowed(self, rest: bytes) -> np.ndarray:
        """Token ids whose bytes start with rest, or are a non-empty proper prefix of it."""
        lo = bisect_left(self._sorted, rest)
        head = rest.rstrip(b"\xff")  # the smallest byte string above every string that starts with rest
        hi = bisect_left(self._sorted, head[:-1] + bytes([head[-1] + 1])) if head else len(self._sorted)
        ids = [self._sorted_ids[lo:hi]]
        ids += [np.array(self._exact[rest[:k]]) for k in range(1, len(rest)) if rest[:k] in self._exact]
        return np.concatenate(ids)

    def cover(self, rest: bytes) -> int | None:
        """The longest token that is a prefix of rest (the forced choice when the model allows none)."""
        for k in range(len(rest), 0, -1):
            if rest[:k] in self._exact:
                return self._exact[rest[:k]][0]
        return None


class HealedPrompt:
    """One request's healing: the prompt to prefill, the constraint on the first tokens, the text not to repeat."""

    def __init__(self, healer: TokenHealer | None, prompt_ids: Sequence[int], enabled: bool = True):
        n = healer.backoff(prompt_ids) if healer is not None and enabled else 0
        self.healer = healer
        self.ids = list(prompt_ids[:len(prompt_ids) - n])
        self.removed = b"".join(healer.token_bytes[t] for t in prompt_ids[len(self.ids):]) if n else b""
        try:  # whole characters (a prompt given as token ids may cut one): the generated text starts with them
            self.skip = len(self.removed.decode("utf-8"))
        except UnicodeDecodeError:
            self.skip = 0
        if not self.skip or not healer.allowed(self.removed).size:
            self.ids, self.removed, self.skip = list(prompt_ids), b"", 0
        self.pending = self.removed  # bytes of R still to be generated
        self.allowed_now: np.ndarray | None = None  # the ids the last mask() allowed (None: it did not constrain)

    @property
    def constrained(self) -> bool:
        return bool(self.pending)

    def mask(self, logits: np.ndarray) -> np.ndarray:
        """logits with every token the constraint forbids at -inf (logits itself once the constraint is met).
        If the model gives every allowed token -inf (or NaN), the longest token that is a prefix of the rest is
        forced: the prompt text comes back as it would have without healing."""
        self.allowed_now = None
        if not self.pending:
            return logits
        ids = self.healer.allowed(self.pending)
        ids = ids[ids < logits.shape[-1]]
        vals = np.asarray(logits, dtype=np.float32)[ids]
        out = np.full(logits.shape[-1], -np.inf, dtype=np.float32)
        if np.any(vals > -np.inf):
            out[ids] = vals
            self.allowed_now = ids
            return out
        forced = self.healer.cover(self.pending)
        if forced is None or forced >= out.size:  # no vocabulary token spells the rest: give up the constraint
            self.pending = b""
            return logits
        out[forced] = 0.0
        self.allowed_now = np.array([forced])
        return out

    def push(self, token: int) -> None:
        """Advance the constraint past a sampled token."""
        self.allowed_now = None
        if not self.pending:
            return
        b = self.healer.bytes_of(token) or b""
        if b.startswith(self.pending):
            self.pending = b""
        elif b and self.pending.startswith(b):
            self.pending = self.pending[len(b):]
        else:  # a token the mask did not allow (a caller that sampled unmasked logits): stop constraining
            self.pending = b""

    def strip(self, text: str) -> str:
        """Drop the generated text's first characters that repeat R (call on the decoded stream, in order)."""
        if not self.skip or not text:
            return text
        k = min(self.skip, len(text))
        self.skip -= k
        return text[k:]

    def decoder(self, tokenizer) -> HealedDecoder:
        return HealedDecoder(IncrementalDecoder(tokenizer, self.ids), self)


class HealedDecoder:
    """IncrementalDecoder's push / flush, with the re-generated prompt text R cut from the front."""

    def __init__(self, inner: IncrementalDecoder, heal: HealedPrompt):
        self.inner, self.heal = inner, heal

    def push(self, token: int) -> str:
        return self.heal.strip(self.inner.push(token))

    def flush(self) -> str:
        return self.heal.strip(self.inner.flush())


# ---- byte-level BPE (HF tokenizers) ----

def _byte_decoder() -> dict[str, int]:
    """GPT-2's ByteLevel alphabet inverted: the printable character a token string uses -> the byte it stands for."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = list(bs)  # printable bytes stand for themselves; the others, in order, for chr(256), chr(257), ...
    extra = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def tokenizer_bytes(tokenizer) -> list[bytes | None]:
    """Each token's bytes for a byte-level BPE tokenizer; None for added / special tokens. A tokenizer whose
    decoder is not ByteLevel gets all None (healing then never backs off)."""
    from tokenizers import decoders

    vocab = tokenizer.get_vocab(with_added_tokens=True)
    table: list[bytes | None] = [None] * (max(vocab.values(), default=-1) + 1)
    if not isinstance(tokenizer.decoder, decoders.ByteLevel):
        return table
    added = set(tokenizer.get_added_tokens_decoder())
    dec = _byte_decoder()
    for s, i in vocab.items():
        if i not in added and all(c in dec for c in s):
            table[i] = bytes(dec[c] for c in s)
    return table


_HEALERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def healer_for(tokenizer) -> TokenHealer:
    """The tokenizer's TokenHealer, built once (about 40 ms for 8192 tokens) and kept while it lives."""
    healer = _HEALERS.get(tokenizer)
    if healer is None:
        healer = _HEALERS[tokenizer] = TokenHealer(tokenizer_bytes(tokenizer))
    return healer
