#!/usr/bin/env bash
# bench/cuda/run_device.sh - the GPU check and benchmark as one script for a lent GPU machine
# (docs/bench.md): the kernel checks and timings of sparq-gpu-gemm-bench, then report.py's table
# with cuBLAS fp16. Expects build/cuda (carried from the build machine); rebuilds the host program
# with the machine's g++ if the carried one does not start there. Writes to $OUT when set.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/sparq-gpu}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,memory.total --format=csv
BENCH=build/cuda/sparq-gpu-gemm-bench
"$BENCH" --help >/dev/null 2>&1
if [ $? -ne 2 ]; then
  echo "carried bench does not start here; building it with g++"
  g++ -O2 -std=c++17 -Iinclude -Iruntime/src -Iruntime/kernels bench/cuda/GpuGemmBench.cpp \
    runtime/src/CudaDriver.cpp -ldl -pthread -o /tmp/sparq-gpu-gemm-bench && BENCH=/tmp/sparq-gpu-gemm-bench
fi
"$BENCH" --fatbin build/cuda/MmaGemm.fatbin --csv "$OUT/sparq.csv" "$@" 2>&1 | tee "$OUT/bench.log"
rc=${PIPESTATUS[0]}
echo "bench exit code: $rc"
[ -s "$OUT/sparq.csv" ] && PYTHONUNBUFFERED=1 python3 bench/cuda/report.py "$OUT/sparq.csv" 2>&1 | tee "$OUT/report.md"
exit $rc
