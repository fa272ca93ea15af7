#!/usr/bin/env bash
# bench/kernels/qgemm_ab.sh REV_A [REV_B] - the float-activation quantized-weight kernel
# (runtime/kernels/QGemm.cpp with its QCall.h and Tile.h) of git revision REV_A against REV_B
# (default: the working tree), alternating in one process (QGemmAB.cpp), one thread, on GEMM
# shapes of the benchmark models (M = 128, 64 and 17 at K = N = 4096, W4/W2/W8 g128, W4
# asymmetric, and odd sizes). Prints one line per shape: median milliseconds of A and B, B/A
# (below 1: B is faster), max |A - B|. REPS sets the calls per side (default 15). Built with
# clang-22 for AVX-512 (the v16 variant); needs an AVX-512 host.
source "$(dirname "$0")/ab_lib.sh"
ab_init qgemm_ab "${1:-}" "${2:-}"
for side in a b; do
  ab_fetch $side runtime/kernels/QGemm.cpp runtime/kernels/QCall.h runtime/kernels/Tile.h
  ab_compile $side QGemm.cpp -Dsparq_uk_qgemm_f32=qgemm_$side -Dsparq_uk_qgemm_f32_mt=qgemm_mt_$side
done
ab_link qgemm_ab QGemmAB.cpp
ab_header
#  M    N    K BITS GROUP [asym]
while read -r args; do
  "$ab_work/qgemm_ab" $args
done <<'SHAPES'
128 4096 4096 4 128
128 4096 4096 4 128 asym
128 4096 4096 2 128
128 4096 4096 8 128
64  4096 4096 4 128
17  4096 4096 4 128
130 1000  999 4 32
SHAPES
