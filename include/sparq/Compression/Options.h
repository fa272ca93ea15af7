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
#include <memory>
#include <string>
#include <vector>

namespace sparq {
namespace weight {
struct CalibrationData;
} // namespace weight

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
  /// How values are chosen (--method): "rtn" (data-free), or with calibration data "gptq",
  /// "wanda", "sparsegpt" (docs/calibration.md).
  std::string method = "rtn";

  bool enabled() const { return !scheme.empty() || !sparsity.empty() || wbits || shiftadd; }
};

/// Compression of a whole model (sparq-compile's compression flags; docs/compression.md).
struct CompressionOptions {
  CompressionSettings defaults;
  std::string only, skip; ///< regexes of node / weight names
  std::string recipe;     ///< JSON file with per-layer settings
  /// Statistics of each layer's inputs on calibration data (--calibration); null: none.
  std::shared_ptr<const weight::CalibrationData> calibration;
  double damp = 0.01; ///< GPTQ/SparseGPT damping (--damp), a fraction of mean(diag H)
  /// --target-bits: > 0 chooses each layer's scheme (of those not set by a recipe entry) from
  /// `candidates` so the average bits per weight, everything counted, stay within it.
  double targetBits = 0;
  /// --candidates: ';'-separated scheme lists; empty: the default set (docs/calibration.md).
  std::string candidates;
  bool enabled() const { return defaults.enabled() || !recipe.empty() || targetBits > 0; }
};

/// One compressed layer, as reported by --report.
struct LayerReport {
  std::string name, weight, op, scheme, permutation;
  int64_t rows = 0, k = 0;
  double bytesBefore = 0, bytesAfter = 0, bitsPerWeight = 0, weightError = 0;
  double errorWithoutPermutation = 0;
  bool permuted = false;
  double errorPruneThenQuantize = -1, errorQuantizeThenPrune = -1; ///< -1: not applicable
  /// With calibration data: the data-aware methods the formats used ("rtn" when none), the
  /// relative layer output error ‖(W − Ŵ)X‖/‖WX‖ on the calibration inputs, and that of
  /// data-free round-to-nearest at the same scheme (-1 without calibration data).
  std::string method = "rtn";
  double outputError = -1, outputErrorRTN = -1;
  /// Set when the method's output error was not below round-to-nearest's, which was kept.
  bool fellBackToRTN = false;
  double damp = 0; ///< the damping GPTQ/SparseGPT settled on (the best of --damp, 10x, 100x)
  /// --target-bits: every candidate scheme considered for the layer with its bits per weight
  /// and error (output error with calibration data, else weight error).
  struct Candidate {
    std::string scheme;
    double bits, error;
  };
  std::vector<Candidate> candidates;
};

} // namespace sparq

#endif // SPARQ_COMPRESSION_OPTIONS_H
