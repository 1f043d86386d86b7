#!/usr/bin/env bash
# Prepare, on a networked machine, what benchmarks/gpu_check.sh needs on a GPU machine with no network
# (the workplace's device tool): the py3.12 manylinux wheels of the dependencies its image lacks, in .whl/
# (ignored through .git/info/exclude), and the small nano_125m corpus in cache/gpu_check/data (cache/ is
# ignored). Prints what would travel against the tool's 64 MiB limit. Takes a few minutes (the corpus: 200
# Debian crates and a 32K BPE); re-running reuses the corpus.
#     bash benchmarks/gpu_check_prepare.sh
# then: run(command="bash benchmarks/gpu_check.sh", carry=[".whl", "cache/gpu_check/data"], timeout_s=600).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/gpu_check.sh  # GPU_CHECK_RECIPE and GPU_CHECK_DATA_SETS only: it returns before running
PY=${PYTHON:-.venv/bin/python}
[[ -x $PY ]] || PY=python3

# The project's dependencies that the device image lacks (its package list: KINDS.md), at this venv's versions;
# pycparser is cffi's own. The image holds the rest, CuPy (cupy-cuda13x) included.
WHEELS=(cffi==2.1.1 pycparser==3.12 gguf==0.19.0 tree-sitter==0.26.1 tree-sitter-rust==0.24.2)

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF /.whl/ "$exclude" 2>/dev/null || echo /.whl/ >>"$exclude"

rm -rf .whl  # one version of each: two stop the offline install
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"

"$PY" -m nanochat_cli.cli data prepare "$GPU_CHECK_RECIPE" "${GPU_CHECK_DATA_SETS[@]}"
keep=$("$PY" - "$GPU_CHECK_RECIPE" "${GPU_CHECK_DATA_SETS[@]}" <<'EOF'
import sys
from nanochat_cli.data.prepare import data_dir
from nanochat_cli.recipes import load_recipe

print(data_dir(load_recipe(sys.argv[1], [a for a in sys.argv[2:] if a != "--set"])).name)
EOF
)
for d in cache/gpu_check/data/*; do  # corpora of earlier settings would travel too
    [[ $(basename "$d") == "$keep" ]] || rm -rf "$d"
done

# du reads the names itself (xargs would split them into several du runs, each with its own total); a tracked
# file deleted in the work tree is skipped
bytes() { { du -cb --files0-from=- 2>/dev/null || true; } | awk '$2 == "total" {n = $1} END {print n + 0}'; }
mib() { awk -v n="$1" 'BEGIN {printf "%.2f MiB", n / 1048576}'; }
tracked=$(git ls-files -z | bytes)
untracked=$(git ls-files -z --others --exclude-standard | bytes)
carried=$(printf '%s\0' .whl cache/gpu_check/data | bytes)
echo "travels: tracked $(mib "$tracked"), untracked not ignored $(mib "$untracked")," \
     "carried (.whl, cache/gpu_check/data) $(mib "$carried"); total $(mib $((tracked + untracked + carried))) of 64 MiB"
du -sh .whl cache/gpu_check/data/"$keep"
