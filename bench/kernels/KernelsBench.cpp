//===- bench/kernels/KernelsBench.cpp - micro-kernel and thread-pool benchmarks -*- C++ -*-===//
//
// Google Benchmark executable, built once per kernel variant (bench/kernels/CMakeLists.txt):
// SPARQ_KERNELS_BENCH_VLEN=16 links sparq_kernels_v16 (AVX-512), 8 links sparq_kernels_v8
// (AVX2/FMA). It exits with a message on a host without the variant's ISA.
//
//   BM_Sgemm/M/N/K           sparq_uk_sgemm_packed_f32 on one thread, N = K = 4096: counters
//                            GFLOPs (2 M N K per call) and WeightGBs (the packed weight read
//                            once per call, 4 N K bytes: the bandwidth bound for small M).
//   BM_SgemmPool/M/T         the same, split across T pool threads in whole panels with the
//                            static schedule, as the compiled code runs it.
//   BM_EmptyRegion/T         __kmpc_fork_call with an empty microtask on a team of T: the
//                            fixed cost of a parallel region.
//   BM_Conv/F/C/HW/KS        the convolution kernel on ResNet/MobileNet shapes (below).
//   BM_PeakFma/T             independent FMA chains on the variant's widest vectors (512-bit for
//                            v16, 256-bit for v8) on every member of a pool region of T
//                            threads (GFLOPs: all threads together): the peak that GFLOPs
//                            above is a fraction of.
//
//   build-rt/bench-kernels/sparq_kernels_v16_bench [--benchmark_filter=Sgemm] ...
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/DensePanels.h"
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#ifndef SPARQ_KERNELS_BENCH_VLEN
#error "SPARQ_KERNELS_BENCH_VLEN (16 or 8) must be defined"
#endif

extern "C" {
typedef void (*kmpc_micro)(int32_t *, int32_t *, ...);
void __kmpc_fork_call(void *ident, int32_t argc, kmpc_micro fn, ...);
int32_t __kmpc_global_thread_num(void *ident);
void __kmpc_barrier(void *ident, int32_t gtid);
void __kmpc_for_static_init_8u(void *ident, int32_t gtid, int32_t schedule, int32_t *last,
                               uint64_t *lower, uint64_t *upper, int64_t *stride, int64_t incr,
                               int64_t chunk);
void __kmpc_for_static_fini(void *ident, int32_t gtid);
}

namespace {

constexpr int kVlen = SPARQ_KERNELS_BENCH_VLEN;
constexpr int64_t kN = 4096, kK = 4096;

const char *missingIsa() {
  __builtin_cpu_init();
#if SPARQ_KERNELS_BENCH_VLEN == 16
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
      !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512bw"))
    return "AVX-512 (avx512f/vl/dq/bw)";
#else
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return "AVX2/FMA";
#endif
  return nullptr;
}

/// The operands, built once: A (M x K, largest M), C, the K x N weight packed into panels.
struct Operands {
  int64_t nr = sparq_uk_panel_width_f32();
  std::vector<float> A, C, Bp;
  Operands() {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    A.resize(size_t(128 * kK));
    for (float &a : A)
      a = u(rng);
    C.assign(size_t(128 * kN), 0.0f);
    std::vector<float> B(size_t(kK * kN));
    for (float &b : B)
      b = u(rng);
    Bp.resize(size_t(sparq::formats::packedPanelElements(kK, kN, nr)));
    sparq::formats::packPanels<float>(kK, kN, nr,
                                      [&](int64_t k, int64_t n) { return B[k * kN + n]; },
                                      Bp.data());
  }
};

Operands &operands() {
  static Operands ops;
  return ops;
}

void setCounters(benchmark::State &state, int64_t M) {
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * double(M) * kN * kK * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["WeightGBs"] = benchmark::Counter(4.0 * kN * kK * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Sgemm(benchmark::State &state) {
  const int64_t M = state.range(0);
  Operands &ops = operands();
  for (auto _ : state) {
    sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(ops.C.data()), kN,
                              reinterpret_cast<intptr_t>(ops.A.data()), kK,
                              reinterpret_cast<intptr_t>(ops.Bp.data()), M, kN, kK, 0);
    benchmark::ClobberMemory();
  }
  setCounters(state, M);
}
BENCHMARK(BM_Sgemm)
    ->ArgNames({"M"})
    ->Arg(1)
    ->Arg(4)
    ->Arg(16)
    ->Arg(128)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

struct PoolGemm {
  Operands *ops;
  int64_t M;
};

void poolGemmTask(int32_t *, int32_t *, void *arg) {
  const PoolGemm &g = *static_cast<PoolGemm *>(arg);
  const Operands &ops = *g.ops;
  int32_t gtid = __kmpc_global_thread_num(nullptr);
  uint64_t lo = 0, hi = uint64_t(sparq::formats::panelCount(kN, ops.nr)) - 1;
  int64_t stride = 1;
  int32_t last = 0;
  __kmpc_for_static_init_8u(nullptr, gtid, 34, &last, &lo, &hi, &stride, 1, 0);
  if (hi + 1 > lo) {
    int64_t n0 = int64_t(lo) * ops.nr, n1 = std::min<int64_t>(kN, int64_t(hi + 1) * ops.nr);
    sparq_uk_sgemm_packed_range_f32(reinterpret_cast<intptr_t>(ops.C.data()), kN,
                                    reinterpret_cast<intptr_t>(ops.A.data()), kK,
                                    reinterpret_cast<intptr_t>(ops.Bp.data()), kN, n0, n1, g.M,
                                    kK, 0);
  }
  __kmpc_for_static_fini(nullptr, gtid);
  __kmpc_barrier(nullptr, gtid);
}

void BM_SgemmPool(benchmark::State &state) {
  PoolGemm g{&operands(), state.range(0)};
  sparq_uk_set_num_threads(int32_t(state.range(1)));
  for (auto _ : state) {
    __kmpc_fork_call(nullptr, 1, reinterpret_cast<kmpc_micro>(poolGemmTask),
                     static_cast<void *>(&g));
    benchmark::ClobberMemory();
  }
  setCounters(state, g.M);
}
BENCHMARK(BM_SgemmPool)
    ->ArgNames({"M", "T"})
    ->ArgsProduct({{1, 16, 128}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void emptyTask(int32_t *, int32_t *) {}

void BM_EmptyRegion(benchmark::State &state) {
  sparq_uk_set_num_threads(int32_t(state.range(0)));
  __kmpc_fork_call(nullptr, 0, reinterpret_cast<kmpc_micro>(emptyTask)); // start the workers
  for (auto _ : state)
    __kmpc_fork_call(nullptr, 0, reinterpret_cast<kmpc_micro>(emptyTask));
  state.SetLabel("ns per region");
}
BENCHMARK(BM_EmptyRegion)->ArgNames({"T"})->Arg(1)->Arg(2)->UseRealTime();

// Peak FMA: kChains independent accumulators (more than the FMA latency times the FMA ports),
// each step one FMA per chain on the widest vectors of the variant.
#if SPARQ_KERNELS_BENCH_VLEN == 16
constexpr int kChains = 16;
__attribute__((target("avx512f,fma"), noinline)) float peakFma(int64_t steps, float x) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps(x + float(i));
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  for (int i = 1; i < kChains; ++i)
    acc[0] = _mm512_add_ps(acc[0], acc[i]);
  return _mm512_reduce_add_ps(acc[0]);
}
#else
constexpr int kChains = 12;
__attribute__((target("avx2,fma"), noinline)) float peakFma(int64_t steps, float x) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm256_set1_ps(x + float(i));
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  for (int i = 1; i < kChains; ++i)
    acc[0] = _mm256_add_ps(acc[0], acc[i]);
  float out[8];
  _mm256_storeu_ps(out, acc[0]);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

constexpr int64_t kPeakSteps = 1 << 16;

void peakTask(int32_t *, int32_t *, void *arg) {
  float *sink = static_cast<float *>(arg);
  float x = peakFma(kPeakSteps, 1.0f);
  if (x == 12345.0f) // never true; keeps the result alive
    *sink = x;
}

/// Every team member of a pool region of T threads runs the FMA chains: the figure is the total.
void BM_PeakFma(benchmark::State &state) {
  const int32_t threads = int32_t(state.range(0));
  sparq_uk_set_num_threads(threads);
  float sink = 0.0f;
  for (auto _ : state)
    __kmpc_fork_call(nullptr, 1, reinterpret_cast<kmpc_micro>(peakTask),
                     static_cast<void *>(&sink));
  benchmark::DoNotOptimize(sink);
  state.counters["GFLOPs"] =
      benchmark::Counter(double(threads) * 2.0 * kPeakSteps * kChains * kVlen * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PeakFma)->ArgNames({"T"})->Arg(1)->Arg(2)->UseRealTime();


//===----------------------------------------------------------------------===//
// Group-quantized weights (sparq_uk_qgemm_f32 / _mt), next to the f32 packed kernel.
//
//   BM_QGemv/bits/T/cold     M = 1, N = K = 4096, symmetric, group 128: counters WeightGBs (code
//                            and scale bytes read per call) and the time per call. T = 1 calls
//                            sparq_uk_qgemm_f32, T = 2 sparq_uk_qgemm_f32_mt on two threads.
//                            cold = 1 rotates over copies of the weight totalling at least
//                            SPARQ_BENCH_COLD_MIB MiB (default 1024, over twice the 480 MiB L3
//                            the VM reports), so each call reads its weight from DRAM;
//                            cold = 0 reuses one copy (it may stay in the cache).
//   BM_SgemvCold/T/cold      the f32 packed GEMV (sparq_uk_sgemm_packed_f32 / _mt) measured the
//                            same way (64 MiB per copy).
//   BM_QGemm/bits/M/T        W4/W3/W2 g128 symmetric at M = 16 and 128: GFLOPs (2 M N K per
//                            call), to compare with BM_Sgemm / BM_SgemmPool at the same M and
//                            with BM_LutGemm/q/M (the lookup-table kernel, q = bits).
//===----------------------------------------------------------------------===//

int64_t coldBytes() {
  const char *e = std::getenv("SPARQ_BENCH_COLD_MIB");
  return (e ? std::atoll(e) : 1024) << 20;
}

/// `copies` copies of one quantized 4096 x 4096 weight (codes, then scales), each copy in its
/// own buffer.
struct QWeights {
  int64_t bits, group = 128, rowBytes, groups;
  std::vector<std::vector<uint8_t>> codes;
  std::vector<std::vector<float>> scales;
  QWeights(int64_t b, int64_t copies) : bits(b) {
    rowBytes = (kK * bits + 7) / 8;
    groups = (kK + group - 1) / group;
    std::mt19937 rng{uint32_t(b)};
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> u(0.01f, 0.1f);
    std::vector<uint8_t> c(size_t(kN * rowBytes));
    for (uint8_t &x : c)
      x = uint8_t(byte(rng));
    std::vector<float> s(size_t(kN * groups));
    for (float &x : s)
      x = u(rng);
    for (int64_t i = 0; i < copies; ++i) {
      codes.push_back(c);
      scales.push_back(s);
    }
  }
  double bytesPerCall() const { return double(kN) * double(rowBytes) + 4.0 * kN * groups; }
};

/// One weight set alive at a time (the cold sets are large).
QWeights &qweights(int64_t bits, bool cold) {
  static std::unique_ptr<QWeights> cache;
  static int64_t key = -1;
  int64_t want = bits * 2 + (cold ? 1 : 0);
  if (key != want) {
    cache.reset();
    int64_t copies = 1;
    if (cold) {
      double per = double(kN) * double((kK * bits + 7) / 8) + 4.0 * kN * (kK / 128);
      copies = std::max<int64_t>(2, int64_t(double(coldBytes()) / per) + 1);
    }
    cache = std::make_unique<QWeights>(bits, copies);
    key = want;
  }
  return *cache;
}

void runQGemm(const QWeights &w, size_t copy, int64_t M, int32_t threads) {
  Operands &ops = operands();
  auto fn = threads > 1 ? sparq_uk_qgemm_f32_mt : sparq_uk_qgemm_f32;
  fn(reinterpret_cast<intptr_t>(ops.C.data()), kN, reinterpret_cast<intptr_t>(ops.A.data()), kK,
     reinterpret_cast<intptr_t>(w.codes[copy].data()), w.rowBytes,
     reinterpret_cast<intptr_t>(w.scales[copy].data()), 0, w.groups, w.bits, w.group, M, kN, kK,
     0);
}

void BM_QGemv(benchmark::State &state) {
  const int64_t bits = state.range(0);
  const int32_t threads = int32_t(state.range(1));
  const bool cold = state.range(2) != 0;
  QWeights &w = qweights(bits, cold);
  sparq_uk_set_num_threads(threads);
  size_t copy = 0;
  for (auto _ : state) {
    runQGemm(w, copy, 1, threads);
    copy = (copy + 1) % w.codes.size();
    benchmark::ClobberMemory();
  }
  state.counters["WeightGBs"] = benchmark::Counter(w.bytesPerCall() * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["copies"] = double(w.codes.size());
}
BENCHMARK(BM_QGemv)
    ->ArgNames({"bits", "T", "cold"})
    ->ArgsProduct({{4, 3, 2, 8}, {1, 2}, {1, 0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

/// BM_QGemvI8/bits/T: the W2/W4/W8 g128 symmetric 1 x 4096 x 4096 GEMV with int8 activations
/// quantized at run time (sparq_uk_qgemm_i8_f32; T = 2: _mt on two threads). cold as in
/// BM_QGemv (cold:0 reuses one copy, as onnxruntime's MatMulNBits accuracy_level 4 number is
/// measured). Compare with BM_QGemv/bits/T/cold.
void BM_QGemvI8(benchmark::State &state) {
  const int64_t bits = state.range(0);
  const int32_t threads = int32_t(state.range(1));
  const bool cold = state.range(2) != 0;
  QWeights &w = qweights(bits, cold);
  Operands &ops = operands();
  sparq_uk_set_num_threads(threads);
  auto fn = threads > 1 ? sparq_uk_qgemm_i8_f32_mt : sparq_uk_qgemm_i8_f32;
  size_t copy = 0;
  for (auto _ : state) {
    fn(reinterpret_cast<intptr_t>(ops.C.data()), kN, reinterpret_cast<intptr_t>(ops.A.data()), kK,
       reinterpret_cast<intptr_t>(w.codes[copy].data()), w.rowBytes,
       reinterpret_cast<intptr_t>(w.scales[copy].data()), 0, w.groups, w.bits, w.group, 1, kN,
       kK, 0);
    copy = (copy + 1) % w.codes.size();
    benchmark::ClobberMemory();
  }
  state.counters["WeightGBs"] = benchmark::Counter(w.bytesPerCall() * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["copies"] = double(w.codes.size());
}
BENCHMARK(BM_QGemvI8)
    ->ArgNames({"bits", "T", "cold"})
    ->ArgsProduct({{4, 2, 8}, {1, 2}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

/// BM_LutGemm/q/M/T/i8: the binary-coded (shift-add) M x 4096 x 4096 product with q sign planes
/// and group-128 scales (sparq_uk_lutgemm_f32, or with i8:1 the int8-table
/// sparq_uk_lutgemm_i8_f32; T = 2: _mt on two threads), hot weights (one copy), next to
/// BM_QGemv/bits:4/T/cold:0, BM_QGemvI8/bits:4/T and BM_QGemm/bits/M/T. WeightGBs: sign-plane and
/// scale bytes read per call.
void BM_LutGemm(benchmark::State &state) {
  const int64_t q = state.range(0);
  const int64_t M = state.range(1);
  const int32_t threads = int32_t(state.range(2));
  const bool i8 = state.range(3) != 0;
  const int64_t group = 128, rowBytes = kK / 8, groups = kK / group;
  std::mt19937 rng{uint32_t(q + 77)};
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> u(0.01f, 0.1f);
  std::vector<uint8_t> codes(size_t(q * kN * rowBytes));
  for (uint8_t &x : codes)
    x = uint8_t(byte(rng));
  std::vector<float> scales(size_t(q * kN * groups));
  for (float &x : scales)
    x = u(rng);
  Operands &ops = operands();
  sparq_uk_set_num_threads(threads);
  if (SPARQ_KERNELS_BENCH_VLEN == 16 && i8 &&
      (!__builtin_cpu_supports("avx512vbmi") || !__builtin_cpu_supports("avx512vnni")))
    return state.SkipWithError("the int8-table kernel needs AVX-512 VBMI and VNNI");
  // Random sign bits and scales: as good in the kernels' interleaved layout as in the stored
  // one (K and N are multiples of 32 and 16, so neither has padding; same bytes).
  const intptr_t C = reinterpret_cast<intptr_t>(ops.C.data()),
                 A = reinterpret_cast<intptr_t>(ops.A.data()),
                 codesAddr = reinterpret_cast<intptr_t>(codes.data()),
                 scalesAddr = reinterpret_cast<intptr_t>(scales.data());
  for (auto _ : state) {
    if (i8)
      (threads > 1 ? sparq_uk_lutgemm_i8_f32_mt : sparq_uk_lutgemm_i8_f32)(
          C, kN, A, kK, codesAddr, scalesAddr, q, group, M, kN, kK, 0);
    else
      (threads > 1 ? sparq_uk_lutgemm_f32_mt : sparq_uk_lutgemm_f32)(
          C, kN, A, kK, codesAddr, scalesAddr, /*offsets=*/0, q, group, M, kN, kK, 0);
    benchmark::ClobberMemory();
  }
  const double bytes = double(codes.size()) + 4.0 * double(scales.size());
  state.counters["WeightGBs"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LutGemm)
    ->ArgNames({"q", "M", "T", "i8"})
    ->ArgsProduct({{2, 3, 4}, {1}, {1, 2}, {0, 1}})
    ->ArgsProduct({{2, 3, 4}, {4, 16, 128}, {1, 2}, {0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

/// Copies of the f32 packed weight for the cold GEMV comparison.
struct ColdPanels {
  std::vector<std::vector<float>> copies;
  explicit ColdPanels(int64_t n) {
    const Operands &ops = operands();
    for (int64_t i = 0; i < n; ++i)
      copies.push_back(ops.Bp);
  }
};

void BM_SgemvCold(benchmark::State &state) {
  const int32_t threads = int32_t(state.range(0));
  const bool cold = state.range(1) != 0;
  Operands &ops = operands();
  const double per = 4.0 * double(ops.Bp.size());
  static std::unique_ptr<ColdPanels> set;
  const int64_t want = cold ? std::max<int64_t>(2, int64_t(double(coldBytes()) / per) + 1) : 1;
  if (!set || int64_t(set->copies.size()) != want) {
    set.reset();
    set = std::make_unique<ColdPanels>(want);
  }
  sparq_uk_set_num_threads(threads);
  size_t copy = 0;
  for (auto _ : state) {
    auto fn = threads > 1 ? sparq_uk_sgemm_packed_f32_mt : sparq_uk_sgemm_packed_f32;
    fn(reinterpret_cast<intptr_t>(ops.C.data()), kN, reinterpret_cast<intptr_t>(ops.A.data()),
       kK, reinterpret_cast<intptr_t>(set->copies[copy].data()), 1, kN, kK, 0);
    copy = (copy + 1) % set->copies.size();
    benchmark::ClobberMemory();
  }
  state.counters["WeightGBs"] =
      benchmark::Counter(per * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["copies"] = double(set->copies.size());
  set.reset(); // 1 GiB: not kept for the other benchmarks
}
BENCHMARK(BM_SgemvCold)
    ->ArgNames({"T", "cold"})
    ->ArgsProduct({{1, 2}, {1, 0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

/// BM_QGemm/bits/M/T: the W<bits> g128 symmetric M x 4096 x 4096 product with float activations
/// (sparq_uk_qgemm_f32; T = 2: _mt on two threads), hot weights.
void BM_QGemm(benchmark::State &state) {
  const int64_t bits = state.range(0);
  const int64_t M = state.range(1);
  const int32_t threads = int32_t(state.range(2));
  QWeights &w = qweights(bits, false);
  sparq_uk_set_num_threads(threads);
  for (auto _ : state) {
    runQGemm(w, 0, M, threads);
    benchmark::ClobberMemory();
  }
  setCounters(state, M);
  state.counters.erase("WeightGBs");
}
BENCHMARK(BM_QGemm)
    ->ArgNames({"bits", "M", "T"})
    ->ArgsProduct({{4, 3, 2}, {16, 128}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

//===----------------------------------------------------------------------===//
// Small quantized GEMMs, the shapes of a transformer encoder's layers (Moonshine tiny: 40 rows,
// hidden 288, MLP 1152), against the f32 packed kernel on the same shape, one thread, hot.
//
//   BM_SmallGemm/M/N/K/kind/cold
//                            kind 0: sparq_uk_sgemm_packed_f32 (weight packed once); kind 8:
//                            sparq_uk_qgemm_f32 on 8-bit codes with one zero point per output
//                            row (onnxruntime's MatMulInteger weights as sparq runs them), one
//                            group; kind 9: the same weights on sparq_uk_qgemm_s8_f32, the exact
//                            integer product on int8 activations (how sparq now runs an
//                            onnxruntime MatMulInteger with K > 4096 on a VNNI CPU); kind 10:
//                            sparq_uk_igemm_s8_f32, the int8 GEMM on dot-product panels (the
//                            same product for K <= 4096); kind 4: 4-bit codes,
//                            symmetric, group 32. GFLOPs = 2 M N K
//                            per call; compare kinds at the same M/N/K (the ratio is the cost of
//                            dequantizing in the kernel). cold = 1 reads 64 MiB between calls
//                            (not timed), so weights and activations come from L3 or DRAM, as
//                            in a model that calls each layer once per run.
//===----------------------------------------------------------------------===//

void BM_SmallGemm(benchmark::State &state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const int64_t kind = state.range(3);
  const bool cold = state.range(4) != 0;
  std::vector<float> junk(cold ? size_t(16) << 20 : 0, 1.0f);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<float> A(size_t(M * K)), C(size_t(M * N), 0.0f);
  for (float &a : A)
    a = u(rng);
  const int64_t nr = sparq_uk_panel_width_f32();
  std::vector<float> Bp;
  std::vector<uint8_t> codes, zps;
  std::vector<float> scales;
  const int64_t bits = kind == 0 ? 0 : kind == 9 || kind == 10 ? 8 : kind;
  std::vector<int8_t> A8(size_t(M * K));
  for (int8_t &a : A8)
    a = int8_t(byte(rng) - 128);
  const int64_t group = kind == 4 ? 32 : K, groups = (K + group - 1) / group;
  const int64_t rowBytes = (K * bits + 7) / 8;
  if (kind == 0) {
    std::vector<float> B(size_t(K * N));
    for (float &b : B)
      b = u(rng);
    Bp.resize(size_t(sparq::formats::packedPanelElements(K, N, nr)));
    sparq::formats::packPanels<float>(K, N, nr, [&](int64_t k, int64_t n) { return B[k * N + n]; },
                                      Bp.data());
  } else {
    codes.resize(size_t(N * rowBytes));
    for (uint8_t &c : codes)
      c = uint8_t(byte(rng));
    scales.assign(size_t(N * groups), 0.02f);
    if (kind == 8 || kind == 9 || kind == 10)
      for (int64_t n = 0; n < N; ++n)
        zps.push_back(uint8_t(byte(rng)));
  }
  // kind 10: the codes as signed panel values (code - 128, zero point zp - 128), unit scales.
  std::vector<int8_t> panels;
  std::vector<int32_t> pz, pt;
  std::vector<float> ps;
  if (kind == 10) {
    panels.resize(sparq::formats::int8PanelBytes(size_t(N), size_t(K)));
    sparq::formats::int8PackPanels(
        size_t(N), size_t(K),
        [&](size_t n, size_t k) { return int8_t(codes[n * size_t(rowBytes) + k] ^ 0x80); },
        panels.data());
    for (int64_t n = 0; n < N; ++n) {
      int64_t sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += int8_t(codes[size_t(n * rowBytes + k)] ^ 0x80);
      pz.push_back(int32_t(zps[size_t(n)]) - 128);
      pt.push_back(int32_t(128 * (K * int64_t(pz.back()) - sum)));
      ps.push_back(1.0f);
    }
  }
  sparq_uk_set_num_threads(1);
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      float sum = 0;
      for (size_t i = 0; i < junk.size(); i += 16)
        sum += junk[i];
      benchmark::DoNotOptimize(sum);
      state.ResumeTiming();
    }
    if (kind == 0)
      sparq_uk_sgemm_packed_f32(reinterpret_cast<intptr_t>(C.data()), N,
                                reinterpret_cast<intptr_t>(A.data()), K,
                                reinterpret_cast<intptr_t>(Bp.data()), M, N, K, 0);
    else if (kind == 10)
      sparq_uk_igemm_s8_f32(reinterpret_cast<intptr_t>(C.data()), N,
                            reinterpret_cast<intptr_t>(A8.data()), K,
                            reinterpret_cast<intptr_t>(panels.data()),
                            reinterpret_cast<intptr_t>(pz.data()),
                            reinterpret_cast<intptr_t>(pt.data()),
                            reinterpret_cast<intptr_t>(ps.data()), M, N, K, 0);
    else if (kind == 9)
      sparq_uk_qgemm_s8_f32(reinterpret_cast<intptr_t>(C.data()), N,
                            reinterpret_cast<intptr_t>(A8.data()), K,
                            reinterpret_cast<intptr_t>(codes.data()), rowBytes,
                            reinterpret_cast<intptr_t>(scales.data()),
                            reinterpret_cast<intptr_t>(zps.data()), groups, bits, group, M, N, K,
                            0);
    else
      sparq_uk_qgemm_f32(reinterpret_cast<intptr_t>(C.data()), N,
                         reinterpret_cast<intptr_t>(A.data()), K,
                         reinterpret_cast<intptr_t>(codes.data()), rowBytes,
                         reinterpret_cast<intptr_t>(scales.data()),
                         zps.empty() ? 0 : reinterpret_cast<intptr_t>(zps.data()), groups, bits,
                         group, M, N, K, 0);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * double(M) * double(N) * double(K) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SmallGemm)
    ->ArgNames({"M", "N", "K", "kind", "cold"})
    ->ArgsProduct({{40, 41}, {288}, {288}, {0, 8, 9, 10, 4}, {0, 1}})
    ->ArgsProduct({{40}, {1152}, {288}, {0, 8, 9, 10, 4}, {0, 1}})
    ->ArgsProduct({{40}, {288}, {1152}, {0, 8, 9, 10, 4}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

//===----------------------------------------------------------------------===//
// N:M-sparse weights (sparq_uk_nmgemm_f32 / sparq_uk_nmqgemm_f32 and _mt), 2:4, N = K = 4096,
// hot weights (one copy), next to BM_QGemv/4/T/0 (dense W4 g128) and BM_SgemvCold/T/0 (dense
// f32 packed GEMV) and BM_Sgemm/M (dense f32 packed GEMM).
//
//   BM_NMGemv/bits/T/i8      M = 1; bits 0: fp32 kept values, 4: 4-bit codes, symmetric, group
//                            128 kept values; i8 = 1: int8 activations (sparq_uk_nmqgemm_i8_f32,
//                            next to BM_QGemvI8/4/T/0). WeightGBs: value/code + index + scale
//                            bytes.
//   BM_NMGemm/bits/M/T       M = 16, 128: GFLOPs counted as the dense 2 M N K per call (so that
//                            the figure compares with BM_Sgemm's: skipped multiplications show
//                            up as a higher rate).
//===----------------------------------------------------------------------===//

struct NMWeights {
  static constexpr int64_t kept = kK / 2, group = 128, groups = kept / group;
  int64_t bits, idxRow = kept / 4, codeRow;
  std::vector<uint8_t> idx, codes;
  std::vector<float> vals, scales;
  explicit NMWeights(int64_t b) : bits(b), codeRow(b ? kept * b / 8 : 0) {
    std::mt19937 rng(uint32_t(7 + b));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f), su(0.01f, 0.1f);
    std::uniform_int_distribution<int> pair(0, 5), byte(0, 255);
    // Each 2:4 group keeps one of the 6 position pairs (increasing), 2-bit codes LSB first.
    static const uint8_t pairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
    idx.assign(size_t(kN * idxRow), 0);
    for (int64_t n = 0; n < kN; ++n)
      for (int64_t g = 0; g < kK / 4; ++g) {
        const uint8_t *pp = pairs[pair(rng)];
        for (int t = 0; t < 2; ++t) {
          int64_t bit = (g * 2 + t) * 2;
          idx[size_t(n * idxRow + bit / 8)] |= uint8_t(pp[t] << (bit % 8));
        }
      }
    if (bits == 0) {
      vals.resize(size_t(kN * kept));
      for (float &v : vals)
        v = u(rng);
    } else {
      codes.resize(size_t(kN * codeRow));
      for (uint8_t &c : codes)
        c = uint8_t(byte(rng));
      scales.resize(size_t(kN * groups));
      for (float &x : scales)
        x = su(rng);
    }
  }
  double bytesPerCall() const {
    return double(kN) * (double(idxRow) + (bits ? double(codeRow) + 4.0 * groups : 4.0 * kept));
  }
};

NMWeights &nmweights(int64_t bits) {
  static std::map<int64_t, std::unique_ptr<NMWeights>> cache;
  auto &w = cache[bits];
  if (!w)
    w = std::make_unique<NMWeights>(bits);
  return *w;
}

void runNM(const NMWeights &w, int64_t M, int32_t threads, bool i8 = false) {
  Operands &ops = operands();
  const intptr_t C = reinterpret_cast<intptr_t>(ops.C.data()),
                 A = reinterpret_cast<intptr_t>(ops.A.data()),
                 I = reinterpret_cast<intptr_t>(w.idx.data());
  if (w.bits == 0) {
    auto fn = threads > 1 ? sparq_uk_nmgemm_f32_mt : sparq_uk_nmgemm_f32;
    fn(C, kN, A, kK, I, w.idxRow, reinterpret_cast<intptr_t>(w.vals.data()), w.kept, 2, 4, M,
       kN, kK, 0);
  } else {
    auto fn = i8 ? (threads > 1 ? sparq_uk_nmqgemm_i8_f32_mt : sparq_uk_nmqgemm_i8_f32)
                 : (threads > 1 ? sparq_uk_nmqgemm_f32_mt : sparq_uk_nmqgemm_f32);
    fn(C, kN, A, kK, I, w.idxRow, reinterpret_cast<intptr_t>(w.codes.data()), w.codeRow,
       reinterpret_cast<intptr_t>(w.scales.data()), 0, w.groups, w.bits, w.group, 2, 4, M, kN,
       kK, 0);
  }
}

void BM_NMGemv(benchmark::State &state) {
  const NMWeights &w = nmweights(state.range(0));
  const int32_t threads = int32_t(state.range(1));
  const bool i8 = state.range(2) != 0;
  if (i8 && w.bits == 0)
    return state.SkipWithError("int8 activations need quantized kept values");
  if (SPARQ_KERNELS_BENCH_VLEN == 16 && i8 &&
      (!__builtin_cpu_supports("avx512vbmi") || !__builtin_cpu_supports("avx512vnni")))
    return state.SkipWithError("the int8 N:M kernel needs AVX-512 VBMI and VNNI");
  sparq_uk_set_num_threads(threads);
  for (auto _ : state) {
    runNM(w, 1, threads, i8);
    benchmark::ClobberMemory();
  }
  state.counters["WeightGBs"] = benchmark::Counter(w.bytesPerCall() * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_NMGemv)
    ->ArgNames({"bits", "T", "i8"})
    ->ArgsProduct({{0, 4}, {1, 2}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_NMGemm(benchmark::State &state) {
  const NMWeights &w = nmweights(state.range(0));
  const int64_t M = state.range(1);
  const int32_t threads = int32_t(state.range(2));
  sparq_uk_set_num_threads(threads);
  for (auto _ : state) {
    runNM(w, M, threads);
    benchmark::ClobberMemory();
  }
  setCounters(state, M);
  state.counters.erase("WeightGBs");
}
BENCHMARK(BM_NMGemm)
    ->ArgNames({"bits", "M", "T"})
    ->ArgsProduct({{0, 4}, {16, 128}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

//===----------------------------------------------------------------------===//
// Convolutions (sparq_uk_conv2d_nchw_packed_f32), one thread, one image, filter packed in row
// tiles (packRowTiles), input already padded, bias and ReLU epilogue as the compiler calls it.
//
//   BM_Conv/F/C/HW/KS        F output channels, C input channels, HW x HW output pixels, KS x KS
//                            filter (stride 1, pad KS/2): GFLOPs = 2 F C KS^2 HW^2 per call.
//                            The ResNet/MobileNet shapes of the benchmark models.
//===----------------------------------------------------------------------===//

void BM_Conv(benchmark::State &state) {
  const int64_t F = state.range(0), C = state.range(1), HW = state.range(2), KS = state.range(3);
  const int64_t pad = KS / 2, IH = HW + 2 * pad, K = C * KS * KS;
  const int64_t mr = sparq::formats::tileRowsFor(kVlen);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> in(size_t(C * IH * IH)), w(size_t(F * K)), bias(static_cast<size_t>(F)),
      out(size_t(F * HW * HW));
  for (float &x : in)
    x = u(rng);
  for (float &x : w)
    x = u(rng);
  for (float &x : bias)
    x = u(rng);
  std::vector<float> wp(size_t(sparq::formats::panelCount(F, mr) * mr * K));
  sparq::formats::packRowTiles<float>(F, K, mr, [&](int64_t f, int64_t k) { return w[f * K + k]; },
                                      wp.data());
  for (auto _ : state) {
    sparq_uk_conv2d_nchw_packed_f32(reinterpret_cast<intptr_t>(out.data()), F * HW * HW,
                                    HW * HW, HW, reinterpret_cast<intptr_t>(in.data()),
                                    C * IH * IH, IH * IH, IH,
                                    reinterpret_cast<intptr_t>(wp.data()), 1, F, C, KS, KS, HW,
                                    HW, 1, 1, 1, 1, reinterpret_cast<intptr_t>(bias.data()),
                                    SPARQ_UK_BIAS | SPARQ_UK_RELU);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * double(F * K * HW * HW) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Conv)
    ->ArgNames({"F", "C", "HW", "KS"})
    ->Args({256, 64, 56, 1})
    ->Args({64, 256, 56, 1})
    ->Args({64, 64, 56, 1})
    ->Args({64, 64, 56, 3})
    ->Args({128, 32, 28, 1})
    ->Args({32, 128, 28, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

/// A 1-D convolution (a 2-D one of height 1) with a stride: the front end of a speech encoder
/// (Moonshine tiny's conv2 and conv3), F filters over C channels, OW outputs, width KW, stride SW.
void BM_Conv1d(benchmark::State &state) {
  const int64_t F = state.range(0), C = state.range(1), OW = state.range(2), KW = state.range(3),
                SW = state.range(4);
  const int64_t IW = (OW - 1) * SW + KW, K = C * KW;
  const int64_t mr = sparq::formats::tileRowsFor(kVlen);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> in(size_t(C * IW)), w(size_t(F * K)), out(size_t(F * OW));
  for (float &x : in)
    x = u(rng);
  for (float &x : w)
    x = u(rng);
  std::vector<float> wp(size_t(sparq::formats::panelCount(F, mr) * mr * K));
  sparq::formats::packRowTiles<float>(F, K, mr, [&](int64_t f, int64_t k) { return w[f * K + k]; },
                                      wp.data());
  for (auto _ : state) {
    sparq_uk_conv2d_nchw_packed_f32(reinterpret_cast<intptr_t>(out.data()), F * OW, OW, OW,
                                    reinterpret_cast<intptr_t>(in.data()), C * IW, IW, IW,
                                    reinterpret_cast<intptr_t>(wp.data()), 1, F, C, 1, KW, 1, OW,
                                    1, SW, 1, 1, 0, 0);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * double(F * K * OW) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Conv1d)
    ->ArgNames({"F", "C", "OW", "KW", "SW"})
    ->Args({576, 288, 83, 7, 3})
    ->Args({288, 576, 41, 3, 2})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

} // namespace

int main(int argc, char **argv) {
  if (const char *isa = missingIsa()) {
    std::fprintf(stderr, "%s: the host CPU lacks %s; nothing to measure for the v%d kernels\n",
                 argv[0], isa, kVlen);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::AddCustomContext("kernel_variant", "v" + std::to_string(kVlen));
  benchmark::AddCustomContext("panel_width", std::to_string(sparq_uk_panel_width_f32()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
