//===- passes/Compression/CompressWeights.cpp - weight compression ----------===//
//
// sparq-compress-weights: resolves each layer's settings (flags, recipe) into an ordered list of
// weight formats, compresses the weight on the host through the formats' compressors
// (WeightFormatAttrInterface: prune first, then quantize or binary-code the kept values), with
// optional outlier channel rearrangement, and replaces the ONNX node by sparq_weight.linear /
// sparq_weight.conv2d over the packed constants. Scheme-independent: the formats come from the
// scheme dialects.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/Common/ConstantData.h"
#include "dialects/ONNX/SparqONNXDialect.h"
#include "dialects/Weight/Calibration.h"
#include "dialects/Weight/WeightDialect.h"
#include "passes/Compression/Rearrange.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <map>

namespace sparq {
#define GEN_PASS_DEF_COMPRESSWEIGHTSPASS
#include "passes/Compression/Passes.h.inc"
} // namespace sparq

using namespace mlir;
namespace cmp = sparq::compression;
namespace weight = sparq::weight;
using sparq::CompressionSettings;

namespace {

/// The `--scheme` list the shorthand settings spell ("" when they compress nothing), or why
/// they are inconsistent.
llvm::Expected<std::string> shorthandScheme(const CompressionSettings &c) {
  auto fail = [](const std::string &msg) { return llvm::createStringError(msg); };
  unsigned n = 0, m = 0;
  if (!c.sparsity.empty()) {
    auto [ns, ms] = StringRef(c.sparsity).split(':');
    if (ns.getAsInteger(10, n) || ms.getAsInteger(10, m) || n < 1 || n >= m || m > 16)
      return fail("sparsity '" + c.sparsity + "' is not N:M with 1 <= N < M <= 16");
  }
  if (c.wbits > 8)
    return fail("wbits must be in [1, 8], got " + std::to_string(c.wbits));
  if (c.wbits && c.symmetric && c.wbits < 2)
    return fail("symmetric quantization needs at least 2 bits (use --shiftadd 1 for binary "
                "weights)");
  if (c.shiftadd > 8)
    return fail("shiftadd must be in [1, 8], got " + std::to_string(c.shiftadd));
  if (c.shiftadd && c.wbits)
    return fail("shift-add and uniform quantization are alternatives: give --wbits or "
                "--shiftadd");
  if (c.shiftadd && n)
    return fail("shift-add cannot be combined with N:M sparsity");
  if (c.group < -1)
    return fail("group must be positive, 0 (per channel) or -1 (per tensor)");
  if (c.shiftadd && c.group <= 0)
    return fail("shift-add needs a positive group size");
  std::vector<std::string> tokens;
  if (n)
    tokens.push_back(c.sparsity);
  if (c.wbits)
    tokens.push_back("w" + std::to_string(c.wbits) +
                     (c.group > 0 ? "g" + std::to_string(c.group) : c.group == 0 ? "pc" : "pt") +
                     (c.symmetric ? "" : "a"));
  if (c.shiftadd)
    tokens.push_back("sa" + std::to_string(c.shiftadd) + "g" + std::to_string(c.group) +
                     (c.pow2 ? "p2" : ""));
  return llvm::join(tokens, ",");
}

/// A layer's resolved settings.
struct LayerSpec {
  ArrayAttr formats; ///< null: the layer stays dense
  bool fromDefaults = false; ///< not set by a recipe entry nor excluded by --only/--skip
  bool rearrange = false;
  weight::CompressOptions options;
};

/// Resolves settings into a format list.
FailureOr<LayerSpec> resolve(MLIRContext *ctx, const CompressionSettings &c, std::string &err) {
  LayerSpec spec;
  spec.rearrange = c.rearrange;
  spec.options.searchClip = c.searchClip;
  std::optional<weight::Method> method = weight::parseMethod(c.method);
  if (!method) {
    err = "unknown method '" + c.method + "' (expected rtn, gptq, wanda, sparsegpt or awq)";
    return failure();
  }
  spec.options.method = *method;
  std::string list = c.scheme;
  if (list.empty()) {
    auto shorthand = shorthandScheme(c);
    if (!shorthand) {
      err = llvm::toString(shorthand.takeError());
      return failure();
    }
    list = *shorthand;
  }
  if (list.empty())
    return spec;
  spec.formats = weight::parseSchemeList(ctx, list, err);
  if (!spec.formats)
    return failure();
  return spec;
}

/// Applies the keys of a recipe's JSON object onto `c`. "scheme" and the shorthand keys replace
/// each other.
LogicalResult applyJSON(const llvm::json::Object &o, CompressionSettings &c, std::string &err) {
  for (const auto &kv : o) {
    StringRef key = kv.first;
    const llvm::json::Value &v = kv.second;
    auto clearShorthands = [&] {
      CompressionSettings fresh;
      c.sparsity.clear();
      c.wbits = fresh.wbits;
      c.group = fresh.group;
      c.symmetric = fresh.symmetric;
      c.shiftadd = fresh.shiftadd;
      c.pow2 = fresh.pow2;
    };
    if (key == "match")
      continue;
    if (key == "method") {
      auto s = v.getAsString();
      if (!s) {
        err = "'method' must be a string: \"rtn\", \"gptq\", \"wanda\", \"sparsegpt\" or \"awq\"";
        return failure();
      }
      c.method = s->str();
    } else if (key == "scheme") {
      auto s = v.getAsString();
      if (!s) {
        err = "'scheme' must be a string like \"2:4,w4g128\"";
        return failure();
      }
      clearShorthands();
      c.scheme = s->str();
    } else if (key == "sparsity") {
      auto s = v.getAsString();
      if (!s) {
        err = "'sparsity' must be a string like \"2:4\"";
        return failure();
      }
      c.scheme.clear();
      c.sparsity = s->str();
    } else if (key == "wbits" || key == "group" || key == "shiftadd") {
      auto i = v.getAsInteger();
      if (!i) {
        err = "'" + key.str() + "' must be an integer";
        return failure();
      }
      c.scheme.clear();
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
      if (key == "symmetric" || key == "pow2")
        c.scheme.clear();
      (key == "symmetric" ? c.symmetric
       : key == "pow2"    ? c.pow2
       : key == "search_clip" ? c.searchClip
                              : c.rearrange) = *b;
    } else if (key == "skip") {
      auto b = v.getAsBoolean();
      if (b && *b)
        c = CompressionSettings();
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
  /// Canonical [rows, k], read from the constant (loadWeight) only while the layer is being
  /// compressed or measured: the whole model's weights copied at once would double the fp32
  /// weights in memory during the pass.
  std::vector<float> w;
  bool isConv = false;
  LayerSpec spec;
  std::vector<int64_t> rowPerm; ///< rows permuted by a consumer's rearrangement (new -> old)
  std::shared_ptr<weight::InputStatistics> stats; ///< calibration statistics of the input
  /// --target-bits: the candidates measured for this layer.
  std::vector<sparq::LayerReport::Candidate> candidates;
};

/// The default candidate set of --target-bits (docs/calibration.md).
constexpr llvm::StringLiteral kDefaultCandidates =
    "w2g32;w3g64;w3g32;w4g128;w4g64;w4g32;w5g32;w6g32;w8g32;2:4,w4g32;2:4,w8g32";

/// Recognizes a weight-bearing node with a constant float weight.
std::optional<Layer> matchLayer(sparq::onnx::NodeOp node) {
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
  if (!wt.getElementType().isF32() || (l.isConv ? wt.getRank() != 4 : wt.getRank() != 2) ||
      !isa<DenseElementsAttr, DenseResourceElementsAttr>(l.weightOp.getValue()))
    return std::nullopt;
  if (l.isConv) {
    l.rows = wt.getDimSize(0);
    l.k = wt.getNumElements() / l.rows;
  } else {
    l.rows = l.transposed ? wt.getDimSize(1) : wt.getDimSize(0);
    l.k = l.transposed ? wt.getDimSize(0) : wt.getDimSize(1);
  }
  l.name = node.getName().str();
  if (auto nl = dyn_cast<NameLoc>(l.weightOp.getLoc()))
    l.weightName = nl.getName().str();
  if (l.name.empty())
    l.name = l.weightName;
  return l;
}

/// Reads `l`'s weight into l.w (canonical [rows, k]); fails with a diagnostic when its data
/// cannot be read (a resource without a blob).
LogicalResult loadWeight(Layer &l) {
  if (!l.w.empty())
    return success();
  auto values = sparq::readElementsAsDouble(l.weightOp.getValue());
  if (!values)
    return l.node.emitError("layer '") << l.name << "': its weight's data cannot be read";
  l.w.resize(l.rows * l.k);
  if (l.isConv || !l.transposed) {
    std::copy(values->begin(), values->end(), l.w.begin());
  } else {
    for (int64_t i = 0; i < l.k; ++i)
      for (int64_t j = 0; j < l.rows; ++j)
        l.w[j * l.k + i] = (float)(*values)[i * l.rows + j];
  }
  return success();
}

/// Frees l.w.
void dropWeight(Layer &l) { std::vector<float>().swap(l.w); }

/// A convolution layer's window: kernel, strides, dilations and pads (auto_pad resolved).
struct ConvGeometry {
  SmallVector<int64_t> kernel, strides, dilations, pads;
};

ConvGeometry convGeometry(Layer &l) {
  auto in = cast<RankedTensorType>(l.node.getInputs()[0].getType());
  auto wt = cast<RankedTensorType>(l.weightOp.getType());
  auto out = cast<RankedTensorType>(l.node->getResult(0).getType());
  auto ints = [&](StringRef name, SmallVector<int64_t> dflt) {
    if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(l.node.getOnnxAttr(name)))
      return SmallVector<int64_t>(a.asArrayRef());
    return dflt;
  };
  ConvGeometry g;
  g.kernel = {wt.getDimSize(2), wt.getDimSize(3)};
  g.strides = ints("strides", {1, 1});
  g.dilations = ints("dilations", {1, 1});
  g.pads = ints("pads", {0, 0, 0, 0});
  std::string autoPad = "NOTSET";
  if (auto a = dyn_cast_or_null<StringAttr>(l.node.getOnnxAttr("auto_pad")))
    autoPad = a.getValue().str();
  if (autoPad == "VALID")
    g.pads = {0, 0, 0, 0};
  else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")
    for (int i = 0; i < 2; ++i) {
      int64_t total = std::max<int64_t>((out.getDimSize(2 + i) - 1) * g.strides[i] +
                                            (g.kernel[i] - 1) * g.dilations[i] + 1 -
                                            in.getDimSize(2 + i),
                                        0);
      int64_t small = total / 2;
      g.pads[i] = autoPad == "SAME_UPPER" ? small : total - small;
      g.pads[i + 2] = total - g.pads[i];
    }
  return g;
}

struct CompressWeightsPass
    : public sparq::impl::CompressWeightsPassBase<CompressWeightsPass> {
  using CompressWeightsPassBase::CompressWeightsPassBase;
  CompressWeightsPass(const sparq::CompressionOptions &options,
                      sparq::DequantizedWeightSink sink, sparq::CompressionProgress progress,
                      sparq::LayerReportSink report)
      : options(options), sink(std::move(sink)),
        progress(std::move(progress)), report(std::move(report)) {}

  std::optional<sparq::CompressionOptions> options;
  sparq::DequantizedWeightSink sink;
  sparq::CompressionProgress progress;
  sparq::LayerReportSink report;
  LayerSpec defaults;
  std::vector<std::pair<std::shared_ptr<llvm::Regex>, LayerSpec>> recipeLayers;
  std::shared_ptr<llvm::Regex> onlyRe, skipRe;

  /// The settings of the textual pass options (sparq-opt), when not constructed with options.
  sparq::CompressionOptions fromPassOptions() const {
    sparq::CompressionOptions o;
    o.defaults.scheme = scheme;
    o.defaults.sparsity = sparsity;
    o.defaults.wbits = wbits;
    o.defaults.group = group;
    o.defaults.symmetric = symmetric;
    o.defaults.shiftadd = shiftadd;
    o.defaults.pow2 = pow2;
    o.defaults.searchClip = searchClip;
    o.defaults.rearrange = rearrange;
    o.defaults.method = method;
    o.only = only;
    o.skip = skip;
    o.recipe = recipe;
    return o;
  }

  LogicalResult setup(ModuleOp module) {
    MLIRContext *ctx = module.getContext();
    weight::loadSchemeDialects(ctx);
    const sparq::CompressionOptions o = options ? *options : fromPassOptions();
    std::string err;
    auto spec = resolve(ctx, o.defaults, err);
    if (failed(spec))
      return module.emitError("invalid compression settings: ") << err;
    defaults = *spec;
    targetBits = o.targetBits;
    if (targetBits > 0 && failed(parseCandidates(ctx, o.candidates)))
      return failure();
    for (auto [text, slot, flag] : {std::tuple{StringRef(o.only), &onlyRe, "--only"},
                                    std::tuple{StringRef(o.skip), &skipRe, "--skip"}}) {
      if (text.empty())
        continue;
      *slot = std::make_shared<llvm::Regex>(text);
      if (!(*slot)->isValid(err))
        return module.emitError() << flag << " '" << text << "' is not a valid regex: " << err;
    }
    StringRef recipe = o.recipe;
    if (recipe.empty())
      return success();
    auto buf = llvm::MemoryBuffer::getFile(recipe);
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
    CompressionSettings recipeDefaults = o.defaults;
    if (auto *d = root->getObject("default")) {
      if (failed(applyJSON(*d, recipeDefaults, err)))
        return module.emitError() << "recipe '" << recipe << "', default: " << err;
      auto spec = resolve(ctx, recipeDefaults, err);
      if (failed(spec))
        return module.emitError() << "recipe '" << recipe << "', default: " << err;
      defaults = *spec;
    }
    if (auto *layers = root->getArray("layers")) {
      for (size_t i = 0; i < layers->size(); ++i) {
        auto *obj = (*layers)[i].getAsObject();
        auto match = obj ? obj->getString("match") : std::nullopt;
        if (!match)
          return module.emitError() << "recipe '" << recipe << "', layers[" << i
                                    << "]: needs a \"match\" regex";
        auto re = std::make_shared<llvm::Regex>(*match);
        if (!re->isValid(err))
          return module.emitError() << "recipe '" << recipe << "', layers[" << i << "]: '"
                                    << *match << "' is not a valid regex: " << err;
        CompressionSettings c = recipeDefaults;
        FailureOr<LayerSpec> spec = failure();
        if (succeeded(applyJSON(*obj, c, err)))
          spec = resolve(ctx, c, err);
        if (failed(spec))
          return module.emitError() << "recipe '" << recipe << "', layers[" << i << "]: " << err;
        recipeLayers.emplace_back(std::move(re), *spec);
      }
    } else if (root->get("layers")) {
      return module.emitError() << "recipe '" << recipe << "': 'layers' must be an array";
    }
    return success();
  }

  double targetBits = 0;

  LayerSpec specFor(const Layer &l) {
    auto matches = [&](llvm::Regex &re) {
      return re.match(l.name) || (!l.weightName.empty() && re.match(l.weightName));
    };
    if (onlyRe && !matches(*onlyRe))
      return LayerSpec();
    if (skipRe && matches(*skipRe))
      return LayerSpec();
    for (auto &[re, spec] : recipeLayers)
      if (matches(*re))
        return spec;
    LayerSpec d = defaults;
    d.fromDefaults = true;
    return d;
  }

  /// --target-bits: the candidate scheme lists.
  SmallVector<ArrayAttr> candidateLists;
  LogicalResult parseCandidates(MLIRContext *ctx, StringRef text) {
    if (text.empty())
      text = kDefaultCandidates;
    SmallVector<StringRef> lists;
    text.split(lists, ';', -1, false);
    for (StringRef l : lists) {
      std::string err;
      ArrayAttr formats = weight::parseSchemeList(ctx, l.trim(), err);
      if (!formats)
        return emitError(UnknownLoc::get(ctx)) << "--candidates '" << l.trim() << "': " << err;
      candidateLists.push_back(formats);
    }
    if (candidateLists.empty())
      return emitError(UnknownLoc::get(ctx)) << "--candidates lists no scheme";
    return success();
  }

  /// Chooses a scheme per layer from the candidates: minimizes the sum of squared relative
  /// (output, with statistics) errors under the bits budget with a Lagrange multiplier.
  LogicalResult allocate(std::vector<Layer *> &pool, double fixedBits, double fixedWeights);

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
    const weight::CalibrationData *calibration = options ? options->calibration.get() : nullptr;
    size_t ordinal = 0;
    bool statsMismatch = false;
    module.walk([&](sparq::onnx::NodeOp node) {
      if (auto l = matchLayer(node)) {
        // Calibration statistics are listed in the order this walk meets the layers.
        if (calibration) {
          if (ordinal < calibration->layers.size() &&
              calibration->layers[ordinal].name == l->name)
            l->stats = calibration->layers[ordinal].stats;
          else
            statsMismatch = true;
        }
        ++ordinal;
        l->spec = specFor(*l);
        if (l->spec.formats || (targetBits > 0 && l->spec.fromDefaults))
          layers.push_back(std::move(*l));
      }
    });
    if (statsMismatch || (calibration && ordinal != calibration->layers.size())) {
      module.emitError("internal error: the calibration statistics do not match the layers "
                       "of the model");
      return signalPassFailure();
    }
    if (targetBits > 0) {
      std::vector<Layer *> pool;
      double fixedBits = 0, fixedWeights = 0;
      for (Layer &l : layers) {
        if (l.spec.fromDefaults) {
          pool.push_back(&l);
        } else {
          fixedBits += (double)weight::packedBytes(l.spec.formats, l.rows, l.k,
                                                   Float32Type::get(&getContext())) * 8;
          fixedWeights += (double)(l.rows * l.k);
        }
      }
      if (failed(allocate(pool, fixedBits, fixedWeights)))
        return signalPassFailure();
    }
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
      if (it->stats)
        it->stats->releaseFactors(); // k² doubles each; the next layer may need another
    }
    if (progress && !layers.empty())
      progress(layers.size(), layers.size(), "");
  }

  LogicalResult process(Layer &l, std::map<Operation *, Layer *> &byNode);
  Value gatherLastDim(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> perm);
};

/// The list compressed on the host, with its weight error and (with calibration statistics in
/// the options) its layer output error.
struct Compressed {
  weight::HostCompressed host;
  double error = 0;
  double outputError = -1;
  /// The error compressions are compared by: the output error when known.
  double score() const { return outputError >= 0 ? outputError : error; }
};

FailureOr<Compressed> compressWith(Operation *node, ArrayAttr formats,
                                   const std::vector<float> &w, int64_t rows, int64_t k,
                                   const weight::CompressOptions &options) {
  auto host = weight::compressHost(formats, w, rows, k, options);
  if (!host)
    return node->emitError("cannot compress with ")
           << weight::spellFormats(formats) << ": " << llvm::toString(host.takeError());
  Compressed c;
  c.error = cmp::relativeError(w, host->dequantized);
  if (options.stats)
    c.outputError = options.stats->relativeOutputError(w, host->dequantized, rows);
  c.host = std::move(*host);
  return c;
}

/// AWQ (Lin et al., 2023): the weight's input channels are multiplied by s_c = (E x_c²)^(α/2)
/// (normalized so that max·min = 1) before round-to-nearest compression and the layer input is
/// divided by s, which gives channels with large activations finer steps. α is searched over
/// 0, 0.1, …, 1 for the lowest layer output error on the calibration data (α = 0 is plain
/// round-to-nearest). The result's `dequantized` is the effective weight Q(W·s)/s; `invScale`
/// gets 1/s (empty when α = 0 won).
FailureOr<Compressed> compressAWQ(Operation *node, ArrayAttr formats, const std::vector<float> &w,
                                  int64_t rows, int64_t k, const weight::CompressOptions &options,
                                  std::vector<float> &invScale) {
  const weight::InputStatistics &st = *options.stats;
  weight::CompressOptions ro = options;
  ro.method = weight::Method::RTN;
  ro.stats = nullptr; // errors are measured on the effective weight below
  std::optional<Compressed> best;
  std::vector<float> ws(w.size()), s(k);
  double floor = 0;
  for (int64_t c = 0; c < k; ++c)
    floor = std::max(floor, st.meanSquare(c));
  floor = floor > 0 ? floor * 1e-8 : 1.0; // channels that never saw an input
  for (int step = 0; step <= 10; ++step) {
    double alpha = step / 10.0, lo = INFINITY, hi = 0;
    for (int64_t c = 0; c < k; ++c) {
      s[c] = (float)std::pow(std::max(st.meanSquare(c), floor), alpha / 2);
      lo = std::min(lo, (double)s[c]);
      hi = std::max(hi, (double)s[c]);
    }
    float norm = (float)std::sqrt(lo * hi);
    for (int64_t c = 0; c < k; ++c)
      s[c] /= norm;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < k; ++c)
        ws[r * k + c] = w[r * k + c] * s[c];
    FailureOr<Compressed> cand = compressWith(node, formats, ws, rows, k, ro);
    if (failed(cand))
      return failure();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < k; ++c)
        cand->host.dequantized[r * k + c] /= s[c];
    cand->outputError = st.relativeOutputError(w, cand->host.dequantized, rows);
    if (best && cand->outputError >= best->outputError)
      continue;
    cand->error = cmp::relativeError(w, cand->host.dequantized);
    cand->host.methods.assign(1, step ? "awq" : "");
    invScale.clear();
    if (step)
      for (int64_t c = 0; c < k; ++c)
        invScale.push_back(1.0f / s[c]);
    best = std::move(*cand);
  }
  return std::move(*best);
}

/// The data-aware methods the formats used, joined ("rtn" when none).
std::string methodsUsed(const weight::HostCompressed &host) {
  std::vector<std::string> used;
  for (const std::string &m : host.methods)
    if (!m.empty() && llvm::find(used, m) == used.end())
      used.push_back(m);
  return used.empty() ? "rtn" : llvm::join(used, "+");
}

/// Error of the other order: the list's encoding first, then its transforms (e.g. quantize,
/// then prune), or -1 when the list has no transform before an encoding.
double reversedOrderError(ArrayAttr formats, const std::vector<float> &w, int64_t rows,
                          int64_t k, const weight::CompressOptions &options) {
  auto fs = weight::getFormats(formats);
  if (fs.size() < 2 || !fs.back().isEncoding())
    return -1;
  MLIRContext *ctx = formats.getContext();
  auto encoded =
      weight::compressHost(ArrayAttr::get(ctx, {formats[fs.size() - 1]}), w, rows, k, options);
  if (!encoded) {
    llvm::consumeError(encoded.takeError());
    return -1;
  }
  auto transformed = weight::compressHost(
      ArrayAttr::get(ctx, formats.getValue().drop_back()), encoded->dequantized, rows, k, options);
  if (!transformed) {
    llvm::consumeError(transformed.takeError());
    return -1;
  }
  return cmp::relativeError(w, transformed->dequantized);
}

} // namespace

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
  const LayerSpec &spec = l.spec;
  if (failed(loadWeight(l)))
    return failure();
  // Producer permutations arrive as row permutations of this layer's weight.
  if (!l.rowPerm.empty()) {
    std::vector<float> p(l.w.size());
    for (int64_t r = 0; r < l.rows; ++r)
      std::copy(&l.w[l.rowPerm[r] * l.k], &l.w[l.rowPerm[r] * l.k] + l.k, &p[r * l.k]);
    l.w = std::move(p);
  }
  weight::CompressOptions options = spec.options;
  options.stats = l.stats.get();
  if (this->options)
    options.damp = this->options->damp;
  if (weight::needsCalibration(options.method) && !options.stats)
    return l.node.emitError("layer '")
           << l.name << "': method '" << weight::methodName(options.method) << "' needs "
           << (this->options && this->options->calibration
                   ? "calibration statistics, which sparq does not collect inside control-flow "
                     "regions yet (give this layer \"method\": \"rtn\" in a recipe)"
                   : "calibration data (--calibration DIR)");
  bool awq = options.method == weight::Method::AWQ;
  if (awq && l.isConv)
    return l.node.emitError("layer '")
           << l.name << "': method 'awq' applies to MatMul and Gemm layers (convolutions: gptq)";
  if (awq && spec.rearrange)
    return l.node.emitError("layer '")
           << l.name << "': method 'awq' and channel rearrangement both reorder the input "
           << "channels' scales; choose one";
  if (awq && !weight::getFormats(spec.formats).front().isEncoding())
    return l.node.emitError("layer '")
           << l.name << "': method 'awq' applies to quantization, not to "
           << weight::spellFormats(spec.formats);
  std::vector<float> awqInvScale; // 1/s of AWQ, the input's channel scales
  FailureOr<Compressed> best =
      awq ? compressAWQ(l.node, spec.formats, l.w, l.rows, l.k, options, awqInvScale)
          : compressWith(l.node, spec.formats, l.w, l.rows, l.k, options);
  if (failed(best))
    return failure();
  // Compensation can overshoot at very low bit widths when the inputs are strongly
  // correlated; stronger damping trades it for less compensation. Unless the method already
  // beats round-to-nearest clearly (by 10%), keep the best of three dampings.
  std::optional<Compressed> rtnFirst;
  if (options.stats && weight::compensates(options.method)) {
    weight::CompressOptions ro = options;
    ro.method = weight::Method::RTN;
    FailureOr<Compressed> rtn = compressWith(l.node, spec.formats, l.w, l.rows, l.k, ro);
    if (failed(rtn))
      return failure();
    rtnFirst = std::move(*rtn);
  }
  if (rtnFirst && best->score() > 0.9 * rtnFirst->score()) {
    double base = options.damp, chosen = base;
    for (double d : {base * 10, base * 100}) {
      weight::CompressOptions o = options;
      o.damp = d;
      FailureOr<Compressed> c = compressWith(l.node, spec.formats, l.w, l.rows, l.k, o);
      if (failed(c))
        return failure();
      if (c->score() < best->score()) {
        best = std::move(c);
        chosen = d;
      }
    }
    options.damp = chosen;
  }
  if (weight::needsCalibration(options.method) && !awq && methodsUsed(best->host) == "rtn")
    return l.node.emitError("layer '")
           << l.name << "': method '" << weight::methodName(options.method)
           << "' does not apply to "
           << weight::spellFormats(spec.formats)
           << " (gptq and sparsegpt: uniform and shift-add quantization, also of the values N:M "
              "pruning kept; wanda and sparsegpt: N:M pruning)";
  std::vector<int64_t> colPerm;
  double errorWithoutPerm = best->error;
  // The statistics of the inputs in the weight's current column order.
  std::optional<weight::InputStatistics> permutedStats;
  // Rearranging channels helps an encoding whose parameters are shared along K.
  if (spec.rearrange && weight::getFormats(spec.formats).back().isEncoding() && !l.isConv) {
    FailureOr<Compressed> permuted = failure();
    std::optional<weight::InputStatistics> tried;
    std::vector<float> norms;
    if (options.stats)
      for (int64_t c = 0; c < l.k; ++c)
        norms.push_back((float)std::sqrt(options.stats->meanSquare(c)));
    cmp::RearrangeDecision d = cmp::decideRearrangement(
        l.w, l.rows, l.k, best->score(),
        [&](const std::vector<float> &pw, const std::vector<int64_t> &perm) {
          weight::CompressOptions po = options;
          if (options.stats) {
            tried.emplace(options.stats->permuted(perm));
            po.stats = &*tried;
          }
          permuted = compressWith(l.node, spec.formats, pw, l.rows, l.k, po);
          return succeeded(permuted) ? permuted->score() : INFINITY;
        },
        norms.empty() ? nullptr : &norms);
    if (failed(permuted))
      return failure();
    if (!d.permutation.empty()) {
      best = std::move(permuted);
      colPerm = std::move(d.permutation);
      permutedStats = std::move(tried);
      if (options.stats)
        options.stats = &*permutedStats;
    }
  }
  // With statistics: round-to-nearest at the same scheme and permutation, for the report and as
  // the result whenever the method does not lower the output error.
  double outputErrorRTN = -1;
  bool fellBack = false;
  if (options.stats) {
    const std::vector<float> &wp =
        colPerm.empty() ? l.w : cmp::permuteColumns(l.w, l.rows, l.k, colPerm);
    weight::CompressOptions ro = options;
    ro.method = weight::Method::RTN;
    FailureOr<Compressed> rtn = options.method == weight::Method::RTN ? FailureOr<Compressed>(*best)
                                : rtnFirst && colPerm.empty()
                                    ? FailureOr<Compressed>(*rtnFirst)
                                    : compressWith(l.node, spec.formats, wp, l.rows, l.k, ro);
    if (failed(rtn))
      return failure();
    outputErrorRTN = rtn->outputError;
    if (options.method != weight::Method::RTN &&
        (rtn->outputError <= best->outputError || (awq && awqInvScale.empty()))) {
      best = std::move(rtn);
      fellBack = true;
      awqInvScale.clear();
    }
  }
  // Both orders of pruning and quantization, for the report.
  double reversedError = reversedOrderError(
      spec.formats, colPerm.empty() ? l.w : cmp::permuteColumns(l.w, l.rows, l.k, colPerm), l.rows,
      l.k, spec.options);

  OpBuilder b(l.node);
  Location loc = l.node.getLoc();
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
  if (!awqInvScale.empty()) {
    // AWQ: the input's channels divided by the scales the weight's columns were multiplied by.
    auto st = RankedTensorType::get({(int64_t)awqInvScale.size()}, b.getF32Type());
    Value inv = arith::ConstantOp::create(
        b, loc, sparq::makeFloatConstant(st, awqInvScale, l.name + ".awq_inv_scale"));
    x = sparq::onnx::NodeOp::create(b, loc, TypeRange{x.getType()}, "Mul", "", l.node.getOpset(),
                                    l.name + ".awq_scale", b.getDictionaryAttr({}),
                                    ValueRange{x, inv})
            .getResult(0);
  }

  int64_t rows = l.rows, k = l.k;
  Type f32 = b.getF32Type();
  SmallVector<Type> types;
  SmallVector<std::string> names;
  weight::getPackedOperands(spec.formats, rows, k, f32, types, names);
  SmallVector<Value> packed;
  for (size_t i = 0; i < types.size(); ++i)
    packed.push_back(arith::ConstantOp::create(
        b, loc,
        sparq::makeConstantFromBytes(cast<RankedTensorType>(types[i]), best->host.packed[i],
                                     l.name + "." + names[i])));

  Type resultType = l.node->getResult(0).getType();
  Value y;
  if (!l.isConv) {
    // Matmul-like consumers take [..., M, K] and give [..., M, rows].
    auto xType = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> mmShape(xType.getShape());
    mmShape.back() = rows;
    y = weight::LinearOp::create(b, loc, RankedTensorType::get(mmShape, f32), x, packed,
                                 spec.formats);
  } else {
    // Convolution: pads from attributes (auto_pad resolved), bias as given.
    ConvGeometry geo = convGeometry(l);
    Value bias = l.node.getInputs().size() > 2 &&
                         !isa<NoneType>(l.node.getInputs()[2].getType())
                     ? l.node.getInputs()[2]
                     : Value();
    auto kAttr = b.getDenseI64ArrayAttr(geo.kernel),
         sAttr = b.getDenseI64ArrayAttr(geo.strides),
         dAttr = b.getDenseI64ArrayAttr(geo.dilations), pAttr = b.getDenseI64ArrayAttr(geo.pads);
    y = weight::Conv2DOp::create(b, loc, resultType, x, packed, bias, spec.formats, kAttr, sAttr,
                                 dAttr, pAttr);
  }

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

  if (report) {
    sparq::LayerReport r;
    r.name = l.name;
    r.weight = l.weightName;
    r.op = l.node.getOpType().str();
    r.rows = rows;
    r.k = k;
    r.scheme = weight::spellFormats(spec.formats);
    r.bytesBefore = rows * k * 4.0;
    r.bytesAfter = (double)weight::packedBytes(spec.formats, rows, k, f32);
    r.bitsPerWeight = r.bytesAfter * 8.0 / (rows * k);
    r.weightError = best->error;
    r.permuted = !colPerm.empty();
    r.permutation = colPerm.empty() ? "none" : gathered ? "gather" : "folded into producer";
    r.errorWithoutPermutation = errorWithoutPerm;
    r.method = methodsUsed(best->host);
    r.outputError = best->outputError;
    r.outputErrorRTN = outputErrorRTN;
    r.fellBackToRTN = fellBack;
    r.candidates = l.candidates;
    if (weight::compensates(options.method))
      r.damp = options.damp;
    if (reversedError >= 0) {
      r.errorPruneThenQuantize = best->error;
      r.errorQuantizeThenPrune = reversedError;
    }
    report(r);
  }

  // Dequantized weight in ONNX layout for --export-dequantized (permutations undone).
  if (sink && !l.weightName.empty()) {
    std::vector<float> canon(rows * k);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i) {
        int64_t orow = l.rowPerm.empty() ? r : l.rowPerm[r];
        int64_t ocol = colPerm.empty() ? i : colPerm[i];
        canon[orow * k + ocol] = best->host.dequantized[r * k + i];
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
  dropWeight(l);
  return success();
}

/// The method a --target-bits candidate is compressed with: a calibrated method applies to
/// what it can, so N:M lists prune with SparseGPT (or Wanda) and dense quantizations use GPTQ.
static weight::Method candidateMethod(weight::Method m, ArrayAttr formats) {
  bool pruning = !weight::getFormats(formats).front().isEncoding();
  if (m == weight::Method::GPTQ && pruning)
    return weight::Method::SparseGPT;
  if ((m == weight::Method::SparseGPT || m == weight::Method::Wanda) && !pruning)
    return weight::Method::GPTQ;
  return m;
}

LogicalResult CompressWeightsPass::allocate(std::vector<Layer *> &pool, double fixedBits,
                                           double fixedWeights) {
  MLIRContext *ctx = &getContext();
  Type f32 = Float32Type::get(ctx);
  // Measure every candidate on every layer (one compression each, no damping search).
  std::vector<std::vector<std::pair<double, double>>> costs; // (bits, error) per candidate
  size_t done = 0;
  for (Layer *l : pool) {
    if (progress)
      progress(done++, pool.size(), "allocating " + l->name);
    auto &lc = costs.emplace_back();
    if (failed(loadWeight(*l)))
      return failure();
    for (ArrayAttr formats : candidateLists) {
      weight::CompressOptions o = l->spec.options;
      o.stats = l->stats.get();
      if (this->options)
        o.damp = this->options->damp;
      if (o.method == weight::Method::AWQ)
        return l->node.emitError("layer '")
               << l->name << "': method 'awq' is not a --target-bits method yet (gptq is)";
      o.method = candidateMethod(o.method, formats);
      if (o.method != weight::Method::RTN && !o.stats)
        return l->node.emitError("layer '")
               << l->name << "': method '" << weight::methodName(o.method)
               << "' needs calibration data (--calibration DIR)";
      FailureOr<Compressed> c = compressWith(l->node, formats, l->w, l->rows, l->k, o);
      if (failed(c))
        return failure();
      double bits = (double)weight::packedBytes(formats, l->rows, l->k, f32) * 8 /
                    (double)(l->rows * l->k);
      lc.emplace_back(bits, c->score());
      l->candidates.push_back({weight::spellFormats(formats), bits, c->score()});
    }
    if (l->stats)
      l->stats->releaseFactors();
    dropWeight(*l);
  }
  double weights = fixedWeights, budget = targetBits * fixedWeights - fixedBits;
  for (Layer *l : pool) {
    weights += (double)(l->rows * l->k);
    budget += targetBits * (double)(l->rows * l->k);
  }
  // Per layer: the candidate minimizing error² + λ · bits · weights.
  auto choose = [&](double lambda, std::vector<size_t> &pick) {
    double used = 0;
    pick.assign(pool.size(), 0);
    for (size_t i = 0; i < pool.size(); ++i) {
      double n = (double)(pool[i]->rows * pool[i]->k), best = INFINITY;
      for (size_t c = 0; c < costs[i].size(); ++c) {
        auto [bits, err] = costs[i][c];
        double v = err * err + lambda * bits * n;
        if (v < best || (v == best && bits < costs[i][pick[i]].first)) {
          best = v;
          pick[i] = c;
        }
      }
      used += costs[i][pick[i]].first * n;
    }
    return used;
  };
  std::vector<size_t> pick;
  double minUsed = 0;
  for (size_t i = 0; i < pool.size(); ++i) {
    double cheapest = INFINITY;
    for (auto [bits, err] : costs[i])
      cheapest = std::min(cheapest, bits);
    minUsed += cheapest * (double)(pool[i]->rows * pool[i]->k);
  }
  if (minUsed > budget * (1 + 1e-12))
    return emitError(UnknownLoc::get(ctx))
           << "--target-bits " << llvm::formatv("{0:F2}", targetBits).str()
           << " is below what the cheapest candidates reach ("
           << llvm::formatv("{0:F3}", (minUsed + fixedBits) / weights).str() << " bits per weight)";
  if (choose(0, pick) > budget) {
    double lo = 0, hi = 1e-12;
    std::vector<size_t> hiPick;
    while (choose(hi, hiPick) > budget && hi < 1e30)
      hi *= 4;
    for (int it = 0; it < 200; ++it) {
      double mid = (lo + hi) / 2;
      std::vector<size_t> p;
      if (choose(mid, p) > budget)
        lo = mid;
      else
        hi = mid;
    }
    choose(hi, pick);
  }
  for (size_t i = 0; i < pool.size(); ++i) {
    ArrayAttr formats = candidateLists[pick[i]];
    pool[i]->spec.formats = formats;
    pool[i]->spec.options.method = candidateMethod(pool[i]->spec.options.method, formats);
  }
  return success();
}

std::unique_ptr<Pass> sparq::createCompressWeightsPass(const CompressionOptions &options,
                                                       DequantizedWeightSink sink,
                                                       CompressionProgress progress,
                                                       LayerReportSink report) {
  return std::make_unique<CompressWeightsPass>(options, std::move(sink), std::move(progress),
                                               std::move(report));
}

FailureOr<std::vector<sparq::CalibrationProbe>>
sparq::instrumentForCalibration(ModuleOp module) {
  func::FuncOp entry;
  module.walk([&](func::FuncOp f) {
    if (f->hasAttr("sparq.entry"))
      entry = f;
  });
  if (!entry || entry.getBody().getBlocks().size() != 1)
    return module.emitError("calibration needs an entry function with one block");
  std::vector<sparq::CalibrationProbe> probes;
  auto ret = cast<func::ReturnOp>(entry.getBody().front().getTerminator());
  SmallVector<Value> results(ret.getOperands());
  SmallVector<Attribute> resAttrs;
  for (unsigned i = 0; i < results.size(); ++i)
    resAttrs.push_back(entry.getResultAttrDict(i) ? Attribute(entry.getResultAttrDict(i))
                                                  : DictionaryAttr::get(module.getContext()));
  llvm::DenseMap<Value, unsigned> resultOf;
  entry.walk([&](sparq::onnx::NodeOp node) {
    std::optional<Layer> l = matchLayer(node);
    if (!l)
      return;
    sparq::CalibrationProbe p;
    p.name = l->name;
    p.k = l->k;
    Value x = node.getInputs()[0];
    if (x.getParentRegion() != &entry.getBody()) {
      // Inside a control-flow region: its input cannot be returned from the entry block.
      p.result = sparq::CalibrationProbe::kNoResult;
      probes.push_back(std::move(p));
      return;
    }
    auto [it, inserted] = resultOf.try_emplace(x, (unsigned)results.size());
    if (inserted) {
      results.push_back(x);
      resAttrs.push_back(DictionaryAttr::get(
          module.getContext(),
          {NamedAttribute(StringAttr::get(module.getContext(), "sparq.name"),
                          StringAttr::get(module.getContext(),
                                          "calibration." + std::to_string(probes.size())))}));
    }
    p.result = it->second;
    if (l->isConv) {
      ConvGeometry g = convGeometry(*l);
      p.isConv = true;
      for (int i = 0; i < 2; ++i) {
        p.kernel[i] = g.kernel[i];
        p.strides[i] = g.strides[i];
        p.dilations[i] = g.dilations[i];
      }
      for (int i = 0; i < 4; ++i)
        p.pads[i] = g.pads[i];
    }
    probes.push_back(std::move(p));
  });
  OpBuilder b(ret);
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  entry.setFunctionType(
      FunctionType::get(module.getContext(), entry.getArgumentTypes(), ValueRange(results).getTypes()));
  entry.setAllResultAttrs(resAttrs);
  return probes;
}
