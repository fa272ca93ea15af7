//===- runtime/kernels/QCall.h - one quantized-weight call, checked -*- C++ -*-===//
//
// The quantized weight of a sparq_uk_qgemm_* call (UKernels.h) and the argument checks that the
// float-activation (QGemm.cpp) and int8-activation (QGemmI8.cpp) kernels share, the b-bit code
// reader of the packed bit streams (also used by NMGemm.cpp, NMGemmI8.cpp) and the activation
// quantization of the int8-activation kernels. Internal to runtime/kernels.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_RUNTIME_KERNELS_QCALL_H
#define SPARQ_RUNTIME_KERNELS_QCALL_H

#include "sparq/Kernels/UKernels.h"

#include <stdint.h>

#include "Tile.h"

namespace sparq::kernels {

/// Code i of a little-endian bit stream of `b`-bit codes, reading only the bytes it occupies.
SPARQ_UK_INLINE uint32_t codeAt(const uint8_t *row, int64_t i, int b) {
  int64_t bit = i * b;
  const uint8_t *p = row + (bit >> 3);
  int sh = int(bit & 7);
  uint32_t w = p[0];
  if (sh + b > 8)
    w |= uint32_t(p[1]) << 8;
  return (w >> sh) & ((1u << b) - 1u);
}

/// The quantized weight of one call (see UKernels.h), group normalized to (0, K].
struct QW {
  const uint8_t *codes;
  int64_t rowBytes;
  const float *scales;
  const uint8_t *zp;
  int64_t ss;
  int64_t group;
  int64_t K;
  int bits;
  const uint8_t *row(int64_t n) const { return codes + n * rowBytes; }
  float scale(int64_t n, int64_t g) const { return scales[n * ss + g]; }
  int32_t zero(int64_t n, int64_t g) const { return zp ? int32_t(zp[n * ss + g]) : 0; }
  /// Groups of a row.
  int64_t groups() const { return (K + group - 1) / group; }
};

/// A width as a type: f(Width<B>()) lets a generic lambda instantiate a kernel for B.
template <int B> struct Width {
  static constexpr int value = B;
};

/// Calls f(Width<bits>()) for bits in 1-8 (8 for anything else). In an entry point inlined
/// where bits is a constant (SPARQ_UK_ENTRY), only that width is instantiated in the model.
template <class F> SPARQ_UK_INLINE void withBits(int bits, F f) {
  switch (bits) {
  case 1: return f(Width<1>());
  case 2: return f(Width<2>());
  case 3: return f(Width<3>());
  case 4: return f(Width<4>());
  case 5: return f(Width<5>());
  case 6: return f(Width<6>());
  case 7: return f(Width<7>());
  default: return f(Width<8>());
  }
}

/// One call's arguments, checked.
struct QCall {
  float *C;
  int64_t ldc;
  const float *A;
  int64_t lda;
  QW w;
  int64_t M, N;
  bool accumulate, relu;
};

/// Fills `c`; false when there is nothing to compute (no rows, no columns, a width outside
/// 1-8, or K <= 0, where C is zeroed unless accumulating).
inline bool setupQCall(QCall &c, intptr_t cAddr, int64_t ldc, intptr_t aAddr, int64_t lda,
                       intptr_t codes, int64_t codeRowBytes, intptr_t scales,
                       intptr_t zeroPoints, int64_t scaleStride, int64_t bits, int64_t group,
                       int64_t M, int64_t N, int64_t K, int64_t flags) {
  c.C = reinterpret_cast<float *>(cAddr);
  c.ldc = ldc;
  c.A = reinterpret_cast<const float *>(aAddr);
  c.lda = lda;
  c.M = M;
  c.N = N;
  c.accumulate = flags & SPARQ_UK_ACCUMULATE;
  c.relu = flags & SPARQ_UK_RELU;
  if (M <= 0 || N <= 0 || bits < 1 || bits > 8)
    return false;
  if (K <= 0) {
    if (!c.accumulate)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          c.C[m * ldc + n] = 0.0f;
    return false;
  }
  c.w.codes = reinterpret_cast<const uint8_t *>(codes);
  c.w.rowBytes = codeRowBytes;
  c.w.scales = reinterpret_cast<const float *>(scales);
  c.w.zp = reinterpret_cast<const uint8_t *>(zeroPoints);
  c.w.ss = scaleStride;
  c.w.group = group <= 0 || group > K ? K : group;
  c.w.K = K;
  c.w.bits = int(bits);
  return true;
}

/// Stores the sum `v` of one chunk of K into *c for the kernels that split K into chunks
/// (QGemmI8.cpp, NMGemmI8.cpp): added to *c unless it is the first chunk of a call that does
/// not accumulate, and clamped at 0 after the last chunk of a ReLU call.
SPARQ_UK_INLINE void storeChunkSum(float *c, float v, bool first, bool last, bool accumulate,
                                   bool relu) {
  if (!first || accumulate)
    v += *c;
  if (last && relu && v < 0.0f)
    v = 0.0f;
  *c = v;
}

/// The activation quantization of the int8-activation kernels (QGemmI8.cpp, NMGemmI8.cpp): with
/// amax = max |a[j]| over the group [gb, ge), q[k - qb] = round-to-nearest-even(a[k] * (127 /
/// amax)) (clamped to +-127; 0 when amax = 0) for k in [qb, qe). Returns the scale amax / 127.
inline float quantizeGroupInt8(const float *a, int64_t gb, int64_t ge, int64_t qb, int64_t qe,
                               int8_t *q) {
  vf vmax = splat(0.0f);
  int64_t j = gb;
  for (; j + V <= ge; j += V) {
    vf x = load(a + j);
    x = x < 0.0f ? -x : x;
    vmax = x > vmax ? x : vmax;
  }
  float amax = hmax(vmax);
  for (; j < ge; ++j) {
    float x = a[j] < 0.0f ? -a[j] : a[j];
    amax = x > amax ? x : amax;
  }
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  for (int64_t k = qb; k < qe; ++k) {
    float y = __builtin_rintf(a[k] * inv);
    q[k - qb] = int8_t(y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y);
  }
  return amax / 127.0f;
}

} // namespace sparq::kernels

#endif // SPARQ_RUNTIME_KERNELS_QCALL_H
