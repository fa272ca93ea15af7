//===- passes/Compression/Rearrange.cpp - error and channel rearrangement -----===//
#include "passes/Compression/Rearrange.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sparq::compression {

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

RearrangeDecision
decideRearrangement(
    const std::vector<float> &w, int64_t rows, int64_t k, double errorWithout,
    const std::function<double(const std::vector<float> &, const std::vector<int64_t> &)>
        &errorOf,
    const std::vector<float> *inputNorms) {
  RearrangeDecision d;
  d.errorWithout = d.errorWith = errorWithout;
  std::vector<float> scores = channelScores(w, rows, k);
  if (inputNorms)
    for (int64_t c = 0; c < k; ++c)
      scores[c] *= (*inputNorms)[c];
  std::vector<int64_t> perm = sortChannelsByScore(scores);
  double withPerm = errorOf(permuteColumns(w, rows, k, perm), perm);
  if (withPerm < errorWithout * 0.999) {
    d.permutation = std::move(perm);
    d.errorWith = withPerm;
  }
  return d;
}

} // namespace sparq::compression
