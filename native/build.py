"""cffi (API mode) build of the one native library, `nanochat_cli.kernels._native`: the ternary kernels
(ternary.h: scalar, AVX2, AVX-512 matmuls, layouts, thread pool, probes) and the inference engine's C on top of them
(engine.h: output heads, RMSNorm + int8 quantization, attention, the layer stack), which calls tq_matmul and
tq_pool_run directly. The two headers are the cffi declarations too (CDEF below reads them): nothing is declared twice.

Runs at `pip install -e .` through setup.py's `cffi_modules=["native/build.py:ffibuilder"]`. For a
quick rebuild in place while working on the C code: `python native/build.py` (writes the extension
next to nanochat_cli/kernels/__init__.py). `python native/build.py --asan DIR` builds an
AddressSanitizer + UBSan variant under DIR (how to run the tests on it: docs/BENCHMARKS.md, ## kernels).

Flags: no -march: every SIMD function carries its own target attribute or pragma, so the library runs on any
x86-64 and picks kernels from CPUID (dispatch.c, the *_best_kind() functions). -ffp-contract=off keeps multiplies
and adds separate (the numeric contract rounds them separately; GCC would otherwise fuse them into FMAs).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
KERNEL_SOURCES = ["scalar.c", "avx2.c", "avx512.c", "avx512vbmi.c", "layout.c", "layout16.c", "lut.c", "pool.c",
                  "dispatch.c", "bandwidth.c"]
ENGINE_SOURCES = ["heads.c", "norm_quant.c", "attention.c", "stack.c"]
SOURCES = KERNEL_SOURCES + ENGINE_SOURCES
PUBLIC_HEADERS = ["ternary.h", "engine.h"]  # the library's interface: cffi declares what they declare
HEADERS = PUBLIC_HEADERS + ["internal.h", "avx512_common.h", "vexp.h"]  # a change to one rebuilds the library too
FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-strict-aliasing", "-pthread", "-Wall"]


def header_cdef(text: str) -> str:
    """A header as cffi's cdef takes it: without preprocessor lines (include guards, #include), except integer
    #defines, which cffi checks against the compiled value. cffi drops the comments itself."""
    keep = [line for line in text.splitlines()
            if not line.startswith("#") or re.fullmatch(r"#define \w+ \d+", line.split("/*")[0].strip())]
    return "\n".join(keep)


CDEF = "\n".join(header_cdef((HERE / h).read_text()) for h in PUBLIC_HEADERS)


def make_builder(
    module: str = "nanochat_cli.kernels._native", extra_flags: list[str] | None = None, absolute: bool = False
) -> FFI:
    """setuptools (cffi_modules) wants source paths relative to setup.py; FFI.compile chdirs, so absolute."""
    if sys.platform == "win32" or os.uname().machine not in ("x86_64", "AMD64"):
        raise RuntimeError("nanochat's native kernels need an x86-64 Linux/macOS machine with gcc or clang")
    if shutil.which(os.environ.get("CC", "cc")) is None and shutil.which("gcc") is None:
        raise RuntimeError(
            "no C compiler found: install gcc (Debian/Ubuntu: apt-get install build-essential) "
            "or set CC, then reinstall with `pip install -e .`"
        )
    builder = FFI()
    builder.cdef(CDEF)
    flags = FLAGS + (extra_flags or [])
    builder.set_source(
        module,
        "".join(f'#include "{h}"\n' for h in PUBLIC_HEADERS),
        sources=[str(HERE / s) if absolute else f"native/{s}" for s in SOURCES],
        depends=[str(HERE / h) if absolute else f"native/{h}" for h in HEADERS],
        include_dirs=[str(HERE)],
        extra_compile_args=flags,
        extra_link_args=["-pthread"] + [f for f in (extra_flags or []) if f.startswith("-fsanitize")],
        libraries=["pthread"],
    )
    return builder


ffibuilder = make_builder()


def main() -> None:
    """Build in place (next to nanochat_cli/kernels/__init__.py), or an ASan variant into a directory."""
    repo = HERE.parent
    os.chdir(repo)
    if len(sys.argv) == 3 and sys.argv[1] == "--asan":
        target = Path(sys.argv[2]).resolve()
        flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-O1"]
        builder = make_builder("nanochat_cli.kernels._native", flags, True)
        print(builder.compile(tmpdir=str(target), verbose=False))
        return
    built = Path(make_builder(absolute=True).compile(tmpdir=str(repo / "native" / "_build"), verbose=False))
    # the name pip's editable build gives it (cffi compiles against the limited API), so the two never coexist
    dest = repo / "nanochat_cli" / "kernels" / "_native.abi3.so"
    for stale in dest.parent.glob("_native.*.so"):  # a version-tagged name would shadow pip's build
        stale.unlink()
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(built, tmp)
    os.replace(tmp, dest)
    print(dest)


if __name__ == "__main__":
    main()
