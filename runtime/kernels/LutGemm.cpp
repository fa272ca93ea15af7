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

/// Planes [i0, i0 + P) of 16 rows (mask rm) at nb, rows [m0, m0 + MB) of A, k in [kb0, kb1)
/// (multiples of 32; group a multiple of 32), added to acc.
template <int P, int MB>
__attribute__((noinline)) void pass16(const LG &c, const float *tab, int64_t kb0, int64_t kb1,
                                      int64_t nb, __mmask16 rm, int64_t i0, __m512 *accOut) {
  const int64_t chunks = (kb1 - kb0) / 4;
  const int64_t fullDw = c.rowBytes / 4; // dwords wholly inside a row
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i ridx = _mm512_mullo_epi32(iota, _mm512_set1_epi32(int32_t(c.rowBytes)));
  const __m512i sidx = _mm512_mullo_epi32(iota, _mm512_set1_epi32(int32_t(c.groups)));
  const __m512i zero = _mm512_setzero_si512();
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
        for (int i = 0; i < 16; ++i)
          r[i] = _mm512_maskz_loadu_epi32(__mmask16((rm >> i) & 1 ? 0xffff : 0),
                                          base[p] + i * c.rowBytes + d * 4);
        transpose16(r);
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
      __m512i w;
      if (d < fullDw) {
        w = _mm512_mask_i32gather_epi32(zero, rm, ridx, base[p] + d * 4, 1);
      } else {
        // The row's last bytes (fewer than 4): assembled without reading past the row.
        alignas(64) uint32_t tmp[16];
        for (int r = 0; r < 16; ++r) {
          uint32_t v = 0;
          if ((rm >> r) & 1)
            for (int64_t b = d * 4; b < c.rowBytes; ++b)
              v |= uint32_t(base[p][r * c.rowBytes + b]) << (8 * (b - d * 4));
          tmp[r] = v;
        }
        w = _mm512_load_si512(tmp);
      }
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

void fastRows(const LG &c, const float *tab, int64_t m0, int64_t mb, int64_t kb0, int64_t kb1,
              int64_t n0, int64_t n1, bool first, bool last) {
  for (int64_t nb = n0; nb < n1; nb += 16) {
    int64_t rows = n1 - nb < 16 ? n1 - nb : 16;
    __mmask16 rm = __mmask16((1u << rows) - 1u);
    __m512 acc[kMaxRowsA];
    for (int64_t m = 0; m < mb; ++m)
      acc[m] = (first && !c.accumulate) ? _mm512_setzero_ps()
                                        : _mm512_maskz_loadu_ps(rm, c.C + (m0 + m) * c.ldc + nb);
    // Passes of at most 4 planes (q = 5..8: two passes).
    for (int64_t i0 = 0; i0 < c.q;) {
      int64_t P = c.q - i0 > 4 ? (c.q - i0 + 1) / 2 : c.q - i0;
      if (P > 4)
        P = 4;
      passFn(P, mb)(c, tab, kb0, kb1, nb, rm, i0, acc);
      i0 += P;
    }
    for (int64_t m = 0; m < mb; ++m) {
      __m512 v = acc[m];
      if (last && c.relu)
        v = _mm512_max_ps(v, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(c.C + (m0 + m) * c.ldc + nb, rm, v);
    }
  }
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

} // extern "C"
