//===- test/unit/Formats/MmaPanelsTest.cpp - tensor-core weight layout -----===//
//
// The CUDA kernels (runtime/kernels/cuda/MmaGemm.cu) run only on a GPU, which CI lacks. These
// tests check, on the CPU, the contract between the packer (Formats/MmaPanels.h) and the way the
// kernels read the packed words: an emulation that reads each lane's words and activations the
// way the kernels do, places them with the PTX fragment layouts of mma.m16n8k16 / mma.sp.m16n8k32
// (written here from the PTX ISA, independently of the header) and multiplies, must reproduce a
// plain integer matrix product. The fp16 conversions are checked against the compiler's _Float16.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/MmaPanels.h"
#include "sparq/Formats/PackedFormats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace mma = sparq::formats::mma;
namespace fmt = sparq::formats;

namespace {

// PTX ISA, "Matrix fragments for mma.m16n8k16 with floating point type": A (16 x 16, row) element
// a_{2i+h} of a lane (group g = lane / 4, thread t = lane % 4) is at row g + 8 (i % 2), column
// 2t + h + 8 (i / 2); B (16 x 8, col) element b_{2j+h} is at row (k) 2t + h + 8j, column g. The
// sparse m16n8k32 form uses the same A layout over the 16 kept columns and four B registers.
int aRow(int lane, int i) { return lane / 4 + 8 * (i % 2); }
int aCol(int lane, int i, int h) { return 2 * (lane % 4) + h + 8 * (i / 2); }
int bK(int lane, int j, int h) { return 2 * (lane % 4) + h + 8 * j; }

/// The code of pair `pair`, element h, of `lane` in (tile, chunk), as the kernels assemble it
/// from the planes.
uint32_t readCode(const std::vector<std::vector<uint32_t>> &planes, int bits, bool sparse, size_t tile,
                  size_t chunk, size_t chunks, int lane, int pair, int h) {
  uint32_t code = 0;
  for (int p = 0; p < mma::numPlanes(bits); ++p) {
    int w = mma::planeWidth(bits, p);
    uint32_t word =
        planes[p][mma::planeWordIndex(tile, chunk, chunks, lane, mma::pairWord(pair, w), w, sparse)];
    uint32_t mask = w == 16 ? 0xffffu : (1u << w) - 1u;
    code |= ((word >> mma::pairShift(pair, w, h)) & mask) << mma::planeOffset(bits, p);
  }
  return code;
}

/// The activation index (within the chunk) of B element (j, h) of `lane` in step s, as the kernels
/// load it: dense, 16 bytes at denseK(2i, 2t) per step pair (words 2 (s % 2) + j); sparse,
/// 4 bytes at 32 s + 2t + 8j.
int activationK(bool sparse, int lane, int s, int j, int h) {
  if (sparse)
    return 32 * s + 2 * (lane % 4) + 8 * j + h;
  return mma::denseK(s - s % 2, 2 * (lane % 4)) + 4 * (s % 2) + 2 * j + h;
}

struct Problem {
  size_t n, k, m;
  int bits;
  bool sparse;
};

/// Packs random codes, emulates the kernels' reads and the MMAs, and compares with the product.
void checkEmulatedProduct(const Problem &pb, unsigned seed) {
  std::mt19937 rng(seed);
  const size_t rowLen = pb.sparse ? pb.k / 2 : pb.k, chunks = pb.k / mma::kChunk;
  const uint32_t codeMax = pb.bits == 16 ? 0xffffu : (1u << pb.bits) - 1;
  std::vector<uint16_t> codes(pb.n * rowLen);
  for (auto &c : codes)
    c = static_cast<uint16_t>(rng() % (codeMax + 1));
  std::vector<uint8_t> pos(pb.sparse ? pb.n * rowLen : 0);
  for (size_t i = 0; i < pos.size(); i += 2) { // two increasing positions per group of four
    int a = rng() % 4, b = rng() % 3;
    if (b >= a)
      ++b;
    pos[i] = static_cast<uint8_t>(std::min(a, b));
    pos[i + 1] = static_cast<uint8_t>(std::max(a, b));
  }
  std::vector<int64_t> x(pb.m * pb.k);
  for (auto &v : x)
    v = static_cast<int64_t>(rng() % 17) - 8;

  std::vector<std::vector<uint32_t>> planes(mma::numPlanes(pb.bits));
  std::vector<uint32_t *> ptrs;
  for (int p = 0; p < mma::numPlanes(pb.bits); ++p) {
    planes[p].assign(mma::planeWords(pb.n, pb.k, mma::planeWidth(pb.bits, p), pb.sparse), 0xdeadbeef);
    ptrs.push_back(planes[p].data());
  }
  mma::packPlanes(codes.data(), pb.n, pb.k, pb.bits, pb.sparse, ptrs.data());
  std::vector<uint32_t> meta(pb.sparse ? mma::metaWords(pb.n, pb.k) : 0);
  if (pb.sparse)
    mma::packMeta(pos.data(), pb.n, pb.k, meta.data());

  // Emulation: C[16 rows][8 tokens] += A[16][K step] x B[K step][8] per tile, chunk and step.
  std::vector<int64_t> y(pb.m * pb.n, 0);
  const int steps = mma::stepsPerChunk(pb.sparse), stepK = pb.sparse ? 32 : 16;
  for (size_t t = 0; t < pb.n / mma::kTileRows; ++t)
    for (size_t ch = 0; ch < chunks; ++ch)
      for (int s = 0; s < steps; ++s) {
        int64_t a[16][32] = {}, b[32][8] = {};
        for (int lane = 0; lane < 32; ++lane) {
          for (int i = 0; i < 4; ++i)
            for (int h = 0; h < 2; ++h) {
              int row = aRow(lane, i), col = aCol(lane, i, h);
              int64_t v = readCode(planes, pb.bits, pb.sparse, t, ch, chunks, lane, 4 * s + i, h);
              if (pb.sparse) {
                // Metadata of row `row`, kept column `col`: from the lane of group row % 8 whose
                // lane % 2 is col / 8 (sparsity selector 0), 16 bits per row half.
                uint32_t word = meta[mma::metaIndex(t, ch, chunks, row % 8, col / 8, s)];
                int p = (word >> (16 * (row / 8) + 2 * (col % 8))) & 3;
                a[row][4 * (col / 2) + p] = v;
              } else {
                a[row][col] = v;
              }
            }
          for (int j = 0; j < (pb.sparse ? 4 : 2); ++j)
            for (int h = 0; h < 2; ++h) {
              size_t token = lane / 4;
              if (token < pb.m)
                b[bK(lane, j, h)][token] = x[token * pb.k + ch * mma::kChunk + activationK(pb.sparse, lane, s, j, h)];
            }
        }
        for (int r = 0; r < 16; ++r)
          for (size_t tok = 0; tok < pb.m; ++tok) {
            int64_t sum = 0;
            for (int kk = 0; kk < stepK; ++kk)
              sum += a[r][kk] * b[kk][tok];
            y[tok * pb.n + t * mma::kTileRows + r] += sum;
          }
      }

  for (size_t tok = 0; tok < pb.m; ++tok)
    for (size_t row = 0; row < pb.n; ++row) {
      int64_t ref = 0;
      for (size_t j = 0; j < rowLen; ++j) {
        size_t kk = pb.sparse ? 4 * (j / 2) + pos[row * rowLen + j] : j;
        ref += static_cast<int64_t>(codes[row * rowLen + j]) * x[tok * pb.k + kk];
      }
      ASSERT_EQ(y[tok * pb.n + row], ref) << "bits " << pb.bits << (pb.sparse ? " 2:4" : "") << " token " << tok
                                          << " row " << row;
    }
}

} // namespace

TEST(MmaPanels, PlaneDecomposition) {
  for (int bits = 1; bits <= 8; ++bits) {
    int total = 0;
    for (int p = 0; p < mma::numPlanes(bits); ++p) {
      EXPECT_EQ(mma::planeOffset(bits, p), total);
      total += mma::planeWidth(bits, p);
    }
    EXPECT_EQ(total, bits);
    EXPECT_EQ(mma::planeWidth(bits, mma::numPlanes(bits)), 0);
  }
  EXPECT_EQ(mma::numPlanes(16), 1);
  EXPECT_EQ(mma::planeWidth(16, 1), 0);
}

TEST(MmaPanels, DenseKIsAPermutationOfEachChunk) {
  std::vector<int> seen(mma::kChunk, 0);
  for (int s = 0; s < mma::stepsPerChunk(false); ++s)
    for (int col = 0; col < 16; ++col)
      ++seen[mma::denseK(s, col)];
  for (int v : seen)
    EXPECT_EQ(v, 1);
}

TEST(MmaPanels, EmulatedDenseProduct) {
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 16})
    checkEmulatedProduct({32, 256, 8, bits, false}, 100 + bits);
  checkEmulatedProduct({48, 384, 3, 4, false}, 7); // fewer tokens than an 8-token tile
}

TEST(MmaPanels, EmulatedSparseProduct) {
  for (int bits : {2, 4, 8, 16})
    checkEmulatedProduct({32, 256, 8, bits, true}, 200 + bits);
}

TEST(MmaPanels, GroupShared) {
  // 4 groups of 8 chunks: 1, 2 or 4 warps split at group boundaries; 3 warps split inside
  // groups, and 8 warps split each group in two.
  EXPECT_FALSE(mma::groupShared(32, 8, 4));
  EXPECT_FALSE(mma::groupShared(32, 8, 2));
  EXPECT_FALSE(mma::groupShared(32, 8, 1));
  EXPECT_TRUE(mma::groupShared(32, 8, 3));
  EXPECT_TRUE(mma::groupShared(32, 8, 8));
  // One block of 4 warps per group reduces in shared memory: no atomics.
  EXPECT_FALSE(mma::outputAccumulates(4, 8, 16));
  EXPECT_TRUE(mma::outputAccumulates(4, 8, 8));
  EXPECT_FALSE(mma::outputAccumulates(4, 8, 4));
}

TEST(MmaPanels, HalfConversionMatchesFloat16) {
  // Every fp16 value converts to float exactly, and back to the same bits.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    _Float16 ref;
    uint16_t bits = static_cast<uint16_t>(h);
    std::memcpy(&ref, &bits, 2);
    float f = mma::halfToFloat(bits);
    if (std::isnan(static_cast<float>(ref))) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    ASSERT_EQ(f, static_cast<float>(ref)) << std::hex << h;
    ASSERT_EQ(mma::halfFromFloat(f), bits) << std::hex << h;
  }
  // Rounding of floats between fp16 values, subnormals and overflow included.
  std::mt19937 rng(3);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    if (std::isnan(f))
      continue;
    _Float16 ref = static_cast<_Float16>(f);
    uint16_t want;
    std::memcpy(&want, &ref, 2);
    ASSERT_EQ(mma::halfFromFloat(f), want) << f;
    float g = std::ldexp(static_cast<float>(static_cast<int32_t>(u) % 100000), static_cast<int>(u % 40) - 34);
    ref = static_cast<_Float16>(g);
    std::memcpy(&want, &ref, 2);
    ASSERT_EQ(mma::halfFromFloat(g), want) << g;
  }
}
