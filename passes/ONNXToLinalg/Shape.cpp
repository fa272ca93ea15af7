//===- passes/ONNXToLinalg/Shape.cpp ---------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;

namespace sparq::onnx {

void registerShapeOps(OnnxHandlerTable &t) { (void)t; }

} // namespace sparq::onnx
