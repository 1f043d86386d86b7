#!/usr/bin/env bash
# GPU check (issue 18, item 5): on one CUDA GPU, in about 5 minutes (sized for 10 minutes of one H100):
#   1. install: the cuda extra on a networked box; offline, the wheels in .whl/ (gpu_check_prepare.sh), then
#      the native C library built on this host (native/build.py);
#   2. the CuPy Triangle of Truth (tests/kernels/test_cuda.py) and GPU training (tests/train/test_trainer_gpu.py);
#   3. `nanochat bench-kernels --kernels cuda-dp4a` (numpy float32 on this CPU as the baseline);
#   4. the first 100 steps of recipes/nano_125m.toml (its full-run schedule, stopped at step 100) on a small
#      corpus prepared beforehand: median tokens/s and MFU from the run's metrics.jsonl.
# Writes gpu_check.log, summary.md, pytest.txt, bench_kernels.{txt,json}, metrics.jsonl and train_summary.json
# into OUTDIR (the argument, else $OUT); the checkpoint (large) goes to a temporary directory, removed at the end.
# A stage that fails does not stop the later ones; the exit status is non-zero when any failed.
#
# A networked GPU box (its python3 with torch; PYTHON=... to pick another):
#     bash benchmarks/gpu_check.sh out/gpu_check
#   (with no prepared corpus it runs `nanochat data prepare` first: ~10 minutes more on 2 cores, not counted).
# The workplace's device tool (no network there): here, once,
#     bash benchmarks/gpu_check_prepare.sh          # wheels into .whl/, corpus into cache/gpu_check/data
#   then run(command="bash benchmarks/gpu_check.sh", carry=[".whl", "cache/gpu_check/data"], timeout_s=600).
# Without a CUDA GPU it stops at once with one line saying so.
set -euo pipefail

# ---- shared with gpu_check_prepare.sh, which sources this file for them ----
GPU_CHECK_RECIPE=recipes/nano_125m.toml
# The prepared corpus's directory is named by a hash of the data section (cache_dir aside), so the prepare step
# and this run must pass the same keys. Decontamination is off: its fingerprint covers the evaluation problem
# files (../shared/benchmarks/multipl-e), which do not travel, and a throughput run does not need it.
GPU_CHECK_DATA_SETS=(--set data.max_crates=200 --set data.cache_dir=cache/gpu_check --set data.decontaminate=false)
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
STEPS=${GPU_CHECK_STEPS:-100}
BUDGET_S=${GPU_CHECK_BUDGET_S:-540}  # the training stage gets what is left of this, so the summary is written in time

# ---- a GPU or nothing: before anything is installed or written ----
source benchmarks/gpu_env.sh
gpu_require_cuda gpu_check "$PY"

gpu_start_log gpu_check "${1:-${OUT:-}}"

# ---- 1. install ----
say "install"
gpu_install "$PY" "$scratch/site"
"$PY" - <<'EOF' | tee "$scratch/versions.txt" || true  # for the summary; a failure here shows in the tests
import platform, torch
from nanochat_cli.kernels.cuda import cuda_status
try:
    import cupy
    cupy_version = cupy.__version__
except ImportError:
    cupy_version = "missing"
print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__} (CUDA {torch.version.cuda}); "
      f"CuPy {cupy_version} ({cuda_status()[1]}); Python {platform.python_version()}")
EOF
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

failed=()

# ---- 2. tests ----
say "tests: CuPy Triangle of Truth, GPU training"
if timeout 180 "$PY" -m pytest -p no:cacheprovider -rA \
        tests/kernels/test_cuda.py tests/train/test_trainer_gpu.py >"$OUTDIR/pytest.txt" 2>&1; then
    :
else
    failed+=("tests (rc $?)")
fi
cat "$OUTDIR/pytest.txt"
if grep -qE "SKIPPED.*(CUDA|GPU)" "$OUTDIR/pytest.txt"; then failed+=("tests (a GPU test skipped)"); fi

# ---- 3. bench-kernels ----
say "bench-kernels: cuda-dp4a"
if timeout 120 "$PY" -m nanochat_cli.cli bench-kernels --kernels cuda-dp4a --threads 1 --batch 1,8,32,64 \
        --json "$OUTDIR/bench_kernels.json" >"$OUTDIR/bench_kernels.txt"; then
    :
else
    failed+=("bench-kernels (rc $?)")
fi
cat "$OUTDIR/bench_kernels.txt"

# ---- 4. nano_125m, the first $STEPS steps ----
say "train: $GPU_CHECK_RECIPE, $STEPS steps"
run_dir=$scratch/nano_125m
have_corpus=1
prepare_s=0  # a networked box may prepare the corpus first: that time is not the training's to lose
if ! "$PY" - "$GPU_CHECK_RECIPE" "${GPU_CHECK_DATA_SETS[@]}" <<'EOF'
import sys
from nanochat_cli.data.prepare import data_dir, load_prepared
from nanochat_cli.recipes import load_recipe

recipe = load_recipe(sys.argv[1], [a for a in sys.argv[2:] if a != "--set"])
print(f"corpus: {data_dir(recipe)}")
sys.exit(0 if load_prepared(recipe) is not None else 1)
EOF
then
    if [[ -d .whl ]]; then
        echo "gpu_check: the prepared corpus did not travel (or the data section changed since it was prepared):" \
             "run benchmarks/gpu_check_prepare.sh on a networked machine and carry cache/gpu_check/data" >&2
        failed+=("train (no prepared corpus)")
        have_corpus=0
    else
        echo "no prepared corpus: preparing it (network; not counted in the time budget)"
        t0=$SECONDS
        "$PY" -m nanochat_cli.cli data prepare "$GPU_CHECK_RECIPE" "${GPU_CHECK_DATA_SETS[@]}" \
            || { failed+=("data prepare (rc $?)"); have_corpus=0; }
        prepare_s=$((SECONDS - t0))
    fi
fi
if (( have_corpus )); then
    left=$((BUDGET_S + prepare_s - SECONDS))
    (( left > 60 )) || left=60
    echo "training time limit: ${left}s (SIGTERM then: the trainer checkpoints and stops)"
    if timeout -k 20 "$left" "$PY" -m nanochat_cli.cli train "$GPU_CHECK_RECIPE" "${GPU_CHECK_DATA_SETS[@]}" \
            --set "train.stop_at_step=$STEPS" --set "checkpoint.dir=$run_dir" --set checkpoint.keep=1 \
            --json >"$OUTDIR/train_summary.json"; then  # a line per logged step on stderr, the JSON on stdout
        :
    else
        failed+=("train (rc $?)")
    fi
    cat "$OUTDIR/train_summary.json"
    if [[ -f $run_dir/metrics.jsonl ]]; then cp "$run_dir/metrics.jsonl" "$OUTDIR/"; fi
fi

# ---- summary ----
say "summary"
"$PY" - "$OUTDIR" "$scratch/versions.txt" "$STEPS" "${failed[@]+"${failed[@]}"}" <<'EOF'
import json, re, statistics, sys
from pathlib import Path

out, versions, steps, failed = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4:]


def text(name: str) -> str:
    p = out / name
    return p.read_text().strip() if p.is_file() else f"({name} missing)"


tally = [ln.strip("= ") for ln in text("pytest.txt").splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
lines = [f"# GPU check ({'FAILED: ' + '; '.join(failed) if failed else 'all stages passed'})", "",
         versions.read_text().strip() if versions.is_file() else "(versions unknown)", "", "## Tests", "",
         f"`{tally[-1] if tally else 'no pytest tally'}`",
         "", "## bench-kernels --kernels cuda-dp4a --threads 1 --batch 1,8,32,64", "", "```",
         text("bench_kernels.txt"), "```", "", f"## nano_125m, first {steps} steps", ""]
metrics = out / "metrics.jsonl"
recs = [json.loads(ln) for ln in metrics.read_text().splitlines() if ln.strip()] if metrics.is_file() else []
timed = recs[1:] if len(recs) > 1 else recs  # the first window holds CUDA start-up and warm-up
if timed:
    tok = statistics.median(r["tok_per_s"] for r in timed)
    mfu = statistics.median(r["mfu"] for r in timed)
    lines += [f"- tokens/s, median of {len(timed)} logged windows after the first: {tok:,.0f}",
              f"- MFU, median of the same windows: {100 * mfu:.1f}%",
              f"- last logged step {recs[-1]['step']}, loss {recs[-1]['loss']:.3f}"]
else:
    lines.append("- no metrics were logged")
try:
    s = json.loads((out / "train_summary.json").read_text())
    lines.append(f"- whole run (start-up and validation included): {s['tokens_per_s']:,.0f} tokens/s, MFU "
                 f"{100 * s['mfu']:.1f}%, {s['wall_s']:.0f} s, device {s.get('device')}, stopped: {s.get('stopped')}")
except (OSError, ValueError, KeyError, TypeError):
    lines.append("- no run summary (train_summary.json missing or not JSON)")
(out / "summary.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
say "done in ${SECONDS}s; files in $OUTDIR"
if (( ${#failed[@]} )); then
    echo "gpu_check: failed: ${failed[*]}" >&2
    exit 1
fi
