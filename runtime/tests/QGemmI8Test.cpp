//===- runtime/tests/QGemmI8Test.cpp - sparq_uk_qgemm_i8_f32(_mt) -----------===//
//
// The W2/W4/W8 kernel with run-time int8 activations (runtime/kernels/QGemmI8.cpp), built once
// per kernel variant (SPARQ_KERNELS_TEST_VLEN 16 or 8): against a plain reference that
// quantizes the activations as specified and decodes the codes bit by bit, and against the
// fp32 product within the quantization error of the activations.
//
// Tolerance: the integer sums are exact in both (each int32 lane of the kernel holds
// sum qa * value over its k, the zero-point offset included), so only the float arithmetic
// after them differs: the kernel converts the lane sums to float, multiplies by sa * sw and
// accumulates in float (chains of at most a few hundred additions), the reference in double.
// Hence |kernel - reference| <= 2e-5 * sum_g |sa sw| * sum_k |qa * value| + 1e-6 (2e-5 is about
// 340 float epsilons); with all values 0 the kernel is exact.
//
// The fallbacks (widths other than 2, 4, 8; groups not a multiple of 32) must equal
// sparq_uk_qgemm_f32 bit for bit.
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
  std::vector<int32_t> values(size_t(p.N * p.K));
  std::vector<double> weights(size_t(p.N * p.K));
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t k = 0; k < p.K; ++k) {
      values[size_t(n * p.K + k)] = p.value(n, k);
      weights[size_t(n * p.K + k)] = p.weight(n, k);
    }
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
          int32_t v = values[size_t(n * p.K + k)];
          isum += int64_t(qa[size_t(k)]) * v;
          iabs += std::abs(int64_t(qa[size_t(k)]) * v);
          double w = weights[size_t(n * p.K + k)];
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
  SCOPED_TRACE("bits=" + std::to_string(p.bits) + " M=" + std::to_string(p.M) +
               " N=" + std::to_string(p.N) +
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

/// The kernel's chunk of K: the activations of one chunk are quantized at a time, and the
/// tests cross its boundary.
constexpr int64_t kChunk = SPARQ_UK_QGEMM_I8_CHUNK;

/// The code widths the kernel takes.
const int64_t kWidths[] = {2, 4, 8};

TEST(QGemmI8, Gemv) {
  SKIP_WITHOUT_ISA();
  // K: whole blocks, a partial last group (% 128 = 64), an odd K (a partial last byte of 2-bit
  // codes), two chunks, three chunks.
  const int64_t Ks[] = {4096, kChunk + 64, kChunk + 1, 2 * kChunk + 128};
  uint32_t seed = 1;
  for (int64_t bits : kWidths)
    for (int64_t K : Ks)
      for (int64_t G : {int64_t(128), int64_t(32), int64_t(0)})
        for (bool asym : {false, true}) {
          if (G == 0 && K % 32 != 0)
            continue; // per channel with K = 4097: the fp32 fallback (see Fallback)
          Problem p(1, 37, K, G, asym, seed++, bits);
          for (int64_t f : kFlags)
            check(p, f, false);
        }
}

/// Every width x symmetric/asymmetric x group 32/64/128/per channel, with K and N not
/// multiples of the group, block or row tile, for 1 to 130 rows of A.
TEST(QGemmI8, Widths) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 50;
  for (int64_t bits : kWidths)
    for (bool asym : {false, true})
      for (int64_t G : {int64_t(32), int64_t(64), int64_t(128), int64_t(0)})
        for (int64_t M : {int64_t(1), int64_t(3), int64_t(16), int64_t(130)}) {
          Problem p(M, 37, kChunk + 96, G, asym, seed++, bits);
          check(p, kFlags[seed % 4], false);
          if (M <= 3)
            check(p, kFlags[(seed + 1) % 4], false);
        }
}

TEST(QGemmI8, Groups) {
  SKIP_WITHOUT_ISA();
  // Multiples of 32 that are not multiples of the block (whose blocks span groups), groups of
  // several blocks (some across the chunk boundary: 384 and 768), groups spanning chunks
  // (kChunk + 32 and + 128, and per channel with K > kChunk).
  uint32_t seed = 100;
  for (int64_t bits : kWidths)
    for (int64_t G : {int64_t(64), int64_t(96), int64_t(160), int64_t(256), int64_t(384),
                      int64_t(512), int64_t(768), kChunk + 32, kChunk + 128})
      for (bool asym : {false, true}) {
        Problem p(3, 21, G > kChunk ? G : kChunk + 96, G, asym, seed++, bits);
        check(p, 0, false);
        check(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, false);
      }
}

TEST(QGemmI8, RowsOfA) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 200;
  for (int64_t bits : kWidths)
    for (int64_t M : {int64_t(1), int64_t(2), int64_t(3), int64_t(4), int64_t(5), int64_t(16)})
      for (bool asym : {false, true}) {
        Problem p(M, 29, kChunk + 32, 128, asym, seed++, bits);
        check(p, 0, false);
        check(p, SPARQ_UK_ACCUMULATE, false);
        Problem q(M, 19, 1024, 32, asym, seed++, bits);
        check(q, SPARQ_UK_RELU, false);
      }
}

TEST(QGemmI8, Threads) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 300;
  for (int64_t bits : kWidths)
    for (int64_t M : {int64_t(1), int64_t(3), int64_t(16)})
      for (bool asym : {false, true}) {
        // Large enough to be split: N >= 64, M N K >= 2^20.
        Problem p(M, 301, kChunk + 64, M == 3 ? 64 : 128, asym, seed++, bits);
        for (int threads : {1, 2}) {
          check(p, 0, true, threads);
          check(p, SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, true, threads);
        }
      }
}

/// The largest products: all codes at the ends of their range against activations of +-127
/// of equal or alternating signs (with 8-bit codes, pairs of products of 255 * 127 or
/// 128 * 127 that would saturate int16 if summed there).
TEST(QGemmI8, Extremes) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 350;
  for (int64_t bits : kWidths)
    for (bool asym : {false, true})
      for (int64_t G : {int64_t(32), int64_t(128), int64_t(0)})
        for (uint8_t byte : {uint8_t(0xFF), uint8_t(0x80), uint8_t(0x7F), uint8_t(0x00),
                             uint8_t(0xAA), uint8_t(0x88)})
          for (int pattern = 0; pattern < 3; ++pattern) {
            Problem p(2, 19, 1024 + 96, G, asym, seed++, bits);
            for (uint8_t &c : p.codes)
              c = byte;
            for (uint8_t &z : p.zp)
              z = pattern == 1 ? uint8_t((1 << bits) - 1) : 0;
            for (int64_t k = 0; k < p.K; ++k) {
              p.A[size_t(k)] = pattern == 2 && k % 2 ? -1.5f : 1.5f;
              p.A[size_t(p.lda + k)] = pattern == 0 ? -1.5f : (k / 2) % 2 ? 1.5f : -1.5f;
            }
            check(p, 0, false);
          }
}

/// The kernel reads no byte past the codes, scales and zero points (each array ending at an
/// inaccessible page), whatever the path (groups of whole blocks or per-lane; tails).
TEST(QGemmI8, NoOverread) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 370;
  for (int64_t bits : kWidths)
    for (int64_t K : {kChunk + 96, kChunk + 1, int64_t(352)})
      for (int64_t G : {int64_t(32), int64_t(128), int64_t(0)})
        for (bool asym : {false, true}) {
          if (G == 0 && K % 32 != 0)
            continue;
          Problem p(1, 13, K, G, asym, seed++, bits);
          sparq::test::GuardedBytes codes(p.codes.size()), scales(p.scales.size() * 4),
              zp(p.zp.size() + 1);
          std::memcpy(codes.data(), p.codes.data(), p.codes.size());
          std::memcpy(scales.data(), p.scales.data(), p.scales.size() * 4);
          if (!p.zp.empty()) // symmetric problems have none (memcpy from NULL is undefined)
            std::memcpy(zp.data(), p.zp.data(), p.zp.size());
          std::vector<double> ref, tol, exact, qerr;
          reference(p, 0, ref, tol, exact, qerr);
          std::vector<float> C = p.C0;
          sparq_uk_qgemm_i8_f32(
              reinterpret_cast<intptr_t>(C.data()), p.ldc, reinterpret_cast<intptr_t>(p.A.data()),
              p.lda, reinterpret_cast<intptr_t>(codes.data()), p.rowBytes,
              reinterpret_cast<intptr_t>(scales.data()),
              asym ? reinterpret_cast<intptr_t>(zp.data()) : 0, p.ss, bits, G, p.M, p.N, K, 0);
          for (int64_t n = 0; n < p.N; ++n)
            EXPECT_NEAR(C[size_t(n)], ref[size_t(n)], tol[size_t(n)])
                << "bits=" << bits << " K=" << K << " group=" << G << " n=" << n;
        }
}

/// Whatever the kernel does not handle is sparq_uk_qgemm_f32's result, bit for bit: widths
/// other than 2, 4 and 8, groups that are not a multiple of 32.
TEST(QGemmI8, Fallback) {
  SKIP_WITHOUT_ISA();
  struct Case {
    int64_t M, N, K, group, bits;
    bool asym;
  } cases[] = {{1, 33, 200, 40, 4, false},   {3, 40, 200, 40, 4, true},
               {2, 17, 256, 128, 3, false},  {1, 70, 4096, 128, 1, false},
               {3, 70, 4096, 128, 3, true},  {1, 70, 4096, 128, 5, true},
               {2, 70, 1024, 64, 6, false},  {1, 70, 1024, 32, 7, true},
               {1, 70, 1024, 0, 1, true},    {1, 50, 1000, 0, 2, false},
               {3, 50, 512, 48, 8, true},    {16, 70, 100, 0, 4, false}};
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

//===----------------------------------------------------------------------===//
// sparq_uk_qgemm_s8_f32(_mt): int8 activations taken as they are (an exact integer product).
// The reference sums A * value per group in int64 and scales in double; with unit scales and
// sums below 2^24 the kernel's floats are those integers exactly (EXPECT_EQ), otherwise within
// the float rounding bound of check().
//===----------------------------------------------------------------------===//

/// Whether this variant's library runs `bits`-bit codes on int8 activations that may be -128:
/// 8-bit codes on x86 need VNNI (the v8 library is AVX2 without it).
bool exactRuns(int64_t bits) {
#if SPARQ_KERNELS_TEST_VLEN == 8 && (defined(__x86_64__) || defined(__i386__))
  return bits != 8;
#else
  (void)bits;
  return true;
#endif
}

/// Int8 activations for p (row m at m * p.lda): fill 0 uniform in [-128, 127], 1 all -128, 2
/// alternating -128 / 127.
std::vector<int8_t> int8Rows(const Problem &p, int fill, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(-128, 127);
  std::vector<int8_t> A(size_t(p.M * p.lda));
  for (size_t i = 0; i < A.size(); ++i)
    A[i] = int8_t(fill == 0 ? u(rng) : fill == 1 ? -128 : i % 2 ? 127 : -128);
  return A;
}

void checkExact(const Problem &p, const std::vector<int8_t> &A, int64_t flags, bool mt,
                int threads = 1) {
  SCOPED_TRACE("exact bits=" + std::to_string(p.bits) + " M=" + std::to_string(p.M) +
               " N=" + std::to_string(p.N) + " K=" + std::to_string(p.K) +
               " group=" + std::to_string(p.group) + (p.asym ? " asym" : " sym") +
               " flags=" + std::to_string(flags) + (mt ? " mt" : "") +
               " threads=" + std::to_string(threads));
  const int64_t G = p.effGroup();
  std::vector<float> C = p.C0;
  sparq_uk_set_num_threads(threads);
  auto fn = mt ? sparq_uk_qgemm_s8_f32_mt : sparq_uk_qgemm_s8_f32;
  fn(reinterpret_cast<intptr_t>(C.data()), p.ldc, reinterpret_cast<intptr_t>(A.data()), p.lda,
     reinterpret_cast<intptr_t>(p.codes.data()), p.rowBytes,
     reinterpret_cast<intptr_t>(p.scales.data()),
     p.asym ? reinterpret_cast<intptr_t>(p.zp.data()) : 0, p.ss, p.bits, p.group, p.M, p.N, p.K,
     flags);
  sparq_uk_set_num_threads(0);
  int bad = 0;
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      double r = 0.0, t = 0.0;
      bool integral = true; // unit scales and every partial sum below 2^24
      for (int64_t g = 0; g < p.ss; ++g) {
        int64_t isum = 0, iabs = 0;
        for (int64_t k = g * G; k < std::min(p.K, (g + 1) * G); ++k) {
          const int64_t x = int64_t(A[size_t(m * p.lda + k)]) * p.value(n, k);
          isum += x;
          iabs += x < 0 ? -x : x;
        }
        const double sw = p.scales[size_t(n * p.ss + g)];
        integral = integral && sw == 1.0 && iabs < (int64_t(1) << 24);
        r += sw * double(isum);
        t += std::fabs(sw) * double(iabs);
      }
      const double c0 = p.C0[size_t(m * p.ldc + n)];
      if (flags & SPARQ_UK_ACCUMULATE) {
        r += c0;
        t += std::fabs(c0);
        integral = false;
      }
      if (flags & SPARQ_UK_RELU)
        r = std::max(r, 0.0);
      const double got = C[size_t(m * p.ldc + n)];
      const bool ok = integral ? got == r : std::fabs(got - r) <= 2e-5 * t + 1e-6;
      if (!ok && ++bad <= 5)
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << got << ", reference " << r
                      << (integral ? " (exact)" : "");
    }
  EXPECT_EQ(bad, 0);
}

/// Integer products as MatMulInteger has them: unit scales, 8-bit per-channel or per-tensor
/// weights (symmetric, or with zero points), K not a multiple of 32 with one group per row,
/// several chunks of K; 1 to 40 rows of A.
TEST(QGemmS8, ExactIntegers) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 500;
  for (int64_t bits : kWidths) {
    if (!exactRuns(bits))
      continue;
    for (bool asym : {false, true})
      for (int64_t K : {int64_t(288), int64_t(1152), int64_t(100), kChunk + 200})
        for (int64_t M : {int64_t(1), int64_t(3), int64_t(40)}) {
          Problem p(M, 37, K, 0, asym, seed++, bits);
          p.scales.assign(p.scales.size(), 1.0f);
          std::vector<int8_t> A = int8Rows(p, 0, seed++);
          checkExact(p, A, 0, false);
          checkExact(p, A, SPARQ_UK_RELU, false);
          checkExact(p, A, SPARQ_UK_ACCUMULATE, false);
        }
  }
}

/// Groups of a multiple of 32 with float scales, the extreme activations (all -128: a lane's
/// sum of 512 of them in a chunk is -2^16, which the int16 halves of the zero-point sums must
/// hold), and the threaded entry.
TEST(QGemmS8, GroupsExtremesThreads) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 600;
  for (int64_t bits : kWidths) {
    if (!exactRuns(bits))
      continue;
    for (bool asym : {false, true})
      for (int fill : {0, 1, 2}) {
        for (int64_t G : {int64_t(32), int64_t(128), int64_t(0)}) {
          Problem p(3, 29, kChunk + 96, G, asym, seed++, bits);
          checkExact(p, int8Rows(p, fill, seed++), SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU, false);
        }
        Problem q(16, 301, kChunk + 64, 128, asym, seed++, bits);
        std::vector<int8_t> A = int8Rows(q, fill, seed++);
        for (int threads : {1, 2})
          checkExact(q, A, 0, true, threads);
      }
  }
}

} // namespace
