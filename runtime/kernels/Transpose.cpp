//===- runtime/kernels/Transpose.cpp - batched 2-D transposes -------------------===//
//
// out[b][c][r] = in[b][r][c]: V x V blocks loaded as V row vectors, transposed in registers
// (Tile.h) and stored as V row vectors, so both sides are read and written a vector at a time
// (the loops linalg.transpose lowers to read one side element by element, about 5 GB/s here).
// Partial blocks at the right and bottom edges use masked loads and stores.
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;

extern "C" {

void sparq_uk_transpose_f32(intptr_t outAddr, int64_t outStrideB, int64_t ldo, intptr_t inAddr,
                            int64_t inStrideB, int64_t ldi, int64_t B, int64_t R, int64_t C) {
  for (int64_t b = 0; b < B; ++b) {
    float *out = reinterpret_cast<float *>(outAddr) + b * outStrideB;
    const float *in = reinterpret_cast<const float *>(inAddr) + b * inStrideB;
    // Blocks go along the columns for a strip of RT rows. With an output row stride that is a
    // multiple of 4 KiB the V rows a block stores all map to the same L1 sets (4 KiB
    // aliasing): a strip of 4 blocks then stores 4 runs of each output row before moving on
    // (the v16 kernel before and after, medians of 200 calls in two alternating runs, AMD
    // Zen 5: 4096 x 64 16-23 -> 28 GB/s, 1024 x 256 14-15 -> 28, 2048 x 2048 13 -> 16; 3136 x
    // 128, 128 x 3136 and 256 x 1024 unchanged).
    const int64_t RT = ldo % 1024 == 0 ? 4 * V : V;
    for (int64_t strip = 0; strip < R; strip += RT)
      for (int64_t c0 = 0; c0 < C; c0 += V) {
        const int cols = C - c0 < V ? int(C - c0) : V;
        const vmask colLanes = laneMask(0, cols);
        for (int64_t r0 = strip; r0 < R && r0 < strip + RT; r0 += V) {
          const int rows = R - r0 < V ? int(R - r0) : V;
          const vmask rowLanes = laneMask(0, rows);
          vf t[V];
          for (int i = 0; i < V; ++i) {
            const float *p = in + (r0 + i) * ldi + c0;
            t[i] = i >= rows ? vf{} : cols == V ? load(p) : maskedLoad(p, colLanes);
          }
          transpose(t);
          for (int j = 0; j < cols; ++j) {
            float *q = out + (c0 + j) * ldo + r0;
            if (rows == V)
              store(q, t[j]);
            else
              maskedStore(q, t[j], rowLanes);
          }
        }
      }
  }
}

} // extern "C"
