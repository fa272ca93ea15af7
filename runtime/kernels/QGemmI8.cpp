//===- runtime/kernels/QGemmI8.cpp - W4 GEMV/GEMM with int8 activations -------===//
//
// sparq_uk_qgemm_i8_f32(_mt): the product of sparq_uk_qgemm_f32 (same arguments and packed
// weight layout, docs/packed-formats.md) for 4-bit codes and groups that are a multiple of 32,
// with the activations quantized at run time to int8 per row of A and group (symmetric,
// sa = max|x| / 127, qa = round-to-nearest-even(x * (127 / max|x|))), and integer dot products:
//
//   C[m][n] (+)= sum_g sa(m,g) * sw(n,g) * sum_{k in g} qa(m,k) * (code(n,k) - z(n,g))
//
// with z = zp(n,g) for unsigned codes and, for signed codes, u = code ^ 8 (= value + 8, 0..15)
// and z = 8. Everything else falls back to sparq_uk_qgemm_f32.
//
//   - Once per call (per block of up to 4 rows of A and chunk of up to 4096 k, on the calling
//     thread before any split over threads) A is quantized into a buffer in a de-interleaved
//     order: per block of BK = 8V values, the V*4 even elements and then the V*4 odd ones. A
//     block's codes are V*4 bytes of a weight row; their low nibbles are the even elements and
//     their high nibbles the odd ones, so one load, two masks (one shift) and two u8 x s8 dot
//     products of 4 (AVX-512 VNNI vpdpbusd; else vpmaddubsw + vpmaddwd) cover 8V codes. Lane l
//     of the int32 accumulator sums elements [8l, 8l + 8) of the block: 32 consecutive k per 4
//     lanes, always inside one group.
//   - Groups that are a multiple of BK: the int32 sums run over the group (within the chunk),
//     start from -z * sum(qa) in lane 0, and are scaled once per group (sa * sw) into float
//     accumulators. Other groups (multiples of 32): per block, per 4-lane quad, the same with
//     per-lane scales and offsets.
//   - R rows of W at a time against M <= 4 rows of A (independent accumulators), the next row
//     block prefetched; larger M loops over blocks of rows of A.
//
// Built twice like the other kernels (SPARQ_UK_VLEN 16 and 8); the dot product uses AVX-512
// VNNI / AVX-512BW / AVX2 intrinsics when the compilation enables them and portable vector code
// otherwise. Freestanding: no allocation, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "Tile.h"

#if (SPARQ_UK_VLEN == 16 && defined(__AVX512BW__)) || (SPARQ_UK_VLEN == 8 && defined(__AVX2__))
#include <immintrin.h>
#define SPARQ_QI8_X86 1
#else
#define SPARQ_QI8_X86 0
#endif

namespace {

using namespace sparq::kernels;

constexpr int BK = 8 * V;        // k per block: 4V code bytes
constexpr int64_t KX = 4096;     // k per chunk of the activation buffer (a multiple of BK)
constexpr int MB = 4;            // rows of A per pass over the weights
constexpr int64_t SUBS = KX / 32; // 32-k sub-chunks per chunk

typedef int32_t vi __attribute__((vector_size(V * 4)));
typedef uint8_t vq __attribute__((vector_size(V * 4)));
typedef int8_t vqs __attribute__((vector_size(V * 4)));

template <bool X> struct BoolC {
  static constexpr bool value = X;
};
#define SPARQ_UK_INLINE_LAMBDA __attribute__((always_inline))

SPARQ_UK_INLINE vq splatB(uint8_t x) {
  vq v;
  for (int i = 0; i < 4 * V; ++i)
    v[i] = x;
  return v;
}

SPARQ_UK_INLINE float hsum(vf v) {
  float s = 0.0f;
  for (int i = 0; i < V; ++i)
    s += v[i];
  return s;
}

/// acc + per lane l: sum_{j<4} lo[4l+j]*ae[4l+j] + hi[4l+j]*ao[4l+j] (lo, hi unsigned 0..15).
SPARQ_UK_INLINE vi dot(vi acc, vq lo, vq ae, vq hi, vq ao) {
#if SPARQ_UK_VLEN == 16 && defined(__AVX512VNNI__)
  acc = (vi)_mm512_dpbusd_epi32((__m512i)acc, (__m512i)lo, (__m512i)ae);
  return (vi)_mm512_dpbusd_epi32((__m512i)acc, (__m512i)hi, (__m512i)ao);
#elif SPARQ_QI8_X86 && SPARQ_UK_VLEN == 16
  // |products of 2| <= 2 * 15 * 127, sum of 4 fits int16: no saturation.
  __m512i t = _mm512_add_epi16(_mm512_maddubs_epi16((__m512i)lo, (__m512i)ae),
                               _mm512_maddubs_epi16((__m512i)hi, (__m512i)ao));
  return acc + (vi)_mm512_madd_epi16(t, _mm512_set1_epi16(1));
#elif SPARQ_QI8_X86 && SPARQ_UK_VLEN == 8
  __m256i t = _mm256_add_epi16(_mm256_maddubs_epi16((__m256i)lo, (__m256i)ae),
                               _mm256_maddubs_epi16((__m256i)hi, (__m256i)ao));
  return acc + (vi)_mm256_madd_epi16(t, _mm256_set1_epi16(1));
#else
  typedef int16_t vs __attribute__((vector_size(V * 8)));
  vs p = __builtin_convertvector(lo, vs) * __builtin_convertvector((vqs)ae, vs) +
         __builtin_convertvector(hi, vs) * __builtin_convertvector((vqs)ao, vs);
  for (int l = 0; l < V; ++l)
    acc[l] += int32_t(p[4 * l]) + p[4 * l + 1] + p[4 * l + 2] + p[4 * l + 3];
  return acc;
#endif
}

/// The quantized weight of one call; group normalized to (0, K], a multiple of 32.
struct QW {
  const uint8_t *codes;
  int64_t rowBytes;
  const float *scales;
  const uint8_t *zp;
  int64_t ss, group, K, groups; // groups: the number of groups of a row
  const uint8_t *row(int64_t n) const { return codes + n * rowBytes; }
  float scale(int64_t n, int64_t g) const { return scales[n * ss + g]; }
  int32_t zero(int64_t n, int64_t g) const { return zp ? int32_t(zp[n * ss + g]) : 8; }
};

/// A chunk [k0, k1) of up to MB rows of A, quantized. Sub-chunk c covers k0 + [32c, 32c + 32).
struct QA {
  alignas(64) int8_t q[MB][KX]; // de-interleaved per block, zero past k1
  float sa[MB][SUBS + 4];       // activation scale of the sub-chunk's group (0 past k1)
  int32_t sum[MB][SUBS + 4];    // sum of qa over the sub-chunk
  int32_t gOf[SUBS + 4];        // group of the sub-chunk, clamped to the last
  // Groups that are a multiple of BK: per segment (group intersected with the chunk).
  float segSa[MB][SUBS];
  int32_t segSum[MB][SUBS];
  int64_t k0, k1, blocks, g0;
  int M;
};

void quantize(QA &qa, const float *A, int64_t lda, int M, const QW &w, int64_t k0, int64_t k1) {
  const int64_t G = w.group;
  qa.k0 = k0;
  qa.k1 = k1;
  qa.M = M;
  qa.blocks = (k1 - k0 + BK - 1) / BK;
  qa.g0 = k0 / G;
  const int64_t kEnd = qa.blocks * BK; // padded, relative to k0
  for (int64_t c = 0; c < SUBS + 4; ++c) {
    int64_t g = (k0 + 32 * c) / G;
    qa.gOf[c] = int32_t(g < w.groups ? g : w.groups - 1);
  }
  for (int m = 0; m < M; ++m) {
    const float *a = A + m * lda;
    int8_t *q = qa.q[m];
    for (int64_t c = 0; c < SUBS + 4; ++c) {
      qa.sa[m][c] = 0.0f;
      qa.sum[m][c] = 0;
    }
    for (int64_t i = 0; i < SUBS; ++i) {
      qa.segSa[m][i] = 0.0f;
      qa.segSum[m][i] = 0;
    }
    for (int64_t k = k0; k < k1;) {
      const int64_t g = k / G, gb = g * G, ge = gb + G < w.K ? gb + G : w.K;
      float amax = 0.0f;
      for (int64_t j = gb; j < ge; ++j) {
        float x = a[j] < 0.0f ? -a[j] : a[j];
        amax = x > amax ? x : amax;
      }
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      const float sa = amax / 127.0f;
      const int64_t e = ge < k1 ? ge : k1;
      int32_t segSum = 0;
      for (; k < e; ++k) {
        float y = a[k] * inv;
        int32_t v = int32_t(__builtin_rintf(y));
        v = v > 127 ? 127 : v < -127 ? -127 : v;
        const int64_t kk = k - k0, j = kk % BK;
        q[kk - j + (j & 1) * (BK / 2) + (j >> 1)] = int8_t(v);
        qa.sum[m][kk / 32] += v;
        qa.sa[m][kk / 32] = sa;
        segSum += v;
      }
      qa.segSa[m][g - qa.g0] = sa;
      qa.segSum[m][g - qa.g0] = segSum;
    }
    for (int64_t kk = k1 - k0; kk < kEnd; ++kk) {
      const int64_t j = kk % BK;
      q[kk - j + (j & 1) * (BK / 2) + (j >> 1)] = 0;
    }
  }
}

/// Arguments of the row kernels for one chunk.
struct Args {
  float *C;
  int64_t ldc;
  const QA *qa;
  QW w;
  int64_t codeBytes; // valid bytes of a row: ceil(K / 2)
  bool first, last, accumulate, relu;
};

/// The 4V code bytes at p (Tail: only `avail` of them, the rest zero), sign-flipped to
/// unsigned when symmetric, split into low (even k) and high (odd k) nibbles.
template <bool Tail>
SPARQ_UK_INLINE void codesAt(const uint8_t *p, int64_t avail, bool sym, vq &lo, vq &hi) {
  vq w;
  if constexpr (Tail) {
    w = splatB(0);
    __builtin_memcpy(&w, p, size_t(avail));
  } else {
    __builtin_memcpy(&w, p, 4 * V);
  }
  if (sym)
    w ^= splatB(0x88);
  lo = w & splatB(0x0F);
  hi = w >> 4;
}

template <int M, int R>
SPARQ_UK_INLINE void store(const Args &a, int64_t n, vf (&acc)[M][R]) {
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) {
      float *c = a.C + m * a.ldc + n + r;
      float v = hsum(acc[m][r]);
      if (!a.first || a.accumulate)
        v += *c;
      if (a.last && a.relu && v < 0.0f)
        v = 0.0f;
      *c = v;
    }
}

/// Lane i = p[i / 4].
SPARQ_UK_INLINE vf quadF(const float *p) {
  vf v;
  for (int i = 0; i < V; ++i)
    v[i] = p[i / 4];
  return v;
}

/// Rows n..n+R of W against the chunk; Seg: the group is a multiple of BK.
template <int M, int R, bool Seg>
__attribute__((noinline)) void rowsKernel(const Args &a, int64_t n) {
  const QA &qa = *a.qa;
  const QW &w = a.w;
  const bool sym = w.zp == nullptr;
  vf acc[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r)
      acc[m][r] = splat(0.0f);
  const uint8_t *rows[R];
  for (int r = 0; r < R; ++r)
    rows[r] = w.row(n + r);
  const int64_t pf = R * w.rowBytes; // the next row block
  // Blocks whose 4V code bytes are all inside the row's valid bytes.
  const int64_t validBytes = a.codeBytes - qa.k0 / 2;
  int64_t fullBlocks = validBytes < 4 * V ? 0 : (validBytes - 4 * V) / (4 * V) + 1;
  fullBlocks = fullBlocks > qa.blocks ? qa.blocks : fullBlocks;
  if constexpr (Seg) {
    // Segment s (group g0 + s) ends at block bEnd; no divisions in the loop.
    const int64_t bpg = w.group / BK;
    int64_t bEnd = ((qa.g0 + 1) * w.group - qa.k0) / BK;
    for (int64_t b = 0, s = 0; b < qa.blocks; ++s, bEnd += bpg) {
      const int64_t g = qa.g0 + s;
      const int64_t be = bEnd < qa.blocks ? bEnd : qa.blocks;
      vi iacc[M][R];
      for (int r = 0; r < R; ++r) {
        const int32_t z = w.zero(n + r, g);
        for (int m = 0; m < M; ++m) {
          vi v = {};
          v[0] = -z * qa.segSum[m][s];
          iacc[m][r] = v;
        }
      }
      auto step = [&](int64_t blk, auto tail) SPARQ_UK_INLINE_LAMBDA {
        const int64_t off = (qa.k0 + blk * BK) / 2;
        vq lo[R], hi[R];
        for (int r = 0; r < R; ++r) {
          __builtin_prefetch(rows[r] + off + pf, 0, 3);
          codesAt<decltype(tail)::value>(rows[r] + off, a.codeBytes - off, sym, lo[r], hi[r]);
        }
        for (int m = 0; m < M; ++m) {
          vq ae, ao;
          __builtin_memcpy(&ae, qa.q[m] + blk * BK, 4 * V);
          __builtin_memcpy(&ao, qa.q[m] + blk * BK + 4 * V, 4 * V);
          for (int r = 0; r < R; ++r)
            iacc[m][r] = dot(iacc[m][r], lo[r], ae, hi[r], ao);
        }
      };
      const int64_t bf = be < fullBlocks ? be : fullBlocks;
      for (; b < bf; ++b)
        step(b, BoolC<false>());
      for (; b < be; ++b)
        step(b, BoolC<true>());
      for (int r = 0; r < R; ++r) {
        const float sw = w.scale(n + r, g);
        for (int m = 0; m < M; ++m)
          acc[m][r] += __builtin_convertvector(iacc[m][r], vf) * splat(sw * qa.segSa[m][s]);
      }
    }
  } else {
    vi lane0;
    for (int i = 0; i < V; ++i)
      lane0[i] = i % 4 == 0 ? -1 : 0;
    for (int64_t b = 0; b < qa.blocks; ++b) {
      const int64_t c0 = b * (BK / 32); // first sub-chunk of the block (V / 4 of them)
      vq lo[R], hi[R];
      vf sw[R];
      vi z[R];
      for (int r = 0; r < R; ++r) {
        const int64_t off = (qa.k0 + b * BK) / 2;
        __builtin_prefetch(rows[r] + off + pf, 0, 3);
        if (b < fullBlocks)
          codesAt<false>(rows[r] + off, 0, sym, lo[r], hi[r]);
        else
          codesAt<true>(rows[r] + off, a.codeBytes - off, sym, lo[r], hi[r]);
        float s4[4];
        int32_t z4[4];
        for (int q = 0; q < V / 4; ++q) {
          s4[q] = w.scale(n + r, qa.gOf[c0 + q]);
          z4[q] = w.zero(n + r, qa.gOf[c0 + q]);
        }
        for (int i = 0; i < V; ++i) {
          sw[r][i] = s4[i / 4];
          z[r][i] = z4[i / 4];
        }
      }
      for (int m = 0; m < M; ++m) {
        vq ae, ao;
        __builtin_memcpy(&ae, qa.q[m] + b * BK, 4 * V);
        __builtin_memcpy(&ao, qa.q[m] + b * BK + 4 * V, 4 * V);
        const vf sa = quadF(qa.sa[m] + c0);
        vi sum;
        for (int i = 0; i < V; ++i)
          sum[i] = qa.sum[m][c0 + i / 4];
        sum &= lane0;
        for (int r = 0; r < R; ++r) {
          vi iacc = dot(-(z[r] * sum), lo[r], ae, hi[r], ao);
          acc[m][r] += __builtin_convertvector(iacc, vf) * (sa * sw[r]);
        }
      }
    }
  }
  store<M, R>(a, n, acc);
}

template <int M> constexpr int rowsPerBlock() {
  if (V == 16)
    return M <= 2 ? 4 : 2;
  return M == 1 ? 4 : 2;
}

template <int M, bool Seg> void rowsMS(const Args &a, int64_t n0, int64_t n1) {
  constexpr int R = rowsPerBlock<M>();
  int64_t n = n0;
  for (; n + R <= n1; n += R)
    rowsKernel<M, R, Seg>(a, n);
  for (; n < n1; ++n)
    rowsKernel<M, 1, Seg>(a, n);
}

template <int M> void rowsM(const Args &a, int64_t n0, int64_t n1) {
  if (a.w.group % BK == 0)
    rowsMS<M, true>(a, n0, n1);
  else
    rowsMS<M, false>(a, n0, n1);
}

__attribute__((noinline)) void rows(const Args &a, int64_t n0, int64_t n1) {
  switch (a.qa->M) {
  case 1: return rowsM<1>(a, n0, n1);
  case 2: return rowsM<2>(a, n0, n1);
  case 3: return rowsM<3>(a, n0, n1);
  default: return rowsM<4>(a, n0, n1);
  }
}

struct Call {
  float *C;
  int64_t ldc;
  const float *A;
  int64_t lda;
  QW w;
  int64_t M, N;
  bool accumulate, relu;
};

/// False when the call is not for this kernel (the caller falls back to sparq_uk_qgemm_f32).
bool setup(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda, intptr_t codes,
           int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
           int64_t bits, int64_t group, int64_t M, int64_t N, int64_t K, int64_t flags) {
  if (bits != 4 || M <= 0 || N <= 0 || K <= 0)
    return false;
  const int64_t G = group <= 0 || group > K ? K : group;
  if (G % 32 != 0)
    return false;
  c.C = reinterpret_cast<float *>(cAddr);
  c.ldc = ldc;
  c.A = reinterpret_cast<const float *>(aAddr);
  c.lda = lda;
  c.M = M;
  c.N = N;
  c.accumulate = flags & SPARQ_UK_ACCUMULATE;
  c.relu = flags & SPARQ_UK_RELU;
  c.w.codes = reinterpret_cast<const uint8_t *>(codes);
  c.w.rowBytes = codeRowBytes;
  c.w.scales = reinterpret_cast<const float *>(scales);
  c.w.zp = reinterpret_cast<const uint8_t *>(zeroPoints);
  c.w.ss = scaleStride;
  c.w.group = G;
  c.w.K = K;
  c.w.groups = (K + G - 1) / G;
  return true;
}

/// Rows [m0, m0 + mb) of A (mb <= MB), on the calling thread or split over N.
void block(const Call &c, int64_t m0, int64_t mb, bool parallel) {
  QA qa;
  struct Job {
    Args a;
    int64_t N;
  } job;
  job.N = c.N;
  job.a.C = c.C + m0 * c.ldc;
  job.a.ldc = c.ldc;
  job.a.qa = &qa;
  job.a.w = c.w;
  job.a.codeBytes = (c.w.K + 1) / 2;
  job.a.accumulate = c.accumulate;
  job.a.relu = c.relu;
  for (int64_t k0 = 0; k0 < c.w.K; k0 += KX) {
    const int64_t k1 = k0 + KX < c.w.K ? k0 + KX : c.w.K;
    quantize(qa, c.A + m0 * c.lda, c.lda, int(mb), c.w, k0, k1);
    job.a.first = k0 == 0;
    job.a.last = k1 == c.w.K;
    if (!parallel)
      rows(job.a, 0, c.N);
    else
      sparq_uk_parallel(
          [](void *ctx, int32_t tid, int32_t team) {
            const Job &j = *static_cast<const Job *>(ctx);
            int64_t per = ((j.N + team - 1) / team + 7) / 8 * 8;
            int64_t n0 = tid * per, n1 = n0 + per < j.N ? n0 + per : j.N;
            if (n0 < n1)
              rows(j.a, n0, n1);
          },
          &job);
  }
}

void run(const Call &c, bool parallel) {
  const int64_t blocks = (c.M + MB - 1) / MB;
  for (int64_t i = 0, m0 = 0; i < blocks; ++i) {
    const int64_t mb = (c.M - m0) / (blocks - i);
    block(c, m0, mb, parallel);
    m0 += mb;
  }
}

} // namespace

extern "C" {

void sparq_uk_qgemm_i8_f32(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                           intptr_t codes, int64_t codeRowBytes, intptr_t scales,
                           intptr_t zeroPoints, int64_t scaleStride, int64_t bits, int64_t group,
                           int64_t M, int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (!setup(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride,
             bits, group, M, N, K, flags))
    return sparq_uk_qgemm_f32(cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints,
                              scaleStride, bits, group, M, N, K, flags);
  run(c, false);
}

void sparq_uk_qgemm_i8_f32_mt(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                              intptr_t codes, int64_t codeRowBytes, intptr_t scales,
                              intptr_t zeroPoints, int64_t scaleStride, int64_t bits,
                              int64_t group, int64_t M, int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (!setup(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride,
             bits, group, M, N, K, flags))
    return sparq_uk_qgemm_f32_mt(cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales,
                                 zeroPoints, scaleStride, bits, group, M, N, K, flags);
  const bool small = N < 64 || M * N * K < (int64_t(1) << 20);
  run(c, !small);
}

} // extern "C"
