//===- runtime/kernels/NMGemm.cpp - f32 GEMM/GEMV on N:M-sparse weights ---------===//
//
// C (+)= A * Wᵀ with W (N x K) pruned N:M along K and stored in sparq's packed N:M layout
// (include/sparq/Formats/PackedFormats.h, docs/packed-formats.md): per row, kept = ceil(K/Mg)*Ng
// values, group by group, and their in-group positions as ceil(log2 Mg)-bit codes. The kept values
// are fp32 (sparq_uk_nmgemm_f32) or quantized along the kept dimension exactly like the weight of
// sparq_uk_qgemm_f32 (sparq_uk_nmqgemm_f32). Positions >= K (padding of the last group) are
// dropped. The packed bytes are read as they are; no kernel-specific weight layout.
//
//   - M <= 4 (GEMV and small batches), patterns 2:4, 1:4, 2:8 and 4:8 (fp32 values, or 4-bit
//     codes with quantization groups that are whole chunks of V kept values): chunks of V kept
//     values (V/2 groups and 2V activations = two vector registers for 2:4, V groups and 4V
//     activations for 1:4; 4:8 like 2:4, 2:8 like 1:4) of R weight rows at a time. The chunk's
//     index codes (2V or 3V bits) are broadcast to every lane and shifted per lane into
//     pos = Mg * group + index (3-bit codes on AVX-512 from two overlapping 32-bit words, so no
//     code straddles one), and the activations are gathered with one two-source permute
//     (AVX-512 vpermt2ps; AVX2: two vpermps and a blend), for 4V activations one per pair of
//     registers and a blend (GEMV 4096 x 4096 at one thread, each ran one kept value at a time
//     before: 1:4 + W4 13.0 -> 0.18 ms; 2:8 6.1 -> 0.29 ms, 4:8 12.4 -> 1.0 ms, 2:8 + W4
//     0.23 ms against 2:4 + W4 0.27 ms). 4-bit codes are broadcast and shifted the same
//     way and become weights by a lookup in a per-row, per-group 16-entry table in a register (AVX-512), or by
//     int -> float conversion and one FMA (AVX2). For 4-bit codes the lanes hold the chunk's
//     slots in the order sigma(j) = (j & 1) * V/2 + j / 2, which a 64-bit broadcast and one shift
//     per lane produce; the index codes are decoded in the same order.
//   - everything else with M <= 4 (other patterns, other widths, groups that are not whole
//     chunks, the slots past the last whole chunk, builds without AVX2/AVX-512): one kept value
//     at a time.
//   - larger M (GEMM): a sparse-aware register tile that skips the pruned multiplications. A block
//     of up to 128 rows of A (64 on v8) is transposed, K block by K block, into AT (kc x MBp,
//     in L1, zero past M and past K); for each column of W the slots of the K block are decoded
//     into (offset of the row of AT, value) pairs (fp32 copied, codes dequantized), and the tile
//     runs, for each kept value, MV vector loads of the gathered row of AT and MV FMAs with the
//     broadcast value into NC columns x MV vectors of accumulators. The partial sums of a block of
//     columns live in a transposed scratch (CT, on the stack) across K blocks and are transposed
//     into C at the end.
//
// Built twice from this source like the other kernels (SPARQ_UK_VLEN 16 and 8). Freestanding: no
// allocation, no libc, no global state.
//
//===----------------------------------------------------------------------===//
#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "QCall.h"
#include "Tile.h"

#if SPARQ_UK_VLEN == 16 && defined(__AVX512F__)
#include <immintrin.h>
#define SPARQ_NM_AVX512 1
#define SPARQ_NM_AVX2 0
#elif SPARQ_UK_VLEN == 8 && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SPARQ_NM_AVX512 0
#define SPARQ_NM_AVX2 1
#else
#define SPARQ_NM_AVX512 0
#define SPARQ_NM_AVX2 0
#endif

namespace {

using namespace sparq::kernels;

typedef int32_t vi __attribute__((vector_size(V * sizeof(int32_t))));

/// The N:M weight of one call (see UKernels.h).
struct NMW {
  const uint8_t *idx;
  int64_t idxRow;
  // fp32 kept values
  const float *vals;
  int64_t valStride;
  // quantized kept values (codes != nullptr)
  const uint8_t *codes;
  int64_t codeRow;
  const float *scales;
  const uint8_t *zp;
  int64_t ss;
  int64_t group; // kept values per quantization group, normalized to (0, kept]
  int bits;
  int n, m, ibits; // the pattern Ng:Mg and the index width
  int64_t K, kept;

  bool quantized() const { return codes != nullptr; }
  const uint8_t *idxRowPtr(int64_t r) const { return idx + r * idxRow; }
  /// Dense position of slot s of row r (may be >= K: padding).
  SPARQ_UK_INLINE int64_t pos(int64_t r, int64_t s) const {
    return (s / n) * m + int64_t(codeAt(idxRowPtr(r), s, ibits));
  }
  SPARQ_UK_INLINE float scale(int64_t r, int64_t g) const { return scales[r * ss + g]; }
  SPARQ_UK_INLINE int32_t zero(int64_t r, int64_t g) const {
    return zp ? int32_t(zp[r * ss + g]) : 0;
  }
  /// Kept value s of row r.
  SPARQ_UK_INLINE float value(int64_t r, int64_t s) const {
    if (!quantized())
      return vals[r * valStride + s];
    const int64_t g = s / group;
    const uint32_t c = codeAt(codes + r * codeRow, s, bits);
    int32_t v;
    if (!zp) {
      const uint32_t h = 1u << (bits - 1);
      v = int32_t(c ^ h) - int32_t(h);
    } else {
      v = int32_t(c) - zero(r, g);
    }
    return float(v) * scale(r, g);
  }
};

/// One call's arguments, checked.
struct Call {
  float *C;
  int64_t ldc;
  const float *A;
  int64_t lda;
  NMW w;
  int64_t M, N;
  bool accumulate, relu;
};

/// Stores part[m][r] into C[m][n + r] with the flags.
template <int M, int R>
SPARQ_UK_INLINE void storeRows(const Call &c, int64_t n, const float (&part)[M][R]) {
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) {
      float *p = c.C + m * c.ldc + n + r;
      float v = part[m][r];
      if (c.accumulate)
        v += *p;
      if (c.relu && v < 0.0f)
        v = 0.0f;
      *p = v;
    }
}

/// Adds slots [s0, kept) of row n to part[m][r] one at a time.
template <int M, int R>
SPARQ_UK_INLINE void addTail(const Call &c, int64_t n, int r, int64_t s0, float (&part)[M][R]) {
  const NMW &w = c.w;
  for (int64_t s = s0; s < w.kept; ++s) {
    const int64_t k = w.pos(n, s);
    if (k >= w.K)
      continue;
    const float wv = w.value(n, s);
    for (int m = 0; m < M; ++m)
      part[m][r] += c.A[m * c.lda + k] * wv;
  }
}

/// Any pattern, any encoding: one kept value at a time.
template <int M> __attribute__((noinline)) void gemvScalar(const Call &c, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    float part[M][1] = {};
    addTail<M, 1>(c, n, 0, 0, part);
    storeRows<M, 1>(c, n, part);
  }
}

#if SPARQ_NM_AVX512 || SPARQ_NM_AVX2

/// Whether row blocks use the chunk vector path (2:4, 1:4, 2:8, 4:8; Q: 4-bit codes).
bool fast24(const NMW &w, bool &q) {
  const bool n4 = w.m == 4 && (w.n == 2 || w.n == 1), n8 = w.m == 8 && (w.n == 2 || w.n == 4);
  if (!n4 && !n8)
    return false;
  if (!w.quantized()) {
    q = false;
    return true;
  }
  q = true;
  return w.bits == 4 && (w.group >= w.kept || w.group % V == 0);
}

#if SPARQ_NM_AVX512
typedef __m512 vreg;
typedef __m512i ireg;
#else
typedef __m256 vreg;
typedef __m256i ireg;
#endif

/// Lane j of the chunk holds slot sigma(j) (4-bit codes on AVX-512: a 64-bit broadcast and one
/// shift per lane decode them in that order) or slot j.
template <bool Q> constexpr int laneSlot(int j) {
  return Q && SPARQ_NM_AVX512 ? (j & 1) * (V / 2) + (j >> 1) : j;
}

/// Index bits of a group of MG (2 for N:4, 3 for N:8) and index bytes of a chunk of V slots.
template <int MG> constexpr int idxBits() { return MG == 4 ? 2 : 3; }
template <int MG> constexpr int chunkIdxBytes() { return V * idxBits<MG>() / 8; }

/// The constants of a chunk of an NG:MG pattern: per-lane shifts of the index and code words
/// and the group base. N:8 on AVX-512: a chunk's 48 index bits are read as two 32-bit words,
/// bytes 0-3 (slots 0-9) and bytes 2-5 (slots 10-15: a slot never straddles a word), and
/// `upper` picks the second word for the lanes of slots 10-15.
template <bool Q, int NG, int MG> struct Consts {
  ireg shIdx, base, shCode, mask;
  [[maybe_unused]] uint32_t upper = 0;
  Consts() {
    alignas(64) int32_t a[V], b[V], c[V];
    for (int j = 0; j < V; ++j) {
      const int s = laneSlot<Q>(j);
      const int bit = idxBits<MG>() * s;
      const bool hi = SPARQ_NM_AVX512 && MG == 8 && bit + 3 > 32;
      a[j] = hi ? bit - 16 : bit;
      if (hi)
        upper |= 1u << j;
      b[j] = MG * (s / NG);
      c[j] = !Q ? 0 : SPARQ_NM_AVX512 ? 4 * (j >> 1) : 4 * j;
    }
#if SPARQ_NM_AVX512
    shIdx = _mm512_load_si512(a);
    base = _mm512_load_si512(b);
    shCode = _mm512_load_si512(c);
    mask = _mm512_set1_epi32(MG - 1);
#else
    shIdx = _mm256_load_si256(reinterpret_cast<const __m256i *>(a));
    base = _mm256_load_si256(reinterpret_cast<const __m256i *>(b));
    shCode = _mm256_load_si256(reinterpret_cast<const __m256i *>(c));
    mask = _mm256_set1_epi32(MG - 1);
#endif
  }
};

/// pos = MG * group + index of each lane's slot, from the chunk's index bytes (reads exactly
/// chunkIdxBytes of them).
template <bool Q, int NG, int MG>
SPARQ_UK_INLINE ireg positions(const Consts<Q, NG, MG> &k, const uint8_t *idxBytes) {
#if SPARQ_NM_AVX512
  uint32_t iw;
  __builtin_memcpy(&iw, idxBytes, 4);
  ireg w = _mm512_set1_epi32(int32_t(iw));
  if constexpr (MG == 8) {
    uint32_t iw2;
    __builtin_memcpy(&iw2, idxBytes + 2, 4);
    w = _mm512_mask_blend_epi32(__mmask16(k.upper), w, _mm512_set1_epi32(int32_t(iw2)));
  }
  ireg x = _mm512_srlv_epi32(w, k.shIdx);
  return _mm512_ternarylogic_epi32(x, k.mask, k.base, 0xEA); // (x & mask) | base
#else
  uint32_t iw;
  if constexpr (MG == 4) {
    uint16_t h;
    __builtin_memcpy(&h, idxBytes, 2);
    iw = h;
  } else {
    iw = uint32_t(idxBytes[0]) | uint32_t(idxBytes[1]) << 8 | uint32_t(idxBytes[2]) << 16;
  }
  ireg x = _mm256_srlv_epi32(_mm256_set1_epi32(int32_t(iw)), k.shIdx);
  return _mm256_or_si256(_mm256_and_si256(x, k.mask), k.base);
#endif
}

/// The activations of a chunk of an NG:MG pattern: V slots cover MG * V / NG of them, in
/// RX = MG / NG registers (2 or 4).
template <int RX> struct XSet {
  static constexpr int kRegs = RX;
  vreg r[kRegs];
};
template <int RX> SPARQ_UK_INLINE XSet<RX> loadX(const float *x) {
  XSet<RX> s;
  for (int i = 0; i < RX; ++i)
#if SPARQ_NM_AVX512
    s.r[i] = _mm512_loadu_ps(x + 16 * i);
#else
    s.r[i] = _mm256_loadu_ps(x + 8 * i);
#endif
  return s;
}
/// The activations at pos (0..4V/NG - 1): one two-source permute for 2V of them; for 4V, one
/// per pair of registers and a blend on the pair bit.
template <int RX> SPARQ_UK_INLINE vreg gather(const XSet<RX> &x, ireg pos) {
#if SPARQ_NM_AVX512
  const vreg lo = _mm512_permutex2var_ps(x.r[0], pos, x.r[1]);
  if constexpr (RX == 2)
    return lo;
  const vreg hi = _mm512_permutex2var_ps(x.r[2], pos, x.r[3]);
  return _mm512_mask_blend_ps(_mm512_test_epi32_mask(pos, _mm512_set1_epi32(32)), lo, hi);
#else
  // Bit 3 of pos picks the register of a pair, bit 4 the pair.
  const vreg bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(pos, 28));
  const vreg lo = _mm256_blendv_ps(_mm256_permutevar8x32_ps(x.r[0], pos),
                                   _mm256_permutevar8x32_ps(x.r[1], pos), bit3);
  if constexpr (RX == 2)
    return lo;
  const vreg hi = _mm256_blendv_ps(_mm256_permutevar8x32_ps(x.r[2], pos),
                                   _mm256_permutevar8x32_ps(x.r[3], pos), bit3);
  return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(pos, 27)));
#endif
}

/// Turns a chunk's 4-bit codes (V codes, V/2 bytes) into weights, lanes in sigma order.
struct Deq4 {
#if SPARQ_NM_AVX512
  vreg table;
  void init(float s, bool sym, int32_t zp) {
    // Lane c: the value of code c ((c ^ 8) - 8 symmetric, c - zp asymmetric) times the scale.
    const ireg iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const ireg sv = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    const ireg v = sym ? sv : _mm512_sub_epi32(iota, _mm512_set1_epi32(zp));
    table = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(s));
  }
  template <class K> SPARQ_UK_INLINE vreg apply(const K &k, const uint8_t *p) const {
    uint64_t cw;
    __builtin_memcpy(&cw, p, 8);
    ireg x = _mm512_srlv_epi32(_mm512_set1_epi64(int64_t(cw)), k.shCode);
    return _mm512_permutexvar_ps(x, table);
  }
#else
  vreg scale, offset;
  ireg flip, mask;
  void init(float s, bool sym, int32_t zp) {
    scale = _mm256_set1_ps(s);
    offset = _mm256_set1_ps(-float(sym ? 8 : zp) * s);
    flip = _mm256_set1_epi32(sym ? 8 : 0);
    mask = _mm256_set1_epi32(15);
  }
  template <class K> SPARQ_UK_INLINE vreg apply(const K &k, const uint8_t *p) const {
    uint32_t cw;
    __builtin_memcpy(&cw, p, 4);
    ireg x = _mm256_srlv_epi32(_mm256_set1_epi32(int32_t(cw)), k.shCode);
    x = _mm256_xor_si256(_mm256_and_si256(x, mask), flip);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(x), scale, offset);
  }
#endif
};

SPARQ_UK_INLINE vreg fma(vreg a, vreg b, vreg c) {
#if SPARQ_NM_AVX512
  return _mm512_fmadd_ps(a, b, c);
#else
  return _mm256_fmadd_ps(a, b, c);
#endif
}
SPARQ_UK_INLINE vreg zeroV() {
#if SPARQ_NM_AVX512
  return _mm512_setzero_ps();
#else
  return _mm256_setzero_ps();
#endif
}
SPARQ_UK_INLINE float hsumV(vreg v) {
#if SPARQ_NM_AVX512
  return _mm512_reduce_add_ps(v);
#else
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
#endif
}
SPARQ_UK_INLINE vreg loadV(const float *p) {
#if SPARQ_NM_AVX512
  return _mm512_loadu_ps(p);
#else
  return _mm256_loadu_ps(p);
#endif
}

/// Activations per chunk of V slots of an NG:MG pattern.
template <int NG, int MG> constexpr int64_t chunkX() { return MG * V / NG; }

/// Whole chunks of a row: V slots in the row, chunkX activations in A.
template <int NG, int MG> SPARQ_UK_INLINE int64_t wholeChunks(const NMW &w) {
  constexpr int64_t X = chunkX<NG, MG>();
  return w.K / X < w.kept / V ? w.K / X : w.kept / V;
}

/// Rows n..n+R of the NG:MG GEMV over chunks [ch0, ch1) of V slots (V / NG groups, chunkX
/// activations); `last` adds the slots past the whole chunks. The first K range stores C (or adds to it with
/// SPARQ_UK_ACCUMULATE), later ones add to it; the last one applies the ReLU.
template <bool Q, int NG, int MG, int M, int R>
__attribute__((noinline)) void gemv24(const Call &c, const Consts<Q, NG, MG> &kc, int64_t n,
                                      int64_t ch0, int64_t ch1, bool first, bool last,
                                      const float *xb) {
  const NMW &w = c.w;
  const int64_t chunks = ch1;
  vreg acc[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r)
      acc[m][r] = zeroV();
  const uint8_t *ip[R];
  const float *vp[R];
  const uint8_t *cp[R];
  for (int r = 0; r < R; ++r) {
    ip[r] = w.idxRowPtr(n + r);
    vp[r] = Q ? nullptr : w.vals + (n + r) * w.valStride;
    cp[r] = Q ? w.codes + (n + r) * w.codeRow : nullptr;
  }
  constexpr int IB = chunkIdxBytes<MG>(); // index bytes per chunk
  constexpr int RX = MG / NG;
  constexpr int CB = V / 2; // code bytes per chunk (Q)
  for (int64_t ch = ch0; ch < chunks;) {
    int64_t chEnd = chunks;
    [[maybe_unused]] Deq4 dq[R];
    if constexpr (Q) {
      const int64_t g = ch * V / w.group;
      const int64_t e = (g + 1) * w.group / V;
      chEnd = e < chunks ? e : chunks;
      for (int r = 0; r < R; ++r)
        dq[r].init(w.scale(n + r, g), w.zp == nullptr, w.zero(n + r, g));
    }
    for (; ch < chEnd; ++ch) {
      // The rows are visited one K range at a time, in pieces too short for the hardware
      // prefetchers: pull the same bytes of the rows PD rows ahead, once per cache line.
      constexpr int PD = M >= 4 ? 2 * R : R;
      if constexpr (!Q) {
        for (int r = 0; r < R; ++r)
          __builtin_prefetch(vp[r] + ch * V + PD * w.valStride, 0, 3);
      } else if ((ch & (128 / V - 1)) == 0) {
        for (int r = 0; r < R; ++r)
          __builtin_prefetch(cp[r] + ch * CB + PD * w.codeRow, 0, 3);
      }
      if (((ch * IB) & 63) < IB) // the chunk's index bytes start a cache line
        for (int r = 0; r < R; ++r)
          __builtin_prefetch(ip[r] + ch * IB + PD * w.idxRow, 0, 3);
      XSet<RX> x[M];
      for (int m = 0; m < M; ++m) {
        if constexpr (M > 8) // copied chunk-major by gemv24Rows
          x[m] = loadX<RX>(xb + ((ch - ch0) * M + m) * chunkX<NG, MG>());
        else
          x[m] = loadX<RX>(c.A + m * c.lda + ch * chunkX<NG, MG>());
      }
      for (int r = 0; r < R; ++r) {
        const ireg pos = positions<Q>(kc, ip[r] + ch * IB);
        vreg wv;
        if constexpr (Q)
          wv = dq[r].apply(kc, cp[r] + ch * CB);
        else
          wv = loadV(vp[r] + ch * V);
        for (int m = 0; m < M; ++m)
          acc[m][r] = fma(gather(x[m], pos), wv, acc[m][r]);
      }
    }
  }
  float part[M][R];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r)
      part[m][r] = hsumV(acc[m][r]);
  if (last)
    for (int r = 0; r < R; ++r)
      addTail<M, R>(c, n + r, r, wholeChunks<NG, MG>(w) * V, part);
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < R; ++r) {
      float *p = c.C + m * c.ldc + n + r;
      float v = part[m][r];
      if (!first || c.accumulate)
        v += *p;
      if (last && c.relu && v < 0.0f)
        v = 0.0f;
      *p = v;
    }
}

template <int M> constexpr int rowsPerBlock() { return M == 1 ? 4 : M == 2 ? 2 : 1; }

/// Activations of one K range of the GEMV (all M rows): 32 KiB, so they stay in L1 while every
/// row of W passes over them.
constexpr int64_t kXFloats = 8192;

template <bool Q, int NG, int MG, int M>
void gemv24Rows(const Call &c, int64_t n0, int64_t n1) {
  constexpr int R = rowsPerBlock<M>();
  constexpr int64_t X = chunkX<NG, MG>();
  const Consts<Q, NG, MG> kc;
  const int64_t chunks = wholeChunks<NG, MG>(c.w);
  int64_t step = kXFloats / (M * X);
  if (Q && c.w.group < c.w.kept && step * V > c.w.group)
    step = step * V / c.w.group * c.w.group / V; // whole quantization groups
  alignas(64) float xbuf[M > 8 ? kXFloats : 1];
  for (int64_t ch0 = 0;; ch0 += step) {
    const int64_t ch1 = ch0 + step < chunks ? ch0 + step : chunks;
    const bool first = ch0 == 0, last = ch1 >= chunks;
    const float *xb = nullptr;
    if constexpr (M > 8) {
      for (int64_t ch = ch0; ch < ch1; ++ch)
        for (int m = 0; m < M; ++m)
          for (int i = 0; i < X; ++i)
            xbuf[((ch - ch0) * M + m) * X + i] = c.A[m * c.lda + ch * X + i];
      xb = xbuf;
    }
    int64_t n = n0;
    for (; n + R <= n1; n += R)
      gemv24<Q, NG, MG, M, R>(c, kc, n, ch0, ch1, first, last, xb);
    for (; n < n1; ++n)
      gemv24<Q, NG, MG, M, 1>(c, kc, n, ch0, ch1, first, last, xb);
    if (last)
      break;
  }
}
#endif

template <int M> void gemvRowsM(const Call &c, int64_t n0, int64_t n1) {
#if SPARQ_NM_AVX512 || SPARQ_NM_AVX2
  bool q = false;
  if (fast24(c.w, q)) {
    if (c.w.m == 8) {
      if (c.w.n == 2)
        return q ? gemv24Rows<true, 2, 8, M>(c, n0, n1) : gemv24Rows<false, 2, 8, M>(c, n0, n1);
      return q ? gemv24Rows<true, 4, 8, M>(c, n0, n1) : gemv24Rows<false, 4, 8, M>(c, n0, n1);
    }
    if (c.w.n == 1)
      return q ? gemv24Rows<true, 1, 4, M>(c, n0, n1) : gemv24Rows<false, 1, 4, M>(c, n0, n1);
    return q ? gemv24Rows<true, 2, 4, M>(c, n0, n1) : gemv24Rows<false, 2, 4, M>(c, n0, n1);
  }
#endif
  gemvScalar<M>(c, n0, n1);
}

/// Rows of A per GEMV block (each block streams the weight once): 8 on v16, 4 on v8.
constexpr int64_t kGemvRows = V == 16 ? 8 : 4;

/// Rows [n0, n1) of W for M <= kGemvRows.
void gemvBlock(const Call &c, int64_t n0, int64_t n1) {
  switch (c.M) {
  case 1: return gemvRowsM<1>(c, n0, n1);
  case 2: return gemvRowsM<2>(c, n0, n1);
  case 3: return gemvRowsM<3>(c, n0, n1);
  case 4: return gemvRowsM<4>(c, n0, n1);
#if SPARQ_UK_VLEN == 16
  case 5: return gemvRowsM<5>(c, n0, n1);
  case 6: return gemvRowsM<6>(c, n0, n1);
  case 7: return gemvRowsM<7>(c, n0, n1);
  case 8: return gemvRowsM<8>(c, n0, n1);
  case 16: return gemvRowsM<16>(c, n0, n1);
#endif
  default: return;
  }
}

/// Rows of A up to which the streaming GEMV runs (in blocks of at most kGemvRows rows, or, on
/// v16, one block of 16 with the activations copied chunk-major: 2:4 + W4 at M = 16 8.2 -> 5.0
/// ms, BM_NMGemm/bits:4/M:16/T:1, old and new alternating): with the 2:4 vector path and
/// quantized values, two blocks; otherwise 4 rows (the sparse tile is
/// faster above: at M = 16, 2:4 fp32 took 9.4 ms in the GEMV and 7.0 ms in the tile, while 2:4
/// + W4 took 8.2 ms in the GEMV and 8.8 ms in the tile; BM_NMGemm, 1 thread).
int64_t gemvMaxM(const NMW &w) {
#if SPARQ_NM_AVX512 || SPARQ_NM_AVX2
  bool q = false;
  if (fast24(w, q) && q)
    return 2 * kGemvRows;
#else
  (void)w;
#endif
  return 4;
}

/// Rows [n0, n1) of W for M <= gemvMaxM, in equal blocks of rows of A.
void gemvRows(const Call &c, int64_t n0, int64_t n1) {
  if (V == 16 && c.M == 16)
    return gemvBlock(c, n0, n1);
  const int64_t blocks = (c.M + kGemvRows - 1) / kGemvRows;
  for (int64_t i = 0, m0 = 0; i < blocks; ++i) {
    const int64_t mb = (c.M - m0) / (blocks - i);
    Call b = c;
    b.A = c.A + m0 * c.lda;
    b.C = c.C + m0 * c.ldc;
    b.M = mb;
    gemvBlock(b, n0, n1);
    m0 += mb;
  }
}

//===----------------------------------------------------------------------===//
// GEMM (M > gemvMaxM): the sparse-aware tile
//===----------------------------------------------------------------------===//

/// AT (kc x MBp, row stride MBp) = A[0, mb) x [k0, k0 + kc) transposed, zero past mb and past K.
template <int MBp>
void packAT(float *at, const float *A, int64_t lda, int64_t mb, int64_t k0, int64_t kc,
            int64_t K) {
  const int64_t kv = K - k0 < kc ? (K - k0 > 0 ? K - k0 : 0) : kc; // valid columns
  int64_t kk = 0;
  for (; kk + V <= kv; kk += V) {
    int64_t m = 0;
    for (; m + V <= mb; m += V)
      transposeBlock(at + kk * MBp + m, MBp, A + m * lda + k0 + kk, lda);
    for (int i = 0; i < V; ++i)
      for (int64_t mm = m; mm < MBp; ++mm)
        at[(kk + i) * MBp + mm] = mm < mb ? A[mm * lda + k0 + kk + i] : 0.0f;
  }
  for (; kk < kc; ++kk)
    for (int64_t mm = 0; mm < MBp; ++mm)
      at[kk * MBp + mm] = mm < mb && kk < kv ? A[mm * lda + k0 + kk] : 0.0f;
}

/// Slots [s0, s0 + S) of row r (dense positions [k0, k0 + S / Ng * Mg)) as offsets of AT rows
/// (row stride MBp) and values.
void decodeSlots(const NMW &w, int64_t r, int64_t s0, int64_t S, int64_t k0, int64_t MBp,
                 int32_t *offs, float *vals) {
  const uint8_t *ir = w.idxRowPtr(r);
  int64_t s = offs ? 0 : S;
  if (w.n == 2 && w.m == 4 && (s0 & 15) == 0) {
    // 16 slots (32 positions) per 32-bit index word.
    for (; s + 16 <= S; s += 16) {
      uint32_t iw;
      __builtin_memcpy(&iw, ir + (s0 + s) / 4, 4);
      const int32_t base = int32_t((s0 + s) / 2 * 4 - k0);
      for (int j = 0; j < 16; ++j)
        offs[s + j] = (base + 4 * (j >> 1) + int32_t((iw >> (2 * j)) & 3u)) * int32_t(MBp);
    }
  }
  for (; s < S; ++s)
    offs[s] = int32_t((w.pos(r, s0 + s) - k0) * MBp);
  if (!w.quantized()) {
    const float *v = w.vals + r * w.valStride + s0;
    for (int64_t i = 0; i < S; ++i)
      vals[i] = v[i];
    return;
  }
  const uint8_t *cr = w.codes + r * w.codeRow;
  const bool sym = w.zp == nullptr;
  for (int64_t i = 0; i < S;) {
    const int64_t g = (s0 + i) / w.group;
    int64_t e = (g + 1) * w.group - s0;
    if (e > S)
      e = S;
    const float sc = w.scale(r, g);
    const int32_t z = w.zero(r, g);
    if (w.bits == 4) {
      float t[16];
      for (int c = 0; c < 16; ++c)
        t[c] = float(sym ? (c ^ 8) - 8 : c - z) * sc;
      for (; i < e && ((s0 + i) & 1); ++i)
        vals[i] = t[cr[(s0 + i) >> 1] >> 4];
      for (; i + 2 <= e; i += 2) {
        const uint8_t b = cr[(s0 + i) >> 1];
        vals[i] = t[b & 15];
        vals[i + 1] = t[b >> 4];
      }
      for (; i < e; ++i)
        vals[i] = t[(cr[(s0 + i) >> 1] >> (((s0 + i) & 1) * 4)) & 15];
      continue;
    }
    for (; i < e; ++i)
      vals[i] = w.value(r, s0 + i);
  }
}

/// Pulls the bytes of slots [s0, s0 + S) of row r (a column decoded soon) into the cache: the
/// rows of a block of columns are visited K block by K block, too many streams for the hardware
/// prefetchers.
SPARQ_UK_INLINE void prefetchSlots(const NMW &w, int64_t r, int64_t s0, int64_t S) {
  const uint8_t *ib = w.idxRowPtr(r) + s0 * w.ibits / 8;
  __builtin_prefetch(ib, 0, 3);
  __builtin_prefetch(ib + (S * w.ibits + 7) / 8 - 1, 0, 3);
  const uint8_t *vb, *ve;
  if (w.quantized()) {
    vb = w.codes + r * w.codeRow + s0 * w.bits / 8;
    ve = vb + (S * w.bits + 7) / 8;
  } else {
    vb = reinterpret_cast<const uint8_t *>(w.vals + r * w.valStride + s0);
    ve = vb + S * 4;
  }
  for (const uint8_t *p = vb; p < ve; p += 64)
    __builtin_prefetch(p, 0, 3);
  __builtin_prefetch(ve - 1, 0, 3);
}

/// NC columns x MV vectors of rows: for every slot, MV loads of the gathered row of AT and MV
/// FMAs with the broadcast value. ct: column c at ct + c * MV * V. offs/vals: column c at
/// offs + c * sStride.
template <int MV, int NC>
SPARQ_UK_INLINE void sparseTile(float *ct, const float *at, const int32_t *offs, const float *vals,
                                int64_t S, int64_t sStride, bool loadC) {
  vf acc[NC][MV];
  for (int c = 0; c < NC; ++c)
    for (int v = 0; v < MV; ++v)
      acc[c][v] = loadC ? load(ct + (c * MV + v) * V) : splat(0.0f);
  for (int64_t s = 0; s < S; ++s) {
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const float *a = at + offs[c * sStride + s];
      const vf b = splat(vals[c * sStride + s]);
#pragma unroll
      for (int v = 0; v < MV; ++v)
        acc[c][v] = load(a + v * V) * b + acc[c][v];
    }
  }
  for (int c = 0; c < NC; ++c)
    for (int v = 0; v < MV; ++v)
      store(ct + (c * MV + v) * V, acc[c][v]);
}

/// sparseTile for 2:4 with S a multiple of 16 and the slots' first group at AT row 0: the AT
/// row of each slot is decoded from the column's 32-bit index words in scalar registers (no
/// offset loads). idx[c]: the column's index bytes of the K block; vals[c]: its values.
template <int MV, int NC>
SPARQ_UK_INLINE void sparseTile24(float *ct, const float *at, const uint8_t *const *idx,
                                  const float *const *vals, int64_t S, bool loadC) {
  constexpr int64_t MBp = MV * V;
  vf acc[NC][MV];
  for (int c = 0; c < NC; ++c)
    for (int v = 0; v < MV; ++v)
      acc[c][v] = loadC ? load(ct + (c * MV + v) * V) : splat(0.0f);
  for (int64_t s = 0; s < S; s += 16) {
    uint32_t iw[NC];
    for (int c = 0; c < NC; ++c)
      __builtin_memcpy(&iw[c], idx[c] + s / 4, 4);
    const float *a0 = at + s * 2 * MBp; // AT row of the chunk's first group
#pragma unroll
    for (int j = 0; j < 16; ++j) {
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        const float *a = a0 + (4 * (j >> 1) + ((iw[c] >> (2 * j)) & 3u)) * MBp;
        const vf b = splat(vals[c][s + j]);
#pragma unroll
        for (int v = 0; v < MV; ++v)
          acc[c][v] = load(a + v * V) * b + acc[c][v];
      }
    }
  }
  for (int c = 0; c < NC; ++c)
    for (int v = 0; v < MV; ++v)
      store(ct + (c * MV + v) * V, acc[c][v]);
}

template <int MV> constexpr int colsPerTile() {
  if constexpr (V == 16)
    return MV >= 8 ? 3 : MV >= 4 ? 6 : 12;
  else
    return MV >= 4 ? 3 : MV >= 2 ? 6 : 8;
}

constexpr int kMVMax = V == 16 ? 8 : 4;
constexpr int64_t kAtFloats = 8192;   // 32 KiB: AT stays in L1
constexpr int64_t kCtFloats = 32768;  // 128 KiB: the transposed partial sums, in L2
constexpr int64_t kSlotsMax = 256;    // slots per K block

/// Rows [0, mb) of A and C (mb <= MV * V), columns [n0, n1).
template <int MV>
__attribute__((noinline)) void gemmBlock(const Call &c, const float *A, float *C, int64_t mb,
                                         int64_t n0, int64_t n1) {
  constexpr int MBp = MV * V, NC = colsPerTile<MV>();
  const NMW &w = c.w;
  const int64_t Mg = w.m, Ng = w.n;
  int64_t KC = kAtFloats / MBp;
  if (KC > kSlotsMax)
    KC = kSlotsMax;
  KC = KC / Mg * Mg;
  const int64_t Kp = (w.K + Mg - 1) / Mg * Mg;
  const int64_t NB = kCtFloats / MBp;
  alignas(64) float at[kAtFloats];
  alignas(64) float ct[kCtFloats];
  alignas(64) int32_t offs[NC * kSlotsMax];
  alignas(64) float vals[NC * kSlotsMax];
  for (int64_t nb0 = n0; nb0 < n1; nb0 += NB) {
    const int64_t nb = n1 - nb0 < NB ? n1 - nb0 : NB;
    for (int64_t k0 = 0; k0 < Kp; k0 += KC) {
      const int64_t kc = Kp - k0 < KC ? Kp - k0 : KC;
      const int64_t S = kc / Mg * Ng, s0 = k0 / Mg * Ng;
      packAT<MBp>(at, A, c.lda, mb, k0, kc, w.K);
      int64_t j = 0;
      if (w.n == 2 && w.m == 4 && S % 16 == 0 && s0 % 16 == 0) {
        // 2:4: AT rows decoded in the tile; fp32 values read in place, codes dequantized.
        const uint8_t *ip[NC];
        const float *vp[NC];
        for (; j + NC <= nb; j += NC) {
          for (int cc = 0; cc < NC; ++cc) {
            const int64_t r = nb0 + j + cc;
            prefetchSlots(w, nb0 + j + cc + 2 * NC < n1 ? nb0 + j + cc + 2 * NC : n1 - 1, s0, S);
            ip[cc] = w.idxRowPtr(r) + s0 / 4;
            if (w.quantized()) {
              decodeSlots(w, r, s0, S, k0, MBp, nullptr, vals + cc * S);
              vp[cc] = vals + cc * S;
            } else {
              vp[cc] = w.vals + r * w.valStride + s0;
            }
          }
          sparseTile24<MV, NC>(ct + j * MBp, at, ip, vp, S, k0 > 0);
        }
        for (; j < nb; ++j) {
          const int64_t r = nb0 + j;
          ip[0] = w.idxRowPtr(r) + s0 / 4;
          if (w.quantized()) {
            decodeSlots(w, r, s0, S, k0, MBp, nullptr, vals);
            vp[0] = vals;
          } else {
            vp[0] = w.vals + r * w.valStride + s0;
          }
          sparseTile24<MV, 1>(ct + j * MBp, at, ip, vp, S, k0 > 0);
        }
      }
      for (; j + NC <= nb; j += NC) {
        for (int cc = 0; cc < NC; ++cc) {
          prefetchSlots(w, nb0 + j + cc + 2 * NC < n1 ? nb0 + j + cc + 2 * NC : n1 - 1, s0, S);
          decodeSlots(w, nb0 + j + cc, s0, S, k0, MBp, offs + cc * S, vals + cc * S);
        }
        sparseTile<MV, NC>(ct + j * MBp, at, offs, vals, S, S, k0 > 0);
      }
      for (; j < nb; ++j) {
        decodeSlots(w, nb0 + j, s0, S, k0, MBp, offs, vals);
        sparseTile<MV, 1>(ct + j * MBp, at, offs, vals, S, S, k0 > 0);
      }
    }
    for (int64_t m = 0; m < mb; ++m) {
      float *cr = C + m * c.ldc + nb0;
      for (int64_t j = 0; j < nb; ++j) {
        float v = ct[j * MBp + m];
        if (c.accumulate)
          v += cr[j];
        if (c.relu && v < 0.0f)
          v = 0.0f;
        cr[j] = v;
      }
    }
  }
}

/// Columns [n0, n1) of C for M > gemvMaxM.
void gemmRange(const Call &c, int64_t n0, int64_t n1) {
  for (int64_t m0 = 0; m0 < c.M; m0 += kMVMax * V) {
    const int64_t mb = c.M - m0 < kMVMax * V ? c.M - m0 : kMVMax * V;
    const int64_t mv = (mb + V - 1) / V;
    const float *A = c.A + m0 * c.lda;
    float *C = c.C + m0 * c.ldc;
    if (mv <= 1)
      gemmBlock<1>(c, A, C, mb, n0, n1);
    else if (mv <= 2)
      gemmBlock<2>(c, A, C, mb, n0, n1);
    else if (mv <= 4)
      gemmBlock<4>(c, A, C, mb, n0, n1);
    else
      gemmBlock<kMVMax>(c, A, C, mb, n0, n1);
  }
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool setupCommon(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                 intptr_t indices, int64_t indexRowBytes, int64_t nmN, int64_t nmM, int64_t M,
                 int64_t N, int64_t K, int64_t flags) {
  c.C = reinterpret_cast<float *>(cAddr);
  c.ldc = ldc;
  c.A = reinterpret_cast<const float *>(aAddr);
  c.lda = lda;
  c.M = M;
  c.N = N;
  c.accumulate = flags & SPARQ_UK_ACCUMULATE;
  c.relu = flags & SPARQ_UK_RELU;
  if (M <= 0 || N <= 0 || nmN < 1 || nmN >= nmM || nmM > 16)
    return false;
  if (K <= 0) {
    if (!c.accumulate)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          c.C[m * ldc + n] = 0.0f;
    return false;
  }
  NMW &w = c.w;
  w.idx = reinterpret_cast<const uint8_t *>(indices);
  w.idxRow = indexRowBytes;
  w.n = int(nmN);
  w.m = int(nmM);
  int b = 0;
  while ((1 << b) < w.m)
    ++b;
  w.ibits = b == 0 ? 1 : b;
  w.K = K;
  w.kept = (K + nmM - 1) / nmM * nmN;
  w.vals = nullptr;
  w.valStride = 0;
  w.codes = nullptr;
  w.codeRow = 0;
  w.scales = nullptr;
  w.zp = nullptr;
  w.ss = 0;
  w.group = w.kept;
  w.bits = 0;
  return true;
}

/// Whether a problem is too small to be worth a parallel region.
bool small(const Call &c) { return smallProblem(c.M, c.N, c.w.K); }

void run(const Call &c) {
  if (c.M <= gemvMaxM(c.w))
    gemvRows(c, 0, c.N);
  else
    gemmRange(c, 0, c.N);
}

void runParallel(Call &c) {
  if (small(c))
    return run(c);
  sparq_uk_parallel(
      [](void *ctx, int32_t tid, int32_t team) {
        const Call &g = *static_cast<const Call *>(ctx);
        // Whole blocks of 8 columns (row blocks of the GEMV, and the tile's column groups).
        const int64_t per = ((g.N + team - 1) / team + 7) / 8 * 8;
        const int64_t n0 = tid * per, n1 = n0 + per < g.N ? n0 + per : g.N;
        if (n0 >= n1)
          return;
        if (g.M <= gemvMaxM(g.w))
          gemvRows(g, n0, n1);
        else
          gemmRange(g, n0, n1);
      },
      &c);
}

bool setupF32(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
              intptr_t indices, int64_t indexRowBytes, intptr_t values, int64_t valueStride,
              int64_t nmN, int64_t nmM, int64_t M, int64_t N, int64_t K, int64_t flags) {
  if (!setupCommon(c, cAddr, ldc, aAddr, lda, indices, indexRowBytes, nmN, nmM, M, N, K, flags))
    return false;
  c.w.vals = reinterpret_cast<const float *>(values);
  c.w.valStride = valueStride;
  return true;
}

bool setupQ(Call &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda, intptr_t indices,
            int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes, intptr_t scales,
            intptr_t zeroPoints, int64_t scaleStride, int64_t bits, int64_t group, int64_t nmN,
            int64_t nmM, int64_t M, int64_t N, int64_t K, int64_t flags) {
  if (bits < 1 || bits > 8)
    return false;
  if (!setupCommon(c, cAddr, ldc, aAddr, lda, indices, indexRowBytes, nmN, nmM, M, N, K, flags))
    return false;
  NMW &w = c.w;
  w.codes = reinterpret_cast<const uint8_t *>(codes);
  w.codeRow = codeRowBytes;
  w.scales = reinterpret_cast<const float *>(scales);
  w.zp = reinterpret_cast<const uint8_t *>(zeroPoints);
  w.ss = scaleStride;
  w.bits = int(bits);
  w.group = group <= 0 || group > w.kept ? w.kept : group;
  return true;
}

} // namespace

extern "C" {

void sparq_uk_nmgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                         int64_t indexRowBytes, intptr_t values, int64_t valueStride,
                         int64_t nmN, int64_t nmM, int64_t M, int64_t N, int64_t K,
                         int64_t flags) {
  Call c;
  if (setupF32(c, C, ldc, A, lda, indices, indexRowBytes, values, valueStride, nmN, nmM, M, N, K,
               flags))
    run(c);
}

void sparq_uk_nmgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                            int64_t indexRowBytes, intptr_t values, int64_t valueStride,
                            int64_t nmN, int64_t nmM, int64_t M, int64_t N, int64_t K,
                            int64_t flags) {
  Call c;
  if (setupF32(c, C, ldc, A, lda, indices, indexRowBytes, values, valueStride, nmN, nmM, M, N, K,
               flags))
    runParallel(c);
}

void sparq_uk_nmqgemm_f32(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                          int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes,
                          intptr_t scales, intptr_t zeroPoints, int64_t scaleStride, int64_t bits,
                          int64_t group, int64_t nmN, int64_t nmM, int64_t M, int64_t N,
                          int64_t K, int64_t flags) {
  Call c;
  if (setupQ(c, C, ldc, A, lda, indices, indexRowBytes, codes, codeRowBytes, scales, zeroPoints,
             scaleStride, bits, group, nmN, nmM, M, N, K, flags))
    run(c);
}

void sparq_uk_nmqgemm_f32_mt(intptr_t C, int64_t ldc, intptr_t A, int64_t lda, intptr_t indices,
                             int64_t indexRowBytes, intptr_t codes, int64_t codeRowBytes,
                             intptr_t scales, intptr_t zeroPoints, int64_t scaleStride,
                             int64_t bits, int64_t group, int64_t nmN, int64_t nmM, int64_t M,
                             int64_t N, int64_t K, int64_t flags) {
  Call c;
  if (setupQ(c, C, ldc, A, lda, indices, indexRowBytes, codes, codeRowBytes, scales, zeroPoints,
             scaleStride, bits, group, nmN, nmM, M, N, K, flags))
    runParallel(c);
}

} // extern "C"
