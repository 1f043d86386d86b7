# Shared by the prepared GPU runs (benchmarks/gpu_check.sh, benchmarks/gpu_train.sh) and their prepare scripts:
# sourced, it only defines the functions below and the wheel list.

# The project's dependencies that the device image lacks (its package list: KINDS.md), at this venv's versions;
# pycparser is cffi's own. The image holds the rest, CuPy (cupy-cuda13x) included.
GPU_WHEELS=(cffi==2.1.1 pycparser==3.12 gguf==0.19.0 tree-sitter==0.26.1 tree-sitter-rust==0.24.2)

# gpu_require_cuda NAME PY: exit 2 with one line on stderr unless PY's torch sees a CUDA GPU.
gpu_require_cuda() {
    local cuda
    cuda=$("$2" -c 'import torch; print(f"torch.cuda.is_available() is {torch.cuda.is_available()}")' 2>/dev/null \
          || echo "it cannot import torch")
    if [[ $cuda != *True ]]; then
        echo "$1: no CUDA GPU here ($2: $cuda); run it on a machine with an NVIDIA GPU, or set PYTHON to" \
             "the python3 that has torch with CUDA" >&2
        exit 2
    fi
}

# gpu_install PY SITE: the project importable by PY. Offline (.whl/ present, from gpu_download_wheels) the
# missing dependencies go into SITE; on a networked box, pip install -e. Then the native C library is built
# for this host and the repository and SITE are put on PYTHONPATH (exported).
gpu_install() {
    local py=$1 site=$2
    if [[ -d .whl ]]; then
        # CuPy is the image's own (cupy-cuda13x), since the cuda extra's cupy-cuda12x cannot be fetched there
        "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
        export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
    elif "$py" -c 'import cupy' 2>/dev/null; then
        "$py" -m pip install -q -e .  # a CuPy is already there: a second one (the extra's cupy-cuda12x) would clash
    else
        "$py" -m pip install -q -e '.[cuda]'
    fi
    "$py" native/build.py  # for this host's compiler; the kernels pick their instruction sets at run time
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
}

# gpu_download_wheels PY: the py3.12 manylinux wheels of GPU_WHEELS into .whl/ (kept out of git through
# .git/info/exclude), one version of each.
gpu_download_wheels() {
    local exclude
    exclude=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$exclude")"
    grep -qxF /.whl/ "$exclude" 2>/dev/null || echo /.whl/ >>"$exclude"
    rm -rf .whl  # two versions of one package stop the offline install
    "$1" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${GPU_WHEELS[@]}"
}

# gpu_travel_size CARRIED...: what a device call would copy (tracked, untracked not ignored, the carried paths)
# against the device tool's 64 MiB.
gpu_travel_size() {
    # du reads the names itself (xargs would split them into several du runs, each with its own total); a
    # tracked file deleted in the work tree is skipped
    bytes() { { du -cb --files0-from=- 2>/dev/null || true; } | awk '$2 == "total" {n = $1} END {print n + 0}'; }
    mib() { awk -v n="$1" 'BEGIN {printf "%.2f MiB", n / 1048576}'; }
    local tracked untracked carried
    tracked=$(git ls-files -z | bytes)
    untracked=$(git ls-files -z --others --exclude-standard | bytes)
    carried=$(printf '%s\0' "$@" | bytes)
    echo "travels: tracked $(mib "$tracked"), untracked not ignored $(mib "$untracked")," \
         "carried ($*) $(mib "$carried"); total $(mib $((tracked + untracked + carried))) of 64 MiB"
}

# gpu_start_log NAME OUTDIR: OUTDIR made and made absolute (an empty OUTDIR is one line and exit 2), a scratch
# directory in $scratch (removed on exit), and everything printed from here on also in OUTDIR/NAME.log.
gpu_start_log() {
    if [[ -z $2 ]]; then
        echo "$1: name the output directory: bash benchmarks/$1.sh OUTDIR (or set OUT)" >&2
        exit 2
    fi
    mkdir -p "$2"
    OUTDIR=$(cd "$2" && pwd)
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/nanochat_$1.XXXXXX")  # wheels' site, checkpoints: not in OUTDIR
    exec > >(tee "$OUTDIR/$1.log") 2>&1
    GPU_TEE_PID=$!
    trap 'rm -rf "$scratch"; exec >&- 2>&-; wait "$GPU_TEE_PID" 2>/dev/null || true' EXIT  # the log complete on return
    export PYTHONUNBUFFERED=1 COLUMNS=160  # unbuffered logs; rich tables not cut at 80 columns
}

say() { printf '\n==== [%4ds] %s\n' "$SECONDS" "$*"; }
