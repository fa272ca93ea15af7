//===- dialects/NM/Prune.h - N:M magnitude pruning -*- C++ -*-===//
//
// The numerical side of #sparq_nm.pattern on plain host arrays (no MLIR).
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

} // namespace sparq::compression

#endif // SPARQ_DIALECTS_NM_PRUNE_H
