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
                       const std::vector<double> &u, const std::vector<bool> *keep) {
  ParamLayout pl(c, rows, k);
  Quantized out = emptyResult(c, rows, k, pl);
  std::vector<double> cur(w.begin(), w.end()); // the weights as compensation updates them
  std::vector<GroupParams> params(pl.paramRows);
  std::vector<float> values;
  auto fitRows = [&](int64_t c0, int64_t c1, int64_t group) {
    // Per tensor: one set over everything; otherwise one per row over columns [c0, c1).
    for (int64_t pr = 0; pr < pl.paramRows; ++pr) {
      values.clear();
      int64_t r0 = c.group < 0 ? 0 : pr, r1 = c.group < 0 ? rows : pr + 1;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t col = c0; col < c1; ++col)
          if (!keep || (*keep)[r * k + col])
            values.push_back((float)cur[r * k + col]);
      params[pr] = fitParams(values, c);
      storeParams(out, pr * pl.groups + group, params[pr], c);
    }
  };
  // Lazy batches: compensation inside a block is applied column by column, to the columns
  // after the block once per block (the same result, fewer passes over the weight).
  constexpr int64_t kBlock = 64;
  std::vector<double> err((size_t)(rows * kBlock));
  for (int64_t b0 = 0; b0 < k; b0 += kBlock) {
    int64_t b1 = std::min(k, b0 + kBlock);
    for (int64_t j = b0; j < b1; ++j) {
      if (j == 0 || (c.group > 0 && j % pl.g == 0))
        fitRows(j, c.group > 0 ? std::min(k, j + pl.g) : k, c.group > 0 ? j / pl.g : 0);
      const double *uj = &u[j * k];
      double d = uj[j];
      for (int64_t r = 0; r < rows; ++r) {
        GroupParams gp = params[c.group < 0 ? 0 : r];
        bool kept = !keep || (*keep)[r * k + j];
        double x = cur[r * k + j];
        int q = kept ? quantizeValue((float)x, gp, c) : gp.zeroPoint;
        float deq = kept ? (q - gp.zeroPoint) * gp.scale : 0.0f;
        out.codes[r * k + j] = (int8_t)q;
        out.dequantized[r * k + j] = deq;
        double e = (x - deq) / d;
        err[r * kBlock + (j - b0)] = e;
        double *row = &cur[r * k];
        for (int64_t l = j + 1; l < b1; ++l)
          row[l] -= e * uj[l];
      }
    }
    if (b1 == k)
      break;
    for (int64_t r = 0; r < rows; ++r) {
      double *row = &cur[r * k];
      for (int64_t j = b0; j < b1; ++j) {
        double e = err[r * kBlock + (j - b0)];
        if (e == 0.0)
          continue;
        const double *uj = &u[j * k];
        for (int64_t l = b1; l < k; ++l)
          row[l] -= e * uj[l];
      }
    }
  }
  return out;
}

} // namespace sparq::compression
