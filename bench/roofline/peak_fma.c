// Peak float32 FMA throughput for bench/run.sh (see docs/bench.md).
//
// usage: peak_fma [THREADS] [MILLION_ITERATIONS] [REPS]     (defaults 1, 50, 5)
//
// Each thread runs CHAINS independent dependency chains acc = acc * a + b, one vector FMA per
// chain per iteration, on the widest vector the build targets: AVX-512 (16 chains of zmm, 16
// floats) when __AVX512F__ is defined, else AVX2+FMA (12 chains of ymm, 8 floats). Enough
// chains hide the FMA latency (4 cycles x 2 ports = 8 in flight), so the loop is throughput
// bound. One repetition is timed between barriers around all threads; the best is reported:
//   peak_fma: X GFLOP/s (T threads, ISA, C chains)
// An FMA counts as 2 flops. Build: clang-22 -O3 -march=native -pthread peak_fma.c -o peak_fma
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__AVX512F__)
#define ISA "avx512"
#define LANES 16
#define CHAINS 16
typedef __m512 vreg;
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#elif defined(__AVX2__) && defined(__FMA__)
#define ISA "avx2"
#define LANES 8
#define CHAINS 12
typedef __m256 vreg;
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#else
#error "peak_fma needs AVX2+FMA or AVX-512 (build with -march=native on such a CPU)"
#endif

static long iterations;
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

  // a < 1 and b small keep every chain bounded (it converges to b / (1 - a)).
  vreg a = SET1(0.999999f), b = SET1(1e-6f * (id + 1));
  vreg acc[CHAINS];
  for (int c = 0; c < CHAINS; ++c)
    acc[c] = SET1((float)c);
  for (int r = 0; r < reps; ++r) {
    pthread_barrier_wait(&barrier);
    double start = now();
    for (long i = 0; i < iterations; ++i) {
#pragma clang loop unroll(full)
      for (int c = 0; c < CHAINS; ++c)
        acc[c] = FMA(acc[c], a, b);
      // Opaque to the optimizer: keeps the chains in registers and the loop un-folded.
      __asm__ volatile("" : "+v"(a));
    }
    pthread_barrier_wait(&barrier);
    double seconds = now() - start;
    if (id == 0 && seconds < best)
      best = seconds;
  }
  vreg total = acc[0];
  for (int c = 1; c < CHAINS; ++c)
    total = ADD(total, acc[c]);
  float lanes[LANES];
  STORE(lanes, total);
  sink = lanes[0];
  return NULL;
}

int main(int argc, char **argv) {
  nthreads = argc > 1 ? atoi(argv[1]) : 1;
  long millions = argc > 2 ? atol(argv[2]) : 50;
  reps = argc > 3 ? atoi(argv[3]) : 5;
  if (nthreads < 1 || millions < 1 || reps < 1) {
    fprintf(stderr, "usage: peak_fma [THREADS] [MILLION_ITERATIONS] [REPS]\n");
    return 2;
  }
  iterations = millions * 1000000L;
  pthread_barrier_init(&barrier, NULL, nthreads);
  pthread_t threads[nthreads];
  for (long t = 0; t < nthreads; ++t)
    pthread_create(&threads[t], NULL, worker, (void *)t);
  for (int t = 0; t < nthreads; ++t)
    pthread_join(threads[t], NULL);
  double flops = 2.0 * LANES * CHAINS * (double)iterations * nthreads;
  printf("peak_fma: %.1f GFLOP/s (%d threads, %s, %d chains)\n", flops / best / 1e9, nthreads, ISA,
         CHAINS);
  return 0;
}
