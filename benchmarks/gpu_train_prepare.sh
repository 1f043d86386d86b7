#!/usr/bin/env bash
# Prepare, on a networked machine, what benchmarks/gpu_train.sh needs on a GPU machine with no network (the
# workplace's device tool): the wheels of the dependencies its image lacks, in .whl/ (benchmarks/gpu_env.sh), and
# one archive, cache/gpu_train/corpus.tar.xz, holding
#   - stage 1's corpus (recipes/rust_small.toml on 1,200 crates, the shipped tokenizer),
#   - stage 2's compile-verified corpus (recipes/rust_small_verified.toml as it is),
#   - the shipped tokenizer's prepared directory (manifest and tokenizer: what both recipes' tokenizer_from reads),
#   - the evaluation files the corpora were decontaminated against (the trainer checks that fingerprint).
# Both corpora are built first when missing (`nanochat data prepare`: stage 2 from scratch is about an hour of
# rustc on 2 cores; reruns reuse cache/). Prints what would travel against the tool's 64 MiB.
#     bash benchmarks/gpu_train_prepare.sh
# then: run(command="bash benchmarks/gpu_train.sh", carry=[".whl", "cache/gpu_train/corpus.tar.xz"], timeout_s=600).
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/gpu_train.sh  # GPU_TRAIN_* settings only: it returns before running
source benchmarks/gpu_env.sh
PY=${PYTHON:-.venv/bin/python}
[[ -x $PY ]] || PY=python3

gpu_download_wheels "$PY"
"$PY" -m nanochat_cli.cli data prepare "$GPU_TRAIN_STAGE1" "${GPU_TRAIN_STAGE1_DATA[@]}"
"$PY" -m nanochat_cli.cli data prepare "$GPU_TRAIN_STAGE2"

"$PY" - "$GPU_TRAIN_ARCHIVE" "$GPU_TRAIN_STAGE1" "$GPU_TRAIN_STAGE2" "${GPU_TRAIN_STAGE1_DATA[@]}" <<'EOF'
import lzma, os, sys, tarfile
from pathlib import Path

from nanochat_cli.data.prepare import data_dir, resolve_tokenizer
from nanochat_cli.recipes import load_recipe
from nanochat_cli.rust.problems import MULTIPLE_FILES, multiple_dir

archive, stage1, stage2, sets = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
r1 = load_recipe(stage1, [a for a in sets if a != "--set"])
r2 = load_recipe(stage2)
entries = []  # (file here, name in the archive)
for r in (r1, r2):
    d = data_dir(r)
    entries += [(d / f, f"cache/gpu_train/data/{d.name}/{f}") for f in ("manifest.json", "tokenizer.json", "train.bin", "val.bin")]
tok_dir = resolve_tokenizer(r2.data).parent  # recipes/rust_small.toml's prepared directory
assert tok_dir == resolve_tokenizer(r1.data).parent, "both stages must read the same tokenizer"
entries += [(tok_dir / f, f"{tok_dir.relative_to(Path.cwd()) if tok_dir.is_absolute() else tok_dir}/{f}")
            for f in ("manifest.json", "tokenizer.json")]
mdir = multiple_dir()
entries += [(mdir / f, f"cache/gpu_train/multipl-e/{f}") for f in MULTIPLE_FILES.values() if (mdir / f).is_file()]
missing = [str(p) for p, _ in entries if not p.is_file()]
if missing:
    sys.exit(f"gpu_train_prepare: missing {', '.join(missing)}")
archive.parent.mkdir(parents=True, exist_ok=True)
tmp = archive.with_name(archive.name + ".tmp")
with tarfile.open(tmp, "w:xz", preset=6) as tar:
    for path, name in entries:
        tar.add(path, arcname=name)
os.replace(tmp, archive)
print(f"{archive}: {archive.stat().st_size / 2**20:.2f} MiB, {len(entries)} files "
      f"({sum(p.stat().st_size for p, _ in entries) / 2**20:.1f} MiB unpacked)")
EOF
gpu_travel_size .whl "$GPU_TRAIN_ARCHIVE"
