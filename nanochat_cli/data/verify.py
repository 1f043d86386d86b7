"""Compile-verify snippets with rustc in the evaluation sandbox; `nanochat data prepare` keeps those that pass.

A lib snippet is type-checked (the sandbox's "compile" kind), a bin snippet built and run (its assert!s hold),
a test snippet built with `--test` and its harness run. Each step has data.verify_timeout seconds: a snippet
that hangs rustc or loops at run time times out and is dropped. Results are cached by program hash
(CACHE/verify), so a rebuild only compiles what changed.

Plain programs (one `fn main() {` at column 0, no crate attributes, no paths that change meaning inside a module)
are checked BATCH at a time: each becomes `mod pN { ... }` of one crate whose main calls every `pN::main()` in turn
and prints a marker after each. The batch passes only when it builds, exits 0 and printed every marker. When it
does not, the programs it blames (those rustc's errors point into, or the one whose run stopped it) are checked
one by one and the others are batched again, until every program has a verdict. rustc's start-up and link cost
is paid once per batch instead of once per program (the synthetic generator's programs are all of this shape),
and a batch with one bad program costs one more batch, not BATCH single checks.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nanochat_cli.data.snippet import Snippet
from nanochat_cli.errors import NanochatError
from nanochat_cli.rust.sandbox import RustSandbox, SandboxLimits, SandboxResult

SANDBOX_KIND = {"lib": "compile", "bin": "tested", "test": "test"}
BATCH = 24
_MAIN = re.compile(r"^fn main\(\) \{$", re.M)
# inside `mod pN` these would mean something else (crate root, parent) or end the whole batch early
_NOT_BATCHABLE = re.compile(r"#!|\bcrate::|\bsuper::|\bself::|process::exit|std::env|macro_export|\bstdin\b")
EDITION_MODE = "2021"  # rust-doc and crate examples are written for the 2018/2021 editions


@dataclass(frozen=True)
class VerifyOptions:
    jobs: int = 0  # parallel rustc processes; 0 = one per core
    timeout_s: float = 10.0  # per step (compile, run) of one snippet
    cache: Path | None = None  # result cache directory; None = no cache


@dataclass(frozen=True)
class Verdict:
    """One snippet's outcome: status is the sandbox's (OK, SyntaxError, Exception, Timeout)."""

    snippet: Snippet
    status: str
    first_error: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "OK"

    def record(self) -> dict:
        """The line written to verify.jsonl."""
        s = self.snippet
        return {"source": s.source, "group": s.group, "origin": s.origin, "kind": s.kind, "status": self.status,
                "error": (self.first_error or "")[:300] or None}


def sandbox_for(options: VerifyOptions) -> RustSandbox:
    """The sandbox the verifier uses; rustc missing -> one line naming the fix."""
    jobs = options.jobs or os.cpu_count() or 1
    t = float(options.timeout_s)
    limits = SandboxLimits(compile_timeout_s=t, run_timeout_s=t)
    try:
        return RustSandbox(mode=EDITION_MODE, limits=limits, jobs=jobs, cache=options.cache)
    except NanochatError as e:
        raise NanochatError(f"data.verify needs rustc: {e}; or set data.verify = false to keep unverified snippets") from None


def verify_snippets(
    snippets: list[Snippet], options: VerifyOptions, progress: Callable[[int, int], None] | None = None,
) -> list[Verdict]:
    """Check every snippet in the sandbox on options.jobs workers; verdicts in input order."""
    if not snippets:
        return []
    box = sandbox_for(options)
    done = [0]

    def step(_i: int, _r: SandboxResult) -> None:
        done[0] += 1
        if progress:
            progress(done[0], len(snippets))

    for s in snippets:
        if s.kind not in SANDBOX_KIND:
            raise NanochatError(f"snippet {s.origin or s.group} has kind {s.kind!r}; use one of {sorted(SANDBOX_KIND)}")
    verdicts: list[Verdict | None] = [None] * len(snippets)
    plain = [i for i, s in enumerate(snippets) if batchable(s)]
    batches = [plain[b : b + BATCH] for b in range(0, len(plain), BATCH)]
    while batches:  # rounds: what a failed batch does not blame is batched again without what it blames
        results = box.run_many([(batch_program([snippets[i].text for i in b]), "tested") for b in batches])
        again = []
        for b, r in zip(batches, results, strict=True):
            passed, retry = triage_batch(r, [snippets[i].text for i in b])
            for k in passed:
                verdicts[b[k]] = Verdict(snippets[b[k]], "OK")
                step(b[k], r)
            if retry:
                again.append([b[k] for k in retry])
        batches = again
    rest = [i for i, v in enumerate(verdicts) if v is None]
    results = box.run_many([(snippets[i].text, SANDBOX_KIND[snippets[i].kind]) for i in rest], step)
    for i, r in zip(rest, results, strict=True):
        verdicts[i] = Verdict(snippets[i], r.status, r.first_error)
    return verdicts  # type: ignore[return-value]


def batchable(s: Snippet) -> bool:
    """A plain program that keeps its meaning as `mod pN { ... }` of a larger crate (see the module docstring)."""
    return s.kind == "bin" and len(_MAIN.findall(s.text)) == 1 and not _NOT_BATCHABLE.search(s.text)


def _marker(i: int) -> str:
    return f"\x01nanochat-verified {i}\x02"


def _modules(texts: list[str]) -> list[str]:
    return [f"#[allow(dead_code, unused)]\nmod p{i} {{\n{_MAIN.sub('pub fn main() {', t)}\n}}\n" for i, t in enumerate(texts)]


def batch_program(texts: list[str]) -> str:
    """One crate holding every program as a module, and a main that runs each and prints a marker after it."""
    mods = _modules(texts)
    calls = "".join(f"    p{i}::main();\n    println!(\"{_marker(i)}\");\n".replace("\x01", "\\u{1}").replace("\x02", "\\u{2}") for i in range(len(texts)))
    return "".join(mods) + "\nfn main() {\n" + calls + "}\n"


def batch_passed(r: SandboxResult, n: int) -> bool:
    return r.status == "OK" and all(_marker(i) in r.stdout for i in range(n))


def triage_batch(r: SandboxResult, texts: list[str]) -> tuple[list[int], list[int]]:
    """(programs the batch shows passed, programs to batch again) by index into texts; the others are checked
    one by one. A build that failed blames the modules its errors point into: the rest are batched again (none
    is, when an error lies outside every module). A run that failed passed every program whose marker it printed
    before it stopped; the one that stopped it is checked alone, those after it are batched again."""
    n = len(texts)
    if batch_passed(r, n):
        return list(range(n)), []
    if not r.compiled:
        if r.status != "SyntaxError" or not r.error_lines:
            return [], []
        ends, line = [], 1
        for m in _modules(texts):  # the first line after each module, as batch_program lays them out
            line += m.count("\n")
            ends.append(line)
        blamed = set()
        for ln in r.error_lines:
            k = bisect.bisect_right(ends, ln)
            if k >= n:  # in the batch's own main
                return [], []
            blamed.add(k)
        retry = [k for k in range(n) if k not in blamed]
        return [], retry if len(retry) > 1 else []
    done = 0
    while done < n and _marker(done) in r.stdout:
        done += 1
    retry = list(range(done + 1, n))
    return list(range(done)), retry if len(retry) > 1 else []
