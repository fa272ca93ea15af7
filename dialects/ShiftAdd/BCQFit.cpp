//===- dialects/ShiftAdd/BCQFit.cpp - binary-coded quantization fit ---===//
#include "dialects/ShiftAdd/BCQFit.h"

#include "sparq/Formats/PackedFormats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sparq::compression {

namespace fmt = sparq::formats;

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

} // namespace sparq::compression
