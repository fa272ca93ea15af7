//===- passes/Codegen/InlineAllocaScopes.cpp - drop alloca scopes without allocas ===//
//
// convert-scf-to-openmp wraps every parallel loop body in a memref.alloca_scope, which must stay
// a single block; loops lowered to branches inside it later (convert-scf-to-cf) break that. A
// scope whose body holds no memref.alloca (outside nested scopes) reclaims nothing: its body is
// inlined into the parent.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace sparq {
#define GEN_PASS_DEF_INLINEALLOCASCOPESPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

struct InlineAllocaScopesPass
    : public sparq::impl::InlineAllocaScopesPassBase<InlineAllocaScopesPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation()->walk([&](memref::AllocaScopeOp scope) {
      bool allocas = scope.getBodyRegion()
                         .walk<WalkOrder::PreOrder>([&](Operation *op) {
                           if (isa<memref::AllocaOp>(op))
                             return WalkResult::interrupt();
                           if (op != scope.getOperation() && isa<memref::AllocaScopeOp>(op))
                             return WalkResult::skip();
                           return WalkResult::advance();
                         })
                         .wasInterrupted();
      if (!allocas && scope.getBodyRegion().hasOneBlock())
        scopes.push_back(scope);
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      auto ret = cast<memref::AllocaScopeReturnOp>(body.getTerminator());
      SmallVector<Value> results(ret.getResults());
      rewriter.eraseOp(ret);
      rewriter.inlineBlockBefore(&body, scope);
      rewriter.replaceOp(scope, results);
    }
  }
};

} // namespace
