//===- passes/Codegen/ApproximateMath.cpp - inline polynomial math functions ------===//
//
// sparq-approximate-math: f32 exp, expm1, tanh and erf become upstream's polynomial
// approximations (plain arith on scalars or vectors) instead of calls of libm's expf, tanhf,
// erff: loops of softmax, SiLU, GELU and sigmoid vectorize, where one libm call per element
// costs ~20 ns. Accuracy and the measured effect are in docs/codegen.md.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/StringSwitch.h"

namespace sparq {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

struct ApproximateMathPass : public sparq::impl::ApproximateMathPassBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      name.consume_front("math.");
      return llvm::StringSwitch<bool>(name)
          .Cases({"exp", "expm1", "tanh", "erf"}, true)
          .Default(false);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
