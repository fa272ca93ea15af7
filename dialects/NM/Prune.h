//===- dialects/NM/Prune.h - N:M magnitude pruning -*- C++ -*-===//
//
// The numerical side of #sparq_nm.pattern on plain host arrays (no MLIR): magnitude pruning
// and the calibrated Wanda and SparseGPT choices of the kept values.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_NM_PRUNE_H
#define SPARQ_DIALECTS_NM_PRUNE_H

#include "sparq/Formats/PackedFormats.h"

#include <cstdint>
#include <vector>

namespace sparq::compression {

/// Magnitude N:M pruning of every row of a `[rows, k]` row-major weight along k
/// (formats::nmPruneRow).
inline std::vector<float> pruneNM(const std::vector<float> &w, int64_t rows, int64_t k,
                                  unsigned n, unsigned m) {
  std::vector<float> out(w.size());
  for (int64_t r = 0; r < rows; ++r)
    formats::nmPruneRow(&w[r * k], k, n, m, &out[r * k]);
  return out;
}

/// Wanda (Sun et al., 2023): in every group of M values of each row keep the N with the
/// largest |w| · ‖x‖, where `inputNorm[c]` is the root mean square of input channel c on the
/// calibration data. No compensation.
std::vector<float> pruneNMWanda(const std::vector<float> &w, int64_t rows, int64_t k, unsigned n,
                                unsigned m, const std::vector<double> &inputNorm);

/// SparseGPT (Frantar & Alistarh, 2023) for N:M: sweeps the columns in order; at the first
/// column of each group of M it keeps, per row, the N values with the largest w² / [H⁻¹]ⱼⱼ
/// (the OBS saliency, read off the factor `u` with UᵀU = H⁻¹), and it spreads the error of every
/// dropped value over the columns not yet visited, so kept values change to compensate.
std::vector<float> pruneNMSparseGPT(const std::vector<float> &w, int64_t rows, int64_t k,
                                    unsigned n, unsigned m, const std::vector<double> &u);

} // namespace sparq::compression

#endif // SPARQ_DIALECTS_NM_PRUNE_H
