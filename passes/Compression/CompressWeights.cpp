//===- passes/Compression/CompressWeights.cpp - weight compression ----------===//
//
// sparq-compress-weights: per layer, compute the compressed weight with lib/Compression (prune
// first, optional channel rearrangement, then quantize or shift-add), pack it with the
// packed-format header, and replace the ONNX node by the consumer op of the packed form.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/NM/NMDialect.h"
#include "dialects/ONNX/SparqONNXDialect.h"
#include "dialects/Quant/QuantDialect.h"
#include "dialects/ShiftAdd/ShiftAddDialect.h"
#include "lib/Compression/Compression.h"
#include "sparq/Formats/PackedFormats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Regex.h"

#include <numeric>

namespace sparq {
#define GEN_PASS_DEF_COMPRESSWEIGHTSPASS
#include "passes/Passes.h.inc"
} // namespace sparq

using namespace mlir;
namespace cmp = sparq::compression;
namespace fmt = sparq::formats;

namespace {

/// Settings for one layer.
struct LayerConfig {
  unsigned n = 0, m = 0; // N:M (n == 0: dense)
  unsigned wbits = 0;
  int64_t group = 128;
  bool symmetric = true;
  unsigned shiftadd = 0;
  bool pow2 = false;
  bool searchClip = false;
  bool rearrange = false;
  bool enabled() const { return n || wbits || shiftadd; }
};

LogicalResult parseSparsity(StringRef text, LayerConfig &c, std::string &err) {
  if (text.empty())
    return success();
  auto [ns, ms] = text.split(':');
  if (ns.getAsInteger(10, c.n) || ms.getAsInteger(10, c.m) || !fmt::nmValid(c.n, c.m)) {
    err = "sparsity '" + text.str() + "' is not N:M with 1 <= N < M <= 16";
    return failure();
  }
  return success();
}

LogicalResult validate(const LayerConfig &c, std::string &err) {
  if (c.wbits > 8) {
    err = "wbits must be in [1, 8], got " + std::to_string(c.wbits);
    return failure();
  }
  if (c.wbits && c.symmetric && c.wbits < 2) {
    err = "symmetric quantization needs at least 2 bits (use --shiftadd 1 for binary weights)";
    return failure();
  }
  if (c.shiftadd > 8) {
    err = "shiftadd must be in [1, 8], got " + std::to_string(c.shiftadd);
    return failure();
  }
  if (c.shiftadd && c.wbits) {
    err = "shift-add and uniform quantization are alternatives: give --wbits or --shiftadd";
    return failure();
  }
  if (c.shiftadd && c.n) {
    err = "shift-add cannot be combined with N:M sparsity";
    return failure();
  }
  if (c.group < -1) {
    err = "group must be positive, 0 (per channel) or -1 (per tensor)";
    return failure();
  }
  if (c.shiftadd && c.group <= 0) {
    err = "shift-add needs a positive group size";
    return failure();
  }
  return success();
}

/// Applies the keys of a JSON object onto `c`.
LogicalResult applyJSON(const llvm::json::Object &o, LayerConfig &c, std::string &err) {
  for (const auto &kv : o) {
    StringRef key = kv.first;
    const llvm::json::Value &v = kv.second;
    if (key == "match")
      continue;
    if (key == "sparsity") {
      auto s = v.getAsString();
      c.n = c.m = 0;
      if (!s || failed(parseSparsity(*s, c, err))) {
        if (err.empty())
          err = "'sparsity' must be a string like \"2:4\"";
        return failure();
      }
    } else if (key == "wbits" || key == "group" || key == "shiftadd") {
      auto i = v.getAsInteger();
      if (!i) {
        err = "'" + key.str() + "' must be an integer";
        return failure();
      }
      if (key == "wbits")
        c.wbits = *i;
      else if (key == "group")
        c.group = *i;
      else
        c.shiftadd = *i;
    } else if (key == "symmetric" || key == "pow2" || key == "search_clip" || key == "rearrange") {
      auto b = v.getAsBoolean();
      if (!b) {
        err = "'" + key.str() + "' must be true or false";
        return failure();
      }
      (key == "symmetric" ? c.symmetric
       : key == "pow2"    ? c.pow2
       : key == "search_clip" ? c.searchClip
                              : c.rearrange) = *b;
    } else if (key == "skip") {
      auto b = v.getAsBoolean();
      if (b && *b)
        c = LayerConfig();
    } else {
      err = "unknown key '" + key.str() + "'";
      return failure();
    }
  }
  return success();
}

/// A weight-bearing node and its canonical [rows, k] weight.
struct Layer {
  sparq::onnx::NodeOp node;
  std::string name, weightName;
  arith::ConstantOp weightOp;
  int64_t rows = 0, k = 0;
  bool transposed = false; ///< ONNX layout is [k, rows] (MatMul B, Gemm B without transB)
  std::vector<float> w;    ///< canonical [rows, k]
  bool isConv = false;
  LayerConfig config;
  std::vector<int64_t> rowPerm; ///< rows permuted by a consumer's rearrangement (new -> old)
};

/// Result of compressing one canonical weight.
struct Compressed {
  std::vector<float> dequantized; // canonical
  double error = 0;
  // Packed arrays (only those the scheme uses).
  std::vector<float> nmValues;
  std::vector<int8_t> nmIndices, codes, zeroPoints;
  std::vector<float> scales, signs, alphas;
  size_t packedBytes = 0;
};

Compressed compress(const std::vector<float> &w, int64_t rows, int64_t k, const LayerConfig &c) {
  Compressed out;
  if (c.shiftadd) {
    cmp::BCQConfig b;
    b.q = c.shiftadd;
    b.group = c.group;
    b.pow2 = c.pow2;
    cmp::BCQ f = cmp::fitBCQ(w, rows, k, b);
    out.dequantized = std::move(f.dequantized);
    out.signs = std::move(f.signs);
    out.alphas = std::move(f.scales);
    out.packedBytes = c.shiftadd * rows * fmt::bcqRowBytes(k) + out.alphas.size() * 4;
    out.error = cmp::relativeError(w, out.dequantized);
    return out;
  }
  cmp::QuantConfig qc;
  qc.bits = c.wbits;
  qc.isSigned = c.symmetric;
  qc.symmetric = c.symmetric;
  qc.group = c.group;
  qc.searchClip = c.searchClip;
  if (c.n) {
    std::vector<float> pruned = cmp::pruneNM(w, rows, k, c.n, c.m);
    size_t kept = fmt::nmKeptPerRow(k, c.n, c.m), ib = fmt::nmIndexRowBytes(k, c.n, c.m);
    out.nmValues.assign(rows * kept, 0.0f);
    out.nmIndices.assign(rows * ib, 0);
    for (int64_t r = 0; r < rows; ++r)
      fmt::nmPackRow(&pruned[r * k], k, c.n, c.m, &out.nmValues[r * kept],
                     reinterpret_cast<uint8_t *>(&out.nmIndices[r * ib]));
    out.packedBytes = rows * ib;
    std::vector<float> values = out.nmValues;
    if (c.wbits) {
      cmp::Quantized q = cmp::quantize(values, rows, kept, qc);
      out.codes = std::move(q.codes);
      out.scales = std::move(q.scales);
      out.zeroPoints = std::move(q.zeroPoints);
      values = std::move(q.dequantized);
      out.packedBytes += rows * fmt::packedRowBytes(kept, c.wbits) + out.scales.size() * 4 +
                         out.zeroPoints.size();
    } else {
      out.packedBytes += values.size() * 4;
    }
    out.dequantized.assign(rows * k, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      fmt::nmUnpackRow(&values[r * kept], reinterpret_cast<uint8_t *>(&out.nmIndices[r * ib]),
                       k, c.n, c.m, &out.dequantized[r * k]);
  } else {
    cmp::Quantized q = cmp::quantize(w, rows, k, qc);
    out.codes = std::move(q.codes);
    out.scales = std::move(q.scales);
    out.zeroPoints = std::move(q.zeroPoints);
    out.dequantized = std::move(q.dequantized);
    out.packedBytes = rows * fmt::packedRowBytes(k, c.wbits) + out.scales.size() * 4 +
                      out.zeroPoints.size();
  }
  out.error = cmp::relativeError(w, out.dequantized);
  return out;
}

std::vector<int8_t> packRows(const std::vector<int8_t> &codes, int64_t rows, int64_t k,
                             unsigned bits) {
  size_t rb = fmt::packedRowBytes(k, bits);
  std::vector<int8_t> out(rows * rb);
  std::vector<uint8_t> row(k);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < k; ++i)
      row[i] = fmt::encode(codes[r * k + i], bits);
    fmt::packCodes(row.data(), k, bits, reinterpret_cast<uint8_t *>(&out[r * rb]));
  }
  return out;
}

struct CompressWeightsPass
    : public sparq::impl::CompressWeightsPassBase<CompressWeightsPass> {
  using CompressWeightsPassBase::CompressWeightsPassBase;
  CompressWeightsPass(const sparq::CompressWeightsPassOptions &options,
                      sparq::DequantizedWeightSink sink, sparq::CompressionProgress progress)
      : CompressWeightsPassBase(options), sink(std::move(sink)), progress(std::move(progress)) {}

  sparq::DequantizedWeightSink sink;
  sparq::CompressionProgress progress;
  LayerConfig defaults;
  std::vector<std::pair<std::shared_ptr<llvm::Regex>, LayerConfig>> recipeLayers;
  std::shared_ptr<llvm::Regex> onlyRe, skipRe;

  LogicalResult setup(ModuleOp module) {
    std::string err;
    defaults.wbits = wbits;
    defaults.group = group;
    defaults.symmetric = symmetric;
    defaults.shiftadd = shiftadd;
    defaults.pow2 = pow2;
    defaults.searchClip = searchClip;
    defaults.rearrange = rearrange;
    if (failed(parseSparsity(sparsity, defaults, err)) || failed(validate(defaults, err)))
      return module.emitError("invalid compression settings: ") << err;
    for (auto [text, slot, flag] : {std::tuple{only.getValue(), &onlyRe, "--only"},
                                    std::tuple{skip.getValue(), &skipRe, "--skip"}}) {
      if (text.empty())
        continue;
      *slot = std::make_shared<llvm::Regex>(text);
      if (!(*slot)->isValid(err))
        return module.emitError() << flag << " '" << text << "' is not a valid regex: " << err;
    }
    if (recipe.empty())
      return success();
    auto buf = llvm::MemoryBuffer::getFile(recipe.getValue());
    if (!buf)
      return module.emitError() << "cannot read recipe '" << recipe << "': "
                                << buf.getError().message();
    auto json = llvm::json::parse((*buf)->getBuffer());
    if (!json)
      return module.emitError() << "recipe '" << recipe
                                << "' is not valid JSON: " << llvm::toString(json.takeError());
    auto *root = json->getAsObject();
    if (!root)
      return module.emitError() << "recipe '" << recipe << "': expected a JSON object";
    for (const auto &kv : *root)
      if (kv.first != "default" && kv.first != "layers")
        return module.emitError() << "recipe '" << recipe << "': unknown key '"
                                  << StringRef(kv.first) << "' (expected 'default' and 'layers')";
    if (auto *d = root->getObject("default"))
      if (failed(applyJSON(*d, defaults, err)) || failed(validate(defaults, err)))
        return module.emitError() << "recipe '" << recipe << "', default: " << err;
    if (auto *layers = root->getArray("layers")) {
      for (size_t i = 0; i < layers->size(); ++i) {
        auto *o = (*layers)[i].getAsObject();
        auto match = o ? o->getString("match") : std::nullopt;
        if (!match)
          return module.emitError() << "recipe '" << recipe << "', layers[" << i
                                    << "]: needs a \"match\" regex";
        auto re = std::make_shared<llvm::Regex>(*match);
        if (!re->isValid(err))
          return module.emitError() << "recipe '" << recipe << "', layers[" << i << "]: '"
                                    << *match << "' is not a valid regex: " << err;
        LayerConfig c = defaults;
        if (failed(applyJSON(*o, c, err)) || failed(validate(c, err)))
          return module.emitError() << "recipe '" << recipe << "', layers[" << i << "]: " << err;
        recipeLayers.emplace_back(std::move(re), c);
      }
    } else if (root->get("layers")) {
      return module.emitError() << "recipe '" << recipe << "': 'layers' must be an array";
    }
    return success();
  }

  LayerConfig configFor(const Layer &l) {
    auto matches = [&](llvm::Regex &re) {
      return re.match(l.name) || (!l.weightName.empty() && re.match(l.weightName));
    };
    if (onlyRe && !matches(*onlyRe))
      return LayerConfig();
    if (skipRe && matches(*skipRe))
      return LayerConfig();
    for (auto &[re, c] : recipeLayers)
      if (matches(*re))
        return c;
    return defaults;
  }

  /// Recognizes a weight-bearing node with a constant float weight.
  std::optional<Layer> match(sparq::onnx::NodeOp node) {
    StringRef type = node.getOpType();
    if (!node.getDomain().empty() && node.getDomain() != "ai.onnx")
      return std::nullopt;
    Layer l;
    l.node = node;
    unsigned wIdx = 1;
    if (type == "MatMul" || type == "Gemm") {
      if (type == "Gemm" &&
          cast_or_null<IntegerAttr>(node.getOnnxAttr("transA")) &&
          cast<IntegerAttr>(node.getOnnxAttr("transA")).getInt() != 0)
        return std::nullopt;
      auto x = dyn_cast<RankedTensorType>(node.getInputs()[0].getType());
      if (!x || x.getRank() < 2 || !x.hasStaticShape())
        return std::nullopt;
      bool transB = false;
      if (auto t = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr("transB")))
        transB = t.getInt() != 0;
      l.transposed = !(type == "Gemm" && transB);
    } else if (type == "Conv") {
      auto g = dyn_cast_or_null<IntegerAttr>(node.getOnnxAttr("group"));
      auto x = dyn_cast<RankedTensorType>(node.getInputs()[0].getType());
      if ((g && g.getInt() != 1) || !x || x.getRank() != 4 || !x.hasStaticShape())
        return std::nullopt;
      l.isConv = true;
    } else {
      return std::nullopt;
    }
    if (node.getInputs().size() <= wIdx)
      return std::nullopt;
    l.weightOp = node.getInputs()[wIdx].getDefiningOp<arith::ConstantOp>();
    if (!l.weightOp)
      return std::nullopt;
    auto wt = cast<RankedTensorType>(l.weightOp.getType());
    if (!wt.getElementType().isF32() || (l.isConv ? wt.getRank() != 4 : wt.getRank() != 2))
      return std::nullopt;
    auto values = sparq::readElementsAsDouble(l.weightOp.getValue());
    if (!values)
      return std::nullopt;
    if (l.isConv) {
      l.rows = wt.getDimSize(0);
      l.k = wt.getNumElements() / l.rows;
      l.w.assign(values->begin(), values->end());
    } else {
      int64_t d0 = wt.getDimSize(0), d1 = wt.getDimSize(1);
      l.rows = l.transposed ? d1 : d0;
      l.k = l.transposed ? d0 : d1;
      l.w.resize(l.rows * l.k);
      for (int64_t i = 0; i < d0; ++i)
        for (int64_t j = 0; j < d1; ++j)
          (l.transposed ? l.w[j * l.k + i] : l.w[i * l.k + j]) = (float)(*values)[i * d1 + j];
    }
    l.name = node.getName().str();
    if (auto nl = dyn_cast<NameLoc>(l.weightOp.getLoc()))
      l.weightName = nl.getName().str();
    if (l.name.empty())
      l.name = l.weightName;
    return l;
  }

  /// The producer whose output rows can absorb a permutation of this layer's K: a MatMul/Gemm
  /// layer reached through single-use, single-input elementwise nodes.
  Layer *foldableProducer(Layer &l, std::map<Operation *, Layer *> &byNode) {
    static const llvm::StringSet<> unary = {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "Gelu",
                                            "Identity", "HardSigmoid", "HardSwish", "Elu",
                                            "Selu", "Softplus", "Erf", "Neg", "Abs", "Clip"};
    Value v = l.node.getInputs()[0];
    while (true) {
      if (!v.hasOneUse())
        return nullptr;
      auto producer = v.getDefiningOp<sparq::onnx::NodeOp>();
      if (!producer)
        return nullptr;
      auto it = byNode.find(producer);
      if (it != byNode.end())
        return it->second->isConv ? nullptr : it->second;
      if (!unary.contains(producer.getOpType()) || producer.getInputs().empty())
        return nullptr;
      // Clip's min/max inputs are scalars; other inputs must be absent.
      for (unsigned i = 1; i < producer.getInputs().size(); ++i)
        if (auto t = dyn_cast<RankedTensorType>(producer.getInputs()[i].getType());
            t && t.getNumElements() != 1)
          return nullptr;
      v = producer.getInputs()[0];
    }
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(setup(module)))
      return signalPassFailure();
    std::vector<Layer> layers;
    module.walk([&](sparq::onnx::NodeOp node) {
      if (auto l = match(node)) {
        l->config = configFor(*l);
        if (l->config.enabled())
          layers.push_back(std::move(*l));
      }
    });
    std::map<Operation *, Layer *> byNode;
    for (Layer &l : layers)
      byNode[l.node] = &l;
    // Consumers first, so a consumer's permutation is folded into its producer's rows before
    // the producer itself is compressed.
    size_t done = 0;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
      if (progress)
        progress(done++, layers.size(), it->name);
      if (failed(process(*it, byNode)))
        return signalPassFailure();
    }
    if (progress && !layers.empty())
      progress(layers.size(), layers.size(), "");
  }

  LogicalResult process(Layer &l, std::map<Operation *, Layer *> &byNode);
  Value gatherLastDim(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> perm);
};

Value CompressWeightsPass::gatherLastDim(OpBuilder &b, Location loc, Value x,
                                         ArrayRef<int64_t> perm) {
  auto t = cast<RankedTensorType>(x.getType());
  auto permType = RankedTensorType::get({(int64_t)perm.size()}, b.getIndexType());
  SmallVector<APInt> idx;
  for (int64_t p : perm)
    idx.push_back(APInt(64, p));
  Value permCst = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(permType, idx));
  Value init = tensor::EmptyOp::create(b, loc, t.getShape(), t.getElementType());
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(t.getRank())};
  SmallVector<utils::IteratorType> iters(t.getRank(), utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, t, ValueRange{}, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location nl, ValueRange) {
               SmallVector<Value> ids;
               for (int64_t i = 0; i < t.getRank(); ++i)
                 ids.push_back(linalg::IndexOp::create(nb, nl, i));
               ids.back() = tensor::ExtractOp::create(nb, nl, permCst, ValueRange{ids.back()});
               linalg::YieldOp::create(nb, nl,
                                       tensor::ExtractOp::create(nb, nl, x, ids).getResult());
             })
      .getResult(0);
}

LogicalResult CompressWeightsPass::process(Layer &l, std::map<Operation *, Layer *> &byNode) {
  const LayerConfig &c = l.config;
  // Producer permutations arrive as row permutations of this layer's weight.
  if (!l.rowPerm.empty()) {
    std::vector<float> p(l.w.size());
    for (int64_t r = 0; r < l.rows; ++r)
      std::copy(&l.w[l.rowPerm[r] * l.k], &l.w[l.rowPerm[r] * l.k] + l.k, &p[r * l.k]);
    l.w = std::move(p);
  }
  Compressed best = compress(l.w, l.rows, l.k, c);
  std::vector<int64_t> colPerm;
  double errorWithoutPerm = best.error;
  if (c.rearrange && (c.wbits || c.shiftadd) && !l.isConv) {
    std::vector<int64_t> perm = cmp::sortChannelsByScore(cmp::channelScores(l.w, l.rows, l.k));
    std::vector<float> pw = cmp::permuteColumns(l.w, l.rows, l.k, perm);
    Compressed alt = compress(pw, l.rows, l.k, c);
    // Keep it only for a real gain (0.1%), not for rounding noise in the error sum.
    if (alt.error < best.error * 0.999) {
      best = std::move(alt);
      colPerm = std::move(perm);
    }
  }
  // S->Q versus Q->S, for the report.
  double qsError = -1;
  if (c.n && c.wbits) {
    cmp::QuantConfig qc;
    qc.bits = c.wbits;
    qc.isSigned = qc.symmetric = c.symmetric;
    qc.group = c.group;
    qc.searchClip = c.searchClip;
    const std::vector<float> &src = colPerm.empty() ? l.w : cmp::permuteColumns(l.w, l.rows, l.k, colPerm);
    qsError = cmp::relativeError(
        src, cmp::pruneNM(cmp::quantize(src, l.rows, l.k, qc).dequantized, l.rows, l.k, c.n, c.m));
  }

  OpBuilder b(l.node);
  Location loc = l.node.getLoc();
  MLIRContext *ctx = b.getContext();
  Value x = l.node.getInputs()[0];
  bool gathered = false;
  if (!colPerm.empty()) {
    if (Layer *prod = foldableProducer(l, byNode)) {
      prod->rowPerm = colPerm; // the producer emits its features in permuted order
    } else {
      x = gatherLastDim(b, loc, x, colPerm);
      gathered = true;
    }
  }

  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  auto cst = [&](ArrayRef<int64_t> shape, auto values, StringRef what) -> Value {
    auto type = RankedTensorType::get(shape, std::is_same_v<decltype(values), std::vector<float>>
                                                 ? Type(f32) : Type(i8));
    std::string blob = l.name + "." + what.str();
    TypedAttr attr;
    if constexpr (std::is_same_v<decltype(values), std::vector<float>>)
      attr = sparq::makeFloatConstant(type, values, blob);
    else
      attr = sparq::makeI8Constant(type, values, blob);
    return arith::ConstantOp::create(b, loc, attr);
  };
  int64_t rows = l.rows, k = l.k;
  int64_t groupsOf = [&](int64_t kk) {
    return c.group < 0 ? 1 : c.group == 0 ? 1 : (int64_t)fmt::numGroups(kk, c.group);
  }(c.n ? (int64_t)fmt::nmKeptPerRow(k, c.n, c.m) : k);
  int64_t paramRows = c.group < 0 ? 1 : rows;
  auto scheme = sparq::quant::SchemeAttr::get(ctx, c.wbits ? c.wbits : 8, c.symmetric,
                                              c.symmetric, c.group);
  Type resultType = l.node->getResult(0).getType();
  auto xType = cast<RankedTensorType>(x.getType());
  // Matmul-like consumers take [..., M, K] and give [..., M, rows].
  SmallVector<int64_t> mmShape(xType.getShape());
  mmShape.back() = rows;
  Type mmType = l.isConv ? resultType : RankedTensorType::get(mmShape, f32);
  Value y;
  if (c.shiftadd) {
    auto cfg = sparq::shiftadd::BCQAttr::get(ctx, c.shiftadd, c.group, c.pow2);
    std::vector<int8_t> packed(c.shiftadd * rows * fmt::bcqRowBytes(k));
    for (int64_t r = 0; r < (int64_t)c.shiftadd * rows; ++r)
      fmt::bcqPackRow(&best.signs[r * k], k,
                      reinterpret_cast<uint8_t *>(&packed[r * fmt::bcqRowBytes(k)]));
    Value codes = cst({c.shiftadd, rows, (int64_t)fmt::bcqRowBytes(k)}, packed, "codes");
    Value alpha = cst({c.shiftadd, rows, (int64_t)fmt::numGroups(k, c.group)}, best.alphas,
                      "scales");
    y = sparq::shiftadd::LutMatmulOp::create(b, loc, mmType, x, codes, alpha, cfg);
  } else if (c.n) {
    auto pattern = sparq::nm::PatternAttr::get(ctx, c.n, c.m);
    int64_t kept = fmt::nmKeptPerRow(k, c.n, c.m);
    Value idx = cst({rows, (int64_t)fmt::nmIndexRowBytes(k, c.n, c.m)}, best.nmIndices, "indices");
    if (c.wbits) {
      Value codes = cst({rows, (int64_t)fmt::packedRowBytes(kept, c.wbits)},
                        packRows(best.codes, rows, kept, c.wbits), "codes");
      Value scales = cst({paramRows, groupsOf}, best.scales, "scales");
      Value zps = c.symmetric ? Value() : cst({paramRows, groupsOf}, best.zeroPoints, "zero_points");
      if (!l.isConv)
        y = sparq::nm::QuantizedMatmulOp::create(b, loc, mmType, x, codes, idx, scales, zps,
                                                 pattern, scheme);
    } else {
      Value values = cst({rows, kept}, best.nmValues, "values");
      if (!l.isConv)
        y = sparq::nm::MatmulOp::create(b, loc, mmType, x, values, idx, pattern);
    }
  } else {
    Value packed = cst({rows, (int64_t)fmt::packedRowBytes(k, c.wbits)},
                       packRows(best.codes, rows, k, c.wbits), "codes");
    Value scales = cst({paramRows, groupsOf}, best.scales, "scales");
    Value zps = c.symmetric ? Value() : cst({paramRows, groupsOf}, best.zeroPoints, "zero_points");
    if (!l.isConv)
      y = sparq::quant::MatmulOp::create(b, loc, mmType, x, packed, scales, zps, scheme);
  }
  if (l.isConv && !y) {
    // Convolution: pads from attributes (auto_pad resolved here), bias as given.
    auto in = cast<RankedTensorType>(x.getType());
    auto wt = cast<RankedTensorType>(l.weightOp.getType());
    SmallVector<int64_t> kernel = {wt.getDimSize(2), wt.getDimSize(3)};
    auto ints = [&](StringRef name, SmallVector<int64_t> dflt) {
      if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(l.node.getOnnxAttr(name)))
        return SmallVector<int64_t>(a.asArrayRef());
      return dflt;
    };
    SmallVector<int64_t> strides = ints("strides", {1, 1}), dil = ints("dilations", {1, 1});
    SmallVector<int64_t> pads = ints("pads", {0, 0, 0, 0});
    auto out = cast<RankedTensorType>(resultType);
    std::string autoPad = "NOTSET";
    if (auto a = dyn_cast_or_null<StringAttr>(l.node.getOnnxAttr("auto_pad")))
      autoPad = a.getValue().str();
    if (autoPad == "VALID")
      pads = {0, 0, 0, 0};
    else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
      for (int i = 0; i < 2; ++i) {
        int64_t total = std::max<int64_t>(
            (out.getDimSize(2 + i) - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 -
                in.getDimSize(2 + i), 0);
        int64_t small = total / 2;
        pads[i] = autoPad == "SAME_UPPER" ? small : total - small;
        pads[i + 2] = total - pads[i];
      }
    Value bias = l.node.getInputs().size() > 2 &&
                         !isa<NoneType>(l.node.getInputs()[2].getType())
                     ? l.node.getInputs()[2]
                     : Value();
    auto kAttr = b.getDenseI64ArrayAttr(kernel), sAttr = b.getDenseI64ArrayAttr(strides),
         dAttr = b.getDenseI64ArrayAttr(dil), pAttr = b.getDenseI64ArrayAttr(pads);
    if (c.n && c.wbits) {
      int64_t kept = fmt::nmKeptPerRow(k, c.n, c.m);
      Value codes = cst({rows, (int64_t)fmt::packedRowBytes(kept, c.wbits)},
                        packRows(best.codes, rows, kept, c.wbits), "codes");
      Value idx = cst({rows, (int64_t)fmt::nmIndexRowBytes(k, c.n, c.m)}, best.nmIndices,
                      "indices");
      Value scales = cst({paramRows, groupsOf}, best.scales, "scales");
      Value zps =
          c.symmetric ? Value() : cst({paramRows, groupsOf}, best.zeroPoints, "zero_points");
      y = sparq::nm::QuantizedConv2DOp::create(b, loc, resultType, x, codes, idx, scales, zps,
                                               bias, sparq::nm::PatternAttr::get(ctx, c.n, c.m),
                                               scheme, kAttr, sAttr, dAttr, pAttr);
    } else if (c.n) {
      Value values = cst({rows, (int64_t)fmt::nmKeptPerRow(k, c.n, c.m)}, best.nmValues, "values");
      Value idx = cst({rows, (int64_t)fmt::nmIndexRowBytes(k, c.n, c.m)}, best.nmIndices,
                      "indices");
      y = sparq::nm::Conv2DOp::create(b, loc, resultType, x, values, idx, bias,
                                      sparq::nm::PatternAttr::get(ctx, c.n, c.m), kAttr, sAttr,
                                      dAttr, pAttr);
    } else if (c.wbits) {
      Value packed = cst({rows, (int64_t)fmt::packedRowBytes(k, c.wbits)},
                         packRows(best.codes, rows, k, c.wbits), "codes");
      Value scales = cst({paramRows, groupsOf}, best.scales, "scales");
      Value zps =
          c.symmetric ? Value() : cst({paramRows, groupsOf}, best.zeroPoints, "zero_points");
      y = sparq::quant::Conv2DOp::create(b, loc, resultType, x, packed, scales, zps, bias, scheme,
                                         kAttr, sAttr, dAttr, pAttr);
    } else {
      return l.node.emitError("shift-add is not supported for convolutions; use --skip for this "
                              "layer");
    }
  }
  Operation *compressedOp = y.getDefiningOp();

  // Gemm: alpha * y + beta * C, as ONNX nodes the conversion lowers.
  if (l.node.getOpType() == "Gemm") {
    auto fattr = [&](StringRef n, float d) {
      if (auto a = dyn_cast_or_null<FloatAttr>(l.node.getOnnxAttr(n)))
        return (float)a.getValueAsDouble();
      return d;
    };
    float alpha = fattr("alpha", 1.0f), beta = fattr("beta", 1.0f);
    auto node = [&](StringRef op, Value a, Value bb) {
      return sparq::onnx::NodeOp::create(b, loc, TypeRange{resultType}, op, "",
                                         l.node.getOpset(), l.name + "." + op.str(),
                                         b.getDictionaryAttr({}), ValueRange{a, bb})
          .getResult(0);
    };
    auto scalar = [&](float v) {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(RankedTensorType::get({}, f32), v));
    };
    if (alpha != 1.0f)
      y = node("Mul", y, scalar(alpha));
    if (l.node.getInputs().size() > 2 && !isa<NoneType>(l.node.getInputs()[2].getType()) &&
        beta != 0.0f) {
      Value cv = l.node.getInputs()[2];
      // A consumer's permutation folded into this layer's rows permutes C of shape [N] too.
      auto ct = dyn_cast<RankedTensorType>(cv.getType());
      if (!l.rowPerm.empty() && ct && ct.getNumElements() != 1) {
        auto cc = cv.getDefiningOp<arith::ConstantOp>();
        auto vals = cc ? sparq::readElementsAsDouble(cc.getValue()) : std::nullopt;
        if (!vals || ct.getNumElements() != rows || ct.getRank() != 1)
          return l.node.emitError("cannot fold a channel permutation into the bias ")
                 << ct << " (it must be a constant of shape [" << rows << "])";
        std::vector<float> pv(rows);
        for (int64_t r = 0; r < rows; ++r)
          pv[r] = (float)(*vals)[l.rowPerm[r]];
        cv = arith::ConstantOp::create(b, loc, sparq::makeFloatConstant(ct, pv, l.name + ".bias"));
      }
      if (beta != 1.0f)
        cv = sparq::onnx::NodeOp::create(b, loc, TypeRange{cv.getType()}, "Mul", "",
                                         l.node.getOpset(), l.name + ".beta",
                                         b.getDictionaryAttr({}), ValueRange{cv, scalar(beta)})
                 .getResult(0);
      y = node("Add", y, cv);
    }
  }
  if (y.getType() != resultType)
    return l.node.emitError("internal error: compressed result type ")
           << y.getType() << " differs from " << resultType;

  // Report entry.
  double bytesBefore = rows * k * 4.0;
  SmallVector<NamedAttribute> info = {
      b.getNamedAttr("name", b.getStringAttr(l.name)),
      b.getNamedAttr("weight", b.getStringAttr(l.weightName)),
      b.getNamedAttr("op", b.getStringAttr(l.node.getOpType())),
      b.getNamedAttr("rows", b.getI64IntegerAttr(rows)),
      b.getNamedAttr("k", b.getI64IntegerAttr(k)),
      b.getNamedAttr("scheme",
                     b.getStringAttr((c.n ? std::to_string(c.n) + ":" + std::to_string(c.m) : "") +
                                     (c.n && (c.wbits || c.shiftadd) ? "+" : "") +
                                     (c.wbits ? "W" + std::to_string(c.wbits) +
                                                    (c.group > 0 ? "g" + std::to_string(c.group)
                                                     : c.group == 0 ? "pc" : "pt") +
                                                    (c.symmetric ? "" : "a")
                                              : "") +
                                     (c.shiftadd ? "SA" + std::to_string(c.shiftadd) +
                                                       (c.pow2 ? "p2" : "")
                                                 : ""))),
      b.getNamedAttr("bytes_before", b.getF64FloatAttr(bytesBefore)),
      b.getNamedAttr("bytes_after", b.getF64FloatAttr((double)best.packedBytes)),
      b.getNamedAttr("bits_per_weight", b.getF64FloatAttr(best.packedBytes * 8.0 / (rows * k))),
      b.getNamedAttr("weight_error", b.getF64FloatAttr(best.error)),
      b.getNamedAttr("permuted", b.getBoolAttr(!colPerm.empty())),
      b.getNamedAttr("permutation", b.getStringAttr(colPerm.empty() ? "none"
                                                    : gathered ? "gather"
                                                               : "folded into producer")),
      b.getNamedAttr("error_without_permutation", b.getF64FloatAttr(errorWithoutPerm))};
  if (qsError >= 0) {
    info.push_back(b.getNamedAttr("error_prune_then_quantize", b.getF64FloatAttr(best.error)));
    info.push_back(b.getNamedAttr("error_quantize_then_prune", b.getF64FloatAttr(qsError)));
  }
  compressedOp->setAttr("sparq.layer", b.getDictionaryAttr(info));

  // Dequantized weight in ONNX layout for --export-dequantized (permutations undone).
  if (sink && !l.weightName.empty()) {
    std::vector<float> canon(rows * k);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i) {
        int64_t orow = l.rowPerm.empty() ? r : l.rowPerm[r];
        int64_t ocol = colPerm.empty() ? i : colPerm[i];
        canon[orow * k + ocol] = best.dequantized[r * k + i];
      }
    std::vector<float> onnx(rows * k);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i)
        (l.transposed ? onnx[i * rows + r] : onnx[r * k + i]) = canon[r * k + i];
    sink(l.weightName, onnx);
  }

  l.node->getResult(0).replaceAllUsesWith(y);
  l.node->erase();
  if (l.weightOp->use_empty())
    l.weightOp->erase();
  return success();
}

} // namespace

std::unique_ptr<Pass> sparq::createCompressWeightsPass(const CompressWeightsPassOptions &options,
                                                       DequantizedWeightSink sink,
                                                       CompressionProgress progress) {
  return std::make_unique<CompressWeightsPass>(options, std::move(sink), std::move(progress));
}
