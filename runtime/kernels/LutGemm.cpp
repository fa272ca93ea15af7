//===- runtime/kernels/LutGemm.cpp - lookup-table GEMM on binary-coded weights ---===//
//
// C (+)= A * Wᵀ with W (N x K) binary-coded as sparq_shiftadd packs it (docs/packed-formats.md,
// include/sparq/Formats/PackedFormats.h): W = Σ_{i<q} α_i ⊙ B_i (bit k%8 of sign byte k/8:
// 1 = +1, 0 = -1), g = k / group, read interleaved by 16 rows, as the compiler lays the stored
// planes out (bcqInterleaveRows16 / bcqInterleaveScales16): plane i of row block b is a run of
// 64-byte vectors, one per dword of K, whose lane r holds row 16b + r's 32 sign bits, and its
// alphas one 16-float vector per group.
//
// The lookup-table product (LUT-GEMM / ShiftAddLLM / T-MAC): for each chunk of 4 activations
// x_0..x_3 of a row of A, the 16 signed partial sums T[b] = Σ_j (bit j of b ? +x_j : -x_j) are
// computed once per call (per K block, see below) and shared by every row and plane of W; a
// nibble of a plane row is then the index of its chunk's contribution. Lookups are summed per
// group and plane, and each group sum is scaled by α once. Activations past K are 0 in the
// tables, so the padding bits (0, i.e. -1) contribute nothing. The tables are exact fp32 sums.
//
//   - AVX-512 (v16 built with __AVX512F__), groups that are a multiple of 32 (or one group per
//     row): 16 rows of W at a time; one load gives a dword (32 weights, 8 chunks) of each of the
//     16 rows, and for each of its 8 nibbles a vpermps (which reads only the low 4 bits of each
//     lane) looks the 16 rows' chunk contributions up in the chunk's 16-float table held in one
//     register. Up to 4 rows of A (the same indices) and up to 4 planes per pass.
//   - otherwise (v8, other groups): the same tables, one row of W and one nibble at a time;
//     chunks that straddle a group boundary (groups not a multiple of 4) are summed weight by
//     weight.
//
// The tables of up to 4 rows of A take at most 32 KiB on the stack: K is processed in blocks
// (a multiple of 32) whose partial results go through C. M > 4 runs blocks of 4 rows of A.
// Freestanding: no allocation, no libc, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#if SPARQ_UK_VLEN == 16 && defined(__AVX512F__)
#include <immintrin.h>
#define SPARQ_LG_AVX512 1
#else
#define SPARQ_LG_AVX512 0
#endif

#define SPARQ_LG_INLINE inline __attribute__((always_inline))

namespace {

constexpr int64_t kMaxRowsA = 4;       // rows of A per table set
constexpr int64_t kTabFloats = 8192;   // 32 KiB of tables: M block * K block / 4 * 16 floats
constexpr int64_t kKBlockMax = kTabFloats / 4; // k values of tables for one row of A

struct LG {
  float *C;
  int64_t ldc;
  const float *A;
  int64_t lda;
  const uint8_t *codes; ///< sign planes interleaved by 16 rows (PackedFormats.h)
  const float *scales;  ///< alphas interleaved the same way
  /// Per-group offsets o(n, g) interleaved like one plane of alphas, or null: C gains
  /// o(n, g) * (the sum of row m's activations in group g).
  const float *offsets;
  /// SPARQ_UK_PLANE_SCALES: one scale per row and group for every plane, alpha_i = s * 2^(i-1).
  bool planeScales;
  int64_t q, group, groups, M, N, K;
  int64_t dwords; ///< dwords (32 positions) of K
  bool accumulate, relu;
  /// Plane i of 16-row block b: `dwords` 64-byte vectors (lane r: row 16b + r's sign bytes).
  const uint8_t *blockCodes(int64_t i, int64_t b) const {
    return codes + (b * q + i) * dwords * 64;
  }
  /// Plane i's alphas of block b: one 16-float vector per group.
  /// (SPARQ_UK_PLANE_SCALES: the scales shared by every plane, times planeFactor(i).)
  const float *blockAlphas(int64_t i, int64_t b) const {
    return planeScales ? scales + b * groups * 16 : scales + (b * q + i) * groups * 16;
  }
  /// What plane i's scales are multiplied by (exactly: a power of two).
  float planeFactor(int64_t i) const {
    return planeScales ? float(sparq::formats::signPlaneAlpha(1.0, unsigned(i))) : 1.0f;
  }
  /// Block b's offsets: one 16-float vector per group.
  const float *blockOffsets(int64_t b) const { return offsets + b * groups * 16; }
};

/// Group sums of a table block (the offsets' factors): row m's sum of the activations of group
/// g in [kb0, kb1) at gsum[m * kGroupSumStride + g - kb0 / group]. A block of kb positions
/// meets at most kb + 1 groups, and mb * kb <= kKBlockMax.
constexpr int64_t kGroupSumStride = kKBlockMax + 1;

/// With offsets: the group sums of rows [m0, m0 + mb) of A over [kb0, kb1) (kGroupSumStride).
void groupSums(const LG &c, int64_t m0, int64_t mb, int64_t kb0, int64_t kb1, float *gsum) {
  if (!c.offsets)
    return;
  const int64_t g0 = kb0 / c.group, ke = kb1 < c.K ? kb1 : c.K;
  for (int64_t m = 0; m < mb; ++m) {
    const float *a = c.A + (m0 + m) * c.lda;
    float *gs = gsum + m * kGroupSumStride;
    for (int64_t g = g0; g * c.group < kb1; ++g)
      gs[g - g0] = 0.0f;
    for (int64_t k = kb0; k < ke; ++k)
      gs[k / c.group - g0] += a[k];
  }
}

/// Tables of rows [m0, m0 + mb) of A for k in [kb0, kb1) (kb1 - kb0 a multiple of 4; x = 0
/// past K): tab[(m * chunks + ch) * 16 + b].

void buildTables(const LG &c, int64_t m0, int64_t mb, int64_t kb0, int64_t kb1, float *tab) {
  const int64_t chunks = (kb1 - kb0) / 4;
  for (int64_t m = 0; m < mb; ++m) {
    const float *a = c.A + (m0 + m) * c.lda;
    float *t = tab + m * chunks * 16;
    for (int64_t ch = 0; ch < chunks; ++ch) {
      float x[4];
      for (int j = 0; j < 4; ++j) {
        int64_t k = kb0 + ch * 4 + j;
        x[j] = k < c.K ? a[k] : 0.0f;
      }
      for (int b = 0; b < 16; ++b)
        t[ch * 16 + b] = ((b & 1) ? x[0] : -x[0]) + ((b & 2) ? x[1] : -x[1]) +
                         ((b & 4) ? x[2] : -x[2]) + ((b & 8) ? x[3] : -x[3]);
    }
  }
}

/// Sign byte j (positions 8j..8j+7) of row r of a block's plane.
SPARQ_LG_INLINE unsigned signByte(const uint8_t *block, int64_t r, int64_t j) {
  return block[(j >> 2) * 64 + 4 * r + (j & 3)];
}

SPARQ_LG_INLINE float signedX(const uint8_t *block, int64_t r, const float *a, int64_t k) {
  return ((signByte(block, r, k >> 3) >> (k & 7)) & 1u) ? a[k] : -a[k];
}

/// Portable: rows [n0, n1) of W against rows [m0, m0 + mb) of A over k in [kb0, kb1).
void portableRows(const LG &c, const float *tab, const float *gsum, int64_t m0, int64_t mb,
                  int64_t kb0, int64_t kb1, int64_t n0, int64_t n1, bool first, bool last) {
  const int64_t chunks = (kb1 - kb0) / 4;
  const int64_t ke1 = kb1 < c.K ? kb1 : c.K;
  for (int64_t n = n0; n < n1; ++n) {
    const int64_t b = n / 16, r = n % 16;
    float acc[kMaxRowsA];
    for (int64_t m = 0; m < mb; ++m)
      acc[m] = (first && !c.accumulate) ? 0.0f : c.C[(m0 + m) * c.ldc + n];
    for (int64_t i = 0; i < c.q; ++i) {
      const uint8_t *blk = c.blockCodes(i, b);
      const float *sc = c.blockAlphas(i, b) + r;
      const float factor = c.planeFactor(i);
      for (int64_t g = kb0 / c.group; g * c.group < ke1; ++g) {
        int64_t ks = g * c.group > kb0 ? g * c.group : kb0;
        int64_t ke = (g + 1) * c.group < ke1 ? (g + 1) * c.group : ke1;
        float gs[kMaxRowsA];
        for (int64_t m = 0; m < mb; ++m)
          gs[m] = 0.0f;
        int64_t k = ks;
        for (; k < ke && (k & 3); ++k)
          for (int64_t m = 0; m < mb; ++m)
            gs[m] += signedX(blk, r, c.A + (m0 + m) * c.lda, k);
        for (; k + 4 <= ke; k += 4) {
          unsigned nib = (signByte(blk, r, k >> 3) >> (k & 4)) & 15u;
          const float *t = tab + ((k - kb0) >> 2) * 16 + nib;
          for (int64_t m = 0; m < mb; ++m)
            gs[m] += t[m * chunks * 16];
        }
        for (; k < ke; ++k)
          for (int64_t m = 0; m < mb; ++m)
            gs[m] += signedX(blk, r, c.A + (m0 + m) * c.lda, k);
        for (int64_t m = 0; m < mb; ++m)
          acc[m] += sc[g * 16] * factor * gs[m];
      }
    }
    if (c.offsets) {
      const float *off = c.blockOffsets(b) + r;
      for (int64_t g = kb0 / c.group; g * c.group < ke1; ++g)
        for (int64_t m = 0; m < mb; ++m)
          acc[m] += off[g * 16] * gsum[m * kGroupSumStride + g - kb0 / c.group];
    }
    for (int64_t m = 0; m < mb; ++m) {
      float v = acc[m];
      if (last && c.relu && !(v > 0.0f))
        v = 0.0f;
      c.C[(m0 + m) * c.ldc + n] = v;
    }
  }
}

/// The vector paths apply: groups a multiple of 32 (whole dwords), or one group per row.
bool dwordGroups(const LG &c) { return c.group % 32 == 0 || c.groups == 1; }

#if SPARQ_LG_AVX512
/// Planes [i0, i0 + P) of the 16-row block at nb, rows [m0, m0 + MB) of A, k in [kb0, kb1)
/// (multiples of 32; dword groups), added to acc. Each plane is one sequential stream of
/// 64-byte vectors, lane r holding row r's 32 sign bits of the dword. The pass of plane 0 also
/// adds the offsets (if any) times the group sums.
template <int P, int MB>
__attribute__((noinline)) void pass16(const LG &c, const float *tab, const float *gsum,
                                      int64_t kb0, int64_t kb1, int64_t nb, int64_t i0,
                                      __m512 *accOut) {
  const float *offsets = c.offsets && i0 == 0 ? c.blockOffsets(nb / 16) : nullptr;
  const int64_t g0 = kb0 / c.group;
  const int64_t chunks = (kb1 - kb0) / 4;
  const uint8_t *base[P];
  const float *sbase[P];
  __m512 factor[P];
  for (int p = 0; p < P; ++p) {
    base[p] = c.blockCodes(i0 + p, nb / 16);
    sbase[p] = c.blockAlphas(i0 + p, nb / 16);
    factor[p] = _mm512_set1_ps(c.planeFactor(i0 + p));
  }
  __m512 acc[MB];
  for (int m = 0; m < MB; ++m)
    acc[m] = accOut[m];
  __m512 ga[P][MB];
  for (int p = 0; p < P; ++p)
    for (int m = 0; m < MB; ++m)
      ga[p][m] = _mm512_setzero_ps();
  const int64_t d1 = kb1 / 32;
  // Group boundaries by a running count (no division per dword).
  int64_t g = kb0 / c.group, left = c.group - (kb0 - g * c.group);
  for (int64_t d = kb0 / 32; d < d1; ++d) {
    const float *t = tab + ((d * 32 - kb0) / 4) * 16;
    left -= 32;
    const bool flush = left == 0 || d + 1 == d1;
    for (int p = 0; p < P; ++p) {
      // For each of the dword's 8 nibbles a vpermps (reading only the low 4 bits of each lane)
      // looks the 16 rows' chunk contributions up in the chunk's 16-float table.
      const __m512i w = _mm512_loadu_si512(base[p] + d * 64);
      for (int m = 0; m < MB; ++m) {
        const float *tm = t + m * chunks * 16;
        __m512 s0 = _mm512_add_ps(
            _mm512_permutexvar_ps(w, _mm512_load_ps(tm)),
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 4), _mm512_load_ps(tm + 16)));
        __m512 s1 = _mm512_add_ps(
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 8), _mm512_load_ps(tm + 32)),
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 12), _mm512_load_ps(tm + 48)));
        __m512 s2 = _mm512_add_ps(
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 16), _mm512_load_ps(tm + 64)),
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 20), _mm512_load_ps(tm + 80)));
        __m512 s3 = _mm512_add_ps(
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 24), _mm512_load_ps(tm + 96)),
            _mm512_permutexvar_ps(_mm512_srli_epi32(w, 28), _mm512_load_ps(tm + 112)));
        ga[p][m] = _mm512_add_ps(ga[p][m],
                                 _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
      }
      if (flush) {
        // The end of group g (or of the K block): scaled by the group's alphas.
        const __m512 alpha = _mm512_mul_ps(_mm512_loadu_ps(sbase[p] + g * 16), factor[p]);
        for (int m = 0; m < MB; ++m) {
          acc[m] = _mm512_fmadd_ps(alpha, ga[p][m], acc[m]);
          ga[p][m] = _mm512_setzero_ps();
        }
      }
    }
    if (flush && offsets) {
      const __m512 o = _mm512_loadu_ps(offsets + g * 16);
      for (int m = 0; m < MB; ++m)
        acc[m] = _mm512_fmadd_ps(o, _mm512_set1_ps(gsum[m * kGroupSumStride + g - g0]), acc[m]);
    }
    if (left == 0) {
      ++g;
      left = c.group;
    }
  }
  for (int m = 0; m < MB; ++m)
    accOut[m] = acc[m];
}

typedef void (*PassFn)(const LG &, const float *, const float *, int64_t, int64_t, int64_t,
                       int64_t, __m512 *);

PassFn passFn(int64_t P, int64_t MB) {
  static constexpr PassFn fns[4][4] = {
      {pass16<1, 1>, pass16<1, 2>, pass16<1, 3>, pass16<1, 4>},
      {pass16<2, 1>, pass16<2, 2>, pass16<2, 3>, pass16<2, 4>},
      {pass16<3, 1>, pass16<3, 2>, pass16<3, 3>, pass16<3, 4>},
      {pass16<4, 1>, pass16<4, 2>, pass16<4, 3>, pass16<4, 4>}};
  return fns[P - 1][MB - 1];
}

/// For each block of 16 rows of W in [n0, n1): the accumulators of rows [m0, m0 + mb) of C
/// (zero on the first K block unless accumulating), `planes(nb, acc)` adding the block's
/// products, ReLU on the last K block, the store (rows past N masked).
template <typename Planes>
SPARQ_LG_INLINE void rowBlocks16(const LG &c, int64_t m0, int64_t mb, int64_t n0, int64_t n1,
                                 bool first, bool last, Planes planes) {
  for (int64_t nb = n0; nb < n1; nb += 16) {
    int64_t rows = n1 - nb < 16 ? n1 - nb : 16;
    __mmask16 rm = __mmask16((1u << rows) - 1u);
    __m512 acc[kMaxRowsA];
    for (int64_t m = 0; m < mb; ++m)
      acc[m] = (first && !c.accumulate) ? _mm512_setzero_ps()
                                        : _mm512_maskz_loadu_ps(rm, c.C + (m0 + m) * c.ldc + nb);
    planes(nb, acc);
    for (int64_t m = 0; m < mb; ++m) {
      __m512 v = acc[m];
      if (last && c.relu)
        v = _mm512_max_ps(v, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(c.C + (m0 + m) * c.ldc + nb, rm, v);
    }
  }
}

void fastRows(const LG &c, const float *tab, const float *gsum, int64_t m0, int64_t mb,
              int64_t kb0, int64_t kb1, int64_t n0, int64_t n1, bool first, bool last) {
  rowBlocks16(c, m0, mb, n0, n1, first, last, [&](int64_t nb, __m512 *acc) {
    // Passes of at most 4 planes (q = 5..8: two passes).
    for (int64_t i0 = 0; i0 < c.q;) {
      int64_t P = c.q - i0 > 4 ? (c.q - i0 + 1) / 2 : c.q - i0;
      if (P > 4)
        P = 4;
      passFn(P, mb)(c, tab, gsum, kb0, kb1, nb, i0, acc);
      i0 += P;
    }
  });
}
#endif

/// The table blocks of a call: `block(m0, mb, kb0, kb1, first, last)` for rows [m0, m0 + mb)
/// of A (at most kMaxRowsA) and K blocks [kb0, kb1) of at most kPerRowA / mb positions (a
/// multiple of 32; the last ends at K rounded up to 32), first and last marking the K blocks
/// that start and finish C.
template <typename Block>
SPARQ_LG_INLINE void forTableBlocks(const LG &c, int64_t kPerRowA, Block block) {
  const int64_t kPad = (c.K + 31) / 32 * 32;
  for (int64_t m0 = 0; m0 < c.M; m0 += kMaxRowsA) {
    const int64_t mb = c.M - m0 < kMaxRowsA ? c.M - m0 : kMaxRowsA;
    const int64_t kb = kPerRowA / mb / 32 * 32;
    for (int64_t kb0 = 0; kb0 < kPad; kb0 += kb) {
      const int64_t kb1 = kb0 + kb < kPad ? kb0 + kb : kPad;
      block(m0, mb, kb0, kb1, kb0 == 0, kb1 == kPad);
    }
  }
}

/// Rows [n0, n1) of C (all M rows of A).
void lutRange(const LG &c, int64_t n0, int64_t n1) {
  if (n0 >= n1)
    return;
#if SPARQ_LG_AVX512
  const bool fast = dwordGroups(c);
#else
  const bool fast = false;
#endif
  alignas(64) float tab[kTabFloats];
  float gsum[kMaxRowsA * kGroupSumStride];
  forTableBlocks(c, kKBlockMax, [&](int64_t m0, int64_t mb, int64_t kb0, int64_t kb1,
                                    bool first, bool last) {
    buildTables(c, m0, mb, kb0, kb1, tab);
    groupSums(c, m0, mb, kb0, kb1, gsum);
#if SPARQ_LG_AVX512
    if (fast)
      return fastRows(c, tab, gsum, m0, mb, kb0, kb1, n0, n1, first, last);
#endif
    (void)fast;
    portableRows(c, tab, gsum, m0, mb, kb0, kb1, n0, n1, first, last);
  });
}

bool setup(LG &c, intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
           intptr_t scales, intptr_t offsets, int64_t q, int64_t group, int64_t M, int64_t N,
           int64_t K, int64_t flags) {
  if (M <= 0 || N <= 0)
    return false;
  c.C = reinterpret_cast<float *>(C);
  c.ldc = ldc;
  c.A = reinterpret_cast<const float *>(A);
  c.lda = lda;
  c.codes = reinterpret_cast<const uint8_t *>(codes);
  c.scales = reinterpret_cast<const float *>(scales);
  c.offsets = reinterpret_cast<const float *>(offsets);
  c.q = q < 0 ? 0 : q;
  c.group = group > 0 ? group : (K > 0 ? K : 1);
  c.K = K < 0 ? 0 : K;
  c.groups = (c.K + c.group - 1) / c.group;
  c.M = M;
  c.N = N;
  c.dwords = (c.K + 31) / 32;
  c.accumulate = (flags & SPARQ_UK_ACCUMULATE) != 0;
  c.relu = (flags & SPARQ_UK_RELU) != 0;
  c.planeScales = (flags & SPARQ_UK_PLANE_SCALES) != 0;
  if (c.K == 0 || c.q == 0) {
    // Empty sum: C = 0 (or unchanged), then the epilogue.
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        float v = c.accumulate ? c.C[m * ldc + n] : 0.0f;
        if (c.relu && !(v > 0.0f))
          v = 0.0f;
        c.C[m * ldc + n] = v;
      }
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// int8 tables (sparq_uk_lutgemm_i8_f32): the same lookups with each group's tables quantized to
// int8, the lookups summed in int32, on the sign planes interleaved by 16 rows at compile time
// (PackedFormats.h bcqInterleaveRows16/bcqInterleaveScales16). Group g of row m of A has the
// scale s = max over its chunks of (((|x0| + |x1|) + |x2|) + |x3|) / 127 (the largest |T[b]| of
// any of its chunks), and t[b] = rne(T[b] * (127 / max)) (T[b] summed left to right; 0 for an
// all-zero group). Table layout, per row of A and dword d of K (32 weights, 8 chunks): 128
// bytes, the tables of chunks 8d+0, 8d+2, 8d+4, 8d+6 (16 bytes each) and then of 8d+1, 8d+3,
// 8d+5, 8d+7, so that a byte of sign bits, whose low nibble is an even chunk and high nibble
// the next one, indexes one 64-byte half.
//
//   - AVX-512 with VBMI and VNNI (function target attributes; sparq-compile calls this kernel
//     only for CPUs that have both): a block of 16 rows of W is one 64-byte load per dword
//     (lane r: row r's 4 sign bytes); byte b of a lane becomes the index b*16 + nibble into a
//     half (one vpternlogd for each nibble), vpermb looks 64 bytes up at once, and vpdpbusd
//     against ones adds the 4 lookups of each row into its int32 lane.
//   - otherwise: the same arithmetic one row and one chunk at a time.
//
// Groups must be a multiple of 32 (or one group per row): chunks never straddle a group, and a
// dword never does. K is processed in blocks of tables of at most 32 KiB.

constexpr int64_t kTab8Bytes = 32768;                // tables of one K block, all rows of A
constexpr int64_t kTab8Dwords = kTab8Bytes / 128;    // dwords of K for one row of A
constexpr int64_t kGroups8Max = kTab8Dwords + 1;     // groups meeting one K block

/// The K block's tables and group scales for rows [m0, m0 + mb) of A.
struct Tables8 {
  const int8_t *tab; ///< row m's dword d of the block at tab + (m * dwords + d) * 128
  int64_t dwords;    ///< dwords of the block
  const float *scale; ///< s(m, g) at scale[m * kGroups8Max + g - g0]
  int64_t g0;        ///< first group of the block
};

/// s(m, g) * 127, the largest |T[b]| of the group's chunks.
float groupMaxSum(const LG &c, const float *a, int64_t g) {
  const int64_t k0 = g * c.group, k1 = k0 + c.group < c.K ? k0 + c.group : c.K;
  float mx = 0.0f;
  for (int64_t k = k0; k < k1; k += 4) {
    float s = 0.0f;
    for (int j = 0; j < 4; ++j)
      s += k + j < k1 ? __builtin_fabsf(a[k + j]) : 0.0f;
    mx = s > mx ? s : mx;
  }
  return mx;
}

#if !SPARQ_LG_AVX512
/// Round to nearest, ties to even, for |v| < 2^22 (the rounding of cvtps2dq).
SPARQ_LG_INLINE float roundEven(float v) {
#pragma clang fp contract(off)
  const float magic = 12582912.0f; // 1.5 * 2^23
  float r = v + magic;
  return r - magic;
}
#endif

/// Fills `tab` (mb * dwords * 128 bytes) and `scale` for k in [kb0, kb1) (multiples of 32).
void buildTables8(const LG &c, int64_t m0, int64_t mb, int64_t kb0, int64_t kb1, int8_t *tab,
                  float *scale) {
#pragma clang fp contract(off)
  const int64_t dwords = (kb1 - kb0) / 32, g0 = kb0 / c.group;
  for (int64_t m = 0; m < mb; ++m) {
    const float *a = c.A + (m0 + m) * c.lda;
    float inv = 0.0f;
    int64_t g = -1;
    for (int64_t ch = 0; ch < dwords * 8; ++ch) {
      const int64_t k = kb0 + ch * 4;
      if (k / c.group != g) {
        g = k / c.group;
        float mx = k < c.K ? groupMaxSum(c, a, g) : 0.0f;
        scale[m * kGroups8Max + g - g0] = mx / 127.0f;
        inv = mx > 0.0f ? 127.0f / mx : 0.0f;
      }
      float x[4];
      for (int j = 0; j < 4; ++j)
        x[j] = k + j < c.K ? a[k + j] : 0.0f;
      const int64_t d = ch / 8, e = ch % 8;
      int8_t *t = tab + (m * dwords + d) * 128 + (e & 1) * 64 + (e >> 1) * 16;
#if SPARQ_LG_AVX512
      const __m512i bits = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      __m512 T = _mm512_setzero_ps();
      for (int j = 0; j < 4; ++j) {
        __mmask16 pos = _mm512_test_epi32_mask(bits, _mm512_set1_epi32(1 << j));
        __m512 xj = _mm512_set1_ps(x[j]);
        T = _mm512_add_ps(T, _mm512_mask_blend_ps(pos, _mm512_sub_ps(_mm512_setzero_ps(), xj), xj));
      }
      __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(T, _mm512_set1_ps(inv)));
      _mm_storeu_si128(reinterpret_cast<__m128i *>(t), _mm512_cvtsepi32_epi8(q));
#else
      for (int b = 0; b < 16; ++b) {
        float T = 0.0f;
        for (int j = 0; j < 4; ++j)
          T += ((b >> j) & 1) ? x[j] : -x[j];
        float v = T * inv;
        t[b] = int8_t(int32_t(roundEven(v)));
      }
#endif
    }
  }
}

#if !SPARQ_LG_AVX512
/// Portable: rows [n0, n1) of W against the K block's tables.
void portableRows8(const LG &c, const Tables8 &tb, int64_t m0, int64_t mb, int64_t kb0,
                   int64_t kb1, int64_t n0, int64_t n1, bool first, bool last) {
  const int64_t ke1 = kb1 < c.K ? kb1 : c.K;
  for (int64_t n = n0; n < n1; ++n) {
    float acc[kMaxRowsA];
    for (int64_t m = 0; m < mb; ++m)
      acc[m] = (first && !c.accumulate) ? 0.0f : c.C[(m0 + m) * c.ldc + n];
    const int64_t b = n / 16, r = n % 16;
    for (int64_t i = 0; i < c.q; ++i) {
      const uint8_t *blk = c.blockCodes(i, b);
      const float *sc = c.blockAlphas(i, b) + r;
      for (int64_t g = kb0 / c.group; g * c.group < ke1; ++g) {
        const int64_t ks = g * c.group > kb0 ? g * c.group : kb0;
        const int64_t ke = (g + 1) * c.group < ke1 ? (g + 1) * c.group : ke1;
        for (int64_t m = 0; m < mb; ++m) {
          int32_t sum = 0;
          for (int64_t k = ks; k < ke; k += 4) {
            const int64_t ch = (k - kb0) / 4, e = ch % 8;
            const int8_t *t = tb.tab + (m * tb.dwords + ch / 8) * 128 + (e & 1) * 64 +
                              (e >> 1) * 16;
            sum += t[(signByte(blk, r, k >> 3) >> (k & 4)) & 15u];
          }
          acc[m] += float(sum) * (sc[g * 16] * tb.scale[m * kGroups8Max + g - tb.g0]);
        }
      }
    }
    for (int64_t m = 0; m < mb; ++m) {
      float v = acc[m];
      if (last && c.relu && !(v > 0.0f))
        v = 0.0f;
      c.C[(m0 + m) * c.ldc + n] = v;
    }
  }
}

#endif

#if SPARQ_LG_AVX512
#define SPARQ_LG8_TARGET __attribute__((target("avx512vbmi,avx512vnni")))

/// Plane `i` of the 16-row block at nb against rows [m0, m0 + MB) of A over the K block's
/// tables, added to acc. The block's sign bits are one sequential stream of 64-byte vectors,
/// its alphas one 16-float vector per group (the interleaved layout, PackedFormats.h).
template <int MB>
SPARQ_LG8_TARGET __attribute__((noinline)) void plane16i8(const LG &c, const Tables8 &tb,
                                                           int64_t kb0, int64_t kb1, int64_t nb,
                                                           int64_t i, __m512 *accOut) {
  const uint8_t *codes = c.blockCodes(i, nb / 16);
  const float *alphas = c.blockAlphas(i, nb / 16);
  const __m512i lowNibble = _mm512_set1_epi8(0x0F);
  const __m512i half = _mm512_set1_epi32(0x30201000); // byte b of a dword: b * 16
  const __m512i ones = _mm512_set1_epi8(1);
  __m512 acc[MB];
  __m512i sum[MB];
  for (int m = 0; m < MB; ++m) {
    acc[m] = accOut[m];
    sum[m] = _mm512_setzero_si512();
  }
  const int64_t d1 = kb1 / 32;
  // Group boundaries by a running count (no division per dword).
  int64_t g = kb0 / c.group, left = c.group - (kb0 - g * c.group);
  for (int64_t d = kb0 / 32; d < d1; ++d) {
    const __m512i w = _mm512_loadu_si512(codes + d * 64);
    // Byte b of each row's dword: (w & 15) | b * 16 and ((w >> 4) & 15) | b * 16 ((a & b) | c:
    // 0xEA), indices into the two 64-byte halves of the dword's tables.
    const __m512i lo = _mm512_ternarylogic_epi32(w, lowNibble, half, 0xEA);
    const __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi32(w, 4), lowNibble, half, 0xEA);
    const int8_t *t = tb.tab + (d - kb0 / 32) * 128;
    for (int m = 0; m < MB; ++m) {
      const int8_t *tm = t + m * tb.dwords * 128;
      sum[m] = _mm512_dpbusd_epi32(sum[m], ones,
                                   _mm512_permutexvar_epi8(lo, _mm512_load_si512(tm)));
      sum[m] = _mm512_dpbusd_epi32(sum[m], ones,
                                   _mm512_permutexvar_epi8(hi, _mm512_load_si512(tm + 64)));
    }
    left -= 32;
    if (left == 0 || d + 1 == d1) {
      // The end of group g (or of the K block): scaled by alpha(rows, g) * s(m, g).
      const __m512 alpha = _mm512_loadu_ps(alphas + g * 16);
      for (int m = 0; m < MB; ++m) {
        __m512 sc = _mm512_mul_ps(alpha, _mm512_set1_ps(tb.scale[m * kGroups8Max + g - tb.g0]));
        acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[m]), sc, acc[m]);
        sum[m] = _mm512_setzero_si512();
      }
      if (left == 0) {
        ++g;
        left = c.group;
      }
    }
  }
  for (int m = 0; m < MB; ++m)
    accOut[m] = acc[m];
}

typedef void (*Plane8Fn)(const LG &, const Tables8 &, int64_t, int64_t, int64_t, int64_t,
                         __m512 *);

SPARQ_LG8_TARGET void fastRows8(const LG &c, const Tables8 &tb, int64_t m0, int64_t mb,
                                int64_t kb0, int64_t kb1, int64_t n0, int64_t n1, bool first,
                                bool last) {
  static constexpr Plane8Fn fns[4] = {plane16i8<1>, plane16i8<2>, plane16i8<3>, plane16i8<4>};
  rowBlocks16(c, m0, mb, n0, n1, first, last, [&](int64_t nb, __m512 *acc) {
    for (int64_t i = 0; i < c.q; ++i)
      fns[mb - 1](c, tb, kb0, kb1, nb, i, acc);
  });
}
#endif

/// Rows [n0, n1) of C (all M rows of A), int8 tables.
void lutRange8(const LG &c, int64_t n0, int64_t n1) {
  if (n0 >= n1)
    return;
  alignas(64) int8_t tab[kTab8Bytes];
  float scale[kMaxRowsA * kGroups8Max];
  forTableBlocks(c, kTab8Dwords * 32, [&](int64_t m0, int64_t mb, int64_t kb0, int64_t kb1,
                                          bool first, bool last) {
    buildTables8(c, m0, mb, kb0, kb1, tab, scale);
    const Tables8 tb{tab, (kb1 - kb0) / 32, scale, kb0 / c.group};
#if SPARQ_LG_AVX512
    fastRows8(c, tb, m0, mb, kb0, kb1, n0, n1, first, last);
#else
    portableRows8(c, tb, m0, mb, kb0, kb1, n0, n1, first, last);
#endif
  });
}

/// Sets up an int8-table call: the interleaved layout's sizes, and the group rule checked.
/// (No offsets or shared plane scales: the compiler does not give this kernel integer codes,
/// docs/codegen.md.)
bool setup8(LG &c, intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
            intptr_t scales, int64_t q, int64_t group, int64_t M, int64_t N, int64_t K,
            int64_t flags) {
  if (!setup(c, C, ldc, A, lda, codes, scales, /*offsets=*/0, q, group, M, N, K,
             flags & ~int64_t(SPARQ_UK_PLANE_SCALES)))
    return false;
  if (!dwordGroups(c))
    sparq_uk_check_failed("sparq_uk_lutgemm_i8_f32: the groups must be a multiple of 32 "
                          "positions or cover the whole row");
  return true;
}

/// `range` over rows [0, N), split over the pool's threads in whole 16-row blocks; small
/// problems on the calling thread.
void splitRows(const LG &c, void (*range)(const LG &, int64_t, int64_t)) {
  if (c.N < 64 || c.M * c.N * c.K * c.q < (int64_t(1) << 20))
    return range(c, 0, c.N);
  struct Job {
    const LG *c;
    void (*range)(const LG &, int64_t, int64_t);
  } job{&c, range};
  sparq_uk_parallel(
      [](void *ctx, int32_t tid, int32_t team) {
        const Job &j = *static_cast<const Job *>(ctx);
        int64_t per = ((j.c->N + team - 1) / team + 15) / 16 * 16;
        int64_t n0 = tid * per, n1 = n0 + per < j.c->N ? n0 + per : j.c->N;
        j.range(*j.c, n0, n1);
      },
      &job);
}

} // namespace

extern "C" {

void sparq_uk_lutgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                          intptr_t scales, intptr_t offsets, int64_t q, int64_t group, int64_t M,
                          int64_t N, int64_t K, int64_t flags) {
  LG c;
  if (setup(c, C, ldc, A, lda, codes, scales, offsets, q, group, M, N, K, flags))
    lutRange(c, 0, N);
}

void sparq_uk_lutgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                             intptr_t scales, intptr_t offsets, int64_t q, int64_t group,
                             int64_t M, int64_t N, int64_t K, int64_t flags) {
  LG c;
  if (setup(c, C, ldc, A, lda, codes, scales, offsets, q, group, M, N, K, flags))
    splitRows(c, lutRange);
}

void sparq_uk_lutgemm_i8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                             intptr_t scales, int64_t q, int64_t group, int64_t M, int64_t N,
                             int64_t K, int64_t flags) {
  LG c;
  if (setup8(c, C, ldc, A, lda, codes, scales, q, group, M, N, K, flags))
    lutRange8(c, 0, N);
}

void sparq_uk_lutgemm_i8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda,
                                intptr_t codes, intptr_t scales, int64_t q, int64_t group,
                                int64_t M, int64_t N, int64_t K, int64_t flags) {
  LG c;
  if (setup8(c, C, ldc, A, lda, codes, scales, q, group, M, N, K, flags))
    splitRows(c, lutRange8);
}

} // extern "C"
