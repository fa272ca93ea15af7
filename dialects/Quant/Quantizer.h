//===- dialects/Quant/Quantizer.h - round-to-nearest quantization -*- C++ -*-===//
//
// The numerical side of #sparq_quant.scheme on plain host arrays (no MLIR): round-to-nearest
// quantization of a `[rows, k]` row-major weight with per-tensor, per-channel or group-wise
// parameters and an optional clipping-range search. QuantFormat.cpp packs its codes.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_DIALECTS_QUANT_QUANTIZER_H
#define SPARQ_DIALECTS_QUANT_QUANTIZER_H

#include <cstdint>
#include <vector>

namespace sparq::compression {

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

/// GPTQ (Frantar et al., 2022): quantizes the columns of `w` in order, each with the
/// parameters of its group fitted when the sweep reaches the group's first column (per channel:
/// at the start, from the whole row; per tensor: from the whole weight), and spreads each
/// column's rounding error over the columns not yet quantized so that the layer output on the
/// calibration inputs changes least. `u` is the upper factor with UᵀU = H⁻¹
/// (InputStatistics::inverseFactor) over the dense reduction dimension.
///
/// After N:M pruning `w` holds each row's kept values (k per row) and `positions` ([rows, k])
/// their dense columns out of `denseK`: the sweep then runs over the dense columns, the
/// dropped ones with target zero, so pruning error left after compensation and quantization
/// error are compensated in one pass; groups are groups of kept values, as the packed format
/// stores them.
Quantized quantizeGPTQ(const std::vector<float> &w, int64_t rows, int64_t k,
                       const QuantConfig &config, const std::vector<double> &u,
                       const std::vector<int64_t> *positions = nullptr, int64_t denseK = 0);

} // namespace sparq::compression

#endif // SPARQ_DIALECTS_QUANT_QUANTIZER_H
