"""Rust crates from Debian's `librust-*-dev` packages: apt-get download + dpkg -x into a cache, no root install.

Used by `nanochat data prepare` when a recipe lists the "debian" source. Each package unpacks its crate
to `usr/share/cargo/registry/<crate>-<version>/`; those directories are what this module returns.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from nanochat_cli.errors import NanochatError

HOW_TO = (
    "on Debian/Ubuntu run `sudo apt-get update` so apt-cache knows the librust-*-dev packages, "
    "or use another source: a directory of .rs files, \"cargo\" (~/.cargo/registry/src after a cargo fetch), "
    "or \"rust-src\" (`rustup component add rust-src`)"
)


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NanochatError(f"the Debian source needs `{cmd[0]}`, which is not installed; {HOW_TO}") from None


def list_packages() -> list[str]:
    """Names of the librust-*-dev packages apt knows, without the per-feature `+feat` meta packages."""
    out = _run(["apt-cache", "search", "--names-only", r"^librust-.*-dev$"]).stdout
    names = sorted({line.split(" ", 1)[0] for line in out.splitlines() if line.strip()})
    return [n for n in names if "+" not in n]


def installed_sizes_kb(names: list[str]) -> dict[str, int]:
    """Package -> Installed-Size (KiB) from one `apt-cache show` call per 200 names."""
    sizes: dict[str, int] = {}
    for i in range(0, len(names), 200):
        out = _run(["apt-cache", "show", "--no-all-versions", *names[i : i + 200]]).stdout
        pkg = None
        for line in out.splitlines():
            if line.startswith("Package: "):
                pkg = line.split(": ", 1)[1].strip()
            elif line.startswith("Installed-Size: ") and pkg:
                sizes[pkg] = int(line.split(": ", 1)[1].strip() or 0)
    return sizes


def choose_packages(max_crates: int, max_package_kb: int, seed: int, explicit: list[str]) -> list[str]:
    """The packages to fetch: the explicit list, or max_crates picked by a seeded hash among those small enough."""
    if explicit:
        return list(explicit)
    names = list_packages()
    if not names:
        raise NanochatError(f"apt-cache lists no librust-*-dev packages; {HOW_TO}")
    sizes = installed_sizes_kb(names)
    small = [n for n in names if 0 < sizes.get(n, 0) <= max_package_kb]
    # A seeded hash order is a reproducible sample spread over the whole archive (not just the a* crates).
    small.sort(key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())
    return sorted(small[:max_crates])


def fetch_crates(packages: list[str], cache: Path, progress=None) -> list[Path]:
    """Download and unpack the packages into CACHE/debian; return their crate directories.

    Already unpacked packages are reused. Packages that fail to download are skipped with a note in the
    return value's absence (the manifest lists the crates actually used).
    """
    debs = cache / "debian" / "debs"
    roots = cache / "debian" / "unpacked"
    debs.mkdir(parents=True, exist_ok=True)
    roots.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not (roots / p / ".done").exists()]
    need_download = [p for p in missing if not list(debs.glob(f"{p}_*.deb"))]
    for i in range(0, len(need_download), 25):
        batch = need_download[i : i + 25]
        res = _run(["apt-get", "download", *batch], cwd=debs)
        if res.returncode != 0:  # one bad name fails the batch: retry one by one
            for p in batch:
                _run(["apt-get", "download", p], cwd=debs)
        if progress:
            progress(min(i + 25, len(need_download)), len(need_download), "download")
    for j, p in enumerate(missing):
        found = sorted(debs.glob(f"{p}_*.deb"))
        if not found:
            continue
        dest = roots / p
        tmp = roots / f".{p}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        res = _run(["dpkg-deb", "-x", str(found[-1]), str(tmp)])
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        (dest / ".done").write_text(found[-1].name)
        if progress:
            progress(j + 1, len(missing), "unpack")
    crates: list[Path] = []
    for p in packages:
        reg = roots / p / "usr" / "share" / "cargo" / "registry"
        if reg.is_dir():
            crates.extend(sorted(d for d in reg.iterdir() if d.is_dir()))
    return crates
