//===- dialects/Common/ShapeCheck.cpp - shape checks of verifiers --------------===//
#include "dialects/Common/ShapeCheck.h"

using namespace mlir;

std::string sparq::formatShape(ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += "x";
    s += ShapedType::isDynamic(shape[i]) ? "?" : std::to_string(shape[i]);
  }
  return shape.empty() ? "scalar" : s;
}

LogicalResult sparq::verifyShape(Operation *op, StringRef what, Type type,
                                 ArrayRef<int64_t> expected, const Twine &why) {
  auto shaped = cast<ShapedType>(type);
  bool ok = shaped.getRank() == (int64_t)expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = ShapedType::isDynamic(expected[i]) || shaped.isDynamicDim(i) ||
         shaped.getDimSize(i) == expected[i];
  if (ok)
    return success();
  return op->emitOpError() << what << " must have shape " << formatShape(expected) << " (" << why
                           << "), got " << formatShape(shaped.getShape());
}

