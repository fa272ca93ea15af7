//===- runtime/kernels/LutGemm.cpp - lookup-table GEMM on binary-coded weights ---===//
//
// C (+)= A * Wᵀ with W (N x K) binary-coded as sparq_shiftadd packs it (docs/packed-formats.md,
// include/sparq/Formats/PackedFormats.h bcqPackRow): W = Σ_{i<q} α_i ⊙ B_i, plane i row n at
// codes + (i*N + n) * rowBytes (bit k%8 of byte k/8: 1 = +1, 0 = -1), α_i(n, g) at
// scales[(i*N + n) * groups + g], g = k / group. The packed bytes are read as they are.
//
// The lookup-table product (LUT-GEMM / ShiftAddLLM / T-MAC): for each chunk of 4 activations
// x_0..x_3 of a row of A, the 16 signed partial sums T[b] = Σ_j (bit j of b ? +x_j : -x_j) are
// computed once per call (per K block, see below) and shared by every row and plane of W; a
// nibble of a plane row is then the index of its chunk's contribution. Lookups are summed per
// group and plane, and each group sum is scaled by α once. Activations past K are 0 in the
// tables, so the padding bits (0, i.e. -1) contribute nothing. The tables are exact fp32 sums.
//
//   - AVX-512 (v16 built with __AVX512F__), groups that are a multiple of 32: 16 rows of W at a
//     time; one dword (32 weights, 8 chunks) of each of the 16 rows is gathered into a vector,
//     and for each of its 8 nibbles a vpermps (which reads only the low 4 bits of each lane)
//     looks the 16 rows' chunk contributions up in the chunk's 16-float table held in one
//     register. Up to 4 rows of A (the same gathered indices) and up to 4 planes per pass.
//   - otherwise (v8, other groups): the same tables, one row of W and one nibble at a time;
//     chunks that straddle a group boundary (groups not a multiple of 4) are summed weight by
//     weight.
//
// The tables of up to 4 rows of A take at most 32 KiB on the stack: K is processed in blocks
// (a multiple of 32) whose partial results go through C. M > 4 runs blocks of 4 rows of A.
// Freestanding: no allocation, no libc, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#if SPARQ_UK_VLEN == 16 && defined(__AVX512F__)
#include <immintrin.h>
#define SPARQ_LG_AVX512 1
#else
#define SPARQ_LG_AVX512 0
#endif

#define SPARQ_LG_INLINE inline __attribute__((always_inline))
#define SPARQ_LG_INLINE_LAMBDA __attribute__((always_inline))

namespace {

constexpr int64_t kMaxRowsA = 4;       // rows of A per table set
constexpr int64_t kTabFloats = 8192;   // 32 KiB of tables: M block * K block / 4 * 16 floats
constexpr int64_t kKBlockMax = kTabFloats / 4; // k values of tables for one row of A

struct LG {
  float *C;
  int64_t ldc;
  const float *A;
  int64_t lda;
  const uint8_t *codes;
  int64_t rowBytes;
  const float *scales;
  int64_t q, group, groups, M, N, K;
  bool accumulate, relu;
  int64_t blocks = 0, dwords = 0; ///< int8-table kernel: 16-row blocks, dwords of K
};

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

SPARQ_LG_INLINE float signedX(const uint8_t *row, const float *a, int64_t k) {
  return ((row[k >> 3] >> (k & 7)) & 1u) ? a[k] : -a[k];
}

/// Portable: rows [n0, n1) of W against rows [m0, m0 + mb) of A over k in [kb0, kb1).
void portableRows(const LG &c, const float *tab, int64_t m0, int64_t mb, int64_t kb0,
                  int64_t kb1, int64_t n0, int64_t n1, bool first, bool last) {
  const int64_t chunks = (kb1 - kb0) / 4;
  const int64_t ke1 = kb1 < c.K ? kb1 : c.K;
  for (int64_t n = n0; n < n1; ++n) {
    float acc[kMaxRowsA];
    for (int64_t m = 0; m < mb; ++m)
      acc[m] = (first && !c.accumulate) ? 0.0f : c.C[(m0 + m) * c.ldc + n];
    for (int64_t i = 0; i < c.q; ++i) {
      const uint8_t *row = c.codes + (i * c.N + n) * c.rowBytes;
      const float *sc = c.scales + (i * c.N + n) * c.groups;
      for (int64_t g = kb0 / c.group; g * c.group < ke1; ++g) {
        int64_t ks = g * c.group > kb0 ? g * c.group : kb0;
        int64_t ke = (g + 1) * c.group < ke1 ? (g + 1) * c.group : ke1;
        float gs[kMaxRowsA];
        for (int64_t m = 0; m < mb; ++m)
          gs[m] = 0.0f;
        int64_t k = ks;
        for (; k < ke && (k & 3); ++k)
          for (int64_t m = 0; m < mb; ++m)
            gs[m] += signedX(row, c.A + (m0 + m) * c.lda, k);
        for (; k + 4 <= ke; k += 4) {
          unsigned nib = (row[k >> 3] >> (k & 4)) & 15u;
          const float *t = tab + ((k - kb0) >> 2) * 16 + nib;
          for (int64_t m = 0; m < mb; ++m)
            gs[m] += t[m * chunks * 16];
        }
        for (; k < ke; ++k)
          for (int64_t m = 0; m < mb; ++m)
            gs[m] += signedX(row, c.A + (m0 + m) * c.lda, k);
        for (int64_t m = 0; m < mb; ++m)
          acc[m] += sc[g] * gs[m];
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

#if SPARQ_LG_AVX512
/// Transposes 16 x 16 dwords: r[i] lane j becomes r[j] lane i.
SPARQ_LG_INLINE void transpose16(__m512i *r) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  // r[4i + j], 128-bit lane L: rows 4i..4i+3 of column 4L + j.
  for (int j = 0; j < 4; ++j) {
    __m512i u0 = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x44);
    __m512i u1 = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xEE);
    __m512i v0 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x44);
    __m512i v1 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xEE);
    t[j] = _mm512_shuffle_i32x4(u0, v0, 0x88);
    t[4 + j] = _mm512_shuffle_i32x4(u0, v0, 0xDD);
    t[8 + j] = _mm512_shuffle_i32x4(u1, v1, 0x88);
    t[12 + j] = _mm512_shuffle_i32x4(u1, v1, 0xDD);
  }
  for (int i = 0; i < 16; ++i)
    r[i] = t[i];
}

/// Lane r: r * stride.
SPARQ_LG_INLINE __m512i laneStrides(int64_t stride) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm512_mullo_epi32(iota, _mm512_set1_epi32(int32_t(stride)));
}

/// Dword d (bytes 4d..4d+3: weights 32d..32d+31) of the 16 rows of a plane at `base` (rows
/// rowBytes apart, lanes outside `rm` zero); `ridx` = laneStrides(rowBytes).
SPARQ_LG_INLINE __m512i loadDword(const LG &c, const uint8_t *base, int64_t d, __mmask16 rm,
                                  __m512i ridx) {
  if (d < c.rowBytes / 4) // wholly inside a row
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rm, ridx, base + d * 4, 1);
  // The row's last bytes (fewer than 4): assembled without reading past the row.
  alignas(64) uint32_t tmp[16];
  for (int r = 0; r < 16; ++r) {
    uint32_t v = 0;
    if ((rm >> r) & 1)
      for (int64_t b = d * 4; b < c.rowBytes; ++b)
        v |= uint32_t(base[r * c.rowBytes + b]) << (8 * (b - d * 4));
    tmp[r] = v;
  }
  return _mm512_load_si512(tmp);
}

/// Loads dwords d..d+15 of the 16 rows at `base` (mask rm) transposed: r[j] lane i is row i's
/// dword d + j. Needs (d + 16) * 4 <= rowBytes.
SPARQ_LG_INLINE void loadBlock16(const LG &c, const uint8_t *base, int64_t d, __mmask16 rm,
                                 __m512i *r) {
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_maskz_loadu_epi32(__mmask16((rm >> i) & 1 ? 0xffff : 0),
                                    base + i * c.rowBytes + d * 4);
  transpose16(r);
}

/// Planes [i0, i0 + P) of 16 rows (mask rm) at nb, rows [m0, m0 + MB) of A, k in [kb0, kb1)
/// (multiples of 32; group a multiple of 32), added to acc.
template <int P, int MB>
__attribute__((noinline)) void pass16(const LG &c, const float *tab, int64_t kb0, int64_t kb1,
                                      int64_t nb, __mmask16 rm, int64_t i0, __m512 *accOut) {
  const int64_t chunks = (kb1 - kb0) / 4;
  const __m512i ridx = laneStrides(c.rowBytes);
  const __m512i sidx = laneStrides(c.groups);
  const uint8_t *base[P];
  const float *sbase[P];
  for (int p = 0; p < P; ++p) {
    base[p] = c.codes + ((i0 + p) * c.N + nb) * c.rowBytes;
    sbase[p] = c.scales + ((i0 + p) * c.N + nb) * c.groups;
  }
  __m512 acc[MB];
  for (int m = 0; m < MB; ++m)
    acc[m] = accOut[m];
  __m512 ga[P][MB];
  for (int p = 0; p < P; ++p)
    for (int m = 0; m < MB; ++m)
      ga[p][m] = _mm512_setzero_ps();
  // Adds the lookups of dword d (8 chunks, k = 32d..32d+31) of plane p's 16 rows (w) to
  // ga[p]; at the end of a group (or of the K block) scales them by the group's alphas.
  auto step = [&](int p, int64_t d, __m512i w, __m512 *gp, bool flush,
                  int64_t g) SPARQ_LG_INLINE_LAMBDA {
    const float *t = tab + ((d * 32 - kb0) / 4) * 16;
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
      gp[m] = _mm512_add_ps(gp[m], _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    }
    if (flush) {
      __m512 alpha = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rm, sidx, sbase[p] + g, 4);
      for (int m = 0; m < MB; ++m) {
        acc[m] = _mm512_fmadd_ps(alpha, gp[m], acc[m]);
        gp[m] = _mm512_setzero_ps();
      }
    }
  };
  const int64_t d1 = kb1 / 32;
  for (int64_t d = kb0 / 32; d < d1;) {
    if (d % 16 == 0 && d + 16 <= d1 && (d + 16) * 4 <= c.rowBytes) {
      // 16 dwords of each of the 16 rows: loaded and transposed in registers.
      for (int p = 0; p < P; ++p) {
        __m512i r[16];
        loadBlock16(c, base[p], d, rm, r);
        __m512 gp[MB];
        for (int m = 0; m < MB; ++m)
          gp[m] = ga[p][m];
        // Group boundaries by a running count (no division per dword).
        int64_t g = d * 32 / c.group, left = c.group - (d * 32 - g * c.group);
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j) {
          left -= 32;
          step(p, d + j, r[j], gp, left == 0 || d + j + 1 == d1, g);
          if (left == 0) {
            ++g;
            left = c.group;
          }
        }
        for (int m = 0; m < MB; ++m)
          ga[p][m] = gp[m];
      }
      d += 16;
      continue;
    }
    for (int p = 0; p < P; ++p) {
      __m512i w = loadDword(c, base[p], d, rm, ridx);
      const int64_t kn = d * 32 + 32;
      step(p, d, w, ga[p], kn % c.group == 0 || kn == kb1, d * 32 / c.group);
    }
    ++d;
  }
  for (int m = 0; m < MB; ++m)
    accOut[m] = acc[m];
}

typedef void (*PassFn)(const LG &, const float *, int64_t, int64_t, int64_t, __mmask16, int64_t,
                       __m512 *);

PassFn passFn(int64_t P, int64_t MB) {
  static constexpr PassFn fns[4][4] = {
      {pass16<1, 1>, pass16<1, 2>, pass16<1, 3>, pass16<1, 4>},
      {pass16<2, 1>, pass16<2, 2>, pass16<2, 3>, pass16<2, 4>},
      {pass16<3, 1>, pass16<3, 2>, pass16<3, 3>, pass16<3, 4>},
      {pass16<4, 1>, pass16<4, 2>, pass16<4, 3>, pass16<4, 4>}};
  return fns[P - 1][MB - 1];
}

/// For each block of 16 rows of W in [n0, n1): the accumulators of rows [m0, m0 + mb) of C
/// (zero on the first K block unless accumulating), `planes(nb, rm, acc)` adding the block's
/// products, ReLU on the last K block, the store.
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
    planes(nb, rm, acc);
    for (int64_t m = 0; m < mb; ++m) {
      __m512 v = acc[m];
      if (last && c.relu)
        v = _mm512_max_ps(v, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(c.C + (m0 + m) * c.ldc + nb, rm, v);
    }
  }
}

void fastRows(const LG &c, const float *tab, int64_t m0, int64_t mb, int64_t kb0, int64_t kb1,
              int64_t n0, int64_t n1, bool first, bool last) {
  rowBlocks16(c, m0, mb, n0, n1, first, last, [&](int64_t nb, __mmask16 rm, __m512 *acc) {
    // Passes of at most 4 planes (q = 5..8: two passes).
    for (int64_t i0 = 0; i0 < c.q;) {
      int64_t P = c.q - i0 > 4 ? (c.q - i0 + 1) / 2 : c.q - i0;
      if (P > 4)
        P = 4;
      passFn(P, mb)(c, tab, kb0, kb1, nb, rm, i0, acc);
      i0 += P;
    }
  });
}
#endif

/// Rows [n0, n1) of C (all M rows of A).
void lutRange(const LG &c, int64_t n0, int64_t n1) {
  if (n0 >= n1)
    return;
#if SPARQ_LG_AVX512
  const bool fast = c.group % 32 == 0;
#else
  const bool fast = false;
#endif
  alignas(64) float tab[kTabFloats];
  const int64_t kPad = (c.K + 31) / 32 * 32;
  for (int64_t m0 = 0; m0 < c.M; m0 += kMaxRowsA) {
    const int64_t mb = c.M - m0 < kMaxRowsA ? c.M - m0 : kMaxRowsA;
    const int64_t kb = kKBlockMax / mb / 32 * 32;
    for (int64_t kb0 = 0; kb0 < kPad; kb0 += kb) {
      const int64_t kb1 = kb0 + kb < kPad ? kb0 + kb : kPad;
      buildTables(c, m0, mb, kb0, kb1, tab);
      const bool first = kb0 == 0, last = kb1 == kPad;
#if SPARQ_LG_AVX512
      if (fast) {
        fastRows(c, tab, m0, mb, kb0, kb1, n0, n1, first, last);
        continue;
      }
#endif
      (void)fast;
      portableRows(c, tab, m0, mb, kb0, kb1, n0, n1, first, last);
    }
  }
}

bool setup(LG &c, intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
           int64_t rowBytes, intptr_t scales, int64_t q, int64_t group, int64_t M, int64_t N,
           int64_t K, int64_t flags) {
  if (M <= 0 || N <= 0)
    return false;
  c.C = reinterpret_cast<float *>(C);
  c.ldc = ldc;
  c.A = reinterpret_cast<const float *>(A);
  c.lda = lda;
  c.codes = reinterpret_cast<const uint8_t *>(codes);
  c.rowBytes = rowBytes;
  c.scales = reinterpret_cast<const float *>(scales);
  c.q = q < 0 ? 0 : q;
  c.group = group > 0 ? group : (K > 0 ? K : 1);
  c.K = K < 0 ? 0 : K;
  c.groups = (c.K + c.group - 1) / c.group;
  c.M = M;
  c.N = N;
  c.accumulate = (flags & SPARQ_UK_ACCUMULATE) != 0;
  c.relu = (flags & SPARQ_UK_RELU) != 0;
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
      // The interleaved layout (PackedFormats.h): row r's bytes of dword d at d * 64 + 4r.
      const uint8_t *row = c.codes + (i * c.blocks + b) * c.dwords * 64 + 4 * r;
      const float *sc = c.scales + (i * c.blocks + b) * c.groups * 16 + r;
      for (int64_t g = kb0 / c.group; g * c.group < ke1; ++g) {
        const int64_t ks = g * c.group > kb0 ? g * c.group : kb0;
        const int64_t ke = (g + 1) * c.group < ke1 ? (g + 1) * c.group : ke1;
        for (int64_t m = 0; m < mb; ++m) {
          int32_t sum = 0;
          for (int64_t k = ks; k < ke; k += 4) {
            const int64_t ch = (k - kb0) / 4, e = ch % 8;
            const int8_t *t = tb.tab + (m * tb.dwords + ch / 8) * 128 + (e & 1) * 64 +
                              (e >> 1) * 16;
            sum += t[(row[(k >> 5) * 64 + ((k >> 3) & 3)] >> (k & 4)) & 15u];
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
  const uint8_t *codes = c.codes + (i * c.blocks + nb / 16) * c.dwords * 64;
  const float *alphas = c.scales + (i * c.blocks + nb / 16) * c.groups * 16;
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
  rowBlocks16(c, m0, mb, n0, n1, first, last, [&](int64_t nb, __mmask16, __m512 *acc) {
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
  const int64_t kPad = (c.K + 31) / 32 * 32;
  for (int64_t m0 = 0; m0 < c.M; m0 += kMaxRowsA) {
    const int64_t mb = c.M - m0 < kMaxRowsA ? c.M - m0 : kMaxRowsA;
    const int64_t kb = kTab8Dwords / mb * 32;
    for (int64_t kb0 = 0; kb0 < kPad; kb0 += kb) {
      const int64_t kb1 = kb0 + kb < kPad ? kb0 + kb : kPad;
      buildTables8(c, m0, mb, kb0, kb1, tab, scale);
      const Tables8 tb{tab, (kb1 - kb0) / 32, scale, kb0 / c.group};
      const bool first = kb0 == 0, last = kb1 == kPad;
#if SPARQ_LG_AVX512
      fastRows8(c, tb, m0, mb, kb0, kb1, n0, n1, first, last);
#else
      portableRows8(c, tb, m0, mb, kb0, kb1, n0, n1, first, last);
#endif
    }
  }
}

/// The int8-table kernel applies: groups a multiple of 32, or one group per row.
bool int8Tables(const LG &c) { return c.group % 32 == 0 || c.groups == 1; }

/// Sets up an int8-table call: the interleaved layout's sizes, and the group rule checked.
bool setup8(LG &c, intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
            intptr_t scales, int64_t q, int64_t group, int64_t M, int64_t N, int64_t K,
            int64_t flags) {
  if (!setup(c, C, ldc, A, lda, codes, 0, scales, q, group, M, N, K, flags))
    return false;
  if (!int8Tables(c))
    sparq_uk_check_failed("sparq_uk_lutgemm_i8_f32: the groups must be a multiple of 32 "
                          "positions or cover the whole row");
  c.blocks = (N + 15) / 16;
  c.dwords = (c.K + 31) / 32;
  return true;
}

} // namespace

extern "C" {

void sparq_uk_lutgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                          int64_t rowBytes, intptr_t scales, int64_t q, int64_t group, int64_t M,
                          int64_t N, int64_t K, int64_t flags) {
  LG c;
  if (!setup(c, C, ldc, A, lda, codes, rowBytes, scales, q, group, M, N, K, flags))
    return;
  lutRange(c, 0, N);
}

void sparq_uk_lutgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t codes,
                             int64_t rowBytes, intptr_t scales, int64_t q, int64_t group,
                             int64_t M, int64_t N, int64_t K, int64_t flags) {
  LG c;
  if (!setup(c, C, ldc, A, lda, codes, rowBytes, scales, q, group, M, N, K, flags))
    return;
  if (N < 64 || M * N * K * q < (int64_t(1) << 20))
    return lutRange(c, 0, N);
  sparq_uk_parallel(
      [](void *ctx, int32_t tid, int32_t team) {
        const LG &g = *static_cast<const LG *>(ctx);
        // Rows of W in multiples of 16 (whole row blocks of the AVX-512 path).
        int64_t per = ((g.N + team - 1) / team + 15) / 16 * 16;
        int64_t n0 = tid * per, n1 = n0 + per < g.N ? n0 + per : g.N;
        lutRange(g, n0, n1);
      },
      &c);
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
  if (!setup8(c, C, ldc, A, lda, codes, scales, q, group, M, N, K, flags))
    return;
  if (N < 64 || M * N * K * q < (int64_t(1) << 20))
    return lutRange8(c, 0, N);
  sparq_uk_parallel(
      [](void *ctx, int32_t tid, int32_t team) {
        const LG &g = *static_cast<const LG *>(ctx);
        // Whole 16-row blocks per thread.
        int64_t per = ((g.N + team - 1) / team + 15) / 16 * 16;
        int64_t n0 = tid * per, n1 = n0 + per < g.N ? n0 + per : g.N;
        lutRange8(g, n0, n1);
      },
      &c);
}

} // extern "C"
