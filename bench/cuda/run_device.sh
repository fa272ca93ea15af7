#!/usr/bin/env bash
# bench/cuda/run_device.sh - the GPU check and benchmark as one script for a lent GPU machine
# (docs/bench.md): the kernel checks and timings of sparq-gpu-gemm-bench, then report.py's table
# with cuBLAS fp16. Expects build/cuda (carried from the build machine); rebuilds the host program
# with the machine's g++ if the carried one does not start there. Writes to $OUT when set.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/sparq-gpu}
mkdir -p "$OUT"
source bench/cuda/device_bench.sh
"$BENCH" --fatbin build/cuda/MmaGemm.fatbin --csv "$OUT/sparq.csv" "$@" 2>&1 | tee "$OUT/bench.log"
rc=${PIPESTATUS[0]}
echo "bench exit code: $rc"
[ -s "$OUT/sparq.csv" ] && PYTHONUNBUFFERED=1 python3 bench/cuda/report.py "$OUT/sparq.csv" 2>&1 | tee "$OUT/report.md"
exit $rc
