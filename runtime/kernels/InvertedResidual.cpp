//===- runtime/kernels/InvertedResidual.cpp - a MobileNet block in one pass ----===//
//
// sparq_uk_mbconv_f32: 1x1 expand -> depthwise KH x KW -> 1x1 project (+ the input), each with
// its bias and clamp, computed output row by output row. The expanded rows live in a ring of
// (KH - 1) * DH + 1 rows, channels-last (a pixel's CE channels contiguous): each input row is
// expanded once, when the first output row that needs it comes, and dropped when the last one
// has passed. Channels-last makes all three stages vector code along channels:
//  - expand: a GEMM tile of MP pixels x NB channel vectors; each step broadcasts one input
//    element per pixel (a row of the NCHW input, read in place) against NB weight vectors;
//  - depthwise: four output pixels of one channel vector per step, each loaded input column
//    shared by the outputs whose windows overlap it (stride 1 and 2 with 3- and 5-wide filters;
//    other strides and dilations one pixel at a time);
//  - project: the same GEMM tile over the depthwise row, into a row of OW x COp; the row is
//    then transposed (V x V register transposes) into the NCHW output, adding the input.
// With a depthwise middle (3- or 5-wide, strides 1 and 2, no dilation) output rows go in pairs:
// the ring holds SH more rows, each loaded ring row feeds both depthwise rows, and the project
// GEMM runs over both rows' pixels at once (fewer short tail tiles).
// A task is a range of output rows of one image; the first ring rows of a task are expanded
// again by it (the halo), which costs (KH - 1) * DH / S rows per task.
//
// The weights come packed (include/sparq/Formats/InvertedResidual.h).
//
//===----------------------------------------------------------------------===//
#include "Tile.h"

#include "sparq/Formats/InvertedResidual.h"
#include "sparq/Kernels/UKernels.h"

using namespace sparq::kernels;
namespace fmt = sparq::formats;

namespace {

SPARQ_UK_INLINE vf clampv(vf v, vf lo, vf hi) {
  v = v > hi ? hi : v;
  return v < lo ? lo : v;
}

/// A row GEMM: C[i][j] = clamp(start + sum over segments s and k < K of
/// A[s][i * ai + k * ak] * B[s](k, j)) for i < pixels and j < ldb, where start is bias[j] (plus
/// C[i][j] itself when accumulating) and B[s] a K x ldb filter matrix in column blocks
/// (fmt::pointwiseOffset). One segment for a 1x1 convolution, one per filter tap for a k x k
/// one (each tap's input pixels and weight block).
struct RowGemm {
  int segments = 1;
  const float *A[49];
  const float *B[49];
  int64_t ai, ak, ldb, K;
  const float *bias;
  vf lo, hi;
  bool accumulate = false;
  float *C;
  int64_t ldc;
};

/// MP pixels from pixel p x NB channel vectors from vector j.
template <int MP, int NB, int AI, int AK>
SPARQ_UK_INLINE void tile(const RowGemm &g, int64_t p, int64_t j) {
  const int64_t ai = AI ? AI : g.ai, ak = AK ? AK : g.ak;
  vf acc[MP][NB];
  float *C = g.C + p * g.ldc + j * V;
  for (int jj = 0; jj < NB; ++jj) {
    const vf b = load(g.bias + (j + jj) * V);
    for (int i = 0; i < MP; ++i)
      acc[i][jj] = g.accumulate ? b + load(C + i * g.ldc + jj * V) : b;
  }
  // The filter matrix is stored in column blocks (fmt::pointwiseOffset): this tile's channels
  // lie in the block from channel b0, whose K rows are wb floats apart.
  const int64_t c0 = j * V, b0 = fmt::pointwiseBlockStart(c0),
                wb = fmt::pointwiseBlockWidth(b0, g.ldb);
  for (int s = 0; s < g.segments; ++s) {
    const float *A = g.A[s] + p * ai, *B = g.B[s] + b0 * g.K + (c0 - b0);
    for (int64_t k = 0; k < g.K; ++k) {
      vf b[NB];
      for (int jj = 0; jj < NB; ++jj)
        b[jj] = load(B + k * wb + jj * V);
      for (int i = 0; i < MP; ++i) {
        const vf a = splat(A[i * ai + k * ak]);
        for (int jj = 0; jj < NB; ++jj)
          acc[i][jj] = a * b[jj] + acc[i][jj];
      }
    }
  }
  for (int i = 0; i < MP; ++i)
    for (int jj = 0; jj < NB; ++jj)
      store(C + i * g.ldc + jj * V, clampv(acc[i][jj], g.lo, g.hi));
}

/// Pixels per tile for NB vectors of channels: the tile's MP x NB accumulators, NB weight
/// vectors and the broadcast take at most 30 of the 32 (v16) or 16 (v8) vector registers.
constexpr int tilePixels(int NB) {
  return V == 16 ? (NB == 4 ? 6 : NB == 3 ? 8 : NB == 2 ? 12 : 14) : (NB == 2 ? 6 : 12);
}
constexpr int kMaxNB = V == 16 ? 4 : 2;

/// The tiles of `pixels` pixels for NB channel vectors from vector j, the rest in tiles of 8, 4,
/// 2 and 1 pixels (as many as fit under MP): four tail sizes instead of one per remainder (13
/// for one vector), which cost compile time in every model that links the kernel (gemmRow).
template <int NB, int AI, int AK>
SPARQ_UK_INLINE void tileRow(const RowGemm &g, int64_t pixels, int64_t j) {
  constexpr int MP = tilePixels(NB);
  int64_t p = 0;
  for (; p + MP <= pixels; p += MP)
    tile<MP, NB, AI, AK>(g, p, j);
  if constexpr (MP > 8)
    if (pixels - p >= 8) {
      tile<8, NB, AI, AK>(g, p, j);
      p += 8;
    }
  if constexpr (MP > 4)
    if (pixels - p >= 4) {
      tile<4, NB, AI, AK>(g, p, j);
      p += 4;
    }
  if (pixels - p >= 2) {
    tile<2, NB, AI, AK>(g, p, j);
    p += 2;
  }
  if (pixels - p >= 1)
    tile<1, NB, AI, AK>(g, p, j);
}

/// The whole row: blocks of kMaxNB channel vectors, then the rest. (Blocking the reduction so
/// that a block of weights stays in L1 while the row's tiles pass over it, the outputs
/// accumulating in memory, measured within the noise: 3% faster on a ResNet bottleneck, 2%
/// slower on cnn_blocks' blocks; not kept.) AI / AK: the pixel and reduction strides of A when
/// known (1) at the call site, 0 for run-time values. Not inlined, and instantiated three times
/// (expand, middle and project, strided shortcut): its tile variants inlined at each call site
/// made one function that LLVM's loop passes took seconds over whenever a model was compiled.
template <int AI, int AK>
__attribute__((noinline)) void gemmRow(const RowGemm &g, int64_t pixels) {
  const int64_t vectors = g.ldb / V;
  int64_t j = 0;
  for (; j + kMaxNB <= vectors; j += kMaxNB)
    tileRow<kMaxNB, AI, AK>(g, pixels, j);
  switch (vectors - j) {
  case 1:
    tileRow<1, AI, AK>(g, pixels, j);
    break;
  case 2:
    if constexpr (kMaxNB > 2)
      tileRow<2, AI, AK>(g, pixels, j);
    break;
  case 3:
    if constexpr (kMaxNB > 3)
      tileRow<3, AI, AK>(g, pixels, j);
    break;
  default:
    break;
  }
}

/// A one-segment RowGemm.
SPARQ_UK_INLINE RowGemm rowGemm(const float *A, int64_t ai, int64_t ak, const float *B,
                                int64_t ldb, int64_t K, const float *bias, vf lo, vf hi,
                                float *C, int64_t ldc) {
  RowGemm g;
  g.A[0] = A;
  g.B[0] = B;
  g.ai = ai;
  g.ak = ak;
  g.ldb = ldb;
  g.K = K;
  g.bias = bias;
  g.lo = lo;
  g.hi = hi;
  g.C = C;
  g.ldc = ldc;
  return g;
}

struct Args {
  float *out;
  int64_t outStrideN, outStrideC, outStrideH;
  const float *in;
  int64_t inStrideN, inStrideC, inStrideH;
  const float *w;
  int64_t N, C, H, W, CE, CM, CO, KH, KW, OH, OW, SH, SW, DH, DW, padT, padL, flags;
};

/// Depthwise outputs per step (6 and 8 measured the same on cnn_blocks' shapes: the loop waits
/// on the L2, not on the FMA latency).
constexpr int kDwPixels = 4;

/// Whether the depthwise stage computes kDwPixels outputs per step (dwQuad): 3- and 5-wide
/// filters, strides 1 and 2 along W, no dilation along W.
bool dwQuads(const Args &a) {
  return a.DW == 1 && (a.SW == 1 || a.SW == 2) && (a.KW == 3 || a.KW == 5);
}

/// Whether output rows go in pairs (dwRows<2>): a depthwise middle with dwQuads, no dilation
/// along H, row stride 1 or 2.
bool pairsRows(const Args &a) {
  return !(a.flags & SPARQ_UK_FULL_CONV) && dwQuads(a) && a.DH == 1 && (a.SH == 1 || a.SH == 2);
}

/// Depthwise outputs [ow0, ow0 + kDwPixels) of channels [e, e + V), stride S (1 or 2) along W,
/// in ROWS output rows (1 or 2): output row k reads the input rows in[k * RS, k * RS + KH) (RS
/// its row stride). The (kDwPixels - 1) * S + KW input columns of each of the KH + (ROWS - 1) *
/// RS input rows are loaded once, for every output row that reads them (two rows at once read
/// the ring, larger than L1, for 2 output rows per KH + RS rows instead of per 2 * KH); the taps
/// come from D (L1). KHc: KH when known at compile time (3; 0: the run-time KH and RS), with the
/// row stride RS = S: the row loop unrolls, each tap is loaded once and the filter-row tests
/// fold (with the run-time KH they were a quarter of a 3x3 block's depthwise time).
template <int S, int KWc, int ROWS, int KHc = 0>
SPARQ_UK_INLINE void dwQuad(const float *const *in, int64_t KHr, int64_t RSr, int64_t CEp,
                            const float *D, const float *biasD, vf lo, vf hi,
                            float *const *h2, int64_t ow0, int64_t e) {
  constexpr int P = kDwPixels;
  constexpr int cols = (P - 1) * S + KWc;
  const int64_t KH = KHc ? KHc : KHr, RS = KHc ? S : RSr;
  const vf bias = load(biasD + e);
  vf acc[ROWS][P];
  for (int k = 0; k < ROWS; ++k)
    for (int i = 0; i < P; ++i)
      acc[k][i] = bias;
  for (int64_t r = 0; r < KH + (ROWS - 1) * RS; ++r) {
    const float *row = in[r] + ow0 * S * CEp + e;
    vf x[cols];
    for (int c = 0; c < cols; ++c)
      x[c] = load(row + c * CEp);
    for (int k = 0; k < ROWS; ++k) {
      const int64_t kh = r - k * RS; // this input row's filter row for output row k
      if (kh < 0 || kh >= KH)
        continue;
      for (int kw = 0; kw < KWc; ++kw) {
        const vf tap = load(D + (kh * KWc + kw) * CEp + e);
        for (int i = 0; i < P; ++i)
          acc[k][i] = tap * x[i * S + kw] + acc[k][i];
      }
    }
  }
  for (int k = 0; k < ROWS; ++k)
    for (int i = 0; i < P; ++i)
      store(h2[k] + (ow0 + i) * CEp + e, clampv(acc[k][i], lo, hi));
}

/// One output pixel of every channel vector, from the KH ring rows (any stride and dilation).
SPARQ_UK_INLINE void dwPixel(const Args &a, const float *const *rows, int64_t CEp,
                             const float *D, const float *biasD, vf lo, vf hi, float *h2,
                             int64_t ow) {
  for (int64_t e = 0; e < CEp; e += V) {
    vf acc = load(biasD + e);
    for (int64_t kh = 0; kh < a.KH; ++kh)
      for (int64_t kw = 0; kw < a.KW; ++kw)
        acc = load(D + (kh * a.KW + kw) * CEp + e) *
                  load(rows[kh] + (ow * a.SW + kw * a.DW) * CEp + e) +
              acc;
    store(h2 + ow * CEp + e, clampv(acc, lo, hi));
  }
}

/// ROWS depthwise output rows h2[k][ow][e] for every channel vector: row k from the ring rows
/// in[k * SH, k * SH + KH) (for one row, in[kh] may be rows DH apart). Four output pixels at a
/// time (dwQuads), all their channels before the next four: a pixel's channels are contiguous,
/// so the ring is read in sequential runs (going channel vector by channel vector over the
/// whole row instead made this stage 1.2x slower: strided reads of a ring larger than L1).
template <int ROWS>
void dwRows(const Args &a, const float *const *in, int64_t CEp, const float *D,
            const float *biasD, vf lo, vf hi, float *const *h2) {
  const int64_t KH = a.KH, KW = a.KW, OW = a.OW, SW = a.SW, RS = a.SH;
  int64_t ow = 0;
  if (dwQuads(a) && KH == 3 && KW == 3 && RS == SW)
    for (; ow + kDwPixels <= OW; ow += kDwPixels)
      for (int64_t e = 0; e < CEp; e += V)
        SW == 1 ? dwQuad<1, 3, ROWS, 3>(in, KH, RS, CEp, D, biasD, lo, hi, h2, ow, e)
                : dwQuad<2, 3, ROWS, 3>(in, KH, RS, CEp, D, biasD, lo, hi, h2, ow, e);
  if (dwQuads(a))
    for (; ow + kDwPixels <= OW; ow += kDwPixels)
      for (int64_t e = 0; e < CEp; e += V) {
        if (KW == 3)
          SW == 1 ? dwQuad<1, 3, ROWS>(in, KH, RS, CEp, D, biasD, lo, hi, h2, ow, e)
                  : dwQuad<2, 3, ROWS>(in, KH, RS, CEp, D, biasD, lo, hi, h2, ow, e);
        else
          SW == 1 ? dwQuad<1, 5, ROWS>(in, KH, RS, CEp, D, biasD, lo, hi, h2, ow, e)
                  : dwQuad<2, 5, ROWS>(in, KH, RS, CEp, D, biasD, lo, hi, h2, ow, e);
      }
  for (; ow < OW; ++ow)
    for (int k = 0; k < ROWS; ++k)
      dwPixel(a, in + k * RS, CEp, D, biasD, lo, hi, h2[k], ow);
}

/// Output rows [oh0, oh1) of image n.
void runRows(const Args &a, int64_t n, int64_t oh0, int64_t oh1) {
  const int64_t C = a.C, CE = a.CE, CM = a.CM, CO = a.CO, KH = a.KH, KW = a.KW, W = a.W,
                OW = a.OW;
  const bool full = a.flags & SPARQ_UK_FULL_CONV, projection = a.flags & SPARQ_UK_PROJECTION;
  const int64_t CEp = fmt::alignChannels(CE), CMp = fmt::alignChannels(CM),
                COp = fmt::alignChannels(CO);
  const fmt::InvertedResidualLayout l(C, CE, CM, CO, KH, KW, full, projection);
  const float *w = a.w;
  const vf lo1 = splat(w[0]), hi1 = splat(w[1]), lo2 = splat(w[2]), hi2 = splat(w[3]),
           lo3 = splat(w[4]), hi3 = splat(w[5]), lo4 = splat(w[6]), hi4 = splat(w[7]);
  const vf none = splat(__builtin_inff());
  // The ring: span rows of Wp expanded pixels (the zero padding included), SH more when output
  // rows go in pairs (dwRows<2>), then two rows of the middle convolution and two project rows.
  const int64_t span = (KH - 1) * a.DH + 1, Wp = (OW - 1) * a.SW + (KW - 1) * a.DW + 1;
  const bool pairs = pairsRows(a) && oh1 - oh0 >= 2;
  const int64_t ringRows = span + (pairs ? a.SH : 0), ringFloats = ringRows * Wp * CEp;
  float *ring = static_cast<float *>(__builtin_alloca_with_align(
      size_t(ringFloats + 2 * OW * CMp + 2 * OW * COp) * sizeof(float), 512));
  float *h2 = ring + ringFloats, *t = h2 + 2 * OW * CMp;
  for (int64_t i = 0; i < ringFloats; ++i)
    ring[i] = 0.0f;
  auto ringRow = [&](int64_t r) { return ring + (r % ringRows) * Wp * CEp; };
  const float *in = a.in + n * a.inStrideN;
  float *out = a.out + n * a.outStrideN;
  // Input columns [w0, w1) land on ring columns padL + w.
  const int64_t w0 = a.padL < 0 ? -a.padL : 0;
  const int64_t w1 = Wp - a.padL < W ? Wp - a.padL : W;
  int64_t next = oh0 * a.SH; // the first padded input row not yet in the ring
  const bool residual = a.flags & SPARQ_UK_RESIDUAL;
  for (int64_t oh = oh0; oh < oh1;) {
    const int64_t count = pairs && oh + 1 < oh1 ? 2 : 1; // output rows in this step
    // Expand the padded input rows up to the last one this step reads. Rows below oh * SH are
    // needed by no output from here on; with a dilation, rows between this output's taps are
    // needed by the next ones.
    const int64_t last = (oh + count - 1) * a.SH + (KH - 1) * a.DH;
    for (int64_t r = next > oh * a.SH ? next : oh * a.SH; r <= last; ++r) {
      float *row = ringRow(r);
      const int64_t ih = r - a.padT;
      if (ih < 0 || ih >= a.H) {
        for (int64_t i = 0; i < Wp * CEp; ++i)
          row[i] = 0.0f;
      } else if (w1 > w0) {
        gemmRow<1, 0>(rowGemm(in + ih * a.inStrideH + w0, 1, a.inStrideC, w + l.expand, CEp, C,
                        w + l.biasE, lo1, hi1, row + (a.padL + w0) * CEp, CEp),
                w1 - w0);
      }
    }
    if (last >= next)
      next = last + 1;
    if (count == 2) {
      const float *rows[7 + 2];
      for (int64_t r = 0; r < KH + a.SH; ++r)
        rows[r] = ringRow(oh * a.SH + r);
      float *const mids[2] = {h2, h2 + OW * CMp};
      dwRows<2>(a, rows, CEp, w + l.middle, w + l.biasM, lo2, hi2, mids);
    } else {
      const float *rows[7];
      for (int64_t kh = 0; kh < KH; ++kh)
        rows[kh] = ringRow(oh * a.SH + kh * a.DH);
      if (full) {
        // The k x k convolution as one GEMM over its taps: tap (kh, kw) reads ring row kh from
        // column kw * DW, every SW-th pixel, against its CE x CMp weight block.
        RowGemm g = rowGemm(nullptr, a.SW * CEp, 1, nullptr, CMp, CE, w + l.biasM, lo2, hi2, h2,
                            CMp);
        g.segments = int(KH * KW);
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            g.A[kh * KW + kw] = rows[kh] + kw * a.DW * CEp;
            g.B[kh * KW + kw] = w + l.middle + (kh * KW + kw) * CE * CMp;
          }
        gemmRow<0, 1>(g, OW);
      } else {
        dwRows<1>(a, rows, CEp, w + l.middle, w + l.biasM, lo2, hi2, &h2);
      }
    }
    // The step's middle rows are contiguous: one project GEMM over count * OW pixels.
    gemmRow<0, 1>(rowGemm(h2, CMp, 1, w + l.project, COp, CM, w + l.biasP, lo3, hi3, t, COp),
            count * OW);
    for (int64_t k = 0; k < count; ++k) {
      const int64_t y = oh + k;
      float *tr = t + k * OW * COp;
      if (projection) {
        // The shortcut's 1x1 convolution of every SW-th input pixel of row y * SH, added.
        RowGemm g = rowGemm(in + y * a.SH * a.inStrideH, a.SW, a.inStrideC, w + l.shortcut,
                            COp, C, w + l.biasS, -none, none, tr, COp);
        g.accumulate = true;
        gemmRow<0, 0>(g, OW);
      }
      // tr[ow][o] -> out[o][y][ow], adding the input with SPARQ_UK_RESIDUAL, then clamp 4.
      for (int64_t ow0 = 0; ow0 < OW; ow0 += V) {
        const int rowsHere = OW - ow0 < V ? int(OW - ow0) : V;
        const vmask lanes = laneMask(0, rowsHere);
        for (int64_t o0 = 0; o0 < CO; o0 += V) {
          vf r[V];
          for (int i = 0; i < V; ++i)
            r[i] = i < rowsHere ? load(tr + (ow0 + i) * COp + o0) : vf{};
          transpose(r);
          const int cols = CO - o0 < V ? int(CO - o0) : V;
          for (int j = 0; j < cols; ++j) {
            float *q = out + (o0 + j) * a.outStrideC + y * a.outStrideH + ow0;
            vf v = r[j];
            if (residual) {
              const float *x = in + (o0 + j) * a.inStrideC + y * a.inStrideH + ow0;
              v += rowsHere == V ? load(x) : maskedLoad(x, lanes);
            }
            v = clampv(v, lo4, hi4);
            if (rowsHere == V)
              store(q, v);
            else
              maskedStore(q, v, lanes);
          }
        }
      }
    }
    oh += count;
  }
}

/// Rows per task: one task per thread and image, split in two (up to four tasks per thread, for
/// balance on a busy machine) while the rows a task expands again stay under a tenth of its
/// rows. Measured on cnn_blocks' blocks at 2 threads: four tasks of 7 rows per thread (2 rows
/// of halo each) were 20-25% slower than one of 28.
int64_t taskRows(const Args &a, int64_t threads) {
  const int64_t halo = (a.KH - 1) * a.DH + 1 - a.SH;
  int64_t rows = (a.OH + threads - 1) / threads;
  for (int split = 1; split < 4 && rows >= 2 * 10 * (halo > 0 ? halo : 0) && rows >= 2; split *= 2)
    rows = (rows + 1) / 2;
  return rows;
}

void run(const Args &a, bool parallel) {
  if (a.N <= 0 || a.OH <= 0 || a.OW <= 0 || a.CO <= 0)
    return;
  const int64_t threads = parallel ? sparq_uk_get_num_threads() : 1;
  const int64_t rows = threads > 1 ? taskRows(a, threads) : a.OH;
  const int64_t perImage = (a.OH + rows - 1) / rows;
  auto task = [&](int64_t i) {
    const int64_t n = i / perImage, oh0 = i % perImage * rows;
    runRows(a, n, oh0, oh0 + rows < a.OH ? oh0 + rows : a.OH);
  };
  const int64_t tasks = a.N * perImage;
  if (threads == 1 || tasks == 1) {
    for (int64_t i = 0; i < tasks; ++i)
      task(i);
    return;
  }
  struct Ctx {
    decltype(task) *fn;
  } ctx{&task};
  sparq_uk_parallel_chunks(
      [](void *p, int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          (*static_cast<Ctx *>(p)->fn)(i);
      },
      &ctx, tasks, 1);
}

Args makeArgs(intptr_t outAddr, int64_t outStrideN, int64_t outStrideC, int64_t outStrideH,
              intptr_t inAddr, int64_t inStrideN, int64_t inStrideC, int64_t inStrideH,
              intptr_t wAddr, int64_t N, int64_t C, int64_t H, int64_t W, int64_t CE,
              int64_t CM, int64_t CO, int64_t KH, int64_t KW, int64_t OH, int64_t OW, int64_t SH,
              int64_t SW, int64_t DH, int64_t DW, int64_t padT, int64_t padL, int64_t flags) {
  return Args{reinterpret_cast<float *>(outAddr),
              outStrideN,
              outStrideC,
              outStrideH,
              reinterpret_cast<const float *>(inAddr),
              inStrideN,
              inStrideC,
              inStrideH,
              reinterpret_cast<const float *>(wAddr),
              N, C, H, W, CE, CM, CO, KH, KW, OH, OW, SH, SW, DH, DW, padT, padL, flags};
}

/// A 1x1 filter section (packPointwiseSection's layout: IN rows of OUTp channels in column
/// blocks) from the row-major OUT x IN filter f, every lane written (the padding ones zero), so
/// the section need not be copied from the constant buffer first. The layout is f transposed:
/// V x V blocks go through register transposes (transposeBlock; the V channels from o0 lie in
/// one column block, whose rows are `width` apart), the rest element by element. (Element by
/// element throughout, the two 64 x 256 filters of a 64 -> 256 -> 64 block took 20 us of its
/// 0.28 ms per call.)
void packPointwise(float *dst, const float *f, int64_t IN, int64_t OUT) {
  const int64_t OUTp = fmt::alignChannels(OUT);
  auto at = [&](int64_t i, int64_t o) { return dst + fmt::pointwiseOffset(i, o, IN, OUTp); };
  int64_t o0 = 0;
  for (; o0 + V <= OUT; o0 += V) {
    const int64_t width = fmt::pointwiseBlockWidth(fmt::pointwiseBlockStart(o0), OUTp);
    int64_t i0 = 0;
    for (; i0 + V <= IN; i0 += V)
      transposeBlock(at(i0, o0), width, f + o0 * IN + i0, IN);
    for (; i0 < IN; ++i0)
      for (int k = 0; k < V; ++k)
        *at(i0, o0 + k) = f[(o0 + k) * IN + i0];
  }
  for (int64_t i = 0; i < IN; ++i)
    for (int64_t o = o0; o < OUTp; ++o)
      *at(i, o) = o < OUT ? f[o * IN + i] : 0.0f;
}

} // namespace

extern "C" {

void sparq_uk_mbconv_f32(intptr_t outAddr, int64_t outStrideN, int64_t outStrideC,
                         int64_t outStrideH, intptr_t inAddr, int64_t inStrideN,
                         int64_t inStrideC, int64_t inStrideH, intptr_t wAddr, int64_t N,
                         int64_t C, int64_t H, int64_t W, int64_t CE, int64_t CM, int64_t CO,
                         int64_t KH,
                         int64_t KW, int64_t OH, int64_t OW, int64_t SH, int64_t SW, int64_t DH,
                         int64_t DW, int64_t padT, int64_t padL, int64_t flags) {
  run(makeArgs(outAddr, outStrideN, outStrideC, outStrideH, inAddr, inStrideN, inStrideC,
               inStrideH, wAddr, N, C, H, W, CE, CM, CO, KH, KW, OH, OW, SH, SW, DH, DW, padT, padL,
               flags),
      false);
}

void sparq_uk_mbconv_f32_mt(intptr_t outAddr, int64_t outStrideN, int64_t outStrideC,
                            int64_t outStrideH, intptr_t inAddr, int64_t inStrideN,
                            int64_t inStrideC, int64_t inStrideH, intptr_t wAddr, int64_t N,
                            int64_t C, int64_t H, int64_t W, int64_t CE, int64_t CM, int64_t CO,
                         int64_t KH,
                            int64_t KW, int64_t OH, int64_t OW, int64_t SH, int64_t SW,
                            int64_t DH, int64_t DW, int64_t padT, int64_t padL, int64_t flags) {
  run(makeArgs(outAddr, outStrideN, outStrideC, outStrideH, inAddr, inStrideN, inStrideC,
               inStrideH, wAddr, N, C, H, W, CE, CM, CO, KH, KW, OH, OW, SH, SW, DH, DW, padT, padL,
               flags),
      true);
}

void sparq_uk_mbconv_pack_f32(intptr_t outAddr, intptr_t constAddr, intptr_t expandAddr,
                              intptr_t middleAddr, intptr_t projectAddr, intptr_t shortcutAddr,
                              int64_t C, int64_t CE, int64_t CM, int64_t CO, int64_t KH,
                              int64_t KW, int64_t flags) {
  const bool full = flags & SPARQ_UK_FULL_CONV, projection = flags & SPARQ_UK_PROJECTION;
  const fmt::InvertedResidualLayout l(C, CE, CM, CO, KH, KW, full, projection);
  float *out = reinterpret_cast<float *>(outAddr);
  const float *constants = reinterpret_cast<const float *>(constAddr);
  const float *e = reinterpret_cast<const float *>(expandAddr),
              *d = reinterpret_cast<const float *>(middleAddr),
              *p = reinterpret_cast<const float *>(projectAddr),
              *sc = projection ? reinterpret_cast<const float *>(shortcutAddr) : nullptr;
  // The constant buffer's sections, but for the 1x1 filters computed here (packPointwise writes
  // all of theirs); the middle filter's section is copied for its padding lanes.
  auto copy = [&](int64_t from, int64_t to) {
    __builtin_memcpy(out + from, constants + from, size_t(to - from) * sizeof(float));
  };
  copy(0, e ? l.expand : l.biasE);
  copy(l.biasE, p ? l.project : l.biasP);
  copy(l.biasP, sc ? l.shortcut : l.biasS);
  copy(l.biasS, l.total);
  if (e)
    packPointwise(out + l.expand, e, C, CE);
  if (d)
    fmt::packMiddleSection(out, l, CE, CM, KH, KW, full,
                           [&](int64_t m, int64_t ce, int64_t kh, int64_t kw) {
                             return d[fmt::middleFilterIndex(m, ce, kh, kw, CE, KH, KW, full)];
                           });
  if (p)
    packPointwise(out + l.project, p, CM, CO);
  if (sc)
    packPointwise(out + l.shortcut, sc, C, CO);
}

} // extern "C"
