"""Render chat messages to a prompt: the model's own Jinja template if it ships one, else DEFAULT_CHAT_TEMPLATE.

A GGUF may carry `tokenizer.chat_template` (the Hugging Face convention: Jinja over `messages`,
`add_generation_prompt`, `bos_token`, `eos_token`). nanochat's models are trained on plain Rust text
with no chat tokens, so the default is a plain-text transcript whose turn header doubles as a stop string.
"""

from __future__ import annotations

from functools import lru_cache

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nanochat_cli.serve.api_error import bad_request

DEFAULT_CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "### {{ m.role | capitalize }}:\n{{ m.content }}\n\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Assistant:\n{% endif %}"
)
# With the default template the model continuing past its turn writes the next header: stop there.
DEFAULT_TEMPLATE_STOPS = ["\n### "]


class ChatTemplate:
    """A compiled chat template; `render(messages)` gives the prompt text with the assistant turn opened."""

    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = ""):
        self.is_default = not source
        self.source = source or DEFAULT_CHAT_TEMPLATE
        self.bos_token, self.eos_token = bos_token, eos_token
        self.extra_stops = list(DEFAULT_TEMPLATE_STOPS) if self.is_default else []
        self._template = _compile(self.source)

    def render(self, messages: list[dict]) -> str:
        try:
            return self._template.render(messages=messages, add_generation_prompt=True,
                                         bos_token=self.bos_token, eos_token=self.eos_token)
        except jinja2.TemplateError as e:  # templates call raise_exception() on e.g. bad role order
            raise bad_request(f"the model's chat template refused these messages: {e}", "messages") from e


def _raise(message: str):
    raise jinja2.TemplateError(message)


@lru_cache(maxsize=8)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["raise_exception"] = _raise
    return env.from_string(source)
