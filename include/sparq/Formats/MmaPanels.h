//===- include/sparq/Formats/MmaPanels.h - tensor-core weight layout -*- C++ -*-===//
//
// The single definition of the weight layout sparq's CUDA GEMM/GEMV kernels read
// (runtime/cuda/MmaGemm.cu): weights packed at compile time so that each lane of a warp loads, with
// coalesced 16-byte loads, exactly the codes of its own A fragment of the tensor-core instruction
// `mma.sync.m16n8k16` (dense) or `mma.sp.sync.m16n8k32` (2:4 sparse) and dequantizes them in
// registers. The weight matrix W (N output rows x K) is the A operand; the activations are B.
//
// Geometry. Rows are cut into tiles of 16 rows, K into chunks of 128 values (one quantization
// group). One chunk is 8 dense mma steps of 16 k, or 4 sparse steps of 32 k (16 kept values). In
// one step lane l (g = l / 4, c = 2 (l % 4)) holds four pairs of fragment elements, pair i at row
// g + 8 (i & 1) and columns c + 8 (i >> 1) + {0, 1} (columns are k for dense steps, kept-value
// indices for sparse ones), which is the PTX A-fragment layout of both instructions. A dense
// chunk's k are permuted (denseK): any permutation inside a chunk leaves the dot products
// unchanged, and this one makes the activations of a lane's B fragments for steps 2i and 2i + 1
// eight consecutive values, one 16-byte load.
//
// Codes. A `bits`-bit code (1..8, unsigned, value = (code - zero) * scale) is split into planes of
// 8/4/2/1 bits, widest first, holding successively higher code bits (3 = 2 + 1, 7 = 4 + 2 + 1).
// In a plane of width w the pair index P = 4 step + i of a chunk puts its two codes at bits
// s and 16 + s of the lane's word P w / 16, s = P w % 16, so that one AND with a 0x000F000F-style
// mask and one OR with 0x64006400 turn two codes into an fp16 pair 1024 + code. Width 16 is the
// fp16 dense format (the pair is the fp16 values themselves). A lane owns wordsPerLane consecutive
// words of each (tile, chunk) of a plane, stored in units of up to four words, unit-major and then
// lane-major, so each unit load of a warp reads 32 consecutive units.
//
// Scales and zero points: fp16, [tile][chunk][16 rows]; the zero is stored as 1024 + zero so the
// kernel subtracts it from 1024 + code exactly.
//
// 2:4 metadata: per (tile, chunk) 16 words x 4 steps, [tile][chunk][2 row + half][step]: the low 16
// bits hold the in-group positions (2 bits each, kept value j at bits 2j) of kept values
// 8 half .. 8 half + 7 of row `row`, the high 16 bits the same for row + 8 (PTX sparsity
// selector 0: lanes 4q and 4q + 1 supply it).
//
// Header-only, C++17, freestanding.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_FORMATS_MMAPANELS_H
#define SPARQ_FORMATS_MMAPANELS_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sparq::formats::mma {

constexpr int kTileRows = 16;
constexpr int kChunk = 128;
constexpr int kLanes = 32;
/// Bits of the fp16 dense format, treated as one plane of width 16.
constexpr int kHalfBits = 16;

constexpr bool validBits(int bits) { return (bits >= 1 && bits <= 8) || bits == kHalfBits; }
constexpr int numPlanes(int bits) {
  return bits == kHalfBits ? 1 : ((bits >> 3) & 1) + ((bits >> 2) & 1) + ((bits >> 1) & 1) + (bits & 1);
}
/// Width of plane p (widest first): the p-th set bit of `bits` from the top.
constexpr int planeWidth(int bits, int p) {
  if (bits == kHalfBits)
    return p == 0 ? kHalfBits : 0;
  for (int w = 8; w >= 1; w >>= 1)
    if (bits & w) {
      if (p == 0)
        return w;
      --p;
    }
  return 0;
}
/// Lowest code bit plane p holds.
constexpr int planeOffset(int bits, int p) {
  int off = 0;
  for (int q = 0; q < p; ++q)
    off += planeWidth(bits, q);
  return off;
}
constexpr int stepsPerChunk(bool sparse) { return sparse ? 4 : 8; }
constexpr int wordsPerLane(int width, bool sparse) { return stepsPerChunk(sparse) * width / 4; }
constexpr int unitWords(int width, bool sparse) {
  return wordsPerLane(width, sparse) < 4 ? wordsPerLane(width, sparse) : 4;
}
/// Words of one plane of an N x K weight.
constexpr size_t planeWords(size_t n, size_t k, int width, bool sparse) {
  return (n / kTileRows) * (k / kChunk) * kLanes * wordsPerLane(width, sparse);
}
/// Whether the kernels take an N x K weight: no partial tiles or chunks, and every packed array
/// (at most N x K words, for fp16) indexable with 32 bits.
constexpr bool shapeSupported(size_t n, size_t k) {
  return n > 0 && k > 0 && n % kTileRows == 0 && k % kChunk == 0 && n * k < (size_t(1) << 32);
}

/// Index of word u (0 .. wordsPerLane-1) of `lane` in (tile, chunk) of a plane.
constexpr size_t planeWordIndex(size_t tile, size_t chunk, size_t chunks, int lane, int u, int width,
                                bool sparse) {
  const int wpl = wordsPerLane(width, sparse), uw = unitWords(width, sparse);
  return (tile * chunks + chunk) * kLanes * wpl + static_cast<size_t>((u / uw) * kLanes + lane) * uw +
         u % uw;
}

/// Row (within the tile) and column (within the step) of element h of pair i of `lane`.
constexpr int fragRow(int lane, int i) { return (lane >> 2) + 8 * (i & 1); }
constexpr int fragCol(int lane, int i, int h) { return 2 * (lane & 3) + 8 * (i >> 1) + h; }

/// The k (within its chunk) of fragment column `col` of dense step `step`: in each block of four
/// steps (64 k), the columns 2q + 8j + h of step s are k = 16q + 4s + 2j + h, so the B fragments
/// lane q needs for steps s and s + 1 (s even) are the 8 activations from denseK(s, 2q).
constexpr int denseK(int step, int col) {
  return (step / 4) * 64 + 16 * ((col & 7) >> 1) + 4 * (step & 3) + 2 * (col >> 3) + (col & 1);
}

/// Word (within the lane's words) and bit of element h of pair P (= 4 step + i) in a plane.
constexpr int pairWord(int pair, int width) { return pair * width / 16; }
constexpr int pairShift(int pair, int width, int h) { return pair * width % 16 + 16 * h; }

/// Index of the scale / zero of (row n, chunk) in the [tile][chunk][16] layout.
constexpr size_t scaleIndex(size_t n, size_t chunk, size_t chunks) {
  return ((n / kTileRows) * chunks + chunk) * kTileRows + n % kTileRows;
}

/// Binary-coded (shift-add) weights: each of the q sign planes (bit 1 for +1) is a 1-bit plane of
/// the layout above, and the fp16 alpha of (row n, chunk, plane) is at [tile][chunk][plane][16].
constexpr size_t bcqScaleIndex(size_t n, size_t chunk, size_t chunks, int plane, int planes) {
  return (((n / kTileRows) * chunks + chunk) * planes + plane) * kTileRows + n % kTileRows;
}

/// Whether a launch of `warps` warps over `units` = groups x `chunks` units shares a group between
/// warps (then its rows are summed with atomics and Y must start at zero).
constexpr bool groupShared(size_t units, size_t chunks, size_t warps) {
  for (size_t w = 1; w < warps; ++w)
    if (units * w / warps % chunks != 0 && units * w / warps < units)
      return true;
  return false;
}

/// Whether a kernel launch of `warps` warps (blocks of 4) over `groups` groups of `chunks` chunks
/// adds into Y with atomics, so that Y must be zeroed first: when a group is shared between
/// warps, unless there is exactly one block per group (its warps reduce in shared memory).
constexpr bool outputAccumulates(size_t groups, size_t chunks, size_t warps) {
  return warps != 4 * groups && groupShared(groups * chunks, chunks, warps);
}

/// Words of 2:4 metadata of an N x K weight, and the index of (tile, chunk, row 0..7, half, step).
constexpr size_t metaWords(size_t n, size_t k) {
  return (n / kTileRows) * (k / kChunk) * 16 * stepsPerChunk(true);
}
constexpr size_t metaIndex(size_t tile, size_t chunk, size_t chunks, int row, int half, int step) {
  return ((tile * chunks + chunk) * 16 + 2 * row + half) * stepsPerChunk(true) + step;
}

//===----------------------------------------------------------------------===//
// fp16 conversion (round to nearest even), host side
//===----------------------------------------------------------------------===//

inline uint16_t halfFromFloat(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u)
    return static_cast<uint16_t>(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (ax >= 0x477ff000u) // rounds to >= 65520: overflow
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (ax < 0x38800000u) { // subnormal or zero in fp16
    if (ax < 0x33000000u)
      return static_cast<uint16_t>(sign);
    // value = mant 2^(e - 150); an fp16 subnormal counts units of 2^-24.
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    int shift = 126 - static_cast<int>(ax >> 23);
    uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1)))
      ++q;
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u) - (112u << 23);
  return static_cast<uint16_t>(sign | (r >> 13));
}

inline float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
  if (e == 0) {
    float v = static_cast<float>(m) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (e == 31)
    x = sign | 0x7f800000u | (m << 13);
  else
    x = sign | ((e + 112u) << 23) | (m << 13);
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

/// Packs the codes of an N x K weight (one byte per code, row-major; for bits == 16 the fp16 bit
/// patterns as uint16) into its planes: plane p is `planes[p]`, planeWords(N, K, width p) words.
/// For a sparse weight K is the dense K and `codes` holds the N x K/2 kept values' codes in the
/// order of PackedFormats.h's N:M rows (two per group of four, increasing position). Only tiles
/// [tileBegin, tileEnd) are written (all by default), so that callers can pack in parallel.
template <typename Code>
void packPlanes(const Code *codes, size_t n, size_t k, int bits, bool sparse, uint32_t *const *planes,
                size_t tileBegin = 0, size_t tileEnd = SIZE_MAX) {
  const size_t chunks = k / kChunk, rowLen = sparse ? k / 2 : k;
  if (tileEnd > n / kTileRows)
    tileEnd = n / kTileRows;
  const int steps = stepsPerChunk(sparse), stepCols = 16;
  for (int p = 0; p < numPlanes(bits); ++p) {
    const int width = planeWidth(bits, p), off = planeOffset(bits, p);
    const uint32_t mask = (1u << width) - 1u;
    const size_t tileWords = chunks * kLanes * wordsPerLane(width, sparse);
    for (size_t w = tileBegin * tileWords; w < tileEnd * tileWords; ++w)
      planes[p][w] = 0;
    for (size_t t = tileBegin; t < tileEnd; ++t)
      for (size_t ch = 0; ch < chunks; ++ch)
        for (int lane = 0; lane < kLanes; ++lane)
          for (int s = 0; s < steps; ++s)
            for (int i = 0; i < 4; ++i)
              for (int h = 0; h < 2; ++h) {
                size_t row = t * kTileRows + fragRow(lane, i);
                size_t col = sparse ? ch * (kChunk / 2) + s * stepCols + fragCol(lane, i, h)
                                    : ch * kChunk + denseK(s, fragCol(lane, i, h));
                uint32_t v = (static_cast<uint32_t>(codes[row * rowLen + col]) >> off) & mask;
                int pair = 4 * s + i;
                planes[p][planeWordIndex(t, ch, chunks, lane, pairWord(pair, width), width, sparse)] |=
                    v << pairShift(pair, width, h);
              }
  }
}

/// Packs the 2:4 metadata of an N x K weight from the kept values' in-group positions (N x K/2,
/// one byte each, 0..3, increasing within each group), tiles [tileBegin, tileEnd).
inline void packMeta(const uint8_t *pos, size_t n, size_t k, uint32_t *meta, size_t tileBegin = 0,
                     size_t tileEnd = SIZE_MAX) {
  const size_t chunks = k / kChunk, rowLen = k / 2;
  if (tileEnd > n / kTileRows)
    tileEnd = n / kTileRows;
  for (size_t t = tileBegin; t < tileEnd; ++t)
    for (size_t ch = 0; ch < chunks; ++ch)
      for (int r = 0; r < 8; ++r)
        for (int half = 0; half < 2; ++half)
          for (int s = 0; s < stepsPerChunk(true); ++s) {
            uint32_t word = 0;
            for (int rr = 0; rr < 2; ++rr) {
              size_t row = t * kTileRows + r + 8 * rr;
              for (int j = 0; j < 8; ++j) {
                size_t col = ch * (kChunk / 2) + s * 16 + half * 8 + j;
                word |= static_cast<uint32_t>(pos[row * rowLen + col] & 3u) << (16 * rr + 2 * j);
              }
            }
            meta[metaIndex(t, ch, chunks, r, half, s)] = word;
          }
}

} // namespace sparq::formats::mma

#endif // SPARQ_FORMATS_MMAPANELS_H
