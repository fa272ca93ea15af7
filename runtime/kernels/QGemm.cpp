//===- runtime/kernels/QGemm.cpp - f32 GEMM/GEMV on group-quantized weights ---===//
//
// C (+)= A * Wᵀ with W (N x K) stored as sparq_quant packs it (docs/packed-formats.md): row n of
// `bits`-bit codes (a little-endian bit stream) at codes + n * codeRowBytes, one scale (and,
// asymmetric, one uint8 zero point) per row and group of `group` consecutive k. The packed bytes
// are read as they are; there is no kernel-specific weight layout.
//
//   - M <= 16 (GEMV and small batches; 8 on v8): every row's codes are streamed once per block of
//     up to 8 rows of A (4 on v8; M = 16 is one block of 16), R rows of W at a time (independent
//     FMA chains), the weights dequantized in registers, the activations' K chunk in L1, the next
//     row block prefetched, the M x R lane sums batched (Tile.h: hsums):
//       * 1, 2, 4 and 8 bits with groups that are whole chunks of V bytes: a chunk is loaded as
//         V bytes widened to V 32-bit lanes (3 bits, groups of whole chunks of 3V bytes: lane i
//         is bytes 3i..3i+2, 8 codes); phase p (p < 8 / bits, 8 for 3 bits) of the chunk is the
//         code at bits [p*bits, (p+1)*bits) of every lane, so the activations are copied once per call
//         (by the caller, before the work is split over threads) into a de-interleaved order in
//         which phase p of a chunk multiplies V consecutive floats. A code becomes a weight by a
//         lookup in a per-row, per-group table of (value - zero point) * scale held in one
//         register (AVX-512 vpermps for <= 4 bits, AVX2 vpermps for <= 3 bits), otherwise by
//         int -> float conversion and one FMA with the group's scale and offset;
//       * other widths (5, 6, 7 bits, and 3 bits in groups that are not whole chunks) and groups
//         that are a multiple of V: V codes at a time in
//         natural order, gathered from their 1-2 bytes by constant byte shuffles and per-lane
//         shifts (decodeNat);
//       * anything else (groups that are not a multiple of V), and the codes past the last whole
//         chunk: one code at a time.
//   - larger M (GEMM, FMA bound): the loop nest of the packed dense kernel (Gemm.cpp), with each
//     KC x NR panel slice of Wᵀ dequantized into an L1 buffer and the same register tile
//     (Tile.h: packedTile) run over it for every row tile of the block of A. For 2, 4 and 8 bits
//     (groups of whole 32-bit words) V rows' blocks of V words are transposed as words and each
//     word lane decoded in place (dequantSliceWords); otherwise V x V blocks of weights are
//     decoded row-wise and transposed in registers (dequantSlice).
//
// Built twice from this source like the other kernels (SPARQ_UK_VLEN 16 and 8). GCC/Clang vector
// extensions throughout; the table lookups use AVX-512/AVX2 intrinsics when the compilation
// enables them (__AVX512F__ / __AVX2__) and the conversion path otherwise. Freestanding: no
// allocation, no libc, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "QCall.h"
#include "Tile.h"

#if (SPARQ_UK_VLEN == 16 && defined(__AVX512F__)) || (SPARQ_UK_VLEN == 8 && defined(__AVX2__))
#include <immintrin.h>
#define SPARQ_QG_HAVE_LUT 1
#else
#define SPARQ_QG_HAVE_LUT 0
#endif

namespace {

using namespace sparq::kernels;

typedef int32_t vi __attribute__((vector_size(V * sizeof(int32_t))));
typedef uint8_t vb __attribute__((vector_size(V)));
typedef uint8_t vb16 __attribute__((vector_size(16)));

template <int X> struct IntC {
  static constexpr int value = X;
};

SPARQ_UK_INLINE vi splatI(int32_t x) {
  vi v;
  for (int i = 0; i < V; ++i)
    v[i] = x;
  return v;
}
SPARQ_UK_INLINE vf toFloat(vi v) { return __builtin_convertvector(v, vf); }

/// The integer a code stands for: B-bit two's complement, or unsigned minus the zero point.
SPARQ_UK_INLINE int32_t codeValue(uint32_t c, int B, bool sym, int32_t zp) {
  if (sym) {
    uint32_t h = 1u << (B - 1);
    return int32_t(c ^ h) - int32_t(h);
  }
  return int32_t(c) - zp;
}

SPARQ_UK_INLINE float weightAt(const QW &w, int64_t n, int64_t k) {
  int64_t g = k / w.group;
  return float(codeValue(codeAt(w.row(n), k, w.bits), w.bits, w.zp == nullptr, w.zero(n, g))) *
         w.scale(n, g);
}

/// V consecutive codes of B bits in natural order, starting at byte p (code index a multiple of
/// 8): lane i is code i. Reads exactly V * B / 8 bytes. Without Mask the lanes also hold the
/// following codes' bits above bit B (for a lookup that uses only the low bits).
template <int B, bool Mask>
SPARQ_UK_INLINE vi decodeNat(const uint8_t *p) {
  constexpr int NB = V * B / 8;
  vb16 bytes = {};
  __builtin_memcpy(&bytes, p, NB);
#define SPARQ_QG_LO(i) ((((i) * B) >> 3) & 15)
#define SPARQ_QG_HI(i) (((((i) * B) >> 3) + 1) & 15)
#define SPARQ_QG_SH(i) (((i) * B) & 7)
  vb lo = __builtin_shufflevector(bytes, bytes, SPARQ_UK_IV(SPARQ_QG_LO));
  vi w = __builtin_convertvector(lo, vi);
  if constexpr (B != 1 && B != 2 && B != 4 && B != 8) {
    // Some codes straddle two bytes: lane i gets the 16-bit window starting at its byte.
    vb hi = __builtin_shufflevector(bytes, bytes, SPARQ_UK_IV(SPARQ_QG_HI));
    w |= __builtin_convertvector(hi, vi) << 8;
  }
  if constexpr (B != 8) {
    const vi sh = {SPARQ_UK_IV(SPARQ_QG_SH)};
    w = w >> sh;
  }
#undef SPARQ_QG_LO
#undef SPARQ_QG_HI
#undef SPARQ_QG_SH
  if constexpr (Mask && B != 8)
    w &= splatI((1 << B) - 1);
  return w;
}

/// Whether codes of B bits become weights by a register table lookup in this build.
template <int B> constexpr bool useLut() {
#if SPARQ_QG_HAVE_LUT
  return V == 16 ? B <= 4 : B <= 3;
#else
  return false;
#endif
}

#if SPARQ_QG_HAVE_LUT
/// table[idx] per lane, using the low log2(V) bits of idx.
SPARQ_UK_INLINE vf lut(vi idx, vf table) {
#if SPARQ_UK_VLEN == 16
  return (vf)_mm512_permutexvar_ps((__m512i)idx, (__m512)table);
#else
  return (vf)_mm256_permutevar8x32_ps((__m256)table, (__m256i)idx);
#endif
}
#endif

/// Turns codes of one row and group into weights. With a table (Lut): lane i of `table` is the
/// weight of every code whose low B bits are i mod 2^B (so the index needs no masking). Otherwise
/// the codes, xor-ed with `flip` beforehand (the sign bit for symmetric codes, which makes them
/// unsigned with an offset of 2^(B-1)), become (code - offset) * scale in one FMA.
template <int B> struct Deq {
  vf table, scale, offset;
  SPARQ_UK_INLINE void init(float s, bool sym, int32_t zp) {
    if constexpr (useLut<B>()) {
      vi c = {SPARQ_UK_IV(+)};
      c &= splatI((1 << B) - 1);
      vi v = sym ? (c ^ splatI(1 << (B - 1))) - splatI(1 << (B - 1)) : c - splatI(zp);
      table = toFloat(v) * splat(s);
    } else {
      scale = splat(s);
      offset = splat(-float(sym ? 1 << (B - 1) : zp) * s);
    }
  }
  /// Codes in the low B bits of each lane (higher bits: ignored with a table, else masked).
  SPARQ_UK_INLINE vf apply(vi idx) const {
#if SPARQ_QG_HAVE_LUT
    if constexpr (useLut<B>())
      return lut(idx, table);
    else
#endif
    {
      if constexpr (B != 8)
        idx &= splatI((1 << B) - 1);
      return toFloat(idx) * scale + offset;
    }
  }
};

/// Phases of the de-interleaved path: codes per lane of a chunk. A lane is one byte (8 / B
/// codes) for 1, 2, 4 and 8 bits and three bytes (8 codes) for 3 bits.
constexpr int phasesOf(int B) { return B == 3 ? 8 : 8 / B; }
constexpr bool phaseable(int B) { return B == 1 || B == 2 || B == 3 || B == 4 || B == 8; }

/// The lane pattern that flips the sign bit of every B-bit code of a lane.
template <int B> constexpr int32_t signFlipLane() {
  int32_t m = 0;
  for (int i = 0; i < B * phasesOf(B); i += B)
    m |= 1 << (i + B - 1);
  return m;
}

/// GEMV range arguments shared by every row block.
struct GemvArgs {
  float *C;
  int64_t ldc;
  const float *A;
  int64_t lda;
  QW w;
  const float *xd; // de-interleaved activations of [kx0, kx1) (phase path), see deinterleave
  int64_t kx0, kx1; // the K chunk computed by this call (whole chunks)
  int64_t kTail;    // codes [kTail, K) are added one by one when `last`
  bool first, last, accumulate, relu;
  int path; // 1: de-interleaved phases, 2: natural-order chunks, 3: scalar
};

/// Stores one R-row block: partial sums part[m][r] of rows n..n+R.
template <int M, int R>
SPARQ_UK_INLINE void finishRows(const GemvArgs &a, int64_t n, float (&part)[M][R]) {
  if (a.last)
    for (int64_t k = a.kTail; k < a.w.K; ++k)
      for (int r = 0; r < R; ++r) {
        float wv = weightAt(a.w, n + r, k);
        for (int m = 0; m < M; ++m)
          part[m][r] += a.A[m * a.lda + k] * wv;
      }
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) {
      float *c = a.C + m * a.ldc + n + r;
      float v = part[m][r];
      if (!a.first || a.accumulate)
        v += *c;
      if (a.last && a.relu && v < 0.0f)
        v = 0.0f;
      *c = v;
    }
}

/// The V lanes of a chunk of path 1 (B * P bits each) from its V * B * P / 8 bytes. 3 bits:
/// lane i is bytes 3i..3i+2 (its top byte repeats byte 3i+2: a table lookup ignores it, the
/// conversion path masks each code).
#define SPARQ_QG_B3(i) 3 * (i), 3 * (i) + 1, 3 * (i) + 2, 3 * (i) + 2
template <int B> SPARQ_UK_INLINE vi loadLanes(const uint8_t *p) {
  if constexpr (B == 3) {
#if SPARQ_UK_VLEN == 16 && defined(__AVX512BW__)
    // The 48 bytes (a masked load: no read past them), dwords 3j..3j+2 into 128-bit lane j
    // (its 4th dword repeats the 3rd), then bytes 3i..3i+2 into lane i within each 128 bits.
    const __m512i bytes = _mm512_maskz_loadu_epi8(0x0000FFFFFFFFFFFFull, p);
    const __m512i spread = _mm512_permutexvar_epi32(
        _mm512_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11), bytes);
    const __m512i pick = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11));
    return (vi)_mm512_shuffle_epi8(spread, pick);
#elif SPARQ_UK_VLEN == 8 && defined(__AVX2__)
    const __m256i bytes =
        _mm256_maskload_epi32(reinterpret_cast<const int *>(p), _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0));
    const __m256i spread =
        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5));
    const __m256i pick = _mm256_setr_epi8(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11, 0, 1,
                                          2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11);
    return (vi)_mm256_shuffle_epi8(spread, pick);
#else
    typedef uint8_t vb4 __attribute__((vector_size(4 * V)));
    vb4 bytes = {};
    __builtin_memcpy(&bytes, p, 3 * V);
    return (vi)__builtin_shufflevector(bytes, bytes, SPARQ_UK_IV(SPARQ_QG_B3));
#endif
  } else {
    vb bytes;
    __builtin_memcpy(&bytes, p, V);
    return __builtin_convertvector(bytes, vi);
  }
}
#undef SPARQ_QG_B3

/// Path 1 for rows n..n+R: chunks of V lanes (V * P codes, V * B * P / 8 bytes), phase p of a
/// chunk multiplying the V de-interleaved activations at xd + (chunk offset) * M + m * V * P +
/// p * V.
template <int B, int M, int R> __attribute__((noinline)) void gemvPhases(const GemvArgs &a, int64_t n) {
  constexpr int P = phasesOf(B), CH = V * P;
  const QW &w = a.w;
  const bool sym = w.zp == nullptr;
  const vi flip = splatI(!useLut<B>() && sym ? signFlipLane<B>() : 0);
  vf acc[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r)
      acc[m][r] = splat(0.0f);
  const uint8_t *rows[R];
  for (int r = 0; r < R; ++r)
    rows[r] = w.row(n + r);
  for (int64_t k = a.kx0; k < a.kx1;) {
    const int64_t g = k / w.group;
    const int64_t ge = (g + 1) * w.group < a.kx1 ? (g + 1) * w.group : a.kx1;
    Deq<B> dq[R];
    for (int r = 0; r < R; ++r)
      dq[r].init(w.scale(n + r, g), sym, w.zero(n + r, g));
    // The rows of a block are contiguous and short (2 KiB at K = 4096, 4 bits): pull the same
    // lines of the next block's rows (R * rowBytes ahead), here rather than in the chunk loop (a
    // branch there cost the 16-row tile its accumulators' registers).
    for (int64_t byte = (k * B / 8) & ~int64_t(63); byte < ge * B / 8; byte += 64)
      for (int r = 0; r < R; ++r)
        __builtin_prefetch(rows[r] + byte + R * w.rowBytes, 0, 3);
    for (; k < ge; k += CH) {
      // The M rows' activations of this chunk are contiguous: one base, constant offsets.
      const float *xc = a.xd + (k - a.kx0) * M;
      vi raw[R];
      for (int r = 0; r < R; ++r)
        raw[r] = loadLanes<B>(rows[r] + k * B / 8) ^ flip;
#pragma unroll
      for (int p = 0; p < P; ++p) {
        vf wv[R];
        for (int r = 0; r < R; ++r)
          wv[r] = dq[r].apply(p == 0 ? raw[r] : raw[r] >> (p * B));
        for (int m = 0; m < M; ++m) {
          vf x = load(xc + (m * P + p) * V);
          for (int r = 0; r < R; ++r)
            acc[m][r] = wv[r] * x + acc[m][r];
        }
      }
    }
  }
  float part[M][R];
  laneSums<M, R>(acc, part);
  finishRows<M, R>(a, n, part);
}

/// Path 2 for rows n..n+R: V codes at a time in natural order against A itself.
template <int B, int M, int R> __attribute__((noinline)) void gemvNatural(const GemvArgs &a, int64_t n) {
  const QW &w = a.w;
  const bool sym = w.zp == nullptr;
  const vi flip = splatI(!useLut<B>() && sym ? 1 << (B - 1) : 0);
  vf acc[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r)
      acc[m][r] = splat(0.0f);
  const uint8_t *rows[R];
  for (int r = 0; r < R; ++r)
    rows[r] = w.row(n + r);
  for (int64_t k = a.kx0; k < a.kx1;) {
    const int64_t g = k / w.group;
    const int64_t ge = (g + 1) * w.group < a.kx1 ? (g + 1) * w.group : a.kx1;
    Deq<B> dq[R];
    for (int r = 0; r < R; ++r)
      dq[r].init(w.scale(n + r, g), sym, w.zero(n + r, g));
    for (; k < ge; k += V) {
      if ((k * B / 8) % 64 < V * B / 8)
        for (int r = 0; r < R; ++r)
          __builtin_prefetch(rows[r] + k * B / 8 + R * w.rowBytes, 0, 3);
      vf wv[R];
      for (int r = 0; r < R; ++r)
        wv[r] = dq[r].apply(decodeNat<B, !useLut<B>()>(rows[r] + k * B / 8) ^ flip);
      for (int m = 0; m < M; ++m) {
        vf x = load(a.A + m * a.lda + k);
        for (int r = 0; r < R; ++r)
          acc[m][r] = wv[r] * x + acc[m][r];
      }
    }
  }
  float part[M][R];
  laneSums<M, R>(acc, part);
  finishRows<M, R>(a, n, part);
}

/// Path 3 (and rows with nothing but a tail): every code on its own.
template <int M> void gemvScalar(const GemvArgs &a, int64_t n) {
  float part[M][1];
  for (int m = 0; m < M; ++m)
    part[m][0] = 0.0f;
  for (int64_t k = a.kx0; k < a.kx1; ++k) {
    float wv = weightAt(a.w, n, k);
    for (int m = 0; m < M; ++m)
      part[m][0] += a.A[m * a.lda + k] * wv;
  }
  finishRows<M, 1>(a, n, part);
}

/// Rows per block of the vector paths: enough independent accumulators for M activation rows.
template <int M> constexpr int rowsPerBlock() {
  if (V == 16)
    return M <= 2 ? 4 : M <= 8 ? 2 : 1;
  return M == 1 ? 4 : M == 2 ? 2 : 1;
}

template <int B, int M> void gemvRowsB(const GemvArgs &a, int64_t n0, int64_t n1) {
  constexpr int R = rowsPerBlock<M>();
  int64_t n = n0;
  if (a.path == 1) {
    if constexpr (phaseable(B)) {
      for (; n + R <= n1; n += R)
        gemvPhases<B, M, R>(a, n);
      for (; n < n1; ++n)
        gemvPhases<B, M, 1>(a, n);
    }
    return;
  }
  for (; n + R <= n1; n += R)
    gemvNatural<B, M, R>(a, n);
  for (; n < n1; ++n)
    gemvNatural<B, M, 1>(a, n);
}

template <int B, int M> void gemvRowsM(const GemvArgs &a, int64_t n0, int64_t n1) {
  if (a.path == 3) {
    for (int64_t n = n0; n < n1; ++n)
      gemvScalar<M>(a, n);
    return;
  }
  gemvRowsB<B, M>(a, n0, n1);
}

/// Rows of A up to which the streaming (GEMV) kernel is used, in blocks of at most kGemvRows
/// rows (each block streams the codes once), or one block of exactly kGemvFullBlock rows; above
/// it, the dequantize-and-tile GEMM.
constexpr int64_t kGemvMaxM = V == 16 ? 16 : 8;
constexpr int64_t kGemvRows = V == 16 ? 8 : 4;
constexpr int kGemvFullBlock = V == 16 ? 16 : 4;

/// Floats of the de-interleaved activation buffer (all M rows of one K chunk), on the stack of
/// the caller: 32 KiB, so the activations stay in L1 while the rows pass over them (64 KiB was
/// 10% slower at M = 16).
constexpr int64_t kXBuf = 8192;

/// How a GEMV call walks K.
struct GemvPlan {
  int path;
  int64_t chunk; // codes per chunk of the vector path
  int64_t kFull; // codes [0, kFull) in whole chunks; the rest one by one
  int64_t kx;    // K chunk (path 1: what fits the activation buffer)
};

GemvPlan planGemv(const QW &w, int64_t M) {
  GemvPlan p;
  const int B = w.bits;
  const int64_t phaseChunk = phaseable(B) ? V * phasesOf(B) : 0;
  const bool single = w.group >= w.K;
  if (phaseable(B) && (single || w.group % phaseChunk == 0)) {
    p.path = 1;
    p.chunk = phaseChunk;
  } else if (single || w.group % V == 0) {
    p.path = 2;
    p.chunk = V;
  } else {
    p.path = 3;
    p.chunk = 1;
  }
  p.kFull = p.path == 3 ? w.K : w.K / p.chunk * p.chunk;
  if (p.path == 1) {
    int64_t kx = kXBuf / M / p.chunk * p.chunk;
    p.kx = kx < p.kFull ? kx : p.kFull;
  } else {
    p.kx = p.kFull;
  }
  if (p.kx <= 0)
    p.kx = 1; // only a tail: one empty chunk
  return p;
}

/// Copies A[m][kx0, kx1) (whole chunks of V * P codes) into xd in the phase order of path 1:
/// chunk by chunk, and in a chunk row by row (the M rows of a chunk at constant offsets from one
/// pointer: with a row stride known only at run time, 16 rows took 16 address registers and
/// spilled), phase p of row m's chunk at m * V * P + p * V.
void deinterleave(float *xd, const float *A, int64_t lda, int64_t M, int64_t kx0, int64_t kx1,
                  int P) {
  const int64_t ch = int64_t(V) * P;
  for (int64_t c = kx0; c < kx1; c += ch) {
    float *d = xd + (c - kx0) * M;
    for (int64_t m = 0; m < M; ++m, d += ch) {
      const float *x = A + m * lda + c;
      for (int p = 0; p < P; ++p)
        for (int i = 0; i < V; ++i)
          d[p * V + i] = x[int64_t(i) * P + p];
    }
  }
}

//===----------------------------------------------------------------------===//
// GEMM (M > kGemvMaxM)
//===----------------------------------------------------------------------===//

/// Weights W[n][k0 .. k0 + cnt) as a vector (zero past cnt); k0 a multiple of 8. g: the group
/// of k0, whole: the V codes are all in group g.
template <int B>
SPARQ_UK_INLINE vf dequantChunk(const QW &w, int64_t n, int64_t k0, int64_t cnt, int64_t g,
                                bool whole) {
  if (whole) {
    vi c = decodeNat<B, true>(w.row(n) + k0 * B / 8);
    vi v = w.zp == nullptr ? (c ^ splatI(1 << (B - 1))) - splatI(1 << (B - 1))
                           : c - splatI(w.zero(n, g));
    return toFloat(v) * splat(w.scale(n, g));
  }
  vf out = splat(0.0f);
  for (int64_t i = 0; i < cnt; ++i)
    out[i] = weightAt(w, n, k0 + i);
  return out;
}

/// Bs (kc x NR) = Wᵀ of rows [nb, nb + ncols) and codes [kb, kb + kc); zero past ncols.
template <int B>
void dequantSlice(float *Bs, const QW &w, int64_t nb, int64_t ncols, int64_t kb, int64_t kc) {
  // The group of each V-code chunk and whether the chunk lies in it entirely (shared by rows).
  int64_t chunkGroup[KC / V];
  bool chunkWhole[KC / V];
  for (int64_t kk = 0, i = 0; kk < kc; kk += V, ++i) {
    chunkGroup[i] = (kb + kk) / w.group;
    chunkWhole[i] = kc - kk >= V && (kb + kk + V - 1) / w.group == chunkGroup[i];
  }
  for (int64_t jj = 0; jj < NR; jj += V) {
    for (int64_t kk = 0; kk < kc; kk += V) {
      const int64_t cnt = kc - kk < V ? kc - kk : V;
      const int64_t g = chunkGroup[kk / V];
      const bool whole = chunkWhole[kk / V];
      vf r[V];
      for (int i = 0; i < V; ++i)
        r[i] = jj + i < ncols ? dequantChunk<B>(w, nb + jj + i, kb + kk, cnt, g, whole)
                              : splat(0.0f);
      transpose(r);
      for (int64_t i = 0; i < cnt; ++i)
        store(Bs + (kk + i) * NR + jj, r[i]);
    }
  }
}

/// The V * 4 bytes at p (any alignment) as the bit patterns of a vector: a float pointer would
/// promise 4-byte alignment, which a row of codes does not have.
SPARQ_UK_INLINE vf loadBits(const uint8_t *p) {
  vf v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

/// Codes per block of dequantSliceWords: V 32-bit words of a row.
template <int B> constexpr int64_t wordBlockCodes() { return 32 * V / B; }

/// Whether dequantSliceWords builds the slice from code kb: B divides 32 (no code straddles a
/// 32-bit word), kb starts a block of V words, and every group is whole words.
template <int B> SPARQ_UK_INLINE bool wordsSlice(const QW &w, int64_t kb) {
  return 32 % B == 0 && wordBlockCodes<B>() <= KC && kb % wordBlockCodes<B>() == 0 &&
         w.group % (32 / B) == 0;
}

/// Bs (kc x NR) = Wᵀ of rows [nb, nb + ncols) and codes [kb, kb + kc), zero past ncols, with
/// one V x V transpose of 32-bit words per V rows x V words (32 V / B codes) instead of one
/// float transpose per V x V weights (dequantSlice: 4 to 16 times as many shuffles, which were
/// a sixth of a W4 GEMM's time at M = 128): lane l of word vector d is word d of row l, and
/// code i of it is lane-wise (word >> i * B) & mask, converted and scaled with the lane's (the
/// row's) scale for its group. The values are dequantChunk's, rounded once: (c - z) * s, or for
/// symmetric codes c' * s - 2^(B-1) * s in one FMA (c' the code with its sign bit flipped; the
/// product by a power of two is exact). Codes past the rows' last whole block: dequantSlice.
template <int B>
void dequantSliceWords(float *Bs, const QW &w, int64_t nb, int64_t ncols, int64_t kb,
                       int64_t kc) {
  constexpr int P = 32 / B;
  constexpr int64_t BC = wordBlockCodes<B>();
  constexpr int32_t h = 1 << (B - 1);
  const vi mask = splatI(int32_t((1u << B) - 1));
  const bool sym = w.zp == nullptr;
  // Whole blocks of every row from kb: the row's bytes past kb * B / 8, in blocks of 4V bytes.
  const int64_t avail = (w.rowBytes - kb * B / 8) / (4 * V) * BC;
  const int64_t whole = avail < 0 ? 0 : (avail < kc ? avail : kc / BC * BC);
  for (int64_t jj = 0; jj < NR; jj += V) {
    const int live = ncols - jj < 0 ? 0 : ncols - jj < V ? int(ncols - jj) : V;
    vf sc = splat(0.0f), off = splat(0.0f);
    vi zv = splatI(0);
    int64_t gEnd = kb; // the first code past the group of sc, zv and off
    for (int64_t kk = 0; kk < whole; kk += BC) {
      vf r[V];
      for (int l = 0; l < V; ++l)
        r[l] = l < live ? loadBits(w.row(nb + jj + l) + (kb + kk) * B / 8) : splat(0.0f);
      transpose(r);
      for (int d = 0; d < V; ++d) {
        const int64_t k0 = kb + kk + d * P;
        if (k0 >= gEnd) { // groups are whole words: k0 starts one
          const int64_t g = k0 / w.group;
          gEnd = (g + 1) * w.group;
          for (int l = 0; l < V; ++l) {
            const float s = l < live ? w.scale(nb + jj + l, g) : 0.0f;
            sc[l] = s;
            zv[l] = l < live ? w.zero(nb + jj + l, g) : 0;
            off[l] = -float(h) * s;
          }
        }
        const vi word = (vi)r[d];
        float *dst = Bs + (kk + d * P) * NR + jj;
        if (sym) {
#pragma unroll
          for (int i = 0; i < P; ++i)
            store(dst + i * NR, toFloat(((word >> (i * B)) & mask) ^ splatI(h)) * sc + off);
        } else {
#pragma unroll
          for (int i = 0; i < P; ++i)
            store(dst + i * NR, toFloat(((word >> (i * B)) & mask) - zv) * sc);
        }
      }
    }
  }
  if (whole < kc)
    dequantSlice<B>(Bs + whole * NR, w, nb, ncols, kb + whole, kc - whole);
}

/// Prefetches into L2 the codes of W's rows [nb, nb + ncols) and codes [kb, kb + kc): the next
/// panel slice. The codes are row-major, so a slice is ncols short runs a row apart, which the
/// hardware prefetcher does not follow; with weights a model reads once per run (from L3 or
/// DRAM) the dequantization otherwise waits on each row.
template <int B>
SPARQ_UK_INLINE void prefetchSlice(const QW &w, int64_t nb, int64_t ncols, int64_t kb,
                                   int64_t kc) {
  const int64_t b0 = kb * B / 8, b1 = ((kb + kc) * B + 7) / 8;
  for (int64_t j = 0; j < ncols; ++j) {
    const uint8_t *r = w.row(nb + j);
    for (int64_t b = b0; b < b1; b += 64)
      __builtin_prefetch(r + b, 0, 2);
  }
}

/// Columns [n0, n1) of C for M > kGemvMaxM.
template <int B>
void gemmRange(float *C, int64_t ldc, const float *A, int64_t lda, const QW &w, int64_t n0,
               int64_t n1, int64_t M, bool accumulate, bool applyRelu) {
  const int64_t K = w.K, N = n1 - n0, panels = (N + NR - 1) / NR;
  alignas(64) float Ap[MC * KC];
  alignas(64) float Bs[KC * NR];
  for (int64_t mb = 0; mb < M; mb += MC) {
    const int64_t mc = M - mb < MC ? M - mb : MC, tiles = (mc + MR - 1) / MR;
    for (int64_t q0 = 0; q0 < panels; q0 += NCP) {
      const int64_t q1 = q0 + NCP < panels ? q0 + NCP : panels;
      for (int64_t kb = 0; kb < K; kb += KC) {
        const int64_t kc = K - kb < KC ? K - kb : KC;
        const bool loadC = accumulate || kb > 0, last = applyRelu && kb + kc == K;
        packA(Ap, A + mb * lda + kb, lda, mc, kc);
        for (int64_t p = q0; p < q1; ++p) {
          const int64_t ncols = N - p * NR < NR ? N - p * NR : NR;
          if (p + 1 < q1) {
            const int64_t next = N - (p + 1) * NR < NR ? N - (p + 1) * NR : NR;
            prefetchSlice<B>(w, n0 + (p + 1) * NR, next, kb, kc);
          } else if (kb + kc < K) {
            const int64_t next = N - q0 * NR < NR ? N - q0 * NR : NR;
            prefetchSlice<B>(w, n0 + q0 * NR, next, kb + kc, K - kb - kc < KC ? K - kb - kc : KC);
          }
          if (wordsSlice<B>(w, kb))
            dequantSliceWords<B>(Bs, w, n0 + p * NR, ncols, kb, kc);
          else
            dequantSlice<B>(Bs, w, n0 + p * NR, ncols, kb, kc);
          for (int64_t t = 0; t < tiles; ++t) {
            const int64_t rows = mc - t * MR < MR ? mc - t * MR : MR;
            packedTile<false>(rows, C + (mb + t * MR) * ldc + n0 + p * NR, ldc,
                              Ap + t * KC * MR, Bs, kc, ncols, loadC, nullptr, last);
          }
        }
      }
    }
  }
}

template <int B>
__attribute__((noinline)) void gemm(float *C, int64_t ldc, const float *A, int64_t lda,
                                    const QW &w, int64_t n0, int64_t n1, int64_t M,
                                    bool accumulate, bool applyRelu) {
  gemmRange<B>(C, ldc, A, lda, w, n0, n1, M, accumulate, applyRelu);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

using Call = QCall;

GemvArgs gemvArgs(const Call &c, const GemvPlan &p, const float *xd, int64_t kx0) {
  GemvArgs a;
  a.C = c.C;
  a.ldc = c.ldc;
  a.A = c.A;
  a.lda = c.lda;
  a.w = c.w;
  a.xd = xd;
  a.kx0 = kx0;
  a.kx1 = kx0 + p.kx < p.kFull ? kx0 + p.kx : p.kFull;
  if (a.kx1 < a.kx0)
    a.kx1 = a.kx0;
  a.kTail = p.kFull;
  a.first = kx0 == 0;
  a.last = kx0 + p.kx >= p.kFull;
  a.accumulate = c.accumulate;
  a.relu = c.relu;
  a.path = p.path;
  return a;
}

/// Whether a problem is too small to be worth a parallel region.
bool small(const Call &c) {
  return smallProblem(c.M, c.N, c.w.K);
}

/// The GEMV of rows [m0, m0 + MB) of A and C (MB <= kGemvRows, or kGemvFullBlock), on the
/// calling thread or split over the pool by ranges of N.
template <int B, int MB> void gemvBlock(const Call &c, int64_t m0, bool parallel) {
  Call b = c;
  b.A = c.A + m0 * c.lda;
  b.C = c.C + m0 * c.ldc;
  b.M = MB;
  const GemvPlan p = planGemv(b.w, MB);
  alignas(64) float xd[kXBuf];
  struct Job {
    GemvArgs a;
    int64_t N;
  } job;
  job.N = b.N;
  for (int64_t kx0 = 0;; kx0 += p.kx) {
    job.a = gemvArgs(b, p, xd, kx0);
    if (p.path == 1)
      deinterleave(xd, b.A, b.lda, MB, job.a.kx0, job.a.kx1, phasesOf(b.w.bits));
    if (!parallel)
      gemvRowsM<B, MB>(job.a, 0, b.N);
    else
      sparq_uk_parallel(
          [](void *ctx, int32_t tid, int32_t team) {
            const Job &j = *static_cast<const Job *>(ctx);
            // Rows in multiples of 8 (whole row blocks of every path).
            int64_t per = ((j.N + team - 1) / team + 7) / 8 * 8;
            int64_t n0 = tid * per, n1 = n0 + per < j.N ? n0 + per : j.N;
            if (n0 < n1)
              gemvRowsM<B, MB>(j.a, n0, n1);
          },
          &job);
    if (job.a.last)
      break;
  }
}

/// The GEMV of all MC rows: one block, or two equal ones (12 rows are 6 + 6, not 8 + 4).
template <int B, int MC> void gemvBlocks(const Call &c, bool parallel) {
  if constexpr (MC == kGemvFullBlock || MC <= kGemvRows) {
    gemvBlock<B, MC>(c, 0, parallel);
  } else {
    static_assert(MC <= 2 * kGemvRows, "at most two blocks");
    constexpr int lo = MC / 2;
    gemvBlock<B, lo>(c, 0, parallel);
    gemvBlock<B, MC - lo>(c, lo, parallel);
  }
}

/// Calls f(IntC<M>()) for M in [1, kGemvMaxM] and f(IntC<0>()) for larger M (the GEMM). Inlined
/// into a model's call (SPARQ_UK_ENTRY) where M is a constant, only the GEMV for that M is
/// compiled into the model: instantiating every M took a W4 MLP's compile from 3.0 to 4.6 s.
template <int X, class F> SPARQ_UK_INLINE void rowsCase(F &f) {
  if constexpr (X <= kGemvMaxM)
    f(IntC<X>());
  else
    f(IntC<0>());
}
template <class F> SPARQ_UK_INLINE void withRows(int64_t M, F f) {
  switch (M) {
  case 1: return rowsCase<1>(f);
  case 2: return rowsCase<2>(f);
  case 3: return rowsCase<3>(f);
  case 4: return rowsCase<4>(f);
  case 5: return rowsCase<5>(f);
  case 6: return rowsCase<6>(f);
  case 7: return rowsCase<7>(f);
  case 8: return rowsCase<8>(f);
  case 9: return rowsCase<9>(f);
  case 10: return rowsCase<10>(f);
  case 11: return rowsCase<11>(f);
  case 12: return rowsCase<12>(f);
  case 13: return rowsCase<13>(f);
  case 14: return rowsCase<14>(f);
  case 15: return rowsCase<15>(f);
  case 16: return rowsCase<16>(f);
  default: return f(IntC<0>());
  }
}
static_assert(kGemvMaxM <= 16, "withRows enumerates the GEMV's row counts up to 16");

/// One call on the calling thread; MC: M for the GEMV, 0 for the GEMM.
template <int B, int MC> void qgemm(const Call &c) {
  if constexpr (MC == 0)
    gemm<B>(c.C, c.ldc, c.A, c.lda, c.w, 0, c.N, c.M, c.accumulate, c.relu);
  else
    gemvBlocks<B, MC>(c, false);
}

/// One call split over the pool (small problems on the calling thread).
template <int B, int MC> void qgemmParallel(const Call &c) {
  if (small(c))
    return qgemm<B, MC>(c);
  if constexpr (MC != 0) {
    gemvBlocks<B, MC>(c, true);
  } else {
    sparq_uk_parallel(
        [](void *ctx, int32_t tid, int32_t team) {
          const Call &g = *static_cast<const Call *>(ctx);
          const int64_t panels = (g.N + NR - 1) / NR;
          if (panels >= team || g.M < 2 * MR) {
            // Each thread dequantizes and multiplies its own panels of the weight.
            int64_t per = (panels + team - 1) / team, n0 = tid * per * NR;
            int64_t n1 = (tid + 1) * per * NR < g.N ? (tid + 1) * per * NR : g.N;
            if (n0 < n1)
              gemm<B>(g.C, g.ldc, g.A, g.lda, g.w, n0, n1, g.M, g.accumulate, g.relu);
            return;
          }
          int64_t tiles = (g.M + MR - 1) / MR, per = (tiles + team - 1) / team;
          int64_t m0 = tid * per * MR;
          int64_t m1 = (tid + 1) * per * MR < g.M ? (tid + 1) * per * MR : g.M;
          if (m0 < m1)
            gemm<B>(g.C + m0 * g.ldc, g.ldc, g.A + m0 * g.lda, g.lda, g.w, 0, g.N, m1 - m0,
                    g.accumulate, g.relu);
        },
        const_cast<Call *>(&c));
  }
}

} // namespace

extern "C" {

// The entry points are inlined into the model's calls (SPARQ_UK_ENTRY), where the width (and,
// with static shapes, M) is a constant: the switches fold and only that width's (and M's) code
// is compiled into the model.

SPARQ_UK_ENTRY void sparq_uk_qgemm_f32(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                                       intptr_t codes, int64_t codeRowBytes, intptr_t scales,
                                       intptr_t zeroPoints, int64_t scaleStride, int64_t bits,
                                       int64_t group, int64_t M, int64_t N, int64_t K,
                                       int64_t flags) {
  Call c;
  if (setupQCall(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride,
                 bits, group, M, N, K, flags))
    withBits(c.w.bits, [&](auto b) {
      withRows(c.M, [&](auto m) { qgemm<decltype(b)::value, decltype(m)::value>(c); });
    });
}

SPARQ_UK_ENTRY void sparq_uk_qgemm_f32_mt(intptr_t cAddr, int64_t ldc, intptr_t aAddr,
                                          int64_t lda, intptr_t codes, int64_t codeRowBytes,
                                          intptr_t scales, intptr_t zeroPoints,
                                          int64_t scaleStride, int64_t bits, int64_t group,
                                          int64_t M, int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (setupQCall(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride,
                 bits, group, M, N, K, flags))
    withBits(c.w.bits, [&](auto b) {
      withRows(c.M, [&](auto m) { qgemmParallel<decltype(b)::value, decltype(m)::value>(c); });
    });
}

} // extern "C"
