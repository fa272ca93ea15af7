//===- dialects/ShiftAdd/BCQFit.cpp - binary-coded quantization fit ---===//
#include "dialects/ShiftAdd/BCQFit.h"

#include "dialects/Weight/Calibration.h"
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

/// The sum of the q planes' scales with the signs of `combo` (bit p set: +1).
double level(unsigned combo, const double *scales, unsigned q) {
  double v = 0;
  for (unsigned p = 0; p < q; ++p)
    v += ((combo >> p) & 1 ? 1.0 : -1.0) * scales[p];
  return v;
}

/// The sign combination whose level is nearest to x.
unsigned nearestCombo(double x, const double *scales, unsigned q) {
  double bestErr = INFINITY;
  unsigned best = 0;
  for (unsigned combo = 0; combo < (1u << q); ++combo) {
    double e = std::fabs(x - level(combo, scales, q));
    if (e < bestErr) {
      bestErr = e;
      best = combo;
    }
  }
  return best;
}

/// Fits q scales to the n values `v` (one group of one row), minimizing Σ wtᵢ (vᵢ − v̂ᵢ)²
/// (`wt` null: all weights 1): greedy residual initialization, then alternating refinement —
/// weighted least-squares scales given the signs, then the nearest level per value given the
/// scales (the best signs whatever the weights, which are per value). `combos[i]` gets value
/// i's sign combination.
void fitGroup(const double *v, const double *wt, size_t n, const BCQConfig &cfg, double *scales,
              unsigned *combos) {
  unsigned q = cfg.q;
  auto weight = [&](size_t i) { return wt ? wt[i] : 1.0; };
  auto round = [&](double a) { return cfg.pow2 ? (double)roundPow2((float)a) : (double)(float)a; };
  std::vector<double> res(v, v + n);
  std::fill(combos, combos + n, 0u);
  double total = 0;
  for (size_t i = 0; i < n; ++i)
    total += weight(i);
  for (unsigned p = 0; p < q; ++p) {
    double mean = 0;
    for (size_t i = 0; i < n; ++i) {
      if (res[i] >= 0)
        combos[i] |= 1u << p;
      mean += weight(i) * std::fabs(res[i]);
    }
    scales[p] = round(total > 0 ? mean / total : 0.0);
    for (size_t i = 0; i < n; ++i)
      res[i] -= scales[p] * ((combos[i] >> p) & 1 ? 1.0 : -1.0);
  }
  for (unsigned it = 0; it < cfg.iterations; ++it) {
    // Scales given signs: (Bᵀ D B) a = Bᵀ D v.
    std::vector<double> ata(q * q, 0), atb(q, 0), a;
    for (size_t i = 0; i < n; ++i) {
      double wi = weight(i);
      for (unsigned p1 = 0; p1 < q; ++p1) {
        double s1 = (combos[i] >> p1) & 1 ? 1.0 : -1.0;
        atb[p1] += wi * s1 * v[i];
        for (unsigned p2 = 0; p2 < q; ++p2)
          ata[p1 * q + p2] += wi * s1 * ((combos[i] >> p2) & 1 ? 1.0 : -1.0);
      }
    }
    if (solve(ata, atb, q, a))
      for (unsigned p = 0; p < q; ++p)
        scales[p] = round(a[p]);
    for (size_t i = 0; i < n; ++i)
      combos[i] = nearestCombo(v[i], scales, q);
  }
}

struct Planes {
  BCQ &out;
  int64_t rows, k, groups;
  void set(int64_t r, int64_t c, unsigned combo, unsigned q) {
    for (unsigned p = 0; p < q; ++p)
      out.signs[((size_t)p * rows + r) * k + c] = (combo >> p) & 1 ? 1.0f : -1.0f;
  }
  void setScales(int64_t r, int64_t j, const double *scales, unsigned q) {
    for (unsigned p = 0; p < q; ++p)
      out.scales[((size_t)p * rows + r) * groups + j] = (float)scales[p];
  }
};

BCQ emptyBCQ(int64_t rows, int64_t k, unsigned q, int64_t groups) {
  BCQ out;
  out.signs.assign((size_t)q * rows * k, 1.0f);
  out.scales.assign((size_t)q * rows * groups, 0.0f);
  out.dequantized.assign((size_t)(rows * k), 0.0f);
  return out;
}

} // namespace

BCQ fitBCQ(const std::vector<float> &w, int64_t rows, int64_t k, const BCQConfig &cfg) {
  unsigned q = cfg.q;
  int64_t g = cfg.group, groups = fmt::numGroups(k, g);
  BCQ out = emptyBCQ(rows, k, q, groups);
  Planes planes{out, rows, k, groups};
  std::vector<double> v, scales(q);
  std::vector<unsigned> combos;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < groups; ++j) {
      int64_t c0 = j * g, c1 = std::min(k, c0 + g);
      v.assign(w.begin() + r * k + c0, w.begin() + r * k + c1);
      combos.resize(v.size());
      fitGroup(v.data(), nullptr, v.size(), cfg, scales.data(), combos.data());
      planes.setScales(r, j, scales.data(), q);
      for (int64_t c = c0; c < c1; ++c) {
        planes.set(r, c, combos[c - c0], q);
        out.dequantized[r * k + c] = (float)level(combos[c - c0], scales.data(), q);
      }
    }
  return out;
}

BCQ fitBCQCompensated(const std::vector<float> &w, int64_t rows, int64_t k, const BCQConfig &cfg,
                      const std::vector<double> &u, const std::vector<double> &importance,
                      const std::vector<int64_t> *positions, int64_t denseK) {
  unsigned q = cfg.q;
  int64_t g = cfg.group, groups = fmt::numGroups(k, g);
  BCQ out = emptyBCQ(rows, k, q, groups);
  Planes planes{out, rows, k, groups};
  weight::CompensatedSweep sweep(w, rows, k, u, positions, denseK);
  std::vector<double> scales((size_t)(rows * q)), v, wt;
  std::vector<unsigned> combos;
  sweep.run([&](int64_t r, int64_t i, double x) -> double {
    double *rs = &scales[r * q];
    if (i % g == 0) {
      // The group's scales, fitted to its current values weighted by their inputs' energy.
      int64_t e1 = std::min(k, i + g);
      v.clear();
      wt.clear();
      for (int64_t e = i; e < e1; ++e) {
        int64_t p = sweep.column(r, e);
        v.push_back(sweep.current(r, e));
        wt.push_back(p < 0 ? 0.0 : importance[p]);
      }
      combos.resize(v.size());
      fitGroup(v.data(), wt.data(), v.size(), cfg, rs, combos.data());
      planes.setScales(r, i / g, rs, q);
    }
    unsigned combo = nearestCombo(x, rs, q);
    planes.set(r, i, combo, q);
    double deq = level(combo, rs, q);
    out.dequantized[r * k + i] = (float)deq;
    return deq;
  });
  // Padding past the dense K: the level nearest zero, as the data-free fit gives it.
  if (positions)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i)
        if (sweep.column(r, i) < 0) {
          const float *s0 = &out.scales[(size_t)r * groups + i / g];
          double s[8];
          for (unsigned p = 0; p < q; ++p)
            s[p] = s0[(size_t)p * rows * groups];
          unsigned combo = nearestCombo(0.0, s, q);
          planes.set(r, i, combo, q);
          out.dequantized[r * k + i] = (float)level(combo, s, q);
        }
  return out;
}

} // namespace sparq::compression
