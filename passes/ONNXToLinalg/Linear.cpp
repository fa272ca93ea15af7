//===- passes/ONNXToLinalg/Linear.cpp ---------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;

namespace sparq::onnx {

void registerLinearOps(OnnxHandlerTable &t) { (void)t; }

} // namespace sparq::onnx
