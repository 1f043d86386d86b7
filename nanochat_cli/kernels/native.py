"""The one native library (`_native`, built from native/ at `pip install -e .`: the ternary kernels and the engine's
C on top of them) and the thread count every call into it uses.

`native()` is the (ffi, lib) pair, with a clear error when the library is not built; ternary.h and engine.h
declare what `lib` holds. `set_threads` / `get_threads` are the threads of the library's persistent pool: the
ternary products, the engine's heads and the layer stack all run on it.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from nanochat_cli.errors import NanochatError

# Kernel ids as in native/ternary.h (enum tq_kernel); names are what NANOCHAT_KERNEL and the API use.
KERNEL_IDS = {"scalar": 0, "avx2": 1, "avx512vnni": 2, "avx512vbmi-tq16": 3, "avx512vbmi-lut": 4}
# The kernel that reads the 1.6-bit layout (PreparedMatrix.ensure_tq16 builds it; dispatch.tq16_wanted picks it).
TQ16_KERNEL = "avx512vbmi-tq16"
# The kernel that reads the lookup-table layout (PreparedMatrix.ensure_lut builds it; dispatch.py measures it).
LUT_KERNEL = "avx512vbmi-lut"

_threads: int | None = None


@lru_cache(maxsize=1)
def native():
    """(ffi, lib) of the compiled library."""
    try:
        from nanochat_cli.kernels import _native
    except ImportError as e:
        raise NanochatError(
            f"the native library is not built ({e}); rebuild it with `pip install -e .` "
            "(needs gcc or clang) or, in a checkout, `python native/build.py`"
        ) from None
    return _native.ffi, _native.lib


@lru_cache(maxsize=1)
def max_threads() -> int:
    # remembered: sysconf re-reads /sys on every call, and decode steps ask once per matrix product
    return int(native()[1].tq_max_threads())


def set_threads(n: int) -> None:
    """Threads every later call into the library uses (rows are split across them; the pool is persistent)."""
    global _threads
    if not isinstance(n, (int, np.integer)) or n < 1 or n > 64:
        raise NanochatError(f"thread count must be an integer from 1 to 64, got {n!r}")
    _threads = int(n)


def get_threads() -> int:
    """set_threads' count, else NANOCHAT_THREADS (0: all cores), else every core this process may run on."""
    if _threads is not None:
        return _threads
    env = os.environ.get("NANOCHAT_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise NanochatError(f"NANOCHAT_THREADS must be an integer, got {env!r}") from None
        if n < 0:
            raise NanochatError(f"NANOCHAT_THREADS must be 0 (all cores) or more, got {n}")
        if n > 0:  # 0 means the default, as for `nanochat serve --threads`, which reads the same variable
            return min(n, 64)
    return max_threads()
