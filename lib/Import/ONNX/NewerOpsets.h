//===- lib/Import/ONNX/NewerOpsets.h - default-domain opsets 18-21 -*- C++ -*-===//
//
// Debian's libonnx (1.12) knows the default domain up to opset 17; exporters and onnxruntime's
// quantization tools write opsets 18-21 (int4/uint4 and blocked QuantizeLinear/
// DequantizeLinear came with opset 21). sparq reads those opsets itself: this file knows which
// operators opsets 18-21 (re)defined, shows libonnx's shape inference an opset-17 stand-in of
// each node with the same result types (in the disposable inference child), and puts back the
// element types libonnx cannot name (int4, uint4). docs/importer.md, "Opsets 18 to 21".
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_IMPORT_ONNX_NEWEROPSETS_H
#define SPARQ_LIB_IMPORT_ONNX_NEWEROPSETS_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace sparq {

/// Whether `domain` names ONNX's default domain ("" or "ai.onnx").
inline bool isDefaultDomain(const std::string &domain) {
  return domain.empty() || domain == "ai.onnx";
}

/// The newest default-domain (ai.onnx) opset sparq reads.
constexpr int64_t kMaxDefaultOpset = 21;
/// The newest default-domain opset libonnx knows (17 for ONNX 1.12).
int64_t libonnxDefaultOpset();

/// The opset (18 ... 21) of the definition of default-domain operator `opType` in effect at
/// `opset`, when that definition is newer than libonnx knows; nullopt when libonnx's schema is
/// the operator's definition at `opset`.
std::optional<int64_t> newerDefinition(llvm::StringRef opType, int64_t opset);

/// Whether `opType` first appeared in a default-domain opset newer than libonnx knows (Mish,
/// Gelu, the Bitwise operators, Col2Im ...), so libonnx has no schema of it at all.
bool isNewerOnlyOperator(llvm::StringRef opType);

/// ONNX's 4-bit element types (data_type 21 and 22, opset 21), which ONNX 1.12's enum lacks.
constexpr int32_t kOnnxUInt4 = 21;
constexpr int32_t kOnnxInt4 = 22;
inline bool isFourBit(int32_t dataType) {
  return dataType == kOnnxUInt4 || dataType == kOnnxInt4;
}

/// Rewrites `model` (the inference child's copy) into what libonnx infers: opset 17, each node
/// that a newer opset redefined replaced by an opset-17 node with the same result types (a
/// ReduceMean-18 with an axes input by ReduceSum-13, a DequantizeLinear-21 by CastLike to its
/// scale, ...), 4-bit types shown as 8-bit, 4-bit constants as graph inputs of their type.
/// Values whose shape the stand-in cannot give (a Pad-18 with axes) keep only their rank; shape
/// folding (GraphSimplify.h) rewrites those nodes so that the next round makes them exact.
/// No-op for a model of opset 17 or older without 4-bit types.
void presentToLibonnx(::onnx::ModelProto &model);

/// After inference: gives the values that are 4-bit in the model (results of QuantizeLinear-21
/// and of the data movement operators that carry them) their 4-bit types, which libonnx
/// inferred as 8-bit.
void restoreNewerTypes(::onnx::ModelProto &model);

} // namespace sparq

#endif // SPARQ_LIB_IMPORT_ONNX_NEWEROPSETS_H
