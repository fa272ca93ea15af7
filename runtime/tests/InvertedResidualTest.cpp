//===- runtime/tests/InvertedResidualTest.cpp - the inverted-residual block kernel ----===//
//
// sparq_uk_mbconv_f32[_mt] against the block computed in double by plain loops over NCHW
// tensors (1x1 expand, clamp, zero-padded depthwise or full k x k convolution, clamp, 1x1
// project, clamp, + the input or a 1x1 shortcut convolution of it, clamp):
// channel counts off the vector width, 3x3 and 5x5 filters, strides 1 and 2, a dilation,
// asymmetric padding, images narrower than a vector, batch > 1, ReLU / ReLU6 / no clamp, one
// and two threads; the output written into a padded buffer whose padding must stay untouched,
// the input ending at an inaccessible page.
//
//===----------------------------------------------------------------------===//
#include "KernelTestUtil.h"

#include "sparq/Formats/InvertedResidual.h"
#include "sparq/Kernels/UKernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

using sparq::test::GuardedBytes;

struct Case {
  int64_t N, C, CE, CO, H, W, K, S, D, padT, padL, padB, padR;
  int clamp; ///< 0: none, 1: ReLU after expand and middle, 2: ReLU6 on all four, 3: ReLU after
             ///< expand, middle and the add (a ResNet bottleneck)
  int threads;
  bool full = false;       ///< the middle convolution is full (CM = CO / 2), not depthwise
  bool projection = false; ///< a 1x1 shortcut convolution of stride S instead of the identity
};

class MBConv : public sparq::test::KernelTest, public ::testing::WithParamInterface<Case> {};

float value(int64_t i, int64_t salt) {
  return float((i * 7919 + salt * 104729) % 2001 - 1000) / 1000.0f;
}

TEST_P(MBConv, MatchesReference) {
  const Case p = GetParam();
  const int64_t N = p.N, C = p.C, CE = p.CE, CO = p.CO, H = p.H, W = p.W, K = p.K, S = p.S,
                Dl = p.D;
  const int64_t OH = (H + p.padT + p.padB - (K - 1) * Dl - 1) / S + 1;
  const int64_t OW = (W + p.padL + p.padR - (K - 1) * Dl - 1) / S + 1;
  const bool residual = !p.projection && C == CO && OH == H && OW == W;
  const int64_t CM = p.full ? std::max<int64_t>(CO / 2, 1) : CE;
  const float inf = std::numeric_limits<float>::infinity();
  float clamps[8] = {-inf, inf, -inf, inf, -inf, inf, -inf, inf};
  if (p.clamp == 1 || p.clamp == 3)
    clamps[0] = clamps[2] = 0.0f;
  if (p.clamp == 3)
    clamps[6] = 0.0f;
  if (p.clamp == 2)
    for (int s = 0; s < 4; ++s) {
      clamps[2 * s] = 0.0f;
      clamps[2 * s + 1] = 0.5f;
    }
  // Dw holds the middle filter: CM x (full ? CE : 1) x K x K.
  const int64_t perFilter = p.full ? CE : 1;
  std::vector<float> E(CE * C), Dw(CM * perFilter * K * K), P(CO * CM), bE(CE), bD(CM),
      bP(CO), Sc(CO * C), bS(CO);
  for (size_t i = 0; i < E.size(); ++i)
    E[i] = value(int64_t(i), 1) * 0.5f;
  for (size_t i = 0; i < Dw.size(); ++i)
    Dw[i] = value(int64_t(i), 2);
  for (size_t i = 0; i < P.size(); ++i)
    P[i] = value(int64_t(i), 3) * 0.25f;
  for (int64_t i = 0; i < CE; ++i)
    bE[i] = value(i, 4) * 0.1f;
  for (int64_t i = 0; i < CM; ++i)
    bD[i] = value(i, 5) * 0.1f;
  for (int64_t i = 0; i < CO; ++i) {
    bP[i] = value(i, 6) * 0.1f;
    bS[i] = value(i, 8) * 0.1f;
  }
  for (size_t i = 0; i < Sc.size(); ++i)
    Sc[i] = value(int64_t(i), 9) * 0.25f;
  const sparq::formats::InvertedResidualLayout layout(C, CE, CM, CO, K, K, p.full,
                                                      p.projection);
  std::vector<float> packed(layout.total);
  // The middle filter's value for output channel m, input channel e (depthwise: e == m).
  auto mid = [&](int64_t m, int64_t e, int64_t kh, int64_t kw) {
    return Dw[((m * perFilter + (p.full ? e : 0)) * K + kh) * K + kw];
  };
  sparq::formats::packInvertedResidual(
      packed.data(), C, CE, CM, CO, K, K, p.full, p.projection, clamps,
      [&](int64_t e, int64_t c) { return E[e * C + c]; }, mid,
      [&](int64_t o, int64_t m) { return P[o * CM + m]; },
      [&](int64_t o, int64_t c) { return Sc[o * C + c]; }, [&](int64_t e) { return bE[e]; },
      [&](int64_t m) { return bD[m]; }, [&](int64_t o) { return bP[o]; },
      [&](int64_t o) { return bS[o]; });

  // The same buffer packed at run time, as for filters decoded from compressed weights: the
  // compile-time part holds the biases and clamps with zero filters, sparq_uk_mbconv_pack_f32
  // copies it over a NaN-filled buffer and packs the four filters into it.
  std::vector<float> constants(layout.total), fromCall(layout.total, std::nanf(""));
  auto none2 = [](int64_t, int64_t) { return 0.0f; };
  sparq::formats::packInvertedResidual(
      constants.data(), C, CE, CM, CO, K, K, p.full, p.projection, clamps, none2,
      [](int64_t, int64_t, int64_t, int64_t) { return 0.0f; }, none2, none2,
      [&](int64_t e) { return bE[e]; }, [&](int64_t m) { return bD[m]; },
      [&](int64_t o) { return bP[o]; }, [&](int64_t o) { return bS[o]; });
  const int64_t flags = (p.projection ? SPARQ_UK_PROJECTION : 0) | (p.full ? SPARQ_UK_FULL_CONV : 0);
  sparq_uk_mbconv_pack_f32(intptr_t(fromCall.data()), intptr_t(constants.data()),
                           intptr_t(E.data()), intptr_t(Dw.data()), intptr_t(P.data()),
                           p.projection ? intptr_t(Sc.data()) : 0, C, CE, CM, CO, K, K, flags);
  for (int64_t i = 0; i < layout.total; ++i)
    ASSERT_EQ(fromCall[i], packed[i]) << "run-time packing differs at float " << i;

  // The input with padded rows (inStrideH = W + 1) ends at a guard page.
  const int64_t inStrideH = W + 1, inStrideC = H * inStrideH, inStrideN = C * inStrideC;
  GuardedBytes inBytes(sizeof(float) * ((N - 1) * inStrideN + (C - 1) * inStrideC +
                                        (H - 1) * inStrideH + W));
  float *x = reinterpret_cast<float *>(inBytes.data());
  for (size_t i = 0; i < inBytes.size() / sizeof(float); ++i)
    x[i] = value(int64_t(i), 7);
  const int64_t outStrideH = OW + 3, outStrideC = OH * outStrideH + 5,
                outStrideN = CO * outStrideC + 2;
  std::vector<float> out(N * outStrideN, -7.0f);

  auto clampd = [](double v, float lo, float hi) { return std::min<double>(std::max<double>(v, lo), hi); };
  std::vector<double> ref(N * CO * OH * OW);
  for (int64_t n = 0; n < N; ++n) {
    const float *xn = x + n * inStrideN;
    std::vector<double> h1(CE * H * W), h2(CM * OH * OW);
    for (int64_t e = 0; e < CE; ++e)
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) {
          double s = bE[e];
          for (int64_t c = 0; c < C; ++c)
            s += double(E[e * C + c]) * xn[c * inStrideC + i * inStrideH + j];
          h1[(e * H + i) * W + j] = clampd(s, clamps[0], clamps[1]);
        }
    for (int64_t m = 0; m < CM; ++m)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          double s = bD[m];
          for (int64_t e = p.full ? 0 : m; e < (p.full ? CE : m + 1); ++e)
            for (int64_t kh = 0; kh < K; ++kh)
              for (int64_t kw = 0; kw < K; ++kw) {
                const int64_t ih = i * S + kh * Dl - p.padT, iw = j * S + kw * Dl - p.padL;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                  s += double(mid(m, e, kh, kw)) * h1[(e * H + ih) * W + iw];
              }
          h2[(m * OH + i) * OW + j] = clampd(s, clamps[2], clamps[3]);
        }
    for (int64_t o = 0; o < CO; ++o)
      for (int64_t i = 0; i < OH * OW; ++i) {
        const int64_t oh = i / OW, ow = i % OW;
        double s = bP[o];
        for (int64_t m = 0; m < CM; ++m)
          s += double(P[o * CM + m]) * h2[m * OH * OW + i];
        s = clampd(s, clamps[4], clamps[5]);
        if (residual)
          s += xn[o * inStrideC + oh * inStrideH + ow];
        if (p.projection) {
          double sc = bS[o];
          for (int64_t c = 0; c < C; ++c)
            sc += double(Sc[o * C + c]) * xn[c * inStrideC + oh * S * inStrideH + ow * S];
          s += sc;
        }
        ref[(n * CO + o) * OH * OW + i] = clampd(s, clamps[6], clamps[7]);
      }
  }

  // The kernel on the buffer packed at run time (the one packed at compile time is equal to it).
  sparq_uk_set_num_threads(p.threads);
  auto call = p.threads == 1 ? sparq_uk_mbconv_f32 : sparq_uk_mbconv_f32_mt;
  call(intptr_t(out.data()), outStrideN, outStrideC, outStrideH, intptr_t(x), inStrideN,
       inStrideC, inStrideH, intptr_t(fromCall.data()), N, C, H, W, CE, CM, CO, K, K, OH, OW, S,
       S, Dl, Dl, p.padT, p.padL, (residual ? SPARQ_UK_RESIDUAL : 0) | flags);
  sparq_uk_set_num_threads(0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < outStrideN; ++i) {
      const int64_t o = i / outStrideC, r = i % outStrideC, oh = r / outStrideH,
                    ow = r % outStrideH;
      const float got = out[n * outStrideN + i];
      if (o < CO && oh < OH && ow < OW) {
        const double want = ref[((n * CO + o) * OH + oh) * OW + ow];
        ASSERT_NEAR(got, want, 1e-4 * (1.0 + std::fabs(want)))
            << "n=" << n << " o=" << o << " oh=" << oh << " ow=" << ow;
      } else {
        ASSERT_EQ(got, -7.0f) << "padding written at n=" << n << " offset " << i;
      }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MBConv,
    ::testing::Values(
        // N C CE CO H W K S D padT padL padB padR clamp threads
        Case{1, 8, 32, 8, 9, 9, 3, 1, 1, 1, 1, 1, 1, 1, 1},     // residual, ReLU
        Case{1, 8, 32, 8, 9, 9, 3, 1, 1, 1, 1, 1, 1, 1, 2},     // two threads
        Case{2, 5, 21, 7, 7, 11, 3, 1, 1, 1, 1, 1, 1, 2, 1},    // channels off the vector
        Case{1, 16, 72, 24, 20, 20, 3, 2, 1, 0, 0, 1, 1, 1, 2}, // stride 2, TF-style padding
        Case{1, 16, 48, 16, 19, 37, 5, 1, 1, 2, 2, 2, 2, 0, 2}, // 5x5, no clamp, residual
        Case{1, 12, 40, 20, 17, 17, 5, 2, 1, 2, 2, 2, 2, 1, 1}, // 5x5 stride 2
        Case{1, 4, 16, 6, 13, 13, 3, 1, 2, 2, 2, 2, 2, 1, 2},   // dilation 2
        Case{3, 24, 144, 24, 14, 14, 3, 1, 1, 1, 1, 1, 1, 2, 2}, // batch 3, residual, ReLU6
        Case{1, 3, 17, 33, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // a 1x1 image
        Case{1, 32, 128, 32, 56, 56, 3, 1, 1, 1, 1, 1, 1, 1, 2}, // cnn_blocks' block
        Case{1, 6, 30, 10, 31, 45, 3, 3, 1, 1, 1, 1, 1, 1, 2},  // stride 3 (one pixel at a time)
        // Full middle convolutions (CM = CO / 2): ResNet bottlenecks.
        Case{1, 24, 9, 24, 11, 13, 3, 1, 1, 1, 1, 1, 1, 3, 1, true},         // identity, ReLU after add
        Case{2, 20, 12, 20, 9, 17, 3, 1, 1, 1, 1, 1, 1, 3, 2, true},         // batch 2, 2 threads
        Case{1, 8, 16, 40, 15, 15, 3, 2, 1, 1, 1, 1, 1, 3, 2, true, true},   // projection, stride 2
        Case{1, 10, 6, 36, 14, 14, 3, 1, 1, 1, 1, 1, 1, 2, 1, true, true},   // projection, ReLU6
        Case{1, 64, 64, 256, 56, 56, 3, 1, 1, 1, 1, 1, 1, 3, 2, true, true}, // resnet_projection's
        Case{1, 6, 20, 6, 12, 12, 3, 2, 1, 1, 1, 1, 1, 1, 2, false, true})); // depthwise + projection

} // namespace
