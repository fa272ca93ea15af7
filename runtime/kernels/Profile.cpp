//===- runtime/kernels/Profile.cpp - kernel timers of a profiled artifact -------===//
//
// Linked only into artifacts compiled with `sparq-compile --profile` (the only ones that call
// these functions). The entry function brackets each kernel with sparq_uk_profile_begin(id) and
// sparq_uk_profile_end(id); kernels follow each other on the invoking thread, so the start time
// is per thread and the totals are atomic (concurrent invocations of one artifact add up).
//
//===----------------------------------------------------------------------===//
#include "sparq/Formats/KernelProfile.h"
#include "sparq/Kernels/UKernels.h"

#include <time.h>

namespace {

constexpr int64_t kMax = sparq::profile::kMaxKernels;

struct Counter {
  int64_t nanoseconds;
  int64_t calls;
};

Counter counters[kMax];
thread_local int64_t started;

int64_t now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

} // namespace

extern "C" {

void sparq_uk_profile_begin(int32_t id) {
  (void)id;
  started = now();
}

void sparq_uk_profile_end(int32_t id) {
  int64_t elapsed = now() - started;
  if (id < 0 || id >= kMax)
    return;
  __atomic_add_fetch(&counters[id].nanoseconds, elapsed, __ATOMIC_RELAXED);
  __atomic_add_fetch(&counters[id].calls, 1, __ATOMIC_RELAXED);
}

void sparq_uk_profile_read(int64_t *out, int64_t count, int32_t reset) {
  for (int64_t i = 0; i < count && i < kMax; ++i) {
    if (reset) {
      out[2 * i] = __atomic_exchange_n(&counters[i].nanoseconds, 0, __ATOMIC_RELAXED);
      out[2 * i + 1] = __atomic_exchange_n(&counters[i].calls, 0, __ATOMIC_RELAXED);
    } else {
      out[2 * i] = __atomic_load_n(&counters[i].nanoseconds, __ATOMIC_RELAXED);
      out[2 * i + 1] = __atomic_load_n(&counters[i].calls, __ATOMIC_RELAXED);
    }
  }
}

} // extern "C"
