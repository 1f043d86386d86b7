"""Write a file the user named without ever destroying something else: `atomic_output(path)` and friends.

Every output a command writes (export/quantize GGUFs, eval results, bench-kernels JSON, run files) goes
through here. The file is written under a temp name beside the target and renamed over it, so a kill leaves
the old file or the new one, never half of one. Renaming replaces whatever sits at the name, so a target that
exists and is not a regular file (a device such as /dev/null, a FIFO, a socket, a symlink, a directory) is
refused: `nanochat export CKPT -o /dev/full` as root must not turn the device into a 4 MiB file.
`check_output_path` runs the same checks (and a write probe in the directory) so commands can fail before
their long work starts rather than after it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nanochat_cli.errors import NanochatError

TEMP_MARK = ".tmp-"  # temp names are ".NAME.tmp-PID-HEX": run directories clean up the ones a kill left


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "directory"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _refuse_special(path: Path, what: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise NanochatError(f"{what} {path}: {e.strerror}; choose a writable output path") from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise NanochatError(f"{what} {path} is a directory; pass a file name inside it, such as {path / 'out'}")
    raise NanochatError(f"{what} {path} is a {_kind(mode)}, not a regular file; nanochat only replaces regular "
                        "files, so choose another path")


def probe_writable_dir(directory: Path, what: str) -> None:
    """Create and remove a file in `directory`: the one reliable test (root, read-only mounts, /proc)."""
    probe = directory / f".nanochat-probe{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as e:
        raise NanochatError(f"{what}: directory {directory} is not writable ({e.strerror}); choose a writable path") from None


def check_output_path(path: str | os.PathLike, what: str = "output") -> Path:
    """Refuse `path` now, before any long work, unless it can be atomically written as a regular file.

    `what` names the option in the message (e.g. "--output"). The parent directory must exist and be writable;
    the target may be absent or a regular file, nothing else.
    """
    path = Path(path).expanduser()
    _refuse_special(path, what)
    parent = path.parent
    if not parent.is_dir():
        raise NanochatError(f"{what} {path}: directory {parent} does not exist; create it first")
    probe_writable_dir(parent, what)
    return path


@contextmanager
def atomic_output(path: str | os.PathLike, what: str = "output") -> Iterator[Path]:
    """Yield a temp path beside `path`; when the block ends without error, rename it over `path`.

    The temp file exists (empty) when yielded, created with the user's umask like any new file (mkstemp's 0600
    would hide results from the group); an error removes it and leaves the target untouched.
    """
    path = check_output_path(path, what)
    tmp = path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as e:
        raise NanochatError(f"cannot write {path}: {e.strerror}; choose a writable output path") from None
    try:
        yield tmp
        _refuse_special(path, what)  # again: the work may have taken hours, and a rename is irreversible
        os.replace(tmp, path)
    except OSError as e:  # full disk, read-only remount, quota: one line, not a traceback
        raise NanochatError(f"cannot write {path}: {e.strerror or e}; choose a writable output path") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str, what: str = "output") -> Path:
    with atomic_output(path, what) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path).expanduser()


def write_bytes_atomic(path: str | os.PathLike, data: bytes, what: str = "output") -> Path:
    with atomic_output(path, what) as tmp:
        tmp.write_bytes(data)
    return Path(path).expanduser()


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask can only set it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path: str | os.PathLike, base: int = 0o666) -> None:
    """Give `path` the mode a plain open() would have: some writers (safetensors) create their files 0600."""
    os.chmod(path, base & ~current_umask())


def remove_stale_temps(directory: Path) -> list[str]:
    """Delete the temp files and directories (".NAME.tmp-PID...") that a killed writer left in `directory`.

    Only for a directory this process is about to own (a run directory it trains into); returns the names.
    """
    removed = []
    for p in directory.iterdir():
        if not (p.name.startswith(".") and TEMP_MARK in p.name):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p.name)
    return sorted(removed)
