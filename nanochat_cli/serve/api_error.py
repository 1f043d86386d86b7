"""ApiError: an HTTP error in OpenAI's shape, `{"error": {"message", "type", "code"}}`, and its JSON response."""

from __future__ import annotations

from aiohttp import web

# OpenAI's error "type" for each status the server returns.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    501: "not_supported_error",
    503: "server_error",
}


class ApiError(Exception):
    """A request the server refuses; `code` is a short machine-readable reason, `param` the offending field."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 extra: dict | None = None):
        """extra: more fields in the error object, e.g. llama.cpp's n_prompt_tokens and n_ctx on a context overflow,
        which a client reads to clamp max_tokens."""
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.extra = extra or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": ERROR_TYPES.get(self.status, "invalid_request_error"),
                          "param": self.param, "code": self.code, **self.extra}}

    def response(self) -> web.Response:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return web.json_response(self.body(), status=self.status, headers=headers)


def bad_request(message: str, param: str | None = None, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, code, param)
