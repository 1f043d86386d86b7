"""Float64 "reference precision" for the sequence mixers and small float gates, as a context manager.

Inside `with float64_mixing():` attention, DeltaNet and the float gate projections (router, mHC dynamic
coefficients, DeltaNet beta/decay) compute in float64 and round once to float32. That makes the model's output
independent of how a sequence is split (full forward vs prefill + decode, chunked vs recurrent DeltaNet) up to
float32 rounding, so BitLinear's int8 activation rounding sees the same inputs. Tests and torch-vs-native
cross-checks use it; training does not (float32 default).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import torch
import torch.nn.functional as F

_MIXING_DTYPE: contextvars.ContextVar[torch.dtype] = contextvars.ContextVar("mixing_dtype", default=torch.float32)


def mixing_dtype() -> torch.dtype:
    return _MIXING_DTYPE.get()


@contextlib.contextmanager
def float64_mixing() -> Iterator[None]:
    token = _MIXING_DTYPE.set(torch.float64)
    try:
        yield
    finally:
        _MIXING_DTYPE.reset(token)


def gate_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """A small float projection (router, gates) in the mixing dtype, returned in that dtype."""
    dtype = mixing_dtype()
    return F.linear(x.to(dtype), weight.to(dtype), None if bias is None else bias.to(dtype))
