//===- passes/Codegen/PrepareEntry.cpp - artifact ABI preparation --------------===//
//
// Makes every output of the entry function a buffer the caller can own (a fresh copy where the
// returned tensor is a constant, an argument, a view or returned more than once), marks the
// inputs read-only for bufferization, requests the C
// interface wrapper, and records the signature text of docs/artifact-abi.md on the module as
// `sparq.signature`, computed from the ONNX names and types the importer left on the function.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/raw_ostream.h"

namespace sparq {
#define GEN_PASS_DEF_PREPAREENTRYPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;

namespace {

std::string escapeName(StringRef name) {
  std::string out;
  for (unsigned char c : name) {
    if (isalnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-')
      out.push_back(c);
    else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out.empty() ? "%00" : out;
}

std::string dtypeFor(Type t) {
  if (t.isF32()) return "float32";
  if (t.isF64()) return "float64";
  if (t.isF16()) return "float16";
  if (t.isBF16()) return "bfloat16";
  if (t.isInteger(1)) return "bool";
  if (auto it = dyn_cast<IntegerType>(t))
    return (it.isUnsigned() ? "uint" : "int") + std::to_string(it.getWidth());
  return "";
}

LogicalResult appendTensorLine(llvm::raw_ostream &os, Location loc, DictionaryAttr attrs,
                               Type type, unsigned index) {
  auto tt = dyn_cast<RankedTensorType>(type);
  if (!tt)
    return emitError(loc) << "entry value #" << index << " has type " << type
                          << "; the artifact ABI needs ranked tensors";
  std::string name = "value" + std::to_string(index);
  std::string dtype = dtypeFor(tt.getElementType());
  if (attrs) {
    if (auto n = attrs.getAs<StringAttr>("sparq.name"))
      name = n.getValue().str();
    if (auto d = attrs.getAs<StringAttr>("sparq.dtype"))
      dtype = d.getValue().str();
  }
  if (dtype.empty())
    return emitError(loc) << "entry value '" << name << "' has unsupported element type "
                          << tt.getElementType();
  os << escapeName(name) << " " << dtype << " " << tt.getRank();
  for (int64_t d : tt.getShape())
    os << " " << (ShapedType::isDynamic(d) ? -1 : d);
  os << "\n";
  return success();
}

struct PrepareEntryPass : public sparq::impl::PrepareEntryPassBase<PrepareEntryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry;
    module.walk([&](func::FuncOp f) {
      if (f->hasAttr("sparq.entry"))
        entry = f;
    });
    if (!entry) {
      module.emitError("no function carries the 'sparq.entry' attribute");
      return signalPassFailure();
    }
    entry->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
    // Inputs belong to the caller: bufferization must never write into them.
    for (unsigned i = 0; i < entry.getNumArguments(); ++i)
      entry.setArgAttr(i, "bufferization.writable", BoolAttr::get(&getContext(), false));

    // Signature text.
    std::string sig;
    llvm::raw_string_ostream os(sig);
    FunctionType ft = entry.getFunctionType();
    os << "sparq-signature 1\ninputs " << ft.getNumInputs() << "\n";
    for (unsigned i = 0; i < ft.getNumInputs(); ++i)
      if (failed(appendTensorLine(os, entry.getLoc(), entry.getArgAttrDict(i), ft.getInput(i), i)))
        return signalPassFailure();
    os << "outputs " << ft.getNumResults() << "\n";
    for (unsigned i = 0; i < ft.getNumResults(); ++i)
      if (failed(appendTensorLine(os, entry.getLoc(), entry.getResultAttrDict(i),
                                  ft.getResult(i), i)))
        return signalPassFailure();
    // Dynamic input dimensions that share an ONNX dim_param (the importer's sparq.dim_params):
    // `equal SYMBOL COUNT INPUT DIM ...`, checked by the runtime before each call.
    llvm::MapVector<StringRef, SmallVector<std::pair<unsigned, unsigned>>> groups;
    for (unsigned i = 0; i < ft.getNumInputs(); ++i) {
      auto tt = dyn_cast<RankedTensorType>(ft.getInput(i));
      auto params = entry.getArgAttrOfType<ArrayAttr>(i, "sparq.dim_params");
      if (!tt || !params || params.size() != size_t(tt.getRank()))
        continue;
      for (auto [d, p] : llvm::enumerate(params.getAsRange<StringAttr>()))
        if (p && !p.getValue().empty() && tt.isDynamicDim(d))
          groups[p.getValue()].push_back({i, unsigned(d)});
    }
    for (auto &[symbol, members] : groups) {
      if (members.size() < 2)
        continue;
      os << "equal " << escapeName(symbol.str()) << " " << members.size();
      for (auto [i, d] : members)
        os << " " << i << " " << d;
      os << "\n";
    }
    module->setAttr("sparq.signature", StringAttr::get(&getContext(), sig));

    // Fresh buffers for outputs that would alias constants, arguments or each other.
    entry.walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      llvm::SmallPtrSet<Value, 8> seen;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto tt = dyn_cast<RankedTensorType>(v.getType());
        if (!tt)
          continue;
        Operation *def = v.getDefiningOp();
        bool isView = def && (isa<ViewLikeOpInterface>(def) ||
                              isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
                                  tensor::ReshapeOp, tensor::CastOp, tensor::ExtractSliceOp>(def));
        bool needsCopy = !seen.insert(v).second || isa<BlockArgument>(v) ||
                         isa_and_nonnull<arith::ConstantOp>(def) || isView;
        if (!needsCopy)
          continue;
        SmallVector<Value> dyn;
        for (int64_t i = 0; i < tt.getRank(); ++i)
          if (tt.isDynamicDim(i))
            dyn.push_back(tensor::DimOp::create(b, ret.getLoc(), v, i));
        Value alloc = bufferization::AllocTensorOp::create(b, ret.getLoc(), tt, dyn);
        Value copy = linalg::CopyOp::create(b, ret.getLoc(), v, alloc).getResult(0);
        operand.set(copy);
      }
    });
  }
};

} // namespace
