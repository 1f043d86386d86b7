"""Debian librust-*-dev source: package choice from apt metadata, and one real fetch (network, marked)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from nanochat_cli.data import debian
from nanochat_cli.data.corpus_sources import CrateDir, rust_files

SHOW = """Package: librust-aaa-dev
Version: 1.0-1
Installed-Size: 120

Package: librust-big-dev
Installed-Size: 90000

Package: librust-ccc-dev
Installed-Size: 40
"""


def test_choice_skips_feature_metapackages_and_giants(monkeypatch):
    def fake_run(cmd, cwd=None):
        if cmd[1] == "search":
            out = "librust-aaa-dev - a\nlibrust-aaa+std-dev - feature\nlibrust-big-dev - b\nlibrust-ccc-dev - c\n"
        else:
            out = SHOW
        return subprocess.CompletedProcess(cmd, 0, out, "")

    monkeypatch.setattr(debian, "_run", fake_run)
    assert debian.list_packages() == ["librust-aaa-dev", "librust-big-dev", "librust-ccc-dev"]
    assert debian.installed_sizes_kb(["librust-aaa-dev"]) == {"librust-aaa-dev": 120, "librust-big-dev": 90000, "librust-ccc-dev": 40}
    picked = debian.choose_packages(max_crates=5, max_package_kb=1000, seed=1, explicit=[])
    assert picked == ["librust-aaa-dev", "librust-ccc-dev"]
    assert len(debian.choose_packages(max_crates=1, max_package_kb=1000, seed=1, explicit=[])) == 1
    assert debian.choose_packages(5, 1000, 1, ["librust-zzz-dev"]) == ["librust-zzz-dev"]


@pytest.mark.slow  # network: downloads one ~13 kB package from the Debian mirror
def test_real_package_fetch_unpacks_a_crate(tmp_path):
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("no apt-get / dpkg-deb on this machine")
    if "Candidate: (none)" in debian._run(["apt-cache", "policy", "librust-itoa-dev"]).stdout or not debian._run(
        ["apt-cache", "policy", "librust-itoa-dev"]
    ).stdout.strip():
        pytest.skip("apt does not know librust-itoa-dev (run apt-get update)")
    crates = debian.fetch_crates(["librust-itoa-dev"], tmp_path)
    if not crates:
        pytest.skip("the Debian mirror is not reachable")
    assert crates[0].name.startswith("itoa-")
    files = rust_files(CrateDir("debian", "itoa", crates[0]))
    assert any(f.name == "lib.rs" for f in files)
    # a second call reuses the unpacked package without downloading
    assert debian.fetch_crates(["librust-itoa-dev"], tmp_path) == crates
