"""The rustc sandbox: harness correctness on the built-in sets, classification, caching, and
containment of hostile programs (loop, fork bomb, big allocation, endless output, writes outside the
temp dir, network). Hostile programs run with small limits so a test never loads the shared machine."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from nanochat_cli.rust.problems import assemble_program, load_problem_set
from nanochat_cli.rust.sandbox import RustSandbox, SandboxLimits

from .conftest import wrong_completions

pytestmark = pytest.mark.usefixtures("rustc_available")

BROKEN = '    let _x: i32 = "text";\n    unimplemented!()\n'  # E0308: mismatched types

SMALL = SandboxLimits(run_timeout_s=2.0, run_nproc=8, run_file_size=256 << 10, output_cap=4096)


@pytest.fixture(scope="module")
def box() -> RustSandbox:
    return RustSandbox(mode="multipl-e", jobs=2, cache=None)


@pytest.fixture(scope="module")
def hostile_box() -> RustSandbox:
    return RustSandbox(mode="multipl-e", jobs=2, cache=None, limits=SMALL)


def _sandbox_processes(box: RustSandbox) -> list[int]:
    """PIDs still running under the sandbox's unprivileged uids."""
    uids = range(box.uid_base, box.uid_base + box.jobs)
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid in uids:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["multipl-e", "2021"])
def test_reference_solutions_all_pass(mode):
    box = RustSandbox(mode=mode, jobs=2, cache=None)
    problems = load_problem_set("rust-basic") + load_problem_set("seed16") + load_problem_set("seed16-extra")
    results = box.run_many([(assemble_program(p, p.reference), p.kind, p.edition or None) for p in problems])
    failed = {p.name: (r.status, r.first_error) for p, r in zip(problems, results) if r.status != "OK"}
    assert failed == {}


@pytest.mark.slow
def test_wrong_solutions_fail_as_exception(box):
    problems = load_problem_set("rust-basic")
    wrong = wrong_completions()
    assert set(wrong) == {p.name for p in problems}
    results = box.run_many([(assemble_program(p, wrong[p.name]), "tested") for p in problems])
    assert {p.name: r.status for p, r in zip(problems, results)} == {p.name: "Exception" for p in problems}
    assert all(r.compiled and r.exit_code == 101 and "panicked" in r.first_error for r in results)


def test_non_compiling_solutions_fail_as_syntax_error_with_codes(box):
    problems = load_problem_set("rust-basic")[:6] + load_problem_set("seed16")[:3]  # fn prompts
    results = box.run_many([(assemble_program(p, BROKEN), p.kind) for p in problems])
    assert [r.status for r in results] == ["SyntaxError"] * len(problems)
    assert all(not r.compiled and "E0308" in r.error_codes for r in results)
    assert results[0].first_error.startswith("error[E0308]: mismatched types")


def test_a_problems_least_edition_is_used_when_later_than_the_modes():
    src = "async fn f() -> u8 {\n    1\n}\n"  # `async fn` exists since 2018
    box = RustSandbox(mode="multipl-e", cache=None)
    assert box.run(src, "compile").status == "SyntaxError"
    assert box.run(src, "compile", edition="2018").status == "OK"
    assert box.edition_for("2018") == "2018" and RustSandbox(mode="2021", cache=None).edition_for("2018") == "2021"
    assert box.cache_key(src, "compile") == box.cache_key(src, "compile", "2015") != box.cache_key(src, "compile", "2018")


def test_edition_decides_what_compiles():
    src = "fn main() {\n    let async = 1;\n    assert_eq!(async, 1);\n}\n"  # `async` is a keyword since 2018
    assert RustSandbox(mode="multipl-e", cache=None).run(src).status == "OK"
    assert RustSandbox(mode="2021", cache=None).run(src).status == "SyntaxError"


def test_results_are_cached_by_program(tmp_path):
    box = RustSandbox(jobs=1, cache=tmp_path)
    src = "fn main() { assert_eq!(1 + 1, 2); }\n"
    first, second = box.run(src), box.run(src)
    assert (first.status, first.cached, second.status, second.cached) == ("OK", False, "OK", True)
    assert len(list(tmp_path.rglob("*.json"))) == 1
    assert box.run(src + "\n").cached is False  # a different program is a different key


def test_infinite_loop_times_out(hostile_box):
    r = hostile_box.run("fn main() { let mut x: u64 = 0; loop { x = x.wrapping_add(1); } }\n")
    assert r.status == "Timeout" and r.compiled
    assert r.run_s < SMALL.run_timeout_s + 2


def test_one_gigabyte_allocation_fails_as_exception(hostile_box):
    r = hostile_box.run('fn main() { let v = vec![1u8; 1 << 30]; println!("{}", v[12345]); }\n')
    assert r.status == "Exception"
    assert "memory allocation" in r.stderr


def test_unbounded_output_is_capped_and_killed(hostile_box):
    r = hostile_box.run('fn main() { loop { println!("spam spam spam spam spam spam"); } }\n')
    assert r.status == "Exception" and "SIGXFSZ" in r.first_error
    assert len(r.stdout) <= SMALL.output_cap


@pytest.fixture
def namespaces(hostile_box):
    if hostile_box.isolation != "namespaces":
        pytest.skip("needs namespace isolation (root + util-linux unshare/setpriv)")
    return hostile_box


def test_fork_bomb_is_bounded_and_cleaned_up(namespaces):
    counting = (
        'extern "C" { fn fork() -> i32; }\n'
        "fn main() {\n    let mut ok = 0;\n    for _ in 0..200 {\n"
        "        let pid = unsafe { fork() };\n"
        "        if pid == 0 { std::thread::sleep(std::time::Duration::from_secs(30)); std::process::exit(0); }\n"
        "        if pid > 0 { ok += 1; }\n    }\n"
        '    println!("{}", ok);\n}\n'
    )
    r = namespaces.run(counting)
    assert r.status == "OK"
    assert 0 < int(r.stdout.strip()) < SMALL.run_nproc  # RLIMIT_NPROC stopped it
    bomb = 'extern "C" { fn fork() -> i32; }\nfn main() { loop { unsafe { fork(); } } }\n'
    r = namespaces.run(bomb)
    assert r.status == "Timeout"
    assert _sandbox_processes(namespaces) == []  # the PID namespace took every child with it


def test_writes_outside_the_temp_dir_are_refused(namespaces, tmp_path):
    tag = uuid.uuid4().hex
    targets = [f"/tmp/nanochat-escape-{tag}", f"/var/tmp/nanochat-escape-{tag}", f"/dev/shm/nanochat-escape-{tag}",
               f"../nanochat-escape-{tag}", str(tmp_path / "escape"), "/root/nanochat-escape"]
    for target in targets:
        r = namespaces.run(f'fn main() {{ std::fs::write("{target}", b"x").unwrap(); }}\n')
        assert r.status == "Exception", target
        # refused, or not there at all: the program's root holds only the system dirs and its temp dir
        refusals = ("Read-only file system", "Permission denied", "No such file or directory")
        assert any(m in r.stderr for m in refusals), target
    leftovers = [t for t in targets if Path(t).exists()] + list(Path("/tmp").glob(f"nanochat-escape-{tag}"))
    assert leftovers == []
    ok = namespaces.run('fn main() { std::fs::write("inside.txt", b"x").unwrap(); }\n')
    assert ok.status == "OK"  # its own temp dir stays writable


def test_network_connections_fail(namespaces):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    try:
        r = namespaces.run(f'fn main() {{ std::net::TcpStream::connect("127.0.0.1:{port}").unwrap(); }}\n')
        assert r.status == "Exception" and "Network is unreachable" in r.stderr
        with pytest.raises(socket.timeout):
            listener.accept()  # nothing reached the host's loopback
    finally:
        listener.close()


def test_rlimits_only_isolation_still_classifies_and_limits():
    box = RustSandbox(jobs=2, cache=None, isolation="rlimits", limits=SMALL)
    p = load_problem_set("rust-basic")[0]
    ok, wrong, loop, spam = box.run_many([
        (assemble_program(p, p.reference), "tested"),
        (assemble_program(p, wrong_completions()[p.name]), "tested"),
        ("fn main() { loop {} }\n", "tested"),
        ('fn main() { loop { println!("spam spam spam spam"); } }\n', "tested"),
    ])
    assert (ok.status, wrong.status, loop.status, spam.status) == ("OK", "Exception", "Timeout", "Exception")
    assert "SIGXFSZ" in spam.first_error


def test_compile_timeout_is_a_timeout():
    box = RustSandbox(cache=None, limits=SandboxLimits(compile_timeout_s=0.001))
    r = box.run("fn main() {}\n")
    assert r.status == "Timeout" and not r.compiled and r.first_error == "compile timed out"


def test_output_files_swapped_for_symlinks_do_not_leak_host_files(namespaces, tmp_path):
    # The program owns its temp dir, so it can replace run.out/run.err with links to files only root may
    # read; the harness must return what the program wrote to its own stdout/stderr, not follow the links.
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET-" + uuid.uuid4().hex)
    secret.chmod(0o600)
    prog = (
        "fn main() {\n"
        '    println!("visible");\n'
        '    for f in ["run.out", "run.err"] {\n'
        "        std::fs::remove_file(f).unwrap();\n"
        f'        std::os::unix::fs::symlink("{secret}", f).unwrap();\n'
        "    }\n}\n"
    )
    r = namespaces.run(prog)
    assert r.status == "OK"
    assert r.stdout == "visible\n"
    assert "TOP-SECRET" not in r.stdout + r.stderr


def test_runtime_error_names_signals_without_a_python_name():
    from nanochat_cli.rust.sandbox import _runtime_error

    assert _runtime_error("", -6) == "killed by SIGABRT"
    assert _runtime_error("", -40) == "killed by signal 40"  # a real-time signal: no crash of the whole eval
    assert _runtime_error("boom", 128 + 40) == "boom\nkilled by signal 40"
