//===- runtime/kernels/RowSums.cpp - sums along contiguous rows -----------------===//
//
// out[r * outStride] += the sum of in[r * inStride + i] for i < len: a sum reduction over the
// trailing, contiguous dims of a buffer (a global average pool's H x W, a ReduceSum or
// ReduceMean over the last axes). Four vector accumulators per row, the tail masked, the lanes
// summed as a tree. The loops convert-linalg-to-loops makes of such a reduction keep one
// accumulator vector, or none when the reduced dims do not collapse: cnn_blocks' 64 x 28 x 28
// global pool took 13 us there.
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;

extern "C" {

void sparq_uk_row_sums_f32(intptr_t outAddr, int64_t outStride, intptr_t inAddr,
                           int64_t inStride, int64_t rows, int64_t len) {
  float *out = reinterpret_cast<float *>(outAddr);
  const float *in = reinterpret_cast<const float *>(inAddr);
  for (int64_t r = 0; r < rows; ++r) {
    const float *p = in + r * inStride;
    vf a0 = {}, a1 = {}, a2 = {}, a3 = {};
    int64_t i = 0;
    for (; i + 4 * V <= len; i += 4 * V) {
      a0 += load(p + i);
      a1 += load(p + i + V);
      a2 += load(p + i + 2 * V);
      a3 += load(p + i + 3 * V);
    }
    for (; i + V <= len; i += V)
      a0 += load(p + i);
    if (i < len)
      a1 += maskedLoad(p + i, laneMask(0, int(len - i)));
    out[r * outStride] += hsum((a0 + a1) + (a2 + a3));
  }
}

} // extern "C"
