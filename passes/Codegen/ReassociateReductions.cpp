//===- passes/Codegen/ReassociateReductions.cpp - vectorizable float reductions --===//
//
// sparq-reassociate-reductions: the float add or multiply that folds a linalg op's element into
// its reduction accumulator gets the `reassoc` fast-math flag, so that LLVM's loop vectorizer may
// keep several partial sums in vector lanes (and reorder the sum) instead of one scalar chain.
// Why and what it changes is in docs/codegen.md ("Float reductions").
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace sparq {
#define GEN_PASS_DEF_REASSOCIATEREDUCTIONSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

/// Adds `reassoc` to `op`'s fast-math flags.
template <typename OpTy> void allowReassociation(OpTy op) {
  op.setFastmath(op.getFastmath() | arith::FastMathFlags::reassoc);
}

struct ReassociateReductionsPass
    : public sparq::impl::ReassociateReductionsPassBase<ReassociateReductionsPass> {
  void runOnOperation() override {
    getOperation()->walk([](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      Block *body = op.getBlock();
      auto yield = cast<linalg::YieldOp>(body->getTerminator());
      for (OpOperand &init : op.getDpsInitsMutable()) {
        BlockArgument acc = op.getMatchingBlockArgument(&init);
        unsigned result = init.getOperandNumber() - op.getNumDpsInputs();
        Operation *combiner = yield.getOperand(result).getDefiningOp();
        // Only the combiner that reads the accumulator itself: acc + f(x) or acc * f(x).
        if (!combiner || combiner->getBlock() != body ||
            !llvm::is_contained(combiner->getOperands(), Value(acc)))
          continue;
        if (auto add = dyn_cast<arith::AddFOp>(combiner))
          allowReassociation(add);
        else if (auto mul = dyn_cast<arith::MulFOp>(combiner))
          allowReassociation(mul);
      }
    });
  }
};

} // namespace
