//===- lib/Compression/Compression.cpp - weight compression algorithms --------===//
#include "lib/Compression/Compression.h"

#include "sparq/Formats/PackedFormats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sparq::compression {

namespace fmt = sparq::formats;

double relativeError(const std::vector<float> &a, const std::vector<float> &b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = (double)a[i] - b[i];
    num += d * d;
    den += (double)a[i] * a[i];
  }
  if (den == 0)
    return num == 0 ? 0 : INFINITY;
  return std::sqrt(num / den);
}

std::vector<float> pruneNM(const std::vector<float> &w, int64_t rows, int64_t k, unsigned n,
                           unsigned m) {
  std::vector<float> out(w.size());
  for (int64_t r = 0; r < rows; ++r)
    fmt::nmPruneRow(&w[r * k], k, n, m, &out[r * k]);
  return out;
}

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

//===----------------------------------------------------------------------===//
// BCQ
//===----------------------------------------------------------------------===//

namespace {

/// Solves the small SPD system A x = b (n <= 8) by Gaussian elimination with partial pivoting;
/// returns false if singular.
bool solve(std::vector<double> a, std::vector<double> b, unsigned n, std::vector<double> &x) {
  for (unsigned col = 0; col < n; ++col) {
    unsigned piv = col;
    for (unsigned r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[piv * n + col]))
        piv = r;
    if (std::fabs(a[piv * n + col]) < 1e-12)
      return false;
    for (unsigned j = 0; j < n; ++j)
      std::swap(a[col * n + j], a[piv * n + j]);
    std::swap(b[col], b[piv]);
    for (unsigned r = col + 1; r < n; ++r) {
      double f = a[r * n + col] / a[col * n + col];
      for (unsigned j = col; j < n; ++j)
        a[r * n + j] -= f * a[col * n + j];
      b[r] -= f * b[col];
    }
  }
  x.assign(n, 0);
  for (int r = (int)n - 1; r >= 0; --r) {
    double s = b[r];
    for (unsigned j = r + 1; j < n; ++j)
      s -= a[r * n + j] * x[j];
    x[r] = s / a[r * n + r];
  }
  return true;
}

float roundPow2(float v) {
  if (v == 0)
    return 0;
  float s = v < 0 ? -1.0f : 1.0f;
  return s * std::exp2(std::round(std::log2(std::fabs(v))));
}

} // namespace

BCQ fitBCQ(const std::vector<float> &w, int64_t rows, int64_t k, const BCQConfig &cfg) {
  unsigned q = cfg.q;
  int64_t g = cfg.group;
  int64_t groups = fmt::numGroups(k, g);
  BCQ out;
  out.signs.assign((size_t)q * rows * k, 1.0f);
  out.scales.assign((size_t)q * rows * groups, 0.0f);
  auto sign = [&](unsigned p, int64_t r, int64_t c) -> float & {
    return out.signs[((size_t)p * rows + r) * k + c];
  };
  auto scale = [&](unsigned p, int64_t r, int64_t j) -> float & {
    return out.scales[((size_t)p * rows + r) * groups + j];
  };

  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < groups; ++j) {
      int64_t c0 = j * g, c1 = std::min(k, c0 + g);
      // Greedy residual initialization.
      std::vector<double> res(w.begin() + r * k + c0, w.begin() + r * k + c1);
      for (unsigned p = 0; p < q; ++p) {
        double mean = 0;
        for (size_t i = 0; i < res.size(); ++i) {
          sign(p, r, c0 + i) = res[i] >= 0 ? 1.0f : -1.0f;
          mean += std::fabs(res[i]);
        }
        mean /= res.size();
        scale(p, r, j) = cfg.pow2 ? roundPow2((float)mean) : (float)mean;
        for (size_t i = 0; i < res.size(); ++i)
          res[i] -= scale(p, r, j) * sign(p, r, c0 + i);
      }
      // Alternating refinement.
      for (unsigned it = 0; it < cfg.iterations; ++it) {
        // Scales given signs: least squares (B^T B) a = B^T w.
        std::vector<double> ata(q * q, 0), atb(q, 0), a;
        for (int64_t c = c0; c < c1; ++c) {
          for (unsigned p1 = 0; p1 < q; ++p1) {
            atb[p1] += sign(p1, r, c) * (double)w[r * k + c];
            for (unsigned p2 = 0; p2 < q; ++p2)
              ata[p1 * q + p2] += sign(p1, r, c) * sign(p2, r, c);
          }
        }
        if (solve(ata, atb, q, a))
          for (unsigned p = 0; p < q; ++p)
            scale(p, r, j) = cfg.pow2 ? roundPow2((float)a[p]) : (float)a[p];
        // Signs given scales: the best of the 2^q combinations per element.
        for (int64_t c = c0; c < c1; ++c) {
          double bestErr = INFINITY;
          unsigned best = 0;
          for (unsigned combo = 0; combo < (1u << q); ++combo) {
            double v = 0;
            for (unsigned p = 0; p < q; ++p)
              v += ((combo >> p) & 1 ? 1.0 : -1.0) * scale(p, r, j);
            double e = std::fabs(w[r * k + c] - v);
            if (e < bestErr) {
              bestErr = e;
              best = combo;
            }
          }
          for (unsigned p = 0; p < q; ++p)
            sign(p, r, c) = (best >> p) & 1 ? 1.0f : -1.0f;
        }
      }
    }
  out.dequantized.assign(rows * k, 0.0f);
  for (unsigned p = 0; p < q; ++p)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < k; ++c)
        out.dequantized[r * k + c] += scale(p, r, c / g) * sign(p, r, c);
  return out;
}

//===----------------------------------------------------------------------===//
// Rearrangement
//===----------------------------------------------------------------------===//

std::vector<float> channelScores(const std::vector<float> &w, int64_t rows, int64_t k) {
  std::vector<float> s(k, 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c)
      s[c] = std::max(s[c], std::fabs(w[r * k + c]));
  return s;
}

std::vector<int64_t> sortChannelsByScore(const std::vector<float> &scores) {
  std::vector<int64_t> perm(scores.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  return perm;
}

std::vector<float> permuteColumns(const std::vector<float> &w, int64_t rows, int64_t k,
                                  const std::vector<int64_t> &perm) {
  std::vector<float> out(w.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < k; ++i)
      out[r * k + i] = w[r * k + perm[i]];
  return out;
}

RearrangeDecision decideRearrangement(const std::vector<float> &w, int64_t rows, int64_t k,
                                      const QuantConfig &config) {
  RearrangeDecision d;
  d.errorWithout = relativeError(w, quantize(w, rows, k, config).dequantized);
  std::vector<int64_t> perm = sortChannelsByScore(channelScores(w, rows, k));
  std::vector<float> pw = permuteColumns(w, rows, k, perm);
  d.errorWith = relativeError(pw, quantize(pw, rows, k, config).dequantized);
  if (d.errorWith < d.errorWithout * 0.999) // a real gain, not rounding noise
    d.permutation = std::move(perm);
  else
    d.errorWith = d.errorWithout;
  return d;
}

} // namespace sparq::compression
