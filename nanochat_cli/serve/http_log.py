"""One warning line per malformed HTTP request, where aiohttp would log a full traceback for each.

A port scanner or a broken client sends garbage often; a traceback per request buries the real errors.
A genuine bug in the server (any other exception) still logs its traceback.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError


class HttpErrorLog(logging.LoggerAdapter):
    """The `logger` of aiohttp's request handler: its parse errors become `bad HTTP request from ADDR: reason`."""

    def __init__(self, logger: logging.Logger):
        super().__init__(logger, {})

    def log(self, level, msg, *args, exc_info=None, **kwargs):
        if isinstance(exc_info, HttpProcessingError):
            # aiohttp calls log_exception("Error handling request from %s", remote, exc_info=exc)
            remote = args[0] if args else "?"
            reason = exc_info.message or type(exc_info).__name__
            level = logging.DEBUG if level < logging.WARNING else logging.WARNING
            self.logger.log(level, "bad HTTP request from %s: %s %s", remote, exc_info.code,
                            " ".join(str(reason).split())[:200])
            return
        super().log(level, msg, *args, exc_info=exc_info, **kwargs)
