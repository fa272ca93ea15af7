//===- test/unit/Compression/CalibratedTest.cpp - data-aware compression -----===//
//
// The calibrated methods against plain reference computations written here (issue 12):
//  - the damped inverse factor U satisfies UᵀU (H + λI) = I;
//  - the layer output error from the statistics equals ‖(W − Q)X‖ / ‖WX‖ computed from X;
//  - GPTQ's result equals the optimal-brain-surgeon sweep done directly, inverting the Hessian
//    of the remaining columns at every step (no Cholesky factor), per channel and group-wise;
//  - GPTQ of the kept values after N:M pruning equals the direct sweep over the dense columns
//    with the dropped ones' target zero;
//  - SparseGPT's N:M result equals the same direct sweep with its saliency-chosen masks;
//  - the compensated one-plane shift-add fit equals the direct sweep with each group's scale the
//    input-energy-weighted mean magnitude (the weighted least-squares optimum), also across the
//    sweep's blocks of 64 columns;
//  - Wanda keeps the values of largest |w|·‖x‖ (a hand-computed case);
//  - compensation never increases the calibration output error compared with round-to-nearest
//    (uniform and shift-add).
//
//===----------------------------------------------------------------------===//
#include "dialects/NM/Prune.h"
#include "dialects/Quant/Quantizer.h"
#include "dialects/ShiftAdd/BCQFit.h"
#include "dialects/Weight/Calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace sparq::compression;
using sparq::weight::InputStatistics;

namespace {

/// `n` input vectors of length k with correlated channels and a few large ones (as real
/// activations have).
std::vector<float> correlatedInputs(int64_t n, int64_t k, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> mix(k * k);
  for (float &v : mix)
    v = d(rng) * 0.5f;
  std::vector<float> x(n * k);
  std::vector<float> z(k);
  for (int64_t i = 0; i < n; ++i) {
    for (float &v : z)
      v = d(rng);
    for (int64_t a = 0; a < k; ++a) {
      float s = z[a];
      for (int64_t b = 0; b < k; ++b)
        s += mix[a * k + b] * z[b];
      x[i * k + a] = s * (a % 5 == 0 ? 4.0f : 1.0f);
    }
  }
  return x;
}

std::vector<float> gaussian(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

/// The statistics' inverse factor at `damp` (empty, with the error printed, on failure).
std::vector<double> factor(const InputStatistics &st, double damp) {
  std::string err;
  std::vector<double> u = st.inverseFactor(damp, err);
  if (u.empty())
    ADD_FAILURE() << err;
  return u;
}

/// H + λI exactly as the statistics damp it, computed from X here.
std::vector<double> dampedHessian(const std::vector<float> &x, int64_t n, int64_t k,
                                  double damp) {
  std::vector<double> h(k * k, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b)
        h[a * k + b] += (double)x[i * k + a] * x[i * k + b] / (double)n;
  double mean = 0;
  for (int64_t a = 0; a < k; ++a)
    mean += h[a * k + a] / (double)k;
  for (int64_t a = 0; a < k; ++a)
    h[a * k + a] += damp * mean;
  return h;
}

/// Inverse of a symmetric positive definite matrix by Gauss-Jordan elimination.
std::vector<double> invert(std::vector<double> m, int64_t k) {
  std::vector<double> inv(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    inv[i * k + i] = 1.0;
  for (int64_t c = 0; c < k; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < k; ++r)
      if (std::fabs(m[r * k + c]) > std::fabs(m[piv * k + c]))
        piv = r;
    for (int64_t j = 0; j < k; ++j) {
      std::swap(m[c * k + j], m[piv * k + j]);
      std::swap(inv[c * k + j], inv[piv * k + j]);
    }
    double p = m[c * k + c];
    for (int64_t j = 0; j < k; ++j) {
      m[c * k + j] /= p;
      inv[c * k + j] /= p;
    }
    for (int64_t r = 0; r < k; ++r) {
      if (r == c)
        continue;
      double f = m[r * k + c];
      for (int64_t j = 0; j < k; ++j) {
        m[r * k + j] -= f * m[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  return inv;
}

/// Inverse of the Hessian restricted to columns [j, k), as a [k-j, k-j] matrix.
std::vector<double> tailInverse(const std::vector<double> &h, int64_t k, int64_t j) {
  int64_t t = k - j;
  std::vector<double> sub(t * t);
  for (int64_t a = 0; a < t; ++a)
    for (int64_t b = 0; b < t; ++b)
      sub[a * t + b] = h[(j + a) * k + (j + b)];
  return invert(sub, t);
}

/// The direct optimal-brain-surgeon sweep: columns in order, column j replaced by `target(r,
/// j, current row)` and the remaining columns updated with the inverse Hessian of the columns
/// not yet fixed. `atGroupStart(j, w)` runs before column j is visited.
template <typename Target, typename GroupStart>
std::vector<double> obsSweep(std::vector<double> w, int64_t rows, int64_t k,
                             const std::vector<double> &h, GroupStart atGroupStart,
                             Target target) {
  for (int64_t j = 0; j < k; ++j) {
    atGroupStart(j, w);
    std::vector<double> hinv = tailInverse(h, k, j);
    int64_t t = k - j;
    for (int64_t r = 0; r < rows; ++r) {
      double *row = &w[r * k];
      double q = target(r, j, row);
      double delta = (row[j] - q) / hinv[0];
      for (int64_t a = 0; a < t; ++a)
        row[j + a] -= delta * hinv[a]; // column 0 of the tail inverse (symmetric: row 0)
      row[j] = q;
    }
  }
  return w;
}

/// Symmetric signed quantization of x with the scale of absmax `amax`, as the quantizer
/// defines it (codes in [-2^(b-1), 2^(b-1) - 1], scale = amax / (2^(b-1) - 1)).
double symQuant(double x, float amax, unsigned bits) {
  int qmax = (1 << (bits - 1)) - 1, qmin = -(1 << (bits - 1));
  float scale = amax > 0 ? amax / (float)qmax : 1.0f;
  long q = std::lrint((float)x / scale);
  q = std::min<long>(std::max<long>(q, qmin), qmax);
  return (double)(q * scale);
}

TEST(Calibration, InverseFactorInvertsTheDampedHessian) {
  const int64_t n = 64, k = 12;
  std::vector<float> x = correlatedInputs(n, k, 3);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  std::string err;
  const std::vector<double> &u = st.inverseFactor(0.01, err);
  ASSERT_EQ(u.size(), (size_t)(k * k)) << err;
  std::vector<double> h = dampedHessian(x, n, k, 0.01);
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < a; ++b)
      EXPECT_EQ(u[a * k + b], 0.0) << "U must be upper triangular";
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      double s = 0; // (UᵀU H)[a, b]
      for (int64_t c = 0; c < k; ++c) {
        double utu = 0;
        for (int64_t p = 0; p < k; ++p)
          utu += u[p * k + a] * u[p * k + c];
        s += utu * h[c * k + b];
      }
      // H is accumulated in float (InputStatistics::xtx): ~1e-7 relative per entry, times
      // the conditioning of the damped H.
      EXPECT_NEAR(s, a == b ? 1.0 : 0.0, 1e-5) << a << "," << b;
    }
}

TEST(Calibration, OutputErrorMatchesDirectComputation) {
  const int64_t n = 40, k = 16, rows = 5;
  std::vector<float> x = correlatedInputs(n, k, 4), w = gaussian(rows * k, 5),
                     q = gaussian(rows * k, 6);
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = w[i] + 0.1f * q[i];
  InputStatistics st(k);
  st.accumulate(x.data(), 25); // two calls, as samples arrive
  st.accumulate(x.data() + 25 * k, n - 25);
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < rows; ++r) {
      double y = 0, yq = 0;
      for (int64_t c = 0; c < k; ++c) {
        y += (double)w[r * k + c] * x[i * k + c];
        yq += (double)q[r * k + c] * x[i * k + c];
      }
      num += (y - yq) * (y - yq);
      den += y * y;
    }
  EXPECT_NEAR(st.relativeOutputError(w, q, rows), std::sqrt(num / den), 1e-6); // float H
  EXPECT_EQ(st.relativeOutputError(w, w, rows), 0.0);
}

TEST(Calibration, PermutedStatisticsFollowTheChannels) {
  const int64_t n = 30, k = 6;
  std::vector<float> x = correlatedInputs(n, k, 8);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  std::vector<int64_t> perm = {3, 0, 5, 1, 4, 2};
  std::vector<float> px(n * k);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < k; ++a)
      px[i * k + a] = x[i * k + perm[a]];
  InputStatistics direct(k);
  direct.accumulate(px.data(), n);
  InputStatistics permuted = st.permuted(perm);
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b)
      EXPECT_NEAR(permuted.hessian(std::min(a, b), std::max(a, b)),
                  direct.hessian(std::min(a, b), std::max(a, b)), 1e-9);
}

/// GPTQ against the direct sweep for symmetric 3-bit codes with `group` (0: per channel).
void checkGPTQAgainstOBS(int64_t group, int64_t k = 16) {
  const int64_t n = 3 * k, rows = 8;
  const unsigned bits = 3;
  std::vector<float> x = correlatedInputs(n, k, 11), w = gaussian(rows * k, 12);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  std::vector<double> u = factor(st, 0.01);
  ASSERT_FALSE(u.empty());
  QuantConfig c;
  c.bits = bits;
  c.group = group;
  Quantized q = quantizeGPTQ(w, rows, k, c, u);

  int64_t g = group > 0 ? group : k;
  std::vector<float> amax(rows);
  std::vector<double> ref = obsSweep(
      std::vector<double>(w.begin(), w.end()), rows, k, dampedHessian(x, n, k, 0.01),
      [&](int64_t j, const std::vector<double> &cur) {
        if (j % g)
          return;
        for (int64_t r = 0; r < rows; ++r) {
          float a = 0;
          for (int64_t col = j; col < std::min(k, j + g); ++col)
            a = std::max(a, std::fabs((float)cur[r * k + col]));
          amax[r] = a;
        }
      },
      [&](int64_t r, int64_t j, const double *row) { return symQuant(row[j], amax[r], bits); });
  for (int64_t i = 0; i < rows * k; ++i)
    EXPECT_NEAR(q.dequantized[i], ref[i], 1e-4) << "element " << i;
}

TEST(GPTQ, EqualsDirectOBSSweepPerChannel) { checkGPTQAgainstOBS(0); }
TEST(GPTQ, EqualsDirectOBSSweepGroupwise) { checkGPTQAgainstOBS(4); }
// Groups that straddle the sweep's blocks of 64 columns.
TEST(GPTQ, EqualsDirectOBSSweepAcrossBlocks) { checkGPTQAgainstOBS(48, 136); }

TEST(ShiftAdd, CompensatedOnePlaneEqualsDirectOBSSweep) {
  // One binary plane: given the signs (those of the values) the weighted least-squares scale of
  // a group is Σ hᵢ|vᵢ| / Σ hᵢ with hᵢ the mean square of input i, and every value becomes
  // ±scale; groups of 40 over K = 136 cross the blocks of 64 columns.
  const int64_t k = 136, n = 3 * k, rows = 5, g = 40;
  std::vector<float> x = correlatedInputs(n, k, 61), w = gaussian(rows * k, 62);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  std::vector<double> u = factor(st, 0.01);
  ASSERT_FALSE(u.empty());
  std::vector<double> energy(k, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < k; ++c)
      energy[c] += (double)x[i * k + c] * x[i * k + c] / n;
  BCQConfig cfg;
  cfg.q = 1;
  cfg.group = g;
  BCQ got = fitBCQCompensated(w, rows, k, cfg, u, energy);

  std::vector<double> scale(rows);
  std::vector<double> ref = obsSweep(
      std::vector<double>(w.begin(), w.end()), rows, k, dampedHessian(x, n, k, 0.01),
      [&](int64_t j, const std::vector<double> &cur) {
        if (j % g)
          return;
        for (int64_t r = 0; r < rows; ++r) {
          double num = 0, den = 0;
          for (int64_t c = j; c < std::min(k, j + g); ++c) {
            num += energy[c] * std::fabs(cur[r * k + c]);
            den += energy[c];
          }
          scale[r] = (float)(num / den);
        }
      },
      [&](int64_t r, int64_t j, const double *row) { return row[j] >= 0 ? scale[r] : -scale[r]; });
  for (int64_t i = 0; i < rows * k; ++i)
    EXPECT_NEAR(got.dequantized[i], ref[i], 1e-4) << "element " << i;
}

TEST(GPTQ, AfterPruningEqualsDirectOBSSweepOverTheDenseColumns) {
  // 2:4-pruned rows (different kept columns per row), the kept values quantized to 3 bits in
  // groups of 4 kept values: one sweep over the dense columns, dropped ones with target zero.
  const int64_t n = 48, k = 16, rows = 6, kept = 8, g = 4;
  const unsigned bits = 3;
  std::vector<float> x = correlatedInputs(n, k, 51), w = gaussian(rows * k, 52);
  std::vector<float> pruned = pruneNM(w, rows, k, 2, 4);
  std::vector<int64_t> positions;
  std::vector<float> values;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c)
      if (pruned[r * k + c] != 0.0f) {
        positions.push_back(c);
        values.push_back(pruned[r * k + c]);
      }
  ASSERT_EQ((int64_t)positions.size(), rows * kept);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  std::vector<double> u = factor(st, 0.01);
  ASSERT_FALSE(u.empty());
  QuantConfig c;
  c.bits = bits;
  c.group = g;
  Quantized q = quantizeGPTQ(values, rows, kept, c, u, &positions, k);

  std::vector<float> amax(rows);
  std::vector<double> ref = obsSweep(
      std::vector<double>(pruned.begin(), pruned.end()), rows, k, dampedHessian(x, n, k, 0.01),
      [&](int64_t j, const std::vector<double> &cur) {
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < kept; i += g)
            if (positions[r * kept + i] == j) {
              float a = 0;
              for (int64_t e = i; e < i + g; ++e)
                a = std::max(a, std::fabs((float)cur[r * k + positions[r * kept + e]]));
              amax[r] = a;
            }
      },
      [&](int64_t r, int64_t j, const double *row) {
        return pruned[r * k + j] != 0.0f ? symQuant(row[j], amax[r], bits) : 0.0;
      });
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < kept; ++i)
      EXPECT_NEAR(q.dequantized[r * kept + i], ref[r * k + positions[r * kept + i]], 1e-4)
          << "row " << r << " element " << i;
}

TEST(SparseGPT, EqualsDirectOBSSweepWithSaliencyMasks) {
  const int64_t n = 48, k = 16, rows = 6;
  const unsigned nn = 2, m = 4;
  std::vector<float> x = correlatedInputs(n, k, 21), w = gaussian(rows * k, 22);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  std::vector<double> u = factor(st, 0.01);
  ASSERT_FALSE(u.empty());
  std::vector<float> got = pruneNMSparseGPT(w, rows, k, nn, m, u);

  std::vector<double> h = dampedHessian(x, n, k, 0.01);
  std::vector<bool> keep(rows * k, false);
  std::vector<double> ref = obsSweep(
      std::vector<double>(w.begin(), w.end()), rows, k, h,
      [&](int64_t j, const std::vector<double> &cur) {
        if (j % m)
          return;
        for (int64_t r = 0; r < rows; ++r) {
          // OBS saliency of each value of the group: w² / [H_F⁻¹]_ll with F = columns >= l.
          double score[4];
          for (unsigned l = 0; l < m; ++l)
            score[l] = cur[r * k + j + l] * cur[r * k + j + l] / tailInverse(h, k, j + l)[0];
          for (unsigned kept = 0; kept < nn; ++kept) {
            int best = -1;
            for (unsigned l = 0; l < m; ++l)
              if (!keep[r * k + j + l] && (best < 0 || score[l] > score[best]))
                best = (int)l;
            keep[r * k + j + best] = true;
          }
        }
      },
      [&](int64_t r, int64_t j, const double *row) { return keep[r * k + j] ? row[j] : 0.0; });
  for (int64_t i = 0; i < rows * k; ++i)
    EXPECT_NEAR(got[i], ref[i], 1e-4) << "element " << i;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g0 = 0; g0 < k; g0 += m) {
      int nz = 0;
      for (unsigned l = 0; l < m; ++l)
        nz += got[r * k + g0 + l] != 0.0f;
      EXPECT_LE(nz, (int)nn);
    }
}

TEST(Wanda, KeepsLargestWeightTimesInputNorm) {
  // Scores |w|·‖x‖ = 4, 2, 0.3, 5: keep positions 0 and 3 (magnitude alone would keep 1, 2).
  std::vector<float> w = {1.0f, -2.0f, 3.0f, 0.5f};
  std::vector<float> got = pruneNMWanda(w, 1, 4, 2, 4, {4.0, 1.0, 0.1, 10.0});
  EXPECT_EQ(got, (std::vector<float>{1.0f, 0.0f, 0.0f, 0.5f}));
}

TEST(Compensation, NeverWorseThanRoundToNearestOnCalibrationData) {
  const int64_t n = 256, k = 64, rows = 32;
  std::vector<float> x = correlatedInputs(n, k, 31);
  InputStatistics st(k);
  st.accumulate(x.data(), n);
  // The damping sparq-compress-weights tries per layer (--damp, 10x, 100x); the best counts.
  std::vector<std::vector<double>> factors;
  for (double damp : {0.01, 0.1, 1.0}) {
    factors.push_back(factor(st, damp));
    ASSERT_FALSE(factors.back().empty());
  }
  const std::vector<double> &u = factors[0];
  for (unsigned seed = 40; seed < 44; ++seed) {
    std::vector<float> w = gaussian(rows * k, seed);
    for (unsigned bits : {2u, 3u, 4u, 8u})
      for (int64_t group : {int64_t(0), int64_t(16), int64_t(-1)})
        for (bool symmetric : {true, false}) {
          QuantConfig c;
          c.bits = bits;
          c.group = group;
          c.symmetric = symmetric;
          c.isSigned = symmetric;
          double rtn = st.relativeOutputError(w, quantize(w, rows, k, c).dequantized, rows);
          double gptq = INFINITY;
          for (const auto &f : factors)
            gptq = std::min(gptq, st.relativeOutputError(
                                      w, quantizeGPTQ(w, rows, k, c, f).dequantized, rows));
          EXPECT_LE(gptq, rtn) << "bits " << bits << " group " << group << " sym " << symmetric;
        }
    std::vector<double> energy(k);
    for (int64_t c = 0; c < k; ++c)
      energy[c] = st.meanSquare(c);
    for (unsigned q : {1u, 2u, 3u}) {
      BCQConfig b;
      b.q = q;
      b.group = 16;
      double dataFree = st.relativeOutputError(w, fitBCQ(w, rows, k, b).dequantized, rows);
      double compensated = INFINITY;
      for (const auto &f : factors)
        compensated = std::min(compensated, st.relativeOutputError(
                                                w, fitBCQCompensated(w, rows, k, b, f, energy).dequantized, rows));
      EXPECT_LE(compensated, dataFree) << "shift-add q " << q;
    }
    std::vector<float> magnitude = pruneNM(w, rows, k, 2, 4);
    double magErr = st.relativeOutputError(w, magnitude, rows);
    EXPECT_LT(st.relativeOutputError(w, pruneNMSparseGPT(w, rows, k, 2, 4, u), rows), magErr);
    std::vector<double> norm(k);
    for (int64_t c = 0; c < k; ++c)
      norm[c] = std::sqrt(st.meanSquare(c));
    EXPECT_LT(st.relativeOutputError(w, pruneNMWanda(w, rows, k, 2, 4, norm), rows), magErr);
  }
}

} // namespace
