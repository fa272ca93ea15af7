//===- runtime/kernels/Gemm.cpp - dense f32 GEMM/GEMV on panel-packed weights ---===//
//
// C (+)= A * B with B packed at compile time into panels of NR columns
// (include/sparq/Formats/DensePanels.h). The register tile is MR rows x NR columns, NR = two
// vector registers; accumulators stay in registers for a whole K block:
//   - M <= 4 (GEMV and small batches): each panel is streamed once, front to back, with the
//     reduction unrolled over independent accumulator sets so the loads, not the FMA latency,
//     bound the speed (a bandwidth-bound loop), and the stream prefetched 1 KiB ahead;
//   - larger M: K is split into blocks of KC so a KC x NR slice of the panel stays in L1 while
//     every MR-row block of A (M x KC in L2) passes over it.
//
// Built twice from this source (runtime/kernels/CMakeLists.txt): SPARQ_UK_VLEN=16 (AVX-512,
// 32 vector registers: 8 x 32 tiles) and SPARQ_UK_VLEN=8 (AVX2/FMA, 16 registers: 6 x 16 tiles).
// Written with GCC/Clang vector extensions, so the same code is also the portable fallback;
// `a * b + c` inside one expression is contracted to an FMA where the target has one.
// Freestanding: no allocation, no libc, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "Tile.h"

namespace {

using namespace sparq::kernels;

/// How far ahead (floats) the GEMV's weight stream is prefetched: 1 KiB. One stream per thread
/// left the hardware prefetchers too few misses in flight when the weights come from DRAM:
/// gemv 4096 x 4096 `sparq-run --cold` 4.36-4.39 -> 3.90-3.97 ms at 1 thread, 2.36 -> 2.04-2.06
/// ms at 2 (2 KiB: 4.05 / 2.09-2.11, 4 KiB: 4.59-4.64 / 2.32-2.42; warm unchanged; AMX Xeon VM).
constexpr int64_t kGemvPrefetch = 256;

/// One MR' x NR tile over kc reduction steps. KU independent accumulator sets split the
/// reduction (k, k+1, ... mod KU) to keep more FMAs in flight when the tile has few rows.
template <int R, int KU>
SPARQ_UK_INLINE void tile(float *C, int64_t ldc, const float *A, int64_t lda, const float *B,
                          int64_t kc, int64_t ncols, bool loadC, bool applyRelu) {
  vf acc[KU][R][NV];
  for (int u = 0; u < KU; ++u)
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < NV; ++j)
        acc[u][r][j] = splat(0.0f);
  int64_t k = 0;
  for (; k + KU <= kc; k += KU) {
    for (int u = 0; u < KU; ++u) {
      const float *b = B + (k + u) * NR;
      for (int j = 0; j < NR; j += 16)
        __builtin_prefetch(b + kGemvPrefetch + j, 0, 3);
      vf bv[NV];
      for (int j = 0; j < NV; ++j)
        bv[j] = load(b + j * V);
      for (int r = 0; r < R; ++r) {
        vf a = splat(A[r * lda + k + u]);
        for (int j = 0; j < NV; ++j)
          acc[u][r][j] = a * bv[j] + acc[u][r][j];
      }
    }
  }
  for (; k < kc; ++k) {
    const float *b = B + k * NR;
    vf bv[NV];
    for (int j = 0; j < NV; ++j)
      bv[j] = load(b + j * V);
    for (int r = 0; r < R; ++r) {
      vf a = splat(A[r * lda + k]);
      for (int j = 0; j < NV; ++j)
        acc[0][r][j] = a * bv[j] + acc[0][r][j];
    }
  }
  for (int u = 1; u < KU; ++u)
    for (int r = 0; r < R; ++r) {
      for (int j = 0; j < NV; ++j)
        acc[0][r][j] += acc[u][r][j];
    }
  for (int r = 0; r < R; ++r) {
    float *c = C + r * ldc;
    if (ncols == NR) {
      for (int j = 0; j < NV; ++j)
      {
        vf v = loadC ? acc[0][r][j] + load(c + j * V) : acc[0][r][j];
        store(c + j * V, applyRelu ? relu(v) : v);
      }
    } else {
      float t[NR];
      for (int j = 0; j < NV; ++j)
        store(t + j * V, acc[0][r][j]);
      for (int64_t j = 0; j < ncols; ++j)
      {
        float v = loadC ? c[j] + t[j] : t[j];
        c[j] = applyRelu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

/// M <= 4: stream the weight once, K block by K block (each block one contiguous stretch), the
/// panels [p0, p1) of each block in turn. C points at column p0 * NR.
template <int R>
void gemvPanels(float *C, int64_t ldc, const float *A, int64_t lda, const float *Bp,
                int64_t panels, int64_t p0, int64_t p1, int64_t N, int64_t K, bool accumulate,
                bool applyRelu) {
  constexpr int KU = R == 1 ? 4 : R == 2 ? 2 : 1;
  for (int64_t b = 0, k0 = 0; k0 < K; ++b, k0 += KC) {
    int64_t kc = K - k0 < KC ? K - k0 : KC;
    for (int64_t p = p0; p < p1; ++p) {
      int64_t ncols = N - (p - p0) * NR < NR ? N - (p - p0) * NR : NR;
      tile<R, KU>(C + (p - p0) * NR, ldc, A + k0, lda,
                  Bp + sparq::formats::panelSliceOffset(K, panels, NR, b, p), kc, ncols,
                  accumulate || b > 0, applyRelu && k0 + kc == K);
    }
  }
}

/// Packs the kc x ncols slice of B starting at B (element [0][0] of the slice) into Bs as
/// kc rows of NR, zero past ncols. B is row-major k x n with row stride ldb, or, transposed,
/// n x k with row stride ldb.
void packB(float *Bs, const float *B, int64_t ldb, bool transposed, int64_t kc, int64_t ncols) {
  if (!transposed) {
    for (int64_t k = 0; k < kc; ++k) {
      const float *src = B + k * ldb;
      float *dst = Bs + k * NR;
      if (ncols == NR) {
        for (int j = 0; j < NV; ++j)
          store(dst + j * V, load(src + j * V));
      } else {
        for (int64_t j = 0; j < ncols; ++j)
          dst[j] = src[j];
        for (int64_t j = ncols; j < NR; ++j)
          dst[j] = 0.0f;
      }
    }
    return;
  }
  for (int64_t j = 0; j < NR; ++j) {
    const float *src = B + j * ldb;
    if (j < ncols)
      for (int64_t k = 0; k < kc; ++k)
        Bs[k * NR + j] = src[k];
    else
      for (int64_t k = 0; k < kc; ++k)
        Bs[k * NR + j] = 0.0f;
  }
}

} // namespace

extern "C" {

int64_t sparq_uk_panel_width_f32(void) { return NR; }

void sparq_uk_sgemm_packed_range_f32(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                                     intptr_t bAddr, int64_t Ntotal, int64_t n0, int64_t n1,
                                     int64_t M, int64_t K, int64_t flags) {
  const float *A = reinterpret_cast<const float *>(aAddr);
  const float *Bp = reinterpret_cast<const float *>(bAddr);
  bool accumulate = flags & SPARQ_UK_ACCUMULATE, applyRelu = flags & SPARQ_UK_RELU;
  if (n1 > Ntotal)
    n1 = Ntotal;
  const int64_t N = n1 - n0;
  if (M <= 0 || N <= 0 || n0 < 0 || n0 % NR != 0)
    return;
  float *C = reinterpret_cast<float *>(cAddr) + n0;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          C[m * ldc + n] = 0.0f;
    return;
  }
  const int64_t panels = (Ntotal + NR - 1) / NR, p0 = n0 / NR, p1 = (n1 + NR - 1) / NR;
  switch (M) {
  case 1: return gemvPanels<1>(C, ldc, A, lda, Bp, panels, p0, p1, N, K, accumulate, applyRelu);
  case 2: return gemvPanels<2>(C, ldc, A, lda, Bp, panels, p0, p1, N, K, accumulate, applyRelu);
  case 3: return gemvPanels<3>(C, ldc, A, lda, Bp, panels, p0, p1, N, K, accumulate, applyRelu);
  case 4: return gemvPanels<4>(C, ldc, A, lda, Bp, panels, p0, p1, N, K, accumulate, applyRelu);
  default: break;
  }
  alignas(64) float Ap[MC * KC];
  for (int64_t mb = 0; mb < M; mb += MC) {
    int64_t mc = M - mb < MC ? M - mb : MC;
    int64_t tiles = (mc + MR - 1) / MR;
    // Blocks of NCP panels, so the MC x NCP*NR block of C stays in L2 across the K blocks (A's
    // block is packed again for each, a few percent of the work).
    for (int64_t q0 = p0; q0 < p1; q0 += NCP) {
      int64_t q1 = q0 + NCP < p1 ? q0 + NCP : p1;
      for (int64_t b = 0, kb = 0; kb < K; ++b, kb += KC) {
        int64_t kc = K - kb < KC ? K - kb : KC;
        bool loadC = accumulate || kb > 0, last = applyRelu && kb + kc == K;
        packA(Ap, A + mb * lda + kb, lda, mc, kc);
        // The block's slices of consecutive panels are contiguous.
        const float *block = Bp + sparq::formats::panelSliceOffset(K, panels, NR, b, 0);
        for (int64_t p = q0; p < q1; ++p) {
          int64_t ncols = N - (p - p0) * NR < NR ? N - (p - p0) * NR : NR;
          const float *slice = block + p * kc * NR;
          // The first tiles also pull the next panel's slice (kc * NR floats, 16 per cache
          // line) into L2, one line per reduction step, while the other tiles hide the latency.
          const int64_t lines = kc * NR / 16;
          for (int64_t t = 0; t < tiles; ++t) {
            int64_t rows = mc - t * MR < MR ? mc - t * MR : MR;
            float *c = C + (mb + t * MR) * ldc + (p - p0) * NR;
            if (p + 1 < q1 && t * kc < lines)
              packedTile<true>(rows, c, ldc, Ap + t * KC * MR, slice, kc, ncols, loadC,
                               slice + kc * NR + t * kc * 16, last);
            else
              packedTile<false>(rows, c, ldc, Ap + t * KC * MR, slice, kc, ncols, loadC,
                                nullptr, last);
          }
        }
      }
    }
  }
}

void sparq_uk_sgemm_packed_f32(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                               intptr_t bAddr, int64_t M, int64_t N, int64_t K, int64_t flags) {
  sparq_uk_sgemm_packed_range_f32(cAddr, ldc, aAddr, lda, bAddr, N, 0, N, M, K, flags);
}

void sparq_uk_sgemm_packed_f32_mt(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                                  intptr_t bAddr, int64_t M, int64_t N, int64_t K,
                                  int64_t flags) {
  struct Args {
    intptr_t c, a, b;
    int64_t ldc, lda, M, N, K, flags;
  } args = {cAddr, aAddr, bAddr, ldc, lda, M, N, K, flags};
  sparq_uk_parallel(
      [](void *ctx, int32_t tid, int32_t team) {
        const Args &g = *static_cast<const Args *>(ctx);
        int64_t panels = (g.N + NR - 1) / NR;
        if (panels >= team || g.M < 2 * MR) {
          // Panels: each thread streams its own columns of the weight once.
          int64_t per = (panels + team - 1) / team, p0 = tid * per;
          int64_t n0 = p0 * NR, n1 = (p0 + per) * NR < g.N ? (p0 + per) * NR : g.N;
          if (n0 >= n1)
            return;
          sparq_uk_sgemm_packed_range_f32(g.c, g.ldc, g.a, g.lda, g.b, g.N, n0, n1, g.M, g.K,
                                          g.flags);
          return;
        }
        // Rows, in whole register tiles.
        int64_t tiles = (g.M + MR - 1) / MR, per = (tiles + team - 1) / team;
        int64_t m0 = tid * per * MR, m1 = (tid + 1) * per * MR < g.M ? (tid + 1) * per * MR : g.M;
        if (m0 >= m1)
          return;
        sparq_uk_sgemm_packed_f32(g.c + m0 * g.ldc * 4, g.ldc, g.a + m0 * g.lda * 4, g.lda, g.b,
                                  m1 - m0, g.N, g.K, g.flags);
      },
      &args);
}

void sparq_uk_sgemm_f32(intptr_t cAddr, int64_t strideC, int64_t ldc, intptr_t aAddr,
                        int64_t strideA, int64_t lda, intptr_t bAddr, int64_t strideB,
                        int64_t ldb, int64_t batch, int64_t M, int64_t N, int64_t K,
                        int64_t flags) {
  bool accumulate = flags & SPARQ_UK_ACCUMULATE, applyRelu = flags & SPARQ_UK_RELU;
  bool transposed = flags & SPARQ_UK_B_TRANSPOSED;
  if (M <= 0 || N <= 0 || batch <= 0)
    return;
  alignas(64) float Ap[MC * KC];
  alignas(64) float Bs[KC * NR];
  for (int64_t i = 0; i < batch; ++i) {
    float *C = reinterpret_cast<float *>(cAddr) + i * strideC;
    const float *A = reinterpret_cast<const float *>(aAddr) + i * strideA;
    const float *B = reinterpret_cast<const float *>(bAddr) + i * strideB;
    if (K <= 0) {
      if (!accumulate)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n)
            C[m * ldc + n] = 0.0f;
      continue;
    }
    for (int64_t mb = 0; mb < M; mb += MC) {
      int64_t mc = M - mb < MC ? M - mb : MC;
      int64_t tiles = (mc + MR - 1) / MR;
      for (int64_t kb = 0; kb < K; kb += KC) {
        int64_t kc = K - kb < KC ? K - kb : KC;
        bool loadC = accumulate || kb > 0, last = applyRelu && kb + kc == K;
        packA(Ap, A + mb * lda + kb, lda, mc, kc);
        for (int64_t n0 = 0; n0 < N; n0 += NR) {
          int64_t ncols = N - n0 < NR ? N - n0 : NR;
          packB(Bs, transposed ? B + n0 * ldb + kb : B + kb * ldb + n0, ldb, transposed, kc,
                ncols);
          for (int64_t t = 0; t < tiles; ++t) {
            int64_t rows = mc - t * MR < MR ? mc - t * MR : MR;
            packedTile<false>(rows, C + (mb + t * MR) * ldc + n0, ldc, Ap + t * KC * MR, Bs,
                              kc, ncols, loadC, nullptr, last);
          }
        }
      }
    }
  }
}

} // extern "C"
