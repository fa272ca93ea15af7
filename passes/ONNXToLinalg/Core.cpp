//===- passes/ONNXToLinalg/Core.cpp - core CNN / transformer operators ---------===//
//
// The reshaping operators (Reshape, Flatten, Squeeze, Unsqueeze) and Transpose, Concat.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"


using namespace mlir;

namespace sparq::onnx {
namespace {

LogicalResult reshapeToResult(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, rt, "the result")) ||
      failed(requireStaticShape(c, c.inputType(0), "the input")))
    return failure();
  return c.replace(reshapeStatic(c.rewriter, c.loc, c.input(0), rt.getShape()));
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult lowerTranspose(NodeContext &c) {
  auto in = c.inputType(0);
  auto rt = c.rankedResultType(0);
  if (!in)
    return c.fail("the input must be ranked");
  SmallVector<int64_t> perm;
  for (int64_t i = in.getRank() - 1; i >= 0; --i)
    perm.push_back(i);
  perm = c.intsAttr("perm", perm);
  if ((int64_t)perm.size() != in.getRank())
    return c.fail("perm has " + Twine(perm.size()) + " entries for a rank-" +
                  Twine(in.getRank()) + " input");
  SmallVector<Value> dyn;
  for (int64_t i = 0; i < rt.getRank(); ++i)
    if (rt.isDynamicDim(i))
      dyn.push_back(tensor::DimOp::create(c.rewriter, c.loc, c.input(0), perm[i]));
  Value init = createEmpty(c.rewriter, c.loc, rt, dyn);
  return c.replace(
      linalg::TransposeOp::create(c.rewriter, c.loc, c.input(0), init, perm).getResult()[0]);
}

LogicalResult lowerConcat(NodeContext &c) {
  auto rt = c.rankedResultType(0);
  if (failed(requireStaticShape(c, rt, "the result")))
    return failure();
  auto axis = normalizeAxis(c.intAttr("axis", 0), rt.getRank());
  if (!axis)
    return c.fail("axis is out of range");
  OpBuilder &b = c.rewriter;
  Value acc = createEmpty(b, c.loc, rt);
  int64_t offset = 0;
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    auto t = c.inputType(i);
    if (failed(requireStaticShape(c, t, "input " + Twine(i))))
      return failure();
    if (t.getNumElements() == 0)
      continue;
    SmallVector<int64_t> offsets(rt.getRank(), 0), strides(rt.getRank(), 1);
    offsets[*axis] = offset;
    MLIRContext *ctx = b.getContext();
    acc = tensor::InsertSliceOp::create(b, c.loc, c.input(i), acc,
                                        getAsIndexOpFoldResult(ctx, offsets),
                                        getAsIndexOpFoldResult(ctx, t.getShape()),
                                        getAsIndexOpFoldResult(ctx, strides))
              .getResult();
    offset += t.getDimSize(*axis);
  }
  return c.replace(acc);
}

} // namespace

void registerCoreOps(OnnxHandlerTable &t) {
  t.add("Reshape", reshapeToResult);
  t.add("Flatten", reshapeToResult);
  t.add("Squeeze", reshapeToResult);
  t.add("Unsqueeze", reshapeToResult);
  t.add("Transpose", lowerTranspose);
  t.add("Concat", lowerConcat);
}

} // namespace sparq::onnx
