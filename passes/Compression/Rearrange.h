//===- passes/Compression/Rearrange.h - error and channel rearrangement -*- C++ -*-===//
//
// Host-side helpers of sparq-compress-weights without MLIR: the relative weight error and
// outlier channel rearrangement (score the reduction channels, sort them, permute, keep the
// permutation only when it lowers the error). Weights are `[rows, k]` row-major.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_PASSES_COMPRESSION_REARRANGE_H
#define SPARQ_PASSES_COMPRESSION_REARRANGE_H

#include <functional>
#include <cstdint>
#include <vector>

namespace sparq::compression {

/// ||a - b||_F / ||a||_F (0 when a is all zeros and a == b).
double relativeError(const std::vector<float> &a, const std::vector<float> &b);

/// Per reduction channel c: max_r |w[r, c]| (the outlier score).
std::vector<float> channelScores(const std::vector<float> &w, int64_t rows, int64_t k);

/// The permutation (new position -> old channel) that sorts channels by descending score, so
/// channels of similar magnitude share quantization groups.
std::vector<int64_t> sortChannelsByScore(const std::vector<float> &scores);

/// Columns of `w` permuted: result[:, i] = w[:, perm[i]].
std::vector<float> permuteColumns(const std::vector<float> &w, int64_t rows, int64_t k,
                                  const std::vector<int64_t> &perm);

struct RearrangeDecision {
  std::vector<int64_t> permutation; ///< empty when rearranging does not lower the error
  double errorWithout = 0;          ///< relative weight error without permutation
  double errorWith = 0;             ///< ... with the kept permutation (errorWithout if none)
};

/// Given the error of compressing `w` as it is, measures `errorOf(permuted w, permutation)` for
/// `w` with its columns sorted by outlier score and keeps that permutation only for a real gain
/// (0.1%, not rounding noise in the error sum). With `inputNorms` (the RMS of each input channel
/// on calibration data) the score is max|w| · ‖x‖: channels whose products with the input are
/// large lead, which also makes a GPTQ sweep over the permuted columns handle them first
/// (GPTQ's activation order, with the packed layout unchanged).
RearrangeDecision decideRearrangement(
    const std::vector<float> &w, int64_t rows, int64_t k, double errorWithout,
    const std::function<double(const std::vector<float> &, const std::vector<int64_t> &)>
        &errorOf,
    const std::vector<float> *inputNorms = nullptr);

} // namespace sparq::compression

#endif // SPARQ_PASSES_COMPRESSION_REARRANGE_H
