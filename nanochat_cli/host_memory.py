"""Up-front memory checks: refuse a size this machine cannot hold before allocating it, in one clear line.

Used where a number from a file or a recipe decides an allocation (a GGUF's max_seq_len -> the KV cache, a recipe's
model width -> the training state): numpy/torch would otherwise fail deep inside, or the OS would kill the process.
"""

from __future__ import annotations

import os

from nanochat_cli.errors import NanochatError


def available_bytes() -> int | None:
    """Memory a new allocation can get now (Linux MemAvailable), or None where the OS does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.2f} GiB" if nbytes < 2**70 else f"{nbytes:.3g} bytes"


def check_fits(nbytes: float, what: str, fix: str, available: int | None = None) -> None:
    """NanochatError naming `what` and `fix` when nbytes exceeds the available memory (or the given `available`)."""
    avail = available_bytes() if available is None else available
    if avail is not None and nbytes > avail:
        raise NanochatError(f"{what} needs {gib(nbytes)} but {gib(avail)} of memory is available; {fix}")
