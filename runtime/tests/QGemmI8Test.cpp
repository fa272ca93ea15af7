//===- runtime/tests/QGemmI8Test.cpp - sparq_uk_qgemm_i8_f32(_mt) -----------===//
//
// The W4 kernel with run-time int8 activations (runtime/kernels/QGemmI8.cpp), built once per
// kernel variant (SPARQ_KERNELS_TEST_VLEN 16 or 8): against a plain reference that quantizes the
// activations as specified and decodes the codes bit by bit (the integer sums are exact, so
// only the float accumulation differs), and against the fp32 product within the quantization
// error of the activations. The fallbacks (bits != 4, groups not a multiple of 32) must equal
// sparq_uk_qgemm_f32.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifndef SPARQ_KERNELS_TEST_VLEN
#error "SPARQ_KERNELS_TEST_VLEN (16 or 8) must be defined"
#endif

namespace {

#define SKIP_WITHOUT_ISA()                                                                    \
  do {                                                                                        \
    std::string why = sparq::test::missingKernelIsa(true);                                  \
    if (!why.empty())                                                                         \
      GTEST_SKIP() << why;                                                                    \
  } while (0)

struct Problem {
  int64_t M, N, K, group, bits = 4;
  bool asym = false;
  int64_t lda, ldc, rowBytes, ss;
  std::vector<float> A, C0, scales;
  std::vector<uint8_t> codes, zp;

  Problem(int64_t m, int64_t n, int64_t k, int64_t g, bool as, uint32_t seed, int64_t b = 4)
      : M(m), N(n), K(k), group(g), bits(b), asym(as) {
    std::mt19937 rng(seed);
    lda = K + 3;
    ldc = N + 5;
    rowBytes = (K * bits + 7) / 8;
    const int64_t G = effGroup();
    ss = (K + G - 1) / G;
    std::uniform_real_distribution<float> ua(-2.0f, 2.0f), us(0.01f, 0.2f);
    A.resize(size_t(M * lda));
    for (float &x : A)
      x = ua(rng);
    // An all-zero group (max |x| = 0) in the second row.
    for (int64_t k = 0; k < std::min<int64_t>(G, K); ++k)
      if (M > 1)
        A[size_t(lda + k)] = 0.0f;
    C0.resize(size_t(M * ldc));
    for (float &x : C0)
      x = ua(rng);
    codes.resize(size_t(N * rowBytes)); // exact size: no slack after the last row
    std::uniform_int_distribution<int> byte(0, 255), z(0, (1 << bits) - 1);
    for (uint8_t &x : codes)
      x = uint8_t(byte(rng));
    scales.resize(size_t(N * ss));
    for (float &x : scales)
      x = us(rng);
    if (asym) {
      zp.resize(size_t(N * ss));
      for (uint8_t &x : zp)
        x = uint8_t(z(rng));
    }
  }
  int64_t effGroup() const { return group <= 0 || group > K ? K : group; }
  uint32_t code(int64_t n, int64_t k) const {
    uint32_t c = 0;
    for (int64_t i = 0; i < bits; ++i) {
      int64_t bit = k * bits + i;
      c |= uint32_t((codes[size_t(n * rowBytes + bit / 8)] >> (bit % 8)) & 1) << i;
    }
    return c;
  }
  int32_t value(int64_t n, int64_t k) const {
    uint32_t c = code(n, k);
    if (asym)
      return int32_t(c) - int32_t(zp[size_t(n * ss + k / effGroup())]);
    return c >= (1u << (bits - 1)) ? int32_t(c) - (1 << bits) : int32_t(c);
  }
  float weight(int64_t n, int64_t k) const {
    return float(value(n, k)) * scales[size_t(n * ss + k / effGroup())];
  }
  void call(std::vector<float> &C, int64_t flags, bool mt) const {
    auto fn = mt ? sparq_uk_qgemm_i8_f32_mt : sparq_uk_qgemm_i8_f32;
    fn(reinterpret_cast<intptr_t>(C.data()), ldc, reinterpret_cast<intptr_t>(A.data()), lda,
       reinterpret_cast<intptr_t>(codes.data()), rowBytes,
       reinterpret_cast<intptr_t>(scales.data()),
       asym ? reinterpret_cast<intptr_t>(zp.data()) : 0, ss, bits, group, M, N, K, flags);
  }
};

/// The reference: quantized activations exactly as specified, exact integer sums per group.
/// ref: the result; tol: a bound on the float rounding of the kernel's accumulation;
/// exact: the fp32 product; qerr: a bound on its distance from the quantized product.
void reference(const Problem &p, int64_t flags, std::vector<double> &ref, std::vector<double> &tol,
               std::vector<double> &exact, std::vector<double> &qerr) {
  const int64_t G = p.effGroup();
  ref.assign(size_t(p.M * p.N), 0.0);
  tol.assign(size_t(p.M * p.N), 0.0);
  exact.assign(size_t(p.M * p.N), 0.0);
  qerr.assign(size_t(p.M * p.N), 0.0);
  std::vector<int32_t> qa(size_t(p.K));
  std::vector<float> sa(size_t(p.ss));
  for (int64_t m = 0; m < p.M; ++m) {
    const float *a = p.A.data() + m * p.lda;
    for (int64_t g = 0; g < p.ss; ++g) {
      float amax = 0.0f;
      for (int64_t k = g * G; k < std::min(p.K, (g + 1) * G); ++k)
        amax = std::max(amax, std::fabs(a[k]));
      float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      sa[size_t(g)] = amax / 127.0f;
      for (int64_t k = g * G; k < std::min(p.K, (g + 1) * G); ++k) {
        float y = a[k] * inv;
        qa[size_t(k)] = int32_t(std::max(-127.0f, std::min(127.0f, std::nearbyint(y))));
      }
    }
    for (int64_t n = 0; n < p.N; ++n) {
      double r = 0.0, t = 0.0, e = 0.0, q = 0.0;
      for (int64_t g = 0; g < p.ss; ++g) {
        int64_t isum = 0, iabs = 0;
        for (int64_t k = g * G; k < std::min(p.K, (g + 1) * G); ++k) {
          int32_t v = p.value(n, k);
          isum += int64_t(qa[size_t(k)]) * v;
          iabs += std::abs(int64_t(qa[size_t(k)]) * v);
          double w = p.weight(n, k);
          e += double(a[k]) * w;
          q += 0.5 * double(sa[size_t(g)]) * std::fabs(w);
        }
        const double s = double(sa[size_t(g)]) * double(p.scales[size_t(n * p.ss + g)]);
        r += s * double(isum);
        t += s * double(iabs);
      }
      const double c0 = p.C0[size_t(m * p.ldc + n)];
      if (flags & SPARQ_UK_ACCUMULATE) {
        r += c0;
        e += c0;
        t += std::fabs(c0);
      }
      if (flags & SPARQ_UK_RELU) {
        r = std::max(r, 0.0);
        e = std::max(e, 0.0);
      }
      ref[size_t(m * p.N + n)] = r;
      tol[size_t(m * p.N + n)] = 2e-5 * t + 1e-6;
      exact[size_t(m * p.N + n)] = e;
      qerr[size_t(m * p.N + n)] = q * 1.01 + 2e-5 * t + 1e-5;
    }
  }
}

void check(const Problem &p, int64_t flags, bool mt, int threads = 1) {
  SCOPED_TRACE("M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) +
               " K=" + std::to_string(p.K) + " group=" + std::to_string(p.group) +
               (p.asym ? " asym" : " sym") + " flags=" + std::to_string(flags) +
               (mt ? " mt" : "") + " threads=" + std::to_string(threads));
  std::vector<double> ref, tol, exact, qerr;
  reference(p, flags, ref, tol, exact, qerr);
  std::vector<float> C = p.C0;
  sparq_uk_set_num_threads(threads);
  p.call(C, flags, mt);
  sparq_uk_set_num_threads(0);
  int bad = 0;
  for (int64_t m = 0; m < p.M; ++m) {
    for (int64_t n = 0; n < p.N; ++n) {
      const double got = C[size_t(m * p.ldc + n)];
      const size_t i = size_t(m * p.N + n);
      if (std::fabs(got - ref[i]) > tol[i] || std::fabs(got - exact[i]) > qerr[i]) {
        if (++bad <= 5)
          ADD_FAILURE() << "C[" << m << "][" << n << "] = " << got << ", reference " << ref[i]
                        << " (tol " << tol[i] << "), fp32 product " << exact[i] << " (bound "
                        << qerr[i] << ")";
      }
    }
    // Padding between rows of C is untouched.
    for (int64_t n = p.N; n < p.ldc && m + 1 < p.M; ++n)
      EXPECT_EQ(C[size_t(m * p.ldc + n)], p.C0[size_t(m * p.ldc + n)]);
  }
  EXPECT_EQ(bad, 0);
}

const int64_t kFlags[] = {0, SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU,
                          SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU};

TEST(QGemmI8, Gemv) {
  SKIP_WITHOUT_ISA();
  // K: whole blocks, a partial last group (4160 % 128 = 64), an odd K (4097), two chunks.
  const int64_t Ks[] = {4096, 4160, 4097, 8320};
  uint32_t seed = 1;
  for (int64_t K : Ks)
    for (int64_t G : {int64_t(128), int64_t(32), int64_t(0)})
      for (bool asym : {false, true}) {
        if (G == 0 && K % 32 != 0)
          continue; // per channel with K = 4097: the fp32 fallback (see Fallback)
        Problem p(1, 37, K, G, asym, seed++);
        for (int64_t f : kFlags)
          check(p, f, false);
      }
}

TEST(QGemmI8, Groups) {
  SKIP_WITHOUT_ISA();
  // Multiples of 32 that are not multiples of the block, groups spanning chunks (per channel
  // with K > 4096), per-tensor scales (scaleStride 0 is not used here: per channel).
  uint32_t seed = 100;
  for (int64_t G : {int64_t(64), int64_t(96), int64_t(160), int64_t(256), int64_t(8224), int64_t(8320)})
    for (bool asym : {false, true}) {
      Problem p(3, 21, G >= 8224 ? G : 4096 + 96, G, asym, seed++);
      check(p, 0, false);
      check(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, false);
    }
}

TEST(QGemmI8, RowsOfA) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 200;
  for (int64_t M : {int64_t(1), int64_t(2), int64_t(3), int64_t(4), int64_t(5), int64_t(16)})
    for (bool asym : {false, true}) {
      Problem p(M, 29, 4096 + 32, 128, asym, seed++);
      check(p, 0, false);
      check(p, SPARQ_UK_ACCUMULATE, false);
      Problem q(M, 19, 1024, 32, asym, seed++);
      check(q, SPARQ_UK_RELU, false);
    }
}

TEST(QGemmI8, Threads) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 300;
  for (int64_t M : {int64_t(1), int64_t(3), int64_t(16)})
    for (bool asym : {false, true}) {
      // Large enough to be split: N >= 64, M N K >= 2^20.
      Problem p(M, 301, 4096 + 64, M == 3 ? 64 : 128, asym, seed++);
      for (int threads : {1, 2}) {
        check(p, 0, true, threads);
        check(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, true, threads);
      }
    }
}

/// Whatever the kernel does not handle is sparq_uk_qgemm_f32's result, bit for bit.
TEST(QGemmI8, Fallback) {
  SKIP_WITHOUT_ISA();
  struct Case {
    int64_t M, N, K, group, bits;
    bool asym;
  } cases[] = {{1, 33, 200, 40, 4, false}, {3, 40, 200, 40, 4, true}, {2, 17, 256, 128, 3, false},
               {1, 70, 4096, 128, 8, true}, {16, 70, 100, 0, 4, false}};
  uint32_t seed = 400;
  for (const Case &c : cases)
    for (bool mt : {false, true})
      for (int64_t f : kFlags) {
        Problem p(c.M, c.N, c.K, c.group, c.asym, seed++, c.bits);
        std::vector<float> got = p.C0, want = p.C0;
        p.call(got, f, mt);
        auto fn = mt ? sparq_uk_qgemm_f32_mt : sparq_uk_qgemm_f32;
        fn(reinterpret_cast<intptr_t>(want.data()), p.ldc, reinterpret_cast<intptr_t>(p.A.data()),
           p.lda, reinterpret_cast<intptr_t>(p.codes.data()), p.rowBytes,
           reinterpret_cast<intptr_t>(p.scales.data()),
           p.asym ? reinterpret_cast<intptr_t>(p.zp.data()) : 0, p.ss, p.bits, p.group, p.M, p.N,
           p.K, f);
        EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
            << "M=" << c.M << " K=" << c.K << " group=" << c.group << " bits=" << c.bits;
      }
}

TEST(QGemmI8, Degenerate) {
  SKIP_WITHOUT_ISA();
  // K = 0: C = 0 (or unchanged with ACCUMULATE); M = 0 / N = 0: nothing written.
  std::vector<float> C(8, 5.0f);
  float A[1] = {0.0f};
  uint8_t codes[1] = {0};
  float scales[1] = {1.0f};
  sparq_uk_qgemm_i8_f32(reinterpret_cast<intptr_t>(C.data()), 4, reinterpret_cast<intptr_t>(A),
                        1, reinterpret_cast<intptr_t>(codes), 1,
                        reinterpret_cast<intptr_t>(scales), 0, 1, 4, 32, 2, 4, 0, 0);
  for (float x : C)
    EXPECT_EQ(x, 0.0f);
  std::vector<float> D(8, 5.0f);
  sparq_uk_qgemm_i8_f32(reinterpret_cast<intptr_t>(D.data()), 4, reinterpret_cast<intptr_t>(A),
                        1, reinterpret_cast<intptr_t>(codes), 1,
                        reinterpret_cast<intptr_t>(scales), 0, 1, 4, 32, 0, 4, 1, 0);
  for (float x : D)
    EXPECT_EQ(x, 5.0f);
}

} // namespace
