#!/bin/sh
# Build, check (every SIMD kernel against the scalar reference, exact) and time: ./run.sh [reps=9] [cold copies=240]
set -e
cd "$(dirname "$0")"
out="${TMPDIR:-/tmp}/tq16-bench"
gcc -O3 -march=native -pthread -Wall -Wno-unused-function tq16.c -o "$out"
"$out" check
date -u
"$out" "${1:-9}" "${2:-240}"
date -u
