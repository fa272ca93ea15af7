//===- runtime/kernels/QGemmI8.cpp - W2/W4/W8 GEMV/GEMM with int8 activations -===//
//
// sparq_uk_qgemm_i8_f32(_mt): the product of sparq_uk_qgemm_f32 (same arguments and packed
// weight layout, docs/packed-formats.md) for 2-, 4- and 8-bit codes, symmetric or asymmetric,
// in groups that are a multiple of 32 (or one group per row), with the activations quantized
// at run time to int8 per row of A and group (symmetric, sa = max|x| / 127,
// qa = round-to-nearest-even(x * (127 / max|x|))), and integer dot products:
//
//   C[m][n] (+)= sum_g sa(m,g) * sw(n,g) * sum_{k in g} qa(m,k) * (code(n,k) - z(n,g))
//
// (signed codes: their two's complement value, z = 0). Other widths (1, 3, 5, 6, 7) and groups
// call sparq_uk_qgemm_f32. One structure for every width B (templates on B):
//
//   - P = 8 / B codes per byte. A block is the 4V code bytes of a row one vector holds,
//     BK = 4V * P values of k; byte j holds k = P*j + p in bits [p*B, p*B + B) (LSB first), so
//     plane p = (bytes >> p*B) & (2^B - 1) (one shift and one vpternlogd, which also applies the
//     flip below) holds the codes of every P-th k. Once per call (per block of up to 4 rows of A
//     and chunk of up to 8192 k, on the calling thread before any split over threads) A is
//     quantized into a buffer in the matching order: per block, the 4V activations of plane 0,
//     then of plane 1, ... Each plane is then one u8 x s8 dot product of 4 per int32 lane
//     (AVX-512 VNNI vpdpbusd) against one contiguous activation vector: 4, 2 and 1 vpdpbusd per
//     64 code bytes for 2, 4 and 8 bits. Lane l of a block sums k in [4Pl, 4Pl + 4P).
//   - Codes enter the dot products as f = code ^ flip, with value = f - z: unsigned codes as
//     they are (z = zp); symmetric codes with their sign bit flipped (f = value + 2^(B-1),
//     unsigned, z = 2^(B-1)). The int32 sums start at -z * (the lane's sum of qa), so every lane
//     holds sum qa * value exactly; asymmetric zero points are permuted to the lanes and
//     multiplied in (one vpmaddwd with AVX-512).
//   - Without VNNI (AVX-512BW, AVX2): vpmaddubsw per plane, the planes summed in int16 (at most
//     P * 2 * 15 * 127), one vpmaddwd. 8-bit codes would saturate pairs of u8 x s8 products
//     (2 * 255 * 127 > 2^15), so there they are used signed (f = code, or code ^ 0x80 = value +
//     128 - zp): |f| (vpabsb) against the activations negated where f < 0, pairs at most
//     2 * 128 * 127; z = zp - 128. Portable vector code otherwise.
//   - The int32 sums run over a span: one block, or the blocks of one group when groups are
//     two blocks or more (or one per row); then they are converted and scaled into float
//     accumulators. The lanes' scales sa * sw come from a window of V consecutive groups
//     (each row's scales loaded once per window, times the activation scales) permuted to the
//     lanes (vpermd), so a block may span several groups (2-bit codes with groups of 128:
//     two groups per block).
//   - R rows of W at a time against M <= 4 rows of A (independent accumulators), the next row
//     block prefetched; larger M loops over blocks of rows of A.
//
// sparq_uk_qgemm_s8_f32(_mt), the exact integer product (an ONNX MatMulInteger), runs the same
// kernels on activations that are int8 already: their rows are copied into the buffer with scale
// 1 instead of quantized, so C holds sum_k a(m,k) * value(n,k) as a float (exact while it stays
// below 2^24). Activations may be -128 there (never after quantization, which clamps at +-127):
// nothing overflows with VNNI or the portable code, but the signed 8-bit scheme without VNNI
// would (|-128| in int8, pairs of 128 * 128), so that build refuses 8-bit codes.
//
// Built twice like the other kernels (SPARQ_UK_VLEN 16 and 8); the dot products and permutes
// use AVX-512 VNNI / AVX-512BW / AVX2 intrinsics when the compilation enables them and portable
// vector code otherwise. Freestanding: no allocation, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "QCall.h"
#include "Tile.h"

#if (SPARQ_UK_VLEN == 16 && defined(__AVX512BW__)) || (SPARQ_UK_VLEN == 8 && defined(__AVX2__))
#include <immintrin.h>
#define SPARQ_QI8_X86 1
#else
#define SPARQ_QI8_X86 0
#endif
#if SPARQ_UK_VLEN == 16 && defined(__AVX512VNNI__)
#define SPARQ_QI8_VNNI 1
#else
#define SPARQ_QI8_VNNI 0
#endif

namespace {

using namespace sparq::kernels;

// k per chunk of the activation buffer (a multiple of BK). One chunk covers the K of most
// projections (a Llama MLP's down projection has 5632): a second chunk means a second pass
// over every row with its own parallel region, 20 % slower for that projection.
constexpr int64_t KX = SPARQ_UK_QGEMM_I8_CHUNK;
constexpr int MB = 4;             // rows of A per pass over the weights
constexpr int64_t CHUNK_GROUPS = KX / 32 + 1; // groups meeting a chunk, at most

typedef int32_t vi __attribute__((vector_size(V * 4)));
typedef uint32_t vu32 __attribute__((vector_size(V * 4)));
typedef uint8_t vq __attribute__((vector_size(V * 4)));
typedef int8_t vqs __attribute__((vector_size(V * 4)));

template <bool X> struct BoolC {
  static constexpr bool value = X;
};
template <bool C, typename T, typename E> struct Select {
  typedef T type;
};
template <typename T, typename E> struct Select<false, T, E> {
  typedef E type;
};
#define SPARQ_UK_INLINE_LAMBDA __attribute__((always_inline))

SPARQ_UK_INLINE vq splatB(uint8_t x) {
  vq v;
  for (int i = 0; i < 4 * V; ++i)
    v[i] = x;
  return v;
}

/// How codes of B bits are laid out in a block and turned into dot product operands.
template <int B> struct Fmt {
  static constexpr int P = 8 / B;       // codes per byte (planes of a block)
  static constexpr int BK = 4 * V * P;  // k per block
  static constexpr int64_t BLOCKS = KX / BK;
  static constexpr uint8_t MASK = uint8_t((1 << B) - 1);
  /// 8-bit codes without VNNI are used as signed bytes (vpabsb / sign-adjusted activations).
  static constexpr bool SIGNED = B == 8 && SPARQ_QI8_X86 && !SPARQ_QI8_VNNI;
  /// code ^ FLIP_* is the form f of a code (symmetric: the sign bit flipped, unsigned), and
  /// value = f - z with z = SYM_Z, or zp - SHIFT.
  static constexpr int32_t SHIFT = SIGNED ? 128 : 0;
  static constexpr uint8_t FLIP_ASYM = SIGNED ? 0x80 : 0;
  static constexpr uint8_t FLIP_SYM = uint8_t((1 << (B - 1)) ^ FLIP_ASYM);
  static constexpr int32_t SYM_Z = (1 << (B - 1)) - SHIFT;
};

/// One block of one row of codes: its planes in the form f (SIGNED: f[0] = |f|, s = f).
template <int B> struct Codes {
  vq f[Fmt<B>::P];
  vq s;
};

/// The 4V code bytes at p (Tail: only `avail` of them, the rest zero), split into planes, each
/// code xor-ed with flip (with the mask, one vpternlogd per plane).
template <int B, bool Tail>
SPARQ_UK_INLINE void loadCodes(const uint8_t *p, int64_t avail, vq flip, Codes<B> &c) {
  using F = Fmt<B>;
  vq w;
  if constexpr (Tail) {
#if SPARQ_QI8_X86 && SPARQ_UK_VLEN == 16
    // A masked load (a variable-length memcpy would be a library call).
    w = (vq)_mm512_maskz_loadu_epi8(avail >= 64 ? ~__mmask64(0) : (__mmask64(1) << avail) - 1, p);
#else
    w = splatB(0);
    __builtin_memcpy(&w, p, size_t(avail));
#endif
  } else {
    __builtin_memcpy(&w, p, 4 * V);
  }
  if constexpr (F::SIGNED) {
    c.s = w ^ flip;
    c.f[0] = (vqs)c.s < 0 ? splatB(0) - c.s : c.s;
  } else if constexpr (F::P == 1) {
    c.f[0] = w ^ flip;
  } else {
    // Last plane first: w is then free for plane 0's vpternlogd (no register copy).
    for (int p = F::P - 1; p >= 0; --p)
      c.f[p] = ((w >> (p * B)) & splatB(F::MASK)) ^ flip;
  }
}

/// acc + per lane l: sum over planes p and j < 4 of f_p[4l+j] * a_p[4l+j], where a_p are the 4V
/// activations at a + p * 4V.
template <int B> SPARQ_UK_INLINE vi dot(vi acc, const Codes<B> &c, const int8_t *a) {
  using F = Fmt<B>;
  vq x[F::P];
  for (int p = 0; p < F::P; ++p)
    __builtin_memcpy(&x[p], a + p * 4 * V, 4 * V);
#if SPARQ_QI8_VNNI
  for (int p = 0; p < F::P; ++p)
    acc = (vi)_mm512_dpbusd_epi32((__m512i)acc, (__m512i)c.f[p], (__m512i)x[p]);
  return acc;
#elif SPARQ_QI8_X86
#if SPARQ_UK_VLEN == 16
  typedef __m512i R;
#define SPARQ_QI8_(op) _mm512_##op
#else
  typedef __m256i R;
#define SPARQ_QI8_(op) _mm256_##op
#endif
  R t;
  if constexpr (F::SIGNED) {
    // |f| * (a negated where f < 0): |products| <= 128 * 127, pairs below 2^15.
#if SPARQ_UK_VLEN == 16
    R xs = _mm512_mask_sub_epi8((R)x[0], _mm512_movepi8_mask((R)c.s), _mm512_setzero_si512(),
                                (R)x[0]);
#else
    R xs = _mm256_sign_epi8((R)x[0], (R)c.s);
#endif
    t = SPARQ_QI8_(maddubs_epi16)((R)c.f[0], xs);
  } else {
    // Planes summed in int16: |sum| <= P * 2 * (2^B - 1) * 127 <= 7620.
    t = SPARQ_QI8_(maddubs_epi16)((R)c.f[0], (R)x[0]);
    for (int p = 1; p < F::P; ++p)
      t = SPARQ_QI8_(add_epi16)(t, SPARQ_QI8_(maddubs_epi16)((R)c.f[p], (R)x[p]));
  }
  return acc + (vi)SPARQ_QI8_(madd_epi16)(t, SPARQ_QI8_(set1_epi16)(1));
#undef SPARQ_QI8_
#else
  typedef int16_t vs __attribute__((vector_size(V * 8)));
  // |f * a| <= 255 * 127 and the planes' sum <= P * (2^B - 1) * 127: int16 holds both.
  vs s = {};
  for (int p = 0; p < F::P; ++p)
    s += __builtin_convertvector(c.f[p], vs) * __builtin_convertvector((vqs)x[p], vs);
  for (int l = 0; l < V; ++l)
    acc[l] += int32_t(s[4 * l]) + s[4 * l + 1] + s[4 * l + 2] + s[4 * l + 3];
  return acc;
#endif
}

/// Whether the asymmetric lanes' sum(qa) are stored as two int16 halves whose sum it is (V =
/// 16: a lane sums at most KX / V = 512 activations of -128 to 127, so -2^16 <= sum < 2^16 and
/// the halves (sum / 2 rounded toward zero, and the rest) lie in [-2^15, 2^15)) and multiplied
/// by the negated zero points, held in both halves of the lane, with one vpmaddwd; otherwise
/// as int32.
constexpr bool kSums16 = SPARQ_QI8_X86 && V == 16;
static_assert(!kSums16 || KX / V * 128 <= 1 << 16,
              "a lane's sum of activations must fit two int16 halves");

/// s as kSums16 says.
SPARQ_UK_INLINE vi sumLanes(vi s) {
  if constexpr (kSums16) {
    const vi lo = s / 2, hi = s - lo;
    return (lo & 0xFFFF) | (vi)((vu32)hi << 16);
  } else {
    return s;
  }
}

/// A lane's negated zero point -z as mulZ takes it (|z| < 2^15).
SPARQ_UK_INLINE vi zeroLanes(vi z) {
  if constexpr (kSums16)
    return (z & 0xFFFF) | (vi)((vu32)z << 16);
  else
    return z;
}

/// Lane l of -z * s (-z from zeroLanes, s from sumLanes).
SPARQ_UK_INLINE vi mulZ(vi z, vi s) {
#if SPARQ_QI8_X86 && SPARQ_UK_VLEN == 16
  return (vi)_mm512_madd_epi16((__m512i)z, (__m512i)s);
#else
  return z * s;
#endif
}

/// Lanes [0, n) = p[0, n), the others 0 (0 < n <= V).
SPARQ_UK_INLINE vf loadF(const float *p, int n) {
#if SPARQ_QI8_X86 && SPARQ_UK_VLEN == 16
  return (vf)_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p);
#else
  if (n == V)
    return load(p);
  vf v = splat(0.0f);
  for (int i = 0; i < n; ++i)
    v[i] = p[i];
  return v;
#endif
}

/// Lanes [0, n) = p[0, n) (bytes, zero-extended), the others 0 (0 < n <= V).
SPARQ_UK_INLINE vi loadZ(const uint8_t *p, int n) {
#if SPARQ_QI8_X86 && SPARQ_UK_VLEN == 16
  // (maskz forms throughout: GCC's unmasked ones start from an "undefined" vector that
  // -Wmaybe-uninitialized reports.)
  return (vi)_mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_maskz_loadu_epi8(__mmask16((1u << n) - 1), p));
#else
  typedef uint8_t vz __attribute__((vector_size(V)));
  vz z = {};
  if (n == V)
    __builtin_memcpy(&z, p, V);
  else
    for (int i = 0; i < n; ++i)
      z[i] = p[i];
  return __builtin_convertvector(z, vi);
#endif
}

/// Lane l = t[idx[l]] (0 <= idx < V): vpermd.
SPARQ_UK_INLINE vi permI(vi t, vi idx) {
#if SPARQ_QI8_X86 && SPARQ_UK_VLEN == 16
  return (vi)_mm512_maskz_permutexvar_epi32(0xFFFF, (__m512i)idx, (__m512i)t);
#elif SPARQ_QI8_X86
  return (vi)_mm256_permutevar8x32_epi32((__m256i)t, (__m256i)idx);
#else
  vi v;
  for (int i = 0; i < V; ++i)
    v[i] = t[idx[i]];
  return v;
#endif
}

SPARQ_UK_INLINE vf permF(vf t, vi idx) { return (vf)permI((vi)t, idx); }

/// A chunk [k0, k1) of up to MB rows of A, quantized for codes of B bits. The int32 sums run
/// over spans of blocks: one block each, or (multiBlockSpans) the blocks of one group.
template <int B> struct QA {
  using F = Fmt<B>;
  static constexpr int64_t SPANS = F::BLOCKS;
  alignas(64) int8_t q[MB][KX]; // de-interleaved per block, zero past k1
  // Per span and row of A: lane l's starting value -z * (sum of the span's qa that lane l
  // multiplies), so that every lane sums qa * value exactly. Symmetric: with z = SYM_Z;
  // asymmetric: sum(qa), to be multiplied by the row's -z (mulZ, stored as kSums16 says).
  vi zs[MB][SPANS];
  // The activation scale of group g0 + i (0 past the chunk's groups; V entries of padding).
  float sa[MB][CHUNK_GROUPS + V];
  // Per span: a window of V groups [wBase, wBase + V) holding its groups, of which wN exist;
  // lane -> the lane's group - wBase.
  int64_t wBase[SPANS];
  int32_t wN[SPANS];
  vi gIdx[SPANS];
  // Per block: its span, and whether it starts the span (START), ends it (END), and starts a
  // span whose window differs from the previous span's (LOAD: the kernel reloads the window's
  // scales and zero points).
  int32_t span[F::BLOCKS];
  uint8_t flags[F::BLOCKS];
  static constexpr uint8_t START = 1, END = 2, LOAD = 4;
  int64_t k0, k1, blocks, spans, g0;
  int M;
};

/// Copies the BK activations of one block from natural order (x) to plane order (q): plane p
/// (4V bytes) is byte p of each of x's 4V elements of P bytes (k = P * i + p).
template <int B> SPARQ_UK_INLINE void planeOrder(int8_t *q, const int8_t *x) {
  using F = Fmt<B>;
  if constexpr (F::P == 1) {
    __builtin_memcpy(q, x, F::BK);
  } else {
    typedef typename Select<F::P == 4, uint32_t, uint16_t>::type E;
    constexpr int NE = 4 * V / F::P; // elements per 4V bytes
    typedef E ve __attribute__((vector_size(4 * V)));
    typedef uint8_t vo __attribute__((vector_size(NE)));
    for (int c = 0; c < F::P; ++c) {
      ve e;
      __builtin_memcpy(&e, x + c * 4 * V, 4 * V);
      for (int p = 0; p < F::P; ++p) {
        const vo o = __builtin_convertvector(e >> (8 * p), vo);
        __builtin_memcpy(q + p * 4 * V + c * NE, &o, NE);
      }
    }
  }
}

/// Whether the int32 sums run over several blocks (groups of two blocks or more, or one
/// group).
template <int B> bool multiBlockSpans(const QW &w) {
  return w.group % (2 * Fmt<B>::BK) == 0 || w.groups() == 1;
}

/// Where the int8 activations come from: float rows quantized per group (FloatRows), or int8
/// rows taken as they are with scale 1 (Int8Rows, the exact integer product).
struct FloatRows {
  const float *A;
  int64_t lda;
  FloatRows from(int64_t m0) const { return {A + m0 * lda, lda}; }
  /// Row m's q[0, qe - qb) for [qb, qe) of the group [gb, ge); returns its scale.
  float group(int m, int64_t gb, int64_t ge, int64_t qb, int64_t qe, int8_t *q) const {
    return quantizeGroupInt8(A + m * lda, gb, ge, qb, qe, q);
  }
};
struct Int8Rows {
  const int8_t *A;
  int64_t lda;
  Int8Rows from(int64_t m0) const { return {A + m0 * lda, lda}; }
  float group(int m, int64_t, int64_t, int64_t qb, int64_t qe, int8_t *q) const {
    __builtin_memcpy(q, A + m * lda + qb, size_t(qe - qb));
    return 1.0f;
  }
};

/// Quantizes (or copies) rows [0, M) of the activations over [k0, k1) into qa.
template <int B, class Src>
void quantize(QA<B> &qa, const Src &src, int M, const QW &w, int64_t k0, int64_t k1) {
  using F = Fmt<B>;
  const int64_t G = w.group, groups = w.groups();
  const bool multi = multiBlockSpans<B>(w);
  qa.k0 = k0;
  qa.k1 = k1;
  qa.M = M;
  qa.blocks = (k1 - k0 + F::BK - 1) / F::BK;
  qa.g0 = k0 / G;
  int64_t first[QA<B>::SPANS + 1]; // the spans' first blocks
  qa.spans = 0;
  for (int64_t b = 0; b < qa.blocks; ++b) {
    if (!multi || b == 0 || (k0 + b * F::BK) % G == 0)
      first[qa.spans++] = b;
    qa.span[b] = int32_t(qa.spans - 1);
  }
  first[qa.spans] = qa.blocks;
  for (int64_t s = 0; s < qa.spans; ++s) {
    const int64_t kb = k0 + first[s] * F::BK, ke = k0 + first[s + 1] * F::BK;
    const int64_t gLast = (ke - 1) / G < groups ? (ke - 1) / G : groups - 1;
    const int64_t wb = s > 0 && gLast < qa.wBase[s - 1] + V ? qa.wBase[s - 1] : kb / G;
    qa.wBase[s] = wb;
    qa.wN[s] = int32_t(groups - wb < V ? groups - wb : V);
    for (int l = 0; l < V; ++l) {
      const int64_t g = (kb + l * 4 * F::P) / G;
      qa.gIdx[s][l] = int32_t((g < groups ? g : groups - 1) - wb);
    }
    for (int64_t b = first[s]; b < first[s + 1]; ++b)
      qa.flags[b] = uint8_t((b == first[s] ? QA<B>::START : 0) |
                            (b + 1 == first[s + 1] ? QA<B>::END : 0) |
                            (b == first[s] && (s == 0 || wb != qa.wBase[s - 1]) ? QA<B>::LOAD : 0));
  }
  const int64_t kEnd = qa.blocks * F::BK; // padded, relative to k0
  alignas(64) int8_t nat[KX];             // natural order
  for (int m = 0; m < M; ++m) {
    for (int64_t i = 0; i < CHUNK_GROUPS + V; ++i)
      qa.sa[m][i] = 0.0f;
    for (int64_t k = k0; k < k1;) {
      const int64_t g = k / G, gb = g * G, ge = gb + G < w.K ? gb + G : w.K;
      const int64_t e = ge < k1 ? ge : k1;
      qa.sa[m][g - qa.g0] = src.group(m, gb, ge, k, e, nat + (k - k0));
      k = e;
    }
    for (int64_t kk = k1 - k0; kk < kEnd; ++kk)
      nat[kk] = 0;
    for (int64_t b = 0; b < qa.blocks; ++b)
      planeOrder<B>(qa.q[m] + b * F::BK, nat + b * F::BK);
    // The lanes' sums of qa: dot products with codes of 1.
    Codes<B> ones;
    for (int p = 0; p < F::P; ++p)
      ones.f[p] = splatB(1);
    ones.s = splatB(1);
    for (int64_t s = 0; s < qa.spans; ++s) {
      vi z = {};
      for (int64_t b = first[s]; b < first[s + 1]; ++b)
        z = dot<B>(z, ones, qa.q[m] + b * F::BK);
      qa.zs[m][s] = w.zp == nullptr ? z * -F::SYM_Z : sumLanes(z);
    }
  }
}

/// Arguments of the row kernels for one chunk.
struct Args {
  float *C;
  int64_t ldc;
  const void *qa; // QA<bits>
  QW w;
  int64_t codeBytes; // valid bytes of a row: ceil(K * bits / 8)
  bool first, last, accumulate, relu;
};

template <int M, int R>
SPARQ_UK_INLINE void store(const Args &a, int64_t n, int valid, vf (&acc)[M][R]) {
  float sums[M][R];
  laneSums<M, R>(acc, sums);
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) {
      if (r >= valid) // (not a shorter loop: every acc index stays a constant)
        continue;
      storeChunkSum(a.C + m * a.ldc + n + r, sums[m][r], a.first, a.last, a.accumulate, a.relu);
    }
}

/// Rows n..n+valid of W (valid <= R; the others repeat the last) against the chunk. Single:
/// every span is one block (!multiBlockSpans).
template <int B, int M, int R, bool Single>
__attribute__((noinline)) void rowsKernel(const Args &a, int64_t n, int valid) {
  using F = Fmt<B>;
  const QA<B> &qa = *static_cast<const QA<B> *>(a.qa);
  const QW &w = a.w;
  const bool sym = w.zp == nullptr;
  const vq flip = splatB(sym ? F::FLIP_SYM : F::FLIP_ASYM);
  vf acc[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r)
      acc[m][r] = splat(0.0f);
  const uint8_t *rows[R];
  const float *scales[R];
  const uint8_t *zps[R];
  for (int r = 0; r < R; ++r) {
    const int64_t nr = n + (r < valid ? r : valid - 1);
    rows[r] = w.row(nr);
    scales[r] = w.scales + nr * w.ss;
    zps[r] = w.zp ? w.zp + nr * w.ss : nullptr;
  }
  const int64_t pf = R * w.rowBytes; // the next row block
  const int64_t base = qa.k0 / F::P; // byte offset of the chunk in a row
  // Blocks whose 4V code bytes are all inside the row's valid bytes.
  const int64_t validBytes = a.codeBytes - base;
  int64_t fullBlocks = validBytes < 4 * V ? 0 : validBytes / (4 * V);
  fullBlocks = fullBlocks > qa.blocks ? qa.blocks : fullBlocks;
  vi iacc[M][R]; // the span's int32 sums
  // The window's sa * sw per row of A and W, its negated zero points (SHIFT - zp) per row of
  // W, and the span's lane -> window index.
  vf win[M][R] = {};
  vi zw[R] = {};
  vi idx = {};
  auto block = [&](int64_t b, auto tail) SPARQ_UK_INLINE_LAMBDA {
    const uint8_t fl =
        Single ? uint8_t(QA<B>::START | QA<B>::END | (qa.flags[b] & QA<B>::LOAD)) : qa.flags[b];
    if (fl & QA<B>::START) {
      const int64_t s = Single ? b : qa.span[b];
      if (fl & QA<B>::LOAD) {
        const int64_t wb = qa.wBase[s];
        const int wn = qa.wN[s];
        for (int r = 0; r < R; ++r) {
          const vf sw = loadF(scales[r] + wb, wn);
          for (int m = 0; m < M; ++m)
            win[m][r] = sw * load(qa.sa[m] + (wb - qa.g0));
          if (!sym)
            zw[r] = zeroLanes(F::SHIFT - loadZ(zps[r] + wb, wn));
        }
      }
      idx = qa.gIdx[s];
      for (int r = 0; r < R; ++r) {
        const vi z = sym ? vi{} : permI(zw[r], idx);
        for (int m = 0; m < M; ++m)
          iacc[m][r] = sym ? qa.zs[m][s] : mulZ(z, qa.zs[m][s]);
      }
    }
    const int64_t off = base + b * 4 * V;
    for (int r = 0; r < R; ++r) {
      __builtin_prefetch(rows[r] + off + pf, 0, 3);
      Codes<B> c;
      loadCodes<B, decltype(tail)::value>(rows[r] + off, a.codeBytes - off, flip, c);
      for (int m = 0; m < M; ++m)
        iacc[m][r] = dot<B>(iacc[m][r], c, qa.q[m] + b * F::BK);
    }
    if (fl & QA<B>::END)
      for (int r = 0; r < R; ++r)
        for (int m = 0; m < M; ++m)
          acc[m][r] += __builtin_convertvector(iacc[m][r], vf) * permF(win[m][r], idx);
  };
  int64_t b = 0;
  for (; b < fullBlocks; ++b)
    block(b, BoolC<false>());
  for (; b < qa.blocks; ++b)
    block(b, BoolC<true>());
  store<M, R>(a, n, valid, acc);
}

template <int M> constexpr int rowsPerBlock() {
  if (V == 16)
    return M <= 2 ? 4 : 2;
  return M == 1 ? 4 : 2;
}

template <int B, int M, bool Single> void rowsMS(const Args &a, int64_t n0, int64_t n1) {
  constexpr int R = rowsPerBlock<M>();
  for (int64_t n = n0; n < n1; n += R)
    rowsKernel<B, M, R, Single>(a, n, n1 - n < R ? int(n1 - n) : R);
}

template <int B, int M> void rowsM(const Args &a, int64_t n0, int64_t n1) {
  if (multiBlockSpans<B>(a.w))
    rowsMS<B, M, false>(a, n0, n1);
  else
    rowsMS<B, M, true>(a, n0, n1);
}

using Call = QCall;

/// False when the call is not for this kernel (the caller falls back to sparq_uk_qgemm_f32,
/// which also handles the empty cases).
bool setup(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda, intptr_t codes,
           int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
           int64_t bits, int64_t group, int64_t M, int64_t N, int64_t K, int64_t flags) {
  if ((bits != 2 && bits != 4 && bits != 8) || M <= 0 || N <= 0 || K <= 0)
    return false;
  const int64_t G = group <= 0 || group > K ? K : group;
  if (G % 32 != 0)
    return false;
  return setupQCall(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints,
                    scaleStride, bits, group, M, N, K, flags);
}

/// Rows [m0, m0 + R) of A (R <= MB), on the calling thread or split over N.
template <int B, int R, class Src>
void block(const Call &c, const Src &src, int64_t m0, bool parallel) {
  constexpr int64_t mb = R;
  QA<B> qa;
  Args job;
  job.C = c.C + m0 * c.ldc;
  job.ldc = c.ldc;
  job.qa = &qa;
  job.w = c.w;
  job.codeBytes = (c.w.K * B + 7) / 8;
  job.accumulate = c.accumulate;
  job.relu = c.relu;
  for (int64_t k0 = 0; k0 < c.w.K; k0 += KX) {
    const int64_t k1 = k0 + KX < c.w.K ? k0 + KX : c.w.K;
    quantize<B>(qa, src.from(m0), int(mb), c.w, k0, k1);
    job.first = k0 == 0;
    job.last = k1 == c.w.K;
    if (!parallel)
      rowsM<B, R>(job, 0, c.N);
    else
      // Chunks of 64 rows from a shared counter: a worker that wakes late (after sleeping
      // between invocations) takes fewer rows instead of delaying the end.
      sparq_uk_parallel_chunks(
          [](void *ctx, int64_t n0, int64_t n1) {
            rowsM<B, R>(*static_cast<const Args *>(ctx), n0, n1);
          },
          &job, c.N, 64);
  }
}

/// Blocks of at most MB rows of A, equal to within one (6 rows are 3 + 3). The block's row count
/// is a template argument: with a constant M of at most MB (decoding), the loop runs once, the
/// switch folds and only that row count's kernel is compiled into the model.
template <int B, class Src> SPARQ_UK_INLINE void runB(const Call &c, const Src &src, bool parallel) {
  static_assert(MB == 4, "the switch below enumerates MB row counts");
  const int64_t blocks = (c.M + MB - 1) / MB;
  for (int64_t i = 0, m0 = 0; i < blocks; ++i) {
    const int64_t mb = (c.M - m0) / (blocks - i);
    switch (mb) {
    case 1: block<B, 1>(c, src, m0, parallel); break;
    case 2: block<B, 2>(c, src, m0, parallel); break;
    case 3: block<B, 3>(c, src, m0, parallel); break;
    default: block<B, 4>(c, src, m0, parallel); break;
    }
    m0 += mb;
  }
}

/// Inlined with its entry point, so that a constant width instantiates one runB in the model.
template <class Src> SPARQ_UK_INLINE void run(const Call &c, const Src &src, bool parallel) {
  switch (c.w.bits) {
  case 2: return runB<2>(c, src, parallel);
  case 4: return runB<4>(c, src, parallel);
  default: return runB<8>(c, src, parallel);
  }
}

/// The float product on the int8-activation kernel: run() over the rows of A as floats.
SPARQ_UK_INLINE void runFloat(const Call &c, bool parallel) {
  run(c, FloatRows{c.A, c.lda}, parallel);
}

/// Checks an exact integer product's call (sparq_uk_qgemm_s8_f32); false when there is nothing
/// to compute.
bool setupExact(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                intptr_t codes, int64_t codeRowBytes, intptr_t scales, intptr_t zeroPoints,
                int64_t scaleStride, int64_t bits, int64_t group, int64_t M, int64_t N,
                int64_t K, int64_t flags) {
  if (bits != 2 && bits != 4 && bits != 8)
    sparq_uk_check_failed("sparq_uk_qgemm_s8_f32: the codes must have 2, 4 or 8 bits");
  if (SPARQ_QI8_X86 && !SPARQ_QI8_VNNI && bits == 8)
    sparq_uk_check_failed("sparq_uk_qgemm_s8_f32: 8-bit codes need AVX-512 VNNI on x86 (the "
                          "kernel library was built without it)");
  if (!setupQCall(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints,
                  scaleStride, bits, group, M, N, K, flags))
    return false;
  if (c.w.group % 32 != 0 && c.w.group != K)
    sparq_uk_check_failed("sparq_uk_qgemm_s8_f32: the groups must be a multiple of 32 or one "
                          "per row");
  return true;
}

/// The exact integer product (sparq_uk_qgemm_s8_f32), on the calling thread or split over N.
SPARQ_UK_INLINE void runExact(intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                              intptr_t codes, int64_t codeRowBytes, intptr_t scales,
                              intptr_t zeroPoints, int64_t scaleStride, int64_t bits,
                              int64_t group, int64_t M, int64_t N, int64_t K, int64_t flags,
                              bool parallel) {
  Call c;
  if (setupExact(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints,
                 scaleStride, bits, group, M, N, K, flags))
    run(c, Int8Rows{reinterpret_cast<const int8_t *>(aAddr), lda}, parallel);
}

} // namespace

extern "C" {

// Inlined into the model's calls like sparq_uk_qgemm_f32 (SPARQ_UK_ENTRY): one width's code.

SPARQ_UK_ENTRY void sparq_uk_qgemm_i8_f32(intptr_t cAddr, int64_t ldc, intptr_t aAddr,
                                          int64_t lda, intptr_t codes, int64_t codeRowBytes,
                                          intptr_t scales, intptr_t zeroPoints,
                                          int64_t scaleStride, int64_t bits, int64_t group,
                                          int64_t M, int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (!setup(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride,
             bits, group, M, N, K, flags))
    return sparq_uk_qgemm_f32(cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints,
                              scaleStride, bits, group, M, N, K, flags);
  runFloat(c, false);
}

SPARQ_UK_ENTRY void sparq_uk_qgemm_i8_f32_mt(intptr_t cAddr, int64_t ldc, intptr_t aAddr,
                                             int64_t lda, intptr_t codes, int64_t codeRowBytes,
                                             intptr_t scales, intptr_t zeroPoints,
                                             int64_t scaleStride, int64_t bits, int64_t group,
                                             int64_t M, int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (!setup(c, cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride,
             bits, group, M, N, K, flags))
    return sparq_uk_qgemm_f32_mt(cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales,
                                 zeroPoints, scaleStride, bits, group, M, N, K, flags);
  runFloat(c, !smallProblem(M, N, K));
}

SPARQ_UK_ENTRY void sparq_uk_qgemm_s8_f32(intptr_t cAddr, int64_t ldc, intptr_t aAddr,
                                          int64_t lda, intptr_t codes, int64_t codeRowBytes,
                                          intptr_t scales, intptr_t zeroPoints,
                                          int64_t scaleStride, int64_t bits, int64_t group,
                                          int64_t M, int64_t N, int64_t K, int64_t flags) {
  runExact(cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride, bits,
           group, M, N, K, flags, false);
}

SPARQ_UK_ENTRY void sparq_uk_qgemm_s8_f32_mt(intptr_t cAddr, int64_t ldc, intptr_t aAddr,
                                             int64_t lda, intptr_t codes, int64_t codeRowBytes,
                                             intptr_t scales, intptr_t zeroPoints,
                                             int64_t scaleStride, int64_t bits, int64_t group,
                                             int64_t M, int64_t N, int64_t K, int64_t flags) {
  runExact(cAddr, ldc, aAddr, lda, codes, codeRowBytes, scales, zeroPoints, scaleStride, bits,
           group, M, N, K, flags, !smallProblem(M, N, K));
}

} // extern "C"
