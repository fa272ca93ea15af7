//===- passes/ONNXToLinalg/Reduction.cpp ---------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;

namespace sparq::onnx {

void registerReductionOps(OnnxHandlerTable &t) { (void)t; }

} // namespace sparq::onnx
