//===- runtime/tests/AttentionTest.cpp - attention kernel against a reference ----===//
//
// sparq_uk_attention_f32[_mt] against softmax(scale * Q Kᵀ + mask) V computed in double by a
// plain loop over the whole score row: sizes off every block (S, T, D not multiples of the
// kernel's 64 query rows, its key block or the vector width), padded row strides (padding must
// stay untouched), batch strides, broadcast and per-batch masks with -inf entries, causal
// masks with and without an offset (the decoder's T - S), scores whose row maximum grows from
// key block to key block (the online rescaling), 1 and 2 threads, K given transposed and as
// rows (SPARQ_UK_K_ROWS; the padding of K's rows is NaN, so reading it shows), with and without
// the shared packed-key scratch (kpack; filled with NaN before the call, so a block the kernel
// reads before packing it shows). Kᵀ, K and kpack end at an inaccessible page, so reading a key
// past T (or past the scratch) faults.
//
//===----------------------------------------------------------------------===//
#include "KernelTestUtil.h"

#include "sparq/Kernels/UKernels.h"

#include <cmath>
#include <random>
#include <vector>

namespace {

using sparq::test::GuardedBytes;

struct Problem {
  int64_t B, S, T, D;
  bool causal = false;
  int64_t offset = 0;
  int mask = 0; // 0: none, 1: one S x T mask for every batch, 2: one per batch
  int64_t pad = 0; // extra elements at the end of every row (all operands)
  float spread = 1.0f; // scores grow with the key index by this factor over T keys
};

class Attention : public sparq::test::KernelTest,
                  public ::testing::WithParamInterface<std::tuple<Problem, int, bool, bool>> {};

/// With kRows the kernel reads K (T rows of D, SPARQ_UK_K_ROWS) instead of Kᵀ; with pack it gets
/// the packed-key scratch.
void runCase(const Problem &p, int threads, bool kRows, bool pack) {
  std::mt19937 rng(unsigned(p.B * 131 + p.S * 17 + p.T * 7 + p.D + p.mask));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t ldq = p.D + p.pad, ldk = p.T + p.pad, ldv = p.D + p.pad, ldo = p.D + p.pad;
  const int64_t ldm = p.T + p.pad;
  std::vector<float> Q(p.B * p.S * ldq), V(p.B * p.T * ldv), O(p.B * p.S * ldo, 7.0f);
  GuardedBytes ktBytes(sizeof(float) * p.B * p.D * ldk);
  float *Kt = reinterpret_cast<float *>(ktBytes.data());
  for (float &x : Q)
    x = normal(rng);
  for (float &x : V)
    x = normal(rng);
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t d = 0; d < p.D; ++d)
      for (int64_t j = 0; j < ldk; ++j)
        Kt[(b * p.D + d) * ldk + j] = normal(rng) * (1.0f + p.spread * float(j) / float(p.T));
  const int64_t maskBatches = p.mask == 2 ? p.B : 1;
  std::vector<float> M(p.mask ? maskBatches * p.S * ldm : 0);
  for (size_t i = 0; i < M.size(); ++i)
    // Mostly small offsets, some -inf (never key 0, so every row attends something).
    M[i] = (i % ldm) != 0 && rng() % 7 == 0 ? -INFINITY : 0.5f * normal(rng);
  // K as rows (the same values), ending at an inaccessible page too.
  const int64_t ldkr = p.D + p.pad;
  GuardedBytes kBytes(sizeof(float) * p.B * p.T * ldkr);
  float *K = reinterpret_cast<float *>(kBytes.data());
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t j = 0; j < p.T; ++j)
      for (int64_t d = 0; d < ldkr; ++d)
        K[(b * p.T + j) * ldkr + d] = d < p.D ? Kt[(b * p.D + d) * ldk + j] : NAN;
  const float scale = 1.0f / std::sqrt(float(p.D));
  const int64_t sM = p.mask == 2 ? p.S * ldm : 0;
  const int64_t packBlocks = (p.T + SPARQ_UK_ATTENTION_KEYS - 1) / SPARQ_UK_ATTENTION_KEYS;
  GuardedBytes packBytes(pack ? sizeof(float) * p.B * packBlocks * p.D * SPARQ_UK_ATTENTION_KEYS : 0);
  float *kpack = pack ? reinterpret_cast<float *>(packBytes.data()) : nullptr;
  for (int64_t i = 0; pack && i < p.B * packBlocks * p.D * SPARQ_UK_ATTENTION_KEYS; ++i)
    kpack[i] = NAN;
  sparq_uk_set_num_threads(threads);
  auto call = threads == 1 ? sparq_uk_attention_f32 : sparq_uk_attention_f32_mt;
  const int64_t flags = (p.causal ? SPARQ_UK_CAUSAL : 0) | (kRows ? SPARQ_UK_K_ROWS : 0);
  call(intptr_t(O.data()), p.S * ldo, ldo, intptr_t(Q.data()), p.S * ldq, ldq,
       kRows ? intptr_t(K) : intptr_t(Kt), kRows ? p.T * ldkr : p.D * ldk, kRows ? ldkr : ldk,
       intptr_t(V.data()), p.T * ldv, ldv, p.mask ? intptr_t(M.data()) : 0, sM, ldm, p.B, p.S,
       p.T, p.D, scale, p.offset, flags, intptr_t(kpack));
  sparq_uk_set_num_threads(1);

  std::vector<double> s(p.T);
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t i = 0; i < p.S; ++i) {
      double mx = -INFINITY;
      for (int64_t j = 0; j < p.T; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < p.D; ++e)
          dot += double(Q[(b * p.S + i) * ldq + e]) * Kt[(b * p.D + e) * ldk + j];
        s[j] = double(scale) * dot;
        if (p.mask)
          s[j] += M[b * sM + i * ldm + j];
        if (p.causal && j > i + p.offset)
          s[j] = -INFINITY;
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < p.T; ++j)
        sum += s[j] = std::exp(s[j] - mx);
      for (int64_t d = 0; d < ldo; ++d) {
        const float got = O[(b * p.S + i) * ldo + d];
        if (d >= p.D) {
          ASSERT_EQ(got, 7.0f) << "padding written at b=" << b << " i=" << i << " d=" << d;
          continue;
        }
        double want = 0, mag = 0;
        for (int64_t j = 0; j < p.T; ++j) {
          want += s[j] / sum * V[(b * p.T + j) * ldv + d];
          mag += s[j] / sum * std::fabs(V[(b * p.T + j) * ldv + d]);
        }
        ASSERT_NEAR(got, want, 2e-5 * (mag + 1e-3))
            << "b=" << b << " i=" << i << " d=" << d << " B=" << p.B << " S=" << p.S
            << " T=" << p.T << " D=" << p.D;
      }
    }
}

TEST_P(Attention, MatchesReference) {
  auto [p, threads, kRows, pack] = GetParam();
  runCase(p, threads, kRows, pack);
}

const Problem kProblems[] = {
    {1, 1, 1, 1},
    {2, 5, 7, 3},
    {3, 33, 70, 64},
    {1, 130, 130, 64, true, 0},       // prefill, causal
    {2, 64, 200, 80, true, 136},      // a chunk of new tokens after 136 cached ones
    {1, 1, 127, 64, true, 126},       // decode: the last row attends every key
    {2, 40, 97, 16, false, 0, 1, 3},  // broadcast mask, padded rows
    {3, 37, 65, 17, false, 0, 2, 5},  // per-batch mask, D off the vector width
    {1, 70, 300, 128, true, 0, 1, 0, 40.0f}, // causal and a mask; scores up to ~40x at the end
    {2, 9, 129, 256, false, 0, 0, 1, 20.0f},
    {1, 35, 64, 64, true, 0, 0, 0},   // exactly one key block (v8)
    {2, 70, 128, 64, false, 0, 0, 0}, // exactly one key block (v16), two tasks of rows
    {1, 3, 77, 64, false, 0, 0, 0},   // fewer rows than a register group: Kᵀ read in place
    {2, 1, 300, 20, true, 299, 2, 3, 8.0f}, // decode with D off the vector, a mask, padded rows
    {2, 100, 150, 32, true, 5},       // an offset off the 4-row register groups
    {2, 300, 333, 48, true, 0, 1, 2}, // three tasks of rows per batch reading one packed copy
};

INSTANTIATE_TEST_SUITE_P(Shapes, Attention,
                         ::testing::Combine(::testing::ValuesIn(kProblems),
                                            ::testing::Values(1, 2), ::testing::Bool(),
                                            ::testing::Bool()));

} // namespace
