//===- runtime/kernels/NMGemmI8.cpp - 2:4 + 4-bit GEMV/GEMM with int8 activations -===//
//
// sparq_uk_nmqgemm_i8_f32(_mt): the product of sparq_uk_nmqgemm_f32 (same arguments, the packed
// N:M layout as stored, docs/packed-formats.md) for 2:4 with 4-bit codes in groups of a multiple
// of 64 kept values (or one group per row), with the activations quantized at run time to int8
// per row of A and group (the group's 2 * group positions of K; symmetric, sa = max|x| / 127,
// qa = round-to-nearest-even(x * (127 / max|x|)), as sparq_uk_qgemm_i8_f32 does) and integer
// dot products:
//
//   C[m][n] (+)= sum_g sa(m,g) * sw(n,g) * sum_{kept s in g, pos(s) < K} qa(m, pos(s)) * value(n,s)
//
// value = the code's two's complement (symmetric) or code - zp(n, g). Other patterns, widths
// and groups call sparq_uk_nmqgemm_f32 (float activations).
//
//   - A block is 64 kept slots of a row: 32 code bytes, 16 index bytes, 128 positions of K (two
//     64-byte vectors of quantized activations, loaded once for R rows of W).
//   - AVX-512 VBMI + VNNI (function target attributes; sparq-compile selects this kernel only
//     for CPUs with both): the code bytes are broadcast to both halves of a register and the high
//     half shifted by 4 (vpsrlvq), so that after one vpternlogd (mask, and the sign flip of
//     symmetric codes) byte p < 32 holds slot 2p and byte 32 + p slot 2p + 1. The index bytes,
//     zero-extended dword d to qword d and d + 4 (vpmovzxdq of a broadcast), give each byte its
//     2-bit index with one vpmultishiftqb (bit offsets 4b, or 4b + 2 in the high half), and
//     (index & 3) | 4 * (p & 31) (one vpternlogd) is the slot's position in the block, by which
//     one two-source byte permute (vpermi2b) gathers the 64 activations the slots multiply.
//     vpdpbusd then adds codes x activations into the int32 lanes, and a second vpdpbusd with
//     ones adds the gathered activations alone, for the zero point: sum qa * (f - z) =
//     sum qa * f - z * sum qa, with f = code ^ 8 and z = 8 for symmetric codes, f = code and z =
//     zp for asymmetric ones. At the end of a group the int32 lanes are converted and scaled by
//     sa * sw into float accumulators. The last block of a row masks its loads and gathers.
//   - Elsewhere (the v8 build; tests): the same integer arithmetic one slot at a time.
//   - Up to 4 rows of A per pass over the weights (larger M loops); R = 4, 2, 1 rows of W at a
//     time for 1, 2, 3-4 rows of A; K in chunks of KX positions whose activations are quantized
//     once per call, on the calling thread, before the split over N.
//
// Built twice like the other kernels (SPARQ_UK_VLEN 16 and 8). Freestanding: no allocation, no
// global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "QCall.h"
#include "Tile.h"

#if SPARQ_UK_VLEN == 16 && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define SPARQ_NM8_AVX512 1
#define SPARQ_NM8_TARGET __attribute__((target("avx512vbmi,avx512vnni")))
#else
#define SPARQ_NM8_AVX512 0
#endif

namespace {

using namespace sparq::kernels;

constexpr int64_t BK = 128;               // positions of K per block
constexpr int64_t BS = 64;                // kept slots per block
constexpr int64_t KX = 8192;              // positions per chunk of the activation buffer
constexpr int MB = 4;                     // rows of A per pass over the weights
constexpr int64_t CHUNK_GROUPS = KX / BK + 1; // groups meeting a chunk, at most (a group spans
                                               // one block or more)

/// The 2:4, 4-bit weight of one call: the positions, and the kept values quantized like a
/// sparq_uk_qgemm_f32 weight whose rows are the kept slots (q.K = kept; q.group in kept slots: a
/// multiple of BS, or kept).
struct W24 {
  const uint8_t *idx;
  int64_t idxRow;
  QW q;
  int64_t K;                                   // positions of K
  int64_t span() const { return 2 * q.group; } // positions of K per group
};

/// One call: C, A and the flags as for the quantized kernels (setupQCall), and the positions.
struct Call : QCall {
  const uint8_t *idx;
  int64_t idxRow, K;
};

/// A chunk [k0, k1) of K for up to MB rows of A, quantized.
struct QA {
  alignas(64) int8_t q[MB][KX]; // natural order, zero from k1 to the end of its block
  float sa[MB][CHUNK_GROUPS];   // activation scale of group g0 + i
  int64_t k0, k1, g0;
  int M;
};

/// Quantizes rows [0, M) of A over [k0, k1) (k0 a multiple of BK; a group's scale comes from
/// all of its positions, also those outside the chunk).
void quantize(QA &qa, const float *A, int64_t lda, int M, const W24 &w, int64_t k0, int64_t k1) {
  const int64_t span = w.span();
  qa.k0 = k0;
  qa.k1 = k1;
  qa.M = M;
  qa.g0 = k0 / span;
  const int64_t kEnd = (k1 - k0 + BK - 1) / BK * BK;
  for (int m = 0; m < M; ++m) {
    const float *a = A + m * lda;
    for (int64_t k = k0; k < k1;) {
      const int64_t g = k / span, gb = g * span, ge = gb + span < w.K ? gb + span : w.K;
      const int64_t e = ge < k1 ? ge : k1;
      qa.sa[m][g - qa.g0] = quantizeGroupInt8(a, gb, ge, k, e, qa.q[m] + (k - k0));
      k = e;
    }
    for (int64_t kk = k1 - k0; kk < kEnd; ++kk)
      qa.q[m][kk] = 0;
  }
}

/// Arguments of the row kernels for one chunk.
struct Args {
  float *C;
  int64_t ldc;
  const QA *qa;
  W24 w;
  bool first, last, accumulate, relu;
};

/// C[m][n] from its sum over this chunk.
SPARQ_UK_INLINE void storeOne(const Args &a, int m, int64_t n, float v) {
  storeChunkSum(a.C + m * a.ldc + n, v, a.first, a.last, a.accumulate, a.relu);
}

#if !SPARQ_NM8_AVX512
/// Portable: rows [n0, n1) of W against the chunk, one slot at a time.
void portableRows(const Args &a, int64_t n0, int64_t n1) {
  const QA &qa = *a.qa;
  const W24 &w = a.w;
  const int64_t kept = w.q.K, group = w.q.group;
  const int64_t s0 = qa.k0 / 2, s1 = (qa.k1 + 3) / 4 * 2 < kept ? (qa.k1 + 3) / 4 * 2 : kept;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t *idx = w.idx + n * w.idxRow, *codes = w.q.row(n);
    for (int m = 0; m < qa.M; ++m) {
      float acc = 0.0f;
      int32_t sum = 0;
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t k = (s / 2) * 4 + int64_t(codeAt(idx, s, 2));
        const int64_t g = s / group;
        const uint32_t c = codeAt(codes, s, 4);
        const int32_t v = w.q.zp ? int32_t(c) - w.q.zero(n, g) : int32_t(c ^ 8u) - 8;
        if (k < w.K)
          sum += int32_t(qa.q[m][k - qa.k0]) * v;
        if ((s + 1) % group == 0 || s + 1 == s1) {
          acc += float(sum) * (qa.sa[m][g - qa.g0] * w.q.scale(n, g));
          sum = 0;
        }
      }
      storeOne(a, m, n, acc);
    }
  }
}
#endif

#if SPARQ_NM8_AVX512
template <bool X> struct BoolC {
  static constexpr bool value = X;
};

/// Rows n..n+valid of W (valid <= R; the others repeat the last) against the chunk; Sym:
/// symmetric codes (no zero points).
template <int M, int R, bool Sym>
SPARQ_NM8_TARGET __attribute__((noinline)) void fastRows(const Args &a, int64_t n, int valid) {
  const QA &qa = *a.qa;
  const W24 &w = a.w;
  const int64_t s0 = qa.k0 / 2; // the chunk's first slot (a multiple of BS)
  const int64_t blocks = (qa.k1 - qa.k0 + BK - 1) / BK;
  const uint8_t *idx[R], *codes[R];
  const float *sw[R];
  const uint8_t *zp[R];
  for (int r = 0; r < R; ++r) {
    const int64_t nr = n + (r < valid ? r : valid - 1);
    idx[r] = w.idx + nr * w.idxRow + s0 / 4;
    codes[r] = w.q.row(nr) + s0 / 2;
    sw[r] = w.q.scales + nr * w.q.ss;
    zp[r] = Sym ? nullptr : w.q.zp + nr * w.q.ss;
  }
  const int64_t pfIdx = R * w.idxRow, pfCodes = R * w.q.rowBytes; // the next row block
  // vpmultishiftqb bit offsets: byte b of qword q holds the index of slot 2(8q + b) (q < 4, bit
  // 4b of dword q) or 2(8(q - 4) + b) + 1 (bit 4b + 2 of dword q - 4).
  const __m512i ctl = _mm512_set_epi64(0x1e1a16120e0a0602LL, 0x1e1a16120e0a0602LL,
                                       0x1e1a16120e0a0602LL, 0x1e1a16120e0a0602LL,
                                       0x1c1814100c080400LL, 0x1c1814100c080400LL,
                                       0x1c1814100c080400LL, 0x1c1814100c080400LL);
  // Byte p: 4 * (p & 31), the position of its slot's group of 4 in the block.
  const __m512i base = _mm512_set_epi64(0x7c7874706c686460LL, 0x5c5854504c484440LL,
                                        0x3c3834302c282420LL, 0x1c1814100c080400LL,
                                        0x7c7874706c686460LL, 0x5c5854504c484440LL,
                                        0x3c3834302c282420LL, 0x1c1814100c080400LL);
  const __m512i nibbleShift = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);
  const __m512i three = _mm512_set1_epi8(3), low = _mm512_set1_epi8(15);
  const __m512i flip = _mm512_set1_epi8(Sym ? 8 : 0), ones = _mm512_set1_epi8(1);
  __m512 acc[M][R];
  __m512i dot[M][R], sum[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) {
      acc[m][r] = _mm512_setzero_ps();
      dot[m][r] = _mm512_setzero_si512();
      sum[m][r] = _mm512_setzero_si512();
    }
  // The end of group g (or of the chunk): the int32 lanes, scaled, into acc.
  auto flush = [&](int64_t g) SPARQ_NM8_TARGET SPARQ_UK_INLINE_LAMBDA {
    for (int r = 0; r < R; ++r) {
      const float s = sw[r][g];
      for (int m = 0; m < M; ++m) {
        __m512i v;
        if constexpr (Sym)
          v = _mm512_sub_epi32(dot[m][r], _mm512_slli_epi32(sum[m][r], 3));
        else
          v = _mm512_sub_epi32(dot[m][r],
                               _mm512_mullo_epi32(sum[m][r], _mm512_set1_epi32(zp[r][g])));
        acc[m][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(qa.sa[m][g - qa.g0] * s),
                                    acc[m][r]);
        dot[m][r] = _mm512_setzero_si512();
        sum[m][r] = _mm512_setzero_si512();
      }
    }
  };
  // Block b; Tail: `have` (< BS) slots left in the row, loads and gathers masked.
  auto block = [&](int64_t b, auto tail, int64_t have) SPARQ_NM8_TARGET SPARQ_UK_INLINE_LAMBDA {
    constexpr bool Tail = decltype(tail)::value;
    __m512i act[M][2];
    for (int m = 0; m < M; ++m) {
      act[m][0] = _mm512_load_si512(qa.q[m] + b * BK);
      act[m][1] = _mm512_load_si512(qa.q[m] + b * BK + 64);
    }
    // Gathered bytes that stand for a slot of the row: even slots (< ceil(have/2)) and odd
    // ones (< floor(have/2)).
    __mmask64 live = 0;
    __mmask16 idxMask = 0;
    __mmask32 codeMask = 0;
    if constexpr (Tail) {
      const int64_t even = (have + 1) / 2, odd = have / 2;
      live = ((__mmask64(1) << even) - 1) | (((__mmask64(1) << odd) - 1) << 32);
      idxMask = __mmask16((1u << ((have + 3) / 4)) - 1);
      codeMask = __mmask32((uint64_t(1) << even) - 1);
    }
    for (int r = 0; r < R; ++r) {
      const uint8_t *ip = idx[r] + b * 16, *cp = codes[r] + b * 32;
      if constexpr (!Tail) {
        _mm_prefetch(reinterpret_cast<const char *>(cp + pfCodes), _MM_HINT_T0);
        if ((b & 3) == 0)
          _mm_prefetch(reinterpret_cast<const char *>(ip + pfIdx), _MM_HINT_T0);
      }
      __m512i iz, cz;
      if constexpr (Tail) {
        iz = _mm512_cvtepu32_epi64(_mm256_broadcastsi128_si256(_mm_maskz_loadu_epi8(idxMask, ip)));
        cz = _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8(codeMask, cp));
      } else {
        iz = _mm512_cvtepu32_epi64(
            _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i *>(ip))));
        cz = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(cp)));
      }
      // (index & 3) | base: 0xEA = (A & B) | C.
      const __m512i pos =
          _mm512_ternarylogic_epi32(_mm512_multishift_epi64_epi8(ctl, iz), three, base, 0xEA);
      // (code & 15) ^ flip: 0x6A = (A & B) ^ C.
      const __m512i f =
          _mm512_ternarylogic_epi32(_mm512_srlv_epi64(cz, nibbleShift), low, flip, 0x6A);
      for (int m = 0; m < M; ++m) {
        __m512i x;
        if constexpr (Tail)
          x = _mm512_maskz_permutex2var_epi8(live, act[m][0], pos, act[m][1]);
        else
          x = _mm512_permutex2var_epi8(act[m][0], pos, act[m][1]);
        dot[m][r] = _mm512_dpbusd_epi32(dot[m][r], f, x);
        sum[m][r] = _mm512_dpbusd_epi32(sum[m][r], ones, x);
      }
    }
  };
  // Whole blocks of the row, then at most one partial block (the row's last).
  const int64_t kept = w.q.K, group = w.q.group;
  const int64_t full = (kept - s0) / BS < blocks ? (kept - s0) / BS : blocks;
  const int64_t perGroup = group % BS == 0 ? group / BS : 0; // blocks per group (0: one group)
  int64_t left = perGroup ? perGroup - (s0 / BS) % perGroup : -1; // blocks left in the group
  int64_t g = s0 / group;
  bool pending = false; // sums of group g not yet flushed
  for (int64_t b = 0; b < full; ++b) {
    block(b, BoolC<false>(), BS);
    pending = true;
    if (--left == 0) {
      flush(g++);
      left = perGroup;
      pending = false;
    }
  }
  if (full < blocks) {
    block(full, BoolC<true>(), kept - s0 - full * BS);
    pending = true;
  }
  if (pending)
    flush(g); // the group the chunk or the row ends in
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < valid; ++r)
      storeOne(a, m, n + r, _mm512_reduce_add_ps(acc[m][r]));
}

template <int M> constexpr int rowsPerBlock() { return M == 1 ? 4 : M == 2 ? 2 : 1; }

template <int M> void fastRowsM(const Args &a, int64_t n0, int64_t n1) {
  constexpr int R = rowsPerBlock<M>();
  for (int64_t n = n0; n < n1; n += R) {
    const int valid = n1 - n < R ? int(n1 - n) : R;
    if (a.w.q.zp)
      fastRows<M, R, false>(a, n, valid);
    else
      fastRows<M, R, true>(a, n, valid);
  }
}
#endif

void rows(const Args &a, int64_t n0, int64_t n1) {
#if SPARQ_NM8_AVX512
  switch (a.qa->M) {
  case 1: return fastRowsM<1>(a, n0, n1);
  case 2: return fastRowsM<2>(a, n0, n1);
  case 3: return fastRowsM<3>(a, n0, n1);
  default: return fastRowsM<4>(a, n0, n1);
  }
#else
  portableRows(a, n0, n1);
#endif
}

/// Rows [m0, m0 + mb) of A (mb <= MB), on the calling thread or split over N.
void block(const Call &c, int64_t m0, int64_t mb, bool parallel) {
  QA qa;
  Args job;
  job.C = c.C + m0 * c.ldc;
  job.ldc = c.ldc;
  job.qa = &qa;
  job.w = W24{c.idx, c.idxRow, c.w, c.K};
  job.accumulate = c.accumulate;
  job.relu = c.relu;
  for (int64_t k0 = 0; k0 < c.K; k0 += KX) {
    const int64_t k1 = k0 + KX < c.K ? k0 + KX : c.K;
    quantize(qa, c.A + m0 * c.lda, c.lda, int(mb), job.w, k0, k1);
    job.first = k0 == 0;
    job.last = k1 == c.K;
    if (!parallel)
      rows(job, 0, c.N);
    else
      // Chunks of 64 rows from a shared counter: a worker that wakes late (after sleeping
      // between invocations) takes fewer rows instead of delaying the end.
      sparq_uk_parallel_chunks(
          [](void *ctx, int64_t n0, int64_t n1) {
            rows(*static_cast<const Args *>(ctx), n0, n1);
          },
          &job, c.N, 64);
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

/// False when the call is not for this kernel (the caller falls back to sparq_uk_nmqgemm_f32,
/// which also handles the empty cases).
bool setup(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda, intptr_t indices,
           int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes, intptr_t scales,
           intptr_t zeroPoints, int64_t scaleStride, int64_t bits, int64_t group, int64_t nmN,
           int64_t nmM, int64_t M, int64_t N, int64_t K, int64_t flags) {
  if (nmN != 2 || nmM != 4 || bits != 4 || K <= 0)
    return false;
  // The kept values as a quantized weight with rows of `kept` slots (group rule included).
  const int64_t kept = (K + 3) / 4 * 2;
  if (!setupQCall(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints,
                  scaleStride, bits, group, M, N, kept, flags))
    return false;
  // Whole blocks per group (chunks of KX positions then end on group or block boundaries).
  if (c.w.group != kept && c.w.group % BS != 0)
    return false;
  c.idx = reinterpret_cast<const uint8_t *>(indices);
  c.idxRow = indexRowBytes;
  c.K = K;
  return true;
}

} // namespace

extern "C" {

void sparq_uk_nmqgemm_i8_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                             int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes,
                             intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
                             int64_t bits, int64_t group, int64_t nmN, int64_t nmM, int64_t M,
                             int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (!setup(c, C, ldc, A, lda, indices, indexRowBytes, codes, codeRowBytes, scales, zeroPoints,
             scaleStride, bits, group, nmN, nmM, M, N, K, flags))
    return sparq_uk_nmqgemm_f32(C, ldc, A, lda, indices, indexRowBytes, codes, codeRowBytes,
                                scales, zeroPoints, scaleStride, bits, group, nmN, nmM, M, N, K,
                                flags);
  run(c, false);
}

void sparq_uk_nmqgemm_i8_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda,
                                intptr_t indices, int64_t indexRowBytes, intptr_t codes,
                                int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                                int64_t scaleStride, int64_t bits, int64_t group, int64_t nmN,
                                int64_t nmM, int64_t M, int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (!setup(c, C, ldc, A, lda, indices, indexRowBytes, codes, codeRowBytes, scales, zeroPoints,
             scaleStride, bits, group, nmN, nmM, M, N, K, flags))
    return sparq_uk_nmqgemm_f32_mt(C, ldc, A, lda, indices, indexRowBytes, codes, codeRowBytes,
                                   scales, zeroPoints, scaleStride, bits, group, nmN, nmM, M, N,
                                   K, flags);
  run(c, !smallProblem(M, N, K));
}

} // extern "C"
