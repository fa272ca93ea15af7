//===- include/sparq/Codegen/FusionRecord.h - what block fusion did -----*- C++ -*-===//
//
// The record sparq-block-fusion gives for every convolution chain it fused or left alone: the
// "fusion" entries of `sparq-compile --report` (docs/codegen.md#block-fusion).
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_CODEGEN_FUSIONRECORD_H
#define SPARQ_CODEGEN_FUSIONRECORD_H

#include <cstdint>
#include <string>

namespace sparq {

/// A convolution chain sparq-block-fusion looked at (sparq-compile --report's "fusion" entries).
struct FusionRecord {
  std::string root;     ///< ONNX node names of the chain's last op
  bool fused = false;
  std::string kind;     ///< fused: e.g. "residual block with projection of 3 convolutions"
  std::string names;    ///< fused: the ONNX node names of every op of the block, '+'-joined
  int64_t ops = 0;      ///< fused: ops in the block
  int64_t tileRows = 0; ///< fused: output rows per tile (0: a one-pass kernel, row by row)
  int64_t tileBytes = 0; ///< fused: bytes of intermediates per tile (kernel: per task)
  std::string reason;   ///< not fused: why (the same text as its remark)
  /// fused as row tiles although the one-pass block kernel was enabled: why it did not apply
  std::string kernelSkipped;
};

} // namespace sparq

#endif // SPARQ_CODEGEN_FUSIONRECORD_H
