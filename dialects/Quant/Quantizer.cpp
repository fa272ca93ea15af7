//===- dialects/Quant/Quantizer.cpp - round-to-nearest quantization ---===//
#include "dialects/Quant/Quantizer.h"

#include "sparq/Formats/PackedFormats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sparq::compression {

namespace fmt = sparq::formats;

namespace {

struct GroupParams {
  float scale;
  int zeroPoint;
};

/// Scale / zero point for the values [lo, hi] (lo <= 0 <= hi) shrunk by `ratio`.
GroupParams paramsFor(float lo, float hi, float ratio, const QuantConfig &c) {
  int qmin = fmt::minValue(c.bits, c.isSigned), qmax = fmt::maxValue(c.bits, c.isSigned);
  if (c.symmetric) {
    float amax = std::max(std::fabs(lo), std::fabs(hi)) * ratio;
    float scale = amax > 0 ? amax / (float)qmax : 1.0f;
    return {scale, 0};
  }
  lo = std::min(lo, 0.0f) * ratio;
  hi = std::max(hi, 0.0f) * ratio;
  float scale = hi > lo ? (hi - lo) / (float)(qmax - qmin) : 1.0f;
  int zp = (int)std::lround(qmin - lo / scale);
  zp = std::min(std::max(zp, qmin), qmax);
  return {scale, zp};
}

int quantizeValue(float x, GroupParams p, const QuantConfig &c) {
  int qmin = fmt::minValue(c.bits, c.isSigned), qmax = fmt::maxValue(c.bits, c.isSigned);
  long q = std::lrint(x / p.scale) + p.zeroPoint;
  return (int)std::min<long>(std::max<long>(q, qmin), qmax);
}

} // namespace

Quantized quantize(const std::vector<float> &w, int64_t rows, int64_t k, const QuantConfig &c,
                   const std::vector<bool> *keep) {
  int64_t g = c.group > 0 ? c.group : k;
  int64_t groups = c.group > 0 ? (int64_t)fmt::numGroups(k, g) : 1;
  int64_t paramRows = c.group < 0 ? 1 : rows;
  Quantized out;
  out.codes.assign(rows * k, 0);
  out.dequantized.assign(rows * k, 0.0f);
  out.scales.assign(paramRows * groups, 1.0f);
  if (!c.symmetric)
    out.zeroPoints.assign(paramRows * groups, 0);

  // Ratios tried by the clipping search (1.0 = plain min/max).
  std::vector<float> ratios = {1.0f};
  if (c.searchClip)
    for (int i = 1; i <= 10; ++i)
      ratios.push_back(1.0f - 0.05f * i);

  // Elements of one parameter set: (row range, column range).
  auto forEachSet = [&](auto fn) {
    if (c.group < 0) {
      fn(0, 0, rows, 0, k);
      return;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < groups; ++j)
        fn(r * groups + j, r, r + 1, j * g, std::min(k, (j + 1) * g));
  };
  forEachSet([&](int64_t p, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    float lo = 0, hi = 0;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t col = c0; col < c1; ++col) {
        if (keep && !(*keep)[r * k + col])
          continue;
        lo = std::min(lo, w[r * k + col]);
        hi = std::max(hi, w[r * k + col]);
      }
    GroupParams best{};
    double bestErr = INFINITY;
    for (float ratio : ratios) {
      GroupParams gp = paramsFor(lo, hi, ratio, c);
      double err = 0;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t col = c0; col < c1; ++col) {
          if (keep && !(*keep)[r * k + col])
            continue;
          float x = w[r * k + col];
          float d = (quantizeValue(x, gp, c) - gp.zeroPoint) * gp.scale;
          err += (double)(x - d) * (x - d);
        }
      if (err < bestErr) {
        bestErr = err;
        best = gp;
      }
    }
    out.scales[p] = best.scale;
    if (!c.symmetric)
      out.zeroPoints[p] = (int8_t)best.zeroPoint;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t col = c0; col < c1; ++col) {
        bool kept = !keep || (*keep)[r * k + col];
        int q = kept ? quantizeValue(w[r * k + col], best, c) : best.zeroPoint;
        out.codes[r * k + col] = (int8_t)q;
        out.dequantized[r * k + col] = kept ? (q - best.zeroPoint) * best.scale : 0.0f;
      }
  });
  return out;
}

} // namespace sparq::compression
