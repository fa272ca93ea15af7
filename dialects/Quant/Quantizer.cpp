//===- dialects/Quant/Quantizer.cpp - round-to-nearest quantization ---===//
#include "dialects/Quant/Quantizer.h"

#include "dialects/Weight/Calibration.h"
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

/// The error-minimizing parameters for `values` (plain min/max unless `c.searchClip`).
GroupParams fitParams(const std::vector<float> &values, const QuantConfig &c) {
  float lo = 0, hi = 0;
  for (float x : values) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  GroupParams best = paramsFor(lo, hi, 1.0f, c);
  if (!c.searchClip)
    return best;
  double bestErr = INFINITY;
  // Ratios tried by the clipping search (1.0 = plain min/max).
  for (int i = 0; i <= 10; ++i) {
    GroupParams gp = paramsFor(lo, hi, 1.0f - 0.05f * i, c);
    double err = 0;
    for (float x : values) {
      float d = (quantizeValue(x, gp, c) - gp.zeroPoint) * gp.scale;
      err += (double)(x - d) * (x - d);
    }
    if (err < bestErr) {
      bestErr = err;
      best = gp;
    }
  }
  return best;
}

/// The shape of a quantization's parameters.
struct ParamLayout {
  int64_t g, groups, paramRows;
  ParamLayout(const QuantConfig &c, int64_t rows, int64_t k)
      : g(c.group > 0 ? c.group : k), groups(c.group > 0 ? (int64_t)fmt::numGroups(k, g) : 1),
        paramRows(c.group < 0 ? 1 : rows) {}
};

Quantized emptyResult(const QuantConfig &c, int64_t rows, int64_t k, const ParamLayout &pl) {
  Quantized out;
  out.codes.assign(rows * k, 0);
  out.dequantized.assign(rows * k, 0.0f);
  out.scales.assign(pl.paramRows * pl.groups, 1.0f);
  if (!c.symmetric)
    out.zeroPoints.assign(pl.paramRows * pl.groups, 0);
  return out;
}

void storeParams(Quantized &out, int64_t p, GroupParams gp, const QuantConfig &c) {
  out.scales[p] = gp.scale;
  if (!c.symmetric)
    out.zeroPoints[p] = (int8_t)gp.zeroPoint;
}

} // namespace

Quantized quantize(const std::vector<float> &w, int64_t rows, int64_t k, const QuantConfig &c,
                   const std::vector<bool> *keep) {
  ParamLayout pl(c, rows, k);
  Quantized out = emptyResult(c, rows, k, pl);
  // Elements of one parameter set: (row range, column range).
  auto forEachSet = [&](auto fn) {
    if (c.group < 0) {
      fn(0, 0, rows, 0, k);
      return;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < pl.groups; ++j)
        fn(r * pl.groups + j, r, r + 1, j * pl.g, std::min(k, (j + 1) * pl.g));
  };
  std::vector<float> values;
  forEachSet([&](int64_t p, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    values.clear();
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t col = c0; col < c1; ++col)
        if (!keep || (*keep)[r * k + col])
          values.push_back(w[r * k + col]);
    GroupParams best = fitParams(values, c);
    storeParams(out, p, best, c);
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

Quantized quantizeGPTQ(const std::vector<float> &w, int64_t rows, int64_t k, const QuantConfig &c,
                       const std::vector<double> &u, const std::vector<int64_t> *positions,
                       int64_t denseK) {
  ParamLayout pl(c, rows, k);
  Quantized out = emptyResult(c, rows, k, pl);
  weight::CompensatedSweep sweep(w, rows, k, u, positions, denseK);
  std::vector<GroupParams> params(pl.paramRows);
  std::vector<float> values;
  // Fits the parameters of the group element i starts (per tensor: all rows at once) to the
  // group's current values.
  auto fit = [&](int64_t r, int64_t i) {
    values.clear();
    int64_t g = c.group > 0 ? pl.g : k;
    int64_t r0 = c.group < 0 ? 0 : r, r1 = c.group < 0 ? rows : r + 1;
    for (int64_t rr = r0; rr < r1; ++rr)
      for (int64_t e = i; e < std::min(k, i + g); ++e)
        values.push_back((float)sweep.current(rr, e));
    int64_t pr = c.group < 0 ? 0 : r;
    params[pr] = fitParams(values, c);
    storeParams(out, pr * pl.groups + (c.group > 0 ? i / pl.g : 0), params[pr], c);
  };
  if (c.group < 0)
    fit(0, 0);
  sweep.run([&](int64_t r, int64_t i, double x) -> double {
    if (c.group >= 0 && (c.group > 0 ? i % pl.g == 0 : i == 0))
      fit(r, i);
    GroupParams gp = params[c.group < 0 ? 0 : r];
    int q = quantizeValue((float)x, gp, c);
    float deq = (q - gp.zeroPoint) * gp.scale;
    out.codes[r * k + i] = (int8_t)q;
    out.dequantized[r * k + i] = deq;
    return deq;
  });
  // Padding values: the zero point's code, as round-to-nearest gives them.
  if (positions && !c.symmetric)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i)
        if (sweep.column(r, i) < 0)
          out.codes[r * k + i] =
              out.zeroPoints[(c.group < 0 ? 0 : r) * pl.groups + (c.group > 0 ? i / pl.g : 0)];
  return out;
}

} // namespace sparq::compression
