"""Chat templates: the documented default, a Hugging Face-style Jinja template read from GGUF metadata, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from nanochat_cli.formats.gguf_io import write_gguf
from nanochat_cli.serve.api_error import ApiError
from nanochat_cli.serve.chat_template import DEFAULT_CHAT_TEMPLATE, ChatTemplate

CHATML = (
    "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tools') }}{% endif %}"
    "<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_default_template_is_a_plain_transcript_that_stops_at_the_next_header():
    t = ChatTemplate(None)
    assert t.source == DEFAULT_CHAT_TEMPLATE and t.extra_stops == ["\n### "]
    out = t.render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "fn add?"}])
    assert out == "### System:\nBe brief.\n\n### User:\nfn add?\n\n### Assistant:\n"


def test_model_template_from_gguf_metadata_is_used_and_adds_no_stops(tmp_path):
    from nanochat_cli.serve.engine_backend import read_serving_metadata

    path = write_gguf(tmp_path / "m.gguf", [("x", np.zeros(4, np.float32))], {"tokenizer.chat_template": CHATML})
    source = read_serving_metadata(str(path))[0]
    assert source == CHATML
    t = ChatTemplate(source)
    assert t.extra_stops == []
    assert t.render([{"role": "user", "content": "hi"}]) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert read_serving_metadata(str(write_gguf(tmp_path / "n.gguf", [("x", np.zeros(4, np.float32))], {})))[0] is None


def test_template_refusal_is_a_400_not_a_crash():
    with pytest.raises(ApiError) as e:
        ChatTemplate(CHATML).render([{"role": "tool", "content": "x"}])
    assert e.value.status == 400 and "no tools" in e.value.message


def test_templates_run_sandboxed():
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(ApiError) as e:  # the sandbox refuses attribute access to internals
        ChatTemplate(evil).render([{"role": "user", "content": "x"}])
    assert e.value.status == 400
