//===- passes/ONNXToLinalg/ConvertONNXToLinalg.cpp - the conversion pass -----===//
//
// Drives the sparq_onnx -> upstream conversion: one pattern dispatches every sparq_onnx.node to the
// handler registered for its op_type and opset; a type converter turns ONNX's signed/unsigned
// integers into signless ones on function signatures, constants and every converted op.
//
//===----------------------------------------------------------------------===//
#include "passes/ONNXToLinalg/ONNXToLinalg.h"
#include "passes/Passes.h"

#include "dialects/Quant/QuantDialect.h"
#include "dialects/Weight/WeightDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/DialectConversion.h"

namespace sparq {
#define GEN_PASS_DEF_CONVERTONNXTOLINALGPASS
#include "passes/ConversionPasses.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq::onnx;

namespace {

Type toSignless(Type t) {
  // A string element is the address of its text (Strings.cpp).
  if (isa<StringType>(t))
    return IntegerType::get(t.getContext(), 64);
  // 4-bit elements (ONNX int4/uint4) are stored one per byte, sign- or zero-extended.
  if (auto it = dyn_cast<IntegerType>(t))
    if (!it.isSignless() || it.getWidth() == 4)
      return IntegerType::get(t.getContext(), it.getWidth() == 4 ? 8 : it.getWidth());
  return t;
}

class SignlessTypeConverter : public TypeConverter {
public:
  SignlessTypeConverter() {
    addConversion([](Type t) { return t; });
    addConversion([](IntegerType t) { return toSignless(t); });
    addConversion([](StringType t) { return toSignless(t); });
    addConversion([](RankedTensorType t) -> Type {
      return t.clone(toSignless(t.getElementType()));
    });
    addConversion([](UnrankedTensorType t) -> Type {
      return UnrankedTensorType::get(toSignless(t.getElementType()));
    });
    auto cast = [](OpBuilder &b, Type type, ValueRange inputs, Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs).getResult(0);
    };
    addSourceMaterialization(cast);
    addTargetMaterialization(cast);
  }
};

/// Dispatches a node to the handler of its domain and op_type with the largest since-version <=
/// its opset.
struct NodeOpLowering : public OpConversionPattern<NodeOp> {
  NodeOpLowering(const TypeConverter &tc, MLIRContext *ctx,
                 std::shared_ptr<const OnnxHandlerTable> table)
      : OpConversionPattern<NodeOp>(tc, ctx), table(std::move(table)) {}

  LogicalResult matchAndRewrite(NodeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    StringRef domain = op.getDomain();
    const OnnxHandler *handler = table->lookup(domain, op.getOpType(), op.getOpset());
    if (!handler)
      if (std::optional<int64_t> first = table->firstVersion(domain, op.getOpType()))
        return op.emitError() << "unsupported ONNX operator: " << op.describe()
                              << ": converted from opset " << *first << " on";
    if (!handler)
      return op.emitError() << "unsupported ONNX operator: " << op.describe();
    bool absentOk = table->acceptsAbsentOutputs(domain, op.getOpType());
    for (Type t : op->getResultTypes())
      if (!isa<RankedTensorType>(t) && !(absentOk && isa<NoneType>(t)))
        return op.emitError() << op.describe() << ": result type " << t
                              << " is not a ranked tensor (ONNX shape inference could not "
                                 "determine its rank; pin input shapes with --input-shape)";
    SmallVector<Value> operands(adaptor.getInputs());
    NodeContext ctx(op, operands, rewriter, *getTypeConverter());
    return (*handler)(ctx);
  }

  std::shared_ptr<const OnnxHandlerTable> table;
};

/// The end of a subgraph moved into an scf.if branch or an scf.execute_region (ControlFlow.cpp):
/// scf.yield of its outputs, each cast to the type the parent declares.
struct YieldLowering : public OpConversionPattern<YieldOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(YieldOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Operation *parent = op->getParentOp();
    if (!isa<scf::IfOp, scf::ExecuteRegionOp>(parent) ||
        parent->getNumResults() != adaptor.getValues().size())
      return failure();
    SmallVector<Value> values;
    for (auto [v, t] : llvm::zip(adaptor.getValues(), parent->getResultTypes()))
      values.push_back(v.getType() == t ? v
                                        : tensor::CastOp::create(rewriter, op.getLoc(), t, v)
                                              .getResult());
    rewriter.replaceOpWithNewOp<scf::YieldOp>(op, values);
    return success();
  }
};

/// Rewrites arith.constant of signed/unsigned integer tensors into signless ones.
struct ConstantLowering : public OpConversionPattern<arith::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(arith::ConstantOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto newType = dyn_cast<ShapedType>(getTypeConverter()->convertType(op.getType()));
    if (!newType)
      return failure();
    Attribute value = op.getValue();
    Type oldElem = cast<ShapedType>(op.getType()).getElementType();
    if (auto dense = dyn_cast<DenseIntElementsAttr>(value);
        dense && oldElem.getIntOrFloatBitWidth() == 4) {
      // 4-bit codes widen to their byte (the importer's resource blobs already hold bytes).
      bool isUnsigned = oldElem.isUnsignedInteger();
      value = dense.mapValues(newType.getElementType(), [&](const APInt &v) {
        return isUnsigned ? v.zext(8) : v.sext(8);
      });
    } else if (auto dense = dyn_cast<DenseElementsAttr>(value))
      value = dense.bitcast(newType.getElementType());
    else if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
      value = DenseResourceElementsAttr::get(newType, res.getRawHandle());
    else
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, newType, cast<TypedAttr>(value));
    return success();
  }
};

} // namespace

static std::shared_ptr<const OnnxHandlerTable> handlerTable() {
  static const std::shared_ptr<const OnnxHandlerTable> table = [] {
    auto t = std::make_shared<OnnxHandlerTable>();
    registerElementwiseOps(*t);
    registerLinearOps(*t);
    registerPoolingNormOps(*t);
    registerReductionOps(*t);
    registerShapeOps(*t);
    registerIndexingOps(*t);
    registerResizePadOps(*t);
    registerQuantizeOps(*t);
    registerRecurrentOps(*t);
    registerComMicrosoftOps(*t);
    registerTopKOps(*t);
    registerIntegerLinearOps(*t);
    registerDataMovementOps(*t);
    registerNumericOps(*t);
    registerTrainingOps(*t);
    registerDetectionOps(*t);
    registerControlFlowOps(*t);
    registerStringOps(*t);
    return t;
  }();
  return table;
}

bool sparq::isONNXOpConverted(StringRef opType, StringRef domain, int64_t opset) {
  return handlerTable()->lookup(domain, opType, opset) != nullptr;
}

void sparq::populateONNXToLinalgPatterns(const TypeConverter &typeConverter,
                                         RewritePatternSet &patterns) {
  auto table = handlerTable();
  MLIRContext *ctx = patterns.getContext();
  patterns.add<NodeOpLowering>(typeConverter, ctx, std::move(table));
  patterns.add<ConstantLowering, YieldLowering>(typeConverter, ctx);
}

namespace {

struct ConvertONNXToLinalgPass
    : public sparq::impl::ConvertONNXToLinalgPassBase<ConvertONNXToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    SignlessTypeConverter tc;
    ConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect,
                           tensor::TensorDialect, scf::SCFDialect,
                           bufferization::BufferizationDialect>();
    target.addLegalOp<NoneOp, ModuleOp>();
    target.addIllegalOp<NodeOp, YieldOp>();
    target.addDynamicallyLegalOp<arith::ConstantOp>(
        [&](arith::ConstantOp op) { return tc.isLegal(op.getType()); });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return tc.isSignatureLegal(op.getFunctionType()) && tc.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>(
        [&](func::ReturnOp op) { return tc.isLegal(op.getOperandTypes()); });
    target.markUnknownOpDynamicallyLegal([&](Operation *op) {
      return tc.isLegal(op->getOperandTypes()) && tc.isLegal(op->getResultTypes());
    });

    RewritePatternSet patterns(ctx);
    sparq::populateONNXToLinalgPatterns(tc, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns, tc);
    populateReturnOpTypeConversionPattern(patterns, tc);

    // The handlers report precise errors; drop the framework's generic follow-up messages.
    bool reported = false;
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) -> LogicalResult {
      if (diag.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      std::string msg = diag.str();
      if (reported && StringRef(msg).starts_with("failed to legalize"))
        return success();
      reported = true;
      return failure();
    });
    if (failed(applyPartialConversion(module, target, std::move(patterns)))) {
      if (!reported)
        module.emitError("conversion of ONNX nodes to linalg failed");
      return signalPassFailure();
    }
    // Absent-input markers are dead once every node is converted.
    module.walk([&](NoneOp op) {
      if (op->use_empty())
        op->erase();
    });
  }
};

} // namespace
