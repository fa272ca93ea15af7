//===- runtime/tests/LutGemmTest.cpp - sparq_uk_lutgemm_f32(_mt) ------------===//
//
// The lookup-table GEMM on binary-coded (shift-add) weights (runtime/kernels/LutGemm.cpp), built
// once per kernel variant (SPARQ_KERNELS_TEST_VLEN 16 or 8), against a plain reference loop that
// reads the signs bit by bit (bcqSignAt's rule written out here) and sums in double. The kernel's
// tables are exact fp32 signed sums, so the only difference is fp32 rounding: the bound is
// 1e-5 * (sum_k |A[m][k]| * sum_i |alpha_i(n, k/group)| + |C0|) + 1e-6.
// The weights are packed with bcqPackRow (include/sparq/Formats/PackedFormats.h) and given to
// the kernels interleaved with bcqInterleaveRows16/bcqInterleaveScales16, as the compiler does;
// the reference reads the row-major planes, so a wrong interleave fails too.
//
// sparq_uk_lutgemm_i8_f32(_mt), the int8-table variant, is checked against the same loop with
// the tables quantized as UKernels.h specifies (written out here: per group the largest chunk
// magnitude, each table entry rounded to nearest even), to 1e-5 of the magnitude, and against
// the exact product within the bound of that rounding (half a step per lookup).
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#ifndef SPARQ_KERNELS_TEST_VLEN
#error "SPARQ_KERNELS_TEST_VLEN (16 or 8) must be defined"
#endif

namespace {

#define SKIP_WITHOUT_ISA()                                                                    \
  do {                                                                                        \
    std::string why = sparq::test::missingKernelIsa(false);                                  \
    if (!why.empty())                                                                         \
      GTEST_SKIP() << why;                                                                    \
  } while (0)

struct Problem {
  int64_t M, N, K, q, group, groups, lda, ldc, rowBytes;
  std::vector<float> A, C0, scales, scales16;
  std::vector<float> offsets, offsets16; // per row and group, when given (else empty)
  std::vector<uint8_t> codes, codes16; // row-major, and interleaved by 16 rows (the kernels')

  bool planeScales = false; // SPARQ_UK_PLANE_SCALES: scales [N][groups], alpha_i = s * 2^(i-1)

  Problem(int64_t m, int64_t n, int64_t k, int64_t qq, int64_t g, uint32_t seed,
          bool withOffsets = false, bool sharedScales = false)
      : M(m), N(n), K(k), q(qq), group(g), planeScales(sharedScales) {
    std::mt19937 rng(seed);
    lda = K + 3;
    ldc = N + 5;
    rowBytes = int64_t(sparq::formats::bcqRowBytes(size_t(K)));
    groups = (K + group - 1) / group;
    std::uniform_real_distribution<float> ua(-2.0f, 2.0f), us(0.01f, 0.2f);
    A.resize(size_t(M * lda));
    for (float &x : A)
      x = ua(rng);
    C0.resize(size_t(M * ldc));
    for (float &x : C0)
      x = ua(rng);
    // Exact size: no slack after the last row of the last plane.
    codes.resize(size_t(q * N * rowBytes));
    std::vector<float> signs(static_cast<size_t>(K));
    for (int64_t i = 0; i < q * N; ++i) {
      for (float &s : signs)
        s = ua(rng);
      sparq::formats::bcqPackRow(signs.data(), size_t(K), codes.data() + i * rowBytes);
    }
    scales.resize(size_t((planeScales ? 1 : q) * N * groups));
    for (float &x : scales)
      x = us(rng);
    namespace f = sparq::formats;
    codes16.resize(f::bcqInterleavedBytes(size_t(q), size_t(N), size_t(K)));
    f::bcqInterleaveRows16(codes.data(), size_t(q), size_t(N), size_t(K), size_t(rowBytes),
                           codes16.data());
    const size_t scalePlanes = planeScales ? 1 : size_t(q);
    scales16.resize(scalePlanes * f::bcqInterleavedBlocks(size_t(N)) * size_t(groups) * 16);
    f::bcqInterleaveScales16(scales.data(), scalePlanes, size_t(N), size_t(groups),
                             scales16.data());
    if (withOffsets) {
      offsets.resize(size_t(N * groups));
      for (float &x : offsets)
        x = ua(rng) * 0.1f;
      offsets16.resize(f::bcqInterleavedBlocks(size_t(N)) * size_t(groups) * 16);
      f::bcqInterleaveScales16(offsets.data(), 1, size_t(N), size_t(groups), offsets16.data());
    }
  }
  float offset(int64_t n, int64_t k) const {
    return offsets.empty() ? 0.0f : offsets[size_t(n * groups + k / group)];
  }
  int sign(int64_t i, int64_t n, int64_t k) const {
    const uint8_t *row = codes.data() + (i * N + n) * rowBytes;
    return (row[k / 8] >> (k % 8)) & 1u ? 1 : -1;
  }
  float alpha(int64_t i, int64_t n, int64_t k) const {
    if (planeScales)
      return scales[size_t(n * groups + k / group)] * std::ldexp(1.0f, int(i) - 1);
    return scales[size_t((i * N + n) * groups + k / group)];
  }
  void call(std::vector<float> &C, int64_t flags, bool mt, bool i8 = false) const {
    const intptr_t c = reinterpret_cast<intptr_t>(C.data()),
                   a = reinterpret_cast<intptr_t>(A.data()),
                   w = reinterpret_cast<intptr_t>(codes16.data()),
                   s = reinterpret_cast<intptr_t>(scales16.data());
    if (i8) // (no offsets or shared plane scales: checkI8's problems have neither)
      (mt ? sparq_uk_lutgemm_i8_f32_mt : sparq_uk_lutgemm_i8_f32)(c, ldc, a, lda, w, s, q, group,
                                                                  M, N, K, flags);
    else
      (mt ? sparq_uk_lutgemm_f32_mt : sparq_uk_lutgemm_f32)(
          c, ldc, a, lda, w, s,
          offsets.empty() ? 0 : reinterpret_cast<intptr_t>(offsets16.data()), q, group, M, N, K,
          flags | (planeScales ? SPARQ_UK_PLANE_SCALES : 0));
  }
};

void check(const Problem &p, int64_t flags, bool mt, int threads = 1) {
  SCOPED_TRACE(std::string(p.offsets.empty() ? "" : "offsets ") +
               (p.planeScales ? "plane-scales " : "") + "M=" + std::to_string(p.M) +
               " N=" + std::to_string(p.N) +
               " K=" + std::to_string(p.K) + " q=" + std::to_string(p.q) +
               " group=" + std::to_string(p.group) + " flags=" + std::to_string(flags) +
               (mt ? " mt" : "") + " threads=" + std::to_string(threads));
  std::vector<float> C = p.C0;
  sparq_uk_set_num_threads(threads);
  p.call(C, flags, mt);
  sparq_uk_set_num_threads(0);
  int bad = 0;
  for (int64_t m = 0; m < p.M; ++m) {
    const float *a = p.A.data() + m * p.lda;
    for (int64_t n = 0; n < p.N; ++n) {
      double r = 0.0, mag = 0.0;
      for (int64_t k = 0; k < p.K; ++k) {
        for (int64_t i = 0; i < p.q; ++i) {
          double w = double(p.alpha(i, n, k)) * p.sign(i, n, k);
          r += w * a[k];
          mag += std::fabs(w * a[k]);
        }
        r += double(p.offset(n, k)) * a[k];
        mag += std::fabs(double(p.offset(n, k)) * a[k]);
      }
      const double c0 = p.C0[size_t(m * p.ldc + n)];
      if (flags & SPARQ_UK_ACCUMULATE)
        r += c0;
      if ((flags & SPARQ_UK_RELU) && r < 0.0)
        r = 0.0;
      const double tol = 1e-5 * (mag + std::fabs(c0)) + 1e-6;
      const double got = C[size_t(m * p.ldc + n)];
      if (!(std::fabs(got - r) <= tol) && ++bad <= 5)
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << got << ", reference " << r
                      << " (tol " << tol << ")";
    }
    // Padding between rows of C is untouched.
    for (int64_t n = p.N; n < p.ldc && m + 1 < p.M; ++n)
      EXPECT_EQ(C[size_t(m * p.ldc + n)], p.C0[size_t(m * p.ldc + n)]);
  }
  EXPECT_EQ(bad, 0);
}

const int64_t kFlags[] = {0, SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU,
                          SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU};

TEST(LutGemm, Gemv) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 1;
  for (int64_t q : {1, 2, 3, 4, 8})
    for (int64_t group : {8, 20, 32, 128})
      for (int64_t K : {130, 333, 512})
        for (int64_t N : {37, 130})
          for (int64_t M : {1, 3}) {
            Problem p(M, N, K, q, group, seed++);
            for (int64_t f : kFlags)
              check(p, f, false);
          }
}

TEST(LutGemm, RowsOfA) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 100;
  for (int64_t q : {1, 2, 3, 4, 8})
    for (int64_t group : {20, 32, 128})
      for (int64_t M : {2, 4, 5, 16}) {
        Problem p(M, 130, 333, q, group, seed++);
        for (int64_t f : kFlags)
          check(p, f, false);
      }
}

TEST(LutGemm, LongK) {
  SKIP_WITHOUT_ISA();
  // K past one K block of tables (2048 / M, a multiple of 32), groups straddling blocks.
  uint32_t seed = 200;
  for (int64_t q : {2, 3})
    for (int64_t group : {20, 96, 128})
      for (int64_t M : {1, 3, 4}) {
        Problem p(M, 40, 4100, q, group, seed++);
        check(p, 0, false);
        check(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, false);
      }
}

TEST(LutGemm, Threads) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 300;
  for (int threads : {1, 2})
    for (int64_t q : {1, 3, 4, 8})
      for (int64_t group : {20, 32, 128})
        for (int64_t M : {1, 3, 16}) {
          Problem p(M, 130, 1030, q, group, seed++);
          for (int64_t f : kFlags)
            check(p, f, true, threads);
          Problem s(M, 37, 130, q, group, seed++); // small: on the calling thread
          check(s, SPARQ_UK_ACCUMULATE, true, threads);
        }
}

TEST(LutGemm, Offsets) {
  SKIP_WITHOUT_ISA();
  // Per-group offsets times the group sums of the activations, with per-plane scales and with
  // scales shared by the planes (SPARQ_UK_PLANE_SCALES): short and long K (groups
  // straddling K blocks of tables), groups on and off whole dwords, rows of A in one and in
  // several table sets, one and two threads.
  uint32_t seed = 700;
  for (int64_t q : {1, 2, 3})
    for (int64_t group : {20, 32, 128, 5000})
      for (int64_t K : {130, 333, 4100})
        for (int64_t M : {1, 3, 5}) {
          Problem p(M, 37, K, q, group, seed++, /*withOffsets=*/true);
          check(p, 0, false);
          check(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, true, 2);
          // With one scale per row and group for every plane (integer codes as planes).
          Problem s(M, 37, K, q, group, seed++, /*withOffsets=*/true, /*sharedScales=*/true);
          check(s, 0, false);
          check(s, SPARQ_UK_ACCUMULATE, true, 2);
        }
}

TEST(LutGemm, Degenerate) {
  SKIP_WITHOUT_ISA();
  // K = 0: an empty sum (C = 0 or unchanged), then the epilogue.
  Problem p(2, 9, 0, 2, 32, 7);
  for (int64_t f : kFlags)
    check(p, f, false);
  // A group larger than K: one group per row.
  Problem g(3, 37, 70, 3, 1000, 8);
  check(g, SPARQ_UK_ACCUMULATE, false);
  check(g, 0, true, 2);
}

// ---- int8 tables ----

#define SKIP_WITHOUT_I8_ISA()                                                                 \
  do {                                                                                        \
    SKIP_WITHOUT_ISA();                                                                       \
    if (SPARQ_KERNELS_TEST_VLEN == 16 && (!__builtin_cpu_supports("avx512vbmi") ||            \
                                          !__builtin_cpu_supports("avx512vnni")))             \
      GTEST_SKIP() << "host CPU lacks AVX-512 VBMI/VNNI; the v16 int8-table kernel cannot "   \
                      "run here";                                                             \
  } while (0)

/// The int8-table product of UKernels.h, written out: the quantized-table result and the bound
/// of its distance to the exact product, per output.
struct I8Ref {
  double value = 0.0, magnitude = 0.0, bound = 0.0;
};

I8Ref i8Reference(const Problem &p, int64_t m, int64_t n) {
  const float *a = p.A.data() + m * p.lda;
  const int64_t group = p.group <= 0 || p.group > p.K ? p.K : p.group;
  I8Ref ref;
  for (int64_t g = 0; g * group < p.K; ++g) {
    const int64_t k0 = g * group, k1 = std::min(p.K, k0 + group);
    auto x = [&](int64_t k) { return k < k1 ? a[k] : 0.0f; };
    float mx = 0.0f;
    for (int64_t k = k0; k < k1; k += 4) {
      float s = 0.0f;
      for (int j = 0; j < 4; ++j)
        s += std::fabs(x(k + j));
      mx = std::max(mx, s);
    }
    const float inv = mx > 0.0f ? 127.0f / mx : 0.0f;
    const double step = double(mx) / 127.0;
    for (int64_t i = 0; i < p.q; ++i) {
      const double alpha = p.scales[size_t((i * p.N + n) * p.groups + g)];
      int64_t sum = 0, chunks = 0;
      for (int64_t k = k0; k < k1; k += 4, ++chunks) {
        float T = 0.0f;
        for (int j = 0; j < 4; ++j) {
          // The stored bit (padding past K included: its x is 0).
          const uint8_t *row = p.codes.data() + (i * p.N + n) * p.rowBytes;
          bool plus = (row[(k + j) / 8] >> ((k + j) % 8)) & 1u;
          T += plus ? x(k + j) : -x(k + j);
        }
        float v = T * inv;
        sum += int64_t(std::nearbyint(v));
      }
      ref.value += alpha * step * double(sum);
      ref.magnitude += std::fabs(alpha * step * double(sum));
      ref.bound += alpha * step * 0.5 * double(chunks);
    }
  }
  return ref;
}

void checkI8(const Problem &p, int64_t flags, bool mt, int threads = 1) {
  SCOPED_TRACE("i8 M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) +
               " K=" + std::to_string(p.K) + " q=" + std::to_string(p.q) +
               " group=" + std::to_string(p.group) + " flags=" + std::to_string(flags) +
               (mt ? " mt" : "") + " threads=" + std::to_string(threads));
  std::vector<float> C = p.C0;
  sparq_uk_set_num_threads(threads);
  p.call(C, flags, mt, /*i8=*/true);
  sparq_uk_set_num_threads(0);
  int bad = 0;
  for (int64_t m = 0; m < p.M; ++m) {
    const float *a = p.A.data() + m * p.lda;
    for (int64_t n = 0; n < p.N; ++n) {
      I8Ref ref = i8Reference(p, m, n);
      double exact = 0.0;
      for (int64_t k = 0; k < p.K; ++k)
        for (int64_t i = 0; i < p.q; ++i)
          exact += double(p.alpha(i, n, k)) * p.sign(i, n, k) * a[k];
      const double c0 = p.C0[size_t(m * p.ldc + n)];
      double r = ref.value;
      if (flags & SPARQ_UK_ACCUMULATE) {
        r += c0;
        exact += c0;
      }
      const bool relu = flags & SPARQ_UK_RELU;
      if (relu) {
        r = std::max(r, 0.0);
        exact = std::max(exact, 0.0);
      }
      const double tol = 1e-5 * (ref.magnitude + std::fabs(c0)) + 1e-6;
      const double got = C[size_t(m * p.ldc + n)];
      if (!(std::fabs(got - r) <= tol) && ++bad <= 5)
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << got << ", int8-table reference " << r
                      << " (tol " << tol << ")";
      if (!(std::fabs(got - exact) <= ref.bound * (1 + 1e-5) + tol) && ++bad <= 5)
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << got << ", exact product " << exact
                      << " (table rounding bound " << ref.bound << ")";
    }
    for (int64_t n = p.N; n < p.ldc && m + 1 < p.M; ++n)
      EXPECT_EQ(C[size_t(m * p.ldc + n)], p.C0[size_t(m * p.ldc + n)]);
  }
  EXPECT_EQ(bad, 0);
}

TEST(LutGemmI8, Gemv) {
  SKIP_WITHOUT_I8_ISA();
  uint32_t seed = 400;
  for (int64_t q : {1, 2, 3, 4, 8})
    for (int64_t group : {32, 128, 1000})
      for (int64_t K : {130, 333, 512, 545})
        for (int64_t N : {37, 130})
          for (int64_t M : {1, 3}) {
            Problem p(M, N, K, q, group, seed++);
            for (int64_t f : kFlags)
              checkI8(p, f, false);
          }
}

TEST(LutGemmI8, RowsOfA) {
  SKIP_WITHOUT_I8_ISA();
  uint32_t seed = 500;
  for (int64_t q : {1, 3, 8})
    for (int64_t group : {32, 128})
      for (int64_t M : {2, 4, 5, 16}) {
        Problem p(M, 130, 333, q, group, seed++);
        for (int64_t f : kFlags)
          checkI8(p, f, false);
      }
}

TEST(LutGemmI8, LongK) {
  SKIP_WITHOUT_I8_ISA();
  // K past one K block of tables (8192 / M values; 2048 at M = 4), groups straddling blocks.
  uint32_t seed = 600;
  for (int64_t q : {2, 3})
    for (int64_t group : {96, 128})
      for (int64_t M : {1, 3, 4}) {
        Problem p(M, 40, M == 1 ? 8300 : 4100, q, group, seed++);
        checkI8(p, 0, false);
        checkI8(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, false);
      }
}

TEST(LutGemmI8, Threads) {
  SKIP_WITHOUT_I8_ISA();
  uint32_t seed = 700;
  for (int threads : {1, 2})
    for (int64_t q : {1, 3, 4})
      for (int64_t M : {1, 3, 16}) {
        Problem p(M, 130, 1030, q, 128, seed++);
        for (int64_t f : kFlags)
          checkI8(p, f, true, threads);
        Problem s(M, 37, 130, q, 32, seed++); // small: on the calling thread
        checkI8(s, SPARQ_UK_ACCUMULATE, true, threads);
      }
}

TEST(LutGemmI8, Degenerate) {
  SKIP_WITHOUT_I8_ISA();
  uint32_t seed = 800;
  // Groups that are not a multiple of 32 (and do not cover K) are refused with a message.
  for (int64_t group : {8, 20, 100}) {
    Problem p(3, 37, 333, 2, group, seed++);
    std::vector<float> C = p.C0;
    EXPECT_DEATH(p.call(C, 0, false, /*i8=*/true), "multiple of 32");
    EXPECT_DEATH(p.call(C, 0, true, /*i8=*/true), "multiple of 32");
  }
  // K = 0: an empty sum; all-zero activations: zero scales, no division by zero.
  Problem e(2, 9, 0, 2, 32, seed++);
  for (int64_t f : kFlags)
    checkI8(e, f, false);
  Problem z(2, 40, 300, 3, 32, seed++);
  std::fill(z.A.begin(), z.A.end(), 0.0f);
  for (int64_t f : kFlags)
    checkI8(z, f, false);
}

} // namespace
