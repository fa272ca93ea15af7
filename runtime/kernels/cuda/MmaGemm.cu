//===- runtime/kernels/cuda/MmaGemm.cu - compressed GEMM/GEMV on tensor cores ---===//
//
// Y[M][N] (+)= X[M][K] . W^T for a weight W (N x K) packed by include/sparq/Formats/MmaPanels.h:
// fp16 dense, 1..8-bit group-wise quantized (group 128 along K, fp16 scale and zero point) or 2:4
// sparse with quantized kept values. The weight is the A operand of `mma.sync.m16n8k16` (dense) or
// `mma.sp.sync.m16n8k32` (2:4, sparse tensor cores), so the activations' M (tokens) is the
// instruction's N = 8: one token wastes 7/8 of the tensor-core work but none of the weight bytes,
// which are what a decode step is bound by.
//
// Each lane loads the codes of its own A fragments with coalesced 16-byte loads (the packed layout
// puts them there), turns two codes into an fp16 pair with one AND and one OR against 0x64006400
// (1024 + code), subtracts 1024 + zero (exact) and multiplies by the group's scale, all in
// registers. A warp owns R tiles of 16 rows, so each activation fragment it loads feeds R MMAs,
// and a K range; a block's 4 warps split its K range and add their partial sums in shared memory;
// gridDim.y splits K across blocks, which then add into Y with atomics (Y zeroed first).
//
// Entry points are extern "C" `sparq_cuda_mma_<format>_r<R>_m<MT>` with one by-value parameter
// block (MmaArgs). Launch: grid (N / (16 R), splitK), block 128 threads, no dynamic shared memory.
//
//===----------------------------------------------------------------------===//
#include <cstdint>

#include "sparq/Formats/MmaPanels.h"
#include "MmaGemm.h"

namespace mma = sparq::formats::mma;

using sparq::cuda::MmaArgs;

namespace {

constexpr int kWarps = 4;

__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
               "{%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mmaSp16832(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[4],
                                           uint32_t meta) {
  asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9,%10,%11}, {%0,%1,%2,%3}, %12, 0x0;\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]),
                 "r"(b[3]), "r"(meta));
}

__device__ __forceinline__ uint32_t hsub2(uint32_t a, uint32_t b) {
  uint32_t r;
  asm("sub.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
__device__ __forceinline__ uint32_t hmul2(uint32_t a, uint32_t b) {
  uint32_t r;
  asm("mul.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/// Loads `Words` consecutive words of a lane (units of up to 4 words, unit-major then lane-major).
template <int Width, bool Sparse>
__device__ __forceinline__ void loadLaneWords(const uint32_t *base, int lane, uint32_t *w) {
  constexpr int kWpl = mma::wordsPerLane(Width, Sparse), kUnit = mma::unitWords(Width, Sparse);
#pragma unroll
  for (int u = 0; u < kWpl / kUnit; ++u) {
    const uint32_t *p = base + (u * mma::kLanes + lane) * kUnit;
    if constexpr (kUnit == 4) {
      uint4 v = __ldg(reinterpret_cast<const uint4 *>(p));
      w[4 * u] = v.x, w[4 * u + 1] = v.y, w[4 * u + 2] = v.z, w[4 * u + 3] = v.w;
    } else if constexpr (kUnit == 2) {
      uint2 v = __ldg(reinterpret_cast<const uint2 *>(p));
      w[2 * u] = v.x, w[2 * u + 1] = v.y;
    } else {
      w[u] = __ldg(p);
    }
  }
}

/// The codes of one chunk of one tile, for every plane, in registers.
template <int Bits, bool Sparse> struct ChunkCodes {
  static constexpr int kW0 = mma::planeWidth(Bits, 0), kW1 = mma::planeWidth(Bits, 1),
                       kW2 = mma::planeWidth(Bits, 2);
  uint32_t w0[mma::wordsPerLane(kW0, Sparse)];
  uint32_t w1[kW1 ? mma::wordsPerLane(kW1, Sparse) : 1];
  uint32_t w2[kW2 ? mma::wordsPerLane(kW2, Sparse) : 1];

  __device__ __forceinline__ void load(const MmaArgs &a, size_t tile, size_t chunk, size_t chunks, int lane) {
    loadLaneWords<kW0, Sparse>(a.planes[0] + (tile * chunks + chunk) * mma::kLanes * mma::wordsPerLane(kW0, Sparse),
                               lane, w0);
    if constexpr (kW1 != 0)
      loadLaneWords<kW1, Sparse>(
          a.planes[1] + (tile * chunks + chunk) * mma::kLanes * mma::wordsPerLane(kW1, Sparse), lane, w1);
    if constexpr (kW2 != 0)
      loadLaneWords<kW2, Sparse>(
          a.planes[2] + (tile * chunks + chunk) * mma::kLanes * mma::wordsPerLane(kW2, Sparse), lane, w2);
  }

  /// 1024 + code of both elements of pair `pair` (= 4 step + i), as an fp16 pair; for fp16
  /// weights the pair itself.
  __device__ __forceinline__ uint32_t pairBits(int pair) const {
    if constexpr (Bits == mma::kHalfBits) {
      return w0[pair];
    } else {
      uint32_t v = (w0[mma::pairWord(pair, kW0)] >> mma::pairShift(pair, kW0, 0)) & (((1u << kW0) - 1) * 0x10001u);
      if constexpr (kW1 != 0)
        v |= ((w1[mma::pairWord(pair, kW1)] >> mma::pairShift(pair, kW1, 0)) & (((1u << kW1) - 1) * 0x10001u))
             << kW0;
      if constexpr (kW2 != 0)
        v |= ((w2[mma::pairWord(pair, kW2)] >> mma::pairShift(pair, kW2, 0)) & (((1u << kW2) - 1) * 0x10001u))
             << (kW0 + kW1);
      return v | 0x64006400u;
    }
  }
};

template <int Bits, bool Sparse, int R, int MT>
__device__ __forceinline__ void mmaGemm(const MmaArgs &a) {
  constexpr int kSteps = mma::stepsPerChunk(Sparse);
  constexpr bool kQuant = Bits != mma::kHalfBits;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, c = 2 * (lane & 3);
  const size_t chunks = a.k / mma::kChunk;
  const size_t tile0 = static_cast<size_t>(blockIdx.x) * R;
  // This block's chunk range; its warps take every kWarps-th chunk of it.
  const size_t cBegin = chunks * blockIdx.y / gridDim.y, cEnd = chunks * (blockIdx.y + 1) / gridDim.y;

  float acc[R][MT][4];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < MT; ++t)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc[r][t][e] = 0.f;

  // Activation rows this lane reads (B fragment column g of each 8-token tile), or none.
  const uint32_t *xrow[MT];
#pragma unroll
  for (int t = 0; t < MT; ++t) {
    int m = t * 8 + g;
    xrow[t] = m < a.m ? reinterpret_cast<const uint32_t *>(a.x + static_cast<size_t>(m) * a.k) : nullptr;
  }
  // fp16 1024 + z is 0x6400 + z for 0 <= z < 1024.
  const uint32_t defaultZero = 0x10001u * (0x6400u + (1u << ((kQuant ? Bits : 1) - 1)));

  ChunkCodes<Bits, Sparse> cur[R];
  size_t ch = cBegin + warp;
  if (ch < cEnd)
#pragma unroll
    for (int r = 0; r < R; ++r)
      cur[r].load(a, tile0 + r, ch, chunks, lane);

  for (; ch < cEnd; ch += kWarps) {
    // Prefetch the next chunk's codes while this one is computed.
    ChunkCodes<Bits, Sparse> next[R];
    const size_t nch = ch + kWarps;
    if (nch < cEnd)
#pragma unroll
      for (int r = 0; r < R; ++r)
        next[r].load(a, tile0 + r, nch, chunks, lane);

    // Scales and zeros of rows g and g + 8 of each tile, as fp16 pairs.
    uint32_t sc[R][2], zr[R][2];
    if constexpr (kQuant) {
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          size_t idx = ((tile0 + r) * chunks + ch) * mma::kTileRows + g + 8 * h;
          sc[r][h] = 0x10001u * __ldg(a.scales + idx);
          zr[r][h] = a.zeros ? 0x10001u * __ldg(a.zeros + idx) : defaultZero;
        }
    }
    uint32_t meta[R][kSteps];
    if constexpr (Sparse) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        uint4 v = __ldg(reinterpret_cast<const uint4 *>(a.meta + mma::metaIndex(tile0 + r, ch, chunks, g, lane & 1, 0)));
        meta[r][0] = v.x, meta[r][1] = v.y, meta[r][2] = v.z, meta[r][3] = v.w;
      }
    }

#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      const size_t k0 = ch * mma::kChunk + s * (Sparse ? 32 : 16);
      // B fragments: tokens t*8+g, k = k0 + c + 8j + {0,1}.
      uint32_t b[MT][Sparse ? 4 : 2];
#pragma unroll
      for (int t = 0; t < MT; ++t)
#pragma unroll
        for (int j = 0; j < (Sparse ? 4 : 2); ++j)
          b[t][j] = xrow[t] ? __ldg(xrow[t] + (k0 + c + 8 * j) / 2) : 0u;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        uint32_t af[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          uint32_t v = cur[r].pairBits(4 * s + i);
          if constexpr (kQuant)
            v = hmul2(hsub2(v, zr[r][i & 1]), sc[r][i & 1]);
          af[i] = v;
        }
#pragma unroll
        for (int t = 0; t < MT; ++t) {
          if constexpr (Sparse)
            mmaSp16832(acc[r][t], af, b[t], meta[r][s]);
          else
            mma16816(acc[r][t], af, b[t][0], b[t][1]);
        }
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r)
      cur[r] = next[r];
  }

  // Sum the warps' partial tiles in shared memory; warp 0 writes.
  __shared__ float red[kWarps - 1][R * MT * 4][32];
  if (warp > 0)
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < MT; ++t)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          red[warp - 1][(r * MT + t) * 4 + e][lane] = acc[r][t][e];
  __syncthreads();
  if (warp != 0)
    return;
  const bool atomic = gridDim.y > 1;
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < MT; ++t)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float v = acc[r][t][e];
#pragma unroll
        for (int w = 0; w < kWarps - 1; ++w)
          v += red[w][(r * MT + t) * 4 + e][lane];
        // Accumulator element e: row g + 8 (e >> 1), token c + (e & 1) of the 8-token tile.
        int m = t * 8 + c + (e & 1);
        size_t n = (tile0 + r) * mma::kTileRows + g + 8 * (e >> 1);
        if (m < a.m) {
          float *dst = a.y + static_cast<size_t>(m) * a.n + n;
          if (atomic)
            atomicAdd(dst, v);
          else
            *dst = v;
        }
      }
}

} // namespace

#define SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, R, MT)                                                  \
  extern "C" __global__ void __launch_bounds__(128) sparq_cuda_mma_##NAME##_r##R##_m##MT(const MmaArgs a) { \
    mmaGemm<BITS, SPARSE, R, MT>(a);                                                                \
  }
// Register tiles per format: R tiles of 16 rows x MT tiles of 8 tokens. The 16-bit and 8-bit
// formats hold more code registers per tile, so their larger shapes would spill (ptxas -v); the
// compile-only test (test/cuda) keeps every instantiated kernel free of spills.
#define SPARQ_MMA_SHAPES_WIDE(NAME, BITS, SPARSE)                                                   \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 1, 1)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 2, 1)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 1, 2)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 2, 2)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 1, 8)
#define SPARQ_MMA_SHAPES(NAME, BITS, SPARSE)                                                        \
  SPARQ_MMA_SHAPES_WIDE(NAME, BITS, SPARSE)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 4, 1)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 4, 2)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 2, 8)

SPARQ_MMA_SHAPES_WIDE(f16, 16, false)
SPARQ_MMA_SHAPES_WIDE(w8, 8, false)
SPARQ_MMA_SHAPES(w4, 4, false)
SPARQ_MMA_SHAPES(w3, 3, false)
SPARQ_MMA_SHAPES(w2, 2, false)
SPARQ_MMA_SHAPES(sp24w4, 4, true)
SPARQ_MMA_SHAPES_WIDE(sp24f16, 16, true)
