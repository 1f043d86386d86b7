"""Loads the cffi-built C library (`_native`, built from native/ at `pip install -e .`) with a clear error if absent."""

from __future__ import annotations

from functools import lru_cache

from nanochat_cli.errors import NanochatError

# Kernel ids as in native/ternary.h (enum tq_kernel); names are what NANOCHAT_KERNEL and the API use.
KERNEL_IDS = {"scalar": 0, "avx2": 1, "avx512vnni": 2, "avx512vbmi-tq16": 3}
# The kernel that reads the 1.6-bit layout (PreparedMatrix.ensure_tq16 builds it; dispatch.tq16_wanted picks it).
TQ16_KERNEL = "avx512vbmi-tq16"


@lru_cache(maxsize=1)
def native():
    """(ffi, lib) of the compiled kernels."""
    try:
        from nanochat_cli.kernels import _native
    except ImportError as e:
        raise NanochatError(
            f"the native ternary kernels are not built ({e}); rebuild them with `pip install -e .` "
            "(needs gcc or clang) or, in a checkout, `python native/build.py`"
        ) from None
    return _native.ffi, _native.lib
