//===- dialects/NM/Prune.cpp - calibrated N:M pruning ---------------------===//
#include "dialects/NM/Prune.h"

#include "dialects/Weight/Calibration.h"

#include <algorithm>
#include <cmath>

namespace sparq::compression {

namespace {
/// Marks in `keep[0, len)` the min(n, len) entries of largest `score` (first wins a tie).
void keepLargest(const double *score, size_t len, unsigned n, bool *keep) {
  std::fill(keep, keep + len, false);
  for (unsigned kept = 0; kept < n && kept < len; ++kept) {
    size_t best = len;
    for (size_t j = 0; j < len; ++j)
      if (!keep[j] && (best == len || score[j] > score[best]))
        best = j;
    keep[best] = true;
  }
}
} // namespace

std::vector<float> pruneNMWanda(const std::vector<float> &w, int64_t rows, int64_t k, unsigned n,
                                unsigned m, const std::vector<double> &inputNorm) {
  std::vector<float> out(w.size(), 0.0f);
  double score[16];
  bool keep[16];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g0 = 0; g0 < k; g0 += m) {
      size_t len = (size_t)std::min<int64_t>(m, k - g0);
      for (size_t j = 0; j < len; ++j)
        score[j] = std::fabs((double)w[r * k + g0 + j]) * inputNorm[g0 + j];
      keepLargest(score, len, n, keep);
      for (size_t j = 0; j < len; ++j)
        out[r * k + g0 + j] = keep[j] ? w[r * k + g0 + j] : 0.0f;
    }
  return out;
}

std::vector<float> pruneNMSparseGPT(const std::vector<float> &w, int64_t rows, int64_t k,
                                    unsigned n, unsigned m, const std::vector<double> &u) {
  std::vector<float> out(w.size(), 0.0f);
  weight::CompensatedSweep sweep(w, rows, k, u);
  std::vector<char> keepRow((size_t)(rows * m), 0); // each row's mask of its current group
  double score[16];
  bool keep[16];
  sweep.run([&](int64_t r, int64_t i, double x) -> double {
    if (i % m == 0) {
      // The group's mask from its current values: the N largest w² / [H⁻¹]ⱼⱼ.
      int64_t len = std::min<int64_t>(m, k - i);
      for (int64_t j = 0; j < len; ++j) {
        double d = u[(i + j) * k + (i + j)];
        double v = sweep.current(r, i + j);
        score[j] = v * v / (d * d);
      }
      keepLargest(score, (size_t)len, n, keep);
      for (int64_t j = 0; j < len; ++j)
        keepRow[r * m + j] = keep[j];
    }
    if (!keepRow[r * m + i % m])
      return 0.0;
    out[r * k + i] = (float)x;
    return x;
  });
  return out;
}

} // namespace sparq::compression
