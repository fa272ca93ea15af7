//===- passes/CompressedToLinalg/CompressedToLinalg.cpp - reference lowering ---===//
//
// The reference semantics of compressed weights as upstream IR on tensors. The generic consumers
// (sparq_weight.linear / conv2d / decode) become the decode of their format list (each format's
// buildDecode, WeightFormatAttrInterface) and a dense contraction / convolution; the ops the
// decodes create are lowered by the patterns each scheme dialect contributes through its
// WeightSchemeDialectInterface. Packed layouts are decoded with the arithmetic of
// include/sparq/Formats/PackedFormats.h inside linalg.generic bodies.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Common/ScalarBuilder.h"

#include "dialects/Weight/WeightDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sparq {
#define GEN_PASS_DEF_CONVERTCOMPRESSEDTOLINALGPASS
#include "passes/ConversionPasses.h.inc"
} // namespace sparq

using namespace mlir;
namespace weight = sparq::weight;

namespace {

/// result[..., m, n] = sum_k input[..., m, k] * weight[n, k] (an 8-bit integer input taken as
/// signed values, converted to the result's float type).
Value contractTransposed(OpBuilder &b, Location loc, Value input, Value weight,
                         RankedTensorType resultType) {
  int64_t rank = resultType.getRank();
  MLIRContext *ctx = b.getContext();
  // Loops: (batch..., m, n, k).
  unsigned nLoops = rank + 1;
  SmallVector<AffineExpr> inExprs, wExprs, outExprs;
  for (int64_t i = 0; i < rank - 2; ++i) {
    inExprs.push_back(getAffineDimExpr(i, ctx));
    outExprs.push_back(getAffineDimExpr(i, ctx));
  }
  AffineExpr m = getAffineDimExpr(rank - 2, ctx), n = getAffineDimExpr(rank - 1, ctx),
             k = getAffineDimExpr(rank, ctx);
  inExprs.append({m, k});
  wExprs.append({n, k});
  outExprs.append({m, n});
  SmallVector<AffineMap> maps = {AffineMap::get(nLoops, 0, inExprs, ctx),
                                 AffineMap::get(nLoops, 0, wExprs, ctx),
                                 AffineMap::get(nLoops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(nLoops, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  Type et = resultType.getElementType();
  Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(et, 0.0));
  SmallVector<Value> dyn;
  for (int64_t i = 0; i < rank - 1; ++i)
    if (resultType.isDynamicDim(i))
      dyn.push_back(tensor::DimOp::create(b, loc, input, i));
  if (resultType.isDynamicDim(rank - 1))
    dyn.push_back(tensor::DimOp::create(b, loc, weight, 0));
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), et, dyn);
  init = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  auto op = linalg::GenericOp::create(
      b, loc, resultType, ValueRange{input, weight}, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = args[0];
        if (isa<IntegerType>(x.getType()))
          x = arith::SIToFPOp::create(nb, nl, et, x);
        Value prod = arith::MulFOp::create(nb, nl, x, args[1]);
        linalg::YieldOp::create(nb, nl, arith::AddFOp::create(nb, nl, args[2], prod).getResult());
      });
  return op.getResult(0);
}

/// NCHW convolution of `input` with the canonical [F, C*KH*KW] dense `weight`.
Value convolve(OpBuilder &b, Location loc, Value input, Value weight, Value bias,
               RankedTensorType resultType, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  Type et = resultType.getElementType();
  int64_t f = wType.getDimSize(0), c = inType.getDimSize(1);
  auto w4Type = RankedTensorType::get({f, c, kernel[0], kernel[1]}, et);
  Value w4 = tensor::ExpandShapeOp::create(b, loc, w4Type, weight,
                                           ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(et, 0.0));
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
    SmallVector<int64_t> lo = {0, 0, pads[0], pads[1]}, hi = {0, 0, pads[2], pads[3]};
    SmallVector<int64_t> padded(inType.getShape());
    for (int i = 0; i < 2; ++i)
      if (!ShapedType::isDynamic(padded[2 + i]))
        padded[2 + i] += pads[i] + pads[i + 2];
    input = tensor::PadOp::create(b, loc, RankedTensorType::get(padded, et), input,
                                  getAsIndexOpFoldResult(b.getContext(), lo),
                                  getAsIndexOpFoldResult(b.getContext(), hi), zero);
  }
  // The accumulator starts at the bias (broadcast along N, H, W), as the ONNX importer's
  // convolutions do: the same form for the passes that match convolution blocks and fold the
  // bias (sparq-block-fusion's one-pass block kernel), the same summation order as the
  // float model.
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), et,
                                       sparq::dynamicSizes(b, loc, resultType, input));
  init = bias ? linalg::BroadcastOp::create(b, loc, bias, init, ArrayRef<int64_t>{0, 2, 3})
                    .getResult()[0]
              : linalg::FillOp::create(b, loc, zero, init).getResult(0);
  return linalg::Conv2DNchwFchwOp::create(b, loc, resultType, ValueRange{input, w4},
                                          ValueRange{init}, b.getI64TensorAttr(strides),
                                          b.getI64TensorAttr(dilations))
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Generic consumers
//===----------------------------------------------------------------------===//

struct LowerDecode : OpRewritePattern<weight::DecodeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(weight::DecodeOp op, PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    rewriter.replaceOp(op, weight::buildDecode(rewriter, op.getLoc(), op.getFormats(),
                                               op.getPacked(), type.getDimSize(0),
                                               type.getDimSize(1), type.getElementType()));
    return success();
  }
};

struct LowerLinear : OpRewritePattern<weight::LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(weight::LinearOp op, PatternRewriter &rewriter) const override {
    auto in = op.getInput().getType();
    auto out = op.getResult().getType();
    int64_t k = in.getDimSize(in.getRank() - 1), n = out.getDimSize(out.getRank() - 1);
    Value w = weight::buildDecode(rewriter, op.getLoc(), op.getFormats(), op.getPacked(), n, k,
                                  out.getElementType());
    rewriter.replaceOp(op, contractTransposed(rewriter, op.getLoc(), op.getInput(), w, out));
    return success();
  }
};

struct LowerConv : OpRewritePattern<weight::Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(weight::Conv2DOp op, PatternRewriter &rewriter) const override {
    auto in = op.getInput().getType();
    if (failed(sparq::requireStatic(op, in, "input")))
      return failure();
    int64_t f = op.getResult().getType().getDimSize(1);
    int64_t k = in.getDimSize(1) * op.getKernel()[0] * op.getKernel()[1];
    Value w = weight::buildDecode(rewriter, op.getLoc(), op.getFormats(), op.getPacked(), f, k,
                                  in.getElementType());
    rewriter.replaceOp(op, convolve(rewriter, op.getLoc(), op.getInput(), w, op.getBias(),
                                    op.getResult().getType(), op.getKernel(), op.getStrides(),
                                    op.getDilations(), op.getPads()));
    return success();
  }
};

} // namespace

void sparq::populateCompressedToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerDecode, LowerLinear, LowerConv>(ctx);
  for (Dialect *d : ctx->getLoadedDialects())
    if (auto *iface = d->getRegisteredInterface<weight::WeightSchemeDialectInterface>())
      iface->populateReferenceLoweringPatterns(patterns);
}

namespace {

struct ConvertCompressedToLinalgPass
    : public sparq::impl::ConvertCompressedToLinalgPassBase<ConvertCompressedToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    sparq::populateCompressedToLinalgPatterns(patterns);
    SmallVector<Dialect *> schemeDialects = {ctx->getLoadedDialect<weight::SparqWeightDialect>()};
    for (Dialect *d : ctx->getLoadedDialects())
      if (d->getRegisteredInterface<weight::WeightSchemeDialectInterface>())
        schemeDialects.push_back(d);
    GreedyRewriteConfig config;
    config.enableFolding(false); // keep the reference path literal; constants fold elsewhere
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    bool remaining = false;
    getOperation().walk([&](Operation *op) {
      if (llvm::is_contained(schemeDialects, op->getDialect())) {
        op->emitOpError("has no reference lowering for this form");
        remaining = true;
      }
    });
    if (remaining)
      signalPassFailure();
  }
};

} // namespace
