//===- dialects/Weight/WeightDialect.cpp - sparq_weight dialect ---------------===//
#include "dialects/Weight/WeightDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace sparq::weight;

#include "dialects/Weight/WeightDialect.cpp.inc"

void SparqWeightDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Weight/WeightOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "dialects/Weight/WeightOps.cpp.inc"

LogicalResult LinearOp::verify() {
  auto in = getInput().getType();
  auto out = getResult().getType();
  if (in.getRank() < 2 || out.getRank() != in.getRank())
    return emitOpError("needs input [..., M, K] and result [..., M, N] of the same rank >= 2");
  for (int64_t i = 0; i + 1 < in.getRank(); ++i)
    if (!in.isDynamicDim(i) && !out.isDynamicDim(i) && in.getDimSize(i) != out.getDimSize(i))
      return emitOpError() << "result dimension " << i << " must match the input's ("
                           << in.getDimSize(i) << "), got " << out.getDimSize(i);
  int64_t k = in.getDimSize(in.getRank() - 1), n = out.getDimSize(out.getRank() - 1);
  if (ShapedType::isDynamic(k) || ShapedType::isDynamic(n))
    return emitOpError("needs static K (input) and N (result) dimensions");
  if (isa<IntegerType>(in.getElementType()) && !out.getElementType().isF32())
    return emitOpError("with an 8-bit integer input needs an f32 result");
  return verifyPackedOperands(*this, getFormats(), n, k, out.getElementType(),
                              getPacked().getTypes());
}

LogicalResult Conv2DOp::verify() {
  auto in = getInput().getType();
  auto out = getResult().getType();
  if (in.getRank() != 4 || out.getRank() != 4)
    return emitOpError("needs NCHW input and result");
  if (getKernel().size() != 2 || getStrides().size() != 2 || getDilations().size() != 2 ||
      getPads().size() != 4)
    return emitOpError("needs 2 kernel sizes, 2 strides, 2 dilations and 4 pads");
  int64_t c = in.getDimSize(1), f = out.getDimSize(1);
  if (ShapedType::isDynamic(c) || ShapedType::isDynamic(f))
    return emitOpError("needs static input channels and output features");
  if (getBias()) {
    auto bt = getBias().getType();
    if (bt.getRank() != 1 || bt.getDimSize(0) != f)
      return emitOpError() << "bias must have shape [" << f << "]";
  }
  return verifyPackedOperands(*this, getFormats(), f, c * getKernel()[0] * getKernel()[1],
                              in.getElementType(), getPacked().getTypes());
}

LogicalResult DecodeOp::verify() {
  auto out = getResult().getType();
  if (out.getRank() != 2 || !out.hasStaticShape())
    return emitOpError("result must be a static [rows, K] weight");
  return verifyPackedOperands(*this, getFormats(), out.getDimSize(0), out.getDimSize(1),
                              out.getElementType(), getPacked().getTypes());
}
