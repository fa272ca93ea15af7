#!/usr/bin/env bash
# bench/kernels/conv_ab.sh REV_A [REV_B] [cold] - the NCHW convolution micro-kernel
# (runtime/kernels/Conv.cpp with its Tile.h) of git revision REV_A against REV_B (default: the
# working tree), alternating in one process (ConvAB.cpp) on the shapes of the benchmark models:
# cnn_blocks' fused-block calls (expand into a padded tile, project accumulating into the image,
# the 28x28 stage, the 3x3 stem), the ResNet bottleneck's full-image convolutions and Moonshine
# tiny's strided 1-D front end (conv2, conv3; KS written KHxKW/stride). Prints one
# line per shape: median microseconds of A and B, B/A (below 1: B is faster), max |A - B|.
# Built with clang-22 for AVX-512 (the v16 variant); needs an AVX-512 host.
source "$(dirname "$0")/ab_lib.sh"
ab_init conv_ab "${1:-}" "${2:-}"
mode=${3:-}
for side in a b; do
  ab_fetch $side runtime/kernels/Conv.cpp runtime/kernels/Tile.h
  ab_compile $side Conv.cpp -Dsparq_uk_conv2d_nchw_packed_f32=conv_$side \
    -Dsparq_uk_tile_rows_f32=tile_rows_$side -Dsparq_uk_pack_filter_f32=pack_filter_$side
done
ab_link conv_ab ConvAB.cpp
ab_header
#                F   C  KS OH OW IN_PLANE IN_ROW OUT_PLANE OUT_ROW OUT_OFFSET FLAGS
while read -r args; do
  "$ab_work/conv_ab" $args $mode
done <<'SHAPES'
128  32 1 16 56 3136 56  928 58 59 12
32  128 1 14 56  784 56 3136 56  0  1
256  64 1  9 28  784 28  270 30 31 12
32   16 3  7 56 3364 58 3136 56  0 12
32   16 3 56 56 3364 58 3136 56  0 12
64  256 1 56 56 3136 56 3364 58 59 12
256  64 1 56 56 3136 56 3136 56  0 12
64   64 3 56 56 3364 58 3136 56  0 12
576 288 1x7/3 1 83 253 253 83 83 0 8
288 576 1x3/2 1 41  83  83 41 41 0 8
SHAPES
