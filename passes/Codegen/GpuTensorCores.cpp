//===- passes/Codegen/GpuTensorCores.cpp - compressed layers on the tensor cores ===//
//
// sparq-gpu-tensor-cores: the CUDA target's kernel table. A compressed linear layer whose
// formats one of the tensor-core kernels of runtime/kernels/cuda/MmaGemm.cu reads becomes a call
// of sparq_uk_gpu_mma on its weight re-laid out here, at compile time, into the fragment-ordered
// panels of include/sparq/Formats/MmaPanels.h (the one definition of that layout, shared with the
// kernels). Activations are rounded to fp16 by a loop kernel before the call; the product is
// fp32. The artifact embeds the kernels' fatbin (cudaMmaImage) once.
//
//===----------------------------------------------------------------------===//
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
#include "mlir/IR/Matchers.h"
#include "sparq/Formats/MmaPanels.h"
#include "sparq/Formats/PackedFormats.h"
#include "sparq/Kernels/UKernels.h"

#include <cmath>

namespace sparq {
#define GEN_PASS_DEF_GPUTENSORCORESPASS
#include "passes/Codegen/Passes.h.inc"
} // namespace sparq

using namespace mlir;
namespace weight = sparq::weight;
namespace quant = sparq::quant;
namespace nm = sparq::nm;
namespace shiftadd = sparq::shiftadd;
namespace mma = sparq::formats::mma;
namespace fmt = sparq::formats;

namespace {

/// The global that holds the kernels' fatbin in an artifact; host code reads it, so
/// sparq-gpu-place-buffers leaves it out of the device-resident weights.
constexpr llvm::StringLiteral kImageGlobal = "sparq_mma_image";

/// A weight re-laid out for one of the kernels (host arrays, made into constants later).
struct MmaWeight {
  int format = -1;
  std::vector<std::vector<uint32_t>> planes;
  std::vector<uint16_t> scales, zeros; // zeros empty: the kernels' default zero point
  std::vector<uint32_t> meta;
};

/// The elements of a constant operand (checked constant by the caller).
std::optional<std::vector<int64_t>> intsOf(Value v) {
  Attribute a;
  if (!matchPattern(v, m_Constant(&a)))
    return std::nullopt;
  return sparq::readElementsAsInt(a);
}
std::optional<std::vector<double>> floatsOf(Value v) {
  Attribute a;
  if (!matchPattern(v, m_Constant(&a)))
    return std::nullopt;
  return sparq::readElementsAsDouble(a);
}

/// An fp16 scale, or an error when the value is outside fp16's normal range (a subnormal or
/// infinite scale would change the layer's result).
bool toHalfScale(double s, uint16_t &out, std::string &why) {
  const double a = std::fabs(s);
  if (a != 0 && (a < 6.103515625e-05 || a > 65504.0)) {
    why = "a scale (" + std::to_string(s) + ") is outside fp16's normal range";
    return false;
  }
  out = mma::halfFromFloat(static_cast<float>(s));
  return true;
}

/// Codes, scales and zero points of a quantization scheme over rows of `len` values (the dense K,
/// or the kept values of a 2:4 weight): codes unsigned (a signed code c becomes c + 2^(bits-1)
/// and its zero point moves with it), scale and zero point per (row, 128-k chunk).
/// `chunkLen` is the number of the row's values in one chunk (128 dense, 64 kept).
bool quantFor(quant::SchemeAttr scheme, ValueRange packed, int64_t rows, int64_t len,
              int64_t chunkLen, std::vector<uint8_t> &codes, MmaWeight &w, std::string &why) {
  const unsigned bits = scheme.getBits();
  const int64_t group = scheme.getGroup();
  if (group > 0 && group < len && group % chunkLen != 0) {
    why = "its quantization groups (" + std::to_string(group) + ") are not whole multiples of " +
          std::to_string(chunkLen) + (chunkLen == mma::kChunk ? "" : " kept") + " values";
    return false;
  }
  auto codeBytes = intsOf(packed[0]);
  auto scales = floatsOf(packed[1]);
  std::optional<std::vector<int64_t>> zps;
  if (!scheme.getSymmetric())
    zps = intsOf(packed[2]);
  if (!codeBytes || !scales || (!scheme.getSymmetric() && !zps)) {
    why = "its packed weight is not a readable constant";
    return false;
  }
  auto scalesType = cast<RankedTensorType>(packed[1].getType());
  const int64_t rowStride = scalesType.getDimSize(0) == 1 ? 0 : scalesType.getDimSize(1);
  const int64_t perGroup = scalesType.getDimSize(1) == 1 ? 0 : 1;
  const int64_t rowBytes = cast<RankedTensorType>(packed[0].getType()).getDimSize(1);
  const int64_t chunks = len / chunkLen, bias = scheme.getIsSigned() ? (1 << (bits - 1)) : 0;
  codes.assign(size_t(rows * len), 0);
  std::vector<uint8_t> row(static_cast<size_t>(rowBytes));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < rowBytes; ++i)
      row[size_t(i)] = uint8_t((*codeBytes)[size_t(r * rowBytes + i)] & 0xff);
    fmt::unpackCodes(row.data(), size_t(len), bits, codes.data() + r * len);
    for (int64_t j = 0; j < len; ++j) {
      uint8_t &c = codes[size_t(r * len + j)];
      c = uint8_t(fmt::decode(c, bits, scheme.getIsSigned()) + bias);
    }
  }
  const size_t tiles = size_t(rows) / mma::kTileRows;
  w.scales.assign(tiles * size_t(chunks) * mma::kTileRows, 0);
  bool defaultZero = true;
  std::vector<int64_t> zero(w.scales.size(), bias);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const int64_t g = perGroup ? (group > 0 ? ch * chunkLen / group : 0) : 0;
      const size_t src = size_t(r * rowStride + g), dst = mma::scaleIndex(r, ch, chunks);
      if (!toHalfScale((*scales)[src], w.scales[dst], why))
        return false;
      if (zps) {
        const int64_t z = (*zps)[src];
        zero[dst] = (scheme.getIsSigned() ? int64_t(int8_t(z & 0xff)) : (z & 0xff)) + bias;
      }
      defaultZero = defaultZero && zero[dst] == (int64_t(1) << (bits - 1));
    }
  if (!defaultZero) {
    w.zeros.resize(zero.size());
    for (size_t i = 0; i < zero.size(); ++i)
      w.zeros[i] = mma::halfFromFloat(float(1024 + zero[i]));
  }
  return true;
}

/// The in-group positions (0..3, increasing) and the kept values' row length of a 2:4 weight.
std::optional<std::vector<uint8_t>> positionsOf(Value indices, int64_t rows, int64_t kept) {
  auto bytes = intsOf(indices);
  if (!bytes)
    return std::nullopt;
  const int64_t rowBytes = cast<RankedTensorType>(indices.getType()).getDimSize(1);
  std::vector<uint8_t> pos(static_cast<size_t>(rows * kept)), row(static_cast<size_t>(rowBytes));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < rowBytes; ++i)
      row[size_t(i)] = uint8_t((*bytes)[size_t(r * rowBytes + i)] & 0xff);
    fmt::unpackCodes(row.data(), size_t(kept), fmt::nmIndexBits(4), pos.data() + r * kept);
  }
  return pos;
}

/// Packs the planes of `codes` (N x rowLen) for the kernels.
template <typename Code>
void packPlanes(const std::vector<Code> &codes, int64_t n, int64_t k, int bits, bool sparse,
                MmaWeight &w) {
  w.planes.resize(mma::numPlanes(bits));
  std::vector<uint32_t *> ptrs;
  for (int p = 0; p < mma::numPlanes(bits); ++p) {
    w.planes[p].assign(mma::planeWords(n, k, mma::planeWidth(bits, p), sparse), 0);
    ptrs.push_back(w.planes[p].data());
  }
  mma::packPlanes(codes.data(), size_t(n), size_t(k), bits, sparse, ptrs.data());
}

/// The weight of a linear layer [N, K] with formats `fs` and constant packed operands, re-laid
/// out for its kernel, or the reason there is none.
std::optional<MmaWeight> mmaWeightFor(ArrayRef<weight::WeightFormatAttrInterface> fs,
                                      ValueRange packed, int64_t n, int64_t k, std::string &why) {
  MmaWeight w;
  auto scheme = fs.size() >= 1 ? dyn_cast<quant::SchemeAttr>(fs.back()) : nullptr;
  auto pattern = fs.size() >= 1 ? dyn_cast<nm::PatternAttr>(fs.front()) : nullptr;
  if (fs.size() == 1 && scheme) {
    const unsigned bits = scheme.getBits();
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
      why = "the kernels take 2-, 3-, 4- and 8-bit codes";
      return std::nullopt;
    }
    std::vector<uint8_t> codes;
    if (!quantFor(scheme, packed, n, k, mma::kChunk, codes, w, why))
      return std::nullopt;
    packPlanes(codes, n, k, int(bits), /*sparse=*/false, w);
    w.format = bits == 8 ? SPARQ_MMA_W8 : bits == 4 ? SPARQ_MMA_W4 : bits == 3 ? SPARQ_MMA_W3
                                                                                : SPARQ_MMA_W2;
    return w;
  }
  if (pattern && (fs.size() == 1 || (fs.size() == 2 && scheme))) {
    if (pattern.getN() != 2 || pattern.getM() != 4) {
      why = "the sparse tensor cores take 2:4 sparsity";
      return std::nullopt;
    }
    const int64_t kept = k / 2;
    auto pos = positionsOf(packed[0], n, kept);
    if (!pos) {
      why = "its packed weight is not a readable constant";
      return std::nullopt;
    }
    if (fs.size() == 1) {
      auto values = floatsOf(packed[1]);
      if (!values) {
        why = "its packed weight is not a readable constant";
        return std::nullopt;
      }
      std::vector<uint16_t> halves(values->size());
      for (size_t i = 0; i < halves.size(); ++i) {
        if (std::fabs((*values)[i]) > 65504.0) {
          why = "a weight is outside fp16's range";
          return std::nullopt;
        }
        halves[i] = mma::halfFromFloat(float((*values)[i]));
      }
      packPlanes(halves, n, k, mma::kHalfBits, /*sparse=*/true, w);
      w.format = SPARQ_MMA_SP24F16;
    } else {
      if (scheme.getBits() != 4) {
        why = "the 2:4 kernels take fp16 or 4-bit kept values";
        return std::nullopt;
      }
      std::vector<uint8_t> codes;
      if (!quantFor(scheme, packed.drop_front(), n, kept, mma::kChunk / 2, codes, w, why))
        return std::nullopt;
      packPlanes(codes, n, k, 4, /*sparse=*/true, w);
      w.format = SPARQ_MMA_SP24W4;
    }
    w.meta.assign(mma::metaWords(n, k), 0);
    mma::packMeta(pos->data(), size_t(n), size_t(k), w.meta.data());
    return w;
  }
  if (fs.size() == 1)
    if (auto bcq = dyn_cast<shiftadd::BCQAttr>(fs[0])) {
      const unsigned q = bcq.getQ();
      const int64_t group = bcq.getGroup();
      if (q != 2 && q != 3) {
        why = "the kernels take shift-add weights with q = 2 or 3";
        return std::nullopt;
      }
      if (group > 0 && group < k && group % mma::kChunk != 0) {
        why = "its groups (" + std::to_string(group) + ") are not whole multiples of 128";
        return std::nullopt;
      }
      auto signs = intsOf(packed[0]);
      auto alphas = floatsOf(packed[1]);
      if (!signs || !alphas) {
        why = "its packed weight is not a readable constant";
        return std::nullopt;
      }
      const int64_t rowBytes = cast<RankedTensorType>(packed[0].getType()).getDimSize(2);
      const int64_t groups = cast<RankedTensorType>(packed[1].getType()).getDimSize(2);
      const int64_t chunks = k / mma::kChunk;
      w.planes.resize(q);
      std::vector<uint8_t> bitsOf(size_t(n * k));
      for (unsigned p = 0; p < q; ++p) {
        for (int64_t r = 0; r < n; ++r)
          for (int64_t j = 0; j < k; ++j) {
            const int64_t byte = (*signs)[size_t((p * n + r) * rowBytes + j / 8)] & 0xff;
            bitsOf[size_t(r * k + j)] = uint8_t((byte >> (j % 8)) & 1);
          }
        w.planes[p].assign(mma::planeWords(n, k, 1, false), 0);
        uint32_t *plane = w.planes[p].data();
        mma::packPlanes(bitsOf.data(), size_t(n), size_t(k), 1, false, &plane);
      }
      w.scales.assign(size_t(n / mma::kTileRows * chunks * q * mma::kTileRows), 0);
      for (unsigned p = 0; p < q; ++p)
        for (int64_t r = 0; r < n; ++r)
          for (int64_t ch = 0; ch < chunks; ++ch) {
            const int64_t g = groups == 1 || group <= 0 ? 0 : ch * mma::kChunk / group;
            if (!toHalfScale((*alphas)[size_t((p * n + r) * groups + g)],
                             w.scales[mma::bcqScaleIndex(r, ch, chunks, int(p), int(q))], why))
              return std::nullopt;
          }
      w.format = q == 2 ? SPARQ_MMA_BCQ2 : SPARQ_MMA_BCQ3;
      return w;
    }
  why = "no tensor-core kernel reads its formats";
  return std::nullopt;
}

/// The constant f32 weight of a dense matmul C[M, N] += A[M, K] B as [N, K] fp16 panels: B is
/// [K, N] (the default maps) or [N, K] (B indexed by (n, k)). std::nullopt with an empty `why`
/// when B is not a constant (a product of activations, not a layer).
std::optional<MmaWeight> denseWeightFor(linalg::MatmulOp op, int64_t &n, std::string &why) {
  Value a = op.getDpsInputs()[0], bm = op.getDpsInputs()[1];
  auto aType = dyn_cast<RankedTensorType>(a.getType());
  auto bType = dyn_cast<RankedTensorType>(bm.getType());
  auto cType = dyn_cast<RankedTensorType>(op.getResultTypes()[0]);
  if (!aType || !bType || !cType || !bType.hasStaticShape())
    return std::nullopt;
  auto values = floatsOf(bm);
  if (!values)
    return std::nullopt;
  if (!aType.getElementType().isF32() || !bType.getElementType().isF32() ||
      !cType.getElementType().isF32()) {
    why = "its operands are not f32";
    return std::nullopt;
  }
  MLIRContext *ctx = op.getContext();
  AffineExpr m, nn, k;
  bindDims(ctx, m, nn, k);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto map = [&](ArrayRef<AffineExpr> e) { return AffineMap::get(3, 0, e, ctx); };
  const bool plain = maps[1] == map({k, nn}), transposed = maps[1] == map({nn, k});
  if (maps[0] != map({m, k}) || maps[2] != map({m, nn}) || (!plain && !transposed)) {
    why = "its operands are transposed or broadcast in a way the kernel does not read";
    return std::nullopt;
  }
  const int64_t kk = aType.getDimSize(1);
  n = cType.getDimSize(1);
  if (ShapedType::isDynamic(n) || !mma::shapeSupported(size_t(n), size_t(kk))) {
    why = "the kernels take N a multiple of 16 and K of 128 (this layer: N = " +
          std::to_string(n) + ", K = " + std::to_string(kk) + ")";
    return std::nullopt;
  }
  std::vector<uint16_t> halves(size_t(n * kk));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < kk; ++j) {
      const double v = (*values)[size_t(transposed ? r * kk + j : j * n + r)];
      if (std::fabs(v) > 65504.0) {
        why = "a weight (" + std::to_string(v) + ") overflows fp16";
        return std::nullopt;
      }
      halves[size_t(r * kk + j)] = mma::halfFromFloat(float(v));
    }
  MmaWeight w;
  packPlanes(halves, n, kk, mma::kHalfBits, /*sparse=*/false, w);
  w.format = SPARQ_MMA_F16;
  return w;
}

struct GpuTensorCoresPass : public sparq::impl::GpuTensorCoresPassBase<GpuTensorCoresPass> {
  using GpuTensorCoresPassBase::GpuTensorCoresPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<weight::LinearOp> layers;
    module.walk([&](weight::LinearOp op) { layers.push_back(op); });
    SmallVector<linalg::MatmulOp> dense;
    if (denseFp16)
      module.walk([&](linalg::MatmulOp op) { dense.push_back(op); });
    if (layers.empty() && dense.empty())
      return;
    StringRef image = sparq::cudaMmaImage();
    if (!emulate && image.empty()) {
      module.emitWarning("this sparq was built without nvcc, so it has no tensor-core kernels: "
                         "the layers that would run on them run as loop kernels");
      return;
    }
    for (weight::LinearOp op : layers) {
      std::string why;
      auto inType = op.getInput().getType();
      auto outType = op.getResult().getType();
      const int64_t k = inType.getDimSize(inType.getRank() - 1),
                    n = outType.getDimSize(outType.getRank() - 1);
      std::optional<MmaWeight> w;
      if (!inType.getElementType().isF32())
        why = "its activations are not f32";
      else if (inType.getNumDynamicDims() > 1)
        why = "more than one of its activation's dims is dynamic";
      else if (ShapedType::isDynamic(n) || !mma::shapeSupported(size_t(n), size_t(k)))
        why = "the kernels take N a multiple of 16 and K of 128 (this layer: N = " +
              std::to_string(n) + ", K = " + std::to_string(k) + ")";
      else
        w = mmaWeightFor(weight::getFormats(op.getFormats()), op.getPacked(), n, k, why);
      if (!w) {
        op.emitWarning() << "the CUDA target runs this layer ("
                         << weight::spellFormats(op.getFormats())
                         << ") as a loop kernel, not on the tensor cores: " << why
                         << sparq::onnxNodeSuffix(op);
        continue;
      }
      lowerLinear(module, op, *w, image);
    }
    for (linalg::MatmulOp op : dense) {
      std::string why;
      int64_t n = 0;
      std::optional<MmaWeight> w = denseWeightFor(op, n, why);
      if (!w) {
        if (!why.empty())
          op.emitWarning() << "--gpu-precision=fp16: the CUDA target runs this layer in fp32 "
                              "as a loop kernel, not on the tensor cores: "
                           << why << sparq::onnxNodeSuffix(op);
        continue;
      }
      lowerMatmul(module, op, *w, image);
    }
  }

  /// The address of the fatbin global (created once), or 0 when emulating.
  Value imageAddress(ModuleOp module, OpBuilder &b, Location loc, StringRef image) {
    sparq::ScalarBuilder sb{b, loc};
    if (emulate)
      return sb.cIdx(0);
    auto type = MemRefType::get({int64_t(image.size())}, b.getIntegerType(8));
    if (!module.lookupSymbol(kImageGlobal)) {
      OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
      auto tensorType = RankedTensorType::get(type.getShape(), type.getElementType());
      auto global = memref::GlobalOp::create(
          mb, loc, kImageGlobal, mb.getStringAttr("private"), type,
          sparq::makeConstantFromBytes(tensorType, ArrayRef<char>(image.data(), image.size()),
                                       kImageGlobal),
          /*constant=*/true, mb.getI64IntegerAttr(16));
      global->setAttr(sparq::kGpuHostOnlyAttr, mb.getUnitAttr());
    }
    Value get = memref::GetGlobalOp::create(b, loc, type, kImageGlobal);
    return sparq::elementAddress(b, loc, get);
  }

  /// y[..., M, N] = x[..., M, K] W^T on the kernel of `w` (activations rounded to fp16).
  Value callProduct(ModuleOp module, OpBuilder &b, Location loc, Value x, int64_t n,
                    const MmaWeight &w, StringRef image) {
    sparq::ScalarBuilder sb{b, loc};
    auto xType = cast<RankedTensorType>(x.getType());
    const int64_t k = xType.getDimSize(xType.getRank() - 1);
    auto constant = [&](ArrayRef<char> bytes, Type element, int64_t count, StringRef name) {
      auto type = RankedTensorType::get({count}, element);
      Value c = arith::ConstantOp::create(b, loc, sparq::makeConstantFromBytes(type, bytes, name));
      return sparq::readAddress(b, loc, c);
    };
    auto words = [&](const std::vector<uint32_t> &v, StringRef name) {
      return constant(ArrayRef<char>(reinterpret_cast<const char *>(v.data()), v.size() * 4),
                      b.getI32Type(), int64_t(v.size()), name);
    };
    auto halves = [&](const std::vector<uint16_t> &v, StringRef name) {
      return constant(ArrayRef<char>(reinterpret_cast<const char *>(v.data()), v.size() * 2),
                      b.getI16Type(), int64_t(v.size()), name);
    };
    // Operands of the call in MmaArgs order: planes, scales, zeros, meta (0 where unused).
    SmallVector<Value> weightArgs;
    for (size_t p = 0; p < 3; ++p)
      weightArgs.push_back(p < w.planes.size() ? words(w.planes[p], "sparq_mma_plane")
                                               : sb.cIdx(0));
    weightArgs.push_back(w.scales.empty() ? sb.cIdx(0) : halves(w.scales, "sparq_mma_scales"));
    weightArgs.push_back(w.zeros.empty() ? sb.cIdx(0) : halves(w.zeros, "sparq_mma_zeros"));
    weightArgs.push_back(w.meta.empty() ? sb.cIdx(0) : words(w.meta, "sparq_mma_meta"));
    Value imageAddr = imageAddress(module, b, loc, image);
    const StringRef symbol = emulate ? "sparq_uk_gpu_mma_emulated" : "sparq_uk_gpu_mma";
    return sparq::productOverRows(
        b, loc, x, n, [&](OpBuilder &nb, Location nl, Value rows) -> Value {
          sparq::ScalarBuilder nsb{nb, nl};
          // fp16 activations (rounded to nearest even by a loop kernel).
          Value x16 = sparq::convertElements(nb, nl, rows, nb.getF16Type(),
                                             [](OpBuilder &cb, Location cl, Value v) -> Value {
                                               return arith::TruncFOp::create(
                                                   cb, cl, cb.getF16Type(), v);
                                             });
          auto rowsType = cast<RankedTensorType>(rows.getType());
          const int64_t m = rowsType.getDimSize(0);
          Value mValue = ShapedType::isDynamic(m)
                             ? tensor::DimOp::create(nb, nl, rows, 0).getResult()
                             : nsb.cIdx(m);
          SmallVector<Value> dyn;
          if (ShapedType::isDynamic(m))
            dyn.push_back(mValue);
          auto yType = MemRefType::get({m, n}, nb.getF32Type());
          Value out = memref::AllocOp::create(nb, nl, yType, dyn, nb.getI64IntegerAttr(64));
          SmallVector<Value> args = {imageAddr,
                                     nsb.cIdx(emulate ? 0 : int64_t(image.size())),
                                     nsb.cIdx(w.format),
                                     sparq::elementAddress(nb, nl, out),
                                     sparq::readAddress(nb, nl, x16)};
          args.append(weightArgs);
          args.append({mValue, nsb.cIdx(n), nsb.cIdx(k)});
          sparq::declareIndexKernel(module, symbol, args.size());
          func::CallOp::create(nb, nl, symbol, TypeRange{}, args);
          return bufferization::ToTensorOp::create(
              nb, nl, RankedTensorType::get({m, n}, nb.getF32Type()), out,
              /*restrict=*/true, /*writable=*/true);
        });
  }

  void lowerLinear(ModuleOp module, weight::LinearOp op, const MmaWeight &w, StringRef image) {
    OpBuilder b(op);
    auto outType = op.getResult().getType();
    Value y = callProduct(module, b, op.getLoc(), op.getInput(),
                          outType.getDimSize(outType.getRank() - 1), w, image);
    if (outType != y.getType())
      y = tensor::CastOp::create(b, op.getLoc(), outType, y);
    op.getResult().replaceAllUsesWith(y);
    op.erase();
  }

  /// C = init + A B with B the constant weight: the product on the kernel, plus the init
  /// unless it is a fill with zero.
  void lowerMatmul(ModuleOp module, linalg::MatmulOp op, const MmaWeight &w, StringRef image) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value init = op.getDpsInits()[0];
    auto outType = cast<RankedTensorType>(op.getResultTypes()[0]);
    Value y = callProduct(module, b, loc, op.getDpsInputs()[0], outType.getDimSize(1), w, image);
    if (outType != y.getType())
      y = tensor::CastOp::create(b, loc, outType, y);
    auto fill = init.getDefiningOp<linalg::FillOp>();
    if (!(fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat())))
      y = linalg::GenericOp::create(
              b, loc, outType, ValueRange{y, init}, ValueRange{init},
              SmallVector<AffineMap>(3, b.getMultiDimIdentityMap(2)),
              SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
              [](OpBuilder &nb, Location nl, ValueRange a) {
                linalg::YieldOp::create(nb, nl,
                                        arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
              })
              .getResult(0);
    op->getResult(0).replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace
