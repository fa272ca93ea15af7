//===- bench/kernels/QGemmAB.cpp - one quantized-weight GEMM kernel against another -*- C++ -*-===//
//
// The float-activation quantized-weight kernel (runtime/kernels/QGemm.cpp) of two source trees
// (qgemm_ab.sh builds each one's QGemm.cpp with sparq_uk_qgemm_f32 renamed to qgemm_a /
// qgemm_b) called alternately on the same operands, one thread, so that a busy machine slows
// both alike: the median of REPS calls of each (default 15), B/A, and the largest difference of
// their outputs (0 when both round the same way).
//
//   qgemm_ab M N K BITS GROUP [asym]
//
// Codes, scales, zero points (with `asym`) and activations are pseudo-random, fixed.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define SPARQ_QGEMM_AB_ARGS                                                                      \
  intptr_t, int64_t, intptr_t, int64_t, intptr_t, int64_t, intptr_t, intptr_t, int64_t, int64_t, \
      int64_t, int64_t, int64_t, int64_t, int64_t
extern "C" void qgemm_a(SPARQ_QGEMM_AB_ARGS);
extern "C" void qgemm_b(SPARQ_QGEMM_AB_ARGS);

// The multi-threaded entry points of QGemm.cpp call the pool; this program times one thread.
extern "C" void sparq_uk_parallel(void (*fn)(void *, int32_t, int32_t), void *ctx) {
  fn(ctx, 0, 1);
}
extern "C" int64_t sparq_uk_get_num_threads(void) { return 1; }

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: %s M N K BITS GROUP [asym]\n", argv[0]);
    return 2;
  }
  const int64_t M = std::atoll(argv[1]), N = std::atoll(argv[2]), K = std::atoll(argv[3]),
                bits = std::atoll(argv[4]), group = std::atoll(argv[5]);
  const bool asym = argc == 7 && std::strcmp(argv[6], "asym") == 0;
  const int64_t rowBytes = (K * bits + 7) / 8, groups = (K + group - 1) / group;
  std::vector<uint8_t> codes(size_t(N * rowBytes)), zp(size_t(N * groups));
  std::vector<float> scales(size_t(N * groups)), A(size_t(M * K)), Ca(size_t(M * N)), Cb = Ca;
  uint32_t r = 12345;
  auto next = [&] { return r = r * 1664525u + 1013904223u; };
  for (uint8_t &c : codes)
    c = uint8_t(next() >> 24);
  for (uint8_t &z : zp)
    z = uint8_t((next() >> 24) % (1u << bits));
  for (float &s : scales)
    s = 0.01f + float((next() >> 16) % 100) * 1e-4f;
  for (float &a : A)
    a = float(int((next() >> 16) % 2001) - 1000) * 1e-3f;
  auto call = [&](bool b, std::vector<float> &C) {
    (b ? qgemm_b : qgemm_a)(reinterpret_cast<intptr_t>(C.data()), N,
                            reinterpret_cast<intptr_t>(A.data()), K,
                            reinterpret_cast<intptr_t>(codes.data()), rowBytes,
                            reinterpret_cast<intptr_t>(scales.data()),
                            asym ? reinterpret_cast<intptr_t>(zp.data()) : 0, groups, bits, group,
                            M, N, K, 0);
  };
  call(false, Ca);
  call(true, Cb);
  double diff = 0;
  for (size_t i = 0; i < Ca.size(); ++i)
    diff = std::max(diff, double(std::fabs(Ca[i] - Cb[i])));
  const char *repsEnv = std::getenv("REPS");
  const int reps = repsEnv ? std::max(1, std::atoi(repsEnv)) : 15;
  std::vector<double> ta, tb;
  auto timed = [&](bool b, std::vector<float> &C) {
    const auto t0 = std::chrono::steady_clock::now();
    call(b, C);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  for (int i = 0; i < reps; ++i) {
    ta.push_back(timed(false, Ca));
    tb.push_back(timed(true, Cb));
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  const double ma = ta[size_t(reps / 2)], mb = tb[size_t(reps / 2)],
               gflop = 2.0 * double(M * N * K) * 1e-9;
  std::printf("M=%lld N=%lld K=%lld W%lld g%lld%s: A %.2f ms (%.0f GFLOP/s), B %.2f ms (%.0f "
              "GFLOP/s), B/A %.3f, max |A-B| %.3g\n",
              (long long)M, (long long)N, (long long)K, (long long)bits, (long long)group,
              asym ? " asym" : "", ma * 1e3, gflop / ma, mb * 1e3, gflop / mb, mb / ma, diff);
  return 0;
}
