//===- lib/Import/ONNX/GraphSimplify.h - rewrites of the ONNX graph before import -*- C++ -*-===//
//
// Rewrites the importer runs between rounds of ONNX shape inference, until none changes the
// graph (docs/importer.md, "Function expansion and shape folding"):
//  - function expansion: a node whose operator sparq does not convert, but whose ONNX schema
//    defines it as a function of other operators (SoftmaxCrossEntropyLoss, MeanVarianceNormal-
//    ization, the window functions, ...), is replaced by that function's body;
//  - shape folding: small integer computations whose inputs are known at compile time (Shape of
//    a statically shaped value, Gather, Slice, Concat, Unsqueeze, arithmetic ...) are evaluated
//    and their results become Constant nodes, so that ONNX's shape inference can see the targets
//    of Reshape, Expand, ConstantOfShape, Tile and friends; a Reshape target known but for one
//    entry gets -1 there; an If whose condition is known becomes the branch it takes; a Reshape
//    whose target is only known in length gets its result rank as a type hint;
//  - gradient expansion: a Gradient node becomes the backward nodes that compute it.
//
//===----------------------------------------------------------------------===//
#ifndef SPARQ_LIB_IMPORT_ONNX_GRAPHSIMPLIFY_H
#define SPARQ_LIB_IMPORT_ONNX_GRAPHSIMPLIFY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace onnx {
class ModelProto;
class TypeProto;
} // namespace onnx

namespace sparq {

/// Says whether sparq converts an operator (op_type, domain, opset) directly.
using OpFilter = std::function<bool(llvm::StringRef opType, llvm::StringRef domain, int64_t opset)>;

/// Replaces each top-level node that `converted` rejects and whose schema (at the model's opset)
/// defines a function body by that body: inputs and outputs bound to the node's, internal values
/// renamed uniquely, attribute references resolved from the node's attributes or the schema's
/// defaults. Context-dependent bodies (built from the input types) use the types in the graph's
/// inputs, initializers and value_info, so run it after shape inference. Returns the number of
/// nodes expanded.
llvm::Expected<unsigned> expandFunctionNodes(::onnx::ModelProto &model, const OpFilter &converted);

/// Evaluates integer-valued nodes (int64, int32, bool results of at most kMaxFoldElements
/// elements) whose inputs are constants or shapes known from the value types, and turns each into
/// a Constant node with the computed value. Graph outputs are left as they are. A Reshape target
/// with one unknown entry (and no -1) gets -1 there; an If whose condition is known is replaced
/// by the nodes of its branch (renamed under a unique prefix) and an Identity per output.
/// Returns the number of nodes rewritten.
///
/// A Reshape whose target is not known but has a static length gets a type hint in `typeHints`
/// (value name -> TypeProto): the result rank, with the dims the target does fix. ONNX 1.12's
/// shape inference leaves such results unranked (it reads only constant targets); the importer
/// adds the hints to the graph's value_info before each round of inference, which then carries
/// the rank on to the consumers.
llvm::Expected<unsigned> foldShapeComputations(::onnx::ModelProto &model,
                                               std::map<std::string, ::onnx::TypeProto> &typeHints);

/// Replaces each top-level ai.onnx.preview.training Gradient node by the nodes that compute its
/// outputs (reverse-mode differentiation of the nodes between its `xs` and `y`, seeded with ones
/// shaped like y). Needs the value types of shape inference (broadcast operands). Fails, naming
/// the node, for an operator on that path without a derivative rule. Returns the number of
/// Gradient nodes replaced.
llvm::Expected<unsigned> expandGradientNodes(::onnx::ModelProto &model);

/// Largest result folded by foldShapeComputations.
inline constexpr int64_t kMaxFoldElements = 4096;

} // namespace sparq

#endif // SPARQ_LIB_IMPORT_ONNX_GRAPHSIMPLIFY_H
