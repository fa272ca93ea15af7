//===- dialects/Weight/WeightFormat.cpp - format lists -------------------------===//
//
// The functions over ordered weight-format lists: parsing `--scheme` lists through the scheme
// dialects' interfaces, verification, operand types, host compression of the whole list and its
// reference decode in IR.
//
//===----------------------------------------------------------------------===//
#include "dialects/Weight/WeightFormat.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

#include "dialects/Weight/WeightFormatInterface.cpp.inc"

namespace sparq::weight {

namespace {

/// "" when `formats` is a well-formed list, else why not.
std::string listProblem(ArrayAttr formats) {
  if (!formats || formats.empty())
    return "a weight format list needs at least one format";
  for (auto [i, a] : llvm::enumerate(formats)) {
    auto f = dyn_cast<WeightFormatAttrInterface>(a);
    std::string text;
    llvm::raw_string_ostream os(text);
    os << a;
    if (!f)
      return "'" + text + "' is not a weight format";
    if (f.isEncoding() && i + 1 != formats.size())
      return f.getSpelling() + " stores the values itself, so it must be the last format of "
                               "the list (got '" +
             spellFormats(formats) + "')";
  }
  return "";
}

/// Reduction length each format of the list sees.
SmallVector<int64_t> formatKs(ArrayRef<WeightFormatAttrInterface> fs, int64_t k) {
  SmallVector<int64_t> ks;
  for (WeightFormatAttrInterface f : fs) {
    ks.push_back(k);
    k = f.getInnerK(k);
  }
  ks.push_back(k);
  return ks;
}

int64_t typeBytes(Type t) {
  auto st = cast<ShapedType>(t);
  return st.getNumElements() * ((st.getElementTypeBitWidth() + 7) / 8);
}

} // namespace

void loadSchemeDialects(MLIRContext *ctx) {
  for (StringRef name : ctx->getDialectRegistry().getDialectNames())
    if (name.starts_with("sparq_"))
      ctx->getOrLoadDialect(name);
}

ArrayAttr parseSchemeList(MLIRContext *ctx, StringRef list, std::string &error) {
  SmallVector<Attribute> formats;
  SmallVector<StringRef> tokens;
  list.split(tokens, ',');
  for (StringRef raw : tokens) {
    StringRef token = raw.trim();
    if (token.empty()) {
      error = "empty entry in scheme list '" + list.str() + "'";
      return {};
    }
    Attribute found;
    for (Dialect *d : ctx->getLoadedDialects()) {
      auto *iface = d->getRegisteredInterface<WeightSchemeDialectInterface>();
      if (!iface)
        continue;
      found = iface->parseSchemeToken(token, error);
      if (!error.empty())
        return {};
      if (found)
        break;
    }
    if (!found) {
      error = "unknown scheme '" + token.str() + "' in '" + list.str() + "'; known forms:\n" +
              describeSchemeTokens(ctx);
      return {};
    }
    formats.push_back(found);
  }
  ArrayAttr result = ArrayAttr::get(ctx, formats);
  error = listProblem(result);
  return error.empty() ? result : ArrayAttr();
}

std::string describeSchemeTokens(MLIRContext *ctx) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (Dialect *d : ctx->getLoadedDialects())
    if (auto *iface = d->getRegisteredInterface<WeightSchemeDialectInterface>())
      iface->describeSchemeTokens(os);
  return text;
}

LogicalResult verifyFormatList(ArrayAttr formats, function_ref<InFlightDiagnostic()> emitError) {
  std::string problem = listProblem(formats);
  if (problem.empty())
    return success();
  return emitError() << problem;
}

SmallVector<WeightFormatAttrInterface> getFormats(ArrayAttr formats) {
  SmallVector<WeightFormatAttrInterface> fs;
  for (Attribute a : formats)
    fs.push_back(cast<WeightFormatAttrInterface>(a));
  return fs;
}

void getPackedOperands(ArrayAttr formats, int64_t rows, int64_t k, Type floatType,
                       SmallVectorImpl<Type> &types, SmallVectorImpl<std::string> &names) {
  SmallVector<WeightFormatAttrInterface> fs = getFormats(formats);
  SmallVector<int64_t> ks = formatKs(fs, k);
  for (auto [i, f] : llvm::enumerate(fs))
    f.getPackedOperands(rows, ks[i], types, names);
  if (!fs.back().isEncoding()) {
    types.push_back(RankedTensorType::get({rows, ks.back()}, floatType));
    names.push_back("values");
  }
}

LogicalResult verifyPackedOperands(Operation *op, ArrayAttr formats, int64_t rows, int64_t k,
                                   Type floatType, TypeRange packed) {
  if (failed(verifyFormatList(formats, [&] { return op->emitOpError(); })))
    return failure();
  SmallVector<Type> types;
  SmallVector<std::string> names;
  getPackedOperands(formats, rows, k, floatType, types, names);
  std::string spelled = spellFormats(formats);
  if (packed.size() != types.size())
    return op->emitOpError() << "formats " << spelled << " need " << types.size()
                             << " packed operands for a [" << rows << ", " << k
                             << "] weight, got " << packed.size();
  for (size_t i = 0; i < types.size(); ++i)
    if (packed[i] != types[i])
      return op->emitOpError() << "packed operand #" << i << " (" << names[i] << " of "
                               << spelled << ") must be " << types[i] << " for a [" << rows
                               << ", " << k << "] weight, got " << packed[i];
  return success();
}

int64_t packedBytes(ArrayAttr formats, int64_t rows, int64_t k, Type floatType) {
  SmallVector<Type> types;
  SmallVector<std::string> names;
  getPackedOperands(formats, rows, k, floatType, types, names);
  int64_t bytes = 0;
  for (Type t : types)
    bytes += typeBytes(t);
  return bytes;
}

std::string spellFormats(ArrayAttr formats) {
  SmallVector<std::string> parts;
  for (Attribute a : formats)
    if (auto f = dyn_cast<WeightFormatAttrInterface>(a))
      parts.push_back(f.getSpelling());
  return llvm::join(parts, "+");
}

std::string kernelKey(ArrayAttr formats) {
  SmallVector<std::string> parts;
  for (WeightFormatAttrInterface f : getFormats(formats))
    parts.push_back(f.getKernelKey());
  return llvm::join(parts, "+");
}

llvm::Expected<HostCompressed> compressHost(ArrayAttr formats, ArrayRef<float> w, int64_t rows,
                                            int64_t k, const CompressOptions &options) {
  std::string problem = listProblem(formats);
  if (!problem.empty())
    return llvm::createStringError(problem);
  SmallVector<WeightFormatAttrInterface> fs = getFormats(formats);
  SmallVector<int64_t> ks = formatKs(fs, k);
  std::vector<HostPart> parts;
  std::vector<float> current(w.begin(), w.end());
  HostCompressed out;
  // Dense column of each current value once a transform has run (composed across transforms;
  // -1: a padding value of no column).
  std::vector<int64_t> positions;
  for (auto [i, f] : llvm::enumerate(fs)) {
    CompressOptions fo = options;
    if (i > 0 && !positions.empty()) {
      fo.positions = &positions;
      fo.denseK = k;
    }
    auto part = f.compressHost(current, rows, ks[i], fo);
    if (!part)
      return part.takeError();
    SmallVector<Type> types;
    SmallVector<std::string> names;
    f.getPackedOperands(rows, ks[i], types, names);
    if (part->packed.size() != types.size())
      return llvm::createStringError("internal error: " + f.getSpelling() + " produced " +
                                     std::to_string(part->packed.size()) + " packed arrays, " +
                                     std::to_string(types.size()) + " expected");
    for (size_t j = 0; j < types.size(); ++j)
      if ((int64_t)part->packed[j].size() != typeBytes(types[j]))
        return llvm::createStringError("internal error: " + f.getSpelling() + " produced " +
                                       std::to_string(part->packed[j].size()) + " bytes of " +
                                       names[j] + ", " + std::to_string(typeBytes(types[j])) +
                                       " expected");
    out.packed.insert(out.packed.end(), part->packed.begin(), part->packed.end());
    out.methods.push_back(part->method);
    current = part->values;
    if (!f.isEncoding() && !part->positions.empty()) {
      int64_t inner = f.getInnerK(ks[i]);
      std::vector<int64_t> composed((size_t)(rows * inner));
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t e = 0; e < inner; ++e) {
          int64_t p = part->positions[r * inner + e];
          composed[r * inner + e] = positions.empty() || p < 0 ? p : positions[r * ks[i] + p];
        }
      positions = std::move(composed);
    }
    parts.push_back(std::move(*part));
  }
  // `current` is now the dequantized output of an encoding, or the values a transform kept.
  if (!fs.back().isEncoding())
    out.packed.push_back(toBytes(current));
  for (size_t i = fs.size(); i-- > 0;)
    if (!fs[i].isEncoding())
      current = fs[i].expandHost(current, parts[i], rows, ks[i]);
  out.dequantized = std::move(current);
  return out;
}

Value buildDecode(OpBuilder &b, Location loc, ArrayAttr formats, ValueRange packed, int64_t rows,
                  int64_t k, Type floatType) {
  SmallVector<WeightFormatAttrInterface> fs = getFormats(formats);
  SmallVector<int64_t> ks = formatKs(fs, k);
  SmallVector<ValueRange> own;
  size_t next = 0;
  for (auto [i, f] : llvm::enumerate(fs)) {
    SmallVector<Type> types;
    SmallVector<std::string> names;
    f.getPackedOperands(rows, ks[i], types, names);
    own.push_back(packed.slice(next, types.size()));
    next += types.size();
  }
  Value inner = fs.back().isEncoding() ? Value() : packed[next];
  for (size_t i = fs.size(); i-- > 0;)
    inner = fs[i].buildDecode(b, loc, own[i], inner, rows, ks[i], floatType);
  return inner;
}

} // namespace sparq::weight

llvm::Expected<const std::vector<double> *>
sparq::weight::CompressOptions::compensationFactor(int64_t k, llvm::StringRef what) const {
  const InputStatistics *st = statsFor(k);
  if (!compensates(method) || !st)
    return nullptr;
  std::string error;
  const std::vector<double> &u = st->inverseFactor(damp, error);
  if (u.empty())
    return llvm::createStringError(what.str() + ": " + error);
  return &u;
}
