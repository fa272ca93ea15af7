//===- passes/Codegen/RuntimeChecks.cpp - run-time shape and index checks ------===//
//
// sparq-insert-runtime-checks asks the ops that implement RuntimeVerifiableOpInterface for the
// checks of their dynamic sizes (upstream's implementations for linalg, tensor and memref ops)
// and inserts them with messages that name the ONNX node. sparq-lower-runtime-checks turns every
// cf.assert into a call of the artifact's failure hook, which ends the invocation with the
// message as its status (runtime/kernels/Checks.cpp, docs/artifact-abi.md).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/RuntimeVerifiableOpInterface.h"

namespace sparq {
#define GEN_PASS_DEF_INSERTRUNTIMECHECKSPASS
#define GEN_PASS_DEF_LOWERRUNTIMECHECKSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

std::string sparq::onnxNodeName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

std::string sparq::onnxNodeSuffix(Operation *op) {
  std::string name = onnxNodeName(op->getLoc());
  return name.empty() ? std::string() : " (node '" + name + "')";
}

namespace {

/// One line: messages travel through the artifact ABI into one-line diagnostics.
std::string oneLine(StringRef text) {
  std::string out;
  for (char c : text)
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

struct InsertRuntimeChecksPass
    : public sparq::impl::InsertRuntimeChecksPassBase<InsertRuntimeChecksPass> {
  void runOnOperation() override {
    SmallVector<RuntimeVerifiableOpInterface> ops;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      // Checks inside these regions would run on worker threads once the loops are
      // distributed; the op's own checks (its operands' sizes) are still taken.
      bool skipRegions = isa<linalg::LinalgOp, scf::ForallOp, scf::ParallelOp>(op);
      if (auto verifiable = dyn_cast<RuntimeVerifiableOpInterface>(op))
        ops.push_back(verifiable);
      return skipRegions ? WalkResult::skip() : WalkResult::advance();
    });
    for (RuntimeVerifiableOpInterface op : ops) {
      OpBuilder b(op);
      op.generateRuntimeVerification(b, op->getLoc(), [](Operation *op, StringRef msg) {
        std::string node = sparq::onnxNodeName(op->getLoc());
        std::string where = node.empty() ? "'" + op->getName().getStringRef().str() + "'"
                                         : "node '" + node + "'";
        return oneLine(where + ": " + msg.str());
      });
    }
  }
};

/// The enclosing region that later runs on worker threads, if any.
Operation *parallelAncestor(Operation *op) {
  for (Operation *p = op->getParentOp(); p; p = p->getParentOp())
    if (isa<omp::ParallelOp, omp::WsloopOp, scf::ForallOp, scf::ParallelOp>(p))
      return p;
  return nullptr;
}

struct LowerRuntimeChecksPass
    : public sparq::impl::LowerRuntimeChecksPassBase<LowerRuntimeChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<cf::AssertOp> asserts;
    module.walk([&](cf::AssertOp op) { asserts.push_back(op); });
    if (asserts.empty())
      return;
    MLIRContext *ctx = &getContext();
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    auto hook = module.lookupSymbol<LLVM::LLVMFuncOp>("sparq_uk_check_failed");
    if (!hook) {
      hook = LLVM::LLVMFuncOp::create(
          mb, module.getLoc(), "sparq_uk_check_failed",
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptrTy}));
      hook.setPassthroughAttr(ArrayAttr::get(ctx, {StringAttr::get(ctx, "noreturn"),
                                                   StringAttr::get(ctx, "cold")}));
    }
    llvm::StringMap<LLVM::GlobalOp> messages;
    for (cf::AssertOp op : asserts) {
      if (Operation *p = parallelAncestor(op)) {
        op.emitError("run-time check inside a parallel region ('")
            << p->getName() << "'): a failure there could not end the invocation";
        return signalPassFailure();
      }
      // One private constant per distinct message.
      LLVM::GlobalOp &global = messages[op.getMsg()];
      if (!global) {
        std::string text = op.getMsg().str();
        text.push_back('\0');
        auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
        global = LLVM::GlobalOp::create(mb, op.getLoc(), type, /*isConstant=*/true,
                                        LLVM::Linkage::Private,
                                        "sparq_check_msg_" + std::to_string(messages.size()),
                                        StringAttr::get(ctx, text));
      }
      Block *block = op->getBlock();
      Block *cont = block->splitBlock(std::next(op->getIterator()));
      Region *region = block->getParent();
      Block *fail = new Block();
      region->getBlocks().insertAfter(block->getIterator(), fail);
      OpBuilder b = OpBuilder::atBlockEnd(fail);
      Value msg = LLVM::AddressOfOp::create(b, op.getLoc(), global);
      LLVM::CallOp::create(b, op.getLoc(), hook, ValueRange{msg});
      LLVM::UnreachableOp::create(b, op.getLoc());
      b.setInsertionPoint(op);
      cf::CondBranchOp::create(b, op.getLoc(), op.getArg(), cont, ValueRange{}, fail,
                               ValueRange{});
      op.erase();
    }
  }
};

} // namespace
