//===- passes/ONNXToLinalg/PoolingNorm.cpp ---------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

using namespace mlir;

namespace sparq::onnx {

void registerPoolingNormOps(OnnxHandlerTable &t) { (void)t; }

} // namespace sparq::onnx
