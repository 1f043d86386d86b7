"""Kernel tests never touch ~/.cache or inherit a forced kernel from the caller's environment."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_kernel_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOCHAT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NANOCHAT_KERNEL", raising=False)
    monkeypatch.delenv("NANOCHAT_AUTOTUNE", raising=False)
    monkeypatch.delenv("NANOCHAT_TQ16", raising=False)
    monkeypatch.delenv("NANOCHAT_LUT", raising=False)
    from nanochat_cli.kernels import dispatch, native

    monkeypatch.setattr(dispatch, "_memo", {})
    monkeypatch.setattr(native, "_threads", None)
