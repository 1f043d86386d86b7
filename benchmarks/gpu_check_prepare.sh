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

source benchmarks/gpu_env.sh
gpu_download_wheels "$PY"

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

gpu_travel_size .whl cache/gpu_check/data
du -sh .whl cache/gpu_check/data/"$keep"
