//===- passes/VerifyContract.cpp - check the model contract form --------------===//
#include "passes/Passes.h"

#include "dialects/ONNX/SparqONNXDialect.h"

#include "mlir/IR/BuiltinTypes.h"

namespace sparq {
#define GEN_PASS_DEF_VERIFYCONTRACTPASS
#include "passes/ConversionPasses.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

bool isSignlessType(Type t) {
  if (auto st = dyn_cast<ShapedType>(t))
    t = st.getElementType();
  if (auto it = dyn_cast<IntegerType>(t))
    return it.isSignless();
  return true;
}

struct VerifyContractPass : public sparq::impl::VerifyContractPassBase<VerifyContractPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool ok = true;
    module.walk([&](Operation *op) {
      if (isa<sparq::onnx::SparqONNXDialect>(op->getDialect())) {
        op->emitError("model contract violated: '")
            << op->getName() << "' remains after conversion to upstream dialects";
        ok = false;
        return;
      }
      for (Type t : op->getResultTypes())
        if (!isSignlessType(t)) {
          op->emitError("model contract violated: result type ")
              << t << " is not signless";
          ok = false;
        }
    });
    int entries = 0;
    module.walk([&](func::FuncOp f) {
      if (f->hasAttr("sparq.entry"))
        ++entries;
    });
    if (entries != 1) {
      module.emitError("model contract violated: expected exactly one function with the "
                       "'sparq.entry' attribute, found ")
          << entries;
      ok = false;
    }
    if (!ok)
      signalPassFailure();
    markAllAnalysesPreserved();
  }
};

} // namespace
