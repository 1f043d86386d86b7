"""Data preparation's bars only move forward, even when a callee reports its phases from 1 again."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from nanochat_cli.data.prepare import PhasedBar


def watched(calls) -> list[tuple[float, float | None, str]]:
    prog = Progress(console=Console(file=io.StringIO()))
    bar = PhasedBar(prog, "fetch crates")
    seen = []
    for call in calls:
        call(bar)
        task = prog.tasks[0]
        seen.append((task.completed, task.total, task.description))
    return seen


def test_fetch_crates_bar_never_counts_backwards_across_download_and_unpack():
    calls = [lambda b, i=i: b(i, 50, "download") for i in (25, 50)]
    calls += [lambda b, i=i: b(i, 40, "unpack") for i in (1, 20, 40)]
    calls += [lambda b: b.finish()]
    seen = watched(calls)
    done = [c for c, _, _ in seen]
    assert done == sorted(done) and done == [25, 50, 51, 70, 90, 90]
    assert seen[-1][1] == 90 and seen[-1][2] == "fetch crates"
    assert seen[2][2] == "fetch crates: unpack"


def test_a_phase_restarting_under_the_same_label_continues_the_count():
    seen = watched([lambda b: b(3, 3), lambda b: b(1, 5), lambda b: b(5, 5), lambda b: b.finish()])
    assert [c for c, _, _ in seen] == [3, 4, 8, 8] and seen[-1][1] == 8


def test_finish_completes_a_bar_that_stopped_short():
    seen = watched([lambda b: b(2, 10, "unpack"), lambda b: b.finish()])
    assert seen[-1][:2] == (10, 10)
