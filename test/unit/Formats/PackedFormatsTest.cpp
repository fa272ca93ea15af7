//===- test/unit/Formats/PackedFormatsTest.cpp - packed layout tests ---------===//
//
// Checks the packed layouts of include/sparq/Formats/PackedFormats.h against hand-computed bytes
// and plain reference loops written here, and round-trips every bit width, every N:M with
// M in {4, 8, 16}, and BCQ with q = 1..4, including K that is not a multiple of the group.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/PackedFormats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace sparq::formats;

namespace {

TEST(SubByteCodes, HandComputedBytes) {
  // Four 2-bit codes 1,2,3,0 -> bits 01 10 11 00 (LSB first) = 0b00111001.
  uint8_t codes2[4] = {1, 2, 3, 0};
  uint8_t out[1];
  packCodes(codes2, 4, 2, out);
  EXPECT_EQ(out[0], 0x39);
  // Three 3-bit codes 7,1,5: bits 111 100 101 -> byte0 = 0b01 001 111 = 0x4F, byte1 = 0b1 = 0x01.
  uint8_t codes3[3] = {7, 1, 5};
  uint8_t out3[2];
  packCodes(codes3, 3, 3, out3);
  EXPECT_EQ(out3[0], 0x4F);
  EXPECT_EQ(out3[1], 0x01);
  // 4-bit: low nibble first.
  uint8_t codes4[2] = {0xA, 0x3};
  packCodes(codes4, 2, 4, out);
  EXPECT_EQ(out[0], 0x3A);
}

TEST(SubByteCodes, SignedEncoding) {
  EXPECT_EQ(encode(-1, 4), 0xF);
  EXPECT_EQ(decode(0xF, 4, /*isSigned=*/true), -1);
  EXPECT_EQ(decode(0x8, 4, true), -8);
  EXPECT_EQ(decode(0x8, 4, false), 8);
  EXPECT_EQ(minValue(3, true), -4);
  EXPECT_EQ(maxValue(3, true), 3);
  EXPECT_EQ(maxValue(3, false), 7);
  EXPECT_EQ(decode(encode(-1, 1), 1, true), -1);
}

TEST(SubByteCodes, RoundTripEveryWidthSignedAndUnsigned) {
  std::mt19937 rng(7);
  for (unsigned bits = 1; bits <= 8; ++bits) {
    for (bool isSigned : {false, true}) {
      for (size_t count : {1u, 7u, 8u, 13u, 64u, 129u}) {
        std::uniform_int_distribution<int> dist(minValue(bits, isSigned), maxValue(bits, isSigned));
        std::vector<int> values(count);
        std::vector<uint8_t> codes(count), packed(packedRowBytes(count, bits) + 1, 0xEE),
            back(count);
        for (size_t i = 0; i < count; ++i) {
          values[i] = dist(rng);
          codes[i] = encode(values[i], bits);
        }
        packCodes(codes.data(), count, bits, packed.data());
        EXPECT_EQ(packed.back(), 0xEE) << "wrote past packedRowBytes";
        unpackCodes(packed.data(), count, bits, back.data());
        for (size_t i = 0; i < count; ++i)
          ASSERT_EQ(decode(back[i], bits, isSigned), values[i])
              << "bits=" << bits << " signed=" << isSigned << " count=" << count << " i=" << i;
        // Unused high bits of the last byte are zero.
        size_t used = count * bits % 8;
        if (used)
          EXPECT_EQ(packed[packedRowBytes(count, bits) - 1] >> used, 0);
      }
    }
  }
}

TEST(Groups, PartialLastGroup) {
  EXPECT_EQ(numGroups(300, 128), 3u);
  EXPECT_EQ(numGroups(256, 128), 2u);
  EXPECT_EQ(numGroups(5, 0), 1u);
  EXPECT_EQ(groupOf(299, 128), 2u);
  EXPECT_EQ(groupOf(299, 0), 0u);
}

/// Reference N:M pruning: sort each group's positions by (|x| descending, position ascending).
std::vector<float> referencePrune(const std::vector<float> &x, unsigned n, unsigned m) {
  std::vector<float> out(x.size(), 0.0f);
  for (size_t g0 = 0; g0 < x.size(); g0 += m) {
    std::vector<size_t> idx;
    for (size_t j = g0; j < std::min(x.size(), g0 + m); ++j)
      idx.push_back(j);
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return std::fabs(x[a]) > std::fabs(x[b]); });
    for (size_t i = 0; i < idx.size() && i < n; ++i)
      out[idx[i]] = x[idx[i]];
  }
  return out;
}

TEST(NM, IndexBits) {
  EXPECT_EQ(nmIndexBits(4), 2u);
  EXPECT_EQ(nmIndexBits(8), 3u);
  EXPECT_EQ(nmIndexBits(16), 4u);
  EXPECT_EQ(nmIndexBits(6), 3u);
  EXPECT_EQ(nmKeptPerRow(10, 2, 4), 6u); // padded to 12 -> 3 groups
  EXPECT_TRUE(nmValid(2, 4));
  EXPECT_FALSE(nmValid(4, 4));
  EXPECT_FALSE(nmValid(1, 17));
}

TEST(NM, HandComputed2of4) {
  // Row [0, 3, -5, 1 | 2, 0, 0, -7]: keep {3, -5} (positions 1,2) and {2, -7} (positions 0,3).
  float row[8] = {0, 3, -5, 1, 2, 0, 0, -7};
  float pruned[8];
  nmPruneRow(row, 8, 2, 4, pruned);
  float expect[8] = {0, 3, -5, 0, 2, 0, 0, -7};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(pruned[i], expect[i]);
  float values[4];
  uint8_t idx[1];
  ASSERT_TRUE(nmPackRow(pruned, 8, 2, 4, values, idx));
  EXPECT_EQ(values[0], 3);
  EXPECT_EQ(values[1], -5);
  EXPECT_EQ(values[2], 2);
  EXPECT_EQ(values[3], -7);
  // Index codes 1, 2, 0, 3 (2 bits each, LSB first) = 0b11 00 10 01 = 0xC9.
  EXPECT_EQ(idx[0], 0xC9);
}

TEST(NM, PruneMatchesReferenceAndRoundTripsForEveryNM) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (unsigned m : {4u, 8u, 16u}) {
    for (unsigned n = 1; n < m; ++n) {
      for (size_t k : {size_t(m), size_t(3 * m), size_t(3 * m + 1), size_t(5 * m - 1), size_t(1)}) {
        std::vector<float> x(k);
        for (float &v : x)
          v = dist(rng);
        if (k > 2)
          x[1] = 0.0f; // groups with fewer than N non-zeros keep zeros
        std::vector<float> pruned(k);
        nmPruneRow(x.data(), k, n, m, pruned.data());
        ASSERT_EQ(pruned, referencePrune(x, n, m)) << n << ":" << m << " k=" << k;
        ASSERT_TRUE(nmIsValidRow(pruned.data(), k, n, m));
        std::vector<float> values(nmKeptPerRow(k, n, m));
        std::vector<uint8_t> idx(nmIndexRowBytes(k, n, m) + 1, 0xEE);
        ASSERT_TRUE(nmPackRow(pruned.data(), k, n, m, values.data(), idx.data()));
        EXPECT_EQ(idx.back(), 0xEE) << "wrote past nmIndexRowBytes";
        std::vector<float> back(k, 123.0f);
        nmUnpackRow(values.data(), idx.data(), k, n, m, back.data());
        ASSERT_EQ(back, pruned) << n << ":" << m << " k=" << k;
      }
    }
  }
}

TEST(NM, PackRejectsInvalidRow) {
  float row[4] = {1, 2, 3, 0};
  float values[2];
  uint8_t idx[1];
  EXPECT_FALSE(nmIsValidRow(row, 4, 2, 4));
  EXPECT_FALSE(nmPackRow(row, 4, 2, 4, values, idx));
}

TEST(BCQ, HandComputedByte) {
  float signs[10] = {1, -1, 1, 1, -1, -1, -1, 1, -1, 1};
  uint8_t row[2];
  bcqPackRow(signs, 10, row);
  // +1 bits at positions 0,2,3,7 -> 0b10001101 = 0x8D; position 9 -> 0x02.
  EXPECT_EQ(row[0], 0x8D);
  EXPECT_EQ(row[1], 0x02);
  EXPECT_EQ(bcqSignAt(row, 1), -1);
  EXPECT_EQ(bcqSignAt(row, 9), 1);
}

TEST(BCQ, RoundTripPlanesWithPartialGroups) {
  // q planes of signs and group-wise scales reconstruct exactly sum_i alpha_i * B_i.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> coin(0, 1);
  const size_t rows = 3, k = 21, group = 8; // 21 is not a multiple of 8
  for (unsigned q = 1; q <= 4; ++q) {
    std::vector<std::vector<int>> b(q, std::vector<int>(rows * k));
    std::vector<uint8_t> packed(q * rows * bcqRowBytes(k));
    std::vector<float> alpha(q * rows * numGroups(k, group));
    for (size_t i = 0; i < alpha.size(); ++i)
      alpha[i] = 0.5f + 0.25f * static_cast<float>(i % 5);
    for (unsigned p = 0; p < q; ++p)
      for (size_t r = 0; r < rows; ++r) {
        for (size_t j = 0; j < k; ++j)
          b[p][r * k + j] = coin(rng) ? 1 : -1;
        bcqPackRow(&b[p][r * k], k, &packed[(p * rows + r) * bcqRowBytes(k)]);
      }
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < k; ++j) {
        float ref = 0, got = 0;
        for (unsigned p = 0; p < q; ++p) {
          float a = alpha[(p * rows + r) * numGroups(k, group) + groupOf(j, group)];
          ref += a * b[p][r * k + j];
          got += a * bcqSignAt(&packed[(p * rows + r) * bcqRowBytes(k)], j);
        }
        ASSERT_EQ(got, ref) << "q=" << q << " r=" << r << " j=" << j;
      }
    // Padding bits past K are zero.
    for (unsigned p = 0; p < q; ++p)
      for (size_t r = 0; r < rows; ++r)
        EXPECT_EQ(packed[(p * rows + r) * bcqRowBytes(k) + bcqRowBytes(k) - 1] >> (k % 8), 0);
  }
}

TEST(BCQ, CodesAsSignPlanesReconstructEveryCode) {
  // Every code of 1..4 bits, signed (two's complement, z = 2^(bits-1) after the flip) and
  // unsigned with every zero point: sum_i alpha_i * sign_i + offset == s * (value - z), the
  // value computed here from the code directly (decode, not the planes).
  const double s = 0.375;
  for (unsigned bits = 1; bits <= 4; ++bits)
    for (bool isSigned : {true, false})
      for (int zp = 0; zp < (isSigned ? 1 : (1 << bits)); ++zp) {
        const size_t count = (size_t(1) << bits) + 3; // every code, then a partial byte
        std::vector<uint8_t> codes(count), row(packedRowBytes(count, bits));
        for (size_t k = 0; k < count; ++k)
          codes[k] = uint8_t(k % (size_t(1) << bits));
        packCodes(codes.data(), count, bits, row.data());
        const size_t stride = bcqRowBytes(count) + 2;
        std::vector<uint8_t> planes(bits * stride, 0xAA);
        codesAsSignPlanes(row.data(), count, bits, isSigned, planes.data(), stride);
        const double z = isSigned ? double(1u << (bits - 1)) : double(zp);
        for (size_t k = 0; k < count; ++k) {
          const double value = isSigned ? decode(codes[k], bits, true) : double(codes[k]) - zp;
          double got = signPlaneOffset(s, bits, z);
          for (unsigned i = 0; i < bits; ++i)
            got += signPlaneAlpha(s, i) * bcqSignAt(planes.data() + i * stride, k);
          ASSERT_EQ(got, s * value) << "bits=" << bits << " signed=" << isSigned
                                    << " zp=" << zp << " k=" << k;
        }
        // Padding bits past the codes are zero (they meet zero activations in the kernels).
        for (unsigned i = 0; i < bits; ++i)
          EXPECT_EQ(planes[i * stride + bcqRowBytes(count) - 1] >> (count % 8), 0);
      }
}

} // namespace
