//===- runtime/tests/Int8GemmTest.cpp - sparq_uk_igemm_s8_f32(_mt) ---------===//
//
// The int8 x int8 GEMM on dot-product panels (runtime/kernels/Int8Gemm.cpp), built once per
// kernel variant: against a plain loop over the unpacked weight, sum_k A (w - z) in int64, times
// the scale in double. With unit scales and sums below 2^24 the kernel's floats must be those
// integers exactly; otherwise within float rounding (one conversion, one multiplication, and
// the accumulated C). The weights are packed with int8PackPanels
// (include/sparq/Formats/PackedFormats.h) and the column terms computed here from the contract
// in UKernels.h.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

struct IProblem {
  int64_t M, N, K, lda, ldc;
  std::vector<int8_t> A, w; // w: [N, K] row-major
  std::vector<int32_t> z, t;
  std::vector<float> s, C0;
  std::vector<int8_t> panels;

  /// fill 0: uniform values; 1: A all -128 and w all 127; 2: A all 127 and w all -128.
  IProblem(int64_t m, int64_t n, int64_t k, bool unitScales, bool zeros, int fill, uint32_t seed)
      : M(m), N(n), K(k), lda(k + 5), ldc(n + 3) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> byte(-128, 127);
    std::uniform_real_distribution<float> us(0.001f, 0.05f), uc(-3.0f, 3.0f);
    A.resize(size_t(M * lda));
    for (int8_t &x : A)
      x = int8_t(fill == 0 ? byte(rng) : fill == 1 ? -128 : 127);
    w.resize(size_t(N * K));
    for (int8_t &x : w)
      x = int8_t(fill == 0 ? byte(rng) : fill == 1 ? 127 : -128);
    z.resize(size_t(N));
    s.resize(size_t(N));
    t.resize(size_t(N));
    for (int64_t i = 0; i < N; ++i) {
      z[size_t(i)] = zeros ? byte(rng) : 0;
      s[size_t(i)] = unitScales ? 1.0f : us(rng);
      int64_t sum = 0;
      for (int64_t kk = 0; kk < K; ++kk)
        sum += w[size_t(i * K + kk)];
      t[size_t(i)] = int32_t(uint32_t(128 * (K * int64_t(z[size_t(i)]) - sum)));
    }
    C0.resize(size_t(M * ldc));
    for (float &x : C0)
      x = uc(rng);
    panels.resize(sparq::formats::int8PanelBytes(size_t(N), size_t(K)));
    sparq::formats::int8PackPanels(
        size_t(N), size_t(K),
        [&](size_t r, size_t kk) { return w[r * size_t(K) + kk]; }, panels.data());
  }

  void call(std::vector<float> &C, int64_t flags, bool mt) const {
    auto fn = mt ? sparq_uk_igemm_s8_f32_mt : sparq_uk_igemm_s8_f32;
    fn(reinterpret_cast<intptr_t>(C.data()), ldc, reinterpret_cast<intptr_t>(A.data()), lda,
       reinterpret_cast<intptr_t>(panels.data()), reinterpret_cast<intptr_t>(z.data()),
       reinterpret_cast<intptr_t>(t.data()), reinterpret_cast<intptr_t>(s.data()), M, N, K,
       flags);
  }
};

void check(const IProblem &p, int64_t flags, bool mt, int threads = 1) {
  SCOPED_TRACE("M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) +
               " K=" + std::to_string(p.K) + " flags=" + std::to_string(flags) +
               (mt ? " mt threads=" + std::to_string(threads) : ""));
  std::vector<float> C = p.C0;
  sparq_uk_set_num_threads(threads);
  p.call(C, flags, mt);
  sparq_uk_set_num_threads(0);
  int bad = 0;
  for (int64_t m = 0; m < p.M; ++m) {
    for (int64_t n = 0; n < p.N; ++n) {
      int64_t isum = 0, iabs = 0;
      for (int64_t k = 0; k < p.K; ++k) {
        const int64_t x = int64_t(p.A[size_t(m * p.lda + k)]) *
                          (int64_t(p.w[size_t(n * p.K + k)]) - p.z[size_t(n)]);
        isum += x;
        iabs += x < 0 ? -x : x;
      }
      const double sc = p.s[size_t(n)];
      double r = sc * double(isum), tol = 2e-7 * std::fabs(r) + 1e-6;
      bool exact = sc == 1.0 && iabs < (int64_t(1) << 24);
      const double c0 = p.C0[size_t(m * p.ldc + n)];
      if (flags & SPARQ_UK_ACCUMULATE) {
        r += c0;
        tol += 2e-7 * std::fabs(r) + 2e-7 * std::fabs(c0);
        exact = false;
      }
      if (flags & SPARQ_UK_RELU)
        r = std::max(r, 0.0);
      const double got = p.ldc > 0 ? C[size_t(m * p.ldc + n)] : 0.0;
      const bool ok = exact ? got == r : std::fabs(got - r) <= tol;
      if (!ok && ++bad <= 5)
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << got << ", reference " << r
                      << (exact ? " (exact)" : "");
    }
    for (int64_t n = p.N; n < p.ldc; ++n) // padding between rows of C is untouched
      EXPECT_EQ(C[size_t(m * p.ldc + n)], p.C0[size_t(m * p.ldc + n)]);
  }
  EXPECT_EQ(bad, 0);
}

const int64_t kFlags[] = {0, SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU,
                          SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU};

/// Rows of A around the tile height (8) and its equal split, N around the panel pair (32),
/// K not a multiple of the dword (4) and up to the limit; exact integers (unit scales) and
/// float scales, with and without zero points.
TEST(Int8Gemm, Shapes) {
  uint32_t seed = 1;
  for (int64_t M : {int64_t(1), int64_t(3), int64_t(8), int64_t(9), int64_t(40)})
    for (int64_t N : {int64_t(1), int64_t(16), int64_t(17), int64_t(37), int64_t(288)})
      for (int64_t K : {int64_t(1), int64_t(3), int64_t(100), int64_t(288), int64_t(1152)})
        for (bool unit : {true, false}) {
          IProblem p(M, N, K, unit, /*zeros=*/seed % 2 == 0, 0, seed);
          check(p, kFlags[seed % 4], false);
          ++seed;
        }
}

/// The extremes of both operands (every product +-128 * 127, zero points at both ends) at
/// the largest K, where only the int32 sums are exact.
TEST(Int8Gemm, Extremes) {
  uint32_t seed = 100;
  for (int fill : {1, 2})
    for (bool zeros : {false, true}) {
      IProblem p(9, 37, 4096, false, zeros, fill, seed++);
      check(p, 0, false);
      IProblem q(3, 20, 1000, true, zeros, fill, seed++);
      check(q, 0, false);
    }
}

TEST(Int8Gemm, Threads) {
  uint32_t seed = 200;
  for (int64_t M : {int64_t(1), int64_t(16), int64_t(40)}) {
    // Large enough to be split: N >= 64, M N K >= 2^20.
    IProblem p(M, 1152, M == 1 ? 1024 : 288, true, true, 0, seed++);
    for (int threads : {1, 2})
      for (int64_t f : kFlags)
        check(p, f, true, threads);
  }
}

/// More rows than one pass over the activation buffer takes (128 KiB: 32 rows of K = 4096, 64
/// of K = 2000), with the last pass shorter.
TEST(Int8Gemm, SeveralPasses) {
  uint32_t seed = 250;
  for (int64_t K : {int64_t(4096), int64_t(2000)}) {
    IProblem p(70, 37, K, true, true, 0, seed++);
    check(p, 0, false);
    check(p, SPARQ_UK_ACCUMULATE, true, 2);
  }
}

/// (No allocation here: the failed check leaves the function without running destructors.)
void callTooLong(void **args) {
  const IProblem &p = *static_cast<const IProblem *>(args[0]);
  sparq_uk_igemm_s8_f32(reinterpret_cast<intptr_t>(args[1]), p.ldc,
                        reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                        reinterpret_cast<intptr_t>(p.panels.data()),
                        reinterpret_cast<intptr_t>(p.z.data()),
                        reinterpret_cast<intptr_t>(p.t.data()),
                        reinterpret_cast<intptr_t>(p.s.data()), p.M, p.N, p.K, 0);
}

/// K past the limit ends the invocation with a message instead of overrunning the buffer.
TEST(Int8Gemm, LongReductionFails) {
  IProblem p(2, 5, SPARQ_UK_IGEMM_MAX_K + 4, true, false, 0, 300);
  std::vector<float> C = p.C0;
  void *args[2] = {&p, C.data()};
  char error[256] = {};
  EXPECT_EQ(sparq_uk_invoke_checked(&callTooLong, args, error, sizeof error), 1);
  EXPECT_NE(std::string(error).find("SPARQ_UK_IGEMM_MAX_K"), std::string::npos) << error;
}

} // namespace
