//===- bench/kernels/MBConvAB.cpp - two builds of the block kernel, alternating -===//
//
// Driven by mbconv_ab.sh: calls mb_a and mb_b (runtime/kernels/InvertedResidual.cpp of two
// revisions, symbols renamed) alternately on one 1x1 -> 3x3 depthwise -> 1x1 block and prints
// each one's median time, B/A and the largest output difference. One thread, one image.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/InvertedResidual.h"
#include "sparq/Kernels/UKernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" {
typedef void BlockFn(intptr_t, int64_t, int64_t, int64_t, intptr_t, int64_t, int64_t, int64_t,
                     intptr_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                     int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                     int64_t, int64_t, int64_t);
BlockFn mb_a, mb_b;
// The kernels run with one thread here: the pool is never entered.
int32_t sparq_uk_get_num_threads(void) { return 1; }
void sparq_uk_parallel_chunks(void (*)(void *, int64_t, int64_t), void *, int64_t, int64_t) {
  std::abort();
}
}

int main(int argc, char **argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s C CE CO HW STRIDE\n", argv[0]);
    return 2;
  }
  const int64_t C = std::atoll(argv[1]), CE = std::atoll(argv[2]), CO = std::atoll(argv[3]),
                H = std::atoll(argv[4]), S = std::atoll(argv[5]);
  const int64_t W = H, K = 3, OH = (H + 2 - K) / S + 1, OW = (W + 2 - K) / S + 1;
  const bool residual = S == 1 && C == CO;
  const sparq::formats::InvertedResidualLayout l(C, CE, CE, CO, K, K, false, false);
  std::vector<float> w(l.total);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(int64_t(i * 7919 % 2001) - 1000) / 20000.0f;
  const float big = 1e30f; // clamps: ReLU after expand and depthwise, none after project and add
  const float clamps[8] = {0, big, 0, big, -big, big, -big, big};
  std::copy(clamps, clamps + 8, w.begin());
  std::vector<float> x(C * H * W), outA(CO * OH * OW), outB(CO * OH * OW);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(int64_t(i * 104729 % 2001) - 1000) / 1000.0f;
  std::vector<double> ta, tb;
  for (int rep = 0; rep < 300; ++rep)
    for (int side = 0; side < 2; ++side) {
      std::vector<float> &out = side ? outB : outA;
      const auto t0 = std::chrono::steady_clock::now();
      (side ? mb_b : mb_a)(intptr_t(out.data()), CO * OH * OW, OH * OW, OW, intptr_t(x.data()),
                           C * H * W, H * W, W, intptr_t(w.data()), 1, C, H, W, CE, CE, CO, K,
                           K, OH, OW, S, S, 1, 1, 1, 1, residual ? SPARQ_UK_RESIDUAL : 0);
      (side ? tb : ta)
          .push_back(std::chrono::duration<double, std::micro>(
                         std::chrono::steady_clock::now() - t0)
                         .count());
    }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  double diff = 0;
  for (size_t i = 0; i < outA.size(); ++i)
    diff = std::max(diff, double(std::fabs(outA[i] - outB[i])));
  const double a = ta[ta.size() / 2], b = tb[tb.size() / 2];
  std::printf("C %4ld CE %4ld CO %4ld HW %3ld S %ld: A %8.1f us  B %8.1f us  B/A %.3f  "
              "max|A-B| %.3g\n",
              long(C), long(CE), long(CO), long(H), long(S), a, b, b / a, diff);
}
