//===- dialects/ShiftAdd/BCQFit.h - binary-coded quantization fit -*- C++ -*-===//
//
// The numerical side of #sparq_shiftadd.bcq on plain host arrays (no MLIR): q binary planes
// and group-wise scales fitted to a `[rows, k]` row-major weight by alternating refinement.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_SHIFTADD_BCQFIT_H
#define SPARQ_DIALECTS_SHIFTADD_BCQFIT_H

#include <cstdint>
#include <vector>

namespace sparq::compression {

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

/// The activation-aware fit with error compensation (after ShiftAddLLM, You et al., 2024): the
/// columns are swept in order (weight::CompensatedSweep with the factor `u`); when the sweep
/// reaches a group, its scales are fitted to the group's current values with each value's
/// squared error weighted by `importance` of its dense column (the mean square of that input,
/// diag H), each value takes the nearest of the 2^q levels, and its error moves onto the
/// columns not yet visited. `positions`/`denseK` as for quantizeGPTQ (after N:M pruning).
BCQ fitBCQCompensated(const std::vector<float> &w, int64_t rows, int64_t k, const BCQConfig &config,
                      const std::vector<double> &u, const std::vector<double> &importance,
                      const std::vector<int64_t> *positions = nullptr, int64_t denseK = 0);

} // namespace sparq::compression

#endif // SPARQ_DIALECTS_SHIFTADD_BCQFIT_H
