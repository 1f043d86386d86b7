#!/usr/bin/env bash
# GPU training of the default model (issue 13): the shipped model's two stages on one CUDA GPU, each within a time
# budget, sized for one 10-minute call of the workplace's device tool (an H100):
#   1. install (benchmarks/gpu_env.sh: offline wheels from .whl/, the native library);
#   2. unpack the prepared corpora (cache/gpu_train/corpus.tar.xz, from gpu_train_prepare.sh);
#   3. stage 1, recipes/rust_small.toml on 1,200 crates (~30M tokens) instead of 250, at a flat learning rate for
#      GPU_TRAIN_STAGE1_S seconds (stage 2 is its decay, as on the CPU);
#   4. stage 2, recipes/rust_small_verified.toml from stage 1's weights for GPU_TRAIN_STAGE2_S seconds, its decay
#      over the budget's second half (train.time_budget_s);
#   5. export: OUTDIR/rust_small_gpu.gguf (nanochat format, ~15 MB), the final checkpoint's float weights as
#      15 MiB parts (OUTDIR/rust_small_gpu.ckpt.tar.part-*; `cat` them back into a tar), both stages' metrics and
#      a summary.md with the tokens, tokens/s and validation of each stage.
# The model, tokenizer and recipes are the shipped model's: only the batch (GPU_TRAIN_BATCH sequences of 256
# tokens, 128 by default, 4x the CPU's), the stage-1 corpus and the length of each stage change. Evaluate the
# file where rustc is (`python benchmarks/rust_quality.py OUTDIR/rust_small_gpu.gguf`), not on the device.
#
# The workplace's device tool (no network there): here, once,
#     bash benchmarks/gpu_train_prepare.sh          # wheels into .whl/, corpora into cache/gpu_train/corpus.tar.xz
#   then run(command="bash benchmarks/gpu_train.sh", carry=[".whl", "cache/gpu_train/corpus.tar.xz"], timeout_s=600).
# A networked GPU box: the same two commands, the second with an output directory argument.
# Without a CUDA GPU it stops at once with one line saying so; GPU_TRAIN_DEVICE=cpu rehearses the whole run on
# the CPU (with short budgets: GPU_TRAIN_STAGE1_S=60 GPU_TRAIN_STAGE2_S=60 GPU_TRAIN_BATCH=8).
set -euo pipefail

# ---- shared with gpu_train_prepare.sh, which sources this file for them ----
GPU_TRAIN_STAGE1=recipes/rust_small.toml
GPU_TRAIN_STAGE2=recipes/rust_small_verified.toml
GPU_TRAIN_ARCHIVE=cache/gpu_train/corpus.tar.xz
# a GPU's budget would read the CPU's 250-crate corpus (7M tokens) many times over; the tokenizer stays stage 1's
GPU_TRAIN_STAGE1_DATA=(--set data.max_crates=1200 --set data.tokenizer_from=recipes/rust_small.toml)
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEVICE=${GPU_TRAIN_DEVICE:-cuda}
STAGE1_S=${GPU_TRAIN_STAGE1_S:-240}
STAGE2_S=${GPU_TRAIN_STAGE2_S:-150}
BATCH=${GPU_TRAIN_BATCH:-128}

# ---- a GPU or nothing: before anything is installed or written ----
source benchmarks/gpu_env.sh
if [[ $DEVICE != cpu ]]; then
    gpu_require_cuda gpu_train "$PY"
fi
if [[ ! -f $GPU_TRAIN_ARCHIVE ]]; then
    echo "gpu_train: $GPU_TRAIN_ARCHIVE is missing: run benchmarks/gpu_train_prepare.sh where the network is and" \
         "carry that file" >&2
    exit 2
fi
gpu_start_log gpu_train "${1:-${OUT:-}}"

say "install"
gpu_install "$PY" "$scratch/site"
"$PY" -c 'import torch; print(f"torch {torch.__version__}, device:",
          torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")'

say "unpack $GPU_TRAIN_ARCHIVE"
# the corpora (cache/gpu_train/data/<key>), stage 1's tokenizer (cache/data/<key>: what
# data.tokenizer_from = recipes/rust_small.toml resolves to) and the evaluation files the corpora were
# decontaminated against (the trainer checks that fingerprint); files already here are kept
"$PY" - "$GPU_TRAIN_ARCHIVE" <<'EOF'
import sys, tarfile
from pathlib import Path

with tarfile.open(sys.argv[1], "r:xz") as tar:
    members = [m for m in tar.getmembers() if not Path(m.name).exists()]
    tar.extractall(".", members=members, filter="data")
    print(f"{len(members)} files unpacked")
EOF
export NANOCHAT_MULTIPLE_DIR=$PWD/cache/gpu_train/multipl-e

common=(--set "train.device=$DEVICE" --set "train.batch_size=$BATCH" --set train.steps=1000000
        --set train.stop_at_step=0 --set train.threads=0 --set checkpoint.every=0 --set checkpoint.keep=1
        --set validation.every=500 --set logging.every=25 --set logging.progress=false)
failed=()

# stage NAME RECIPE SECONDS ARGS...: one training stage, its summary in OUTDIR/NAME.json, metrics beside it
stage() {
    local name=$1 recipe=$2 budget=$3
    shift 3
    say "$name: $recipe for ${budget}s"
    # the budget ends the run (validated and saved); timeout is the backstop: SIGTERM also checkpoints
    if timeout -k 30 $((budget + 180)) "$PY" -m nanochat_cli.cli train "$recipe" "${common[@]}" \
            --set "train.time_budget_s=$budget" --set "checkpoint.dir=$scratch/$name" "$@" --json \
            >"$OUTDIR/$name.json"; then
        :
    else
        failed+=("$name (rc $?)")
    fi
    cat "$OUTDIR/$name.json"
    if [[ -f $scratch/$name/metrics.jsonl ]]; then cp "$scratch/$name/metrics.jsonl" "$OUTDIR/$name.metrics.jsonl"; fi
}

stage stage1 "$GPU_TRAIN_STAGE1" "$STAGE1_S" "${GPU_TRAIN_STAGE1_DATA[@]}" --set data.cache_dir=cache/gpu_train \
    --set schedule.decay_fraction=0
final=stage1
if [[ -d $scratch/stage1 ]] && ls "$scratch"/stage1/step_* >/dev/null 2>&1; then
    stage stage2 "$GPU_TRAIN_STAGE2" "$STAGE2_S" --set data.cache_dir=cache/gpu_train \
        --set "train.init_from=$scratch/stage1"
    if ls "$scratch"/stage2/step_* >/dev/null 2>&1; then final=stage2; fi
else
    failed+=("stage2 (no stage-1 checkpoint)")
fi

say "export $final"
if ls "$scratch/$final"/step_* >/dev/null 2>&1; then
    name=rust_small_gpu
    [[ $final == stage2 ]] || name=rust_small_gpu_stage1
    "$PY" -m nanochat_cli.cli export "$scratch/$final" -o "$OUTDIR/$name.gguf" || failed+=("export (rc $?)")
    ckpt=$(ls -d "$scratch/$final"/step_* | tail -n 1)
    # the float master weights (for RL or more training from them), without the optimizer state, in parts
    # under the device tool's 16 MiB a file
    tar -C "$(dirname "$ckpt")" -cf - --exclude optimizer.pt "$(basename "$ckpt")" \
        | split -b 15M -d - "$OUTDIR/$name.ckpt.tar.part-"
    sha256sum "$OUTDIR/$name".* | sed "s#$OUTDIR/##"
else
    failed+=("export (no checkpoint)")
fi

say "summary"
"$PY" - "$OUTDIR" "${failed[@]+"${failed[@]}"}" <<'EOF'
import json, statistics, sys
from pathlib import Path

out, failed = Path(sys.argv[1]), sys.argv[2:]
lines = [f"# GPU training of the default model ({'FAILED: ' + '; '.join(failed) if failed else 'both stages ran'})", ""]
for name in ("stage1", "stage2"):
    try:
        s = json.loads((out / f"{name}.json").read_text())
    except (OSError, ValueError):
        lines.append(f"- {name}: no summary")
        continue
    recs = [json.loads(x) for x in (out / f"{name}.metrics.jsonl").read_text().splitlines() if x.strip()] \
        if (out / f"{name}.metrics.jsonl").is_file() else []
    paced = [r["tok_per_s"] for r in recs[1:]] or [s["tokens_per_s"]]  # the first window holds the compile
    vals = [(r["step"], r["val_bpb"]) for r in recs if r.get("val_bpb") is not None]
    lines.append(f"- {name}: {s['step']} steps, {recs[-1]['tokens'] if recs else 0:,} tokens in {s['wall_s']:.0f} s "
                 f"(stopped: {s.get('stopped')}), median {statistics.median(paced):,.0f} tokens/s after the first "
                 f"window, MFU {100 * s['mfu']:.1f}% over the run; last loss {s['loss']:.3f}, val bits per byte "
                 + ", ".join(f"{b:.3f} at {st}" for st, b in vals[-4:]) + f"; device {s.get('device')}")
(out / "summary.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
say "done in ${SECONDS}s; files in $OUTDIR"
if (( ${#failed[@]} )); then
    echo "gpu_train: failed: ${failed[*]}" >&2
    exit 1
fi
