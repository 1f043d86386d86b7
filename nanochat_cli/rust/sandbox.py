"""Rust sandbox: compile and run untrusted model-written Rust with rustc, under limits. Used by `nanochat eval`.

Each program gets its own temporary directory. Modes:
- "multipl-e": what MultiPL-E does, so figures compare with published ones: plain `rustc main.rs -o main`
  (edition 2015, debug build), 15 s to compile, 5 s to run; status OK (exit 0), SyntaxError (any
  compile error), Exception (non-zero exit: failed assert_eq!, panic, signal), Timeout.
- "2021": the same with `--edition 2021`.
A problem may need a later edition than its mode's (`async fn` needs 2018): `run(..., edition="2018")`
compiles it in the later of the two.
Compile-only problems (kind "compile") are type-checked as a library: `--crate-type lib --emit=metadata`.
Kind "test" builds with `--test` and runs the harness (the data pipeline checks #[test] snippets so).

What the sandbox does:
- Every step runs with CPU-time, address-space and file-size limits (setrlimit, through util-linux
  `prlimit` when present so no Python runs between fork and exec; a preexec hook otherwise), a cleared
  environment (PATH, HOME and TMPDIR pointed at the temp dir), in its own process group that is killed
  (killpg) at the timeout. rustc is the real toolchain binary from `rustc --print sysroot`, so no rustup
  proxy and no RUSTUP_HOME/CARGO_HOME are needed.
- As root with util-linux (`unshare`, `setpriv`, `mount`, `pivot_root`: "namespaces" isolation), rustc
  and the compiled program each run in new network, mount, PID, IPC and UTS namespaces (no network, not
  even loopback; abstract unix sockets belong to the network namespace; SysV IPC objects die with the
  namespace; every process dies with it) inside a root of their own: a small read-only tmpfs holding
  read-only binds of /usr, /bin, /sbin, /lib*, /etc and the toolchain's sysroot, a fresh /proc, the
  device nodes null/zero/full/random/urandom, and the temp dir, the only writable place (this is what
  bubblewrap and nsjail build). Nothing else of the host is visible: not /tmp, /var, /run (its lock dir
  and daemons' unix sockets), /dev/shm, /home, /root, nor the project. Both run as an unprivileged uid
  of their own (one per worker slot and process, so RLIMIT_NPROC bounds a fork bomb; root would be
  exempt), with no capabilities and no_new_privs, so `include_str!("/etc/shadow")` fails as it would for
  any user. Where the sysroot is not readable by that uid (checked once by compiling an empty crate),
  rustc runs as root without capabilities in the same view, and a failing program that uses an
  `include*!` macro gets its diagnostic withheld.
- Memory: where the caller's memory cgroup (v1, or v2 with the memory controller delegated) lets root
  create a child, each step runs in a cgroup of its own whose memory limit is the step's address-space
  limit, so all of the program's processes together hold at most that (the OOM killer ends the
  program: status Exception, killed by SIGKILL); the cgroup is removed after the step. Without one, the
  worst case is run_nproc x run_address_space (64 x 512 MiB by default).
- Without root or those tools ("rlimits" isolation) only the limits, the cleared environment and
  the process-group kill apply.
- Results are cached on disk by a hash of (mode, kind, rustc version, limits, program): see
  `ResultCache`. Timeouts are not cached (they may come from a loaded machine).

What it does NOT protect against (read before pointing it at hostile code):
- "rlimits" isolation (non-root, or no util-linux): rustc and the program run as you, have the network,
  can write anywhere you can, `include_str!` can read what you can (and show it in error messages),
  RLIMIT_NPROC counts all of your processes, and children that call setsid() escape the group kill.
- Even with namespaces: the kernel is shared (a kernel exploit escapes), there is no seccomp filter,
  world-readable files under /usr and /etc are readable, the program can use CPU up to its limits on
  every core, and what it writes to its temp dir counts against the host's disk up to RLIMIT_FSIZE per
  file (and against the cgroup's memory, where there is one).
Run with `python -m nanochat_cli.rust.sandbox FILE.rs` to try one file.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import queue
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from nanochat_cli.errors import NanochatError

Mode = Literal["multipl-e", "2021"]
Status = Literal["OK", "SyntaxError", "Exception", "Timeout"]
STATUSES: tuple[Status, ...] = ("OK", "SyntaxError", "Exception", "Timeout")
EDITIONS = {"multipl-e": "2015", "2021": "2021"}
_PRLIMIT = shutil.which("prlimit")

SANDBOX_VERSION = 1  # bump when classification or limits semantics change (invalidates the cache)

# Tools the namespace script needs, looked up where root's tools live (PATH may lack the sbin dirs).
_NS_TOOLS = ("unshare", "setpriv", "mount", "umount", "pivot_root", "sh")
_SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_ROOT_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")  # bound read-only into the view

# The shell run as root inside the new namespaces (what bubblewrap does, in sh), with the paths filled in by
# _ns_command: join the step's memory cgroup, build a root of our own on a tmpfs (read-only binds of the
# system dirs and the sysroot, the harmless device nodes, a fresh /proc, the temp dir: one `mount -a` over
# an fstab written beside it, as each process costs time on a loaded machine), make whatever else is
# mounted in it read-only, pivot into it and detach the host's root, then run the command as the uid
# with no capabilities. The command runs as a child, not exec'd, so it is not PID 1 (PID 1 ignores
# default-action signals such as abort's SIGABRT).
_NS_SCRIPT = r"""
set -e
P0="$PATH"; PATH=/usr/sbin:/usr/bin:/sbin:/bin
{join_cgroup}
mount -t tmpfs -o mode=755,size=1m,nosuid,nodev nanochat-root {root}
cd {root}
mkdir -p {dirs}
touch {nodes}
{links}
ln -s /proc/self/fd dev/fd
mount -a -T {fstab}
while read -r _ _ _ _ M O _; do
  case "$M" in {work_in_root}|{root}/dev/*) continue ;; esac
  case "$O" in ro|ro,*) continue ;; esac
  case "$M" in {root}|{root}/*) mount -o remount,bind,ro,nosuid,nodev "$M" ;; esac
done < /proc/self/mountinfo
pivot_root . .
umount -l .
cd {work}
SETPRIV=$(command -v setpriv); PATH="$P0"
set +e
"$SETPRIV" --reuid={uid} --regid={uid} --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
exit $?
"""
_DEV_NODES = ("null", "zero", "full", "random", "urandom")


@dataclass(frozen=True)
class SandboxLimits:
    """Per-program limits. Defaults follow MultiPL-E's timeouts; memory/file/process caps are ours."""

    compile_timeout_s: float = 15.0  # MultiPL-E-derived evaluators' compile timeout
    run_timeout_s: float = 5.0  # MultiPL-E's run timeout
    compile_address_space: int = 4 << 30  # rustc + LLVM reserve a lot of virtual memory; cgroup bound likewise
    run_address_space: int = 512 << 20  # so a 1 GB allocation fails; with a cgroup, also all processes' sum
    compile_file_size: int = 256 << 20  # debug binaries are ~4-5 MB; generous
    run_file_size: int = 1 << 20  # caps stdout/stderr files and anything else the program writes
    run_nproc: int = 64  # processes + threads of the program's uid (per worker slot)
    output_cap: int = 16 << 10  # characters of stdout/stderr kept in results


@dataclass
class SandboxResult:
    """Outcome of compiling (and running) one program."""

    status: Status
    compiled: bool
    exit_code: int | None = None
    first_error: str | None = None  # first rustc error (rendered), or the first lines of a runtime failure
    error_codes: list[str] = field(default_factory=list)  # rustc error codes, e.g. ["E0308"]
    stdout: str = ""
    stderr: str = ""
    compile_s: float = 0.0
    run_s: float = 0.0
    cached: bool = False
    error_lines: list[int] = field(default_factory=list)  # main.rs lines of the rustc errors' primary spans

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> SandboxResult:
        return SandboxResult(**{k: d[k] for k in SandboxResult.__dataclass_fields__ if k in d})


# ---- toolchain discovery ----


def find_rustc() -> tuple[Path, str]:
    """The real rustc binary (not the rustup proxy) and its version line."""
    exe = shutil.which("rustc") or next(
        (str(p) for p in (Path.home() / ".cargo/bin/rustc", Path("/root/.cargo/bin/rustc")) if p.exists()), None
    )
    if exe is None:
        raise NanochatError("rustc not found; install Rust (https://rustup.rs) or put rustc on PATH")
    try:
        sysroot = subprocess.run([exe, "--print", "sysroot"], capture_output=True, text=True, timeout=60, check=True)
        real = Path(sysroot.stdout.strip()) / "bin" / "rustc"
        if not real.exists():
            real = Path(exe)
        version = subprocess.run([str(real), "--version"], capture_output=True, text=True, timeout=60, check=True)
    except (subprocess.SubprocessError, OSError) as e:
        raise NanochatError(f"rustc at {exe} does not run ({e}); check the Rust installation") from None
    return real, version.stdout.strip()


# ---- isolation: namespaces, the private root, memory cgroups ----


def _namespaces_available() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t, path=_SYSTEM_PATH) for t in _NS_TOOLS)


def _default_uid_base() -> int:
    # 512 uids per process, so a second sandboxing process (the data build beside an eval) never shares a
    # slot's uid and with it the slot's RLIMIT_NPROC budget; stays below 2**32 - 1 (the invalid uid).
    return 1_900_000_000 + (os.getpid() % 4_000_000) * 512


def _ns_command(top: Path, uid: int, cgroup: Path | None, sysroot: Path | None, cmd: list[str]) -> list[str]:
    """cmd run in new namespaces, in the private root built at top/root (its fstab written to top/fstab), as
    uid, in cwd top/work."""
    root, work = top / "root", top / "work"
    binds = [Path("/", d) for d in _ROOT_DIRS if os.path.isdir(f"/{d}") and not os.path.islink(f"/{d}")]
    links = [f"/{d}" for d in _ROOT_DIRS if os.path.islink(f"/{d}")]
    fstab = [(str(d), root / d.relative_to("/"), "none", "rbind,ro,nosuid,nodev") for d in binds]
    if sysroot is not None:
        fstab.append((str(sysroot), root / sysroot.relative_to("/"), "none", "rbind,ro,nosuid,nodev"))
    fstab += [(f"/dev/{n}", root / "dev" / n, "none", "bind") for n in _DEV_NODES]
    fstab += [("proc", root / "proc", "proc", "ro,nosuid,nodev,noexec"),
              (str(work), root / work.relative_to("/"), "none", "bind,exec,nosuid,nodev")]
    (top / "fstab").write_text("".join(f"{_fstab_escape(str(src))} {_fstab_escape(str(dst))} {fs} {opts} 0 0\n"
                                       for src, dst, fs, opts in fstab))
    q = shlex.quote
    script = _NS_SCRIPT.format(
        join_cgroup=f"echo 0 > {q(str(cgroup / 'cgroup.procs'))}" if cgroup else "",
        root=q(str(root)), work=q(str(work)), work_in_root=q(str(root / work.relative_to("/"))),
        fstab=q(str(top / "fstab")), uid=int(uid), links=f"cp -P {' '.join(links)} ." if links else "",
        dirs=" ".join(q(str(dst.relative_to(root))) for _, dst, _, _ in fstab if dst.parent != root / "dev") + " dev tmp",
        nodes=" ".join(f"dev/{n}" for n in _DEV_NODES))
    return ["unshare", "--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
            "--propagation", "private", "--", "sh", "-c", script, "sh", *cmd]


def _fstab_escape(path: str) -> str:
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


def _extra_sysroot(rustc: Path) -> Path | None:
    """The toolchain's sysroot when the view's system dirs don't already hold it (rustup's ~/.rustup/...)."""
    sysroot = rustc.resolve().parent.parent
    top = sysroot.parts[1] if len(sysroot.parts) > 1 else ""
    return None if top in _ROOT_DIRS else sysroot


def _make_top() -> Path:
    """A program's directory: top (root only) holding work/ (the program's) and root/ (the view's mount point)."""
    top = Path(tempfile.mkdtemp(prefix="nanochat-eval-"))
    (top / "work").mkdir()
    (top / "root").mkdir()
    return top


@functools.cache
def _probe_rustc_user(rustc: Path, uid: int) -> int | None:
    """Which uid rustc can run as inside the view: `uid` when the sysroot is readable to it, else 0 (root
    without capabilities); None when the view cannot be built here (no pivot_root into a tmpfs, ...)."""
    top = _make_top()
    try:
        (top / "work" / "probe.rs").write_text("")
        os.chown(top / "work", uid, uid)
        env = {"PATH": _SYSTEM_PATH, "HOME": str(top / "work"), "TMPDIR": str(top / "work"), "LC_ALL": "C"}
        for user in (uid, 0):
            cmd = _ns_command(top, user, None, _extra_sysroot(rustc),
                              [str(rustc.resolve()), "--crate-type", "lib", "--emit=metadata", "probe.rs"])
            try:
                r = subprocess.run(cmd, check=False, cwd=top / "work", env=env, capture_output=True, timeout=60)
            except (subprocess.SubprocessError, OSError):
                return None
            if r.returncode == 0:
                return user
        return None
    finally:
        shutil.rmtree(top, ignore_errors=True)


class MemoryCgroup:
    """One memory cgroup per sandboxed step, made under the caller's own memory cgroup, so all the step's
    processes together are held to one limit (RLIMIT_AS bounds each process alone). cgroup v1's memory
    hierarchy, or v2 where the memory controller is enabled for our cgroup's children."""

    def __init__(self, parent: Path, version: int):
        self.parent, self.version = parent, version
        self._count = itertools.count()

    @staticmethod
    def find(proc_cgroup: str | None = None, mountinfo: str | None = None) -> MemoryCgroup | None:
        """The caller's memory cgroup, if root can make children in it; None otherwise."""
        try:
            proc_cgroup = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
            mountinfo = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
        except OSError:
            return None
        parent = _cgroup_dir(proc_cgroup, mountinfo)
        if parent is None:
            return None
        found = MemoryCgroup(*parent)
        if found.version == 2:
            try:
                if "memory" not in (found.parent / "cgroup.subtree_control").read_text().split():
                    (found.parent / "cgroup.subtree_control").write_text("+memory")
            except OSError:  # a cgroup with processes of its own cannot delegate memory (no internal processes)
                return None
        probe = found.create(64 << 20)
        if probe is None:
            return None
        found.remove(probe)
        found._remove_stale()
        return found

    def create(self, limit: int) -> Path | None:
        """A new child cgroup holding its members to `limit` bytes (RAM; swap too where the kernel counts it)."""
        path = self.parent / f"nanochat-sandbox-{os.getpid()}-{next(self._count)}"
        files = ([("memory.limit_in_bytes", limit), ("memory.memsw.limit_in_bytes", limit)] if self.version == 1
                 else [("memory.max", limit), ("memory.swap.max", 0)])
        try:
            path.mkdir()
        except OSError:
            return None
        for i, (name, value) in enumerate(files):
            try:
                (path / name).write_text(str(value))
            except OSError:
                if i == 0:  # without the memory limit the cgroup is no use
                    self.remove(path)
                    return None
        return path

    def remove(self, path: Path, timeout: float = 5.0) -> None:
        """Kill what is left in the cgroup, wait until it is empty, remove it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pids = (path / "cgroup.procs").read_text().split()
            except OSError:
                return
            if not pids:
                try:
                    path.rmdir()
                    return
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def _remove_stale(self) -> None:
        """Cgroups left by sandboxing processes that died before removing theirs."""
        for d in self.parent.glob("nanochat-sandbox-*-*"):
            pid = d.name.split("-")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                self.remove(d, timeout=0.5)


def _cgroup_dir(proc_cgroup: str, mountinfo: str) -> tuple[Path, int] | None:
    """Our memory cgroup's directory and the cgroup version, from /proc/self/cgroup and /proc/self/mountinfo."""
    v1 = v2 = None
    for line in proc_cgroup.splitlines():
        hid, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if "memory" in controllers.split(","):
            v1 = path
        elif hid == "0" and controllers == "":
            v2 = path
    mounts = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(fields) >= 5 and len(rfields) >= 3:
            mounts.append((fields[3], fields[4], rfields[0], rfields[2].split(",")))
    # memory bound to a v1 hierarchy is not available in v2 (hybrid systems), so v1 is looked at first
    for path, version in ((v1, 1), (v2, 2)):
        for root, mount_point, fstype, options in mounts:
            wanted = fstype == "cgroup" and "memory" in options if version == 1 else fstype == "cgroup2"
            if path is None or not wanted or not path.startswith(root):
                continue
            rel = os.path.relpath(path, root)
            d = Path(mount_point) / rel
            ok = version == 1 or "memory" in _read(d / "cgroup.controllers").split()
            if not rel.startswith("..") and d.is_dir() and ok:
                return d.resolve(), version
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _wait_until_uid_idle(uid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _user_process_count(uid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _user_process_count(uid: int) -> int:
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


# ---- result cache ----


def cache_dir() -> Path:
    """$NANOCHAT_CACHE_DIR/eval, else ~/.cache/nanochat/eval."""
    base = os.environ.get("NANOCHAT_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "nanochat") / "eval"


class ResultCache:
    """Sandbox results on disk, one small JSON file per program hash (written atomically)."""

    def __init__(self, root: Path | None):
        self.root = root

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> SandboxResult | None:
        if self.root is None:
            return None
        try:
            return SandboxResult.from_dict(json.loads(self._path(key).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, result: SandboxResult) -> None:
        if self.root is None or result.status == "Timeout":
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(result.to_dict()))
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


# ---- the sandbox ----


def _diagnostics(stderr_text: str) -> tuple[str | None, list[str], list[int]]:
    """First rendered error, the error codes and the main.rs lines of the errors' primary spans, from rustc's
    --error-format=json output."""
    first, codes, lines = None, [], []
    for line in stderr_text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if d.get("level") not in ("error", "error: internal compiler error"):
            continue
        code = (d.get("code") or {}).get("code")
        if code:
            codes.append(code)
        lines += [sp["line_start"] for sp in d.get("spans") or ()
                  if sp.get("is_primary") and sp.get("file_name") == "main.rs" and isinstance(sp.get("line_start"), int)]
        if first is None and not d.get("message", "").startswith("aborting due to"):
            first = (d.get("rendered") or d.get("message") or "").strip()
    return first, codes, lines


def _runtime_error(stderr_text: str, exit_code: int | None) -> str:
    lines = [ln for ln in stderr_text.splitlines() if ln.strip()]
    text = "\n".join(lines[:3])[:600]
    signum = None
    if exit_code is not None and exit_code > 128 and exit_code - 128 < 65:
        signum = exit_code - 128
    elif exit_code is not None and exit_code < 0:
        signum = -exit_code
    if signum is not None:
        try:
            name = signal.Signals(signum).name
        except ValueError:  # real-time signals other than SIGRTMIN/SIGRTMAX have no name
            name = f"signal {signum}"
        text = (text + "\n" if text else "") + f"killed by {name}"
    return text or f"exit code {exit_code}"


@dataclass(frozen=True)
class _Step:
    """Limits of one sandboxed step (compile or run)."""

    tag: str  # names the stdout/stderr files: compile.out, run.err, ...
    timeout: float
    address_space: int
    file_size: int
    nproc: int | None
    output_cap: int


# include!, include_str!, include_bytes! (also through `use std::include_str as x`: the name must appear)
_INCLUDE_MACRO = re.compile(r"\binclude(_str|_bytes)?\b")


class RustSandbox:
    """Compiles and runs Rust programs in isolated temp dirs; `run_many` runs them on N workers."""

    def __init__(
        self,
        mode: Mode = "multipl-e",
        limits: SandboxLimits | None = None,
        jobs: int = 1,
        cache: Path | None | Literal["default"] = "default",
        isolation: Literal["auto", "namespaces", "rlimits"] = "auto",
        uid_base: int | None = None,
    ):
        if mode not in EDITIONS:
            raise NanochatError(f"unknown mode {mode!r}; use multipl-e or 2021")
        if jobs < 1:
            raise NanochatError(f"-j must be at least 1 (got {jobs})")
        self.mode: Mode = mode
        self.limits = limits or SandboxLimits()
        self.jobs = jobs
        self.rustc, self.rustc_version = find_rustc()
        self.cache = ResultCache(cache_dir() / "results" if cache == "default" else cache)
        if isolation != "rlimits" and not _namespaces_available():
            if isolation == "namespaces":
                raise NanochatError("namespace isolation needs root and util-linux unshare/setpriv/mount/pivot_root; "
                                    "use isolation='rlimits'")
            isolation = "rlimits"
        if isolation == "auto":
            isolation = "namespaces"
        # One unprivileged uid per worker slot: RLIMIT_NPROC counts per uid, so slots don't share a budget.
        self.uid_base = uid_base if uid_base is not None else int(os.environ.get("NANOCHAT_SANDBOX_UID_BASE",
                                                                                 _default_uid_base()))
        self.rustc_as_root = False  # rustc runs as the slot's uid unless the sysroot is unreadable to it
        self.memory: MemoryCgroup | None = None
        if isolation != "rlimits":
            user = _probe_rustc_user(self.rustc, self.uid_base)
            if user is None:
                if isolation == "namespaces":
                    raise NanochatError("namespace isolation could not build its private root here (mount, pivot_root); "
                                        "use isolation='rlimits'")
                isolation = "rlimits"
            else:
                self.rustc_as_root = user == 0
                if user == 0:
                    warnings.warn(f"the rustc sysroot under {self.rustc.parent.parent} is not readable by other users: "
                                  "rustc runs as root (no capabilities) in the sandbox; make it world-readable "
                                  "(chmod -R a+rX) to run rustc unprivileged", stacklevel=2)
                self.memory = MemoryCgroup.find()
        self.isolation = isolation
        self._slots: queue.Queue[int] = queue.Queue()
        for s in range(jobs):
            self._slots.put(s)

    # -- identity --

    def describe(self) -> dict:
        return {"mode": self.mode, "edition": EDITIONS[self.mode], "rustc": self.rustc_version,
                "isolation": self.isolation, "limits": asdict(self.limits), "sandbox_version": SANDBOX_VERSION}

    def edition_for(self, least: str | None = None) -> str:
        """The edition a program is compiled in: the mode's, or `least` when that is later."""
        return max(EDITIONS[self.mode], least or "")

    def cache_key(self, source: str, kind: str, edition: str | None = None) -> str:
        fields = {"v": SANDBOX_VERSION, "mode": self.mode, "kind": kind, "rustc": self.rustc_version,
                  "limits": asdict(self.limits), "isolation": self.isolation}
        if self.edition_for(edition) != EDITIONS[self.mode]:  # only then, so existing cache entries stay valid
            fields["edition"] = self.edition_for(edition)
        ident = json.dumps(fields, sort_keys=True)
        return hashlib.sha256((ident + "\0" + source).encode("utf-8", "surrogatepass")).hexdigest()

    # -- running --

    def run(self, source: str, kind: str = "tested", edition: str | None = None) -> SandboxResult:
        """Compile (and for kind "tested", run) one program; cached by program hash.

        `edition`: the least edition the program needs (see `edition_for`); None means the mode's.
        """
        key = self.cache_key(source, kind, edition)
        hit = self.cache.get(key)
        if hit is not None:
            return replace(hit, cached=True)
        slot = self._slots.get()
        try:
            result = self._run_uncached(source, kind, slot, self.edition_for(edition))
        finally:
            self._slots.put(slot)
        self.cache.put(key, result)
        return result

    def run_many(
        self, items: Iterable[tuple[str, str] | tuple[str, str, str | None]],
        progress: Callable[[int, SandboxResult], None] | None = None,
    ) -> list[SandboxResult]:
        """Run (source, kind) or (source, kind, least edition) tuples on `jobs` workers; results in input order."""
        items = list(items)
        results: list[SandboxResult | None] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(self.run, *item): i for i, item in enumerate(items)}
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if progress:
                    progress(i, results[i])
        return results  # type: ignore[return-value]

    def _run_uncached(self, source: str, kind: str, slot: int, edition: str) -> SandboxResult:
        top = _make_top()
        try:
            return self._compile_and_run(top, source, kind, slot, edition)
        finally:
            shutil.rmtree(top, ignore_errors=True)

    def _clean_env(self, work: Path) -> dict[str, str]:
        # Only what rustc needs: PATH for the linker (cc), HOME/TMPDIR inside the sandbox dir.
        path = os.pathsep.join(dict.fromkeys([str(self.rustc.parent), "/usr/local/bin", "/usr/bin", "/bin"]))
        return {"PATH": path, "HOME": str(work), "TMPDIR": str(work), "LC_ALL": "C"}

    def _compile_and_run(self, top: Path, source: str, kind: str, slot: int, edition: str) -> SandboxResult:
        lim, work = self.limits, top / "work"
        (work / "main.rs").write_text(source, encoding="utf-8", errors="surrogatepass")
        # the resolved path: the view binds the sysroot itself, not whatever symlinks led to it
        cmd = [str(self.rustc.resolve()), f"--edition={edition}", "--error-format=json"]
        if kind == "compile":
            cmd += ["--crate-type", "lib", "--emit=metadata"]
        elif kind == "test":  # the #[test] functions, built into libtest's harness and run
            cmd += ["--test"]
        cmd += ["main.rs", "-o", "main"] if kind != "compile" else ["main.rs"]
        uid = self.uid_base + slot
        if self.isolation == "namespaces":
            os.chown(work, uid, uid)
            os.chmod(work, 0o700)
        compile_step = _Step("compile", lim.compile_timeout_s, lim.compile_address_space, lim.compile_file_size,
                             None, 1 << 20)
        code, timed_out, secs, _, err_text = self._contained(top, cmd, self._clean_env(work), compile_step,
                                                             0 if self.rustc_as_root else uid, slot)
        if timed_out:
            return SandboxResult("Timeout", False, None, "compile timed out", [], "", "", secs)
        if code != 0:
            first, codes, lines = _diagnostics(err_text)
            if first is None:  # rustc died without a diagnostic (killed by a limit, ICE, ...)
                first = _runtime_error(err_text, code)
            if self.rustc_as_root and _INCLUDE_MACRO.search(source):  # it may quote a file only root can read
                first = "compile error (diagnostic withheld: rustc ran as root and the program uses an include macro)"
            return SandboxResult("SyntaxError", False, code, first, codes, "", "", secs, error_lines=lines)
        if kind == "compile":
            return SandboxResult("OK", True, 0, None, [], "", "", secs)

        run_env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work), "LC_ALL": "C"}
        if self.isolation == "namespaces":
            nproc = lim.run_nproc
        else:
            nproc = _user_process_count(os.getuid()) + lim.run_nproc
        run_step = _Step("run", lim.run_timeout_s, lim.run_address_space, lim.run_file_size, nproc, lim.output_cap)
        code, timed_out, run_s, out, err = self._contained(top, ["./main"], run_env, run_step, uid, slot)
        if timed_out:
            return SandboxResult("Timeout", True, None, "run timed out", [], out, err, secs, run_s)
        if code == 0:
            return SandboxResult("OK", True, 0, None, [], out, err, secs, run_s)
        return SandboxResult("Exception", True, code, _runtime_error(err, code), [], out, err, secs, run_s)

    def _contained(self, top: Path, cmd: list[str], env: dict, step: _Step, uid: int,
                   slot: int) -> tuple[int | None, bool, float, str, str]:
        """_spawn cmd as this sandbox's isolation says: with namespaces, in the private root as `uid` and in a
        memory cgroup of its own (removed afterwards) bounded by the step's address-space limit."""
        if self.isolation != "namespaces":
            return self._spawn(cmd, top / "work", env, step.tag, step.timeout, step.address_space, step.file_size,
                               step.nproc, step.output_cap)
        cgroup = self.memory.create(step.address_space) if self.memory else None
        try:
            sysroot = _extra_sysroot(self.rustc) if step.tag == "compile" else None
            return self._spawn(_ns_command(top, uid, cgroup, sysroot, cmd), top / "work", env, step.tag, step.timeout,
                               step.address_space, step.file_size, step.nproc, step.output_cap)
        finally:
            if cgroup is not None:
                self.memory.remove(cgroup)
            # The kernel kills what is left in the PID namespace asynchronously; wait until the slot's uid is
            # free again, so the next step on this slot gets its whole RLIMIT_NPROC budget.
            _wait_until_uid_idle(self.uid_base + slot, timeout=5.0)

    def _spawn(self, cmd: list[str], cwd: Path, env: dict, tag: str, timeout: float,
               address_space: int, file_size: int, nproc: int | None,
               output_cap: int) -> tuple[int | None, bool, float, str, str]:
        """Run cmd in a new session with limits; kill its process group at the timeout.

        Returns (exit code, timed out, seconds, stdout, stderr), the outputs read (up to output_cap bytes)
        through the descriptors opened here: the program owns its temp dir and may have replaced the
        files by then (with a symlink to a file only we can read), so they are never reopened by name.
        """
        cpu = int(timeout) + 2
        limits = {"cpu": (cpu, cpu + 1), "as": (address_space, address_space), "fsize": (file_size, file_size),
                  "core": (0, 0)}
        if nproc is not None:
            limits["nproc"] = (nproc, nproc)
        preexec = None
        if _PRLIMIT:  # util-linux prlimit sets the limits and execs: no Python code between fork and exec
            cmd = [_PRLIMIT] + [f"--{name}={soft}:{hard}" for name, (soft, hard) in limits.items()] + ["--"] + cmd
        else:
            rlimits = {"cpu": resource.RLIMIT_CPU, "as": resource.RLIMIT_AS, "fsize": resource.RLIMIT_FSIZE,
                       "core": resource.RLIMIT_CORE, "nproc": resource.RLIMIT_NPROC}

            def preexec() -> None:  # only setrlimit calls, which take no locks another thread could hold
                for name, value in limits.items():
                    resource.setrlimit(rlimits[name], value)

        t0 = time.perf_counter()
        with open(cwd / f"{tag}.out", "w+b") as out, open(cwd / f"{tag}.err", "w+b") as err:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, preexec_fn=preexec, close_fds=True)  # noqa: PLW1509
            timed_out = False
            try:
                code: int | None = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out, code = True, None
            finally:
                try:  # kill the whole group: the program's children, or unshare (its --kill-child ends the PID namespace)
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
            secs = time.perf_counter() - t0
            return code, timed_out, secs, _read_capped(out, output_cap), _read_capped(err, output_cap)


def _read_capped(f, cap: int) -> str:
    f.seek(0)
    return f.read(cap).decode("utf-8", errors="replace")


if __name__ == "__main__":  # python -m nanochat_cli.rust.sandbox FILE.rs [multipl-e|2021]
    box = RustSandbox(mode=sys.argv[2] if len(sys.argv) > 2 else "multipl-e", cache=None)
    print(json.dumps(box.run(Path(sys.argv[1]).read_text()).to_dict(), indent=2))
