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

#if SPARQ_UK_VLEN == 16 && defined(__AVX512F__)
#include <immintrin.h>
/// Two-source lane permutes (vpermt2ps) for the tile stores of packed column runs.
#define SPARQ_UK_PERMUTE2 1
#else
#define SPARQ_UK_PERMUTE2 0
#endif

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
/// The same for a lambda (vector arguments must not cross a call in the target-neutral bitcode).
#define SPARQ_UK_INLINE_LAMBDA __attribute__((always_inline))
/// An exported entry point that dispatches on a parameter the model passes as a constant (a bit
/// width): inlined into the model's call, the dispatch folds and only the chosen variant's code
/// is compiled into the model (docs/codegen.md, "Compile time"). The definition stays external
/// for the runtime's own callers (tests, benchmarks).
#define SPARQ_UK_ENTRY __attribute__((always_inline))

SPARQ_UK_INLINE vf load(const float *p) {
  vf v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
SPARQ_UK_INLINE void store(float *p, vf v) { __builtin_memcpy(p, &v, sizeof(v)); }

/// Whether an M x N x K product (K: multiply-adds per output) is too small to be worth a
/// parallel region (the _mt entry points run it on the calling thread).
SPARQ_UK_INLINE bool smallProblem(int64_t M, int64_t N, int64_t K) {
  return N < 64 || M * N * K < (int64_t(1) << 20);
}
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

/// v combined by `op` with v rotated by H lanes, per lane.
#define SPARQ_UK_ROT(i) (((i) + H) % V)
template <int H> SPARQ_UK_INLINE vf foldMax(vf v) {
  const vf r = __builtin_shufflevector(v, v, SPARQ_UK_IV(SPARQ_UK_ROT));
  return v > r ? v : r;
}
template <int H> SPARQ_UK_INLINE vf foldSum(vf v) {
  return v + __builtin_shufflevector(v, v, SPARQ_UK_IV(SPARQ_UK_ROT));
}
#undef SPARQ_UK_ROT

/// The largest lane of v (a tree of shuffles, not a chain of V scalar steps).
SPARQ_UK_INLINE float hmax(vf v) {
  if constexpr (V == 16)
    v = foldMax<8>(v);
  return foldMax<1>(foldMax<2>(foldMax<4>(v)))[0];
}
/// The sum of the lanes of v (pairwise, as a tree).
SPARQ_UK_INLINE float hsum(vf v) {
  if constexpr (V == 16)
    v = foldSum<8>(v);
  return foldSum<1>(foldSum<2>(foldSum<4>(v)))[0];
}

/// One stage of a batched lane sum: in every block of 2H lanes, the first H lanes of x's block
/// folded (lane l plus lane l + H), then the first H of y's likewise.
#define SPARQ_UK_PL(j)                                                                             \
  (((j) % (2 * H)) < H ? (j) / (2 * H) * 2 * H + (j) % (2 * H)                                     \
                       : V + (j) / (2 * H) * 2 * H + (j) % (2 * H) - H)
#define SPARQ_UK_PH(j) (SPARQ_UK_PL(j) + H)
template <int H> SPARQ_UK_INLINE vf pairSum(vf x, vf y) {
  return __builtin_shufflevector(x, y, SPARQ_UK_IV(SPARQ_UK_PL)) +
         __builtin_shufflevector(x, y, SPARQ_UK_IV(SPARQ_UK_PH));
}
#undef SPARQ_UK_PL
#undef SPARQ_UK_PH

/// Which of the N summed vectors lane j * (V / N) of hsums' last vector belongs to.
template <int N> struct HsumLanes {
  int of[N];
  constexpr HsumLanes() : of() {
    int lab[N][V] = {};
    for (int i = 0; i < N; ++i)
      for (int l = 0; l < V; ++l)
        lab[i][l] = i;
    for (int n = N, H = V / 2; n > 1; n /= 2, H /= 2)
      for (int i = 0; i < n / 2; ++i) {
        int out[V] = {};
        for (int l = 0; l < V; ++l)
          out[l] = l % (2 * H) < H ? lab[2 * i][l] : lab[2 * i + 1][l - H];
        for (int l = 0; l < V; ++l)
          lab[i][l] = out[l];
      }
    for (int j = 0; j < N; ++j)
      of[j] = lab[0][j * (V / N)];
  }
};

/// out[i] = the sum of the lanes of v[i] for N vectors (N a power of two, at most V): N - 1
/// pairwise stages of two shuffles and an add, where N separate hsum trees take 2 log2(V) N
/// operations (16 accumulators of a GEMV tile: 45 against 128). v is overwritten.
template <int N> SPARQ_UK_INLINE void hsums(vf (&v)[N], float (&out)[N]) {
  static_assert(N >= 1 && N <= V && (N & (N - 1)) == 0, "N must be a power of two <= V");
  int H = V / 2;
  for (int n = N; n > 1; n /= 2, H /= 2)
    for (int i = 0; i < n / 2; ++i) {
      switch (H) { // a constant after unrolling
      case 8: v[i] = pairSum<(V > 8 ? 8 : 1)>(v[2 * i], v[2 * i + 1]); break;
      case 4: v[i] = pairSum<4>(v[2 * i], v[2 * i + 1]); break;
      case 2: v[i] = pairSum<2>(v[2 * i], v[2 * i + 1]); break;
      default: v[i] = pairSum<1>(v[2 * i], v[2 * i + 1]); break;
      }
    }
  vf r = v[0];
  // Each vector's partial sums now sit in V / N adjacent lanes: fold them into the first.
  if constexpr (V / N >= 16)
    r = foldSum<8>(r);
  if constexpr (V / N >= 8)
    r = foldSum<4>(r);
  if constexpr (V / N >= 4)
    r = foldSum<2>(r);
  if constexpr (V / N >= 2)
    r = foldSum<1>(r);
  constexpr HsumLanes<N> lanes;
  for (int j = 0; j < N; ++j)
    out[lanes.of[j]] = r[j * (V / N)];
}

/// part[m][r] = the sum of the lanes of acc[m][r] (the M x R accumulators of a GEMV tile):
/// batched by hsums when there are a power-of-two number of them up to V.
template <int M, int R> SPARQ_UK_INLINE void laneSums(vf (&acc)[M][R], float (&part)[M][R]) {
  constexpr int N = M * R;
  if constexpr (N > 1 && N <= V && (N & (N - 1)) == 0) {
    vf v[N];
    float out[N];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < R; ++r)
        v[m * R + r] = acc[m][r];
    hsums<N>(v, out);
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < R; ++r)
        part[m][r] = out[m * R + r];
  } else {
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < R; ++r)
        part[m][r] = hsum(acc[m][r]);
  }
}

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

/// dst[j * ldd + i] = src[i * lds + j] for a whole V x V block (i, j < V), through registers.
SPARQ_UK_INLINE void transposeBlock(float *dst, int64_t ldd, const float *src, int64_t lds) {
  vf r[V];
  for (int i = 0; i < V; ++i)
    r[i] = load(src + i * lds);
  transpose(r);
  for (int j = 0; j < V; ++j)
    store(dst + j * ldd, r[j]);
}

/// Lanes [lo, hi) of a vector, as the mask of a masked load or store. Target-neutral: LLVM lowers
/// llvm.masked.* to AVX-512 mask registers, AVX2 vmaskmovps, or scalar code.
typedef bool vmask __attribute__((ext_vector_type(V)));
typedef int vlane __attribute__((ext_vector_type(V)));
typedef float vfe __attribute__((ext_vector_type(V)));
#define SPARQ_UK_LANE(l) l
SPARQ_UK_INLINE vmask laneMask(int lo, int hi) {
  const vlane lane = {SPARQ_UK_IV(SPARQ_UK_LANE)};
  return __builtin_convertvector((lane >= lo) & (lane < hi), vmask);
}
#undef SPARQ_UK_LANE
/// Loads lanes m of p (the others read nothing and are 0); p + l must be valid only for those.
SPARQ_UK_INLINE vf maskedLoad(const float *p, vmask m) {
  return (vf)__builtin_masked_load(m, p, (vfe){});
}
SPARQ_UK_INLINE void maskedStore(float *p, vf v, vmask m) { __builtin_masked_store(m, (vfe)v, p); }

/// Where the columns of a register tile go in each of its output rows: `count` runs of
/// consecutive elements, run i holding columns [start[i], end[i]) from offset[i] of the row, in
/// increasing order; columns in no run are not stored. The NR pixels of a convolution panel that
/// crosses output rows are one run per row (the rows of a padded buffer are not adjacent); a
/// panel of consecutive outputs is one run.
struct ColumnRuns {
  int count = 0;
  int start[NR];
  int end[NR];
  int64_t offset[NR];
  /// Set by pack(): the runs lie end to end in the row (each starts where the previous one
  /// ends), so the `total` stored columns are consecutive elements from offset[0], column
  /// lane[t] at element t (a convolution panel over a padded row pitch whose gap columns fall
  /// between two output rows).
  bool packed = false;
  int total = 0;
  alignas(64) int32_t lane[NR];

  /// (Without two-source permutes, packedTile stores by runs: nothing is computed.)
  void pack() {
    packed = SPARQ_UK_PERMUTE2 && count > 1;
    for (int i = 0; packed && i + 1 < count; ++i)
      packed = offset[i + 1] == offset[i] + (end[i] - start[i]);
    if (!packed)
      return;
    total = 0;
    for (int i = 0; i < count; ++i)
      for (int c = start[i]; c < end[i]; ++c)
        lane[total++] = c;
    for (int t = total; t < NR; ++t)
      lane[t] = 0;
  }
};

/// Stores the V columns [j * V, j * V + V) of one tile row: v is the row's accumulator vector,
/// finish(v, old) applies the epilogue given the current output (old; loaded only when needed).
/// Full vectors inside one run are plain stores; the ends of runs are masked.
template <typename Finish>
SPARQ_UK_INLINE void storeRuns(float *c, const ColumnRuns &runs, int j, vf v, bool loadOld,
                               Finish finish) {
  const int lo = j * V, hi = lo + V;
  for (int i = 0; i < runs.count && runs.start[i] < hi; ++i) {
    int a = runs.start[i], b = runs.end[i];
    if (b <= lo)
      continue;
    // Lane l of this vector is column lo + l, stored at c + offset[i] + (lo + l - a).
    float *p = c + (runs.offset[i] + lo - a);
    if (a <= lo && b >= hi) {
      store(p, finish(v, loadOld ? load(p) : vf{}));
      continue;
    }
    vmask m = laneMask(a > lo ? a - lo : 0, b < hi ? b - lo : V);
    maskedStore(p, finish(v, loadOld ? maskedLoad(p, m) : vf{}), m);
  }
}

/// An MR x NR tile over kc reduction steps with A packed as kc x MR (row r of step k at
/// Ap[k * MR + r]) and step k of B at B + k * ldb (NR floats); only the first `rows` rows and
/// `ncols` columns are stored, row r at C + r * ldc, its columns consecutive or, with `runs`,
/// where the runs say. With Prefetch, also pulls the kc x NR slice at `next` (the next panel's)
/// into the cache while computing. Without loadC, a non-null rowBias adds rowBias[r] to row r;
/// applyRelu stores max(., 0). With RowOffsets, step k of B is at B + bOff[k] instead (the rows
/// of an implicit im2col matrix read in place: a k x k convolution's taps, ldb unused).
template <bool Prefetch, bool RowOffsets = false>
SPARQ_UK_INLINE void packedTile(int64_t rows, float *C, int64_t ldc, const float *Ap,
                                const float *B, int64_t kc, int64_t ncols, bool loadC,
                                const float *next, bool applyRelu = false,
                                const float *rowBias = nullptr, int64_t ldb = NR,
                                const ColumnRuns *runs = nullptr,
                                const int32_t *bOff = nullptr) {
  vf acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NV; ++j)
      acc[r][j] = splat(0.0f);
  for (int64_t k = 0; k < kc; ++k) {
    if constexpr (Prefetch)
      __builtin_prefetch(next + k * 16, 0, 2);
    const float *Bk = RowOffsets ? B + bOff[k] : B + k * ldb;
    vf b[NV];
    for (int j = 0; j < NV; ++j)
      b[j] = load(Bk + j * V);
    for (int r = 0; r < MR; ++r) {
      vf a = splat(Ap[k * MR + r]);
      for (int j = 0; j < NV; ++j)
        acc[r][j] = a * b[j] + acc[r][j];
    }
  }
  ColumnRuns one;
  if (!runs && ncols < NR) {
    one.count = 1;
    one.start[0] = 0;
    one.end[0] = int(ncols);
    one.offset[0] = 0;
    runs = &one;
  }
  bool contiguous =
      !runs || (runs->count == 1 && runs->start[0] == 0 && runs->end[0] == NR && ncols == NR);
#if SPARQ_UK_PERMUTE2
  if constexpr (NV == 2)
    if (runs && runs->packed) {
      // The stored columns gathered into consecutive vectors by lane permutes, stored whole (the
      // last one masked): no masked store per run end.
      const int total = runs->total;
      __m512i idx[NV];
      for (int j = 0; j < NV; ++j)
        idx[j] = _mm512_load_si512(runs->lane + j * V);
      const vmask last = laneMask(0, total - V);
#pragma unroll
      for (int r = 0; r < MR; ++r) {
        if (r >= rows)
          continue;
        float *c = C + runs->offset[0] + r * ldc;
        const vf bias = splat(!loadC && rowBias ? rowBias[r] : 0.0f);
        auto finish = [&](vf v, vf old) SPARQ_UK_INLINE_LAMBDA {
          v = loadC ? v + old : v + bias;
          return applyRelu ? relu(v) : v;
        };
        const vf v0 = (vf)_mm512_permutex2var_ps((__m512)acc[r][0], idx[0], (__m512)acc[r][1]);
        const vf v1 = (vf)_mm512_permutex2var_ps((__m512)acc[r][0], idx[1], (__m512)acc[r][1]);
        if (total >= V) {
          store(c, finish(v0, loadC ? load(c) : vf{}));
          if (total > V)
            maskedStore(c + V, finish(v1, loadC ? maskedLoad(c + V, last) : vf{}), last);
        } else {
          const vmask first = laneMask(0, total);
          maskedStore(c, finish(v0, loadC ? maskedLoad(c, first) : vf{}), first);
        }
      }
      return;
    }
#endif
  float *base = runs && contiguous ? C + runs->offset[0] : C;
  // Fully unrolled with a condition (not a break), so every acc[r] index is a constant and the
  // accumulators stay in registers through the reduction loop.
#pragma unroll
  for (int r = 0; r < MR; ++r) {
    if (r >= rows)
      continue;
    float *c = base + r * ldc;
    vf bias = splat(!loadC && rowBias ? rowBias[r] : 0.0f);
    auto finish = [&](vf v, vf old) SPARQ_UK_INLINE_LAMBDA {
      v = loadC ? v + old : v + bias;
      return applyRelu ? relu(v) : v;
    };
#pragma unroll
    for (int j = 0; j < NV; ++j) {
      if (contiguous)
        store(c + j * V, finish(acc[r][j], loadC ? load(c + j * V) : vf{}));
      else
        storeRuns(c, *runs, j, acc[r][j], loadC, finish);
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
