"""Rust sandbox: compile and run untrusted model-written Rust with rustc, under limits. Used by `nanochat eval`.

Each program gets its own temporary directory. Modes:
- "multipl-e": what MultiPL-E does, so figures compare with published ones: plain `rustc main.rs -o main`
  (edition 2015, debug build), 15 s to compile, 5 s to run; status OK (exit 0), SyntaxError (any
  compile error), Exception (non-zero exit: failed assert_eq!, panic, signal), Timeout.
- "2021": the same with `--edition 2021`.
Compile-only problems (kind "compile") are type-checked as a library: `--crate-type lib --emit=metadata`.

What the sandbox does:
- rustc runs with CPU-time, address-space and file-size limits (setrlimit, through util-linux `prlimit`
  when present so no Python runs between fork and exec; a preexec hook otherwise), a cleared environment
  (PATH, HOME and TMPDIR pointed at the temp dir), no network (own network namespace), in its own
  process group that is killed (killpg) at the timeout. rustc is the real toolchain binary from
  `rustc --print sysroot`, so no rustup proxy and no RUSTUP_HOME/CARGO_HOME are needed.
- The compiled program, when we are root and util-linux `unshare`/`setpriv` exist ("namespaces"
  isolation), runs: in new network, mount and PID namespaces (no network at all, not even the host's
  loopback; every process it starts dies with it); as an unprivileged uid of its own (one per worker
  slot, so RLIMIT_NPROC bounds a fork bomb; root would be exempt); with /tmp, /var/tmp and /dev/shm
  remounted read-only and everything else unwritable to that uid, so it can write only in its temp
  dir; with limits on CPU time, address space (a 1 GB allocation fails), file size (caps stdout and
  stderr, which go to files: a program printing forever dies of SIGXFSZ) and process count.
- Without root or those tools ("rlimits" isolation) only the limits, the cleared environment and
  the process-group kill apply.
- Results are cached on disk by a hash of (mode, kind, rustc version, limits, program): see
  `ResultCache`. Timeouts are not cached (they may come from a loaded machine).

What it does NOT protect against (read before pointing it at hostile code):
- rustc itself runs as the calling user (it needs the toolchain, which may be under a private home):
  a rustc bug exploitable by source code, or `include_str!`/`include_bytes!` reading files the user
  can read (their contents can show up in error messages), is not contained.
- "rlimits" isolation (non-root, or no util-linux): the program has the network, can write anywhere
  the user can, RLIMIT_NPROC counts all of the user's processes, and children that call setsid()
  escape the process-group kill.
- Even with namespaces: the kernel is shared (a kernel exploit escapes), the program can read
  world-readable files, use CPU up to its limits on every core, and the tmpfs/overlay it writes to
  counts against the machine's memory/disk up to RLIMIT_FSIZE per file; there is no seccomp filter
  and no cgroup memory limit (RLIMIT_AS bounds each process, not their sum).
Run with `python -m nanochat_cli.evaluate.sandbox FILE.rs` to try one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
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

# The shell run inside the new namespaces: make the temp dir its own mount (exec even if /tmp is
# mounted noexec; nosuid, nodev), remount the world-writable places read-only (the temp dir survives as
# a separate rw mount under /tmp), then run the program as the unprivileged uid. The program runs as a child, not exec'd, so it is not PID 1
# (PID 1 ignores default-action signals such as abort's SIGABRT).
_NS_SCRIPT = r"""
set -e
D="$1"; U="$2"; shift 2
mount --bind "$D" "$D"
mount -o remount,bind,exec,nosuid,nodev "$D"
for W in /tmp /var/tmp /dev/shm; do
  if [ -d "$W" ]; then mount --rbind "$W" "$W"; mount -o remount,bind,ro "$W"; fi
done
cd "$D"
set +e
setpriv --reuid="$U" --regid="$U" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
exit $?
"""


@dataclass(frozen=True)
class SandboxLimits:
    """Per-program limits. Defaults follow MultiPL-E's timeouts; memory/file/process caps are ours."""

    compile_timeout_s: float = 15.0  # MultiPL-E-derived evaluators' compile timeout
    run_timeout_s: float = 5.0  # MultiPL-E's run timeout
    compile_address_space: int = 4 << 30  # rustc + LLVM reserve a lot of virtual memory
    run_address_space: int = 512 << 20  # so a 1 GB allocation fails
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


def _namespaces_available() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("unshare", "setpriv", "mount", "sh"))


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


def _diagnostics(stderr_text: str) -> tuple[str | None, list[str]]:
    """First rendered error and the error codes from rustc's --error-format=json output."""
    first, codes = None, []
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
        if first is None and not d.get("message", "").startswith("aborting due to"):
            first = (d.get("rendered") or d.get("message") or "").strip()
    return first, codes


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
        if isolation == "auto":
            isolation = "namespaces" if _namespaces_available() else "rlimits"
        elif isolation == "namespaces" and not _namespaces_available():
            raise NanochatError("namespace isolation needs root and util-linux unshare/setpriv; use isolation='rlimits'")
        self.isolation = isolation
        # One unprivileged uid per worker slot: RLIMIT_NPROC counts per uid, so slots don't share a budget.
        self.uid_base = uid_base if uid_base is not None else int(os.environ.get("NANOCHAT_SANDBOX_UID_BASE", "1900000000"))
        self._slots: queue.Queue[int] = queue.Queue()
        for s in range(jobs):
            self._slots.put(s)

    # -- identity --

    def describe(self) -> dict:
        return {"mode": self.mode, "edition": EDITIONS[self.mode], "rustc": self.rustc_version,
                "isolation": self.isolation, "limits": asdict(self.limits), "sandbox_version": SANDBOX_VERSION}

    def cache_key(self, source: str, kind: str) -> str:
        ident = json.dumps({"v": SANDBOX_VERSION, "mode": self.mode, "kind": kind, "rustc": self.rustc_version,
                            "limits": asdict(self.limits), "isolation": self.isolation}, sort_keys=True)
        return hashlib.sha256((ident + "\0" + source).encode("utf-8", "surrogatepass")).hexdigest()

    # -- running --

    def run(self, source: str, kind: str = "tested") -> SandboxResult:
        """Compile (and for kind "tested", run) one program; cached by program hash."""
        key = self.cache_key(source, kind)
        hit = self.cache.get(key)
        if hit is not None:
            return replace(hit, cached=True)
        slot = self._slots.get()
        try:
            result = self._run_uncached(source, kind, slot)
        finally:
            self._slots.put(slot)
        self.cache.put(key, result)
        return result

    def run_many(
        self, items: Iterable[tuple[str, str]], progress: Callable[[int, SandboxResult], None] | None = None
    ) -> list[SandboxResult]:
        """Run (source, kind) pairs on `jobs` workers; results in input order."""
        items = list(items)
        results: list[SandboxResult | None] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(self.run, src, kind): i for i, (src, kind) in enumerate(items)}
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if progress:
                    progress(i, results[i])
        return results  # type: ignore[return-value]

    def _run_uncached(self, source: str, kind: str, slot: int) -> SandboxResult:
        work = Path(tempfile.mkdtemp(prefix="nanochat-eval-"))
        try:
            return self._compile_and_run(work, source, kind, slot)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _clean_env(self, work: Path) -> dict[str, str]:
        # Only what rustc needs: PATH for the linker (cc), HOME/TMPDIR inside the sandbox dir.
        path = os.pathsep.join(dict.fromkeys([str(self.rustc.parent), "/usr/local/bin", "/usr/bin", "/bin"]))
        return {"PATH": path, "HOME": str(work), "TMPDIR": str(work), "LC_ALL": "C"}

    def _compile_and_run(self, work: Path, source: str, kind: str, slot: int) -> SandboxResult:
        lim = self.limits
        (work / "main.rs").write_text(source, encoding="utf-8", errors="surrogatepass")
        cmd = [str(self.rustc), f"--edition={EDITIONS[self.mode]}", "--error-format=json"]
        if kind == "compile":
            cmd += ["--crate-type", "lib", "--emit=metadata"]
        cmd += ["main.rs", "-o", "main"] if kind != "compile" else ["main.rs"]
        if self.isolation == "namespaces":
            cmd = ["unshare", "--net", "--"] + cmd
        env = self._clean_env(work)
        code, timed_out, secs, _, err_text = self._spawn(cmd, work, env, "compile", lim.compile_timeout_s,
                                                         lim.compile_address_space, lim.compile_file_size, None,
                                                         1 << 20)
        if timed_out:
            return SandboxResult("Timeout", False, None, "compile timed out", [], "", "", secs)
        if code != 0:
            first, codes = _diagnostics(err_text)
            if first is None:  # rustc died without a diagnostic (killed by a limit, ICE, ...)
                first = _runtime_error(err_text, code)
            return SandboxResult("SyntaxError", False, code, first, codes, "", "", secs)
        if kind == "compile":
            return SandboxResult("OK", True, 0, None, [], "", "", secs)

        run_env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work), "LC_ALL": "C"}
        if self.isolation == "namespaces":
            uid = self.uid_base + slot
            os.chown(work, uid, uid)
            os.chmod(work, 0o700)
            cmd = ["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
                   "--propagation", "private", "--", "sh", "-c", _NS_SCRIPT, "sh", str(work), str(uid), "./main"]
            nproc = lim.run_nproc
        else:
            cmd = ["./main"]
            nproc = _user_process_count(os.getuid()) + lim.run_nproc
        code, timed_out, run_s, out, err = self._spawn(cmd, work, run_env, "run", lim.run_timeout_s,
                                                       lim.run_address_space, lim.run_file_size, nproc,
                                                       lim.output_cap)
        if self.isolation == "namespaces":
            # The kernel kills what is left in the PID namespace asynchronously; wait until the slot's uid
            # is free again, so the next program on this slot gets its whole RLIMIT_NPROC budget.
            _wait_until_uid_idle(self.uid_base + slot, timeout=5.0)
        if timed_out:
            return SandboxResult("Timeout", True, None, "run timed out", [], out, err, secs, run_s)
        if code == 0:
            return SandboxResult("OK", True, 0, None, [], out, err, secs, run_s)
        return SandboxResult("Exception", True, code, _runtime_error(err, code), [], out, err, secs, run_s)

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


if __name__ == "__main__":  # python -m nanochat_cli.evaluate.sandbox FILE.rs [multipl-e|2021]
    box = RustSandbox(mode=sys.argv[2] if len(sys.argv) > 2 else "multipl-e", cache=None)
    print(json.dumps(box.run(Path(sys.argv[1]).read_text()).to_dict(), indent=2))
