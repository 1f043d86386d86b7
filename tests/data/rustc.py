"""`needs_rustc`: the skip marker of the data tests that compile Rust."""

from __future__ import annotations

import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.rust.sandbox import find_rustc


def _rustc_present() -> bool:
    try:
        find_rustc()
    except NanochatError:
        return False
    return True


needs_rustc = pytest.mark.skipif(not _rustc_present(), reason="rustc not installed")
