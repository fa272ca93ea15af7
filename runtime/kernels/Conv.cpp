//===- runtime/kernels/Conv.cpp - NCHW convolution as an implicit GEMM -----------===//
//
// out[n][f][oh][ow] (+)= sum_{c,kh,kw} W[f][c][kh][kw] * in[n][c][oh*SH + kh*DH][ow*SW + kw*DW]
// as a GEMM with the filter on the left: M = F output channels (packed into tiles of MR channels,
// include/sparq/Formats/DensePanels.h: at compile time for a constant filter, at run time by
// sparq_uk_pack_filter_f32 for a computed one), K = C*KH*KW, N = OH*OW output
// pixels. The im2col matrix never exists: for each block of NR output pixels and KC reduction
// steps, the kernel gathers a KC x NR slice of it into an L1 buffer (or, for a 1x1 stride-1
// convolution, reads the input's channel rows in place) and runs every filter tile over it with
// the register tile the GEMM uses (Tile.h), which stores the panel's pixels as one run per output
// row. A stride-1 k x k convolution reads in place too, through a table of tap offsets (step k =
// (c, kh, kw) of a panel of consecutive pixels is the input NR elements from that offset). Its
// panels run over the input's row pitch (the pixels under the padding columns computed and
// dropped) or follow output rows, whichever idles fewer columns. The input must already be
// padded.
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;

namespace {
/// Reduction steps up to which a stride-1 k x k convolution reads its taps in place: the tap
/// offset table lives on the stack (32 KiB at most).
constexpr int64_t kMaxTapSteps = 8192;
} // namespace

extern "C" {

int64_t sparq_uk_tile_rows_f32(void) { return MR; }

void sparq_uk_pack_filter_f32(intptr_t dstAddr, intptr_t srcAddr, int64_t F, int64_t K,
                              int64_t srcRowStride) {
  const float *src = reinterpret_cast<const float *>(srcAddr);
  sparq::formats::packRowTiles<float>(
      F, K, MR, [&](int64_t row, int64_t k) { return src[row * srcRowStride + k]; },
      reinterpret_cast<float *>(dstAddr));
}

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
  // Panels of NR pixels run across output rows, also when the rows are not adjacent (an output
  // written into the interior of a padded buffer): the tiles store each row's part of the panel
  // as one run (ColumnRuns), so that narrow images (a 28- or 14-pixel row is less than a panel)
  // still get full panels.
  alignas(64) float Bs[KC * NR];
  int64_t off[NR];
  // Tap offsets of a stride-1 k x k convolution: step k = (c, kh, kw) of a panel whose pixels'
  // input offsets are consecutive from off[0] reads in + off[0] + tapOff[k] .. + NR - 1, the
  // im2col rows in place (the gather below was 40% of the 3x3 16 -> 32 stem's time). lastRead:
  // the last input element any output reads; a short panel's tile reads NR elements anyway, so it
  // goes in place only when they stay at or before it (inside the input).
  int32_t *tapOff = nullptr;
  int64_t lastRead = 0;
  if (SW == 1 && KH * KW > 1 && C > 0 && K <= kMaxTapSteps) {
    const int64_t lastTap = (C - 1) * inStrideC + (KH - 1) * DH * inStrideH + (KW - 1) * DW;
    lastRead = lastTap + (OH - 1) * SH * inStrideH + (OW - 1);
    if (inStrideC > 0 && inStrideH > 0 && DH > 0 && DW > 0 && lastRead < INT32_MAX) {
      tapOff = static_cast<int32_t *>(__builtin_alloca_with_align(size_t(K) * 4, 512));
      for (int64_t c = 0, k = 0; c < C; ++c)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw)
            tapOff[k++] = int32_t(c * inStrideC + kh * DH * inStrideH + kw * DW);
    }
  }
  // runs: where the panel's pixels go in the output; inRuns: the runs of consecutive input
  // offsets (off[j] = off[j - 1] + 1), one per output row touched when the stride is 1.
  ColumnRuns runs, inRuns;
  // One panel: ncols output pixels whose input offsets are off[] and output offsets are runs.
  auto panel = [&](const float *in, float *out, int64_t ncols) {
    bool contiguous = ncols == NR && inRuns.count == 1;
    // A panel that crosses output rows: each row's part is copied as one run of vectors when the
    // runs are long (stride 1: a 56-pixel row splits every other 32-pixel panel in two), element
    // by element when they are single pixels (stride 2).
    bool byRuns = !contiguous && 2 * inRuns.count <= ncols;
    // A 1x1 convolution's im2col rows over NR consecutive pixels are the input's channel rows
    // themselves: the tiles read them in place (one stride per channel) instead of a copy.
    bool inPlace = contiguous && KH == 1 && KW == 1;
    bool taps = tapOff && inRuns.count == 1 && off[0] + tapOff[K - 1] + NR - 1 <= lastRead;
    for (int64_t kb = 0; kb < K; kb += KC) {
      int64_t kc = K - kb < KC ? K - kb : KC;
      const float *B = Bs;
      int64_t ldb = NR;
      if (inPlace) {
        B = in + off[0] + kb * inStrideC;
        ldb = inStrideC;
      } else if (taps) {
        B = in + off[0];
      } else {
        // Gather the kc x NR slice of the implicit im2col matrix.
        int64_t c = kb / (KH * KW), r = kb % (KH * KW), kh = r / KW, kw = r % KW;
        for (int64_t k = 0; k < kc; ++k) {
          const float *src = in + c * inStrideC + kh * DH * inStrideH + kw * DW;
          float *dst = Bs + k * NR;
          if (contiguous) {
            for (int j = 0; j < NV; ++j)
              store(dst + j * V, load(src + off[0] + j * V));
          } else if (byRuns) {
            for (int r = 0; r < inRuns.count; ++r) {
              const int a = inRuns.start[r], len = inRuns.end[r] - a;
              const float *s = src + inRuns.offset[r];
              int j = 0;
              for (; j + V <= len; j += V)
                store(dst + a + j, load(s + j));
              if (j < len) {
                vmask m = laneMask(0, len - j);
                maskedStore(dst + a + j, maskedLoad(s + j, m), m);
              }
            }
            for (int64_t j = ncols; j < NR; ++j)
              dst[j] = 0.0f;
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
      for (int64_t t = 0; t < tiles; ++t) {
        int64_t rows = F - t * MR < MR ? F - t * MR : MR;
        float *C = out + t * MR * outStrideF;
        const float *A = Wp + t * K * MR + kb * MR, *rowBias = bias ? bias + t * MR : nullptr;
        if (taps)
          packedTile<false, true>(rows, C, outStrideF, A, B, kc, ncols, loadC, nullptr, last,
                                  rowBias, 0, &runs, tapOff + kb);
        else
          packedTile<false>(rows, C, outStrideF, A, B, kc, ncols, loadC, nullptr, last, rowBias,
                            ldb, &runs);
      }
    }
  };
  // Panels along output rows (a row's last panel short) when the taps go in place and that
  // leaves at most an eighth of the panels' columns idle (56- and 28-pixel rows; a 14-pixel row
  // would idle 56% of them, and its row-crossing panels are gathered instead).
  const int64_t rowSpan = (OW + NR - 1) / NR * NR;
  bool rowPanels = tapOff && 8 * (rowSpan - OW) <= rowSpan;
  // Panels over whole padded input rows (SH = 1): output pixel (oh, ow) is pixel oh * inStrideH
  // + ow of a virtual image inStrideH wide whose pixels all read their taps at consecutive
  // offsets, so panels run on across output rows and still read in place; the inStrideH - OW
  // pixels per row past the output (the padding: 2 of 58 for a 3x3 over 56 pixels, where row
  // panels idle 8 of 64) are computed and dropped. Used when it idles less than row panels and
  // at most a quarter of the pixels.
  const int64_t pitchIdle = inStrideH - OW;
  const bool pitchPanels = tapOff && SH == 1 && pitchIdle >= 0 && 4 * pitchIdle <= inStrideH &&
                           (!rowPanels || pitchIdle * rowSpan < (rowSpan - OW) * inStrideH);
  rowPanels = rowPanels && !pitchPanels;
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
    // The panel of ncols pixels from output pixel (oh0, ow0), in row-major order over rows of
    // `pitch` pixels, of which the first OW are the output's (the others are computed but not
    // stored).
    auto panelAt = [&](int64_t oh0, int64_t ow0, int64_t ncols, int64_t pitch) {
      // One row segment at a time (a panel touches a few rows): the pixel loop this replaces
      // cost ~10% of the 3x3 stem's time in its branches.
      runs.count = inRuns.count = 0;
      bool open = false; // whether runs' last run takes the next stored pixel
      for (int64_t j = 0, oh = oh0, ow = ow0, prevO = -2, prevIn = -2; j < ncols;) {
        const int64_t len = pitch - ow < ncols - j ? pitch - ow : ncols - j;
        const int64_t in0 = oh * SH * inStrideH + ow * SW;
        for (int64_t t = 0; t < len; ++t)
          off[j + t] = in0 + t * SW;
        // Runs of consecutive input offsets: the whole segment when SW = 1.
        for (int64_t t = 0; t < len; t += SW == 1 ? len : 1) {
          if (off[j + t] != prevIn + 1) {
            if (inRuns.count)
              inRuns.end[inRuns.count - 1] = int(j + t);
            inRuns.start[inRuns.count] = int(j + t);
            inRuns.offset[inRuns.count++] = off[j + t];
          }
          prevIn = SW == 1 ? in0 + len - 1 : off[j + t];
        }
        // The segment's stored pixels (ow < OW) extend the open run when they follow it in the
        // output; the pixels past OW close it.
        const int64_t stored = ow >= OW ? 0 : (OW - ow < len ? OW - ow : len);
        const int64_t o0 = oh * outStrideH + ow;
        if (stored > 0 && (!open || o0 != prevO + 1)) {
          if (open)
            runs.end[runs.count - 1] = int(j);
          runs.start[runs.count] = int(j);
          runs.offset[runs.count++] = o0;
          open = true;
        }
        if (stored < len && open) {
          runs.end[runs.count - 1] = int(j + stored);
          open = false;
        }
        prevO = o0 + len - 1;
        j += len;
        ow += len;
        if (ow == pitch) {
          ow = 0;
          ++oh;
        }
      }
      if (open)
        runs.end[runs.count - 1] = int(ncols);
      inRuns.end[inRuns.count - 1] = int(ncols);
      runs.pack();
      panel(in, out, ncols);
    };
    if (pitchPanels) {
      // Consecutive pixels of rows inStrideH wide: one panel after another, each reading its
      // taps in place (the input rows are adjacent), the pixels past OW not stored.
      const int64_t total = (OH - 1) * inStrideH + OW;
      for (int64_t p0 = 0; p0 < total; p0 += NR)
        panelAt(p0 / inStrideH, p0 % inStrideH, total - p0 < NR ? total - p0 : NR, inStrideH);
      continue;
    }
    if (rowPanels) {
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ow += NR)
          panelAt(oh, ow, OW - ow < NR ? OW - ow : NR, OW);
      continue;
    }
    // Panels across rows: (oh, ow) of each one's first pixel advanced without divisions.
    for (int64_t p0 = 0, oh0 = 0, ow0 = 0; p0 < P; p0 += NR) {
      panelAt(oh0, ow0, P - p0 < NR ? P - p0 : NR, OW);
      ow0 += NR;
      while (ow0 >= OW) {
        ow0 -= OW;
        ++oh0;
      }
    }
  }
}

} // extern "C"
