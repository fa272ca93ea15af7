//===- runtime/tests/KernelsTest.cpp - micro-kernel and thread-pool tests -*- C++ -*-===//
//
// Tests of runtime/kernels (include/sparq/Kernels/UKernels.h), built once per kernel variant
// (runtime/tests/CMakeLists.txt): SPARQ_KERNELS_TEST_VLEN=16 links sparq_kernels_v16 (AVX-512),
// 8 links sparq_kernels_v8 (AVX2/FMA). Every test skips when the host lacks the variant's ISA.
//
//  - sparq_uk_sgemm_packed_f32 against a plain double-accumulating loop written here, over odd
//    sizes, both flags, padded strides (padding must stay untouched), a start at a panel in the
//    middle of the packed weight, exact small-integer data, degenerate sizes, and chunks run
//    on the pool as the compiled code runs them.
//  - The OpenMP-ABI thread pool (runtime/kernels/Parallel.cpp), called the way MLIR's OpenMP
//    lowering calls it: team ids, static schedules 34 and 33, barriers, nested regions,
//    regions from a second application thread, argument passing and many consecutive forks.
//    A watchdog aborts the process if a pool test hangs.
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/DensePanels.h"
#include "sparq/Kernels/UKernels.h"

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <sched.h>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <memory>
#include <sys/mman.h>
#include <unistd.h>

#ifndef SPARQ_KERNELS_TEST_VLEN
#error "SPARQ_KERNELS_TEST_VLEN (16 or 8) must be defined"
#endif

// The OpenMP runtime ABI subset the pool implements (LLVM's kmp.h spellings; `ident` unused).
// The prototypes are the pool's own (ident_t *): the schedule tests call the init functions
// through pointers, which UBSan checks against the definitions' types.
struct ident_t;
extern "C" {
typedef void (*kmpc_micro)(int32_t *, int32_t *, ...);
void __kmpc_fork_call(ident_t *ident, int32_t argc, kmpc_micro fn, ...);
int32_t __kmpc_global_thread_num(ident_t *ident);
void __kmpc_barrier(ident_t *ident, int32_t gtid);
void __kmpc_for_static_init_4(ident_t *ident, int32_t gtid, int32_t schedule, int32_t *last,
                              int32_t *lower, int32_t *upper, int32_t *stride, int32_t incr,
                              int32_t chunk);
void __kmpc_for_static_init_4u(ident_t *ident, int32_t gtid, int32_t schedule, int32_t *last,
                               uint32_t *lower, uint32_t *upper, int32_t *stride, int32_t incr,
                               int32_t chunk);
void __kmpc_for_static_init_8(ident_t *ident, int32_t gtid, int32_t schedule, int32_t *last,
                              int64_t *lower, int64_t *upper, int64_t *stride, int64_t incr,
                              int64_t chunk);
void __kmpc_for_static_init_8u(ident_t *ident, int32_t gtid, int32_t schedule, int32_t *last,
                               uint64_t *lower, uint64_t *upper, int64_t *stride, int64_t incr,
                               int64_t chunk);
void __kmpc_for_static_fini(ident_t *ident, int32_t gtid);
void omp_set_num_threads(int32_t n);
}

namespace {

using sparq::test::GuardedBytes;
using sparq::test::KernelTest;

constexpr int kVlen = SPARQ_KERNELS_TEST_VLEN;
constexpr int64_t kNr = 2 * kVlen; // documented panel width: two vector registers
constexpr int kSchedStatic = 34;
constexpr int kSchedStaticChunked = 33;



/// Aborts the process if not destroyed within `seconds` (a hung pool test must not hang ctest).
class Watchdog {
public:
  explicit Watchdog(const char *what, int seconds = 60)
      : thread_([this, what, seconds] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' still running after %d s, aborting\n", what,
                         seconds);
            std::fflush(stderr);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_; // last: starts after the other members exist
};

//===----------------------------------------------------------------------===//
// GEMM
//===----------------------------------------------------------------------===//

/// One GEMM problem with its own buffers: A (M x lda), B (K x N, dense row-major), C (a guard
/// row past M), the packed B, and the C contents before the call.
struct Problem {
  int64_t M, N, K, lda, ldc;
  std::vector<float> A, B, C, C0, Bp;

  /// Random data in [-1, 1) (or small integers when `integers`); padding columns of A are
  /// NaN (a kernel that reads them produces NaN); the M x N block of C starts random, its
  /// padding columns and the guard row hold a sentinel.
  Problem(int64_t m, int64_t n, int64_t k, int64_t lda_, int64_t ldc_, uint32_t seed,
          bool integers = false)
      : M(m), N(n), K(k), lda(lda_), ldc(ldc_) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    std::uniform_int_distribution<int> small(-3, 3);
    auto draw = [&] { return integers ? float(small(rng)) : real(rng); };
    A.assign(size_t(std::max<int64_t>(M, 1) * lda), std::numeric_limits<float>::quiet_NaN());
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < K; ++j)
        A[i * lda + j] = draw();
    B.resize(size_t(K * N));
    for (float &b : B)
      b = draw();
    C.assign(size_t((M + 1) * ldc), -777.25f); // padding and guard row
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        C[i * ldc + j] = draw();
    C0 = C;
    pack(kNr);
  }

  /// The layout of include/sparq/Formats/DensePanels.h, written out here: panel p holds
  /// columns [p*nr, p*nr + nr), zero past N; the rows are cut into blocks of 256 (the last one
  /// shorter) and block b stores, panel after panel, its rows of each panel (rows x nr values).
  void pack(int64_t nr) {
    const int64_t kBlock = 256;
    int64_t panels = (N + nr - 1) / nr;
    Bp.assign(size_t(panels * K * nr), 0.0f);
    for (int64_t k = 0; k < K; ++k) {
      int64_t block = k / kBlock, rows = std::min(kBlock, K - block * kBlock);
      for (int64_t p = 0; p < panels; ++p)
        for (int64_t j = 0; j < nr && p * nr + j < N; ++j)
          Bp[size_t(block * kBlock * panels * nr + (p * rows + k % kBlock) * nr + j)] =
              B[size_t(k * N + p * nr + j)];
    }
  }
};

/// packPanels (what the compiler packs weights with) produces the layout the tests pack by
/// hand, for both panel widths and transposed sources.
TEST(DensePanels, PackPanelsMatchesLayout) {
  for (int64_t nr : {int64_t(16), int64_t(32)})
    for (auto kn : {std::pair<int64_t, int64_t>{1, 1}, {3, 16}, {5, 17}, {7, 33}, {2, 100}}) {
      const int64_t K = kn.first, N = kn.second;
      Problem p(1, N, K, K, N, uint32_t(K * 31 + N));
      p.pack(nr);
      EXPECT_EQ(sparq::formats::panelCount(N, nr), (N + nr - 1) / nr);
      ASSERT_EQ(sparq::formats::packedPanelElements(K, N, nr), int64_t(p.Bp.size()));
      std::vector<float> packed(p.Bp.size(), -1.0f), packedT(p.Bp.size(), -1.0f);
      sparq::formats::packPanels<float>(
          K, N, nr, [&](int64_t k, int64_t n) { return p.B[size_t(k * N + n)]; },
          packed.data());
      std::vector<double> bt(size_t(N * K)); // N x K, another source type
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          bt[size_t(n * K + k)] = p.B[size_t(k * N + n)];
      sparq::formats::packPanels<float>(
          K, N, nr, [&](int64_t k, int64_t n) { return bt[size_t(n * K + k)]; },
          packedT.data());
      EXPECT_EQ(packed, p.Bp) << "K=" << K << " N=" << N << " nr=" << nr;
      EXPECT_EQ(packedT, p.Bp) << "transposed source, K=" << K << " N=" << N << " nr=" << nr;
    }
}

/// The reference: C[m][n] (+)= sum_k A[m][k] B[k][n0 + n] in double for m < M, n < cols, and
/// the magnitude sum_k |A B| (+ |C0|) that bounds float rounding.
void reference(const Problem &p, int64_t n0, int64_t cols, bool accumulate,
               std::vector<double> &ref, std::vector<double> &mag) {
  ref.assign(size_t(p.M * cols), 0.0);
  mag.assign(size_t(p.M * cols), 0.0);
  for (int64_t m = 0; m < p.M; ++m) {
    double *r = &ref[size_t(m * cols)], *g = &mag[size_t(m * cols)];
    for (int64_t k = 0; k < p.K; ++k) {
      double a = p.A[size_t(m * p.lda + k)];
      const float *b = &p.B[size_t(k * p.N + n0)];
      for (int64_t n = 0; n < cols; ++n) {
        r[n] += a * b[n];
        g[n] += std::fabs(a * b[n]);
      }
    }
    if (accumulate)
      for (int64_t n = 0; n < cols; ++n) {
        double c0 = p.C0[size_t(m * p.ldc + n0 + n)];
        r[n] += c0;
        g[n] += std::fabs(c0);
      }
  }
}

/// Compares C[:, n0 : n0 + cols] with the reference (|err| <= rel * magnitude; rel = 0: exact)
/// and checks that every other element of C (other columns, padding, guard row) is unchanged.
/// Returns the number of mismatches (the first few are reported).
int64_t checkC(const Problem &p, int64_t n0, int64_t cols, bool accumulate, double rel,
               const std::string &what) {
  std::vector<double> ref, mag;
  reference(p, n0, cols, accumulate, ref, mag);
  int64_t bad = 0;
  auto report = [&](const std::string &msg) {
    if (++bad <= 5)
      ADD_FAILURE() << what << ": " << msg;
  };
  for (int64_t m = 0; m <= p.M; ++m)
    for (int64_t n = 0; n < p.ldc; ++n) {
      size_t i = size_t(m * p.ldc + n);
      float got = p.C[i];
      if (m < p.M && n >= n0 && n < n0 + cols) {
        size_t j = size_t(m * cols + n - n0);
        double err = std::fabs(double(got) - ref[j]);
        if (!(err <= rel * mag[j]))
          report("C[" + std::to_string(m) + "][" + std::to_string(n) +
                 "] = " + std::to_string(got) + ", expected " + std::to_string(ref[j]) +
                 " (|err| " + std::to_string(err) + " > " + std::to_string(rel * mag[j]) + ")");
      } else if (std::memcmp(&got, &p.C0[i], sizeof(float)) != 0) {
        report("C[" + std::to_string(m) + "][" + std::to_string(n) +
               "] outside the written block changed: " + std::to_string(p.C0[i]) + " -> " +
               std::to_string(got));
      }
    }
  return bad;
}

constexpr double kRel = 1e-5; // float sums of <= 1000 products, relative to sum |a b|

void runGemm(Problem &p, int64_t flags) {
  sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                            reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                            reinterpret_cast<intptr_t>(p.Bp.data()), p.M, p.N, p.K, flags);
}

std::string describe(const Problem &p, int64_t flags) {
  return "M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) + " K=" +
         std::to_string(p.K) + " lda=" + std::to_string(p.lda) + " ldc=" +
         std::to_string(p.ldc) + (flags & SPARQ_UK_ACCUMULATE ? " accumulate" : " overwrite");
}

class Gemm : public KernelTest {};
class Pool : public KernelTest {};

TEST_F(Gemm, PanelWidth) { EXPECT_EQ(sparq_uk_panel_width_f32(), kNr); }

/// Every M of the grid with every N and K, both flags, tight and padded strides.
class GemmGrid : public KernelTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(GemmGrid, OddSizes) {
  const int64_t M = GetParam();
  const int64_t Ns[] = {1, 7, 15, 16, 17, 31, 32, 33, 100};
  const int64_t Ks[] = {1, 3, 17, 255, 256, 257, 1000};
  uint32_t seed = uint32_t(M) * 7919u;
  int64_t cases = 0;
  for (int64_t N : Ns)
    for (int64_t K : Ks)
      for (int64_t flags : {int64_t(0), int64_t(SPARQ_UK_ACCUMULATE)})
        for (bool padded : {false, true}) {
          // Padded: lda > K and ldc > N by amounts that break any vector alignment.
          Problem p(M, N, K, padded ? K + 3 : K, padded ? N + 5 : N, ++seed);
          runGemm(p, flags);
          std::string what = describe(p, flags);
          if (checkC(p, 0, N, flags & SPARQ_UK_ACCUMULATE, kRel, what) > 0)
            return; // one failing shape is enough to read
          ++cases;
        }
  EXPECT_EQ(cases, 9 * 7 * 2 * 2);
}

INSTANTIATE_TEST_SUITE_P(Gemm, GemmGrid,
                         ::testing::Values(1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 33, 130),
                         [](const ::testing::TestParamInfo<int64_t> &info) {
                           return "M" + std::to_string(info.param);
                         });

/// Small integers: every partial sum is exact in float, so the kernel must match bit for bit
/// whatever order it sums in. Sizes that cross the variants' row (MR, MC) and K (KC) blocks.
TEST_F(Gemm, ExactOnIntegers) {
  const int64_t Ms[] = {1, 4, 5, 6, 8, 9, 96, 97, 128, 129, 200};
  const int64_t shapes[][2] = {{1, 1}, {33, 257}, {100, 1000}, {16, 384}, {65, 385}};
  uint32_t seed = 11;
  for (int64_t M : Ms)
    for (auto [N, K] : shapes)
      for (int64_t flags : {int64_t(0), int64_t(SPARQ_UK_ACCUMULATE)}) {
        Problem p(M, N, K, K + 1, N + 2, ++seed, /*integers=*/true);
        runGemm(p, flags);
        if (checkC(p, 0, N, flags & SPARQ_UK_ACCUMULATE, 0.0, describe(p, flags)) > 0)
          return;
      }
}

/// A range of columns [n0, n1) of a wider packed weight (sparq_uk_sgemm_packed_range_f32), as
/// the threads of sparq_uk_sgemm_packed_f32_mt use it: n0 on a panel boundary, n1 possibly
/// inside a panel that is not the last one. Columns outside the range must stay untouched.
TEST_F(Gemm, ChunkInsidePackedWeight) {
  const int64_t Ntotal = 5 * kNr + 3; // six panels, the last one partial
  struct Chunk {
    int64_t p0, cols;
  } chunks[] = {{0, kNr},           {1, kNr},     {2, 2 * kNr}, {2, kNr + 5},
                {3, 1},             {1, 4 * kNr}, {4, kNr + 3}, {5, 3},
                {1, Ntotal - kNr}, {0, Ntotal}};
  uint32_t seed = 99;
  for (int64_t M : {1, 2, 3, 4, 5, 9, 33})
    for (int64_t K : {1, 17, 257})
      for (const Chunk &c : chunks)
        for (int64_t flags : {int64_t(0), int64_t(SPARQ_UK_ACCUMULATE)}) {
          Problem p(M, Ntotal, K, K + 2, Ntotal + 1, ++seed);
          int64_t n0 = c.p0 * kNr;
          ASSERT_LE(n0 + c.cols, Ntotal);
          sparq_uk_sgemm_packed_range_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                                          reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                                          reinterpret_cast<intptr_t>(p.Bp.data()), Ntotal, n0,
                                          n0 + c.cols, M, K, flags);
          std::string what = describe(p, flags) + " chunk p0=" + std::to_string(c.p0) +
                             " cols=" + std::to_string(c.cols);
          if (checkC(p, n0, c.cols, flags & SPARQ_UK_ACCUMULATE, kRel, what) > 0)
            return;
        }
}

/// K = 0: overwrite writes zeros into the M x N block (and nothing else); accumulate leaves C
/// as it was. M = 0 and N = 0 write nothing. The pointers of the empty operands are dangling
/// on purpose (nullptr) where the kernel must not touch them.
TEST_F(Gemm, DegenerateSizes) {
  for (int64_t M : {1, 3, 5, 9})
    for (int64_t N : {1, 17, 33}) {
      Problem p(M, N, 0, 4, N + 3, uint32_t(M * 100 + N));
      sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc, 0, p.lda, 0, M,
                                N, 0, SPARQ_UK_ACCUMULATE);
      EXPECT_EQ(p.C, p.C0) << "K=0 accumulate must leave C unchanged, " << describe(p, 1);
      sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc, 0, p.lda, 0, M,
                                N, 0, 0);
      for (int64_t m = 0; m <= M; ++m)
        for (int64_t n = 0; n < p.ldc; ++n) {
          size_t i = size_t(m * p.ldc + n);
          if (m < M && n < N)
            EXPECT_EQ(p.C[i], 0.0f) << "K=0 overwrite, C[" << m << "][" << n << "]";
          else
            EXPECT_EQ(p.C[i], p.C0[i]) << "K=0 overwrite wrote outside C[" << m << "][" << n
                                       << "]";
        }
    }
  for (int64_t flags : {int64_t(0), int64_t(SPARQ_UK_ACCUMULATE)}) {
    Problem p(4, 17, 9, 9, 17, 5);
    sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                              reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                              reinterpret_cast<intptr_t>(p.Bp.data()), 0, p.N, p.K, flags);
    EXPECT_EQ(p.C, p.C0) << "M=0 must write nothing";
    sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                              reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                              reinterpret_cast<intptr_t>(p.Bp.data()), p.M, 0, p.K, flags);
    EXPECT_EQ(p.C, p.C0) << "N=0 must write nothing";
  }
}

/// Two calls accumulating K halves into the same C give the full product (how a split
/// reduction would use SPARQ_UK_ACCUMULATE), with each half's panels packed on their own.
TEST_F(Gemm, AccumulateSplitsK) {
  for (int64_t M : {1, 4, 7, 130}) {
    const int64_t N = 45, K = 300, K1 = 137;
    Problem p(M, N, K, K, N, uint32_t(M));
    auto packRows = [&](int64_t k0, int64_t kc) {
      std::vector<float> bp(size_t(sparq::formats::packedPanelElements(kc, N, kNr)));
      sparq::formats::packPanels<float>(
          kc, N, kNr, [&](int64_t kk, int64_t nn) { return p.B[(k0 + kk) * N + nn]; },
          bp.data());
      return bp;
    };
    std::vector<float> b1 = packRows(0, K1), b2 = packRows(K1, K - K1);
    sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                              reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                              reinterpret_cast<intptr_t>(b1.data()), M, N, K1, 0);
    sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                              reinterpret_cast<intptr_t>(p.A.data() + K1), p.lda,
                              reinterpret_cast<intptr_t>(b2.data()), M, N, K - K1,
                              SPARQ_UK_ACCUMULATE);
    if (checkC(p, 0, N, false, kRel, "split K, M=" + std::to_string(M)) > 0)
      return;
  }
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

class Conv : public KernelTest {};

/// sparq_uk_conv2d_nchw_packed_f32 writing into the interior of a padded output (row stride
/// > OW, as a producer writing into its consumer's padded buffer does): panels run across rows,
/// so a tile's columns are stored as one run per output row with masked vector stores at the run
/// ends. Shapes: a 3x2 filter (gathered panels), 1x1 filters read in place with K above the
/// reduction block (accumulation over K blocks) and rows of 33, 28 and 1 pixels (a run per pixel),
/// a stride-2 3x3, channel counts off the tile height; stride-1 k x k filters whose taps are read
/// in place: panels over the input's row pitch (56 of 58, 28 of 30, 36 of 40 and 13 of 14 pixels
/// per row stored; the last panel short, gathered where full-width reads in place would pass
/// the input's last element, which ends at an inaccessible page), K above the reduction block
/// (the tap table from a block's first step), panels along 32-pixel rows (no idle column; 2 of 34 over the pitch), and 8-pixel rows of a 5-wide
/// filter (a third of the pitch idle: panels across rows, gathered). Each also into an output
/// without padding columns, whose row runs lie end to end (stored as one permuted run,
/// ColumnRuns::pack). Small integers keep every sum exact, so the
/// result must match the loop here bit for bit; the border must stay as it was. Bias + ReLU from
/// a fresh output, and accumulation into existing values.
TEST_F(Conv, PaddedOutputAcrossRows) {
  struct Shape {
    int64_t C, KH, KW, H, W, S;
  };
  const Shape shapes[] = {{3, 3, 2, 9, 14, 1}, {300, 1, 1, 5, 33, 1}, {16, 1, 1, 4, 28, 1},
                          {4, 1, 1, 40, 1, 1}, {5, 3, 3, 15, 15, 2}, {4, 3, 3, 6, 58, 1},
                          {40, 3, 3, 5, 30, 1}, {2, 2, 5, 5, 40, 1},  {3, 3, 3, 4, 34, 1},
                          {2, 3, 5, 6, 12, 1}};
  const int64_t mr = sparq_uk_tile_rows_f32(), padH = 2;
  for (int64_t padW : {int64_t(3), int64_t(0)})
  for (const Shape &sh : shapes)
    for (int64_t F : {int64_t(5), int64_t(37)})
      for (int64_t flags : {int64_t(SPARQ_UK_BIAS | SPARQ_UK_RELU), int64_t(SPARQ_UK_ACCUMULATE)}) {
        const int64_t C = sh.C, KH = sh.KH, KW = sh.KW, H = sh.H, W = sh.W, SH = sh.S, SW = sh.S;
        const int64_t OH = (H - KH) / SH + 1, OW = (W - KW) / SW + 1;
        const int64_t ldo = OW + 2 * padW, outRows = OH + 2 * padH;
        std::mt19937 rng(uint32_t(F * 31 + flags + C * 7 + W));
        auto small = [&] { return float(int(rng() % 7) - 3); };
        // The input ends at an inaccessible page: no panel may read past its last element.
        sparq::test::GuardedBytes inBytes(sizeof(float) * size_t(C * H * W));
        float *in = reinterpret_cast<float *>(inBytes.data());
        std::vector<float> w(size_t(F * C * KH * KW)), bias(static_cast<size_t>(F));
        for (int64_t i = 0; i < C * H * W; ++i) in[i] = small();
        for (float &v : w) v = small();
        for (float &v : bias) v = small();
        std::vector<float> out(size_t(F * outRows * ldo));
        for (float &v : out) v = small();
        std::vector<float> out0 = out;
        const int64_t K = C * KH * KW;
        std::vector<float> packed(size_t((F + mr - 1) / mr * mr * K));
        sparq::formats::packRowTiles<float>(
            F, K, mr, [&](int64_t f, int64_t k) { return w[size_t(f * K + k)]; }, packed.data());
        float *interior = out.data() + padH * ldo + padW;
        sparq_uk_conv2d_nchw_packed_f32(reinterpret_cast<intptr_t>(interior), 0, outRows * ldo,
                                        ldo, reinterpret_cast<intptr_t>(in), 0, H * W, W,
                                        reinterpret_cast<intptr_t>(packed.data()), 1, F, C, KH,
                                        KW, OH, OW, SH, SW, 1, 1,
                                        reinterpret_cast<intptr_t>(bias.data()), flags);
        int bad = 0;
        for (int64_t f = 0; f < F && bad < 5; ++f)
          for (int64_t r = 0; r < outRows; ++r)
            for (int64_t c = 0; c < ldo; ++c) {
              size_t i = size_t(f * outRows * ldo + r * ldo + c);
              int64_t oh = r - padH, ow = c - padW;
              float expect = out0[i];
              if (oh >= 0 && oh < OH && ow >= 0 && ow < OW) {
                double acc = flags & SPARQ_UK_ACCUMULATE ? out0[i] : bias[size_t(f)];
                for (int64_t ci = 0; ci < C; ++ci)
                  for (int64_t kh = 0; kh < KH; ++kh)
                    for (int64_t kw = 0; kw < KW; ++kw)
                      acc += double(w[size_t(((f * C + ci) * KH + kh) * KW + kw)]) *
                             in[size_t(ci * H * W + (oh * SH + kh) * W + ow * SW + kw)];
                expect = float(flags & SPARQ_UK_RELU ? std::max(acc, 0.0) : acc);
              }
              if (out[i] != expect && bad++ < 5)
                ADD_FAILURE() << "C=" << C << " " << KH << "x" << KW << " W=" << W << " padW=" << padW << " F=" << F
                              << " flags=" << flags << " out[" << f << "][" << r << "][" << c
                              << "] = " << out[i] << ", expected " << expect;
            }
      }
}

/// sparq_uk_pack_filter_f32 (a filter computed at run time) against the layout the convolution
/// kernel reads, spelled out here: tile t holds K steps of mr values, step k's value r being
/// row t * mr + r of the filter at column k, zero past the F rows. Source rows have a stride
/// longer than K (a chunk of a wider buffer), F off the tile height.
TEST_F(Conv, RunTimeFilterPacking) {
  const int64_t mr = sparq_uk_tile_rows_f32();
  for (int64_t F : {int64_t(1), mr - 1, mr, 2 * mr + 3})
    for (int64_t K : {int64_t(1), int64_t(7), int64_t(127)}) {
      const int64_t stride = K + 5, tiles = (F + mr - 1) / mr;
      std::vector<float> src(size_t(F * stride));
      for (size_t i = 0; i < src.size(); ++i)
        src[i] = float(i % 1000) + 0.5f;
      std::vector<float> packed(size_t(tiles * K * mr), -1.0f);
      sparq_uk_pack_filter_f32(reinterpret_cast<intptr_t>(packed.data()),
                               reinterpret_cast<intptr_t>(src.data()), F, K, stride);
      int bad = 0;
      for (int64_t t = 0; t < tiles; ++t)
        for (int64_t k = 0; k < K; ++k)
          for (int64_t r = 0; r < mr; ++r) {
            const int64_t row = t * mr + r;
            const float expect = row < F ? src[size_t(row * stride + k)] : 0.0f;
            const float got = packed[size_t((t * K + k) * mr + r)];
            if (got != expect && bad++ < 5)
              ADD_FAILURE() << "F=" << F << " K=" << K << " tile " << t << " step " << k
                            << " row " << r << ": " << got << ", expected " << expect;
          }
    }
}

//===----------------------------------------------------------------------===//
// Thread pool
//===----------------------------------------------------------------------===//

template <typename F> kmpc_micro micro(F *fn) { return reinterpret_cast<kmpc_micro>(fn); }

/// Runs `body(tid)` as a parallel region of the current team size: one aggregate argument, as
/// MLIR's OpenMP lowering passes it.
template <typename Body> void parallel(Body &body) {
  auto task = +[](int32_t *gtid, int32_t *, void *arg) {
    (*static_cast<Body *>(arg))(*gtid);
  };
  __kmpc_fork_call(nullptr, 1, micro(task), static_cast<void *>(&body));
}

/// The pool's default thread count, read before any test sets it (and only where the kernel
/// library, built for the variant's ISA, may run).
const int32_t kInitialThreads = sparq::test::missingKernelIsa().empty() ? sparq_uk_get_num_threads() : 0;

TEST_F(Pool, ThreadCountSetting) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(kInitialThreads, CPU_COUNT(&set)) << "default: every CPU the process may run on";
  sparq_uk_set_num_threads(3);
  EXPECT_EQ(sparq_uk_get_num_threads(), 3);
  sparq_uk_set_num_threads(0);
  EXPECT_EQ(sparq_uk_get_num_threads(), 1);
  sparq_uk_set_num_threads(-5);
  EXPECT_EQ(sparq_uk_get_num_threads(), 1);
  sparq_uk_set_num_threads(100000);
  EXPECT_EQ(sparq_uk_get_num_threads(), 256);
  omp_set_num_threads(2);
  EXPECT_EQ(sparq_uk_get_num_threads(), 2);
}

/// Each team id 0..T-1 runs exactly once, on T distinct OS threads, tid 0 on the caller, and
/// __kmpc_global_thread_num agrees with the gtid argument. Outside a region the caller is 0.
TEST_F(Pool, TeamIds) {
  Watchdog dog("PoolTeamIds");
  for (int32_t T : {1, 2, 3, 4, 8, 3, 1, 2}) {
    sparq_uk_set_num_threads(T);
    ASSERT_EQ(sparq_uk_get_num_threads(), T);
    for (int rep = 0; rep < 20; ++rep) {
      std::atomic<int> hits[300] = {};
      std::atomic<int> disagree{0};
      std::mutex mu;
      std::set<std::thread::id> threads;
      std::thread::id caller = std::this_thread::get_id(), tid0;
      auto body = [&](int32_t tid) {
        if (__kmpc_global_thread_num(nullptr) != tid)
          disagree++;
        hits[std::clamp(tid, 0, 299)]++;
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
        if (tid == 0)
          tid0 = std::this_thread::get_id();
      };
      parallel(body);
      for (int i = 0; i < 300; ++i)
        ASSERT_EQ(hits[i].load(), i < T ? 1 : 0) << "tid " << i << " with T=" << T;
      EXPECT_EQ(disagree.load(), 0) << "__kmpc_global_thread_num != gtid, T=" << T;
      EXPECT_EQ(threads.size(), size_t(T)) << "distinct OS threads, T=" << T;
      EXPECT_EQ(tid0, caller) << "tid 0 must be the forking thread";
      EXPECT_EQ(__kmpc_global_thread_num(nullptr), 0);
    }
  }
}

/// sparq_uk_parallel_chunks covers [0, n) exactly once in chunks of `chunk` (the last one
/// shorter), for teams of 1 to 4, n = 0 and chunks larger than n; a team member that starts
/// late (its first chunk sleeps) takes fewer chunks and the others do the rest.
TEST_F(Pool, ChunksCoverTheRangeOnce) {
  Watchdog dog("PoolChunks");
  struct Ctx {
    std::vector<std::atomic<int>> *hits;
    int64_t chunk, n;
    std::atomic<int> bad{0};
  };
  for (int32_t T : {1, 2, 3, 4})
    for (int64_t n : {0, 1, 63, 64, 65, 1000})
      for (int64_t chunk : {1, 7, 64, 5000}) {
        sparq_uk_set_num_threads(T);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        Ctx ctx{&hits, chunk, n};
        sparq_uk_parallel_chunks(
            [](void *p, int64_t b, int64_t e) {
              Ctx &c = *static_cast<Ctx *>(p);
              if (b < 0 || e > c.n || e <= b || b % c.chunk != 0 ||
                  (e - b != c.chunk && e != c.n))
                c.bad++;
              for (int64_t i = b; i < e && i < c.n && i >= 0; ++i)
                (*c.hits)[size_t(i)]++;
            },
            &ctx, n, chunk);
        EXPECT_EQ(ctx.bad.load(), 0) << "T=" << T << " n=" << n << " chunk=" << chunk;
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[size_t(i)].load(), 1) << "index " << i << " T=" << T << " n=" << n
                                               << " chunk=" << chunk;
      }
  // A late member: the first chunk taken by a worker sleeps 20 ms; the caller must not wait
  // for it to do a share of the rest.
  sparq_uk_set_num_threads(2);
  struct Late {
    std::atomic<int> byCaller{0}, byWorker{0};
    std::thread::id caller = std::this_thread::get_id();
    std::atomic<bool> slept{false};
  } late;
  sparq_uk_parallel_chunks(
      [](void *p, int64_t, int64_t) {
        Late &l = *static_cast<Late *>(p);
        if (std::this_thread::get_id() == l.caller) {
          l.byCaller++;
          return;
        }
        l.byWorker++;
        if (!l.slept.exchange(true))
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      },
      &late, 100, 1);
  EXPECT_EQ(late.byCaller.load() + late.byWorker.load(), 100);
  EXPECT_GE(late.byCaller.load(), 90) << "the caller should take the chunks of a sleeping member";
}

/// Arguments reach every team member in order, for 0, 1, 3 and 8 of them.
std::atomic<int> gArgErrors{0};
std::atomic<int> gArgRuns{0};
char gArgs[8];

void task0(int32_t *, int32_t *) { gArgRuns++; }
void task3(int32_t *, int32_t *, void *a, void *b, void *c) {
  gArgRuns++;
  if (a != &gArgs[0] || b != &gArgs[1] || c != &gArgs[2])
    gArgErrors++;
}
void task8(int32_t *, int32_t *, void *a, void *b, void *c, void *d, void *e, void *f, void *g,
           void *h) {
  gArgRuns++;
  void *got[8] = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; ++i)
    if (got[i] != &gArgs[i])
      gArgErrors++;
}

TEST_F(Pool, PassesArguments) {
  Watchdog dog("PoolPassesArguments");
  for (int32_t T : {1, 3}) {
    sparq_uk_set_num_threads(T);
    gArgRuns = 0;
    gArgErrors = 0;
    __kmpc_fork_call(nullptr, 0, micro(task0));
    __kmpc_fork_call(nullptr, 3, micro(task3), &gArgs[0], &gArgs[1], &gArgs[2]);
    __kmpc_fork_call(nullptr, 8, micro(task8), &gArgs[0], &gArgs[1], &gArgs[2], &gArgs[3],
                     &gArgs[4], &gArgs[5], &gArgs[6], &gArgs[7]);
    EXPECT_EQ(gArgRuns.load(), 3 * T);
    EXPECT_EQ(gArgErrors.load(), 0) << "T=" << T;
  }
}

/// The static-schedule entry points, called as OpenMPIRBuilder's workshare-loop lowering calls
/// them: lower 0, upper trip-1 (wrapping for 0 trips in the unsigned variants), stride 1,
/// increment 1. Schedule 34 then runs upper-lower+1 iterations from lower; schedule 33 runs
/// chunks of upper-lower+1 iterations starting at lower, lower+stride, ... while < trip.
/// Every iteration must run exactly once, and exactly the thread running the last iteration
/// gets *last = 1 (libomp's results, checked with libomp.so). Returns "" or what went wrong.
template <typename T, typename S, typename Init>
std::string checkStaticSchedule(Init init, int32_t team, uint64_t trip, int schedule,
                                S chunk) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(trip));
  std::atomic<int> lastCount{0}, lastOwnsFinal{0}, outOfRange{0}, badTeam{0};
  auto body = [&](int32_t tid) {
    int32_t gtid = __kmpc_global_thread_num(nullptr);
    if (gtid != tid)
      badTeam++;
    T lower = 0, upper = T(T(trip) - T(1));
    S stride = 1;
    int32_t last = 0;
    init(nullptr, gtid, schedule, &last, &lower, &upper, &stride, S(1), chunk);
    bool ranFinal = false;
    auto run = [&](uint64_t first, uint64_t count) {
      if (count > trip || first >= trip || first + count > trip) { // do not loop ~forever
        outOfRange++;
        return;
      }
      for (uint64_t i = first; i < first + count; ++i) {
        hits[size_t(i)]++;
        ranFinal |= i == trip - 1;
      }
    };
    using U = std::make_unsigned_t<T>;
    uint64_t range = uint64_t(U(U(upper) - U(lower) + U(1))); // the IR's wrapping arithmetic
    if (schedule == kSchedStatic) {
      if (range > 0)
        run(uint64_t(U(lower)), range);
    } else {
      if (stride <= 0 && trip > 0) {
        outOfRange++;
      } else {
        for (uint64_t iv = uint64_t(U(lower)); iv < trip; iv += uint64_t(stride))
          run(iv, std::min<uint64_t>(range, trip - iv));
      }
    }
    __kmpc_for_static_fini(nullptr, gtid);
    if (last) {
      lastCount++;
      if (ranFinal)
        lastOwnsFinal++;
    }
    __kmpc_barrier(nullptr, gtid); // the implicit barrier at the end of the loop
  };
  parallel(body);
  std::string where = " (team " + std::to_string(team) + ", trip " + std::to_string(trip) +
                      ", schedule " + std::to_string(schedule) + ", chunk " +
                      std::to_string(int64_t(chunk)) + ")";
  if (badTeam)
    return "__kmpc_global_thread_num disagrees with the gtid" + where;
  if (outOfRange)
    return "a thread got iterations outside [0, trip)" + where;
  for (uint64_t i = 0; i < trip; ++i)
    if (hits[size_t(i)] != 1)
      return "iteration " + std::to_string(i) + " ran " + std::to_string(hits[size_t(i)]) +
             " times" + where;
  // With no iterations *last is unspecified (libomp sets it on a team of one).
  if (trip > 0 && (lastCount != 1 || lastOwnsFinal != 1))
    return std::to_string(lastCount.load()) + " threads got *last (" +
           std::to_string(lastOwnsFinal.load()) + " of them ran the last iteration)" + where;
  return "";
}

template <typename T, typename S, typename Init>
void checkStaticSchedules(Init init, std::initializer_list<uint64_t> trips) {
  Watchdog dog("static schedule");
  for (int32_t team : {1, 2, 3, 4, 8}) {
    sparq_uk_set_num_threads(team);
    for (uint64_t trip : trips) {
      std::string err = checkStaticSchedule<T, S>(init, team, trip, kSchedStatic, S(0));
      ASSERT_EQ(err, "");
      for (S chunk : {S(1), S(3), S(64), S(5000)}) {
        err = checkStaticSchedule<T, S>(init, team, trip, kSchedStaticChunked, chunk);
        ASSERT_EQ(err, "");
      }
    }
  }
}

TEST_F(Pool, StaticInit8u) {
  checkStaticSchedules<uint64_t, int64_t>(__kmpc_for_static_init_8u, {0, 1, 2, 7, 1000});
}
TEST_F(Pool, StaticInit8) {
  checkStaticSchedules<int64_t, int64_t>(__kmpc_for_static_init_8, {0, 1, 2, 7, 1000});
}
TEST_F(Pool, StaticInit4) {
  checkStaticSchedules<int32_t, int32_t>(__kmpc_for_static_init_4, {0, 1, 2, 7, 1000});
}
TEST_F(Pool, StaticInit4u) {
  checkStaticSchedules<uint32_t, int32_t>(__kmpc_for_static_init_4u, {1, 2, 7, 1000});
}
/// Zero trips in the 32-bit unsigned variant: OpenMPIRBuilder passes upper = 0 - 1 =
/// 0xffffffff, which must mean no iterations (as in libomp), not 2^32 (the trip count is
/// computed in the loop variable's own type).
TEST_F(Pool, StaticInit4uZeroTrips) {
  checkStaticSchedules<uint32_t, int32_t>(__kmpc_for_static_init_4u, {0});
}

/// No thread leaves barrier i before every thread has arrived at it, 1000 times in a row.
TEST_F(Pool, Barrier) {
  Watchdog dog("PoolBarrier");
  constexpr int kRounds = 1000;
  for (int32_t T : {1, 2, 3, 4, 8}) {
    sparq_uk_set_num_threads(T);
    std::vector<std::atomic<int>> arrived(kRounds);
    std::atomic<int> early{0}, runs{0};
    auto body = [&](int32_t tid) {
      runs++;
      for (int i = 0; i < kRounds; ++i) {
        // A little skew so that threads arrive in different orders.
        if ((i + tid) % 7 == 0)
          std::this_thread::yield();
        arrived[size_t(i)].fetch_add(1);
        __kmpc_barrier(nullptr, tid);
        if (arrived[size_t(i)].load() != T)
          early++;
      }
    };
    parallel(body);
    EXPECT_EQ(runs.load(), T);
    EXPECT_EQ(early.load(), 0) << "a thread passed a barrier before all " << T << " arrived";
    for (int i = 0; i < kRounds; ++i)
      ASSERT_EQ(arrived[size_t(i)].load(), T) << "round " << i;
  }
}

/// A region forked inside a region runs serially on the forking team member: a team of one
/// with gtid 0 (a barrier and a static schedule inside it are the trivial ones), and the outer
/// team's ids and barriers work again after it returns.
TEST_F(Pool, NestedRegionIsSerial) {
  Watchdog dog("PoolNestedRegionIsSerial");
  for (int32_t T : {1, 2, 3, 4, 8}) {
    sparq_uk_set_num_threads(T);
    std::atomic<int> innerRuns{0}, errors{0}, afterBarrier{0};
    auto outer = [&](int32_t tid) {
      std::thread::id self = std::this_thread::get_id();
      int innerHere = 0;
      auto inner = [&](int32_t itid) {
        ++innerHere;
        innerRuns++;
        if (itid != 0 || __kmpc_global_thread_num(nullptr) != 0)
          errors++;
        if (std::this_thread::get_id() != self)
          errors++;
        __kmpc_barrier(nullptr, 0); // team of one: returns at once
        uint64_t lo = 0, hi = 99;
        int64_t stride = 1;
        int32_t last = 0;
        __kmpc_for_static_init_8u(nullptr, 0, kSchedStatic, &last, &lo, &hi, &stride, 1, 0);
        if (lo != 0 || hi != 99 || !last)
          errors++;
      };
      parallel(inner);
      if (innerHere != 1)
        errors++;
      if (__kmpc_global_thread_num(nullptr) != tid)
        errors++;
      __kmpc_barrier(nullptr, tid);
      afterBarrier++;
      __kmpc_barrier(nullptr, tid);
      if (afterBarrier.load() != T)
        errors++;
    };
    parallel(outer);
    EXPECT_EQ(innerRuns.load(), T);
    EXPECT_EQ(errors.load(), 0) << "T=" << T;
  }
}

/// A region started by another application thread while the pool runs a region runs serially
/// on that thread, and completes.
TEST_F(Pool, RegionFromSecondThreadWhileBusy) {
  Watchdog dog("PoolRegionFromSecondThreadWhileBusy");
  sparq_uk_set_num_threads(2);
  std::atomic<int> innerRuns{0}, innerBadTid{0};
  auto outer = [&](int32_t tid) {
    if (tid != 0)
      return;
    std::thread other([&] {
      auto inner = [&](int32_t itid) {
        innerRuns++;
        if (itid != 0)
          innerBadTid++;
      };
      parallel(inner);
    });
    other.join();
  };
  parallel(outer);
  EXPECT_EQ(innerRuns.load(), 1);
  EXPECT_EQ(innerBadTid.load(), 0);
}

/// Two application threads forking concurrently: every region runs as a full team or serially,
/// never partially, and all complete.
TEST_F(Pool, ConcurrentForkers) {
  Watchdog dog("PoolConcurrentForkers");
  const int32_t T = 3;
  sparq_uk_set_num_threads(T);
  std::atomic<int> errors{0};
  auto forker = [&] {
    for (int i = 0; i < 1000; ++i) {
      std::atomic<int> hits[T] = {};
      std::atomic<int> outOfTeam{0};
      auto body = [&](int32_t tid) {
        if (tid < 0 || tid >= T)
          outOfTeam++;
        else
          hits[tid]++;
      };
      parallel(body);
      int h0 = hits[0], h1 = hits[1], h2 = hits[2];
      bool full = h0 == 1 && h1 == 1 && h2 == 1, serial = h0 == 1 && h1 == 0 && h2 == 0;
      if (outOfTeam || !(full || serial))
        errors++;
    }
  };
  std::thread a(forker), b(forker);
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
}

/// Many consecutive regions (no lost wake-up, no deadlock), then regions alternating with
/// changes of the thread count (workers stopped and started between regions).
TEST_F(Pool, ManyForks) {
  Watchdog dog("PoolManyForks", 120);
  for (int32_t T : {2, 3, 8}) {
    sparq_uk_set_num_threads(T);
    const int forks = T == 8 ? 2000 : 10000;
    std::atomic<int64_t> runs{0};
    auto body = [&](int32_t) { runs.fetch_add(1, std::memory_order_relaxed); };
    for (int i = 0; i < forks; ++i)
      parallel(body);
    EXPECT_EQ(runs.load(), int64_t(forks) * T) << "T=" << T;
  }
  std::atomic<int64_t> runs{0};
  int64_t expected = 0;
  auto body = [&](int32_t) { runs.fetch_add(1, std::memory_order_relaxed); };
  for (int i = 0; i < 400; ++i) {
    int32_t T = 1 + i % 4;
    sparq_uk_set_num_threads(T);
    parallel(body);
    parallel(body);
    expected += 2 * T;
  }
  EXPECT_EQ(runs.load(), expected);
}

/// The compiled code's use of both: the pool splits the columns in whole panels with a static
/// schedule and every team member calls the kernel on its chunk of the packed weight.
TEST_F(Gemm, ChunksOnThePool) {
  Watchdog dog("GemmChunksOnThePool");
  for (int32_t T : {1, 2, 3})
    for (int64_t M : {1, 3, 4, 5, 64})
      for (int64_t N : {int64_t(1), int64_t(33), 7 * kNr + 5}) {
        sparq_uk_set_num_threads(T);
        const int64_t K = 129;
        Problem p(M, N, K, K, N, uint32_t(T * 1000 + M * 10 + N));
        const uint64_t panels = uint64_t(sparq::formats::panelCount(N, kNr));
        auto body = [&](int32_t) {
          int32_t gtid = __kmpc_global_thread_num(nullptr);
          uint64_t lo = 0, hi = panels - 1;
          int64_t stride = 1;
          int32_t last = 0;
          __kmpc_for_static_init_8u(nullptr, gtid, kSchedStatic, &last, &lo, &hi, &stride, 1, 0);
          if (hi + 1 > lo) {
            int64_t n0 = int64_t(lo) * kNr, n1 = std::min<int64_t>(N, int64_t(hi + 1) * kNr);
            sparq_uk_sgemm_packed_range_f32(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                                            reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                                            reinterpret_cast<intptr_t>(p.Bp.data()), N, n0, n1,
                                            M, K, 0);
          }
          __kmpc_for_static_fini(nullptr, gtid);
          __kmpc_barrier(nullptr, gtid);
        };
        parallel(body);
        if (checkC(p, 0, N, false, kRel,
                   "pool T=" + std::to_string(T) + " " + describe(p, 0)) > 0)
          return;
      }
}

} // namespace

/// The multi-threaded entry point the compiled code calls: the pool splits the panels (or, with
/// fewer panels than threads, the rows) and the result matches the reference loop.
TEST_F(Gemm, MultiThreadedEntryPoint) {
  Watchdog dog("GemmMultiThreadedEntryPoint");
  uint32_t seed = 500;
  for (int32_t T : {1, 2, 3})
    for (int64_t M : {1, 4, 5, 64})
      for (int64_t N : {int64_t(7), 3 * kNr + 5})
        for (int64_t K : {int64_t(3), int64_t(300)}) {
          sparq_uk_set_num_threads(T);
          Problem p(M, N, K, K + 1, N + 2, ++seed);
          sparq_uk_sgemm_packed_f32_mt(reinterpret_cast<intptr_t>(p.C.data()), p.ldc,
                                       reinterpret_cast<intptr_t>(p.A.data()), p.lda,
                                       reinterpret_cast<intptr_t>(p.Bp.data()), M, N, K,
                                       SPARQ_UK_ACCUMULATE);
          if (checkC(p, 0, N, true, kRel,
                     "mt T=" + std::to_string(T) + " " + describe(p, SPARQ_UK_ACCUMULATE)) > 0)
            return;
        }
}

//===----------------------------------------------------------------------===//
// Group-quantized weights (sparq_uk_qgemm_f32, sparq_uk_qgemm_f32_mt)
//===----------------------------------------------------------------------===//

namespace {


/// How the quantization parameters are laid out.
enum class QGroups { Group, PerChannel, PerTensor };

/// One quantized-GEMM problem: A (M x lda, NaN padding), W's integer codes (N x K) packed here
/// bit by bit from the definition in UKernels.h, scales and zero points, C with padding
/// columns and a guard row holding a sentinel.
struct QProblem {
  int64_t M, N, K, lda, ldc, bits, group, scaleStride, rowBytes, groups;
  bool symmetric;
  std::vector<float> A, C, C0, scales;
  std::vector<uint8_t> zeroPoints;
  std::vector<int32_t> code; // N x K unsigned codes
  std::unique_ptr<GuardedBytes> packed;

  QProblem(int64_t m, int64_t n, int64_t k, int64_t bits_, QGroups kind, int64_t g, bool sym,
           bool paddedRows, uint32_t seed)
      : M(m), N(n), K(k), lda(k + 3), ldc(n + 5), bits(bits_), symmetric(sym) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f), scale(0.01f, 0.1f);
    std::uniform_int_distribution<int> codeDist(0, (1 << bits) - 1), byteDist(0, 255);
    group = kind == QGroups::Group ? g : K;
    groups = (K + group - 1) / group;
    scaleStride = kind == QGroups::PerTensor ? 0 : groups;
    const int64_t paramRows = kind == QGroups::PerTensor ? 1 : N;
    rowBytes = (K * bits + 7) / 8 + (paddedRows ? 3 : 0);
    A.assign(size_t(std::max<int64_t>(M, 1) * lda), std::numeric_limits<float>::quiet_NaN());
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < K; ++j)
        A[size_t(i * lda + j)] = real(rng);
    scales.resize(size_t(paramRows * groups));
    for (float &s : scales)
      s = scale(rng);
    if (!sym) {
      zeroPoints.resize(scales.size());
      for (uint8_t &z : zeroPoints)
        z = uint8_t(codeDist(rng));
    }
    code.resize(size_t(N * K));
    for (int32_t &c : code)
      c = codeDist(rng);
    // Code k of row n: bits [k*bits, (k+1)*bits) of the row, LSB first. Bytes past the codes of
    // a row (padded rows) are garbage a kernel must not use.
    packed = std::make_unique<GuardedBytes>(size_t(std::max<int64_t>(N * rowBytes, 1)));
    uint8_t *bytes = packed->data();
    for (size_t i = 0; i < packed->size(); ++i)
      bytes[i] = uint8_t(byteDist(rng));
    for (int64_t r = 0; r < N; ++r) {
      uint8_t *row = bytes + r * rowBytes;
      for (int64_t b = 0; b < (K * bits + 7) / 8; ++b)
        row[b] = 0;
      for (int64_t kk = 0; kk < K; ++kk)
        for (int64_t i = 0; i < bits; ++i)
          if ((code[size_t(r * K + kk)] >> i) & 1) {
            int64_t bit = kk * bits + i;
            row[bit / 8] = uint8_t(row[bit / 8] | (1u << (bit % 8)));
          }
    }
    C.assign(size_t((M + 1) * ldc), -777.25f);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        C[size_t(i * ldc + j)] = real(rng);
    C0 = C;
  }

  /// W[n][k] from the definition, reading the packed bytes bit by bit.
  double weight(int64_t n, int64_t k) const {
    const uint8_t *row = packed->data() + n * rowBytes;
    int32_t c = 0;
    for (int64_t i = 0; i < bits; ++i) {
      int64_t bit = k * bits + i;
      c |= int32_t((row[bit / 8] >> (bit % 8)) & 1) << i;
    }
    int64_t g = k / group, idx = n * scaleStride + g;
    int32_t v = symmetric ? (c >= (1 << (bits - 1)) ? c - (1 << bits) : c)
                          : c - int32_t(zeroPoints[size_t(idx)]);
    return double(v) * double(scales[size_t(idx)]);
  }

  void run(int64_t flags, bool multiThreaded) {
    auto fn = multiThreaded ? sparq_uk_qgemm_f32_mt : sparq_uk_qgemm_f32;
    fn(reinterpret_cast<intptr_t>(C.data()), ldc, reinterpret_cast<intptr_t>(A.data()), lda,
       reinterpret_cast<intptr_t>(packed->data()), rowBytes,
       reinterpret_cast<intptr_t>(scales.data()),
       symmetric ? 0 : reinterpret_cast<intptr_t>(zeroPoints.data()), scaleStride, bits,
       group, M, N, K, flags);
  }

  std::string describe(int64_t flags) const {
    return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
           " bits=" + std::to_string(bits) + " group=" + std::to_string(group) +
           " scaleStride=" + std::to_string(scaleStride) + " rowBytes=" +
           std::to_string(rowBytes) + (symmetric ? " symmetric" : " asymmetric") +
           (flags & SPARQ_UK_ACCUMULATE ? " accumulate" : "") +
           (flags & SPARQ_UK_RELU ? " relu" : "");
  }

  /// Compares C with the reference (double sums; |err| <= rel * sum |a w| (+ |C0|)) and checks
  /// that padding and the guard row are untouched. Returns the number of mismatches.
  int64_t check(int64_t flags, double rel, const std::string &what) const {
    const bool accumulate = flags & SPARQ_UK_ACCUMULATE, relu = flags & SPARQ_UK_RELU;
    std::vector<double> W(size_t(N * K));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k)
        W[size_t(n * K + k)] = weight(n, k);
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
                   std::to_string(got) + ", expected " + std::to_string(ref) + " (|err| " +
                   std::to_string(err) + " > " + std::to_string(rel * mag) + ")");
        } else if (std::memcmp(&got, &C0[i], sizeof(float)) != 0) {
          report("C[" + std::to_string(m) + "][" + std::to_string(n) +
                 "] outside the written block changed");
        }
      }
    return bad;
  }
};

constexpr int64_t kQFlags[] = {0, SPARQ_UK_ACCUMULATE, SPARQ_UK_RELU,
                               SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU};

struct QLayout {
  QGroups kind;
  int64_t group;
};
constexpr QLayout kQLayouts[] = {{QGroups::Group, 32},
                                 {QGroups::Group, 128},
                                 {QGroups::PerChannel, 0},
                                 {QGroups::PerTensor, 0},
                                 {QGroups::Group, 20}}; // not a multiple of any vector width

class QGemm : public KernelTest {};

/// Every width 1..8, symmetric and asymmetric, every parameter layout, K and N off the group
/// and tile sizes, GEMV (M <= 4) and GEMM (M > 4) sizes, every flag combination; the
/// single-threaded entry point.
class QGemmGrid : public KernelTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(QGemmGrid, MatchesReference) {
  const int64_t bits = GetParam();
  uint32_t seed = uint32_t(bits) * 1000003u;
  int64_t cases = 0, flagIndex = 0;
  for (int64_t M : {1, 2, 3, 4, 5, 16, 130})
    for (int64_t N : {37, 130})
      for (int64_t K : {200, 333})
        for (const QLayout &layout : kQLayouts)
          for (bool sym : {true, false}) {
            const int64_t flags = kQFlags[flagIndex++ % 4];
            ++seed;
            QProblem p(M, N, K, bits, layout.kind, layout.group, sym, (seed & 1) != 0, seed);
            p.run(flags, false);
            if (p.check(flags, kRel, p.describe(flags)) > 0)
              return;
            ++cases;
          }
  EXPECT_EQ(cases, 7 * 2 * 2 * 5 * 2);
}

INSTANTIATE_TEST_SUITE_P(QGemm, QGemmGrid, ::testing::Range<int64_t>(1, 9),
                         [](const ::testing::TestParamInfo<int64_t> &info) {
                           return "W" + std::to_string(info.param);
                         });

/// Exact data: with power-of-two scales, small codes and activations that are small integers
/// the products and partial sums are exact, so the kernel must match the reference bit for bit
/// whatever its summation order (catches off-by-one-code errors a tolerance could hide).
TEST_F(QGemm, ExactOnIntegers) {
  uint32_t seed = 77;
  for (int64_t bits : {1, 2, 3, 4, 8})
    for (int64_t M : {1, 4, 8, 9, 16})
      for (bool sym : {true, false}) {
        QProblem p(M, 45, 300, bits, QGroups::Group, 32, sym, false, ++seed);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> small(-3, 3);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t k = 0; k < p.K; ++k)
            p.A[size_t(m * p.lda + k)] = float(small(rng));
        for (size_t i = 0; i < p.scales.size(); ++i)
          p.scales[i] = i % 3 == 0 ? 0.5f : i % 3 == 1 ? 1.0f : 2.0f;
        p.run(0, false);
        if (p.check(0, 0.0, "exact " + p.describe(0)) > 0)
          return;
      }
}

/// K longer than the GEMV's activation buffer holds for M rows (the reduction runs in several
/// chunks that accumulate into C).
TEST_F(QGemm, LongReduction) {
  uint32_t seed = 4242;
  for (int64_t M : {1, 2, 4, 8, 16})
    for (int64_t bits : {1, 2, 4, 8})
      for (const QLayout &layout : {QLayout{QGroups::Group, 128}, QLayout{QGroups::PerChannel, 0}}) {
        const int64_t K = M == 1 ? 17000 + 13 : 9000 + 5;
        const int64_t flags = SPARQ_UK_ACCUMULATE | SPARQ_UK_RELU;
        QProblem p(M, 9, K, bits, layout.kind, layout.group, bits != 8, false, ++seed);
        p.run(flags, false);
        if (p.check(flags, kRel, "long K " + p.describe(flags)) > 0)
          return;
      }
}

/// The multi-threaded entry point on problems large enough to be split: N and K off the
/// row-block and group sizes, teams of 1 to 3.
TEST_F(QGemm, MultiThreadedEntryPoint) {
  Watchdog dog("QGemmMultiThreadedEntryPoint");
  uint32_t seed = 900;
  for (int32_t T : {1, 2, 3})
    for (int64_t M : {1, 3, 16, 130})
      for (int64_t bits : {2, 3, 4, 8}) {
        sparq_uk_set_num_threads(T);
        const int64_t N = M > 4 ? 171 : 517, K = M > 4 ? 389 : 2100;
        const int64_t flags = kQFlags[(seed + 1) % 4];
        QProblem p(M, N, K, bits, QGroups::Group, 128, bits % 2 == 0, false, ++seed);
        p.run(flags, true);
        if (p.check(flags, kRel, "mt T=" + std::to_string(T) + " " + p.describe(flags)) > 0)
          return;
      }
  // Few columns, many rows: split by rows.
  sparq_uk_set_num_threads(2);
  QProblem p(300, 20, 1000, 4, QGroups::Group, 32, true, false, 31337);
  p.run(SPARQ_UK_ACCUMULATE, true);
  p.check(SPARQ_UK_ACCUMULATE, kRel, "mt rows " + p.describe(SPARQ_UK_ACCUMULATE));
}

/// K = 0 overwrites the M x N block with zeros (accumulate leaves it); M = 0, N = 0 and
/// unsupported widths write nothing.
TEST_F(QGemm, DegenerateSizes) {
  for (bool mt : {false, true}) {
    auto fn = mt ? sparq_uk_qgemm_f32_mt : sparq_uk_qgemm_f32;
    QProblem p(3, 17, 64, 4, QGroups::Group, 32, true, false, 5);
    auto call = [&](int64_t M, int64_t N, int64_t K, int64_t bits, int64_t flags) {
      fn(reinterpret_cast<intptr_t>(p.C.data()), p.ldc, reinterpret_cast<intptr_t>(p.A.data()),
         p.lda, reinterpret_cast<intptr_t>(p.packed->data()), p.rowBytes,
         reinterpret_cast<intptr_t>(p.scales.data()), 0, p.scaleStride, bits, 32, M, N, K,
         flags);
    };
    call(0, 17, 64, 4, 0);
    call(3, 0, 64, 4, 0);
    call(3, 17, 64, 0, 0);
    call(3, 17, 64, 9, 0);
    call(3, 17, 0, 4, SPARQ_UK_ACCUMULATE);
    EXPECT_EQ(p.C, p.C0) << "nothing to compute must write nothing";
    call(3, 17, 0, 4, 0);
    for (int64_t m = 0; m <= 3; ++m)
      for (int64_t n = 0; n < p.ldc; ++n) {
        size_t i = size_t(m * p.ldc + n);
        EXPECT_EQ(p.C[i], m < 3 && n < 17 ? 0.0f : p.C0[i]) << "K=0, C[" << m << "][" << n << "]";
      }
  }
}

} // namespace
