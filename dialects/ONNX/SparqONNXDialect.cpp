//===- dialects/ONNX/SparqONNXDialect.cpp - sparq_onnx dialect ---------------===//
#include "dialects/ONNX/SparqONNXDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace sparq::onnx;

#include "dialects/ONNX/SparqONNXDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/ONNX/SparqONNXTypes.cpp.inc"

void SparqONNXDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/ONNX/SparqONNXTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/ONNX/SparqONNXOps.cpp.inc"
      >();
}

LogicalResult NodeOp::verify() {
  if (getOpType().empty())
    return emitOpError("requires a non-empty op_type");
  if (getOpset() <= 0)
    return emitOpError("requires a positive opset version, got ") << getOpset();
  size_t names = getSubgraphs() ? getSubgraphs()->size() : 0;
  if (names != getGraphs().size())
    return emitOpError("has ") << getGraphs().size() << " regions but " << names
                               << " subgraph names";
  for (Region &r : getGraphs())
    if (r.empty() || !r.front().mightHaveTerminator() || !isa<YieldOp>(r.front().getTerminator()))
      return emitOpError("subgraph regions must end in sparq_onnx.yield");
  return success();
}

Region *NodeOp::getSubgraph(StringRef attrName) {
  if (!getSubgraphs())
    return nullptr;
  for (auto [i, n] : llvm::enumerate(getSubgraphs()->getAsValueRange<StringAttr>()))
    if (n == attrName)
      return &getGraphs()[i];
  return nullptr;
}

std::string NodeOp::describe() {
  std::string s;
  llvm::raw_string_ostream os(s);
  // Names are escaped (llvm::printEscapedString) so that a message stays on one line.
  os << "'";
  llvm::printEscapedString(getOpType(), os);
  os << "' node";
  if (!getName().empty()) {
    os << " '";
    llvm::printEscapedString(getName(), os);
    os << "'";
  }
  os << " (domain " << (getDomain().empty() ? "ai.onnx" : getDomain())
     << ", opset " << getOpset() << ")";
  return s;
}

#define GET_OP_CLASSES
#include "dialects/ONNX/SparqONNXOps.cpp.inc"
