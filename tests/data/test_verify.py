"""rustc verification of snippets: a good program is kept, a bad one and a hanging one are dropped."""

from __future__ import annotations

import time

import pytest

from nanochat_cli.data import verify
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.data.verify import VerifyOptions, verify_snippets
from nanochat_cli.errors import NanochatError
from tests.data.rustc import needs_rustc


@needs_rustc
def test_good_programs_pass_and_bad_or_hanging_ones_are_dropped(tmp_path):
    snippets = [
        Snippet("t", "g", "bin", "fn main() {\n    assert_eq!(2 + 2, 4);\n}\n"),
        Snippet("t", "g", "bin", 'fn main() {\n    let x: u32 = "no";\n}\n'),
        Snippet("t", "g", "bin", "fn main() {\n    loop {}\n}\n"),
        Snippet("t", "g", "bin", "fn main() {\n    assert_eq!(2 + 2, 5);\n}\n"),
        Snippet("t", "g", "lib", "pub fn id(x: u8) -> u8 {\n    x\n}\n"),
        Snippet("t", "g", "test", "#[test]\nfn adds() {\n    assert_eq!(1 + 1, 2);\n}\n"),
        Snippet("t", "g", "test", "#[test]\nfn fails() {\n    assert_eq!(1 + 1, 3);\n}\n"),
    ]
    t0 = time.time()
    verdicts = verify_snippets(snippets, VerifyOptions(jobs=2, timeout_s=5.0, cache=tmp_path / "cache"))
    assert time.time() - t0 < 60  # the hanging one is killed at its timeout, it does not stall the build
    assert [v.status for v in verdicts] == ["OK", "SyntaxError", "Timeout", "Exception", "OK", "OK", "Exception"]
    assert [v.passed for v in verdicts] == [True, False, False, False, True, True, False]
    assert verdicts[1].record()["error"].startswith("error[E0308]")


def test_missing_rustc_is_one_line_naming_the_fix(monkeypatch):
    def no_rustc(*a, **k):
        raise NanochatError("rustc not found; install Rust (https://rustup.rs) or put rustc on PATH")

    monkeypatch.setattr(verify, "RustSandbox", no_rustc)
    with pytest.raises(NanochatError, match="data.verify needs rustc.*rustup.*data.verify = false"):
        verify_snippets([Snippet("t", "g", "bin", "fn main() {}\n")], VerifyOptions())


@needs_rustc
def test_batched_programs_get_the_verdicts_they_get_one_by_one(tmp_path, monkeypatch):
    def prog(i: int, ok: bool) -> Snippet:
        want = 2 * i if ok else 2 * i + 1
        return Snippet("t", "g", "bin", f"/// Doubles.\nfn double(x: i64) -> i64 {{\n    x * 2\n}}\n\n"
                                        f"fn main() {{\n    assert_eq!(double({i}), {want});\n}}\n")

    # a failing program in the second batch, a non-batchable one (uses crate::) in the third
    snippets = [prog(i, ok=i != 5) for i in range(8)]
    snippets.append(Snippet("t", "g", "bin", "fn f() -> u8 {\n    1\n}\n\nfn main() {\n    assert_eq!(crate::f(), 1);\n}\n"))
    assert verify.batchable(snippets[0]) and not verify.batchable(snippets[-1])
    monkeypatch.setattr(verify, "BATCH", 3)
    batched = verify_snippets(snippets, VerifyOptions(jobs=2, timeout_s=20, cache=None))
    monkeypatch.setattr(verify, "BATCH", 1)
    single = verify_snippets(snippets, VerifyOptions(jobs=2, timeout_s=20, cache=None))
    assert [v.status for v in batched] == [v.status for v in single]
    assert [v.passed for v in batched] == [i != 5 for i in range(8)] + [True]


def test_a_batch_passes_only_when_every_program_printed_its_marker():
    from nanochat_cli.rust.sandbox import SandboxResult

    src = verify.batch_program(["fn main() {\n}\n"] * 12)
    assert src.count("pub fn main() {") == 12 and "p11::main();" in src
    out = "".join(f"\x01nanochat-verified {i}\x02\n" for i in range(11))  # program 11 never returned
    assert not verify.batch_passed(SandboxResult("OK", True, 0, stdout=out), 12)
    assert verify.batch_passed(SandboxResult("OK", True, 0, stdout=out + "\x01nanochat-verified 11\x02\n"), 12)


@needs_rustc
def test_a_failed_batch_blames_only_its_bad_programs(tmp_path, monkeypatch):
    """Type errors in two programs and a failing assert in a third: the verdicts are those of one-by-one checks,
    and the good programs are settled in batches (few rustc runs), not one by one."""
    def prog(i: int, bad: str = "") -> Snippet:
        body = {"": f"assert_eq!(double({i}), {2 * i});", "type": 'let x: u32 = "no";',
                "assert": f"assert_eq!(double({i}), {2 * i + 1});"}[bad]
        return Snippet("t", "g", "bin", f"/// Doubles.\nfn double(x: i64) -> i64 {{\n    x * 2\n}}\n\n"
                                        f"fn main() {{\n    {body}\n}}\n")

    kinds = {3: "type", 7: "assert", 12: "type"}
    snippets = [prog(i, kinds.get(i, "")) for i in range(16)]
    runs = []
    real_run_many = verify.RustSandbox.run_many

    def counting(self, items, progress=None):
        items = list(items)
        runs.append(len(items))
        return real_run_many(self, items, progress)

    monkeypatch.setattr(verify.RustSandbox, "run_many", counting)
    batched = verify_snippets(snippets, VerifyOptions(jobs=2, timeout_s=20, cache=None))
    assert [v.passed for v in batched] == [i not in kinds for i in range(16)]
    assert [v.status for v in batched] == ["SyntaxError" if kinds.get(i) == "type" else
                                           "Exception" if i in kinds else "OK" for i in range(16)]
    assert batched[3].first_error.startswith("error[E0308]")
    # one batch of 16, the 14 it does not blame, then after the assert the 8 behind it, and the 3 blamed alone
    assert sum(runs) <= 6, runs


def test_triage_maps_error_lines_to_modules_and_a_run_to_its_markers():
    from nanochat_cli.rust.sandbox import SandboxResult

    texts = ["fn main() {\n    let a = 1;\n}\n", "fn helper() {}\n\nfn main() {\n    helper();\n}\n", "fn main() {\n}\n"]
    lines = verify.batch_program(texts).split("\n")
    second = next(n for n, ln in enumerate(lines, 1) if "helper();" in ln)
    assert verify.triage_batch(SandboxResult("SyntaxError", False, 1, error_lines=[second]), texts) == ([], [0, 2])
    own_main = next(n for n, ln in enumerate(lines, 1) if "p0::main();" in ln)  # not any program's: all alone
    assert verify.triage_batch(SandboxResult("SyntaxError", False, 1, error_lines=[own_main]), texts) == ([], [])
    assert verify.triage_batch(SandboxResult("SyntaxError", False, 1), texts) == ([], [])
    ran = "\x01nanochat-verified 0\x02\n"
    assert verify.triage_batch(SandboxResult("Exception", True, 101, stdout=ran), texts) == ([0], [])  # 2 alone
    assert verify.triage_batch(SandboxResult("Exception", True, 101, stdout=""), texts + texts) == ([], [1, 2, 3, 4, 5])
