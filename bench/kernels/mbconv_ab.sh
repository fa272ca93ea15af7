#!/usr/bin/env bash
# bench/kernels/mbconv_ab.sh REV_A [REV_B] - the 1x1 -> depthwise 3x3 -> 1x1 block kernel
# (runtime/kernels/InvertedResidual.cpp with its Tile.h and packed-format header) of git revision
# REV_A against REV_B (default: the working tree), alternating in one process (MBConvAB.cpp) on
# cnn_blocks' three block shapes (56x56 with 32 -> 128 -> 32 channels, its stride-2 block, the
# 28x28 block with 64 -> 256 -> 64). Prints one line per shape: median microseconds of A and B,
# B/A (below 1: B is faster), max |A - B|. Built with clang-22 for AVX-512 (the v16 variant);
# needs an AVX-512 host. One thread.
source "$(dirname "$0")/ab_lib.sh"
ab_init mbconv_ab "${1:-}" "${2:-}"
for side in a b; do
  ab_fetch $side runtime/kernels/InvertedResidual.cpp runtime/kernels/Tile.h \
    include/sparq/Formats/InvertedResidual.h include/sparq/Kernels/UKernels.h
  # The packed-format header includes DensePanels.h etc. from the working tree.
  ab_compile $side InvertedResidual.cpp -Dsparq_uk_mbconv_f32=mb_$side \
    -Dsparq_uk_mbconv_f32_mt=mb_mt_$side -Dsparq_uk_mbconv_pack_f32=mb_pack_$side
done
ab_link mbconv_ab MBConvAB.cpp
ab_header
for shape in "32 128 32 56 1" "32 128 64 56 2" "64 256 64 28 1"; do
  "$ab_work/mbconv_ab" $shape
done
