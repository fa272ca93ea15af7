//===- passes/Codegen/FuseElementwise.cpp - elementwise fusion that keeps kernels whole ===//
//
// Upstream's linalg-fuse-elementwise-ops, with one rule changed: a producer is fused into a
// consumer only when the consumer has no reduction loop. Fusing an elementwise producer into a
// contraction or reduction recomputes it for every point of the consumer's iteration space
// (e.g. SiLU(gate) * up fused into the down projection evaluates the SiLU N times per element,
// RoPE fused into Q·Kᵀ once per key) and turns a contraction the micro-kernels run into a generic
// one they cannot; the producer is computed once into a buffer instead.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sparq {
#define GEN_PASS_DEF_LINALGFUSEELEMENTWISEPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

struct LinalgFuseElementwisePass
    : public sparq::impl::LinalgFuseElementwisePassBase<LinalgFuseElementwisePass> {
  using LinalgFuseElementwisePassBase::LinalgFuseElementwisePassBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::ControlFusionFn singleUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    linalg::ControlFusionFn intoParallelOnly = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
      return producer && producer->hasOneUse() && consumer &&
             consumer.getNumReductionLoops() == 0;
    };
    // Reshapes are not propagated through an op that reads a convolution's result: it keeps
    // its NCHW rank, so that sparq-block-fusion still finds it at the end of a block (a residual
    // add before a global pooling was expanded to rank 6 by the pooling's reshape).
    auto readsConv = [](Operation *op) {
      return op && llvm::any_of(op->getOperands(), [](Value v) {
               return isa_and_nonnull<linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNchwChwOp>(
                   v.getDefiningOp());
             });
    };
    linalg::ControlFusionFn reshapeControl = [=](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() && !readsConv(producer) &&
             !readsConv(fused->getOwner());
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, intoParallelOnly);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, reshapeControl);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, singleUse);
    if (foldMaxElements > 0)
      sparq::populateFoldConstantElementwisePatterns(patterns, foldMaxElements);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     GreedyRewriteConfig().setUseTopDownTraversal())))
      return signalPassFailure();
  }
};

} // namespace
