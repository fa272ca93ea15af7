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
// puts them there) and turns two codes into an fp16 pair with one AND and one OR against
// 0x64006400 (1024 + code), in registers; the zero point is taken off the chunk's partial sums
// through the activations' chunk sums (or, for sparse codes and 64 tokens, subtracted in fp16,
// exactly), and the group's scale multiplies the chunk's partial sums after the MMAs. A warp
// works on R tiles of 16 rows at a time, so each activation fragment it loads feeds R MMAs; the
// (R tiles, 128-k chunk) units are split evenly over however many warps the caller launches
// (mmaGemm below).
//
// Index arithmetic inside the chunk loop is 32-bit (one IMAD per address instead of 64-bit
// multiply-adds): every packed array must hold fewer than 2^32 elements (mma::shapeSupported).
//
// Entry points are extern "C" `sparq_cuda_mma_<format>_r<R>_m<MT>` with one by-value parameter
// block (MmaArgs). Launch: any number of blocks of 128 threads, no shared memory.
//
//===----------------------------------------------------------------------===//
#include <cstdint>

#include <cuda_fp16.h>

#include "sparq/Formats/MmaPanels.h"
#include "MmaGemm.h"

namespace mma = sparq::formats::mma;

// Experiments: 0 streams narrow codes through registers instead of the cp.async stages.
#ifndef SPARQ_CUDA_CODE_STAGES
#define SPARQ_CUDA_CODE_STAGES 1
#endif

using sparq::cuda::MmaArgs;

namespace {

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
__device__ __forceinline__ uint32_t hfma2(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t r;
  asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
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

  __device__ __forceinline__ void load(const MmaArgs &a, unsigned tile, unsigned chunk, unsigned chunks, int lane) {
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

__device__ __forceinline__ void cpAsync(void *smem, const uint32_t *gmem, int bytes) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  if (bytes == 16)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
  else if (bytes == 8)
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(s), "l"(gmem));
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cpAsyncWait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

/// Codes of narrow formats (up to 4 bits) stream through a per-warp ring of shared-memory stages
/// filled with cp.async: a chunk's codes are a few hundred bytes per tile, and a register
/// double buffer keeps too few bytes in flight to reach the memory bandwidth (measured: W4 and
/// W2 took as long as W8). Each lane copies and later reads only its own 16-byte slots, so the
/// per-thread cp.async.wait_group is the only synchronization.
template <int Bits, bool Sparse, int R> struct CodeStages {
  using Codes = ChunkCodes<Bits, Sparse>;
  static constexpr int units(int w) { return w ? mma::wordsPerLane(w, Sparse) / mma::unitWords(w, Sparse) : 0; }
  static constexpr int kUnitsPerTile = units(Codes::kW0) + units(Codes::kW1) + units(Codes::kW2);
  static constexpr int kSlots = R * kUnitsPerTile; // 16-byte slots per lane and stage
  static constexpr bool kEnabled = SPARQ_CUDA_CODE_STAGES && Bits <= 4;
  /// As many stages as 48 KiB of static shared memory holds for a block's 4 warps (2..6).
  static constexpr int kStages = kEnabled ? (49152 / (4 * kSlots * 512) > 6 ? 6 : 49152 / (4 * kSlots * 512)) : 1;
  static_assert(!kEnabled || kStages >= 2, "too few shared-memory stages");

  uint4 (*slots)[32]; // this warp's [kStages * kSlots][32 lanes]

  __device__ __forceinline__ void issue(const MmaArgs &a, unsigned tile0, unsigned ch, unsigned chunks, int lane, int stage) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      int slot = (stage * R + r) * kUnitsPerTile;
#pragma unroll
      for (int p = 0; p < 3; ++p) {
        if (mma::planeWidth(Bits, p) == 0)
          continue;
        const int wpl = mma::wordsPerLane(mma::planeWidth(Bits, p), Sparse),
                  uw = mma::unitWords(mma::planeWidth(Bits, p), Sparse);
        const uint32_t *base = a.planes[p] + ((tile0 + r) * chunks + ch) * mma::kLanes * wpl;
#pragma unroll
        for (int u = 0; u < wpl / uw; ++u, ++slot)
          cpAsync(&slots[slot][lane], base + (u * mma::kLanes + lane) * uw, 4 * uw);
      }
    }
  }

  __device__ __forceinline__ void read(int stage, int lane, Codes (&codes)[R]) const {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      int slot = (stage * R + r) * kUnitsPerTile;
      uint32_t *dst[3] = {codes[r].w0, codes[r].w1, codes[r].w2};
#pragma unroll
      for (int p = 0; p < 3; ++p) {
        if (mma::planeWidth(Bits, p) == 0)
          continue;
        const int wpl = mma::wordsPerLane(mma::planeWidth(Bits, p), Sparse),
                  uw = mma::unitWords(mma::planeWidth(Bits, p), Sparse);
#pragma unroll
        for (int u = 0; u < wpl / uw; ++u, ++slot) {
          const uint4 v = slots[slot][lane];
          const uint32_t vv[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
          for (int i = 0; i < uw; ++i)
            dst[p][u * uw + i] = vv[i];
        }
      }
    }
  }
};

template <int R, int MT> __device__ __forceinline__ void zeroTiles(float (&acc)[R][MT][4]) {
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < MT; ++t)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc[r][t][e] = 0.f;
}

/// The activation rows a lane reads (B fragment column g of each 8-token tile). Columns past M
/// read the last row instead of zeros: a column of D depends only on its own column of B and
/// those past M are never stored, so every lane loads unconditionally (no divergent branch
/// between the lanes of real and of padding tokens).
template <int MT>
__device__ __forceinline__ void activationRows(const MmaArgs &a, int g, const uint32_t *(&xrow)[MT]) {
#pragma unroll
  for (int t = 0; t < MT; ++t) {
    const int m = t * 8 + g < a.m ? t * 8 + g : a.m - 1;
    xrow[t] = reinterpret_cast<const uint32_t *>(a.x + static_cast<size_t>(m) * a.k);
  }
}

/// The B fragments of one chunk for one 8-token tile: dense, steps 2i and 2i + 1 in x[4i..4i+3]
/// (the 8 activations at mma::denseK(2i, c)); sparse, step s in x[4s..4s+3] (k = c + 8j).
template <bool Sparse>
__device__ __forceinline__ void loadActivations(const uint32_t *xrow, unsigned ch, int c, uint32_t (&x)[16]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    if constexpr (Sparse) {
#pragma unroll
      for (int j = 0; j < 4; ++j)
        x[4 * i + j] = __ldg(xrow + (ch * mma::kChunk + 32 * i + c + 8 * j) / 2);
    } else {
      uint4 v = __ldg(reinterpret_cast<const uint4 *>(xrow + (ch * mma::kChunk + mma::denseK(2 * i, c)) / 2));
      x[4 * i] = v.x, x[4 * i + 1] = v.y, x[4 * i + 2] = v.z, x[4 * i + 3] = v.w;
    }
  }
}

/// The B fragments of step s (dense: of its step pair, set at the pair's first step) for each
/// token tile: from the chunk's prefetched activations, or loaded now (64 tokens; only the loads
/// of this step's words survive, the rest of loadActivations is dead code).
template <bool Sparse, bool Prefetched, int MT>
__device__ __forceinline__ void stepFragments(int s, const uint32_t (&x)[Prefetched ? MT : 1][16],
                                              const uint32_t *const (&xrow)[MT], unsigned ch, int c,
                                              uint32_t (&b)[MT][4]) {
  const int base = Sparse ? 4 * s : 4 * (s / 2);
#pragma unroll
  for (int t = 0; t < MT; ++t) {
    if constexpr (Prefetched) {
#pragma unroll
      for (int j = 0; j < 4; ++j)
        b[t][j] = x[t][base + j];
    } else if (Sparse || s % 2 == 0) {
      uint32_t xs[16];
      loadActivations<Sparse>(xrow[t], ch, c, xs);
#pragma unroll
      for (int j = 0; j < 4; ++j)
        b[t][j] = xs[base + j];
    }
  }
}

/// Everything one chunk of R tiles needs besides the accumulators: codes, scales and zeros, 2:4
/// metadata and (for up to 16 tokens) the activations' B fragments. A warp loads the next chunk's
/// while it computes this one, so that no load's latency is exposed at its first use.
template <int Bits, bool Sparse, int R, int MT> struct ChunkData {
  static constexpr int kSteps = mma::stepsPerChunk(Sparse);
  static constexpr bool kQuant = Bits != mma::kHalfBits;
  /// Activations are prefetched with the chunk for up to 16 tokens; 64 tokens' would not fit in
  /// registers next to their accumulators, and are loaded step by step.
  static constexpr bool kX = MT <= 2;
  /// Codes are prefetched too, except where two chunks' codes and 64 tokens' accumulators would
  /// not fit (8- and 16-bit codes, MT = 8).
  static constexpr bool kCodes = !(Bits >= 8 && MT == 8) && !CodeStages<Bits, Sparse, R>::kEnabled;

  ChunkCodes<Bits, Sparse> codes[R];
  uint32_t scale[R][2], zero[R][2]; // raw fp16 of rows g and g + 8
  uint32_t meta[R][Sparse ? kSteps : 1];
  uint32_t x[kX ? MT : 1][16];      // B fragments: dense 4 per step pair, sparse 4 per step

  __device__ __forceinline__ void load(const MmaArgs &a, unsigned tile0, unsigned ch, unsigned chunks, int lane,
                                       const uint32_t *const (&xrow)[MT], bool withCodes) {
    const int g = lane >> 2, c = 2 * (lane & 3);
    if (withCodes)
#pragma unroll
      for (int r = 0; r < R; ++r)
        codes[r].load(a, tile0 + r, ch, chunks, lane);
    if constexpr (kQuant) {
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          unsigned idx = ((tile0 + r) * chunks + ch) * mma::kTileRows + g + 8 * h;
          scale[r][h] = __ldg(a.scales + idx);
          zero[r][h] = a.zeros ? __ldg(a.zeros + idx) : 0u;
        }
    }
    if constexpr (Sparse) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        uint4 v = __ldg(reinterpret_cast<const uint4 *>(a.meta + (((tile0 + r) * chunks + ch) * 16u + 2 * g + (lane & 1)) * 4u));
        meta[r][0] = v.x, meta[r][1] = v.y, meta[r][2] = v.z, meta[r][3] = v.w;
      }
    }
    if constexpr (kX)
#pragma unroll
      for (int t = 0; t < MT; ++t)
        loadActivations<Sparse>(xrow[t], ch, c, x[t]);
  }
};

/// Whole-chunk work of one warp: chunks [chBegin, chEnd) of tiles tile0 .. tile0 + R - 1, summed
/// into acc.
template <int Bits, bool Sparse, int R, int MT>
__device__ __forceinline__ void mmaChunks(const MmaArgs &a, unsigned tile0, unsigned chBegin, unsigned chEnd,
                                          float (&acc)[R][MT][4], CodeStages<Bits, Sparse, R> stages) {
  using Data = ChunkData<Bits, Sparse, R, MT>;
  constexpr int kSteps = Data::kSteps;
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, c = 2 * (lane & 3);
  const unsigned chunks = a.k / mma::kChunk;

  const uint32_t *xrow[MT];
  activationRows(a, g, xrow);
  // fp16 1024 + z is 0x6400 + z for 0 <= z < 1024.
  const uint32_t defaultZero = 0x6400u + (1u << ((Data::kQuant ? Bits : 1) - 1));

  using Stages = CodeStages<Bits, Sparse, R>;
  constexpr int kStages = Stages::kStages;
  if constexpr (Stages::kEnabled) {
    // Fill all stages but one; every iteration then waits for its own and refills the one it
    // read last. Chunks past the end are clamped to the last one (a redundant copy from L2) so
    // that every iteration commits exactly one group.
#pragma unroll
    for (int i = 0; i < kStages - 1; ++i) {
      stages.issue(a, tile0, chBegin + i < chEnd ? chBegin + i : chEnd - 1, chunks, lane, i);
      cpAsyncCommit();
    }
  }
  Data cur;
  cur.load(a, tile0, chBegin, chunks, lane, xrow, Data::kCodes);
  int stage = 0;
  for (unsigned ch = chBegin; ch < chEnd; ++ch) {
    if constexpr (Stages::kEnabled) {
      cpAsyncWait<kStages - 2>();
      stages.read(stage, lane, cur.codes);
      const unsigned ahead = ch + kStages - 1;
      stages.issue(a, tile0, ahead < chEnd ? ahead : chEnd - 1, chunks, lane, stage == 0 ? kStages - 1 : stage - 1);
      cpAsyncCommit();
      stage = stage + 1 == kStages ? 0 : stage + 1;
    }
    // The last iteration reloads its own chunk (from L2) rather than branch around the loads.
    Data next;
    next.load(a, tile0, ch + 1 < chEnd ? ch + 1 : ch, chunks, lane, xrow, Data::kCodes);
    if constexpr (!Data::kCodes && !Stages::kEnabled)
#pragma unroll
      for (int r = 0; r < R; ++r)
        cur.codes[r].load(a, tile0 + r, ch, chunks, lane);

    // Dense quantized codes go into the MMAs as 1024 + code (no subtraction): one more MMA per
    // step with an all-ones A gives each token's chunk sum S = sum x, and the chunk adds
    // scale (P - (1024 + zero) S) per row, so the zero point costs one FMA per accumulator and
    // chunk instead of one fp16 subtraction per weight pair. The products and S are exact and
    // accumulate in fp32 (the 1024 S cancelled at the end is at most 2^11 times the result's
    // magnitude: about 1e-5 relative, far under fp16 activations' rounding). W4 takes the codes
    // of rows g + 8 as 1024 + 16 code, without a shift; their scale and zero absorb the 16.
    // Sparse codes keep one fp16 subtraction per pair (their S would depend on each row's kept
    // positions), and so do 64 tokens (R = 1 there: the sums would double the MMAs). The scales
    // are applied to the chunk's partial sums after the MMAs (one FMA per accumulator and chunk,
    // not one multiply per weight pair).
    constexpr bool kSumZero = Data::kQuant && !Sparse && MT <= 2;
    uint32_t zr[R][2], nz16[R][2];
    float part[R][MT][4], xsum[MT][4];
    if constexpr (Data::kQuant) {
      if constexpr (!kSumZero) {
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            zr[r][h] = 0x10001u * (a.zeros ? cur.zero[r][h] : defaultZero);
            nz16[r][h] = hsub2(zr[r][h], 0x63806380u) ^ 0x80008000u; // -(1024 + z - 960)
          }
      }
      zeroTiles(part);
      zeroTiles(reinterpret_cast<float(&)[1][MT][4]>(xsum));
    }

    uint32_t b[MT][4]; // B fragments of the current step (dense: of the current step pair)
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      stepFragments<Sparse, Data::kX, MT>(s, cur.x, xrow, ch, c, b);
      if constexpr (kSumZero) {
        const uint32_t ones[4] = {0x3C003C00u, 0x3C003C00u, 0x3C003C00u, 0x3C003C00u};
#pragma unroll
        for (int t = 0; t < MT; ++t)
          mma16816(xsum[t], ones, b[t][2 * (s & 1)], b[t][2 * (s & 1) + 1]);
      }
#pragma unroll
      for (int r = 0; r < R; ++r) {
        uint32_t af[4];
        if constexpr (Bits == 4) {
          // The four pairs of a W4 step share one word, at bits 0, 4, 8, 12 (+16): pairs 0 and 2
          // (row g) become 1024 + code with one AND-OR each, pairs 1 and 3 (row g + 8)
          // 1024 + 16 code without a shift. Without the sums, the zero is subtracted here, and one
          // FMA by 1/16 brings pairs 1 and 3 back (exactly) while subtracting 64 + zero.
          const uint32_t w = cur.codes[r].w0[mma::pairWord(4 * s, 4)], w8 = w >> 8;
          af[0] = (w & 0x000F000Fu) | 0x64006400u;
          af[1] = (w & 0x00F000F0u) | 0x64006400u;
          af[2] = (w8 & 0x000F000Fu) | 0x64006400u;
          af[3] = (w8 & 0x00F000F0u) | 0x64006400u;
          if constexpr (!kSumZero) {
            af[0] = hsub2(af[0], zr[r][0]), af[2] = hsub2(af[2], zr[r][0]);
            af[1] = hfma2(af[1], 0x2C002C00u, nz16[r][1]), af[3] = hfma2(af[3], 0x2C002C00u, nz16[r][1]);
          }
        } else {
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            uint32_t v = cur.codes[r].pairBits(4 * s + i);
            if constexpr (Data::kQuant && !kSumZero)
              v = hsub2(v, zr[r][i & 1]);
            af[i] = v;
          }
        }
#pragma unroll
        for (int t = 0; t < MT; ++t) {
          float(&d)[4] = Data::kQuant ? part[r][t] : acc[r][t];
          if constexpr (Sparse)
            mmaSp16832(d, af, b[t], cur.meta[r][s]);
          else
            mma16816(d, af, b[t][2 * (s & 1)], b[t][2 * (s & 1) + 1]);
        }
      }
    }
    if constexpr (Data::kQuant) {
      // acc += scale (row) x (P - (1024 + zero) S); accumulator element e is row g + 8 (e >> 1).
#pragma unroll
      for (int r = 0; r < R; ++r) {
        float sc[2], z[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          sc[h] = __half2float(__ushort_as_half(static_cast<unsigned short>(cur.scale[r][h])));
          z[h] = __half2float(__ushort_as_half(static_cast<unsigned short>(a.zeros ? cur.zero[r][h] : defaultZero)));
        }
        if constexpr (kSumZero && Bits == 4) // rows g + 8: P = sum (1024 + 16 code) x
          sc[1] *= 0.0625f, z[1] = 16.f * z[1] - 15360.f;
#pragma unroll
        for (int t = 0; t < MT; ++t)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const float p = kSumZero ? fmaf(-z[e >> 1], xsum[t][e], part[r][t][e]) : part[r][t][e];
            acc[r][t][e] = fmaf(sc[e >> 1], p, acc[r][t][e]);
          }
      }
    }
    cur = next; // without kCodes, its codes are loaded or read at the top of the next iteration
  }
  if constexpr (Stages::kEnabled)
    cpAsyncWait<0>(); // nothing in flight into the stages when the next group reuses them
}

/// Binary-coded (shift-add) weights, W = sum_p alpha_p (2 B_p - 1) with B_p in {0, 1} and one
/// alpha per row, group of 128 and plane: each of the Q 1-bit planes goes through the tensor cores
/// as fp16 0/1 weights (partial sums P_p = sum B_p x, exact), a fourth product with an all-ones A
/// gives each token's group sum S = sum x, and the chunk adds alpha_p (2 P_p - S) per row. No
/// lookup table: the tensor cores do the additions that LUT-GEMM's tables precompute.
template <int Q, int R, int MT>
__device__ __forceinline__ void bcqChunks(const MmaArgs &a, unsigned tile0, unsigned chBegin, unsigned chEnd,
                                          float (&acc)[R][MT][4]) {
  constexpr int kSteps = mma::stepsPerChunk(false), kWpl = mma::wordsPerLane(1, false);
  constexpr bool kX = MT <= 2;
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, c = 2 * (lane & 3);
  const unsigned chunks = a.k / mma::kChunk;
  const uint32_t *xrow[MT];
  activationRows(a, g, xrow);
  struct Data {
    uint32_t w[R][Q][kWpl];
    uint32_t alpha[R][Q][2]; // raw fp16 of rows g and g + 8
    uint32_t x[kX ? MT : 1][16];
  };
  auto load = [&](unsigned ch, Data &d) {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int p = 0; p < Q; ++p) {
        loadLaneWords<1, false>(a.planes[p] + ((tile0 + r) * chunks + ch) * mma::kLanes * kWpl, lane, d.w[r][p]);
#pragma unroll
        for (int h = 0; h < 2; ++h)
          d.alpha[r][p][h] = __ldg(a.scales + (((tile0 + r) * chunks + ch) * Q + p) * mma::kTileRows + g + 8 * h);
        // (the index is mma::bcqScaleIndex)
      }
    if constexpr (kX)
#pragma unroll
      for (int t = 0; t < MT; ++t)
        loadActivations<false>(xrow[t], ch, c, d.x[t]);
  };
  Data cur;
  load(chBegin, cur);
  for (unsigned ch = chBegin; ch < chEnd; ++ch) {
    Data next;
    load(ch + 1 < chEnd ? ch + 1 : ch, next);
    float part[Q][R][MT][4], sum[MT][4];
    zeroTiles(reinterpret_cast<float(&)[1][MT][4]>(sum));
#pragma unroll
    for (int p = 0; p < Q; ++p)
      zeroTiles(part[p]);
    uint32_t b[MT][4];
#pragma unroll
    for (int s = 0; s < kSteps; ++s) {
      stepFragments<false, kX, MT>(s, cur.x, xrow, ch, c, b);
#pragma unroll
      for (int t = 0; t < MT; ++t) {
        const uint32_t ones[4] = {0x3C003C00u, 0x3C003C00u, 0x3C003C00u, 0x3C003C00u};
        mma16816(sum[t], ones, b[t][2 * (s & 1)], b[t][2 * (s & 1) + 1]);
      }
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int p = 0; p < Q; ++p) {
          uint32_t af[4];
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            const int pair = 4 * s + i;
            // Two bits to fp16 0.0 / 1.0 (0x3C00).
            af[i] = ((cur.w[r][p][mma::pairWord(pair, 1)] >> mma::pairShift(pair, 1, 0)) & 0x00010001u) * 0x3C00u;
          }
#pragma unroll
          for (int t = 0; t < MT; ++t)
            mma16816(part[p][r][t], af, b[t][2 * (s & 1)], b[t][2 * (s & 1) + 1]);
        }
    }
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int p = 0; p < Q; ++p) {
        const float a0 = __half2float(__ushort_as_half(static_cast<unsigned short>(cur.alpha[r][p][0])));
        const float a1 = __half2float(__ushort_as_half(static_cast<unsigned short>(cur.alpha[r][p][1])));
#pragma unroll
        for (int t = 0; t < MT; ++t)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const float al = e < 2 ? a0 : a1;
            acc[r][t][e] = fmaf(2.f * al, part[p][r][t][e], fmaf(-al, sum[t][e], acc[r][t][e]));
          }
      }
    cur = next;
  }
}

/// The work is a list of units (group of R tiles, chunk), group-major; warp w of W takes the
/// contiguous units [U w / W, U (w + 1) / W), so every warp streams consecutive weight bytes and
/// no SM idles behind a partial last wave. A warp stores the rows of a group it covers whole and
/// adds (atomically) into those it shares; the caller zeroes Y when any group is shared
/// (mma::outputAccumulates). With one block per group the block reduces in shared memory.
template <int Bits, bool Sparse, int R, int MT, int Q = 0>
__device__ __forceinline__ void mmaGemm(const MmaArgs &a) {
  constexpr int kWarps = sparq::cuda::kMmaThreads / 32;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, c = 2 * (lane & 3);
  const size_t chunks = a.k / mma::kChunk, groups = static_cast<size_t>(a.n) / (mma::kTileRows * R);
  const size_t units = groups * chunks, warps = static_cast<size_t>(gridDim.x) * kWarps;
  const size_t w = static_cast<size_t>(blockIdx.x) * kWarps + warp;
  const size_t uEnd = units * (w + 1) / warps;

  // Shared memory: the code stages of narrow formats, reused at the end for the block reduction.
  using Stages = CodeStages<Bits, Sparse, R>;
  constexpr int kStageUnits = Stages::kEnabled && Q == 0 ? kWarps * Stages::kStages * Stages::kSlots * 32 : 0;
  constexpr int kRedUnits = (kWarps - 1) * R * MT * 4 * 32 / 4; // floats, in 16-byte units
  __shared__ uint4 smem[kStageUnits > kRedUnits ? kStageUnits : kRedUnits];
  Stages stages{reinterpret_cast<uint4(*)[32]>(smem) + warp * Stages::kStages * Stages::kSlots};

  auto accumulate = [&](size_t group, size_t chBegin, size_t chEnd, float(&acc)[R][MT][4]) {
    zeroTiles(acc);
    if (chBegin >= chEnd)
      return;
    if constexpr (Q > 0)
      bcqChunks<Q, R, MT>(a, static_cast<unsigned>(group * R), static_cast<unsigned>(chBegin),
                          static_cast<unsigned>(chEnd), acc);
    else
      mmaChunks<Bits, Sparse, R, MT>(a, static_cast<unsigned>(group * R), static_cast<unsigned>(chBegin),
                                     static_cast<unsigned>(chEnd), acc, stages);
  };
  // Accumulator element e of tile r, token tile t: row g + 8 (e >> 1), token c + (e & 1).
  auto output = [&](size_t group, int r, int t, int e) -> float * {
    int m = t * 8 + c + (e & 1);
    size_t n = (group * R + r) * mma::kTileRows + g + 8 * (e >> 1);
    return m < a.m ? a.y + static_cast<size_t>(m) * a.n + n : nullptr;
  };

  if (gridDim.x == groups) {
    // Block mode (mma::outputAccumulates is false): block b's warps split group b's chunks; they
    // add their sums in shared memory and warp 0 stores, so Y needs no zeroing and no atomics.
    float acc[R][MT][4];
    accumulate(blockIdx.x, chunks * warp / kWarps, chunks * (warp + 1) / kWarps, acc);
    float *red = reinterpret_cast<float *>(smem);
    __syncthreads(); // every warp's stages are drained (mmaChunks waits for its copies)
    if (warp > 0)
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int t = 0; t < MT; ++t)
#pragma unroll
          for (int e = 0; e < 4; ++e)
            red[(((warp - 1) * R + r) * MT * 4 + t * 4 + e) * 32 + lane] = acc[r][t][e];
    __syncthreads();
    if (warp == 0)
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int t = 0; t < MT; ++t)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            float v = acc[r][t][e];
#pragma unroll
            for (int ww = 0; ww < kWarps - 1; ++ww)
              v += red[((ww * R + r) * MT * 4 + t * 4 + e) * 32 + lane];
            if (float *dst = output(blockIdx.x, r, t, e))
              *dst = v;
          }
    return;
  }

  for (size_t u = units * w / warps; u < uEnd;) {
    const size_t group = u / chunks, chBegin = u - group * chunks;
    const size_t chEnd = (uEnd < (group + 1) * chunks ? uEnd : (group + 1) * chunks) - group * chunks;
    float acc[R][MT][4];
    accumulate(group, chBegin, chEnd, acc);
    const bool whole = chBegin == 0 && chEnd == chunks;
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < MT; ++t)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          if (float *dst = output(group, r, t, e)) {
            if (whole)
              *dst = acc[r][t][e];
            else
              atomicAdd(dst, acc[r][t][e]);
          }
    u += chEnd - chBegin;
  }
}

} // namespace

#define SPARQ_BCQ_ENTRY(Q, R, MT)                                                                   \
  extern "C" __global__ void __launch_bounds__(128, 1) sparq_cuda_mma_bcq##Q##_r##R##_m##MT(const MmaArgs a) { \
    mmaGemm<16, false, R, MT, Q>(a);                                                                \
  }
#define SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, R, MT)                                                  \
  extern "C" __global__ void __launch_bounds__(128, 1) sparq_cuda_mma_##NAME##_r##R##_m##MT(const MmaArgs a) { \
    mmaGemm<BITS, SPARSE, R, MT>(a);                                                                \
  }
// Register tiles per format: R tiles of 16 rows x MT tiles of 8 tokens. The 16-bit and 8-bit
// formats hold more code registers per tile, so their larger shapes would spill (ptxas -v), and
// 64 tokens (MT = 8) take one tile at a time; the compile-only test (test/cuda) keeps every
// instantiated kernel free of spills.
#define SPARQ_MMA_SHAPES_WIDE(NAME, BITS, SPARSE)                                                   \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 1, 1)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 2, 1)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 1, 2)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 2, 2)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 1, 8)
#define SPARQ_MMA_SHAPES(NAME, BITS, SPARSE)                                                        \
  SPARQ_MMA_SHAPES_WIDE(NAME, BITS, SPARSE)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 4, 1)                                                         \
  SPARQ_MMA_ENTRY(NAME, BITS, SPARSE, 4, 2)

SPARQ_MMA_SHAPES_WIDE(f16, 16, false)
SPARQ_MMA_SHAPES_WIDE(w8, 8, false)
SPARQ_MMA_SHAPES(w4, 4, false)
SPARQ_MMA_SHAPES(w3, 3, false)
SPARQ_MMA_SHAPES(w2, 2, false)
SPARQ_MMA_SHAPES(sp24w4, 4, true)
SPARQ_MMA_SHAPES_WIDE(sp24f16, 16, true)
// Shift-add (binary-coded) weights with 2 and 3 planes, up to 16 tokens (64 tokens' partial sums
// per plane would spill).
#define SPARQ_BCQ_SHAPES(Q)                                                                         \
  SPARQ_BCQ_ENTRY(Q, 1, 1)                                                                          \
  SPARQ_BCQ_ENTRY(Q, 2, 1)                                                                          \
  SPARQ_BCQ_ENTRY(Q, 4, 1)                                                                          \
  SPARQ_BCQ_ENTRY(Q, 1, 2)                                                                          \
  SPARQ_BCQ_ENTRY(Q, 2, 2)
SPARQ_BCQ_SHAPES(2)
SPARQ_BCQ_SHAPES(3)
