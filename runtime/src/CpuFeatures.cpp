//===- runtime/src/CpuFeatures.cpp - what the running CPU supports -------------===//
//
// Reads CPUID (and XCR0 for the AVX / AVX-512 / AMX register state the OS saves) so that the
// runtime can refuse an artifact compiled for features this machine lacks (sparq-compile --cpu)
// with a clear error instead of dying on an illegal instruction.
//
//===----------------------------------------------------------------------===//
#include "CpuFeatures.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace sparq::runtime {
namespace {

enum Reg { EAX, EBX, ECX, EDX };
enum State { NONE, YMM, ZMM, TILE };

struct Feature {
  const char *name;
  unsigned leaf, subleaf;
  Reg reg;
  unsigned bit;
  State state;
};

constexpr Feature kFeatures[] = {
    {"sse3", 1, 0, ECX, 0, NONE},         {"ssse3", 1, 0, ECX, 9, NONE},
    {"fma", 1, 0, ECX, 12, YMM},          {"sse4.1", 1, 0, ECX, 19, NONE},
    {"sse4.2", 1, 0, ECX, 20, NONE},      {"popcnt", 1, 0, ECX, 23, NONE},
    {"avx", 1, 0, ECX, 28, YMM},          {"f16c", 1, 0, ECX, 29, YMM},
    {"bmi", 7, 0, EBX, 3, NONE},          {"avx2", 7, 0, EBX, 5, YMM},
    {"bmi2", 7, 0, EBX, 8, NONE},         {"avx512f", 7, 0, EBX, 16, ZMM},
    {"avx512dq", 7, 0, EBX, 17, ZMM},     {"avx512ifma", 7, 0, EBX, 21, ZMM},
    {"avx512cd", 7, 0, EBX, 28, ZMM},     {"avx512bw", 7, 0, EBX, 30, ZMM},
    {"avx512vl", 7, 0, EBX, 31, ZMM},     {"avx512vbmi", 7, 0, ECX, 1, ZMM},
    {"avx512vnni", 7, 0, ECX, 11, ZMM},   {"avx512fp16", 7, 0, EDX, 23, ZMM},
    {"avxvnni", 7, 1, EAX, 4, YMM},       {"avx512bf16", 7, 1, EAX, 5, ZMM},
    {"amx-bf16", 7, 0, EDX, 22, TILE},    {"amx-tile", 7, 0, EDX, 24, TILE},
    {"amx-int8", 7, 0, EDX, 25, TILE},
};

bool disabledByEnvironment(const std::string &name) {
  const char *list = std::getenv("SPARQ_CPU_DISABLE");
  if (!list)
    return false;
  std::string s(list);
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos)
      comma = s.size();
    if (s.compare(start, comma - start, name) == 0 && comma - start == name.size())
      return true;
    start = comma + 1;
  }
  return false;
}

#if defined(__x86_64__) || defined(__i386__)
bool stateEnabled(State state) {
  if (state == NONE)
    return true;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) // OSXSAVE
    return false;
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  uint64_t xcr0 = (uint64_t(hi) << 32) | lo;
  uint64_t need = 0x6; // SSE + AVX (ymm) state
  if (state == ZMM)
    need |= 0xe0; // opmask, upper zmm, hi16 zmm
  if (state == TILE)
    need = 0x60000; // tile config + tile data
  return (xcr0 & need) == need;
}
#endif

} // namespace

int cpuHasFeature(const std::string &name) {
  for (const Feature &f : kFeatures) {
    if (name != f.name)
      continue;
    if (disabledByEnvironment(name))
      return 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(f.leaf, f.subleaf, &r[EAX], &r[EBX], &r[ECX], &r[EDX]))
      return 0;
    return (r[f.reg] & (1u << f.bit)) && stateEnabled(f.state) ? 1 : 0;
#else
    return 0;
#endif
  }
  return -1;
}

std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required) {
  std::vector<std::string> missing;
  for (const std::string &f : required)
    if (cpuHasFeature(f) == 0)
      missing.push_back(f);
  return missing;
}

} // namespace sparq::runtime
