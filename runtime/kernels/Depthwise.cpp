//===- runtime/kernels/Depthwise.cpp - NCHW depthwise convolution --------------===//
//
// out[n][c][oh][ow] (+)= sum_{kh,kw} W[c][kh][kw] * in[n][c][oh*SH + kh*DH][ow*SW + kw*DW] on an
// already padded input, vectorized along the output row: V outputs per vector, the filter taps
// broadcast, input rows loaded whole (stride 1) or gathered (stride > 1). Low arithmetic
// intensity: the loop is bound by reading the input, so it keeps one accumulator per vector of
// outputs and lets the hardware prefetcher stream the rows.
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;

namespace {

/// V inputs starting at p, `stride` elements apart. Stride 2 (downsampling layers) is two
/// loads and a shuffle of their even lanes, the second load masked to the 2V - 1 elements
/// needed (a gather of V elements cost 2.5x as much in cnn_blocks' stride-2 layer).
SPARQ_UK_INLINE vf loadStrided(const float *p, int64_t stride) {
  if (stride == 1)
    return load(p);
  if (stride == 2) {
#define SPARQ_UK_EVEN(i) 2 * (i)
    return __builtin_shufflevector(load(p), maskedLoad(p + V, laneMask(0, V - 1)),
                                   SPARQ_UK_IV(SPARQ_UK_EVEN));
#undef SPARQ_UK_EVEN
  }
  vf v;
  for (int i = 0; i < V; ++i)
    v[i] = p[i * stride];
  return v;
}

} // namespace

extern "C" {

void sparq_uk_dwconv2d_nchw_f32(intptr_t outAddr, int64_t outStrideN, int64_t outStrideC,
                                int64_t outStrideH, intptr_t inAddr, int64_t inStrideN,
                                int64_t inStrideC, int64_t inStrideH, intptr_t wAddr, int64_t N,
                                int64_t C, int64_t KH, int64_t KW, int64_t OH, int64_t OW,
                                int64_t SH, int64_t SW, int64_t DH, int64_t DW, intptr_t biasAddr,
                                int64_t flags) {
  bool accumulate = flags & SPARQ_UK_ACCUMULATE, applyRelu = flags & SPARQ_UK_RELU;
  const float *W = reinterpret_cast<const float *>(wAddr);
  const float *bias = flags & SPARQ_UK_BIAS ? reinterpret_cast<const float *>(biasAddr) : nullptr;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      float *out = reinterpret_cast<float *>(outAddr) + n * outStrideN + c * outStrideC;
      const float *in = reinterpret_cast<const float *>(inAddr) + n * inStrideN + c * inStrideC;
      const float *w = W + c * KH * KW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        float *o = out + oh * outStrideH;
        const float *rows = in + oh * SH * inStrideH;
        // V outputs starting at column ow.
        auto vector = [&](int64_t ow) {
          vf acc = accumulate ? load(o + ow) : splat(bias ? bias[c] : 0.0f);
          for (int64_t kh = 0; kh < KH; ++kh) {
            const float *x = rows + kh * DH * inStrideH + ow * SW;
            for (int64_t kw = 0; kw < KW; ++kw)
              acc = splat(w[kh * KW + kw]) * loadStrided(x + kw * DW, SW) + acc;
          }
          return applyRelu ? relu(acc) : acc;
        };
        // A row that does not end on a whole vector ends with the vector of its last V outputs,
        // computed before the others overwrite the part it shares with them (their values are
        // the same: each output is its initial value plus its own sum).
        bool overlapTail = OW % V != 0 && OW > V;
        vf tail = overlapTail ? vector(OW - V) : splat(0.0f);
        int64_t ow = 0;
        for (; ow + V <= OW; ow += V)
          store(o + ow, vector(ow));
        if (overlapTail) {
          store(o + OW - V, tail);
          continue;
        }
        for (; ow < OW; ++ow) {
          float acc = accumulate ? o[ow] : bias ? bias[c] : 0.0f;
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw)
              acc += w[kh * KW + kw] * rows[kh * DH * inStrideH + ow * SW + kw * DW];
          o[ow] = applyRelu && acc < 0.0f ? 0.0f : acc;
        }
      }
    }
}

} // extern "C"
