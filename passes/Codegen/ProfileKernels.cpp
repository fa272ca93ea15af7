//===- passes/Codegen/ProfileKernels.cpp - time each kernel of the entry function ===//
//
// sparq-profile-kernels (sparq-compile --profile): every kernel at the top level of the entry
// function — a linalg op, a fused block, a compressed-weight kernel call, any op with a region,
// a data-movement op that copies — is bracketed by calls of sparq_uk_profile_begin(id) and
// sparq_uk_profile_end(id), and the module records the kernel table the artifact exports
// (include/sparq/Formats/KernelProfile.h). Runs on tensors before distribution and tiling: the
// ops the later passes make of a kernel stay where it was, between its two calls, and its cost
// (KernelCost.h) is still visible in whole.
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/KernelCost.h"
#include "passes/Codegen/MicroKernels.h"
#include "passes/Passes.h"

#include "sparq/Formats/KernelProfile.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/CastInterfaces.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"

namespace sparq {
#define GEN_PASS_DEF_PROFILEKERNELSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using sparq::KernelCost;

namespace sparq {

KernelCost &KernelCost::operator+=(const KernelCost &other) {
  flops = flops < 0 || other.flops < 0 ? -1 : flops + other.flops;
  bytes = bytes < 0 || other.bytes < 0 ? -1 : bytes + other.bytes;
  return *this;
}

int64_t shapedBytes(Type type) {
  auto bytesOf = [](Type element) -> int64_t {
    if (!element.isIntOrIndexOrFloat())
      return -1;
    return element.isIndex() ? 8 : (element.getIntOrFloatBitWidth() + 7) / 8;
  };
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    if (!shaped.hasStaticShape())
      return -1;
    int64_t element = bytesOf(shaped.getElementType());
    return element < 0 ? -1 : element * shaped.getNumElements();
  }
  return bytesOf(type);
}

namespace {

/// Arithmetic ops of one op of a kernel body: arith and math ops count one (a fused
/// multiply-add two), constants and casts none.
int64_t bodyOpFlops(Operation *op) {
  if (isa<arith::ConstantOp, CastOpInterface>(op))
    return 0;
  if (isa<math::FmaOp>(op))
    return 2;
  if (op->getNumResults() == 1 && op->getResult(0).getType().isIndex())
    return 0;
  Dialect *dialect = op->getDialect();
  return dialect && isa<arith::ArithDialect, math::MathDialect>(dialect) ? 1 : 0;
}

} // namespace

KernelCost linalgCost(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp)
    return {};
  KernelCost cost;
  int64_t iterations = 1;
  for (int64_t range : linalgOp.getStaticLoopRanges())
    iterations = ShapedType::isDynamic(range) || iterations < 0 ? -1 : iterations * range;
  int64_t perIteration = 0;
  linalgOp.getBlock()->walk([&](Operation *inner) { perIteration += bodyOpFlops(inner); });
  cost.flops = iterations < 0 ? -1 : iterations * perIteration;
  auto add = [&](int64_t bytes) { cost.bytes = cost.bytes < 0 || bytes < 0 ? -1 : cost.bytes + bytes; };
  for (OpOperand *input : linalgOp.getDpsInputOperands())
    add(shapedBytes(input->get().getType()));
  for (OpOperand &init : linalgOp.getDpsInitsMutable()) {
    int64_t bytes = shapedBytes(init.get().getType());
    add(bytes);
    if (linalgOp.payloadUsesValueFromOperand(&init))
      add(bytes);
  }
  return cost;
}

KernelCost fusedCost(ArrayRef<Operation *> ops, ArrayRef<Operation *> outputs) {
  llvm::DenseSet<Operation *> inside(ops.begin(), ops.end());
  llvm::DenseSet<Value> read;
  KernelCost cost;
  auto readOnce = [&](Value v) {
    if (isa<ShapedType>(v.getType()) && !inside.contains(v.getDefiningOp()) &&
        read.insert(v).second)
      cost += KernelCost{0, shapedBytes(v.getType())};
  };
  for (Operation *op : ops) {
    cost += KernelCost{linalgCost(op).flops, 0};
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      for (OpOperand *input : linalgOp.getDpsInputOperands())
        readOnce(input->get());
      for (OpOperand &init : linalgOp.getDpsInitsMutable())
        if (linalgOp.payloadUsesValueFromOperand(&init))
          readOnce(init.get());
    } else if (auto pad = dyn_cast<tensor::PadOp>(op)) {
      readOnce(pad.getSource());
    }
  }
  for (Operation *out : outputs)
    for (Value result : out->getResults())
      cost += KernelCost{0, shapedBytes(result.getType())};
  return cost;
}

std::string onnxNames(Location loc) {
  llvm::SmallVector<std::string> names;
  loc->walk([&](Location l) {
    if (auto name = dyn_cast<NameLoc>(l)) {
      std::string s = name.getName().str();
      if (!llvm::is_contained(names, s))
        names.push_back(s);
    }
    return WalkResult::advance();
  });
  return llvm::join(names, "+");
}

void setKernelCost(Operation *op, const KernelCost &cost) {
  op->setAttr(kKernelCostAttr,
              DenseI64ArrayAttr::get(op->getContext(), {cost.flops, cost.bytes}));
}

} // namespace sparq

namespace {

/// Whether `op`, at the top level of the entry function, is work worth a timer: anything that
/// computes or copies. Constants, empty tensors, views and scalar shape arithmetic are not.
bool isKernel(Operation *op) {
  if (auto call = dyn_cast<func::CallOp>(op))
    return !call.getCallee().starts_with("sparq_uk_profile_");
  return isa<linalg::LinalgOp>(op) || op->getNumRegions() > 0 ||
         isa<tensor::InsertSliceOp, tensor::ConcatOp, tensor::GatherOp, tensor::ScatterOp>(op);
}

/// What the kernel is: the fused block's kind, the kernel a call runs, the linalg op's name.
std::string kernelKind(Operation *op) {
  if (op->hasAttr("sparq.fused_block"))
    return "fused block";
  if (auto call = dyn_cast<func::CallOp>(op)) {
    StringRef callee = call.getCallee();
    callee.consume_front("sparq_uk_");
    callee.consume_back("_mt");
    return callee.str();
  }
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    return generic.getNumReductionLoops() ? "reduction" : "elementwise";
  StringRef name = op->getName().getStringRef();
  name.consume_front("linalg.");
  return name.str();
}

/// The ONNX node names in `loc` (the importer's NameLocs), joined by '+'.
std::string kernelName(Operation *op) {
  std::string joined = sparq::onnxNames(op->getLoc());
  if (auto fused = op->getAttrOfType<StringAttr>("sparq.fused_block"))
    joined = fused.getValue().str() + (joined.empty() ? "" : ": " + joined);
  for (char &c : joined)
    if (c == '\t' || c == '\n' || c == '\r')
      c = ' ';
  return joined.empty() ? op->getName().getStringRef().str() : joined;
}

KernelCost kernelCost(Operation *op) {
  if (auto attr = op->getAttrOfType<DenseI64ArrayAttr>(sparq::kKernelCostAttr);
      attr && attr.size() == 2)
    return {attr[0], attr[1]};
  if (isa<linalg::LinalgOp>(op))
    return sparq::linalgCost(op);
  if (auto pad = dyn_cast<tensor::PadOp>(op))
    return sparq::fusedCost({op}, {op});
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
    int64_t bytes = sparq::shapedBytes(insert.getSource().getType());
    return {0, bytes < 0 ? -1 : 2 * bytes};
  }
  return {-1, -1};
}

struct ProfileKernelsPass : public sparq::impl::ProfileKernelsPassBase<ProfileKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry;
    for (auto f : module.getOps<func::FuncOp>())
      if (f->hasAttr("sparq.entry"))
        entry = f;
    if (!entry || entry.isExternal()) {
      module.emitError("sparq-profile-kernels: no function carries the 'sparq.entry' attribute");
      return signalPassFailure();
    }
    OpBuilder b(module.getBodyRegion());
    Type i32 = b.getI32Type();
    for (StringRef name : {"sparq_uk_profile_begin", "sparq_uk_profile_end"})
      sparq::declareKernelFunction(module, name, b.getFunctionType({i32}, {}));

    SmallVector<Operation *> kernels;
    for (Operation &op : entry.getBody().front())
      if (isKernel(&op))
        kernels.push_back(&op);
    if (int64_t(kernels.size()) > sparq::profile::kMaxKernels) {
      entry.emitError("sparq-profile-kernels: the entry function has ")
          << kernels.size() << " kernels; a profiled artifact times at most "
          << sparq::profile::kMaxKernels;
      return signalPassFailure();
    }
    std::string table;
    llvm::raw_string_ostream os(table);
    os << sparq::profile::kMagic << "\nkernels " << kernels.size() << "\n";
    for (auto [id, op] : llvm::enumerate(kernels)) {
      KernelCost cost = kernelCost(op);
      os << id << '\t' << cost.flops << '\t' << cost.bytes << '\t' << kernelKind(op) << '\t'
         << kernelName(op) << '\n';
      Location loc = op->getLoc();
      b.setInsertionPoint(op);
      Value idValue = arith::ConstantIntOp::create(b, loc, i32, int64_t(id));
      func::CallOp::create(b, loc, "sparq_uk_profile_begin", TypeRange{}, ValueRange{idValue});
      b.setInsertionPointAfter(op);
      func::CallOp::create(b, loc, "sparq_uk_profile_end", TypeRange{}, ValueRange{idValue});
    }
    module->setAttr("sparq.profile", b.getStringAttr(table));
  }
};

} // namespace
