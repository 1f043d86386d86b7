#!/usr/bin/env bash
# Set up nanochat in ./.venv: torch first (pinned, so pip takes the local CPU build where one is provided
# instead of pulling a multi-GB CUDA build), then the package with its dev extra; cffi builds native/ here.
# Re-running is cheap: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q "torch==2.13.0"
# this project was installed as "nanochat" before it became "nanochat-ternary": drop that name from an old .venv
if .venv/bin/python -m pip show -q nanochat >/dev/null 2>&1; then .venv/bin/python -m pip uninstall -y -q nanochat; fi
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/nanochat --version
