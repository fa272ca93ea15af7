//===- passes/Codegen/CompressedKernels.cpp - compressed weights on CPU kernels ===//
//
// sparq-cpu-compressed-ukernels: the CPU backend's kernel table for compressed weights. A
// `sparq_weight.linear` whose format list has a kernel on this backend (picked by the formats'
// kernel keys, WeightFormatAttrInterface::getKernelKey) becomes a call of that kernel on the
// packed operands as they are; the others keep the reference lowering
// (sparq-convert-compressed-to-linalg). The call is built on tensors through
// bufferization.to_buffer / to_tensor, so bufferization places the buffers.
//
// Kernels: key `q<bits><s|a>.<g|pc|pt>` (a single #sparq_quant.scheme, any width 1-8, group-wise,
// per-channel or per-tensor, symmetric or asymmetric) -> sparq_uk_qgemm_f32_mt.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Quant/QuantDialect.h"
#include "dialects/Weight/WeightDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

namespace sparq {
#define GEN_PASS_DEF_SELECTCOMPRESSEDMICROKERNELSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;
namespace weight = sparq::weight;

namespace {

constexpr llvm::StringLiteral kQGemmSymbol = "sparq_uk_qgemm_f32_mt";
constexpr unsigned kQGemmArgs = 15;

/// The address (index) of the first element of `memref` (a buffer with a static element type).
Value elementAddress(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  Value bytes = arith::ConstantIndexOp::create(b, loc, (type.getElementTypeBitWidth() + 7) / 8);
  return arith::AddIOp::create(b, loc, base,
                               arith::MulIOp::create(b, loc, meta.getOffset(), bytes));
}

/// `v` as a read-only buffer of its tensor type's shape (identity layout).
Value readBuffer(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()), v, /*readOnly=*/true);
}

struct SelectCompressedMicroKernelsPass
    : public sparq::impl::SelectCompressedMicroKernelsPassBase<
          SelectCompressedMicroKernelsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<weight::LinearOp> targets;
    func.walk([&](weight::LinearOp op) {
      if (quantKernel(op))
        targets.push_back(op);
    });
    if (targets.empty())
      return;
    auto module = func->getParentOfType<ModuleOp>();
    declareKernel(module);
    for (weight::LinearOp op : targets)
      lowerQuant(op);
  }

  /// The quantization scheme of a linear op the quantized kernel computes, or null.
  static sparq::quant::SchemeAttr quantKernel(weight::LinearOp op) {
    ArrayAttr formats = op.getFormats();
    if (formats.size() != 1 || !op.getInput().getType().getElementType().isF32() ||
        !op.getInput().getType().hasStaticShape())
      return {};
    auto f = dyn_cast<weight::WeightFormatAttrInterface>(formats[0]);
    if (!f || !StringRef(f.getKernelKey()).starts_with("q"))
      return {};
    return dyn_cast<sparq::quant::SchemeAttr>(formats[0]);
  }

  void declareKernel(ModuleOp module) {
    if (SymbolTable::lookupSymbolIn(module, kQGemmSymbol))
      return;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    Type index = b.getIndexType();
    auto fn = func::FuncOp::create(b, module.getLoc(), kQGemmSymbol,
                                   b.getFunctionType(SmallVector<Type>(kQGemmArgs, index), {}));
    fn.setPrivate();
  }

  /// y = x W^T with W quantized: flatten x to [M, K], call the kernel into a new buffer, expand
  /// the result back to [..., M, N].
  void lowerQuant(weight::LinearOp op) {
    sparq::quant::SchemeAttr scheme = quantKernel(op);
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    auto inType = op.getInput().getType();
    auto outType = op.getResult().getType();
    int64_t rank = inType.getRank(), k = inType.getDimSize(rank - 1),
            n = outType.getDimSize(rank - 1);
    int64_t m = inType.getNumElements() / std::max<int64_t>(k, 1);
    Type f32 = b.getF32Type();
    Value x = op.getInput();
    SmallVector<ReassociationIndices> collapse;
    if (rank > 2) {
      ReassociationIndices lead;
      for (int64_t d = 0; d + 1 < rank; ++d)
        lead.push_back(d);
      collapse = {lead, {rank - 1}};
      x = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({m, k}, f32), x,
                                          collapse);
    }
    Value xBuf = readBuffer(b, loc, x);
    ValueRange packed = op.getPacked();
    Value codes = readBuffer(b, loc, packed[0]);
    Value scales = readBuffer(b, loc, packed[1]);
    Value zps = scheme.getSymmetric() ? Value() : readBuffer(b, loc, packed[2]);
    auto outBufType = MemRefType::get({m, n}, f32);
    Value out = memref::AllocOp::create(b, loc, outBufType, b.getI64IntegerAttr(64));
    // Scales are [rows, groups] (group-wise), [rows, 1] (per channel) or [1, 1] (per tensor).
    auto scalesType = cast<RankedTensorType>(packed[1].getType());
    int64_t scaleStride = scheme.isPerTensor() ? 0 : scalesType.getDimSize(1);
    int64_t group = scheme.getGroup() > 0 ? scheme.getGroup() : k;
    int64_t codeRowBytes = cast<RankedTensorType>(packed[0].getType()).getDimSize(1);
    Value args[kQGemmArgs] = {elementAddress(b, loc, out),
                              cst(n),
                              elementAddress(b, loc, xBuf),
                              cst(k),
                              elementAddress(b, loc, codes),
                              cst(codeRowBytes),
                              elementAddress(b, loc, scales),
                              zps ? elementAddress(b, loc, zps) : cst(0),
                              cst(scaleStride),
                              cst(scheme.getBits()),
                              cst(group),
                              cst(m),
                              cst(n),
                              cst(k),
                              cst(0)};
    func::CallOp::create(b, loc, kQGemmSymbol, TypeRange{}, args);
    Value y = bufferization::ToTensorOp::create(b, loc, RankedTensorType::get({m, n}, f32), out,
                                                /*restrict=*/true, /*writable=*/true);
    if (rank > 2)
      y = tensor::ExpandShapeOp::create(b, loc, outType, y, collapse);
    op.getResult().replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace
