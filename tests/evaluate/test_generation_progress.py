"""Eval's generation phase: a bar with samples done, tokens/s and ETA for sources that report progress."""

from __future__ import annotations

import io

from rich.console import Console

from nanochat_cli.evaluate.runner import _generate
from nanochat_cli.evaluate.completion_sources import CompletionRequest, Generation, GenerationParams

REQS = [CompletionRequest(f"p{i}", "fn f() {") for i in range(3)]


class ReportingSource:
    def complete(self, requests, params, progress=None) -> Generation:
        for _ in range(len(requests) * params.n_samples):
            progress(1, 7)
        return Generation([["x"] * params.n_samples for _ in requests], 42, 1.0)


class SilentSource:
    def complete(self, requests, params) -> Generation:
        return Generation([["x"] * params.n_samples for _ in requests], None, 0.0)


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=160, color_system=None), out


def test_generation_bar_counts_samples_and_shows_tokens_per_second_and_eta():
    console, out = terminal()
    gen = _generate(ReportingSource(), REQS, GenerationParams(n_samples=2), console)
    assert gen.tokens == 42
    text = out.getvalue()
    assert "generate" in text and "6/6 samples" in text and "tok/s" in text and "ETA" in text


def test_source_without_progress_hook_keeps_the_spinner():
    console, out = terminal()
    gen = _generate(SilentSource(), REQS, GenerationParams(n_samples=1), console)
    assert len(gen.completions) == 3 and "samples" not in out.getvalue()
