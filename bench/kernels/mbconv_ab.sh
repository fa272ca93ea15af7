#!/usr/bin/env bash
# bench/kernels/mbconv_ab.sh REV_A [REV_B] - the 1x1 -> depthwise 3x3 -> 1x1 block kernel
# (runtime/kernels/InvertedResidual.cpp with its Tile.h and packed-format header) of git revision
# REV_A against REV_B (default: the working tree), alternating in one process (MBConvAB.cpp) on
# cnn_blocks' three block shapes (56x56 with 32 -> 128 -> 32 channels, its stride-2 block, the
# 28x28 block with 64 -> 256 -> 64). Prints one line per shape: median microseconds of A and B,
# B/A (below 1: B is faster), max |A - B|. Built with clang-22 for AVX-512 (the v16 variant);
# needs an AVX-512 host. One thread.
set -euo pipefail
cd "$(dirname "$0")/../.."
a=${1:?usage: mbconv_ab.sh REV_A [REV_B|.]}
b=${2:-.}
work=$(mktemp -d /tmp/sparq-mbconv-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
CXX=${CXX:-clang++-22}
flags=(-O3 -std=c++17 -DSPARQ_UK_VLEN=16 -mavx512f -mavx512vl -mavx512dq -mavx512bw -mfma -mavx2)
for side in a b; do
  rev=$a; [ $side = b ] && rev=$b
  mkdir -p "$work/$side/include/sparq/Formats" "$work/$side/include/sparq/Kernels"
  for f in runtime/kernels/InvertedResidual.cpp runtime/kernels/Tile.h \
           include/sparq/Formats/InvertedResidual.h include/sparq/Kernels/UKernels.h; do
    dst="$work/$side/$(basename "$f")"
    case $f in include/*) dst="$work/$side/$f" ;; esac
    if [ "$rev" = . ]; then cp "$f" "$dst"; else git show "$rev:$f" > "$dst"; fi
  done
  # The packed-format header includes DensePanels.h etc. from the working tree.
  "$CXX" "${flags[@]}" -I"$work/$side/include" -Iinclude -Dsparq_uk_mbconv_f32=mb_$side \
    -Dsparq_uk_mbconv_f32_mt=mb_mt_$side -Dsparq_uk_mbconv_pack_f32=mb_pack_$side \
    -Dkernels=kernels_$side \
    -c "$work/$side/InvertedResidual.cpp" -o "$work/$side.o"
done
"$CXX" "${flags[@]}" -Iinclude bench/kernels/MBConvAB.cpp "$work/a.o" "$work/b.o" \
  -o "$work/mbconv_ab"
echo "A = $a, B = ${b/#./working tree}"
for shape in "32 128 32 56 1" "32 128 64 56 2" "64 256 64 28 1"; do
  "$work/mbconv_ab" $shape
done
