"""Hostile programs against the rustc sandbox, one per hole found in probing (issue 14): host scratch dirs,
SysV IPC, host unix sockets, include_str! of root-only files in compiler errors, and the memory of several
processes together. Each asserts on the host after the run, not only on what the program reports."""

from __future__ import annotations

import json
import os
import socket
import stat
import uuid
from pathlib import Path

import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.rust.sandbox import MemoryCgroup, RustSandbox, SandboxLimits, _cgroup_dir

SMALL = SandboxLimits(run_timeout_s=5.0, run_nproc=16, run_file_size=256 << 10, output_cap=4096)


def _sandbox(**kwargs) -> RustSandbox:
    try:
        return RustSandbox(mode="2021", **kwargs)
    except NanochatError as e:  # rustc missing
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def box() -> RustSandbox:
    b = _sandbox(jobs=1, cache=None, limits=SMALL)
    if b.isolation != "namespaces":
        pytest.skip("needs namespace isolation (root + util-linux unshare/setpriv/mount/pivot_root)")
    return b


def _sandbox_shm_segments(box: RustSandbox) -> list[str]:
    """Lines of /proc/sysvipc/shm owned by the sandbox's uids (columns: key shmid perms size cpid lpid nattch uid ...)."""
    uids = {str(u) for u in range(box.uid_base, box.uid_base + box.jobs)}
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return [ln for ln in lines if len(ln.split()) > 7 and ln.split()[7] in uids]


def test_writes_to_host_scratch_dirs_leave_nothing_behind(box):
    tag = f"nanochat-escape-{uuid.uuid4().hex}"
    places = ["/run/lock", "/var/lock", "/dev/shm", "/tmp", "/var/tmp", "/run", "/dev/mqueue", "/run/user"]
    targets = [f"{d}/{tag}" for d in places]
    prog = (
        "fn main() {\n"
        f"    for t in {json.dumps(targets)} {{\n"
        '        let chunk = vec![7u8; 64 << 10];\n'
        '        let w = std::fs::write(t, &chunk).is_ok() || std::fs::create_dir(t).is_ok();\n'
        '        println!("{} {}", t, if w { "WROTE" } else { "refused" });\n'
        "    }\n"
        '    std::fs::write("inside.txt", b"x").unwrap();\n'
        '    println!("inside ok");\n}\n'
    )
    r = box.run(prog)
    assert r.status == "OK", r.first_error
    assert "WROTE" not in r.stdout and "inside ok" in r.stdout
    assert [t for t in targets if os.path.lexists(t)] == []


def test_sysv_shared_memory_does_not_outlive_the_run(box):
    prog = (
        'extern "C" {\n'
        "    fn shmget(key: i32, size: usize, flags: i32) -> i32;\n"
        "    fn shmat(id: i32, addr: *const u8, flags: i32) -> *mut u8;\n}\n"
        "fn main() {\n"
        "    for _ in 0..2 {\n"
        "        let id = unsafe { shmget(0, 32 << 20, 0o1000 | 0o600) };  // IPC_PRIVATE, IPC_CREAT\n"
        "        assert!(id >= 0, \"shmget failed\");\n"
        "        let p = unsafe { shmat(id, std::ptr::null(), 0) };\n"
        "        if p as isize != -1 { unsafe { std::ptr::write_bytes(p, 1, 1 << 20) } }\n"
        '        println!("segment {}", id);\n'
        "    }\n}\n"
    )
    assert _sandbox_shm_segments(box) == []
    r = box.run(prog)
    assert r.status == "OK", r.first_error
    assert r.stdout.count("segment") == 2  # the segments existed inside the sandbox...
    assert _sandbox_shm_segments(box) == []  # ...and died with its IPC namespace


@pytest.fixture
def host_unix_sockets():
    """A listening unix socket in a world-searchable dir of the host's /tmp, and an abstract one."""
    tag = uuid.uuid4().hex[:12]
    d = Path(f"/tmp/nanochat-sock-{tag}")
    d.mkdir(mode=0o755)
    d.chmod(0o755)
    path_sock, abstract = socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)
    try:
        path_sock.bind(str(d / "s"))
        (d / "s").chmod(0o777)
        abstract.bind(f"\0nanochat-{tag}")
        for s in (path_sock, abstract):
            s.listen()
            s.settimeout(0.2)
        yield str(d / "s"), f"nanochat-{tag}", (path_sock, abstract)
    finally:
        path_sock.close()
        abstract.close()
        (d / "s").unlink(missing_ok=True)
        d.rmdir()


def _connect_program(path: str, abstract: str) -> str:
    return (
        "use std::os::linux::net::SocketAddrExt;\n"
        "use std::os::unix::net::{SocketAddr, UnixStream};\n"
        "fn main() {\n"
        f'    let a = UnixStream::connect("{path}").is_ok();\n'
        f'    let b = UnixStream::connect_addr(&SocketAddr::from_abstract_name(b"{abstract}").unwrap()).is_ok();\n'
        '    println!("path {} abstract {}", a, b);\n}\n'
    )


def test_unix_sockets_on_the_host_are_unreachable(box, host_unix_sockets):
    path, abstract, listeners = host_unix_sockets
    r = box.run(_connect_program(path, abstract))
    assert r.status == "OK", r.first_error
    assert r.stdout.strip() == "path false abstract false"
    for listener in listeners:
        with pytest.raises(socket.timeout):
            listener.accept()  # nothing reached the host's sockets


def test_unix_socket_program_does_connect_without_namespaces(host_unix_sockets):
    # The control for the test above: the same program reaches both sockets when only rlimits apply.
    path, abstract, _ = host_unix_sockets
    r = _sandbox(cache=None, isolation="rlimits", limits=SMALL).run(_connect_program(path, abstract))
    assert r.stdout.strip() == "path true abstract true", r.first_error


@pytest.fixture
def root_only_secret(tmp_path) -> tuple[Path, str]:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a file only root can read")
    secret = tmp_path / "secret.txt"
    text = "TOP-SECRET-" + uuid.uuid4().hex
    secret.write_text(text)
    os.chown(secret, 0, 0)
    secret.chmod(0o600)
    return secret, text


def _leaks(box: RustSandbox, src: str, cache: Path, secret: str) -> bool:
    r = box.run(src)
    assert r.status == "SyntaxError"
    stored = "".join(p.read_text() for p in cache.rglob("*.json"))
    return secret in (r.first_error or "") + r.stderr + r.stdout + stored


def test_include_str_of_a_root_only_file_does_not_leak(root_only_secret, tmp_path):
    secret, text = root_only_secret
    cache = tmp_path / "cache"
    box = _sandbox(cache=cache, limits=SMALL)
    if box.isolation != "namespaces":
        pytest.skip("needs namespace isolation")
    src = f'compile_error!(include_str!("{secret}"));\nfn main() {{}}\n'
    assert not _leaks(box, src, cache, text)
    # the view hides tmp_path; /etc is visible, so /etc/shadow tests that rustc is not root
    shadow = Path("/etc/shadow")
    if shadow.exists() and not shadow.stat().st_mode & stat.S_IROTH:
        first = next((ln for ln in shadow.read_text().splitlines() if ln.strip()), None)
        if first:
            leaked = _leaks(box, 'compile_error!(include_str!("/etc/shadow"));\nfn main() {}\n', cache, first)
            assert not leaked, "/etc/shadow's first line reached the result or the cache"


def test_include_str_control_leaks_without_namespaces(root_only_secret, tmp_path):
    # The control: with rlimits only, rustc runs as root and the secret does reach first_error.
    secret, text = root_only_secret
    box = _sandbox(cache=tmp_path / "cache", isolation="rlimits", limits=SMALL)
    assert _leaks(box, f'compile_error!(include_str!("{secret}"));\nfn main() {{}}\n', tmp_path / "cache", text)


def test_children_together_stay_within_the_memory_bound():
    limits = SandboxLimits(run_timeout_s=10.0, run_nproc=16, run_address_space=256 << 20, output_cap=4096)
    box = _sandbox(cache=None, limits=limits)
    if box.isolation != "namespaces" or box.memory is None:
        pytest.skip("needs namespaces and a memory cgroup root can make children in (else the bound is "
                    "run_nproc x run_address_space)")
    # 4 children each touch 150 MiB and hold it 2 s: 600 MiB at once without a bound, at most one with 256 MiB.
    prog = (
        'extern "C" {\n    fn fork() -> i32;\n    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;\n'
        "    fn _exit(code: i32) -> !;\n}\n"
        "fn main() {\n"
        "    let mut kids = Vec::new();\n"
        "    for _ in 0..4 {\n"
        "        let pid = unsafe { fork() };\n"
        "        if pid == 0 {\n"
        "            let v = vec![1u8; 150 << 20];\n"
        "            std::thread::sleep(std::time::Duration::from_secs(2));\n"
        "            unsafe { _exit(if v[v.len() - 1] == 1 { 0 } else { 1 }) }\n"
        "        }\n"
        "        assert!(pid > 0);\n"
        "        kids.push(pid);\n"
        "    }\n"
        "    let mut held = 0;\n"
        "    for pid in kids {\n"
        "        let mut status = -1;\n"
        "        unsafe { waitpid(pid, &mut status, 0) };\n"
        "        if status == 0 { held += 1; }\n"
        "    }\n"
        '    println!("{}", held);\n}\n'
    )
    r = box.run(prog)
    assert r.status == "OK", r.first_error
    assert int(r.stdout.strip()) <= 1  # the OOM killer ended the others
    assert list(box.memory.parent.glob(f"nanochat-sandbox-{os.getpid()}-*")) == []  # each step's cgroup removed


V1_HYBRID = (
    "4:memory:/process_api/abc\n1:cpu:/\n0::/\n",
    (
        "30 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    ),
)


def test_cgroup_dir_prefers_the_v1_memory_hierarchy(tmp_path, monkeypatch):
    # Parsing only: the directories are made under tmp_path by rewriting the mount points.
    proc, mountinfo = V1_HYBRID
    mountinfo = mountinfo.replace("/sys/fs/cgroup", str(tmp_path))
    (tmp_path / "memory/process_api/abc").mkdir(parents=True)
    (tmp_path / "unified").mkdir()
    assert _cgroup_dir(proc, mountinfo) == ((tmp_path / "memory/process_api/abc").resolve(), 1)
    # pure v2: found only where the memory controller is available to our cgroup
    v2 = f"40 1 0:30 / {tmp_path}/v2 rw - cgroup2 cgroup2 rw\n"
    (tmp_path / "v2/job").mkdir(parents=True)
    assert _cgroup_dir("0::/job\n", v2) is None
    (tmp_path / "v2/job/cgroup.controllers").write_text("cpu memory pids\n")
    assert _cgroup_dir("0::/job\n", v2) == ((tmp_path / "v2/job").resolve(), 2)
    assert MemoryCgroup.find("0::/\n", "") is None  # no cgroup mount at all
