//===- runtime/kernels/Tile.h - register tiles shared by the f32 kernels -*- C++ -*-===//
//
// The vector type, loads/stores and the MR x NR register tile with A packed as kc x MR that the
// GEMM (Gemm.cpp) and convolution (Conv.cpp) kernels share. Internal to runtime/kernels.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_KERNELS_TILE_H
#define SPARQ_RUNTIME_KERNELS_TILE_H

#include "sparq/Formats/DensePanels.h"

#include <stdint.h>

#ifndef SPARQ_UK_VLEN
#define SPARQ_UK_VLEN 16
#endif

namespace sparq::kernels {

constexpr int V = SPARQ_UK_VLEN;
constexpr int NR = int(sparq::formats::panelWidthFor(V));
/// Vectors per register-tile row.
constexpr int NV = NR / V;
constexpr int MR = int(sparq::formats::tileRowsFor(V));
/// Reduction block: a KC x NR slice of a panel (32 KiB at V = 16) stays in L1. It is the K block
/// of the packed weight layout.
constexpr int64_t KC = sparq::formats::kPanelBlockRows;
/// Rows of A packed at a time (a multiple of MR): an MC x KC block (128 KiB at V = 16, on the
/// stack) stays in L2 while every panel passes over it.
constexpr int64_t MC = V == 16 ? 128 : 96;
/// Panels per column block: an MC x NCP*NR block of C (256 KiB at V = 16) stays in L2 while the
/// K blocks pass over it.
constexpr int64_t NCP = V == 16 ? 16 : 32;

typedef float vf __attribute__((vector_size(V * sizeof(float))));

#define SPARQ_UK_INLINE inline __attribute__((always_inline))

SPARQ_UK_INLINE vf load(const float *p) {
  vf v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
SPARQ_UK_INLINE void store(float *p, vf v) { __builtin_memcpy(p, &v, sizeof(v)); }
/// max(v, 0) per lane (the ReLU epilogue), NaN-propagating like arith.maximumf.
SPARQ_UK_INLINE vf relu(vf v) {
  vf z = {};
  return v < z ? z : v;
}

SPARQ_UK_INLINE vf splat(float x) {
  vf v;
  for (int i = 0; i < V; ++i)
    v[i] = x;
  return v;
}

/// SPARQ_UK_IV(F): F(0), F(1), ..., F(V - 1), for vector literals and shuffle masks.
#define SPARQ_UK_I8(F) F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7)
#define SPARQ_UK_I16(F) SPARQ_UK_I8(F), F(8), F(9), F(10), F(11), F(12), F(13), F(14), F(15)
#if SPARQ_UK_VLEN == 16
#define SPARQ_UK_IV SPARQ_UK_I16
#elif SPARQ_UK_VLEN == 8
#define SPARQ_UK_IV SPARQ_UK_I8
#else
#error "the kernels support SPARQ_UK_VLEN 16 and 8"
#endif

/// Swaps the off-diagonal H x H blocks of rows i and i + H (one stage of a V x V transpose).
template <int H> SPARQ_UK_INLINE void swapBlocks(vf &a, vf &b) {
#define SPARQ_UK_TA(l) (((l) & H) ? V + (l) - H : (l))
#define SPARQ_UK_TB(l) (((l) & H) ? V + (l) : (l) + H)
  vf x = __builtin_shufflevector(a, b, SPARQ_UK_IV(SPARQ_UK_TA));
  vf y = __builtin_shufflevector(a, b, SPARQ_UK_IV(SPARQ_UK_TB));
#undef SPARQ_UK_TA
#undef SPARQ_UK_TB
  a = x;
  b = y;
}

template <int H> SPARQ_UK_INLINE void transposeStage(vf (&r)[V]) {
  for (int i = 0; i < V; ++i)
    if ((i & H) == 0)
      swapBlocks<H>(r[i], r[i + H]);
}

/// Transposes the V x V matrix held in V vector registers.
SPARQ_UK_INLINE void transpose(vf (&r)[V]) {
  if constexpr (V == 16)
    transposeStage<8>(r);
  transposeStage<4>(r);
  transposeStage<2>(r);
  transposeStage<1>(r);
}

/// An MR x NR tile over kc reduction steps with A packed as kc x MR (row r of step k at
/// Ap[k * MR + r]) and step k of B at B + k * ldb (NR floats); only the first `rows` rows are
/// stored. With Prefetch, also pulls the kc x NR slice at `next` (the next panel's) into the
/// cache while computing. Without loadC, a non-null rowBias adds rowBias[r] to row r;
/// applyRelu stores max(., 0).
template <bool Prefetch>
SPARQ_UK_INLINE void packedTile(int64_t rows, float *C, int64_t ldc, const float *Ap,
                                const float *B, int64_t kc, int64_t ncols, bool loadC,
                                const float *next, bool applyRelu = false,
                                const float *rowBias = nullptr, int64_t ldb = NR) {
  vf acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NV; ++j)
      acc[r][j] = splat(0.0f);
  for (int64_t k = 0; k < kc; ++k) {
    if constexpr (Prefetch)
      __builtin_prefetch(next + k * 16, 0, 2);
    vf b[NV];
    for (int j = 0; j < NV; ++j)
      b[j] = load(B + k * ldb + j * V);
    for (int r = 0; r < MR; ++r) {
      vf a = splat(Ap[k * MR + r]);
      for (int j = 0; j < NV; ++j)
        acc[r][j] = a * b[j] + acc[r][j];
    }
  }
  // Fully unrolled with a condition (not a break), so every acc[r] index is a constant and the
  // accumulators stay in registers through the reduction loop.
#pragma unroll
  for (int r = 0; r < MR; ++r) {
    if (r >= rows)
      continue;
    float *c = C + r * ldc;
    float bias = !loadC && rowBias ? rowBias[r] : 0.0f;
    if (ncols == NR) {
      for (int j = 0; j < NV; ++j) {
        vf v = loadC ? acc[r][j] + load(c + j * V) : acc[r][j] + splat(bias);
        store(c + j * V, applyRelu ? relu(v) : v);
      }
    } else {
      float t[NR];
      for (int j = 0; j < NV; ++j)
        store(t + j * V, acc[r][j]);
      for (int64_t j = 0; j < ncols; ++j) {
        float v = loadC ? c[j] + t[j] : t[j] + bias;
        c[j] = applyRelu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

/// Packs rows [0, mc) x columns [0, kc) of A (row stride lda) tile by tile as kc x MR into Ap
/// (tile t at Ap + t * KC * MR), zero rows past mc.
inline void packA(float *Ap, const float *A, int64_t lda, int64_t mc, int64_t kc) {
  for (int64_t t = 0, tiles = (mc + MR - 1) / MR; t < tiles; ++t) {
    float *dst = Ap + t * KC * MR;
    int64_t rows = mc - t * MR < MR ? mc - t * MR : MR;
    const float *src = A + t * MR * lda;
    if (rows == MR) {
      // Step k of the tile is MR consecutive floats: one vector store of MR loads.
      for (int64_t k = 0; k < kc; ++k)
#pragma unroll
        for (int r = 0; r < MR; ++r)
          dst[k * MR + r] = src[r * lda + k];
      continue;
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int r = 0; r < MR; ++r)
        dst[k * MR + r] = r < rows ? src[r * lda + k] : 0.0f;
  }
}

} // namespace sparq::kernels

#endif // SPARQ_RUNTIME_KERNELS_TILE_H
