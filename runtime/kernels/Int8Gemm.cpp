//===- runtime/kernels/Int8Gemm.cpp - int8 x int8 GEMM on VNNI dot products -===//
//
// sparq_uk_igemm_s8_f32(_mt): the exact integer product of an ONNX MatMulInteger (int8
// activations against a constant int8 weight with one zero point per output row), with the
// weight laid out at compile time as int8 dot-product panels (include/sparq/Formats/
// PackedFormats.h, int8PackPanels):
//
//   C[m][n] (+)= scale[n] * sum_k A[m][k] * (w[n][k] - z[n])
//
// vpdpbusd multiplies unsigned by signed bytes, so the activations enter as u = A + 128 (A's
// sign bit flipped, once per call into a buffer that also sums each row), and
//   sum_k A (w - z) = sum_k u w - z sum_k u + t[n],   t[n] = 128 (K z[n] - sum_k w[n][k])
// with t[n] a constant the caller passes. Every sum is an int32 (exact modulo 2^32); the float
// conversion is exact while |result| < 2^24.
//
// The register tile: MR <= 8 rows of A by two panels (32 rows of w): 16 int32 accumulators,
// per dword of K two panel vectors loaded and each row's 4 activations broadcast from memory
// (embedded in the vpdpbusd). N is in the lanes, so nothing is summed across lanes: the tile is
// converted, scaled and stored as it is. The portable build (and the builds without VNNI, which
// sparq-compile never selects this kernel for: --cpu without AVX-512 VNNI) computes the same
// sums with plain vector code. K is at most SPARQ_UK_IGEMM_MAX_K (the activation buffer is on the
// stack); larger K and other layouts use sparq_uk_qgemm_s8_f32.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "QCall.h"
#include "Tile.h"

#if SPARQ_UK_VLEN == 16 && defined(__AVX512VNNI__)
#include <immintrin.h>
#define SPARQ_IGEMM_VNNI 1
#else
#define SPARQ_IGEMM_VNNI 0
#endif

namespace {

using namespace sparq::kernels;

constexpr int MR = 8;            // rows of A per tile
constexpr int PANEL = 16;        // rows of w per panel (int8PackPanels)
constexpr int64_t MAXK = SPARQ_UK_IGEMM_MAX_K;
constexpr int64_t UBYTES = 128 << 10; // the activation buffer: 32 rows of the longest K or more
constexpr int64_t PASS_ROWS = 512;    // rows of A per pass, at most

typedef int32_t v16i __attribute__((vector_size(64)));
typedef float v16f __attribute__((vector_size(64)));

struct Args {
  float *C;
  int64_t ldc;
  const int8_t *panels;
  const int32_t *zeros, *terms;
  const float *scales;
  int64_t N, dwords;
  bool accumulate, relu;
  // The rows of A of one pass: u = A + 128 (row m at u + m * ku, zero past K), each row's sum
  // of u, cut into `blocks` blocks of at most MR rows, equal to within one.
  const uint8_t *u;
  int64_t ku;
  const int32_t *rowSums;
  int64_t rows, blocks;
};

/// acc[m][j] += dot of row m's 4 activations at dword d with panel j's vector d, for dwords
/// [0, dwords).
template <int M>
SPARQ_UK_INLINE void dots(const Args &a, const uint8_t *u, const int8_t *p0, const int8_t *p1,
                          bool two, v16i (&acc)[M][2]) {
  const int64_t dw = a.dwords;
#if SPARQ_IGEMM_VNNI
  for (int64_t d = 0; d < dw; ++d) {
    const __m512i b0 = _mm512_loadu_si512(p0 + d * 64);
    const __m512i b1 = two ? _mm512_loadu_si512(p1 + d * 64) : _mm512_setzero_si512();
    for (int m = 0; m < M; ++m) {
      int32_t x;
      __builtin_memcpy(&x, u + m * a.ku + 4 * d, 4);
      const __m512i bx = _mm512_set1_epi32(x);
      acc[m][0] = (v16i)_mm512_dpbusd_epi32((__m512i)acc[m][0], bx, b0);
      acc[m][1] = (v16i)_mm512_dpbusd_epi32((__m512i)acc[m][1], bx, b1);
    }
  }
#else
  for (int64_t d = 0; d < dw; ++d)
    for (int j = 0; j < 2; ++j) {
      if (j == 1 && !two)
        break;
      const int8_t *b = (j == 0 ? p0 : p1) + d * 64;
      for (int m = 0; m < M; ++m)
        for (int q = 0; q < 4; ++q) {
          const int32_t x = u[m * a.ku + 4 * d + q];
          for (int l = 0; l < PANEL; ++l)
            acc[m][j][l] += x * int32_t(b[4 * l + q]);
        }
    }
#endif
}

/// Rows [m0, m0 + M) of the pass against panels [p, p + 2) (or p alone).
template <int M> __attribute__((noinline)) void tile(const Args &a, int64_t m0, int64_t p) {
  const int64_t n0 = p * PANEL;
  const bool two = n0 + PANEL < a.N;
  const int8_t *p0 = a.panels + p * a.dwords * 64;
  const int8_t *p1 = two ? p0 + a.dwords * 64 : p0;
  v16i acc[M][2];
  for (int m = 0; m < M; ++m)
    acc[m][0] = acc[m][1] = v16i{};
  dots<M>(a, a.u + m0 * a.ku, p0, p1, two, acc);
  for (int j = 0; j < (two ? 2 : 1); ++j) {
    const int64_t n = n0 + j * PANEL;
    const int valid = a.N - n < PANEL ? int(a.N - n) : PANEL;
    v16i z, t;
    v16f s;
    for (int l = 0; l < PANEL; ++l) {
      const bool in = l < valid;
      z[l] = in ? a.zeros[n + l] : 0;
      t[l] = in ? a.terms[n + l] : 0;
      s[l] = in ? a.scales[n + l] : 0.0f;
    }
    for (int m = 0; m < M; ++m) {
      const v16i r = acc[m][j] - z * a.rowSums[m0 + m] + t;
      v16f y = __builtin_convertvector(r, v16f) * s;
      float *c = a.C + (m0 + m) * a.ldc + n;
      for (int l = 0; l < valid; ++l)
        storeChunkSum(c + l, y[l], /*first=*/true, /*last=*/true, a.accumulate, a.relu);
    }
  }
}

/// Tiles [begin, end) of the pass: tile i is row block i % blocks against the pair of panels
/// i / blocks (consecutive tiles share their panels).
void tiles(const Args &a, int64_t begin, int64_t end) {
  const int64_t base = a.rows / a.blocks, extra = a.rows % a.blocks;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t b = i % a.blocks, p = 2 * (i / a.blocks);
    const int64_t m0 = b * base + (b < extra ? b : extra);
    switch (base + (b < extra ? 1 : 0)) {
    case 1: tile<1>(a, m0, p); break;
    case 2: tile<2>(a, m0, p); break;
    case 3: tile<3>(a, m0, p); break;
    case 4: tile<4>(a, m0, p); break;
    case 5: tile<5>(a, m0, p); break;
    case 6: tile<6>(a, m0, p); break;
    case 7: tile<7>(a, m0, p); break;
    default: tile<8>(a, m0, p); break;
    }
  }
}

void run(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda, intptr_t panelAddr,
         intptr_t zeroAddr, intptr_t termAddr, intptr_t scaleAddr, int64_t M, int64_t N,
         int64_t K, int64_t flags, bool parallel) {
  float *C = reinterpret_cast<float *>(cAddr);
  const int8_t *A = reinterpret_cast<const int8_t *>(aAddr);
  if (M <= 0 || N <= 0)
    return;
  if (K > MAXK)
    sparq_uk_check_failed("sparq_uk_igemm_s8_f32: K is larger than SPARQ_UK_IGEMM_MAX_K (4096)");
  Args a;
  a.C = C;
  a.ldc = ldc;
  a.panels = reinterpret_cast<const int8_t *>(panelAddr);
  a.zeros = reinterpret_cast<const int32_t *>(zeroAddr);
  a.terms = reinterpret_cast<const int32_t *>(termAddr);
  a.scales = reinterpret_cast<const float *>(scaleAddr);
  a.N = N;
  a.dwords = (K + 3) / 4;
  a.accumulate = flags & SPARQ_UK_ACCUMULATE;
  a.relu = flags & SPARQ_UK_RELU;
  // Passes over as many rows of A as the buffer holds (32 to PASS_ROWS), each one parallel
  // region over its tiles.
  alignas(64) uint8_t u[UBYTES];
  a.ku = 4 * a.dwords;
  const int64_t fit = UBYTES / (a.ku > 4 ? a.ku : 4) / MR * MR;
  const int64_t passRows = fit < PASS_ROWS ? fit : PASS_ROWS;
  int32_t sums[PASS_ROWS];
  const int64_t pairs = ((N + PANEL - 1) / PANEL + 1) / 2;
  for (int64_t m0 = 0; m0 < M; m0 += passRows) {
    a.rows = M - m0 < passRows ? M - m0 : passRows;
    a.blocks = (a.rows + MR - 1) / MR;
    for (int64_t m = 0; m < a.rows; ++m) {
      const int8_t *x = A + (m0 + m) * lda;
      uint8_t *y = u + m * a.ku;
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) {
        y[k] = uint8_t(x[k]) ^ 0x80;
        s += y[k];
      }
      for (int64_t k = K; k < a.ku; ++k)
        y[k] = 0;
      sums[m] = s;
    }
    a.C = C + m0 * ldc;
    a.u = u;
    a.rowSums = sums;
    const int64_t n = a.blocks * pairs;
    if (parallel)
      sparq_uk_parallel_chunks(
          [](void *ctx, int64_t b, int64_t e) { tiles(*static_cast<const Args *>(ctx), b, e); },
          &a, n, a.blocks);
    else
      tiles(a, 0, n);
  }
}

} // namespace

extern "C" {

void sparq_uk_igemm_s8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t panels,
                           intptr_t zeros, intptr_t terms, intptr_t scales, int64_t M, int64_t N,
                           int64_t K, int64_t flags) {
  run(C, ldc, A, lda, panels, zeros, terms, scales, M, N, K, flags, false);
}

void sparq_uk_igemm_s8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t panels,
                              intptr_t zeros, intptr_t terms, intptr_t scales, int64_t M,
                              int64_t N, int64_t K, int64_t flags) {
  run(C, ldc, A, lda, panels, zeros, terms, scales, M, N, K, flags, !smallProblem(M, N, K));
}

} // extern "C"
