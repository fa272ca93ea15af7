//===- runtime/kernels/Parallel.cpp - the artifact's thread pool ----------------===//
//
// MLIR lowers parallel loops through the OpenMP dialect to calls of LLVM's OpenMP runtime ABI
// (`__kmpc_fork_call`, `__kmpc_for_static_init_*`, `__kmpc_barrier`, ...). This file implements
// exactly the subset those lowerings emit, on a small persistent pool, and is linked into every
// artifact: artifacts need nothing at run time but libc and libm (no libomp), and the pool's
// dispatch cost is ours to control (workers spin briefly before sleeping on a futex).
//
// Model: one pool per artifact, `threads - 1` workers plus the calling thread. A parallel region
// runs its outlined function once per team member; nested regions and regions entered while the
// pool is busy run serially on the calling thread. All symbols have hidden visibility in the
// artifact (the compiler internalizes them), so a real libomp in the same process is unaffected.
// Linux-only (futex).
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <type_traits>

namespace {

constexpr int kMaxThreads = 256;
constexpr int kMaxArgs = 16;
/// Polls of a shared word before a waiting thread sleeps (213 us on this project's Xeon hosts,
/// where a pause takes ~13 ns; docs/codegen.md "Threads").
constexpr int kSpins = 1 << 14;

typedef void (*Microtask)(int32_t *, int32_t *, ...);

struct Pool {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  int32_t desired = 0; ///< threads per region (0: every CPU the process may run on)
  int32_t workers = 0; ///< started worker threads
  pthread_t threads[kMaxThreads];
  // The current job, written by the forking thread before `generation` is bumped.
  Microtask fn = nullptr;
  int32_t argc = 0;
  void *args[kMaxArgs];
  uint32_t generation = 0; ///< futex word: bumped to start a job
  uint32_t spawnGeneration = 0; ///< `generation` when the current workers were started
  uint32_t remaining = 0;  ///< futex word: workers still running the job
  uint32_t busy = 0;       ///< a region is running on the pool
  uint32_t stop = 0;
  // Team barrier.
  uint32_t barrierCount = 0;
  uint32_t barrierGeneration = 0; ///< futex word
};

Pool pool;

thread_local int32_t tlsTid = 0;  ///< id in the current team
thread_local int32_t tlsTeam = 1; ///< size of the current team


long futex(uint32_t *word, int op, uint32_t value) {
  return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, value, nullptr, nullptr, 0);
}

uint32_t loadAcquire(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

/// Waits until *word != value: spins, then sleeps on the futex.
void waitWhileEqual(uint32_t *word, uint32_t value) {
  for (int i = 0; i < kSpins; ++i) {
    if (loadAcquire(word) != value)
      return;
    __builtin_ia32_pause();
  }
  while (loadAcquire(word) == value)
    futex(word, FUTEX_WAIT, value);
}

void wakeAll(uint32_t *word) { futex(word, FUTEX_WAKE, 0x7fffffff); }

/// The OpenMP ABI calls each outlined region through the variadic kmpc_micro type, whatever
/// its real prototype: UBSan's -fsanitize=function reports that by design, so not here.
__attribute__((no_sanitize("function"))) void invoke(Microtask fn, int32_t argc, void **a,
                                                     int32_t tid) {
  int32_t gtid = tid, btid = tid;
  switch (argc) {
  case 0: fn(&gtid, &btid); break;
  case 1: fn(&gtid, &btid, a[0]); break;
  case 2: fn(&gtid, &btid, a[0], a[1]); break;
  case 3: fn(&gtid, &btid, a[0], a[1], a[2]); break;
  case 4: fn(&gtid, &btid, a[0], a[1], a[2], a[3]); break;
  case 5: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4]); break;
  case 6: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5]); break;
  case 7: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
  case 8: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
  default:
    // The MLIR OpenMP lowering passes one aggregate argument; more than 8 is a compiler bug.
    __builtin_trap();
  }
}

void *workerMain(void *arg) {
  int32_t tid = static_cast<int32_t>(reinterpret_cast<intptr_t>(arg));
  // Not the current value: the first job may have been posted before this thread ran.
  uint32_t seen = loadAcquire(&pool.spawnGeneration);
  for (;;) {
    waitWhileEqual(&pool.generation, seen);
    seen = loadAcquire(&pool.generation);
    if (loadAcquire(&pool.stop))
      return nullptr;
    tlsTid = tid;
    tlsTeam = pool.workers + 1;
    invoke(pool.fn, pool.argc, pool.args, tid);
    tlsTid = 0;
    tlsTeam = 1;
    if (__atomic_sub_fetch(&pool.remaining, 1, __ATOMIC_ACQ_REL) == 0)
      wakeAll(&pool.remaining);
  }
}

int32_t defaultThreads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int32_t>(n) : 1;
}

void stopWorkers() {
  if (pool.workers == 0)
    return;
  __atomic_store_n(&pool.stop, 1, __ATOMIC_RELEASE);
  __atomic_add_fetch(&pool.generation, 1, __ATOMIC_ACQ_REL);
  wakeAll(&pool.generation);
  for (int32_t i = 0; i < pool.workers; ++i)
    pthread_join(pool.threads[i], nullptr);
  pool.workers = 0;
  __atomic_store_n(&pool.stop, 0, __ATOMIC_RELEASE);
}

/// Starts desired - 1 workers (under pool.lock, with no region running). Returns the team size.
int32_t ensureWorkers() {
  int32_t want = pool.desired > 0 ? pool.desired : defaultThreads();
  if (want > kMaxThreads)
    want = kMaxThreads;
  if (pool.workers == want - 1)
    return want;
  stopWorkers();
  __atomic_store_n(&pool.spawnGeneration, loadAcquire(&pool.generation), __ATOMIC_RELEASE);
  // Kernels keep their packing buffers on the stack (up to a few hundred KiB): give workers a
  // stack as large as a main thread's, whatever the process default is.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t(8) << 20);
  for (int32_t i = 0; i < want - 1; ++i) {
    if (pthread_create(&pool.threads[i], &attr, workerMain,
                       reinterpret_cast<void *>(static_cast<intptr_t>(i + 1))) != 0)
      break;
    pool.workers = i + 1;
  }
  pthread_attr_destroy(&attr);
  return pool.workers + 1;
}

__attribute__((destructor)) void shutdownPool() {
  pthread_mutex_lock(&pool.lock);
  stopWorkers();
  pthread_mutex_unlock(&pool.lock);
}

/// Static schedule for one team member: `schedule` 34 (balanced blocks) or 33 (round-robin
/// chunks of `chunk` iterations), the two kinds the OpenMP lowering emits.
template <typename T, typename S>
void staticInit(int32_t schedule, int32_t *lastIter, T *lower, T *upper, S *stride, S incr,
                S chunk) {
  int32_t tid = tlsTid, team = tlsTeam;
  T lb = *lower, ub = *upper;
  if (incr == 0)
    __builtin_trap();
  // Trip count as libomp computes it: for unsigned loop variables in the variable's own type,
  // so an empty loop (upper = lower - 1, wrapped) has zero trips.
  uint64_t trips;
  if constexpr (std::is_unsigned_v<T>) {
    T span = incr > 0 ? T(ub - lb) : T(lb - ub);
    T step = incr > 0 ? T(incr) : T(-incr);
    trips = T(span / step + T(1));
  } else {
    trips = incr > 0 ? (ub < lb ? 0 : uint64_t(ub - lb) / uint64_t(incr) + 1)
                     : (lb < ub ? 0 : uint64_t(lb - ub) / uint64_t(-incr) + 1);
  }
  if (schedule == 33 && chunk > 0) {
    *lower = lb + T(tid) * T(chunk) * T(incr);
    *upper = *lower + T(chunk - 1) * T(incr);
    *stride = S(team) * chunk * incr;
    uint64_t lastChunk = trips == 0 ? 0 : (trips - 1) / uint64_t(chunk);
    if (lastIter)
      *lastIter = trips > 0 && int64_t(lastChunk % uint64_t(team)) == tid;
    return;
  }
  uint64_t small = trips / uint64_t(team), extra = trips % uint64_t(team);
  uint64_t first = uint64_t(tid) * small + (uint64_t(tid) < extra ? uint64_t(tid) : extra);
  uint64_t count = small + (uint64_t(tid) < extra ? 1 : 0);
  *lower = lb + T(first) * T(incr);
  *upper = *lower + T(count) * T(incr) - T(incr); // count 0: upper = lower - incr (no trips)
  *stride = S(trips) * incr;
  if (lastIter)
    *lastIter = count > 0 && first + count == trips;
}

} // namespace

extern "C" {

void sparq_uk_set_num_threads(int32_t n) {
  if (n < 1)
    n = 1;
  if (n > kMaxThreads)
    n = kMaxThreads;
  pthread_mutex_lock(&pool.lock);
  pool.desired = n;
  pthread_mutex_unlock(&pool.lock);
}

int32_t sparq_uk_get_num_threads(void) {
  int32_t n = __atomic_load_n(&pool.desired, __ATOMIC_RELAXED);
  return n > 0 ? n : defaultThreads();
}

struct ident_t;

int32_t __kmpc_global_thread_num(ident_t *) { return tlsTid; }

void __kmpc_fork_call(ident_t *, int32_t argc, Microtask fn, ...) {
  void *args[kMaxArgs];
  if (argc > kMaxArgs)
    __builtin_trap();
  va_list ap;
  va_start(ap, fn);
  for (int32_t i = 0; i < argc; ++i)
    args[i] = va_arg(ap, void *);
  va_end(ap);

  // Nested regions, and regions started by a second application thread while the pool is busy,
  // run on the calling thread alone.
  if (tlsTeam > 1 || __atomic_exchange_n(&pool.busy, 1, __ATOMIC_ACQUIRE)) {
    int32_t savedTid = tlsTid, savedTeam = tlsTeam;
    tlsTid = 0;
    tlsTeam = 1;
    invoke(fn, argc, args, 0);
    tlsTid = savedTid;
    tlsTeam = savedTeam;
    return;
  }
  pthread_mutex_lock(&pool.lock);
  int32_t team = ensureWorkers();
  pthread_mutex_unlock(&pool.lock);
  if (team > 1) {
    pool.fn = fn;
    pool.argc = argc;
    for (int32_t i = 0; i < argc; ++i)
      pool.args[i] = args[i];
    __atomic_store_n(&pool.remaining, uint32_t(team - 1), __ATOMIC_RELAXED);
    __atomic_add_fetch(&pool.generation, 1, __ATOMIC_ACQ_REL);
    wakeAll(&pool.generation);
  }
  tlsTid = 0;
  tlsTeam = team;
  invoke(fn, argc, args, 0);
  tlsTeam = 1;
  for (uint32_t left; (left = loadAcquire(&pool.remaining)) != 0;)
    waitWhileEqual(&pool.remaining, left);
  __atomic_store_n(&pool.busy, 0, __ATOMIC_RELEASE);
}

void __kmpc_barrier(ident_t *, int32_t) {
  int32_t team = tlsTeam;
  if (team <= 1)
    return;
  uint32_t gen = loadAcquire(&pool.barrierGeneration);
  if (__atomic_add_fetch(&pool.barrierCount, 1, __ATOMIC_ACQ_REL) == uint32_t(team)) {
    __atomic_store_n(&pool.barrierCount, 0, __ATOMIC_RELAXED);
    __atomic_add_fetch(&pool.barrierGeneration, 1, __ATOMIC_ACQ_REL);
    wakeAll(&pool.barrierGeneration);
    return;
  }
  waitWhileEqual(&pool.barrierGeneration, gen);
}

void __kmpc_for_static_init_4(ident_t *, int32_t, int32_t s, int32_t *last, int32_t *lo,
                              int32_t *hi, int32_t *st, int32_t inc, int32_t ch) {
  staticInit<int32_t, int32_t>(s, last, lo, hi, st, inc, ch);
}
void __kmpc_for_static_init_4u(ident_t *, int32_t, int32_t s, int32_t *last, uint32_t *lo,
                               uint32_t *hi, int32_t *st, int32_t inc, int32_t ch) {
  staticInit<uint32_t, int32_t>(s, last, lo, hi, st, inc, ch);
}
void __kmpc_for_static_init_8(ident_t *, int32_t, int32_t s, int32_t *last, int64_t *lo,
                              int64_t *hi, int64_t *st, int64_t inc, int64_t ch) {
  staticInit<int64_t, int64_t>(s, last, lo, hi, st, inc, ch);
}
void __kmpc_for_static_init_8u(ident_t *, int32_t, int32_t s, int32_t *last, uint64_t *lo,
                               uint64_t *hi, int64_t *st, int64_t inc, int64_t ch) {
  staticInit<uint64_t, int64_t>(s, last, lo, hi, st, inc, ch);
}
void __kmpc_for_static_fini(ident_t *, int32_t) {}

namespace {
void parallelTrampoline(int32_t *gtid, int32_t *, void (*fn)(void *, int32_t, int32_t),
                        void *ctx) {
  fn(ctx, *gtid, tlsTeam);
}
} // namespace

void sparq_uk_parallel(void (*fn)(void *ctx, int32_t tid, int32_t team), void *ctx) {
  __kmpc_fork_call(nullptr, 2, reinterpret_cast<Microtask>(parallelTrampoline),
                   reinterpret_cast<void *>(fn), ctx);
}

void sparq_uk_parallel_chunks(void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx,
                              int64_t n, int64_t chunk) {
  struct Job {
    void (*fn)(void *, int64_t, int64_t);
    void *ctx;
    int64_t n, chunk, next;
  } job{fn, ctx, n, chunk < 1 ? 1 : chunk, 0};
  sparq_uk_parallel(
      [](void *p, int32_t, int32_t) {
        Job &j = *static_cast<Job *>(p);
        for (;;) {
          const int64_t b = __atomic_fetch_add(&j.next, j.chunk, __ATOMIC_RELAXED);
          if (b >= j.n)
            return;
          j.fn(j.ctx, b, b + j.chunk < j.n ? b + j.chunk : j.n);
        }
      },
      &job);
}

/// The OpenMP API call the artifact's thread-count entry point used to make.
void omp_set_num_threads(int32_t n) { sparq_uk_set_num_threads(n); }

} // extern "C"
