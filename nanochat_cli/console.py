"""Rich consoles for every command: live output on a terminal, one unwrapped line per record in a pipe or file.

Rich assumes 80 columns when it is not writing to a terminal, so a log line hard-wraps into two and a table
truncates its cells ("avx5…"). `make_console` gives such a stream a width no line reaches and soft wrapping, so
`grep` sees one record per line and tables print at their natural width. The check is made at each print, not
once: the same console may write to a terminal and, under a test runner or a redirect, to a pipe.
"""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

PIPE_WIDTH = 4096  # wider than any record or table nanochat prints; only used when not on a terminal


class PipeAwareConsole(Console):
    """A rich Console whose width and wrapping follow the stream: the terminal's, or unbounded and unwrapped."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        return size if self.is_terminal else ConsoleDimensions(PIPE_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    @property
    def soft_wrap(self) -> bool:
        return self._soft_wrap or not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        self._soft_wrap = value


def make_console(stderr: bool = False, **kwargs) -> Console:
    """A Console on stdout (or stderr) that never hard-wraps when the stream is a pipe or a file."""
    return PipeAwareConsole(stderr=stderr, **kwargs)
