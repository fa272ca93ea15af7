//===- runtime/kernels/Conv.cpp - NCHW convolution as an implicit GEMM -----------===//
//
// out[n][f][oh][ow] (+)= sum_{c,kh,kw} W[f][c][kh][kw] * in[n][c][oh*SH + kh*DH][ow*SW + kw*DW]
// as a GEMM with the constant filter on the left: M = F output channels (packed at compile time
// into tiles of MR channels, include/sparq/Formats/DensePanels.h), K = C*KH*KW, N = OH*OW output
// pixels. The im2col matrix never exists: for each block of NR output pixels and KC reduction
// steps, the kernel gathers a KC x NR slice of it into an L1 buffer (a plain vector copy when the
// NR pixels are contiguous in the input, as for 1x1 stride-1 convolutions) and runs every filter
// tile over it with the register tile the GEMM uses (Tile.h). The input must already be padded.
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;

extern "C" {

int64_t sparq_uk_tile_rows_f32(void) { return MR; }

void sparq_uk_conv2d_nchw_packed_f32(intptr_t outAddr, int64_t outStrideN, int64_t outStrideF,
                                     int64_t outStrideH, intptr_t inAddr, int64_t inStrideN,
                                     int64_t inStrideC, int64_t inStrideH, intptr_t wAddr,
                                     int64_t N, int64_t F, int64_t C, int64_t KH, int64_t KW,
                                     int64_t OH, int64_t OW, int64_t SH, int64_t SW, int64_t DH,
                                     int64_t DW, intptr_t biasAddr, int64_t flags) {
  const int64_t K = C * KH * KW, P = OH * OW, tiles = (F + MR - 1) / MR;
  const float *Wp = reinterpret_cast<const float *>(wAddr);
  const float *bias = flags & SPARQ_UK_BIAS ? reinterpret_cast<const float *>(biasAddr) : nullptr;
  bool accumulate = flags & SPARQ_UK_ACCUMULATE, applyRelu = flags & SPARQ_UK_RELU;
  if (N <= 0 || F <= 0 || P <= 0)
    return;
  // Panels of NR pixels run across output rows. A panel whose pixels are consecutive in the
  // output (always, when the output rows are contiguous) is stored in place; otherwise (an
  // output written into the interior of a padded buffer, a panel spanning two rows) it is
  // computed into a buffer of up to FT channels and scattered to its rows, so that narrow images
  // (a 28- or 14-pixel row is less than a panel) still get full panels.
  alignas(64) float Bs[KC * NR];
  int64_t off[NR], outOff[NR];
  // One panel: ncols output pixels whose input offsets are off[], for the filter tiles
  // [t0, t1), written at C (row stride ldc; tile t0's first row at C).
  auto panel = [&](const float *in, float *C, int64_t ldc, int64_t ncols, int64_t t0,
                   int64_t t1) {
    bool contiguous = ncols == NR && off[NR - 1] - off[0] == NR - 1;
    // A 1x1 convolution's im2col rows over NR consecutive pixels are the input's channel rows
    // themselves: the tiles read them in place (one stride per channel) instead of a copy.
    bool inPlace = contiguous && KH == 1 && KW == 1;
    for (int64_t kb = 0; kb < K; kb += KC) {
      int64_t kc = K - kb < KC ? K - kb : KC;
      const float *B = Bs;
      int64_t ldb = NR;
      if (inPlace) {
        B = in + off[0] + kb * inStrideC;
        ldb = inStrideC;
      } else {
        // Gather the kc x NR slice of the implicit im2col matrix.
        int64_t c = kb / (KH * KW), r = kb % (KH * KW), kh = r / KW, kw = r % KW;
        for (int64_t k = 0; k < kc; ++k) {
          const float *src = in + c * inStrideC + kh * DH * inStrideH + kw * DW;
          float *dst = Bs + k * NR;
          if (contiguous) {
            for (int j = 0; j < NV; ++j)
              store(dst + j * V, load(src + off[0] + j * V));
          } else {
            for (int64_t j = 0; j < ncols; ++j)
              dst[j] = src[off[j]];
            for (int64_t j = ncols; j < NR; ++j)
              dst[j] = 0.0f;
          }
          if (++kw == KW) {
            kw = 0;
            if (++kh == KH) {
              kh = 0;
              ++c;
            }
          }
        }
      }
      bool loadC = accumulate || kb > 0, last = applyRelu && kb + kc == K;
      for (int64_t t = t0; t < t1; ++t) {
        int64_t rows = F - t * MR < MR ? F - t * MR : MR;
        packedTile<false>(rows, C + (t - t0) * MR * ldc, ldc, Wp + t * K * MR + kb * MR, B, kc,
                          ncols, loadC, nullptr, last, bias ? bias + t * MR : nullptr, ldb);
      }
    }
  };
  // Channels per chunk of a scattered panel: a multiple of every variant's MR (8 and 6).
  constexpr int64_t FT = 480;
  alignas(64) float T[FT * NR];
  auto scattered = [&](const float *in, float *out, int64_t ncols) {
    // The panel's pixels as runs that are contiguous in the output (one per output row).
    int64_t runStart[NR + 1], runs = 0;
    for (int64_t j = 0; j < ncols; ++j)
      if (j == 0 || outOff[j] != outOff[j - 1] + 1)
        runStart[runs++] = j;
    runStart[runs] = ncols;
    auto copy = [&](int64_t f0, int64_t f1, bool toT) {
      for (int64_t f = f0; f < f1; ++f)
        for (int64_t r = 0; r < runs; ++r) {
          float *o = out + f * outStrideF + outOff[runStart[r]];
          float *t = T + (f - f0) * NR + runStart[r];
          for (int64_t j = 0, n = runStart[r + 1] - runStart[r]; j < n; ++j) {
            if (toT)
              t[j] = o[j];
            else
              o[j] = t[j];
          }
        }
    };
    for (int64_t t0 = 0; t0 < tiles; t0 += FT / MR) {
      int64_t t1 = tiles - t0 < FT / MR ? tiles : t0 + FT / MR;
      int64_t f0 = t0 * MR, f1 = t1 * MR < F ? t1 * MR : F;
      if (accumulate)
        copy(f0, f1, true);
      panel(in, T, NR, ncols, t0, t1);
      copy(f0, f1, false);
    }
  };
  for (int64_t n = 0; n < N; ++n) {
    float *out = reinterpret_cast<float *>(outAddr) + n * outStrideN;
    const float *in = reinterpret_cast<const float *>(inAddr) + n * inStrideN;
    if (K <= 0) {
      if (!accumulate)
        for (int64_t f = 0; f < F; ++f)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow)
              out[f * outStrideF + oh * outStrideH + ow] = bias ? bias[f] : 0.0f;
      continue;
    }
    // (oh, ow) of the panel's first pixel, advanced without divisions.
    int64_t oh0 = 0, ow0 = 0;
    for (int64_t p0 = 0; p0 < P; p0 += NR) {
      int64_t ncols = P - p0 < NR ? P - p0 : NR;
      for (int64_t j = 0, oh = oh0, ow = ow0; j < ncols; ++j) {
        off[j] = oh * SH * inStrideH + ow * SW;
        outOff[j] = oh * outStrideH + ow;
        if (++ow == OW) {
          ow = 0;
          ++oh;
        }
      }
      ow0 += NR;
      while (ow0 >= OW) {
        ow0 -= OW;
        ++oh0;
      }
      if (outOff[ncols - 1] - outOff[0] == ncols - 1)
        panel(in, out + outOff[0], outStrideF, ncols, 0, tiles);
      else
        scattered(in, out, ncols);
    }
  }
}

} // extern "C"
