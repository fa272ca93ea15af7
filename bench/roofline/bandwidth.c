// DRAM read bandwidth for bench/run.sh (see docs/bench.md).
//
// usage: bandwidth [THREADS] [MIB] [REPS]     (defaults 1, 2048, 5)
//
// Allocates MIB MiB of floats (default 2 GiB: several times any last-level cache, including
// the 480 MiB L3 this kind of VM reports), each thread first-touches and then repeatedly
// sum-reduces its own contiguous slice, read as 4 interleaved streams of 64-byte vectors with
// software prefetch (the fastest simple loop found; see docs/bench.md).
// One repetition is timed from a barrier before the first read to a barrier after the last;
// the best repetition is reported, as the sustained read bandwidth the hardware can deliver:
//   bandwidth: X GB/s (T threads, M MiB, R reps)
// GB is 1e9 bytes. Build: clang-22 -O3 -march=native -pthread bandwidth.c -o bandwidth
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef float vec __attribute__((vector_size(64), aligned(64)));
enum { STREAMS = 4, PREFETCH = 32 };

static size_t nvec;  // 64-byte vectors in the buffer
static vec *buffer;
static int nthreads, reps;
static pthread_barrier_t barrier;
static double best = 1e30;
static volatile float sink;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *worker(void *arg) {
  int id = (int)(long)arg;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(id % ncpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);

  size_t begin = nvec * id / nthreads, end = nvec * (id + 1) / nthreads;
  for (size_t i = begin; i < end; ++i)  // first touch: pages land near this thread
    for (int j = 0; j < 16; ++j)
      buffer[i][j] = (float)((i + j) & 7);

  vec total = {0};
  for (int r = 0; r < reps; ++r) {
    pthread_barrier_wait(&barrier);
    double start = now();
    // STREAMS interleaved sequential streams, each with its own accumulator and a software
    // prefetch PREFETCH vectors ahead: one stream per core leaves bandwidth unused (too few
    // misses in flight for the hardware prefetcher), several do not.
    size_t len = (end - begin) / STREAMS;
    vec acc[STREAMS] = {{0}};
    for (size_t i = 0; i < len; ++i) {
#pragma clang loop unroll(full)
      for (int s = 0; s < STREAMS; ++s) {
        const vec *p = buffer + begin + s * len + i;
        __builtin_prefetch(p + PREFETCH);
        acc[s] += *p;
      }
    }
    for (size_t i = begin + STREAMS * len; i < end; ++i)
      acc[0] += buffer[i];
    for (int s = 0; s < STREAMS; ++s)
      total += acc[s];
    pthread_barrier_wait(&barrier);
    double seconds = now() - start;
    if (id == 0 && seconds < best)
      best = seconds;
  }
  float s = 0;
  for (int j = 0; j < 16; ++j)
    s += total[j];
  sink = s;
  return NULL;
}

int main(int argc, char **argv) {
  nthreads = argc > 1 ? atoi(argv[1]) : 1;
  long mib = argc > 2 ? atol(argv[2]) : 2048;
  reps = argc > 3 ? atoi(argv[3]) : 5;
  if (nthreads < 1 || mib < 1 || reps < 1) {
    fprintf(stderr, "usage: bandwidth [THREADS] [MIB] [REPS]\n");
    return 2;
  }
  size_t bytes = (size_t)mib << 20;
  nvec = bytes / sizeof(vec);
  if (posix_memalign((void **)&buffer, 2 << 20, bytes)) {
    fprintf(stderr, "bandwidth: error: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  pthread_barrier_init(&barrier, NULL, nthreads);
  pthread_t threads[nthreads];
  for (long t = 0; t < nthreads; ++t)
    pthread_create(&threads[t], NULL, worker, (void *)t);
  for (int t = 0; t < nthreads; ++t)
    pthread_join(threads[t], NULL);
  printf("bandwidth: %.2f GB/s (%d threads, %ld MiB, %d reps)\n", bytes / best / 1e9, nthreads,
         mib, reps);
  return 0;
}
