"""Parse and validate OpenAI request bodies into SamplingRequest: every wrong type or range is a 400.

A request's sampling settings become the one SamplingParams type (sampling_params.py); the request keeps
only what is about delivery (max_tokens, n, stream, logprobs, echo, ...).

Unknown keys are ignored (clients send `user`, `metadata`, ...), as OpenAI-compatible servers do; known
features this server lacks (logit_bias, tools, best_of, JSON response formats) are refused with a 400.
"""

from __future__ import annotations

from dataclasses import dataclass

from nanochat_cli.sampling_params import SamplingParams
from nanochat_cli.serve.api_error import ApiError, bad_request

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_STOP_STRINGS = 16
MAX_STOP_CHARS = 256
MAX_TOP_LOGPROBS = 20


@dataclass
class SamplingRequest:
    """What one request asks of the scheduler, independent of the endpoint it came through."""

    sampling: SamplingParams  # temperature, top_k/p, min_p, penalties, seed (any int64/uint64), stop, token_healing
    max_tokens: int | None = None  # None = fill the slot's context (sampling.max_tokens is not read by serve)
    n: int = 1
    stream: bool = False
    include_usage: bool = False
    logprobs: int | None = None  # None = no logprobs; k = the chosen token's plus the top k
    echo: bool = False  # completions: return the prompt (and its logprobs) before the completion
    ignore_eos: bool = False


# ---- typed field readers ----

def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _shown(v) -> str:
    """A value quoted in an error message, cut short: a client may send a 4000-digit number."""
    text = str(v)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _float(body: dict, key: str, default: float, lo: float, hi: float) -> float:
    v = body.get(key)
    if v is None:
        return default
    if not _is_number(v):
        raise bad_request(f"'{key}' must be a number, got {type(v).__name__}", key, "invalid_type")
    if not lo <= v <= hi:
        raise bad_request(f"'{key}' must be between {lo} and {hi}, got {_shown(v)}", key)
    return float(v)


def _int(body: dict, key: str, default: int | None, lo: int, hi: int) -> int | None:
    v = body.get(key)
    if v is None:
        return default
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool):
        raise bad_request(f"'{key}' must be an integer, got {type(v).__name__}", key, "invalid_type")
    if not lo <= v <= hi:
        raise bad_request(f"'{key}' must be between {lo} and {hi}, got {_shown(v)}", key)
    return v


def _bool(body: dict, key: str, default: bool) -> bool:
    v = body.get(key)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise bad_request(f"'{key}' must be true or false, got {type(v).__name__}", key, "invalid_type")
    return v


def _stop(body: dict) -> list[str]:
    v = body.get("stop")
    if v is None:
        return []
    stops = [v] if isinstance(v, str) else v
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise bad_request("'stop' must be a string or a list of strings", "stop", "invalid_type")
    if len(stops) > MAX_STOP_STRINGS or any(len(s) > MAX_STOP_CHARS for s in stops):
        raise bad_request(f"'stop' allows at most {MAX_STOP_STRINGS} strings of {MAX_STOP_CHARS} characters", "stop")
    return [s for s in stops if s]


def check_model(body: dict, model_id: str) -> None:
    """A request may omit `model`; one that names another model gets 404, as OpenAI answers."""
    v = body.get("model")
    if v is None:
        return
    if not isinstance(v, str):
        raise bad_request("'model' must be a string", "model", "invalid_type")
    if v != model_id:
        raise ApiError(404, f"the model '{v}' does not exist; this server serves '{model_id}' (GET /v1/models)",
                       "model_not_found", "model")


def refuse_unsupported(body: dict) -> None:
    """Fields that would change the output if honoured are refused, not silently ignored."""
    for key in ("logit_bias", "tools", "functions", "tool_choice", "function_call"):
        if body.get(key) not in (None, {}, [], "", "none", "auto"):
            raise bad_request(f"'{key}' is not supported by this server; remove it", key, "unsupported_parameter")
    if body.get("best_of") not in (None, 1, body.get("n", 1)):
        raise bad_request("'best_of' is not supported by this server; use 'n'", "best_of", "unsupported_parameter")
    fmt = body.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") == "text"):
        raise bad_request("only the 'text' response_format is supported", "response_format", "unsupported_parameter")


def sampling_request(body: dict, *, n_slots: int, max_tokens_limit: int, chat: bool) -> SamplingRequest:
    """The sampling fields shared by both endpoints; chat takes logprobs as a bool plus top_logprobs."""
    refuse_unsupported(body)
    token_key = "max_completion_tokens" if chat and body.get("max_completion_tokens") is not None else "max_tokens"
    sampling = SamplingParams(
        temperature=_float(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_float(body, "top_p", 1.0, 0.0, 1.0),  # 0 is greedy: the backend decides how (engine_backend.py)
        top_k=max(0, _int(body, "top_k", 0, -1, 1 << 20)),
        min_p=_float(body, "min_p", 0.0, 0.0, 1.0),
        presence_penalty=_float(body, "presence_penalty", 0.0, -2.0, 2.0),
        frequency_penalty=_float(body, "frequency_penalty", 0.0, -2.0, 2.0),
        repeat_penalty=_float(body, "repetition_penalty", 1.0, 0.01, 10.0),
        seed=_int(body, "seed", None, -(1 << 63), (1 << 64) - 1),
        stop=_stop(body),
        token_healing=_bool(body, "token_healing", True),  # nanochat's own field: re-spell the prompt's last tokens
    )
    req = SamplingRequest(
        sampling,
        # OpenAI's completions default is 16 tokens; chat fills the context.
        max_tokens=_int(body, token_key, None if chat else 16, 1 if chat else 0, max_tokens_limit),
        n=_int(body, "n", 1, 1, n_slots),
        stream=_bool(body, "stream", False),
        ignore_eos=_bool(body, "ignore_eos", False),
    )
    opts = body.get("stream_options")
    if opts is not None:
        if not isinstance(opts, dict):
            raise bad_request("'stream_options' must be an object", "stream_options", "invalid_type")
        if not req.stream:
            raise bad_request("'stream_options' is only allowed with stream: true", "stream_options")
        req.include_usage = _bool(opts, "include_usage", False)
    if chat:
        if _bool(body, "logprobs", False):
            req.logprobs = _int(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS)
        elif body.get("top_logprobs") is not None:
            raise bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs")
    else:
        req.logprobs = _int(body, "logprobs", None, 0, MAX_TOP_LOGPROBS)
        req.echo = _bool(body, "echo", False)
        if req.echo and req.stream:
            raise bad_request("'echo' is not supported with stream: true", "echo")
    return req


# ---- prompts and messages ----

def completion_prompts(body: dict, max_prompts: int) -> list[str | list[int]]:
    """`prompt` as OpenAI allows it: a string, a list of strings, a list of token ids, or a list of those lists."""
    p = body.get("prompt")
    if p is None:
        raise bad_request("'prompt' is required", "prompt", "missing_field")
    if isinstance(p, str):
        return [p]
    if not isinstance(p, list) or not p:
        raise bad_request("'prompt' must be a string, a list of strings or a list of token ids", "prompt", "invalid_type")
    if all(isinstance(t, int) and not isinstance(t, bool) for t in p):
        return [list(p)]
    if len(p) > max_prompts:
        raise bad_request(f"at most {max_prompts} prompts per request, got {len(p)}", "prompt")
    prompts: list[str | list[int]] = []
    for item in p:
        if isinstance(item, str):
            prompts.append(item)
        elif isinstance(item, list) and item and all(isinstance(t, int) and not isinstance(t, bool) for t in item):
            prompts.append(list(item))
        else:
            raise bad_request("each prompt must be a string or a non-empty list of token ids", "prompt", "invalid_type")
    return prompts


def chat_messages(body: dict, max_messages: int) -> list[dict]:
    """Messages as [{"role", "content": str}]; content given as text parts is joined."""
    msgs = body.get("messages")
    if msgs is None:
        raise bad_request("'messages' is required", "messages", "missing_field")
    if not isinstance(msgs, list):
        raise bad_request("'messages' must be a list", "messages", "invalid_type")
    if not msgs:
        raise bad_request("'messages' must not be empty", "messages", "empty_array")
    if len(msgs) > max_messages:
        raise bad_request(f"at most {max_messages} messages per request, got {len(msgs)}", "messages")
    out = []
    for i, m in enumerate(msgs):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise bad_request(f"{where} must be an object", where, "invalid_type")
        role = m.get("role")
        if role not in CHAT_ROLES:
            raise bad_request(f"{where}.role must be one of {', '.join(CHAT_ROLES)}, got {role!r}", f"{where}.role")
        content = m.get("content")
        if content is None and role == "assistant":
            content = ""
        if isinstance(content, list):
            parts = []
            for part in content:
                if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                    raise bad_request(f"{where}.content parts must be {{'type': 'text', 'text': ...}}; "
                                      "this model reads text only", f"{where}.content")
                parts.append(part["text"])
            content = "".join(parts)
        if not isinstance(content, str):
            raise bad_request(f"{where}.content must be a string or a list of text parts", f"{where}.content",
                              "invalid_type")
        out.append({"role": role, "content": content})
    return out
