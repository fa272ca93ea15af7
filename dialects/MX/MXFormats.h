//===- dialects/MX/MXFormats.h - FP4 microscaling formats -----------*- C++ -*-===//
//
// The packed layouts and numerics of the 4-bit floating-point weight formats, header-only and
// MLIR-free so the compiler (which packs) and kernels (which unpack) share one definition:
//   - E2M1 elements (OCP Microscaling Formats spec v1.0): sign, 2 exponent bits (bias 1),
//     1 mantissa bit; the values 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives. Codes are
//     4-bit, packed two per byte, element 2i in the low nibble (the sub-byte layout of
//     include/sparq/Formats/PackedFormats.h with 4 bits).
//   - MXFP4: blocks of 32 consecutive values along K share an E8M0 scale (a byte e meaning
//     2^(e-127); 255 is NaN).
//   - NVFP4: blocks of 16 share an FP8 E4M3 scale (OCP FP8 E4M3FN: bias 7, max 448, no
//     infinities), multiplied by one fp32 scale per tensor.
// The dialect description (MX.td, docs/generated/SparqMXDialect.md) cites the sources.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_MX_MXFORMATS_H
#define SPARQ_DIALECTS_MX_MXFORMATS_H

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace sparq::mx {

constexpr size_t kMXFP4Block = 32;
constexpr size_t kNVFP4Block = 16;
constexpr float kE2M1Max = 6.0f;
constexpr float kE4M3Max = 448.0f;

/// The value of a 4-bit E2M1 code.
inline float e2m1Value(uint8_t code) {
  static constexpr float magnitude[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  float m = magnitude[code & 7];
  return (code & 8) ? -m : m;
}

/// The E2M1 code nearest to x (ties to the even code, saturating at +-6).
inline uint8_t e2m1Encode(float x) {
  uint8_t sign = std::signbit(x) ? 8 : 0;
  float a = std::fabs(x);
  uint8_t best = 0;
  float bestErr = a;
  for (uint8_t c = 1; c < 8; ++c) {
    float err = std::fabs(a - e2m1Value(c));
    if (err < bestErr || (err == bestErr && (c & 1) == 0)) {
      best = c;
      bestErr = err;
    }
  }
  return best == 0 ? 0 : static_cast<uint8_t>(sign | best);
}

/// The value of an E8M0 scale byte: 2^(e-127), NaN for 255.
inline float e8m0Value(uint8_t e) {
  return e == 255 ? NAN : std::ldexp(1.0f, static_cast<int>(e) - 127);
}

/// The value of an FP8 E4M3FN byte.
inline float e4m3Value(uint8_t b) {
  int e = (b >> 3) & 15, m = b & 7;
  if (e == 15 && m == 7)
    return NAN;
  float v = e == 0 ? std::ldexp(m / 8.0f, -6) : std::ldexp(1.0f + m / 8.0f, e - 7);
  return (b & 0x80) ? -v : v;
}

/// The non-negative E4M3 byte nearest to x >= 0 (ties to the even code, saturating at 448).
inline uint8_t e4m3EncodePositive(float x) {
  uint8_t best = 0;
  float bestErr = std::fabs(x);
  for (unsigned c = 1; c < 127; ++c) { // 127 is NaN
    float err = std::fabs(x - e4m3Value(static_cast<uint8_t>(c)));
    if (err < bestErr || (err == bestErr && (c & 1) == 0)) {
      best = static_cast<uint8_t>(c);
      bestErr = err;
    }
  }
  return best;
}

/// Squared error of encoding `n` values with scale `s` in E2M1.
inline double blockError(const float *x, size_t n, float s) {
  double err = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = x[i] - (s > 0 ? e2m1Value(e2m1Encode(x[i] / s)) * s : 0.0f);
    err += d * d;
  }
  return err;
}

/// The E8M0 scale of one MXFP4 block: the spec's 2^(floor(log2 amax) - 2), or twice that when
/// it encodes the block with a lower squared error (values above 6 x scale saturate otherwise).
inline uint8_t mxfp4BlockScale(const float *x, size_t n) {
  float amax = 0;
  for (size_t i = 0; i < n; ++i)
    amax = std::fmax(amax, std::fabs(x[i]));
  if (amax == 0 || !std::isfinite(amax))
    return 127; // 2^0; every code is 0
  int e = static_cast<int>(std::floor(std::log2(amax))) - 2 + 127;
  if (e < 0)
    e = 0;
  if (e > 253)
    e = 253;
  double lo = blockError(x, n, e8m0Value(static_cast<uint8_t>(e)));
  double hi = blockError(x, n, e8m0Value(static_cast<uint8_t>(e + 1)));
  return static_cast<uint8_t>(hi < lo ? e + 1 : e);
}

/// The per-tensor fp32 scale of NVFP4: amax / (448 * 6), so every block scale fits E4M3.
inline float nvfp4TensorScale(float amax) {
  return amax > 0 && std::isfinite(amax) ? amax / (kE4M3Max * kE2M1Max) : 1.0f;
}

/// The E4M3 scale byte of one NVFP4 block under the tensor scale `g`.
inline uint8_t nvfp4BlockScale(const float *x, size_t n, float g) {
  float amax = 0;
  for (size_t i = 0; i < n; ++i)
    amax = std::fmax(amax, std::fabs(x[i]));
  return e4m3EncodePositive(amax / kE2M1Max / g);
}

} // namespace sparq::mx

#endif // SPARQ_DIALECTS_MX_MXFORMATS_H
