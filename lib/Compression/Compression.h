//===- lib/Compression/Compression.h - weight compression algorithms -*- C++ -*-===//
//
// The numerical side of sparq's compression passes, on plain host arrays (no MLIR): N:M
// magnitude pruning, round-to-nearest quantization with an optional clipping-range search,
// binary-coded (shift-add) fitting by alternating refinement, and outlier channel rearrangement.
// Weights are `[rows, k]` row-major (k = reduction dimension), as in docs/packed-formats.md.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_COMPRESSION_COMPRESSION_H
#define SPARQ_LIB_COMPRESSION_COMPRESSION_H

#include <cstdint>
#include <vector>

namespace sparq::compression {

/// ||a - b||_F / ||a||_F (0 when a is all zeros and a == b).
double relativeError(const std::vector<float> &a, const std::vector<float> &b);

//===----------------------------------------------------------------------===//
// N:M pruning
//===----------------------------------------------------------------------===//

/// Magnitude N:M pruning of every row along k (formats::nmPruneRow).
std::vector<float> pruneNM(const std::vector<float> &w, int64_t rows, int64_t k, unsigned n,
                           unsigned m);

//===----------------------------------------------------------------------===//
// Uniform quantization
//===----------------------------------------------------------------------===//

struct QuantConfig {
  unsigned bits = 4;
  bool isSigned = true;   ///< signed codes (required for symmetric)
  bool symmetric = true;  ///< no zero point
  int64_t group = 128;    ///< > 0: group size along k; 0: per channel; -1: per tensor
  bool searchClip = false; ///< search the clipping ratio that minimizes each group's error
};

struct Quantized {
  std::vector<int8_t> codes;      ///< [rows, k], one code per element
  std::vector<float> scales;      ///< [rows, groups] (groups = 1 per channel, [1, 1] per tensor)
  std::vector<int8_t> zeroPoints; ///< same shape as scales; empty when symmetric
  std::vector<float> dequantized; ///< [rows, k]
};

/// Round-to-nearest quantization. When `keep` is given ([rows, k], true = kept), the parameters
/// of each group are computed on the kept values only and dropped values stay exactly zero.
Quantized quantize(const std::vector<float> &w, int64_t rows, int64_t k, const QuantConfig &config,
                   const std::vector<bool> *keep = nullptr);

//===----------------------------------------------------------------------===//
// Binary-coded quantization (shift-add)
//===----------------------------------------------------------------------===//

struct BCQConfig {
  unsigned q = 2;        ///< number of binary planes
  int64_t group = 128;   ///< scale group size along k (> 0)
  bool pow2 = false;     ///< round scales to powers of two
  unsigned iterations = 10; ///< alternating refinement rounds
};

struct BCQ {
  std::vector<float> signs;  ///< [q, rows, k], +-1
  std::vector<float> scales; ///< [q, rows, groups]
  std::vector<float> dequantized;
};

/// Greedy residual initialization, then alternating refinement: least-squares scales given the
/// signs, then the best signs (exhaustive over the 2^q combinations) given the scales.
BCQ fitBCQ(const std::vector<float> &w, int64_t rows, int64_t k, const BCQConfig &config);

//===----------------------------------------------------------------------===//
// Outlier channel rearrangement
//===----------------------------------------------------------------------===//

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
  double errorWithout = 0;          ///< relative weight error of `config` without permutation
  double errorWith = 0;             ///< ... with the score-sorted permutation
};

/// Measures the quantization error of `w` with and without the score-sorted channel
/// permutation and keeps the permutation only if it lowers the error.
RearrangeDecision decideRearrangement(const std::vector<float> &w, int64_t rows, int64_t k,
                                      const QuantConfig &config);

} // namespace sparq::compression

#endif // SPARQ_LIB_COMPRESSION_COMPRESSION_H
