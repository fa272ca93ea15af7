//===- dialects/NM/Prune.cpp - calibrated N:M pruning ---------------------===//
#include "dialects/NM/Prune.h"

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
  std::vector<double> cur(w.begin(), w.end());
  std::vector<float> out(w.size(), 0.0f);
  std::vector<bool> keepAll((size_t)(rows * k), false);
  double score[16];
  bool keep[16];
  for (int64_t g0 = 0; g0 < k; g0 += m) {
    int64_t len = std::min<int64_t>(m, k - g0);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < len; ++j) {
        double d = u[(g0 + j) * k + (g0 + j)];
        double x = cur[r * k + g0 + j];
        score[j] = x * x / (d * d);
      }
      keepLargest(score, (size_t)len, n, keep);
      for (int64_t j = 0; j < len; ++j)
        keepAll[r * k + g0 + j] = keep[j];
    }
    // Visit the group's columns in order: a dropped value's error moves onto later columns.
    for (int64_t j = g0; j < g0 + len; ++j) {
      const double *uj = &u[j * k];
      for (int64_t r = 0; r < rows; ++r) {
        double *row = &cur[r * k];
        if (keepAll[r * k + j]) {
          out[r * k + j] = (float)row[j];
          continue;
        }
        double e = row[j] / uj[j];
        for (int64_t l = j + 1; l < k; ++l)
          row[l] -= e * uj[l];
      }
    }
  }
  return out;
}

} // namespace sparq::compression
