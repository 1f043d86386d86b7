"""TextStream (IncrementalDecoder + StopMatcher, the text half of every SequenceDecode): streamed text equals the whole decode cut at the first stop string, whatever the token split."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.infer.detok import TextStream
from tests.serve.bigram_backend import small_tokenizer

TOK = small_tokenizer()
SAMPLE = "fn main() {\n    println!(\"Ünïcödé ✓ 日本語\");\n}\n"


def run(ids: list[int], stops: list[str]) -> tuple[str, bool]:
    s = TextStream(TOK, [], stops)
    out = "".join(s.push(t) for t in ids) + s.flush()
    assert out == s.text
    return out, s.stopped


def expected(ids: list[int], stops: list[str]) -> str:
    """A stream stops at the first token after which some stop string is complete, cut where the earliest one
    present starts (a later-completing stop that would have started earlier cannot be known yet)."""
    for k in range(1, len(ids) + 1):
        visible = TOK.decode(ids[:k]).rstrip("\ufffd")
        hits = [visible.find(s) for s in stops if s in visible]
        if hits:
            return visible[:min(hits)]
    return TOK.decode(ids)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=SAMPLE, min_size=0, max_size=40), st.lists(st.text(alphabet=SAMPLE, min_size=1, max_size=4),
                                                                  max_size=3))
def test_streamed_text_is_the_decode_cut_at_the_first_stop(text, stops):
    ids = TOK.encode(text).ids
    out, stopped = run(ids, stops)
    assert out == expected(ids, stops)
    assert stopped == any(s in text for s in stops)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="aé✓日🙂", min_size=1, max_size=20))
def test_byte_level_tokens_never_emit_half_a_character(text):
    # characters the BPE never saw (🙂, é, 日) are several byte tokens each: they arrive split
    ids = [i for ch in text for i in TOK.encode(ch).ids]
    s = TextStream(TOK, [], [])
    pieces = [s.push(t) for t in ids]
    assert all("\ufffd" not in p for p in pieces)
    assert "".join(pieces) + s.flush() == text


def test_stop_string_split_over_tokens_is_never_leaked():
    ids = TOK.encode("abc END def").ids
    s = TextStream(TOK, [], ["END"])
    pieces = [s.push(t) for t in ids]
    assert "".join(pieces) == "abc "
    assert s.stopped and all("E" not in p for p in pieces)
