//===- passes/Codegen/CompressedKernels.cpp - compressed weights on CPU kernels ===//
//
// sparq-cpu-compressed-ukernels: the CPU backend's kernel table for compressed weights. A
// `sparq_weight.linear` whose format list has a kernel on this backend (picked by the formats'
// kernel keys, WeightFormatAttrInterface::getKernelKey) becomes a call of that kernel on the
// packed operands as they are stored; the others keep the reference lowering
// (sparq-convert-compressed-to-linalg). The call is built on tensors through
// bufferization.to_buffer / to_tensor, so bufferization places the buffers.
//
// Kernel keys -> kernels (include/sparq/Kernels/UKernels.h):
//   q<B><s|a>.<gG|pc|pt>            sparq_uk_qgemm_f32_mt (any width 1-8), or with act-bits=8
//                                   and 2-, 4- or 8-bit codes in groups of a multiple of 32,
//                                   sparq_uk_qgemm_i8_f32_mt (int8 activations; other layers
//                                   keep float activations, with a warning). With lut-codes
//                                   (AVX-512), 1- to 3-bit codes with float activations at M = 1
//                                   (groups of a multiple of 32 or one per row) run on
//                                   sparq_uk_lutgemm_f32_mt as bit planes with per-group
//                                   offsets (PackedFormats.h codesAsSignPlanes). A linear op with
//                                   `sparq.act_bits = 8` (an imported MatMulNBits with
//                                   accuracy_level 4) takes it where it applies, silently
//                                   keeping float activations elsewhere (the model allows int8
//                                   activations, it does not ask for them)
//                                   A linear op on int8 activations (an ONNX MatMulInteger),
//                                   on a target with AVX-512 VNNI (int8-dot): a constant 8-bit
//                                   per-channel or per-tensor weight with K <= 4096 takes
//                                   sparq_uk_igemm_s8_f32_mt (int8 dot-product panels laid out
//                                   here from the stored codes); 2-, 4- or 8-bit codes in groups
//                                   of a multiple of 32 or one per row sparq_uk_qgemm_s8_f32_mt;
//                                   elsewhere its activations are converted to float for
//                                   sparq_uk_qgemm_f32_mt
//   nm<N>of<M>                      sparq_uk_nmgemm_f32_mt (fp32 kept values)
//   nm<N>of<M>+q<B><s|a>.<...>      sparq_uk_nmqgemm_f32_mt (quantized kept values), or with
//                                   act-bits=8 on a target with AVX-512 VBMI and VNNI, for 2:4
//                                   with 4-bit codes in groups of a multiple of 64 kept values
//                                   (or one per row), sparq_uk_nmqgemm_i8_f32_mt (int8
//                                   activations gathered by a byte permute)
//   bcq<Q>.g<G>[.p2]                sparq_uk_lutgemm_f32_mt (shift-add: lookup tables of
//                                   partial sums of activations indexed by the sign planes,
//                                   interleaved by 16 rows at compile time: constant weights), or
//                                   with act-bits=8 on a target with AVX-512 VBMI and VNNI
//                                   (int8-tables) and groups of a multiple of 32 (or one per
//                                   row), sparq_uk_lutgemm_i8_f32_mt (int8 tables)
//
//===----------------------------------------------------------------------===//
#include "passes/Codegen/KernelCost.h"
#include "passes/Codegen/MicroKernels.h"
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/Common/ScalarBuilder.h"
#include "dialects/NM/NMDialect.h"
#include "dialects/Quant/QuantDialect.h"
#include "dialects/ShiftAdd/ShiftAddDialect.h"
#include "dialects/Weight/WeightDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

namespace sparq {
#define GEN_PASS_DEF_SELECTCOMPRESSEDMICROKERNELSPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;
namespace weight = sparq::weight;
namespace quant = sparq::quant;
namespace nm = sparq::nm;
namespace shiftadd = sparq::shiftadd;
using sparq::elementAddress;
using sparq::readAddress;

namespace {

/// A kernel of the table: its symbol and the arguments that describe the packed weight (those
/// between A's row stride and the M, N, K sizes).
/// The int8-activation kernels (--act-bits 8).
constexpr llvm::StringLiteral kInt8Kernel = "sparq_uk_qgemm_i8_f32_mt";
constexpr llvm::StringLiteral kInt8LutKernel = "sparq_uk_lutgemm_i8_f32_mt";
/// The lookup-table kernel on float activations (binary-coded weights, and 1- to 3-bit codes
/// as sign planes).
constexpr llvm::StringLiteral kLutKernel = "sparq_uk_lutgemm_f32_mt";
constexpr llvm::StringLiteral kInt8NMKernel = "sparq_uk_nmqgemm_i8_f32_mt";
/// The exact integer products on int8 activations (an i8-input linear op): on dot-product
/// panels, and on the stored codes.
constexpr llvm::StringLiteral kInt8GemmKernel = "sparq_uk_igemm_s8_f32_mt";
constexpr llvm::StringLiteral kExactInt8Kernel = "sparq_uk_qgemm_s8_f32_mt";
/// Codes of at most this many bits run on the lookup-table kernel at M = 1 (one sign plane per
/// bit: at 4 bits the dequantizing kernel is as fast; BM_LutGemm vs BM_QGemv).
constexpr int64_t kMaxLutCodeBits = 3;
/// Pixels per image from which a 1x1 convolution with float activations runs on its decoded
/// filter (the dense convolution kernel) instead of the compressed-weight GEMM.
constexpr int64_t kDecodedConvPixels = 16;

/// A compressed-weight op's own activation width (sparq.act_bits, e.g. from an imported
/// MatMulNBits node's accuracy_level), or 0.
int64_t opActBits(Operation *op) {
  auto a = op->getAttrOfType<IntegerAttr>(weight::kActBitsAttrName);
  return a ? a.getInt() : 0;
}

/// The activation width an op's kernel uses under the pass option `actBits`: its own, or
/// the option's, except that an op asking for float activations keeps them.
int64_t layerActBits(Operation *op, int64_t actBits) {
  int64_t own = opActBits(op);
  return own == weight::kFloatActBits ? 0 : std::max(actBits, own);
}

struct KernelCall {
  StringRef symbol;
  std::function<SmallVector<Value>(OpBuilder &, Location, ValueRange packed)> weightArgs;
  /// The kernel reads int8 activations as they are; the others take float activations (an
  /// integer input is converted first).
  bool int8Input = false;
  /// The kernel's flags argument.
  int64_t flags = 0;
};

/// The arguments of a quantization scheme's codes, scales, zero points, bits and group for a
/// weight whose quantized rows have `k` values.
SmallVector<Value> quantArgs(OpBuilder &b, Location loc, quant::SchemeAttr scheme,
                             ValueRange packed, int64_t k) {
  sparq::ScalarBuilder sb{b, loc};
  auto codesType = cast<RankedTensorType>(packed[0].getType());
  auto scalesType = cast<RankedTensorType>(packed[1].getType());
  int64_t scaleStride = scheme.isPerTensor() ? 0 : scalesType.getDimSize(1);
  int64_t group = scheme.getGroup() > 0 ? scheme.getGroup() : k;
  return {readAddress(b, loc, packed[0]),
          sb.cIdx(codesType.getDimSize(1)),
          readAddress(b, loc, packed[1]),
          scheme.getSymmetric() ? sb.cIdx(0) : readAddress(b, loc, packed[2]),
          sb.cIdx(scaleStride),
          sb.cIdx(scheme.getBits()),
          sb.cIdx(group)};
}

/// The attribute of a constant operand (kernelFor checked that it is one).
Attribute constantOf(Value v) {
  Attribute a;
  (void)matchPattern(v, m_Constant(&a));
  return a;
}

/// Interleaved by 16 rows for the lookup-table kernels (PackedFormats.h bcqInterleaveRows16 /
/// bcqInterleaveScales16), as new constants: q sign planes of `rows` rows of `k` positions
/// (plane-major, `rowBytes` per row) and per-group scales [sq][rows][groups] (sq = q, or 1
/// for scales shared by the planes).
std::pair<Value, Value> interleavedBCQ(OpBuilder &b, Location loc, ArrayRef<uint8_t> planes,
                                       ArrayRef<float> alphas, size_t q, size_t sq, size_t rows,
                                       size_t rowBytes, size_t groups, int64_t k) {
  namespace f = sparq::formats;
  std::vector<char> interleaved(f::bcqInterleavedBytes(q, rows, size_t(k)));
  f::bcqInterleaveRows16(planes.data(), q, rows, size_t(k), rowBytes,
                         reinterpret_cast<uint8_t *>(interleaved.data()));
  const size_t blocks = f::bcqInterleavedBlocks(rows);
  std::vector<float> alphas16(sq * blocks * groups * f::kBcqInterleaveRows);
  f::bcqInterleaveScales16(alphas.data(), sq, rows, groups, alphas16.data());
  auto codes16Type =
      RankedTensorType::get({int64_t(q), int64_t(blocks), int64_t(f::bcqInterleavedDwords(k)), 64},
                            b.getIntegerType(8));
  auto scales16Type = RankedTensorType::get(
      {int64_t(sq), int64_t(blocks), int64_t(groups), int64_t(f::kBcqInterleaveRows)},
      b.getF32Type());
  Value c = arith::ConstantOp::create(
      b, loc, sparq::makeConstantFromBytes(codes16Type, interleaved, "sparq_bcq_signs16"));
  Value s = arith::ConstantOp::create(
      b, loc, sparq::makeFloatConstant(scales16Type, alphas16, "sparq_bcq_scales16"));
  return {c, s};
}

/// The constant sign planes [q, N, rowBytes] and scales [q, N, groups] of a binary-coded weight
/// with rows of `k` positions, interleaved for the lookup-table kernels.
std::pair<Value, Value> interleaveBCQ(OpBuilder &b, Location loc, ValueRange packed, int64_t k) {
  auto codesType = cast<RankedTensorType>(packed[0].getType());
  auto scalesType = cast<RankedTensorType>(packed[1].getType());
  std::optional<std::vector<int64_t>> codes = sparq::readElementsAsInt(constantOf(packed[0]));
  std::optional<std::vector<double>> scales = sparq::readElementsAsDouble(constantOf(packed[1]));
  assert(codes && scales && "kernelFor checked that the weight is constant");
  std::vector<uint8_t> bytes(codes->begin(), codes->end());
  std::vector<float> alphas(scales->begin(), scales->end());
  const size_t q = codesType.getDimSize(0);
  return interleavedBCQ(b, loc, bytes, alphas, q, q, codesType.getDimSize(1),
                        codesType.getDimSize(2),
                        scalesType.getDimSize(2), k);
}

/// The arguments of sparq_uk_lutgemm_f32 for a constant weight of B-bit integer codes (rows of
/// `k` values; B <= 3) as B sign planes with their scales (shared by the planes: the call
/// passes SPARQ_UK_PLANE_SCALES) and per-group offsets (PackedFormats.h codesAsSignPlanes,
/// signPlaneOffset), interleaved as new constants; the codes read the way sparq_uk_qgemm_f32
/// reads them (symmetric: two's complement; asymmetric: minus the zero point).
SmallVector<Value> codesAsBCQArgs(OpBuilder &b, Location loc, quant::SchemeAttr scheme,
                                  ValueRange packed, int64_t k) {
  namespace f = sparq::formats;
  sparq::ScalarBuilder sb{b, loc};
  auto codesType = cast<RankedTensorType>(packed[0].getType());
  auto scalesType = cast<RankedTensorType>(packed[1].getType());
  const size_t rows = codesType.getDimSize(0), codeRowBytes = codesType.getDimSize(1);
  const unsigned bits = scheme.getBits();
  const bool sym = scheme.getSymmetric();
  const int64_t group = scheme.getGroup() > 0 ? scheme.getGroup() : k;
  const size_t groups = size_t((k + group - 1) / group);
  const size_t stride = scheme.isPerTensor() ? 0 : scalesType.getDimSize(1);
  std::optional<std::vector<int64_t>> codes = sparq::readElementsAsInt(constantOf(packed[0]));
  std::optional<std::vector<double>> scales = sparq::readElementsAsDouble(constantOf(packed[1]));
  std::optional<std::vector<int64_t>> zps;
  if (!sym)
    zps = sparq::readElementsAsInt(constantOf(packed[2]));
  assert(codes && scales && (sym || zps) && "kernelFor checked that the weight is constant");
  const std::vector<uint8_t> bytes(codes->begin(), codes->end());
  const size_t rowBytes = f::bcqRowBytes(size_t(k));
  std::vector<uint8_t> planes(bits * rows * rowBytes);
  std::vector<float> planeScales(rows * groups), offsets(rows * groups);
  for (size_t n = 0; n < rows; ++n) {
    f::codesAsSignPlanes(bytes.data() + n * codeRowBytes, size_t(k), bits, sym,
                         planes.data() + n * rowBytes, rows * rowBytes);
    for (size_t g = 0; g < groups; ++g) {
      const size_t at = n * stride + (stride ? g : 0);
      const double s = (*scales)[at];
      const double z = sym ? double(1u << (bits - 1)) : double((*zps)[at] & 0xff);
      planeScales[n * groups + g] = float(s);
      offsets[n * groups + g] = float(f::signPlaneOffset(s, bits, z));
    }
  }
  auto [c, a] = interleavedBCQ(b, loc, planes, planeScales, bits, 1, rows, rowBytes, groups, k);
  const size_t blocks = f::bcqInterleavedBlocks(rows);
  std::vector<float> offsets16(blocks * groups * f::kBcqInterleaveRows);
  f::bcqInterleaveScales16(offsets.data(), 1, rows, groups, offsets16.data());
  Value o = arith::ConstantOp::create(
      b, loc,
      sparq::makeFloatConstant(
          RankedTensorType::get({int64_t(blocks), int64_t(groups), int64_t(f::kBcqInterleaveRows)},
                                b.getF32Type()),
          offsets16, "sparq_bcq_offsets16"));
  return {readAddress(b, loc, c), readAddress(b, loc, a), readAddress(b, loc, o),
          sb.cIdx(bits), sb.cIdx(group)};
}

/// The arguments of sparq_uk_igemm_s8_f32 for a constant 8-bit per-channel or per-tensor
/// weight of K = `k` (its codes [N, k], scales and, asymmetric, zero points), as new constants:
/// the int8 dot-product panels (PackedFormats.h int8PackPanels) of the signed values w (a
/// symmetric code as it is; an unsigned one minus 128, with its zero point), the zero points
/// z, the terms 128 (k z - sum_k w) and the scales, one per row.
SmallVector<Value> int8GemmArgs(OpBuilder &b, Location loc, quant::SchemeAttr scheme,
                                ValueRange packed, int64_t k) {
  namespace f = sparq::formats;
  const int64_t n = cast<RankedTensorType>(packed[0].getType()).getDimSize(0);
  const bool asym = !scheme.getSymmetric();
  std::optional<std::vector<int64_t>> codes = sparq::readElementsAsInt(constantOf(packed[0]));
  std::optional<std::vector<double>> scales = sparq::readElementsAsDouble(constantOf(packed[1]));
  std::optional<std::vector<int64_t>> zps;
  if (asym)
    zps = sparq::readElementsAsInt(constantOf(packed[2]));
  assert(codes && scales && (!asym || zps) && "kernelFor checked that the weight is constant");
  // Per row: the index of its scale and zero point (per tensor: one).
  const size_t perRow = scheme.isPerTensor() ? 0 : scales->size() / size_t(n);
  auto param = [&](int64_t row) { return size_t(row) * perRow; };
  auto value = [&](size_t row, size_t kk) {
    const int64_t c = (*codes)[row * size_t(k) + kk];
    return int8_t(asym ? (c & 0xff) - 128 : c);
  };
  std::vector<int8_t> panels(f::int8PanelBytes(size_t(n), size_t(k)));
  f::int8PackPanels(size_t(n), size_t(k), value, panels.data());
  std::vector<int32_t> zeros(n), terms(n);
  std::vector<float> rowScales(n);
  for (int64_t r = 0; r < n; ++r) {
    zeros[r] = asym ? int32_t(((*zps)[param(r)] & 0xff) - 128) : 0;
    int64_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk)
      sum += value(size_t(r), size_t(kk));
    terms[r] = int32_t(uint32_t(128 * (k * int64_t(zeros[r]) - sum)));
    rowScales[r] = float((*scales)[param(r)]);
  }
  auto i32 = b.getI32Type();
  auto rowType = [&](Type t) { return RankedTensorType::get({n}, t); };
  Value p = arith::ConstantOp::create(
      b, loc,
      sparq::makeI8Constant(RankedTensorType::get({int64_t(panels.size())}, b.getIntegerType(8)),
                            panels, "sparq_int8_panels"));
  Value z = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(rowType(i32), ArrayRef<int32_t>(zeros)));
  Value t = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(rowType(i32), ArrayRef<int32_t>(terms)));
  Value s = arith::ConstantOp::create(
      b, loc, sparq::makeFloatConstant(rowType(b.getF32Type()), rowScales, "sparq_int8_scales"));
  return {readAddress(b, loc, p), readAddress(b, loc, z), readAddress(b, loc, t),
          readAddress(b, loc, s)};
}

struct SelectCompressedMicroKernelsPass
    : public sparq::impl::SelectCompressedMicroKernelsPassBase<
          SelectCompressedMicroKernelsPass> {
  using SelectCompressedMicroKernelsPassBase::SelectCompressedMicroKernelsPassBase;

  void runOnOperation() override {
    if (actBits != 0 && actBits != 8) {
      getOperation().emitError() << "sparq-cpu-compressed-ukernels: act-bits must be 0 (float "
                                    "activations) or 8, got "
                                 << static_cast<int64_t>(actBits);
      return signalPassFailure();
    }
    // A module pass: the kernels' declarations go into the module, which a function pass
    // running beside others on its siblings must not touch (the sanitizer build's lit run
    // caught two threads declaring the same kernel).
    SmallVector<std::pair<Operation *, KernelCall>> targets;
    getOperation().walk([&](Operation *op) {
      std::optional<KernelCall> call;
      if (auto linear = dyn_cast<weight::LinearOp>(op)) {
        auto t = linear.getInput().getType();
        call = kernelFor(linear.getFormats(), t, t.getDimSize(t.getRank() - 1),
                         layerActBits(op, actBits), isConstant(linear.getPacked()),
                         llvm::all_of(t.getShape().drop_back(), [](int64_t d) { return d == 1; }));
      } else if (auto conv = dyn_cast<weight::Conv2DOp>(op);
                 conv && isPointwise(conv) && conv.getInput().getType().hasStaticShape()) {
        auto t = conv.getInput().getType();
        call = kernelFor(conv.getFormats(), t, t.getDimSize(1), layerActBits(op, actBits),
                         isConstant(conv.getPacked()),
                         t.getDimSize(0) * t.getDimSize(2) * t.getDimSize(3) == 1);
      }
      if (!isa<weight::LinearOp, weight::Conv2DOp>(op))
        return;
      // No silent fallback: a layer that --act-bits 8 cannot reach says so (one on integer
      // activations already is not one of them).
      if (actBits == 8 && !(call && call->int8Input) &&
          (!call || (call->symbol != kInt8Kernel &&
                                     call->symbol != kInt8LutKernel &&
                                     call->symbol != kInt8NMKernel))) {
        auto formats = op->getAttrOfType<ArrayAttr>("formats");
        std::string weightName; // the packed weight constants keep the initializer's name
        if (Operation *def = op->getOperand(1).getDefiningOp())
          if (auto nl = dyn_cast<NameLoc>(def->getLoc()))
            weightName = " of weight '" + nl.getName().str() + "'";
        const bool intInput = cast<ShapedType>(op->getOperand(0).getType())
                                  .getElementType()
                                  .isInteger(8);
        std::string why =
            intInput ? std::string(": its integer activations run on integer dot products "
                                   "only on CPUs with AVX-512 VNNI (this target lacks them)")
            : opActBits(op) == weight::kFloatActBits
                ? ": it computes an integer product exactly (an ONNX MatMulInteger), which "
                  "int8 activations would not"
                : std::string("; the int8-activation kernels take linear or 1x1-convolution "
                              "weights quantized alone to 2, 4 or 8 bits in groups of a "
                              "multiple of 32, or, on CPUs with AVX-512 VBMI and VNNI, "
                              "binary-coded (shift-add) in groups of a multiple of 32, "
                              "2:4-sparse with 4-bit codes in groups of a multiple of 64 kept "
                              "values") +
                      (int8Tables ? "" : " (this target lacks them)");
        op->emitWarning() << "act-bits 8: the layer" << weightName << " ("
                          << weight::spellFormats(formats) << ") keeps float activations"
                          << why;
      }
      // A 1x1 convolution over many pixels is bound by its multiply-adds, not by reading its
      // weights: the reference lowering's decoded filter on the dense convolution kernel
      // (packed at each call, read in place from the NCHW input) beats the float-activation
      // GEMM, which needs the activations transposed to pixels x channels and back
      // (docs/codegen.md, "Compressed convolutions").
      if (call && !call->int8Input && isa<weight::Conv2DOp>(op) &&
          call->symbol != kInt8Kernel && call->symbol != kInt8LutKernel &&
          call->symbol != kInt8NMKernel) {
        auto t = cast<weight::Conv2DOp>(op).getInput().getType();
        if (t.getDimSize(2) * t.getDimSize(3) >= kDecodedConvPixels)
          call.reset();
      }
      if (call)
        targets.emplace_back(op, *call);
    });
    ModuleOp module = getOperation();
    for (auto &[op, call] : targets) {
      if (auto linear = dyn_cast<weight::LinearOp>(op))
        lowerLinear(module, linear, call);
      else
        lowerPointwiseConv(module, cast<weight::Conv2DOp>(op), call);
    }
  }

  /// A 1x1 convolution with unit strides and no padding: a product over channels per pixel.
  static bool isPointwise(weight::Conv2DOp op) {
    auto one = [](ArrayRef<int64_t> v) { return llvm::all_of(v, [](int64_t x) { return x == 1; }); };
    return one(op.getKernel()) && one(op.getStrides()) &&
           llvm::all_of(op.getPads(), [](int64_t p) { return p == 0; }) &&
           op.getResult().getType().hasStaticShape();
  }

  /// Every packed operand is a constant whose elements can be read (dense, or a dense_resource
  /// with its blob).
  static bool isConstant(ValueRange packed) {
    return llvm::all_of(packed, [](Value v) {
      Attribute a;
      if (!matchPattern(v, m_Constant(&a)))
        return false;
      if (auto res = dyn_cast<DenseResourceElementsAttr>(a))
        return res.getRawHandle().getBlob() != nullptr;
      return isa<DenseElementsAttr>(a);
    });
  }

  /// The kernel of the table for `formats` on an f32 activation of type `inType` with reduction
  /// length `k` and activations of `bits` (0: float), if any (keyed by the formats' kernel
  /// keys). `constantWeight`: the packed operands are constants (kernels whose layout the
  /// compiler produces from the stored one need them); `oneRow`: the product has one row of
  /// activations (M = 1, static).
  std::optional<KernelCall> kernelFor(ArrayAttr formats, RankedTensorType inType, int64_t k,
                                      int64_t bits, bool constantWeight, bool oneRow) const {
    // Rows (M) may be dynamic: the kernels take M at run time; K is static (verified). At most
    // one leading dim dynamic: the call flattens them, and a collapse of two dynamic dims
    // crashed a memref canonicalization after bufferization (LLVM 22).
    const bool intInput = inType.getElementType().isInteger(8);
    if ((!intInput && !inType.getElementType().isF32()) || inType.getNumDynamicDims() > 1)
      return std::nullopt;
    SmallVector<weight::WeightFormatAttrInterface> fs = weight::getFormats(formats);
    SmallVector<std::string> keys;
    for (auto f : fs)
      keys.push_back(f.getKernelKey());
    auto isQuant = [](StringRef key) { return key.starts_with("q"); };
    auto isNM = [](StringRef key) { return key.starts_with("nm"); };
    if (keys.size() == 1 && isQuant(keys[0])) {
      auto scheme = cast<quant::SchemeAttr>(fs[0]);
      int64_t wbits = scheme.getBits();
      const int64_t group = scheme.getGroup();
      if (intInput && int8Dot && wbits == 8 && (group <= 0 || group >= k) &&
          k <= SPARQ_UK_IGEMM_MAX_K && constantWeight)
        return KernelCall{kInt8GemmKernel,
                          [scheme, k](OpBuilder &b, Location loc, ValueRange packed) {
                            return int8GemmArgs(b, loc, scheme, packed, k);
                          },
                          /*int8Input=*/true};
      if (intInput && int8Dot && (wbits == 2 || wbits == 4 || wbits == 8) &&
          (group <= 0 || group >= k || group % 32 == 0))
        return KernelCall{kExactInt8Kernel,
                          [scheme, k](OpBuilder &b, Location loc, ValueRange packed) {
                            return quantArgs(b, loc, scheme, packed, k);
                          },
                          /*int8Input=*/true};
      // One row of float activations (a GEMV) with 1- to 3-bit codes: the lookup-table kernel
      // on the codes' bit planes, when its vector path exists (AVX-512) and the groups are
      // whole dwords (or one per row). Its cost grows with M (tables and lookups per row of A,
      // where the dequantizing kernel decodes once for up to 4 rows), so only at M = 1. Not
      // with int8 activations: the int8-table kernel would round each plane's lookups, whose
      // terms are alpha * sum|x| rather than |w * x| (docs/codegen.md: 20x the error of the
      // int8 dequantizing kernel on test/Inputs/make_compress_model.py's MLP at W2).
      if (!intInput && bits == 0 && lutCodes && wbits <= kMaxLutCodeBits && constantWeight &&
          oneRow && (group <= 0 || group >= k || group % 32 == 0))
        return KernelCall{kLutKernel,
                          [scheme, k](OpBuilder &b, Location loc, ValueRange packed) {
                            return codesAsBCQArgs(b, loc, scheme, packed, k);
                          },
                          /*int8Input=*/false, SPARQ_UK_PLANE_SCALES};
      bool int8 = !intInput && bits == 8 && (wbits == 2 || wbits == 4 || wbits == 8) &&
                  scheme.getGroup() > 0 && scheme.getGroup() % 32 == 0;
      return KernelCall{int8 ? kInt8Kernel : "sparq_uk_qgemm_f32_mt",
                        [scheme, k](OpBuilder &b, Location loc, ValueRange packed) {
                          return quantArgs(b, loc, scheme, packed, k);
                        }};
    }
    if (keys.size() == 1 && StringRef(keys[0]).starts_with("bcq")) {
      // Both lookup-table kernels read the planes interleaved by 16 rows, which the compiler
      // lays out from the constant stored ones; a weight that is not a constant keeps the
      // reference lowering.
      if (!constantWeight)
        return std::nullopt;
      auto config = cast<shiftadd::BCQAttr>(fs[0]);
      // The int8-table kernel needs whole dwords of sign bits per group (or one group).
      bool int8 = bits == 8 && int8Tables &&
                  (config.getGroup() <= 0 || config.getGroup() >= k ||
                   config.getGroup() % 32 == 0);
      return KernelCall{int8 ? kInt8LutKernel : kLutKernel,
                        [config, k, int8](OpBuilder &b, Location loc, ValueRange packed) {
                          sparq::ScalarBuilder sb{b, loc};
                          auto [codes, scales] = interleaveBCQ(b, loc, packed, k);
                          SmallVector<Value> args = {readAddress(b, loc, codes),
                                                     readAddress(b, loc, scales)};
                          if (!int8)
                            args.push_back(sb.cIdx(0)); // no offsets
                          args.append({sb.cIdx(config.getQ()), sb.cIdx(config.getGroup())});
                          return args;
                        }};
    }
    if (keys.size() == 1 && isNM(keys[0])) {
      auto pattern = cast<nm::PatternAttr>(fs[0]);
      return KernelCall{"sparq_uk_nmgemm_f32_mt",
                        [pattern, k](OpBuilder &b, Location loc, ValueRange packed) {
                          sparq::ScalarBuilder sb{b, loc};
                          auto idxType = cast<RankedTensorType>(packed[0].getType());
                          return SmallVector<Value>{
                              readAddress(b, loc, packed[0]), sb.cIdx(idxType.getDimSize(1)),
                              readAddress(b, loc, packed[1]), sb.cIdx(pattern.keptPerRow(k)),
                              sb.cIdx(pattern.getN()), sb.cIdx(pattern.getM())};
                        }};
    }
    if (keys.size() == 2 && isNM(keys[0]) && isQuant(keys[1])) {
      auto pattern = cast<nm::PatternAttr>(fs[0]);
      auto scheme = cast<quant::SchemeAttr>(fs[1]);
      // The int8-activation N:M kernel: 2:4, 4-bit codes, whole blocks of 64 kept values per
      // group (or one group per row), VBMI and VNNI.
      const int64_t kept = pattern.keptPerRow(k), group = scheme.getGroup();
      bool int8 = bits == 8 && int8Tables && pattern.getN() == 2 && pattern.getM() == 4 &&
                  scheme.getBits() == 4 && (group <= 0 || group >= kept || group % 64 == 0);
      return KernelCall{int8 ? kInt8NMKernel : "sparq_uk_nmqgemm_f32_mt",
                        [pattern, scheme, k](OpBuilder &b, Location loc, ValueRange packed) {
                          sparq::ScalarBuilder sb{b, loc};
                          auto idxType = cast<RankedTensorType>(packed[0].getType());
                          SmallVector<Value> args = {readAddress(b, loc, packed[0]),
                                                     sb.cIdx(idxType.getDimSize(1))};
                          args.append(
                              quantArgs(b, loc, scheme, packed.drop_front(),
                                        pattern.keptPerRow(k)));
                          args.append({sb.cIdx(pattern.getN()), sb.cIdx(pattern.getM())});
                          return args;
                        }};
    }
    return std::nullopt;
  }

  /// y[M, N] = x[M, K] W^T on tensors: the kernel (arguments C, ldc, A, lda, the weight's, M,
  /// N, K, flags) writes a new buffer, returned as a tensor.
  Value callKernel(ModuleOp module, OpBuilder &b, Location loc, Value x, int64_t n,
                   ValueRange packed, const KernelCall &call) {
    sparq::ScalarBuilder sb{b, loc};
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t m = xType.getDimSize(0), k = xType.getDimSize(1);
    Type f32 = b.getF32Type();
    // M read at run time when dynamic (a sequence length): the kernels take it as an argument.
    Value mValue = ShapedType::isDynamic(m) ? tensor::DimOp::create(b, loc, x, 0).getResult()
                                            : sb.cIdx(m);
    SmallVector<Value> dynSizes;
    if (ShapedType::isDynamic(m))
      dynSizes.push_back(mValue);
    Value out = memref::AllocOp::create(b, loc, MemRefType::get({m, n}, f32), dynSizes,
                                        b.getI64IntegerAttr(64));
    SmallVector<Value> args = {elementAddress(b, loc, out), sb.cIdx(n), readAddress(b, loc, x),
                               sb.cIdx(k)};
    args.append(call.weightArgs(b, loc, packed));
    args.append({mValue, sb.cIdx(n), sb.cIdx(k), sb.cIdx(call.flags)});
    sparq::declareIndexKernel(module, call.symbol, args.size());
    auto kernel = func::CallOp::create(b, loc, call.symbol, TypeRange{}, args);
    // For the profile: the dense product's flops, the bytes of x, the packed weight and y
    // (unknown with a dynamic M).
    sparq::KernelCost cost{-1, -1};
    if (!ShapedType::isDynamic(m)) {
      const int64_t xBytes = xType.getElementType().getIntOrFloatBitWidth() / 8;
      cost = sparq::KernelCost{2 * m * n * k, m * (xBytes * k + 4 * n)};
      for (Value v : packed)
        cost += sparq::KernelCost{0, sparq::shapedBytes(v.getType())};
    }
    sparq::setKernelCost(kernel, cost);
    return bufferization::ToTensorOp::create(b, loc, RankedTensorType::get({m, n}, f32), out,
                                             /*restrict=*/true, /*writable=*/true);
  }

  /// y = x W^T: flatten x to [M, K], call the kernel, expand the result back to [..., M, N].
  void lowerLinear(ModuleOp module, weight::LinearOp op, const KernelCall &call) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto inType = op.getInput().getType();
    auto outType = op.getResult().getType();
    const int64_t n = outType.getDimSize(outType.getRank() - 1);
    Value x = op.getInput();
    if (!call.int8Input && !inType.getElementType().isF32()) {
      // Integer activations for a float kernel: converted (exactly: they are 8-bit).
      x = sparq::convertElements(b, loc, x, b.getF32Type(),
                                 [](OpBuilder &nb, Location nl, Value v) -> Value {
                                   return arith::SIToFPOp::create(nb, nl, nb.getF32Type(), v);
                                 });
    }
    Value y = sparq::productOverRows(b, loc, x, n, [&](OpBuilder &nb, Location nl, Value rows) {
      return callKernel(module, nb, nl, rows, n, op.getPacked(), call);
    });
    // The result type may know sizes the input's does not (a declared output shape).
    if (outType != y.getType())
      y = tensor::CastOp::create(b, loc, outType, y);
    op.getResult().replaceAllUsesWith(y);
    op.erase();
  }

  /// A 1x1 convolution as the same product per pixel: x[B, C, H, W] -> pixels as rows
  /// [B*H*W, C] (a transpose), the kernel gives [B*H*W, F], transposed back to [B, F, H, W],
  /// plus the bias.
  void lowerPointwiseConv(ModuleOp module, weight::Conv2DOp op, const KernelCall &call) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type f32 = b.getF32Type();
    auto inType = op.getInput().getType();
    auto outType = op.getResult().getType();
    int64_t batch = inType.getDimSize(0), c = inType.getDimSize(1), h = inType.getDimSize(2),
            w = inType.getDimSize(3), f = outType.getDimSize(1);
    auto transpose = [&](Value v, ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
      Value init = tensor::EmptyOp::create(b, loc, shape, f32);
      return linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
    };
    // [B, C, H, W] -> [B, C, HW] -> [B, HW, C] -> [B*HW, C]
    Value x = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({batch, c, h * w}, f32),
                                              op.getInput(),
                                              ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    x = transpose(x, {batch, h * w, c}, {0, 2, 1});
    x = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({batch * h * w, c}, f32), x,
                                        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    Value y = callKernel(module, b, loc, x, f, op.getPacked(), call);
    // [B*HW, F] -> [B, HW, F] -> [B, F, HW] -> [B, F, H, W]
    y = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get({batch, h * w, f}, f32), y,
                                      ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    y = transpose(y, {batch, f, h * w}, {0, 2, 1});
    y = tensor::ExpandShapeOp::create(b, loc, outType, y,
                                      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    if (Value bias = op.getBias()) {
      MLIRContext *ctx = b.getContext();
      SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(4),
                                     AffineMap::get(4, 0, {getAffineDimExpr(1, ctx)}, ctx),
                                     b.getMultiDimIdentityMap(4)};
      SmallVector<utils::IteratorType> iters(4, utils::IteratorType::parallel);
      y = linalg::GenericOp::create(b, loc, outType, ValueRange{y, bias}, ValueRange{y}, maps,
                                    iters,
                                    [&](OpBuilder &nb, Location nl, ValueRange a) {
                                      linalg::YieldOp::create(
                                          nb, nl,
                                          arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
                                    })
              .getResult(0);
    }
    op.getResult().replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace
