//===- bench/kernels/ConvAB.cpp - one convolution kernel against another, in one process -*- C++ -*-===//
//
// The convolution micro-kernel of two source trees (conv_ab.sh builds each one's Conv.cpp with
// its symbol renamed to conv_a / conv_b) called alternately on the same operands, so that a
// busy, shared machine slows both alike: per shape, the median of 300 calls of each, and the
// largest difference of their outputs (0 when both sum in the same order).
//
//   conv_ab F C KS OH OW IN_PLANE IN_ROW OUT_PLANE OUT_ROW OUT_OFFSET FLAGS [cold]
//
// A KS x KS stride-1 convolution of C to F channels over OH x OW outputs (KS may also be
// written KHxKW or KHxKW/S, a KH x KW window with stride S: 1x7/3 is a 1-D convolution); the
// input's channel and row strides, the output's, the output's offset in its buffer (an interior
// of a padded buffer: row stride > OW, offset = one row and one column of padding) and the kernel
// flags (include/sparq/Kernels/UKernels.h: 1 accumulate, 4 ReLU, 8 bias). With `cold`, 32 MiB are
// read between calls, so the operands come from L3 rather than L1/L2.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/DensePanels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#define SPARQ_CONV_AB_ARGS                                                                       \
  intptr_t, int64_t, int64_t, int64_t, intptr_t, int64_t, int64_t, int64_t, intptr_t, int64_t,  \
      int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, \
      intptr_t, int64_t
extern "C" void conv_a(SPARQ_CONV_AB_ARGS);
extern "C" void conv_b(SPARQ_CONV_AB_ARGS);

namespace {

std::vector<float> filled(int64_t n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = float(((i + seed) * 2654435761u) % 1000) / 1000.0f - 0.5f;
  return v;
}

double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 12 && argc != 13) {
    std::fprintf(stderr, "usage: %s F C KS OH OW IN_PLANE IN_ROW OUT_PLANE OUT_ROW OUT_OFFSET "
                         "FLAGS [cold]\n", argv[0]);
    return 2;
  }
  int64_t a[11];
  for (int i = 0; i < 11; ++i)
    a[i] = std::atoll(argv[i + 1]);
  const int64_t F = a[0], C = a[1], OH = a[3], OW = a[4], inPlane = a[5], inRow = a[6],
                outPlane = a[7], outRow = a[8], outOffset = a[9], flags = a[10];
  int64_t KH = a[2], KW = a[2], S = 1;
  if (const char *x = std::strchr(argv[3], 'x'))
    KW = std::atoll(x + 1);
  if (const char *slash = std::strchr(argv[3], '/'))
    S = std::atoll(slash + 1);
  const bool cold = argc == 13 && std::strcmp(argv[12], "cold") == 0;
  const int64_t K = C * KH * KW, mr = sparq::formats::tileRowsFor(SPARQ_UK_VLEN);
  std::vector<float> in = filled(C * inPlane, 1), bias = filled(F, 2), w = filled(F * K, 3);
  std::vector<float> outA(size_t(F * outPlane), 0.0f), outB = outA;
  std::vector<float> wp(size_t(sparq::formats::panelCount(F, mr) * mr * K));
  sparq::formats::packRowTiles<float>(F, K, mr, [&](int64_t f, int64_t k) { return w[size_t(f * K + k)]; },
                                      wp.data());
  auto call = [&](bool b, std::vector<float> &out) {
    (b ? conv_b : conv_a)(reinterpret_cast<intptr_t>(out.data() + outOffset), F * outPlane,
                          outPlane, outRow, reinterpret_cast<intptr_t>(in.data()), C * inPlane,
                          inPlane, inRow, reinterpret_cast<intptr_t>(wp.data()), 1, F, C, KH, KW,
                          OH, OW, S, S, 1, 1, reinterpret_cast<intptr_t>(bias.data()), flags);
  };
  call(false, outA);
  call(true, outB);
  double diff = 0;
  for (size_t i = 0; i < outA.size(); ++i)
    diff = std::max(diff, double(std::fabs(outA[i] - outB[i])));
  std::vector<float> junk(size_t(8) << 20, 1.0f);
  volatile float sink = 0;
  auto evict = [&] {
    if (!cold)
      return;
    float s = 0;
    for (size_t i = 0; i < junk.size(); i += 16)
      s += junk[i];
    sink = s;
  };
  std::vector<double> ta, tb;
  for (int r = 0; r < 300; ++r) {
    evict();
    double t0 = now();
    call(false, outA);
    ta.push_back(now() - t0);
    evict();
    t0 = now();
    call(true, outB);
    tb.push_back(now() - t0);
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  const double gflop = 2.0 * double(F * K * OH * OW) * 1e-9, ma = ta[150], mb = tb[150];
  std::printf("F=%lld C=%lld %lldx%lld/%lld on %lldx%lld%s: A %.1f us (%.0f GFLOP/s), B %.1f "
              "us (%.0f GFLOP/s), B/A %.2f, max |A-B| %.3g\n",
              (long long)F, (long long)C, (long long)KH, (long long)KW, (long long)S,
              (long long)OH,
              (long long)OW, cold ? " cold" : "", ma * 1e6, gflop / ma, mb * 1e6, gflop / mb,
              mb / ma, diff);
  return 0;
}
