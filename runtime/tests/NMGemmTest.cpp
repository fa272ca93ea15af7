//===- runtime/tests/NMGemmTest.cpp - N:M-sparse GEMM kernel tests -*- C++ -*-===//
//
// Tests of sparq_uk_nmgemm_f32 / sparq_uk_nmqgemm_f32 and their _mt versions
// (runtime/kernels/NMGemm.cpp), built once per kernel variant (runtime/tests/CMakeLists.txt):
// SPARQ_KERNELS_TEST_VLEN=16 links sparq_kernels_v16 (AVX-512), 8 links sparq_kernels_v8
// (AVX2/FMA). Every test skips when the host lacks the variant's ISA.
//
// The packed weights are built with PackedFormats.h (nmPruneRow, nmPackRow, packCodes: the format
// definition the compiler packs with); the reference reads them back bit by bit from the layout
// definition (index codes of ceil(log2 M) bits, value codes of `bits` bits, LSB first) and sums in
// double. Index, value and code rows end at an inaccessible page, so reading past the last row
// faults; C has padding columns and a guard row that must stay untouched.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#ifndef SPARQ_KERNELS_TEST_VLEN
#error "SPARQ_KERNELS_TEST_VLEN (16 or 8) must be defined"
#endif

namespace {

namespace fmt = sparq::formats;


class NMGemm : public sparq::test::KernelTest {};


/// The value encoding of a problem.
struct Enc {
  int64_t bits;  // 0: fp32 kept values
  int64_t group; // kept values per group; 0: per channel
  bool symmetric;
  std::string name() const {
    if (bits == 0)
      return "f32";
    return "W" + std::to_string(bits) + (group ? " g" + std::to_string(group) : " per-channel") +
           (symmetric ? " sym" : " asym");
  }
};

constexpr int64_t kFlags[] = {0, SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU,
                              SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU};

struct NMProblem {
  int64_t M, N, K, nmN, nmM, lda, ldc, kept, idxRowBytes, valueStride = 0, codeRowBytes = 0,
      groups = 0, scaleStride = 0;
  Enc enc;
  std::vector<float> A, C, C0, scales;
  std::vector<uint8_t> zeroPoints;
  std::unique_ptr<sparq::test::GuardedBytes> indices, values, codes;

  NMProblem(int64_t m, int64_t n, int64_t k, int64_t pn, int64_t pm, Enc e, bool padded,
            uint32_t seed)
      : M(m), N(n), K(k), nmN(pn), nmM(pm), lda(k + 3), ldc(n + 5), enc(e) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f), scale(0.01f, 0.1f);
    std::uniform_int_distribution<int> byteDist(0, 255);
    kept = int64_t(fmt::nmKeptPerRow(size_t(K), unsigned(nmN), unsigned(nmM)));
    idxRowBytes = int64_t(fmt::nmIndexRowBytes(size_t(K), unsigned(nmN), unsigned(nmM))) +
                  (padded ? 1 : 0);
    A.assign(size_t(std::max<int64_t>(M, 1) * lda), std::numeric_limits<float>::quiet_NaN());
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < K; ++j)
        A[size_t(i * lda + j)] = real(rng);
    // Dense rows, pruned and packed by the format library.
    indices = std::make_unique<sparq::test::GuardedBytes>(size_t(N * idxRowBytes));
    for (size_t i = 0; i < indices->size(); ++i)
      indices->data()[i] = uint8_t(byteDist(rng)); // row padding: garbage
    std::vector<float> dense(static_cast<size_t>(K)), kv(static_cast<size_t>(kept));
    std::vector<std::vector<float>> keptVals(static_cast<size_t>(N));
    for (int64_t r = 0; r < N; ++r) {
      for (float &x : dense)
        x = real(rng);
      fmt::nmPruneRow(dense.data(), size_t(K), unsigned(nmN), unsigned(nmM), dense.data());
      bool ok = fmt::nmPackRow(dense.data(), size_t(K), unsigned(nmN), unsigned(nmM), kv.data(),
                               indices->data() + r * idxRowBytes);
      EXPECT_TRUE(ok);
      keptVals[size_t(r)] = kv;
    }
    if (enc.bits == 0) {
      valueStride = kept + (padded ? 3 : 0);
      values = std::make_unique<sparq::test::GuardedBytes>(size_t(N * valueStride) * sizeof(float));
      float *v = reinterpret_cast<float *>(values->data());
      for (int64_t i = 0; i < N * valueStride; ++i)
        v[i] = std::numeric_limits<float>::quiet_NaN(); // padding must not be read
      for (int64_t r = 0; r < N; ++r)
        std::memcpy(v + r * valueStride, keptVals[size_t(r)].data(), size_t(kept) * 4);
    } else {
      // Random codes for the kept values (padding slots included: the kernel must drop them).
      const int64_t bits = enc.bits, group = enc.group ? enc.group : kept;
      groups = (kept + group - 1) / group;
      scaleStride = groups;
      codeRowBytes = int64_t(fmt::packedRowBytes(size_t(kept), unsigned(bits))) + (padded ? 2 : 0);
      codes = std::make_unique<sparq::test::GuardedBytes>(size_t(N * codeRowBytes));
      for (size_t i = 0; i < codes->size(); ++i)
        codes->data()[i] = uint8_t(byteDist(rng));
      std::uniform_int_distribution<int> codeDist(0, (1 << bits) - 1);
      std::vector<uint8_t> cs(static_cast<size_t>(kept));
      for (int64_t r = 0; r < N; ++r) {
        for (uint8_t &c : cs)
          c = uint8_t(codeDist(rng));
        fmt::packCodes(cs.data(), size_t(kept), unsigned(bits), codes->data() + r * codeRowBytes);
      }
      scales.resize(size_t(N * groups));
      for (float &s : scales)
        s = scale(rng);
      if (!enc.symmetric) {
        zeroPoints.resize(scales.size());
        for (uint8_t &z : zeroPoints)
          z = uint8_t(codeDist(rng));
      }
    }
    C.assign(size_t((M + 1) * ldc), -777.25f);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        C[size_t(i * ldc + j)] = real(rng);
    C0 = C;
  }

  static uint32_t bitsAt(const uint8_t *row, int64_t index, int64_t bits) {
    uint32_t c = 0;
    for (int64_t i = 0; i < bits; ++i) {
      int64_t bit = index * bits + i;
      c |= uint32_t((row[bit / 8] >> (bit % 8)) & 1) << i;
    }
    return c;
  }

  /// Kept value s of row n from the definition.
  double keptValue(int64_t n, int64_t s) const {
    if (enc.bits == 0)
      return reinterpret_cast<const float *>(values->data())[n * valueStride + s];
    const int64_t bits = enc.bits, group = enc.group ? enc.group : kept;
    uint32_t c = bitsAt(codes->data() + n * codeRowBytes, s, bits);
    int64_t idx = n * scaleStride + s / group;
    int32_t v = enc.symmetric ? (c >= (1u << (bits - 1)) ? int32_t(c) - (1 << bits) : int32_t(c))
                              : int32_t(c) - int32_t(zeroPoints[size_t(idx)]);
    return double(v) * double(scales[size_t(idx)]);
  }

  /// The dense N x K weight the packed one stands for.
  std::vector<double> denseWeight() const {
    std::vector<double> W(size_t(N * K), 0.0);
    const int64_t ib = int64_t(fmt::nmIndexBits(unsigned(nmM)));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < kept; ++s) {
        int64_t k = (s / nmN) * nmM + bitsAt(indices->data() + n * idxRowBytes, s, ib);
        if (k < K)
          W[size_t(n * K + k)] += keptValue(n, s);
      }
    return W;
  }

  void run(int64_t flags, bool mt) {
    const intptr_t c = reinterpret_cast<intptr_t>(C.data()), a = reinterpret_cast<intptr_t>(A.data()),
                   ix = reinterpret_cast<intptr_t>(indices->data());
    if (enc.bits == 0) {
      auto fn = mt ? sparq_uk_nmgemm_f32_mt : sparq_uk_nmgemm_f32;
      fn(c, ldc, a, lda, ix, idxRowBytes, reinterpret_cast<intptr_t>(values->data()), valueStride,
         nmN, nmM, M, N, K, flags);
    } else {
      auto fn = mt ? sparq_uk_nmqgemm_f32_mt : sparq_uk_nmqgemm_f32;
      fn(c, ldc, a, lda, ix, idxRowBytes, reinterpret_cast<intptr_t>(codes->data()), codeRowBytes,
         reinterpret_cast<intptr_t>(scales.data()),
         enc.symmetric ? 0 : reinterpret_cast<intptr_t>(zeroPoints.data()), scaleStride, enc.bits,
         enc.group, nmN, nmM, M, N, K, flags);
    }
  }

  std::string describe(int64_t flags) const {
    return std::to_string(nmN) + ":" + std::to_string(nmM) + " " + enc.name() +
           " M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
           (flags & SPARQ_UK_ACCUMULATE ? " accumulate" : "") +
           (flags & SPARQ_UK_RELU ? " relu" : "");
  }

  /// Compares C with the reference (|err| <= rel * sum |a w| (+ |C0|)); padding and the guard
  /// row must be untouched. Returns the number of mismatches.
  int64_t check(int64_t flags, double rel, const std::string &what) const {
    const bool accumulate = flags & SPARQ_UK_ACCUMULATE, relu = flags & SPARQ_UK_RELU;
    const std::vector<double> W = denseWeight();
    int64_t bad = 0;
    auto report = [&](const std::string &msg) {
      if (++bad <= 5)
        ADD_FAILURE() << what << ": " << msg;
    };
    for (int64_t m = 0; m <= M; ++m)
      for (int64_t n = 0; n < ldc; ++n) {
        size_t i = size_t(m * ldc + n);
        float got = C[i];
        if (m < M && n < N) {
          double ref = 0.0, mag = 0.0;
          for (int64_t k = 0; k < K; ++k) {
            double p = double(A[size_t(m * lda + k)]) * W[size_t(n * K + k)];
            ref += p;
            mag += std::fabs(p);
          }
          if (accumulate) {
            ref += C0[i];
            mag += std::fabs(C0[i]);
          }
          if (relu && ref < 0.0)
            ref = 0.0;
          double err = std::fabs(double(got) - ref);
          if (!(err <= rel * mag + 1e-30))
            report("C[" + std::to_string(m) + "][" + std::to_string(n) + "] = " +
                   std::to_string(got) + ", expected " + std::to_string(ref));
        } else if (std::memcmp(&got, &C0[i], sizeof(float)) != 0) {
          report("C[" + std::to_string(m) + "][" + std::to_string(n) +
                 "] outside the written block changed");
        }
      }
    return bad;
  }
};

constexpr double kRel = 1e-5;

struct Pattern {
  int64_t n, m;
};
constexpr Pattern kPatterns[] = {{2, 4}, {1, 4}, {2, 8}, {4, 8}, {3, 8}};
const Enc kEncodings[] = {{0, 0, true},  {4, 32, true}, {4, 32, false},
                          {4, 0, true},  {4, 0, false}};

/// Every pattern and encoding, K off the group and Mg, N off the row blocks, GEMV and GEMM sizes,
/// every flag combination (rotating); the single-threaded entry points.
class NMGemmGrid : public NMGemm, public ::testing::WithParamInterface<int> {};

TEST_P(NMGemmGrid, MatchesReference) {
  const Pattern pat = kPatterns[GetParam()];
  uint32_t seed = uint32_t(GetParam()) * 7919u + 1;
  int64_t cases = 0, flagIndex = GetParam();
  for (const Enc &enc : kEncodings)
    for (int64_t M : {1, 2, 3, 4, 5, 16, 130})
      for (int64_t N : {37, 130})
        for (int64_t K : {130, 333}) {
          const int64_t flags = kFlags[flagIndex++ % 4];
          ++seed;
          NMProblem p(M, N, K, pat.n, pat.m, enc, (seed & 1) != 0, seed);
          p.run(flags, false);
          if (p.check(flags, kRel, p.describe(flags)) > 0)
            return;
          ++cases;
        }
  EXPECT_EQ(cases, 5 * 7 * 2 * 2);
}

INSTANTIATE_TEST_SUITE_P(Patterns, NMGemmGrid, ::testing::Range(0, 5),
                         [](const ::testing::TestParamInfo<int> &info) {
                           const Pattern p = kPatterns[info.param];
                           return "P" + std::to_string(p.n) + "of" + std::to_string(p.m);
                         });

/// Code widths other than 4 (the generic path), a group that is not a multiple of the vector
/// width, 2:4 and 2:8.
TEST_F(NMGemm, OtherWidthsAndGroups) {
  uint32_t seed = 555;
  for (int64_t bits : {1, 2, 3, 5, 8})
    for (Pattern pat : {Pattern{2, 4}, Pattern{2, 8}})
      for (int64_t M : {1, 3, 20}) {
        const Enc enc{bits, bits == 3 ? 20 : 32, bits % 2 == 1};
        const int64_t flags = kFlags[seed % 4];
        ++seed;
        NMProblem p(M, 41, 333, pat.n, pat.m, enc, (seed & 1) != 0, seed);
        p.run(flags, false);
        if (p.check(flags, kRel, p.describe(flags)) > 0)
          return;
      }
  for (int64_t M : {1, 2, 17}) {
    NMProblem p(M, 33, 259, 2, 4, Enc{4, 20, true}, false, ++seed);
    p.run(SPARQ_UK_ACCUMULATE, false);
    if (p.check(SPARQ_UK_ACCUMULATE, kRel, p.describe(SPARQ_UK_ACCUMULATE)) > 0)
      return;
  }
}

/// A long reduction (several quantization groups of 128 kept values, several K blocks of the
/// GEMM tile), and N:M patterns with M up to 16.
TEST_F(NMGemm, LongReductionAndWidePatterns) {
  uint32_t seed = 4242;
  for (int64_t M : {1, 4, 16, 33})
    for (const Enc &enc : {Enc{0, 0, true}, Enc{4, 128, true}, Enc{4, 128, false}}) {
      NMProblem p(M, 19, 4096 + 13, 2, 4, enc, false, ++seed);
      p.run(SPARQ_UK_RELU, false);
      if (p.check(SPARQ_UK_RELU, kRel, "long " + p.describe(SPARQ_UK_RELU)) > 0)
        return;
    }
  for (Pattern pat : {Pattern{1, 16}, Pattern{8, 16}, Pattern{15, 16}, Pattern{1, 2},
                      Pattern{2, 3}, Pattern{5, 7}})
    for (int64_t M : {1, 9}) {
      NMProblem p(M, 23, 301, pat.n, pat.m, Enc{pat.m % 2 ? 4 : 0, 32, true}, true, ++seed);
      p.run(0, false);
      if (p.check(0, kRel, p.describe(0)) > 0)
        return;
    }
}

/// The multi-threaded entry points on problems large enough to be split, teams of 1 and 2.
TEST_F(NMGemm, MultiThreadedEntryPoints) {
  uint32_t seed = 900;
  for (int32_t T : {1, 2})
    for (int64_t M : {1, 3, 16, 130})
      for (const Enc &enc : {Enc{0, 0, true}, Enc{4, 32, true}, Enc{4, 0, false}})
        for (Pattern pat : {Pattern{2, 4}, Pattern{4, 8}}) {
          sparq_uk_set_num_threads(T);
          const int64_t N = M > 4 ? 171 : 517, K = M > 4 ? 389 : 2100;
          const int64_t flags = kFlags[(seed + 1) % 4];
          NMProblem p(M, N, K, pat.n, pat.m, enc, false, ++seed);
          p.run(flags, true);
          if (p.check(flags, kRel, "mt T=" + std::to_string(T) + " " + p.describe(flags)) > 0)
            return;
        }
}

/// K = 0 writes zeros (accumulate: nothing); M = 0, N = 0, invalid patterns and widths write
/// nothing.
TEST_F(NMGemm, DegenerateSizes) {
  for (bool mt : {false, true}) {
    NMProblem p(3, 17, 64, 2, 4, Enc{4, 32, true}, false, 5);
    auto call = [&](int64_t M, int64_t N, int64_t K, int64_t bits, int64_t pn, int64_t pm,
                    int64_t flags) {
      auto fn = mt ? sparq_uk_nmqgemm_f32_mt : sparq_uk_nmqgemm_f32;
      fn(reinterpret_cast<intptr_t>(p.C.data()), p.ldc, reinterpret_cast<intptr_t>(p.A.data()),
         p.lda, reinterpret_cast<intptr_t>(p.indices->data()), p.idxRowBytes,
         reinterpret_cast<intptr_t>(p.codes->data()), p.codeRowBytes,
         reinterpret_cast<intptr_t>(p.scales.data()), 0, p.scaleStride, bits, 32, pn, pm, M, N,
         K, flags);
    };
    call(0, 17, 64, 4, 2, 4, 0);
    call(3, 0, 64, 4, 2, 4, 0);
    call(3, 17, 64, 0, 2, 4, 0);
    call(3, 17, 64, 9, 2, 4, 0);
    call(3, 17, 64, 4, 4, 4, 0);
    call(3, 17, 64, 4, 2, 17, 0);
    call(3, 17, 64, 4, 0, 4, 0);
    call(3, 17, 0, 4, 2, 4, SPARQ_UK_ACCUMULATE);
    EXPECT_EQ(p.C, p.C0) << "nothing to compute must write nothing";
    call(3, 17, 0, 4, 2, 4, 0);
    for (int64_t m = 0; m <= 3; ++m)
      for (int64_t n = 0; n < p.ldc; ++n) {
        size_t i = size_t(m * p.ldc + n);
        EXPECT_EQ(p.C[i], m < 3 && n < 17 ? 0.0f : p.C0[i]) << "K=0, C[" << m << "][" << n << "]";
      }
  }
}

//===----------------------------------------------------------------------===//
// sparq_uk_nmqgemm_i8_f32(_mt): 2:4 + 4-bit with run-time int8 activations (NMGemmI8.cpp).
//
// Reference: the activations quantized as specified (per row of A and group of 2 * group
// positions, in float as the kernel computes them), the kept slots' integer values decoded bit
// by bit, the sum per group in int64 (exact, like the kernel's int32 lanes), scaled in double.
// Only the float arithmetic after the integer sums differs (the kernel converts lane sums and
// accumulates sa * sw * sum in float), so |kernel - reference| <= 2e-5 * sum_g |sa sw| *
// sum |qa value| + 1e-6 (2e-5 is about 340 float epsilons). A wrong gather position, nibble,
// zero point or group boundary changes the integer sums, far beyond that bound.
//===----------------------------------------------------------------------===//

/// The v16 kernel needs AVX-512 VBMI and VNNI on the host.
std::string missingI8Isa() {
  std::string why = sparq::test::missingKernelIsa(true);
#if SPARQ_KERNELS_TEST_VLEN == 16
  if (why.empty() && !__builtin_cpu_supports("avx512vbmi"))
    why = "host CPU lacks AVX-512 VBMI; the v16 int8 N:M kernel cannot run here";
#endif
  return why;
}

class NMGemmI8 : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why = missingI8Isa();
    if (!why.empty())
      GTEST_SKIP() << why;
  }
};

/// Runs the int8 entry point on p (2:4, 4-bit) and compares with the quantized reference.
int64_t runAndCheckI8(NMProblem &p, int64_t flags, bool mt, const std::string &what) {
  const int64_t kept = p.kept, G = p.enc.group > 0 && p.enc.group <= kept ? p.enc.group : kept;
  const int64_t span = 2 * G;
  // Quantized activations and scales, computed as the kernel does (float).
  std::vector<int32_t> qa(size_t(p.M * p.K));
  std::vector<float> sa(size_t(p.M * ((p.K + span - 1) / span)));
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t g = 0; g * span < p.K; ++g) {
      const int64_t k0 = g * span, k1 = std::min(p.K, k0 + span);
      float amax = 0.0f;
      for (int64_t k = k0; k < k1; ++k)
        amax = std::max(amax, std::fabs(p.A[size_t(m * p.lda + k)]));
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      sa[size_t(m * ((p.K + span - 1) / span) + g)] = amax / 127.0f;
      for (int64_t k = k0; k < k1; ++k) {
        float y = std::nearbyint(p.A[size_t(m * p.lda + k)] * inv);
        qa[size_t(m * p.K + k)] = int32_t(std::max(-127.0f, std::min(127.0f, y)));
      }
    }
  const intptr_t c = reinterpret_cast<intptr_t>(p.C.data()), a = reinterpret_cast<intptr_t>(p.A.data());
  auto fn = mt ? sparq_uk_nmqgemm_i8_f32_mt : sparq_uk_nmqgemm_i8_f32;
  fn(c, p.ldc, a, p.lda, reinterpret_cast<intptr_t>(p.indices->data()), p.idxRowBytes,
     reinterpret_cast<intptr_t>(p.codes->data()), p.codeRowBytes,
     reinterpret_cast<intptr_t>(p.scales.data()),
     p.enc.symmetric ? 0 : reinterpret_cast<intptr_t>(p.zeroPoints.data()), p.scaleStride, 4,
     p.enc.group, 2, 4, p.M, p.N, p.K, flags);
  const bool accumulate = flags & SPARQ_UK_ACCUMULATE, relu = flags & SPARQ_UK_RELU;
  int64_t bad = 0;
  auto report = [&](const std::string &msg) {
    if (++bad <= 5)
      ADD_FAILURE() << what << ": " << msg;
  };
  for (int64_t m = 0; m <= p.M; ++m)
    for (int64_t n = 0; n < p.ldc; ++n) {
      const size_t i = size_t(m * p.ldc + n);
      const float got = p.C[i];
      if (m == p.M || n >= p.N) {
        if (std::memcmp(&got, &p.C0[i], sizeof(float)) != 0)
          report("C[" + std::to_string(m) + "][" + std::to_string(n) + "] outside the block changed");
        continue;
      }
      const uint8_t *irow = p.indices->data() + n * p.idxRowBytes;
      const uint8_t *crow = p.codes->data() + n * p.codeRowBytes;
      double ref = 0.0, mag = 0.0;
      for (int64_t g = 0; g * G < kept; ++g) {
        int64_t sum = 0, smag = 0;
        const size_t si = size_t(n * p.scaleStride + g);
        for (int64_t s = g * G; s < std::min(kept, (g + 1) * G); ++s) {
          const int64_t k = (s / 2) * 4 + NMProblem::bitsAt(irow, s, 2);
          if (k >= p.K)
            continue;
          const uint32_t code = NMProblem::bitsAt(crow, s, 4);
          const int32_t v = p.enc.symmetric ? (code >= 8 ? int32_t(code) - 16 : int32_t(code))
                                            : int32_t(code) - int32_t(p.zeroPoints[si]);
          sum += int64_t(qa[size_t(m * p.K + k)]) * v;
          smag += std::abs(int64_t(qa[size_t(m * p.K + k)]) * v);
        }
        const double scale = double(sa[size_t(m * ((p.K + span - 1) / span) + g)]) *
                             double(p.scales[si]);
        ref += scale * double(sum);
        mag += std::fabs(scale) * double(smag);
      }
      if (accumulate) {
        ref += p.C0[i];
        mag += std::fabs(p.C0[i]);
      }
      if (relu && ref < 0.0)
        ref = 0.0;
      if (!(std::fabs(double(got) - ref) <= 2e-5 * mag + 1e-6))
        report("C[" + std::to_string(m) + "][" + std::to_string(n) + "] = " + std::to_string(got) +
               ", expected " + std::to_string(ref));
    }
  return bad;
}

/// Groups of 64 and 128 kept values and one per row, symmetric and asymmetric; K off the block
/// (tails of 1..63 slots, K not a multiple of 4), N off the row blocks, M = 1, 3, 16, 130 (blocks
/// of 4 rows of A), every flag combination; padded rows (the kernel must stay inside the row).
TEST_F(NMGemmI8, MatchesQuantizedReference) {
  uint32_t seed = 31337;
  int64_t cases = 0;
  for (const Enc &enc : {Enc{4, 64, true}, Enc{4, 128, false}, Enc{4, 0, true}, Enc{4, 0, false}})
    for (int64_t M : {1, 2, 3, 4, 16, 130})
      for (int64_t K : {130, 333, 1024, 1031})
        for (int64_t N : {37, 130}) {
          if (M > 16 && K > 400)
            continue;
          const int64_t flags = kFlags[seed % 4];
          ++seed;
          NMProblem p(M, N, K, 2, 4, enc, (seed & 1) != 0, seed);
          if (runAndCheckI8(p, flags, false, p.describe(flags)) > 0)
            return;
          ++cases;
        }
  EXPECT_EQ(cases, 4 * (5 * 4 * 2 + 2 * 2));
}

/// K over several activation chunks (8192 positions), with groups that straddle a chunk
/// (group 192: 384 positions), and all-zero activations (scale 0).
TEST_F(NMGemmI8, LongReductionAndZeroActivations) {
  uint32_t seed = 77;
  for (const Enc &enc : {Enc{4, 192, true}, Enc{4, 128, false}, Enc{4, 0, true}})
    for (int64_t M : {1, 5}) {
      NMProblem p(M, 21, 8192 * 2 + 37, 2, 4, enc, true, ++seed);
      if (runAndCheckI8(p, SPARQ_UK_RELU, false, "long " + p.describe(SPARQ_UK_RELU)) > 0)
        return;
    }
  NMProblem z(2, 19, 700, 2, 4, Enc{4, 64, true}, false, 5);
  for (int64_t k = 0; k < 700; ++k)
    z.A[size_t(k)] = 0.0f;
  EXPECT_EQ(runAndCheckI8(z, 0, false, "zero row"), 0);
}

/// The multi-threaded entry point on problems large enough to be split, teams of 1 and 2.
TEST_F(NMGemmI8, MultiThreadedEntryPoint) {
  uint32_t seed = 4040;
  for (int32_t T : {1, 2})
    for (int64_t M : {1, 3, 7})
      for (const Enc &enc : {Enc{4, 128, true}, Enc{4, 64, false}}) {
        sparq_uk_set_num_threads(T);
        const int64_t flags = kFlags[(seed + 1) % 4];
        NMProblem p(M, 517, 2100, 2, 4, enc, false, ++seed);
        if (runAndCheckI8(p, flags, true, "mt T=" + std::to_string(T) + " " + p.describe(flags)) > 0)
          return;
      }
}

/// What the int8 kernel does not take (other patterns, widths, groups that are not a multiple
/// of 64 kept values) is sparq_uk_nmqgemm_f32, bit for bit.
TEST_F(NMGemmI8, FallbacksEqualTheFloatKernel) {
  uint32_t seed = 9;
  struct Case {
    int64_t pn, pm, bits, group;
  };
  for (const Case &cs : {Case{2, 4, 4, 32}, Case{2, 4, 3, 64}, Case{2, 4, 8, 64},
                         Case{1, 4, 4, 64}, Case{4, 8, 4, 64}})
    for (bool mt : {false, true}) {
      NMProblem p(3, 41, 333, cs.pn, cs.pm, Enc{cs.bits, cs.group, true}, false, ++seed);
      std::vector<float> viaFloat = p.C;
      auto call = [&](float *C, bool i8) {
        auto fn = i8 ? (mt ? sparq_uk_nmqgemm_i8_f32_mt : sparq_uk_nmqgemm_i8_f32)
                     : (mt ? sparq_uk_nmqgemm_f32_mt : sparq_uk_nmqgemm_f32);
        fn(reinterpret_cast<intptr_t>(C), p.ldc, reinterpret_cast<intptr_t>(p.A.data()), p.lda,
           reinterpret_cast<intptr_t>(p.indices->data()), p.idxRowBytes,
           reinterpret_cast<intptr_t>(p.codes->data()), p.codeRowBytes,
           reinterpret_cast<intptr_t>(p.scales.data()), 0, p.scaleStride, cs.bits, cs.group,
           cs.pn, cs.pm, p.M, p.N, p.K, 0);
      };
      call(p.C.data(), true);
      call(viaFloat.data(), false);
      EXPECT_EQ(std::memcmp(p.C.data(), viaFloat.data(), p.C.size() * sizeof(float)), 0)
          << cs.pn << ":" << cs.pm << " W" << cs.bits << " g" << cs.group;
    }
}

} // namespace
