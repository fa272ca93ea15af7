//===- include/sparq/Compression/Options.h - compression settings ---*- C++ -*-===//
//
// The one typed path of compression settings (flags, recipes, pass options -> the compression
// pass) and of the per-layer report it produces. No MLIR: the driver, the compile API and the
// pass share these structs; the pass resolves a layer's settings into a weight-format list.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_COMPRESSION_OPTIONS_H
#define SPARQ_COMPRESSION_OPTIONS_H

#include <cstdint>
#include <string>

namespace sparq {

/// How one layer (or, as defaults, every layer) is compressed.
struct CompressionSettings {
  /// Ordered, comma-separated weight formats (`--scheme`, e.g. "2:4,w4g128", "mxfp4"). When
  /// empty, the shorthands below spell the list.
  std::string scheme;
  // Shorthands: --sparsity N:M, --wbits/--group/--asymmetric, --shiftadd/--pow2.
  std::string sparsity;  ///< "N:M" or empty
  unsigned wbits = 0;    ///< 0: no quantization
  int64_t group = 128;   ///< > 0 group size along K, 0 per channel, -1 per tensor
  bool symmetric = true;
  unsigned shiftadd = 0; ///< binary planes, 0: off
  bool pow2 = false;
  // Options of the compressors, not of the format.
  bool rearrange = false;  ///< outlier channel rearrangement
  bool searchClip = false; ///< search each group's clipping range

  bool enabled() const { return !scheme.empty() || !sparsity.empty() || wbits || shiftadd; }
};

/// Compression of a whole model (sparq-compile's compression flags; docs/compression.md).
struct CompressionOptions {
  CompressionSettings defaults;
  std::string only, skip; ///< regexes of node / weight names
  std::string recipe;     ///< JSON file with per-layer settings
  bool enabled() const { return defaults.enabled() || !recipe.empty(); }
};

/// One compressed layer, as reported by --report.
struct LayerReport {
  std::string name, weight, op, scheme, permutation;
  int64_t rows = 0, k = 0;
  double bytesBefore = 0, bytesAfter = 0, bitsPerWeight = 0, weightError = 0;
  double errorWithoutPermutation = 0;
  bool permuted = false;
  double errorPruneThenQuantize = -1, errorQuantizeThenPrune = -1; ///< -1: not applicable
};

} // namespace sparq

#endif // SPARQ_COMPRESSION_OPTIONS_H
