//===- runtime/kernels/GpuMmaEmulation.cpp - the tensor-core product on the CPU -===//
//
// sparq_uk_gpu_mma_emulated: what sparq_uk_gpu_mma computes on the GPU, computed on the CPU for
// the --cuda-host-emulation test mode (docs/cuda.md). It reads the packed weights the way the
// kernels of runtime/kernels/cuda/MmaGemm.cu do, through the fragment layout of
// include/sparq/Formats/MmaPanels.h (each lane's pairs of codes, the dense k permutation, the
// 2:4 metadata words, fp16 scales and zero points), so a model whose layers run on the tensor
// cores is checked end to end without a GPU: the compile-time packing, the call's operands, the
// fp16 activations and the output layout. Accumulates in double per output.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/MmaPanels.h"
#include "sparq/Kernels/UKernels.h"

#include "cuda/MmaGemm.h"

#include <stdlib.h>
#include <string.h>

namespace {

namespace mma = sparq::formats::mma;

// The format codes the compiler passes are the indices of the kernels' format table.
static_assert(sparq::cuda::kMmaNumFormats == SPARQ_MMA_NUM_FORMATS, "one table entry per format");
static_assert(sparq::cuda::kMmaFormats[SPARQ_MMA_SP24W4].sparse &&
                  sparq::cuda::kMmaFormats[SPARQ_MMA_BCQ3].bcq == 3,
              "SPARQ_MMA_* and kMmaFormats in the same order");

/// Code of element h of pair `pair` of `lane` in (tile, chunk): its bits gathered from the planes
/// `first` .. `first + numPlanes(bits) - 1`.
uint32_t readCode(const uint32_t *const *planes, int bits, bool sparse, size_t tile, size_t chunk,
                  size_t chunks, int lane, int pair, int h) {
  uint32_t code = 0;
  for (int p = 0; p < mma::numPlanes(bits); ++p) {
    const int w = mma::planeWidth(bits, p);
    const uint32_t word =
        planes[p][mma::planeWordIndex(tile, chunk, chunks, lane, mma::pairWord(pair, w), w, sparse)];
    const uint32_t mask = w == 16 ? 0xffffu : (1u << w) - 1u;
    code |= ((word >> mma::pairShift(pair, w, h)) & mask) << mma::planeOffset(bits, p);
  }
  return code;
}

} // namespace

extern "C" void sparq_uk_gpu_mma_emulated(int64_t /*image*/, int64_t /*imageBytes*/,
                                          int64_t format, int64_t y, int64_t x, int64_t p0,
                                          int64_t p1, int64_t p2, int64_t scales, int64_t zeros,
                                          int64_t meta, int64_t m, int64_t n, int64_t k) {
  if (format < 0 || format >= sparq::cuda::kMmaNumFormats || n % mma::kTileRows != 0 ||
      k % mma::kChunk != 0)
    sparq_uk_check_failed("CUDA: a tensor-core product with an unsupported format or shape");
  const sparq::cuda::MmaFormat &lay = sparq::cuda::kMmaFormats[format];
  const uint32_t *planes[3] = {reinterpret_cast<const uint32_t *>(p0),
                               reinterpret_cast<const uint32_t *>(p1),
                               reinterpret_cast<const uint32_t *>(p2)};
  const auto *scale16 = reinterpret_cast<const uint16_t *>(scales);
  const auto *zero16 = reinterpret_cast<const uint16_t *>(zeros);
  const auto *meta32 = reinterpret_cast<const uint32_t *>(meta);
  const auto *xh = reinterpret_cast<const uint16_t *>(x);
  auto *out = reinterpret_cast<float *>(y);
  const size_t chunks = size_t(k) / mma::kChunk, tiles = size_t(n) / mma::kTileRows;
  const int steps = mma::stepsPerChunk(lay.sparse);
  // One (tile, chunk) of W at a time, dense: w[row][k within the chunk].
  float w[mma::kTileRows][mma::kChunk];
  double *acc = static_cast<double *>(calloc(size_t(m) * size_t(n), sizeof(double)));
  float *xf = static_cast<float *>(malloc(size_t(m) * size_t(k) * sizeof(float)));
  if (!acc || !xf) {
    free(acc);
    free(xf);
    sparq_uk_check_failed("out of memory in the emulated tensor-core product");
  }
  for (int64_t i = 0; i < m * k; ++i)
    xf[i] = mma::halfToFloat(xh[i]);
  for (size_t t = 0; t < tiles; ++t)
    for (size_t ch = 0; ch < chunks; ++ch) {
      memset(w, 0, sizeof w);
      for (int lane = 0; lane < mma::kLanes; ++lane)
        for (int s = 0; s < steps; ++s)
          for (int i = 0; i < 4; ++i)
            for (int h = 0; h < 2; ++h) {
              const int row = mma::fragRow(lane, i), col = mma::fragCol(lane, i, h);
              const size_t nrow = t * mma::kTileRows + size_t(row);
              int kk;
              if (lay.sparse) {
                // Kept value `col` of step s: its position in its group of four from the
                // metadata word of (row % 8, col / 8), 16 bits per row half.
                const uint32_t word = meta32[mma::metaIndex(t, ch, chunks, row % 8, col / 8, s)];
                const int pos = int(word >> (16 * (row / 8) + 2 * (col % 8))) & 3;
                kk = 32 * s + 4 * (col / 2) + pos;
              } else {
                kk = mma::denseK(s, col);
              }
              float v;
              if (lay.bcq) {
                v = 0;
                for (int p = 0; p < lay.bcq; ++p) {
                  const uint32_t sign =
                      readCode(planes + p, 1, false, t, ch, chunks, lane, 4 * s + i, h);
                  const float alpha = mma::halfToFloat(
                      scale16[mma::bcqScaleIndex(nrow, ch, chunks, p, lay.bcq)]);
                  v += sign ? alpha : -alpha;
                }
              } else {
                const uint32_t code =
                    readCode(planes, lay.bits, lay.sparse, t, ch, chunks, lane, 4 * s + i, h);
                if (lay.bits == 16) {
                  v = mma::halfToFloat(uint16_t(code));
                } else {
                  const size_t si = mma::scaleIndex(nrow, ch, chunks);
                  const float zero = zero16 ? mma::halfToFloat(zero16[si]) - 1024.0f
                                            : float(1 << (lay.bits - 1));
                  v = (float(code) - zero) * mma::halfToFloat(scale16[si]);
                }
              }
              w[row][kk] = v;
            }
      for (int64_t tok = 0; tok < m; ++tok) {
        const float *xr = xf + size_t(tok) * size_t(k) + ch * mma::kChunk;
        for (int row = 0; row < mma::kTileRows; ++row) {
          double sum = 0;
          for (int kk = 0; kk < mma::kChunk; ++kk)
            sum += double(w[row][kk]) * double(xr[kk]);
          acc[size_t(tok) * size_t(n) + t * mma::kTileRows + size_t(row)] += sum;
        }
      }
    }
  for (int64_t i = 0; i < m * n; ++i)
    out[i] = float(acc[i]);
  free(acc);
  free(xf);
}
