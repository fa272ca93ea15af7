//===- tools/sparq-run/Roofline.cpp - this machine's peak FMA rate and bandwidth ------===//
//
// The roofline `sparq-run --profile` judges kernels against, measured by sparq-run itself and
// cached per machine (docs/profile.md):
//  - peak float32 FMA rate: each thread runs 16 independent chains acc = acc * a + b on the
//    widest vectors the CPU has (AVX-512, else AVX2+FMA, else SSE multiply and add), enough
//    chains to hide the FMA latency, so the loop is bound by FMA throughput;
//  - read bandwidth: each thread sums its own slice of a buffer (first touched by that thread)
//    as four interleaved streams of 64-byte vectors; of DRAM with a 2 GiB buffer (larger than
//    any last-level cache of these machines), of the caches with 16 MiB.
// Each figure is the best of several repetitions, timed from the first thread's start to the
// last thread's end.
//
//===----------------------------------------------------------------------===//
#include "tools/sparq-run/Roofline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sparq::run {
namespace {

constexpr int kChains = 16;

using Clock = std::chrono::steady_clock;

/// Runs body(t) on `threads` threads started together; returns the seconds from the start to
/// the last one's end.
double timeThreads(int threads, const std::function<void(int)> &body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      body(t);
    });
  while (ready.load() != threads) {
  }
  Clock::time_point start = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread &thread : pool)
    thread.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// kChains independent chains acc = acc * a + b on vectors of `Lanes` floats, summed at the end;
/// inlined into a function built for the ISA, where each step is one fused multiply-add if the
/// ISA has them (clang contracts a * b + c within an expression).
template <int Lanes>
[[gnu::always_inline]] inline float fmaChains(long iterations) {
  typedef float V __attribute__((vector_size(Lanes * sizeof(float))));
  V acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = V{} + float(c);
  V a = V{} + 0.999999f, b = V{} + 1e-7f;
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c)
      acc[c] = acc[c] * a + b;
  V sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum += acc[c];
  float total = 0;
  for (int j = 0; j < Lanes; ++j)
    total += sum[j];
  return total;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float fmaLoopAvx512(long iterations) {
  return fmaChains<16>(iterations);
}
__attribute__((target("avx2,fma"))) float fmaLoopAvx2(long iterations) {
  return fmaChains<8>(iterations);
}
#endif

/// The baseline ISA's 4-float vectors (multiply and add).
float fmaLoopPlain(long iterations) { return fmaChains<4>(iterations); }

/// Flops of one iteration of the loop the CPU runs, and the loop.
std::pair<double, float (*)(long)> fmaKernel(std::string &isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    isa = "avx512";
    return {2.0 * 16 * kChains, fmaLoopAvx512};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    isa = "avx2";
    return {2.0 * 8 * kChains, fmaLoopAvx2};
  }
#endif
  isa = "scalar";
  return {2.0 * 4 * kChains, fmaLoopPlain};
}

/// Results land here so that the compiler keeps the loops (a volatile store is never dropped).
volatile float sink = 0;

double measurePeak(int threads, std::string &isa) {
  std::pair<double, float (*)(long)> kernel = fmaKernel(isa);
  double flopsPerIteration = kernel.first;
  float (*loop)(long) = kernel.second;
  const long iterations = 20'000'000;
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep)
    best = std::min(best, timeThreads(threads, [&](int) {
                      sink = loop(iterations);
                    }));
  return flopsPerIteration * double(iterations) * threads / best * 1e-9;
}

typedef float Vec __attribute__((vector_size(64), aligned(64)));

/// Sum of `count` 64-byte vectors: four interleaved streams with software prefetch, built for
/// the widest vectors the CPU has (resolved at load time).
__attribute__((target_clones("avx512f", "avx2", "default"))) float readSum(const Vec *data,
                                                                           size_t count) {
  constexpr size_t kPrefetch = 32; // vectors ahead
  Vec s0 = {}, s1 = {}, s2 = {}, s3 = {};
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    __builtin_prefetch(data + i + kPrefetch);
    __builtin_prefetch(data + i + kPrefetch + 2);
    s0 += data[i];
    s1 += data[i + 1];
    s2 += data[i + 2];
    s3 += data[i + 3];
  }
  for (; i < count; ++i)
    s0 += data[i];
  Vec s = s0 + s1 + s2 + s3;
  float total = 0;
  for (int j = 0; j < 16; ++j)
    total += s[j];
  return total;
}

/// GB/s reading `mib` MiB with `threads` threads, best of `reps`.
double measureBandwidth(int threads, size_t mib, int reps) {
  size_t count = (mib << 20) / sizeof(Vec);
  std::unique_ptr<Vec[]> buffer(new Vec[count]);
  auto slice = [&](int t) {
    return std::make_pair(count * t / threads, count * (t + 1) / threads);
  };
  timeThreads(threads, [&](int t) { // first touch: each thread's pages near it
    auto [begin, end] = slice(t);
    for (size_t i = begin; i < end; ++i)
      for (int j = 0; j < 16; ++j)
        buffer[i][j] = float((i + j) & 7);
  });
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep)
    best = std::min(best, timeThreads(threads, [&](int t) {
                      auto [begin, end] = slice(t);
                      sink = readSum(buffer.get() + begin, end - begin);
                    }));
  return double(count * sizeof(Vec)) / best * 1e-9;
}

std::string cpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(colon + 1);
        name.erase(0, name.find_first_not_of(' '));
        return name;
      }
    }
  return "unknown CPU";
}

} // namespace

bool loadRoofline(const std::string &path, int threads, Roofline &out) {
  std::string cpu = cpuName();
  std::ifstream in(path);
  if (!in)
    return false;
  std::string line, magic;
  std::getline(in, magic);
  if (magic != kRooflineMagic)
    return false;
  Roofline r;
  bool cpuMatches = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    std::string rest;
    std::getline(fields, rest);
    rest.erase(0, rest.find_first_not_of(' '));
    if (key == "cpu")
      cpuMatches = rest == cpu;
    else if (key == "threads")
      r.threads = std::atoi(rest.c_str());
    else if (key == "isa")
      r.isa = rest;
    else if (key == "peak_gflops")
      r.peakGflops = std::atof(rest.c_str());
    else if (key == "dram_gbs")
      r.dramGBs = std::atof(rest.c_str());
    else if (key == "cache_gbs")
      r.cacheGBs = std::atof(rest.c_str());
  }
  if (!cpuMatches || r.threads != threads || !(r.peakGflops > 0) || !(r.dramGBs > 0) ||
      !(r.cacheGBs > 0))
    return false;
  r.cpu = cpu;
  out = r;
  return true;
}

std::string defaultRooflinePath(int threads) {
  std::string dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    dir = xdg;
  else if (const char *home = std::getenv("HOME"); home && *home)
    dir = std::string(home) + "/.cache";
  else
    dir = "/tmp";
  return dir + "/sparq/roofline-" + std::to_string(threads) + "-threads.txt";
}

Roofline measureRoofline(int threads) {
  Roofline r;
  r.cpu = cpuName();
  r.threads = threads;
  r.peakGflops = measurePeak(threads, r.isa);
  r.dramGBs = measureBandwidth(threads, 2048, 3);
  r.cacheGBs = measureBandwidth(threads, 16, 20);
  return r;
}

std::string formatRoofline(const Roofline &r) {
  char text[512];
  std::snprintf(text, sizeof text,
                "%s\ncpu %s\nthreads %d\nisa %s\npeak_gflops %.2f\ndram_gbs %.2f\ncache_gbs %.2f\n",
                kRooflineMagic, r.cpu.c_str(), r.threads, r.isa.c_str(), r.peakGflops, r.dramGBs,
                r.cacheGBs);
  return text;
}

} // namespace sparq::run
