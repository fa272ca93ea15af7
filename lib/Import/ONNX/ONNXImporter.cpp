//===- lib/Import/ONNX/ONNXImporter.cpp - ONNX protobuf -> sparq_onnx ---------===//
//
// With ModelCheck.cpp, the only code that sees protobuf/ONNX. It reads the ModelProto, pins input
// shapes, validates the model (ModelCheck.h), runs ONNX shape inference (with data propagation)
// and emits one func.func with one
// sparq_onnx.node per ONNX node. Initializers and Constant nodes become arith.constant; large ones
// hold their bytes in dense_resource blobs that take over the protobuf's buffer (no copy) or are
// filled straight from the external data file (one read).
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/ONNXImporter.h"
#include "lib/Import/ONNX/ContribSchemas.h"
#include "lib/Import/ONNX/NewerOpsets.h"
#include "lib/Import/ONNX/IsolatedInference.h"
#include "lib/Import/ONNX/ModelCheck.h"

#include "dialects/ONNX/SparqONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/defs/schema.h>
#include <onnx/onnx-ml.pb.h>

#include <fcntl.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <unordered_map>

using namespace mlir;

namespace sparq {
namespace {

/// Thrown-free error channel: the first error wins.
struct ImportError {
  std::string message;
};

class Importer {
public:
  /// Reads the model from `bytes`, or from the file `path` when `bytes` is null.
  Importer(MLIRContext *ctx, StringRef path, StringRef bytes, const ImportOptions &options)
      : ctx(ctx), builder(ctx), path(path.str()), bytes(bytes), options(options),
        fileLoc(FileLineColLoc::get(ctx, path, 0, 0)) {}

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult fail(const Twine &msg) {
    emitError(fileLoc) << msg;
    return failure();
  }
  Location nodeLoc(const ::onnx::NodeProto &node) {
    if (node.name().empty())
      return fileLoc;
    return NameLoc::get(StringAttr::get(ctx, node.name()), fileLoc);
  }

  LogicalResult readModel();
  LogicalResult pinInputShapes();
  LogicalResult inferShapes();
  LogicalResult simplifyGraph();
  FailureOr<Type> elementType(int32_t onnxType, const Twine &what);
  FailureOr<Type> tensorType(const ::onnx::TypeProto &type, const Twine &what);
  FailureOr<TypedAttr> tensorAttr(const ::onnx::TensorProto &tensor, const Twine &what);
  FailureOr<Attribute> nodeAttr(const ::onnx::AttributeProto &attr, const ::onnx::NodeProto &node);
  LogicalResult importNode(const ::onnx::NodeProto &node);
  LogicalResult importConstantNode(const ::onnx::NodeProto &node);
  /// Imports the graph attribute `g` into `region` (one block: the subgraph's inputs as
  /// arguments, its nodes, a sparq_onnx.yield of its outputs).
  LogicalResult importSubgraph(Region &region, const ::onnx::GraphProto &g,
                               const std::string &what);
  /// Records the declared and inferred types of `g`'s values (inputs, value_info, outputs).
  void addValueTypes(const ::onnx::GraphProto &g);
  /// Imports `g`'s initializers (as constants) and nodes at the builder's insertion point;
  /// `prefix` starts each message (empty for the main graph).
  LogicalResult importGraphBody(const ::onnx::GraphProto &g, const std::string &prefix);
  FailureOr<int64_t> opsetFor(StringRef domain, const ::onnx::NodeProto &node);
  Value noneValue();

  MLIRContext *ctx;
  OpBuilder builder;
  std::string path;
  StringRef bytes;
  const ImportOptions &options;
  Location fileLoc;
  ::onnx::ModelProto model;
  std::map<std::string, int64_t> opsets;
  std::unordered_map<std::string, const ::onnx::TypeProto *> valueTypes;
  /// Result types sparq infers where ONNX's inference does not (foldShapeComputations), added
  /// to value_info before each round of inference.
  std::map<std::string, ::onnx::TypeProto> typeHints;
  std::unordered_map<std::string, Value> values;
  Value none;
  Block *entryBlock = nullptr;
};

std::string onnxTypeName(int32_t t) {
  switch (t) {
  case ::onnx::TensorProto::FLOAT: return "float32";
  case ::onnx::TensorProto::UINT8: return "uint8";
  case ::onnx::TensorProto::INT8: return "int8";
  case ::onnx::TensorProto::UINT16: return "uint16";
  case ::onnx::TensorProto::INT16: return "int16";
  case ::onnx::TensorProto::INT32: return "int32";
  case ::onnx::TensorProto::INT64: return "int64";
  case ::onnx::TensorProto::STRING: return "string";
  case ::onnx::TensorProto::BOOL: return "bool";
  case ::onnx::TensorProto::FLOAT16: return "float16";
  case ::onnx::TensorProto::DOUBLE: return "float64";
  case ::onnx::TensorProto::UINT32: return "uint32";
  case ::onnx::TensorProto::UINT64: return "uint64";
  case ::onnx::TensorProto::BFLOAT16: return "bfloat16";
  case ::onnx::TensorProto::COMPLEX64: return "complex64";
  case ::onnx::TensorProto::COMPLEX128: return "complex128";
  case 17: return "float8e4m3fn";
  case 18: return "float8e4m3fnuz";
  case 19: return "float8e5m2";
  case 20: return "float8e5m2fnuz";
  case kOnnxUInt4: return "uint4";
  case kOnnxInt4: return "int4";
  default: return "type#" + std::to_string(t);
  }
}

FailureOr<Type> Importer::elementType(int32_t t, const Twine &what) {
  switch (t) {
  case ::onnx::TensorProto::FLOAT: return Type(Float32Type::get(ctx));
  case ::onnx::TensorProto::DOUBLE: return Type(Float64Type::get(ctx));
  case ::onnx::TensorProto::FLOAT16: return Type(Float16Type::get(ctx));
  case ::onnx::TensorProto::BFLOAT16: return Type(BFloat16Type::get(ctx));
  case ::onnx::TensorProto::BOOL: return Type(IntegerType::get(ctx, 1));
  case ::onnx::TensorProto::INT8: return Type(IntegerType::get(ctx, 8));
  case ::onnx::TensorProto::INT16: return Type(IntegerType::get(ctx, 16));
  case ::onnx::TensorProto::INT32: return Type(IntegerType::get(ctx, 32));
  case ::onnx::TensorProto::INT64: return Type(IntegerType::get(ctx, 64));
  case ::onnx::TensorProto::UINT8: return Type(IntegerType::get(ctx, 8, IntegerType::Unsigned));
  case ::onnx::TensorProto::UINT16: return Type(IntegerType::get(ctx, 16, IntegerType::Unsigned));
  case ::onnx::TensorProto::UINT32: return Type(IntegerType::get(ctx, 32, IntegerType::Unsigned));
  case ::onnx::TensorProto::UINT64: return Type(IntegerType::get(ctx, 64, IntegerType::Unsigned));
  case ::onnx::TensorProto::STRING: return Type(sparq::onnx::StringType::get(ctx));
  // One code per byte in constants (tensorAttr unpacks them); the converter stores them as i8.
  case kOnnxInt4: return Type(IntegerType::get(ctx, 4));
  case kOnnxUInt4: return Type(IntegerType::get(ctx, 4, IntegerType::Unsigned));
  default:
    (void)fail(what + ": element type " + onnxTypeName(t) + " is not supported");
    return failure();
  }
}

FailureOr<Type> Importer::tensorType(const ::onnx::TypeProto &type, const Twine &what) {
  if (!type.has_tensor_type()) {
    (void)fail(what + ": only tensor types are supported (sequences, maps and optionals are not)");
    return failure();
  }
  const auto &tt = type.tensor_type();
  auto elem = elementType(tt.elem_type(), what);
  if (failed(elem))
    return failure();
  if (!tt.has_shape())
    return Type(UnrankedTensorType::get(*elem));
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim())
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : ShapedType::kDynamic);
  return Type(RankedTensorType::get(dims, *elem));
}

/// Bytes per element of the raw (little-endian) ONNX storage of an MLIR element type.
size_t rawElementBytes(Type t) {
  return (t.getIntOrFloatBitWidth() + 7) / 8; // i1 and i4 (unpacked) take a byte
}

FailureOr<TypedAttr> Importer::tensorAttr(const ::onnx::TensorProto &tensor, const Twine &what) {
  if (tensor.data_type() == ::onnx::TensorProto::STRING) {
    (void)fail(what + ": constant string tensors are not supported (string tensors may only be "
                      "graph inputs or computed by the graph)");
    return failure();
  }
  auto elem = elementType(tensor.data_type(), what);
  if (failed(elem))
    return failure();
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  auto count = checkedElementCount(dims, what);
  if (!count) {
    (void)fail(llvm::toString(count.takeError()));
    return failure();
  }
  auto type = RankedTensorType::get(dims, *elem);
  int64_t n = *count;
  size_t elemBytes = rawElementBytes(*elem);
  // ONNX packs 4-bit elements two per byte, the first in the low nibble; read as stored, then
  // unpacked below to one sign- (int4) or zero-extended (uint4) code per byte.
  const bool fourBit = isFourBit(tensor.data_type());
  size_t nbytes = fourBit ? size_t(n + 1) / 2 : (size_t)n * elemBytes;

  // Collect the bytes. `owned` takes over protobuf storage when possible.
  std::unique_ptr<std::string> owned;
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL) {
    auto ext = externalData(tensor, llvm::sys::path::parent_path(path), int64_t(nbytes), what);
    if (!ext) {
      (void)fail(llvm::toString(ext.takeError()));
      return failure();
    }
    const std::string &full = ext->path;
    const int64_t offset = ext->offset;
    std::ifstream in(full, std::ios::binary);
    if (!in) {
      (void)fail(what + ": cannot open external data file '" + full + "'");
      return failure();
    }
    owned = std::make_unique<std::string>(nbytes, '\0');
    in.seekg(offset);
    in.read(owned->data(), nbytes);
    if ((size_t)in.gcount() != nbytes) {
      (void)fail(what + ": external data file '" + full + "' is truncated (wanted " +
                 Twine(nbytes) + " bytes at offset " + Twine(offset) + ")");
      return failure();
    }
  } else if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != nbytes) {
      (void)fail(what + ": raw_data holds " + Twine(tensor.raw_data().size()) +
                 " bytes, its shape needs " + Twine(nbytes));
      return failure();
    }
    // Take over the protobuf's buffer: the model proto is not used for this tensor again.
    owned = std::make_unique<std::string>(
        std::move(*const_cast<::onnx::TensorProto &>(tensor).mutable_raw_data()));
  } else if (n > 0) {
    owned = std::make_unique<std::string>(nbytes, '\0');
    char *dst = owned->data();
    auto check = [&](int64_t have) -> LogicalResult {
      if (have != n)
        return fail(what + ": holds " + Twine(have) + " values, its shape needs " + Twine(n));
      return success();
    };
    int32_t dt = tensor.data_type();
    switch (dt) {
    case ::onnx::TensorProto::FLOAT:
      if (failed(check(tensor.float_data_size()))) return failure();
      std::memcpy(dst, tensor.float_data().data(), nbytes);
      break;
    case ::onnx::TensorProto::DOUBLE:
      if (failed(check(tensor.double_data_size()))) return failure();
      std::memcpy(dst, tensor.double_data().data(), nbytes);
      break;
    case ::onnx::TensorProto::INT64:
      if (failed(check(tensor.int64_data_size()))) return failure();
      std::memcpy(dst, tensor.int64_data().data(), nbytes);
      break;
    case ::onnx::TensorProto::UINT32:
    case ::onnx::TensorProto::UINT64:
      if (failed(check(tensor.uint64_data_size()))) return failure();
      for (int64_t i = 0; i < n; ++i) {
        uint64_t v = tensor.uint64_data(i);
        std::memcpy(dst + i * elemBytes, &v, elemBytes);
      }
      break;
    default: // int32_data carries INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16,
             // and 4-bit pairs (one byte per entry).
      if (fourBit) {
        if (tensor.int32_data_size() != int64_t(nbytes)) {
          (void)fail(what + ": holds " + Twine(tensor.int32_data_size()) + " entries of " +
                     "4-bit pairs, its shape needs " + Twine(nbytes));
          return failure();
        }
        for (size_t i = 0; i < nbytes; ++i)
          dst[i] = char(tensor.int32_data(int(i)));
        break;
      }
      if (failed(check(tensor.int32_data_size()))) return failure();
      for (int64_t i = 0; i < n; ++i) {
        int32_t v = tensor.int32_data(i);
        std::memcpy(dst + i * elemBytes, &v, elemBytes); // little-endian truncation
      }
      break;
    }
  } else {
    owned = std::make_unique<std::string>(); // no elements
  }
  if (fourBit) {
    auto codes = std::make_unique<std::string>(size_t(n), '\0');
    const bool isSigned = tensor.data_type() == kOnnxInt4;
    for (int64_t i = 0; i < n; ++i) {
      uint8_t nibble = (uint8_t((*owned)[i / 2]) >> (4 * (i % 2))) & 0xf;
      (*codes)[i] = char(isSigned ? uint8_t(int8_t(uint8_t(nibble << 4)) >> 4) : nibble);
    }
    owned = std::move(codes);
    nbytes = size_t(n);
  }

  // Small tensors and booleans: a dense attribute (foldable). Large ones: a resource blob.
  if (nbytes < options.resourceThresholdBytes || elem->isInteger(1)) {
    if (elem->isInteger(1)) {
      SmallVector<bool> bits;
      for (int64_t i = 0; i < n; ++i)
        bits.push_back((*owned)[i] != 0);
      return TypedAttr(DenseElementsAttr::get(type, bits));
    }
    bool detectedSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, ArrayRef<char>(owned->data(), nbytes),
                                             detectedSplat)) {
      (void)fail(what + ": cannot build a constant of type " + Twine(n) + " elements");
      return failure();
    }
    return TypedAttr(
        DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(owned->data(), nbytes)));
  }
  size_t align = std::max<size_t>(elemBytes, 1);
  std::string name = tensor.name().empty() ? "onnx_tensor" : tensor.name();
  AsmResourceBlob blob;
  if (reinterpret_cast<uintptr_t>(owned->data()) % align == 0) {
    std::string *raw = owned.release();
    blob = AsmResourceBlob(
        ArrayRef<char>(raw->data(), nbytes), align,
        [raw](void *, size_t, size_t) { delete raw; }, /*dataIsMutable=*/false);
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(ArrayRef<char>(owned->data(), nbytes),
                                                         align);
  }
  return TypedAttr(DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

/// `'Conv' node 'conv1' (domain ai.onnx, opset 13)`, as the conversion passes print it.
std::string describeNode(const ::onnx::NodeProto &node, int64_t opset) {
  std::string s = quoted(node.op_type()) + " node";
  if (!node.name().empty())
    s += " " + quoted(node.name());
  s += " (domain " + (node.domain().empty() ? std::string("ai.onnx") : node.domain()) +
       ", opset " + std::to_string(opset) + ")";
  return s;
}

FailureOr<int64_t> Importer::opsetFor(StringRef domain, const ::onnx::NodeProto &node) {
  std::string d = domain.str() == "ai.onnx" ? "" : domain.str();
  auto it = opsets.find(d);
  if (it == opsets.end()) {
    (void)fail("node '" + node.name() + "' (" + node.op_type() + ") uses domain '" + domain +
               "', which the model does not import (no opset_import entry)");
    return failure();
  }
  return it->second;
}

FailureOr<Attribute> Importer::nodeAttr(const ::onnx::AttributeProto &a,
                                        const ::onnx::NodeProto &node) {
  int64_t opset = opsets.count(node.domain()) ? opsets[node.domain()] : 0;
  std::string what = "attribute '" + a.name() + "' of " + describeNode(node, opset);
  switch (a.type()) {
  case ::onnx::AttributeProto::INT:
    return Attribute(builder.getI64IntegerAttr(a.i()));
  case ::onnx::AttributeProto::FLOAT:
    return Attribute(builder.getF32FloatAttr(a.f()));
  case ::onnx::AttributeProto::STRING:
    return Attribute(builder.getStringAttr(a.s()));
  case ::onnx::AttributeProto::INTS:
    return Attribute(builder.getDenseI64ArrayAttr(SmallVector<int64_t>(a.ints().begin(), a.ints().end())));
  case ::onnx::AttributeProto::FLOATS:
    return Attribute(builder.getDenseF32ArrayAttr(SmallVector<float>(a.floats().begin(), a.floats().end())));
  case ::onnx::AttributeProto::STRINGS: {
    SmallVector<Attribute> strs;
    for (const auto &s : a.strings())
      strs.push_back(builder.getStringAttr(s));
    return Attribute(builder.getArrayAttr(strs));
  }
  case ::onnx::AttributeProto::TENSOR: {
    auto t = tensorAttr(a.t(), what);
    if (failed(t))
      return failure();
    return Attribute(*t);
  }
  case ::onnx::AttributeProto::GRAPH: // regions of the node (importSubgraph)
  case ::onnx::AttributeProto::GRAPHS:
    (void)fail(what + ": lists of subgraphs are not supported");
    return failure();
  default:
    (void)fail(what + ": attribute type " + Twine((int)a.type()) + " is not supported");
    return failure();
  }
}

Value Importer::noneValue() {
  if (!none) {
    OpBuilder::InsertionGuard g(builder);
    builder.setInsertionPointToStart(entryBlock);
    none = sparq::onnx::NoneOp::create(builder, fileLoc, builder.getNoneType()).getResult();
  }
  return none;
}

LogicalResult Importer::importConstantNode(const ::onnx::NodeProto &node) {
  if (node.output_size() != 1)
    return fail("Constant node '" + node.name() + "' must have one output");
  std::string what = "Constant node '" + node.name() + "'";
  TypedAttr value;
  for (const auto &a : node.attribute()) {
    if (a.name() == "value") {
      auto t = tensorAttr(a.t(), what);
      if (failed(t))
        return failure();
      value = *t;
    } else if (a.name() == "value_float") {
      value = DenseElementsAttr::get(RankedTensorType::get({}, builder.getF32Type()), a.f());
    } else if (a.name() == "value_floats") {
      SmallVector<float> v(a.floats().begin(), a.floats().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, builder.getF32Type()), ArrayRef<float>(v));
    } else if (a.name() == "value_int") {
      value = DenseElementsAttr::get(RankedTensorType::get({}, builder.getI64Type()),
                                     (int64_t)a.i());
    } else if (a.name() == "value_ints") {
      SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, builder.getI64Type()), ArrayRef<int64_t>(v));
    } else {
      return fail(what + ": attribute '" + a.name() + "' is not supported (string and sparse "
                  "constants are not supported)");
    }
  }
  if (!value)
    return fail(what + " has no value");
  // Named after the value it defines, like initializers (weights are found by that name).
  Location loc = NameLoc::get(builder.getStringAttr(node.output(0)), fileLoc);
  values[node.output(0)] = arith::ConstantOp::create(builder, loc, value).getResult();
  return success();
}

LogicalResult Importer::importNode(const ::onnx::NodeProto &node) {
  std::string domain = node.domain();
  if ((domain.empty() || domain == "ai.onnx") && node.op_type() == "Constant")
    return importConstantNode(node);
  auto opset = opsetFor(domain, node);
  if (failed(opset))
    return failure();
  // libonnx knows the default domain up to opset 17; sparq reads 18-21 (NewerOpsets.h).
  if (isDefaultDomain(domain) && isNewerOnlyOperator(node.op_type()) && *opset > libonnxDefaultOpset()) {
    if (!newerDefinition(node.op_type(), *opset))
      return fail("unsupported ONNX operator: " + describeNode(node, *opset) +
                  ": the operator was added in a later opset");
    if (options.convertedOps && !options.convertedOps(node.op_type(), domain, *opset))
      return fail("unsupported ONNX operator: " + describeNode(node, *opset) +
                  ": sparq does not convert it");
  } else if (!::onnx::OpSchemaRegistry::Schema(node.op_type(), (int)*opset, domain)) {
    return fail("unsupported ONNX operator: " + describeNode(node, *opset) +
                ": no operator of this name exists in this domain and opset");
  }

  SmallVector<Value> operands;
  for (const auto &name : node.input()) {
    if (name.empty()) {
      operands.push_back(noneValue());
      continue;
    }
    auto it = values.find(name);
    if (it == values.end())
      return fail(describeNode(node, *opset) + " reads '" + name +
                  "', which no earlier node, input or initializer defines");
    operands.push_back(it->second);
  }
  SmallVector<Type> resultTypes;
  for (const auto &name : node.output()) {
    if (name.empty()) {
      resultTypes.push_back(NoneType::get(ctx));
      continue;
    }
    auto it = valueTypes.find(name);
    if (it == valueTypes.end() || !it->second->has_tensor_type() ||
        !it->second->tensor_type().has_elem_type())
      return fail(describeNode(node, *opset) + ": the type of output '" + name +
                  "' is unknown (ONNX shape inference could not infer it)");
    auto t = tensorType(*it->second, "output '" + name + "' of node '" + node.name() + "'");
    if (failed(t))
      return failure();
    // ONNX 1.12 leaves some results unranked that keep their data input's rank (Slice with
    // run-time starts, inside Loop bodies in particular): give them that rank, dims unknown.
    if (isa<UnrankedTensorType>(*t) && !operands.empty() &&
        llvm::is_contained({"Slice", "Pad", "Tile", "Resize", "Upsample"}, node.op_type()) &&
        (domain.empty() || domain == "ai.onnx"))
      if (auto in = dyn_cast<RankedTensorType>(operands[0].getType()))
        t = Type(RankedTensorType::get(
            SmallVector<int64_t>(in.getRank(), ShapedType::kDynamic),
            cast<UnrankedTensorType>(*t).getElementType()));
    resultTypes.push_back(*t);
  }
  SmallVector<NamedAttribute> attrs;
  SmallVector<const ::onnx::AttributeProto *> graphs;
  for (const auto &a : node.attribute()) {
    if (a.type() == ::onnx::AttributeProto::GRAPH) {
      graphs.push_back(&a);
      continue;
    }
    auto attr = nodeAttr(a, node);
    if (failed(attr))
      return failure();
    attrs.push_back(builder.getNamedAttr(a.name(), *attr));
  }
  SmallVector<StringRef> graphNames;
  for (const auto *a : graphs)
    graphNames.push_back(a->name());
  auto op = sparq::onnx::NodeOp::create(
      builder, nodeLoc(node), resultTypes, builder.getStringAttr(node.op_type()),
      builder.getStringAttr(domain), builder.getI64IntegerAttr(*opset),
      builder.getStringAttr(node.name()), builder.getDictionaryAttr(attrs),
      graphs.empty() ? ArrayAttr() : builder.getStrArrayAttr(graphNames), operands,
      graphs.size());
  for (auto [i, a] : llvm::enumerate(graphs))
    if (failed(importSubgraph(op->getRegion(i), a->g(),
                              "attribute '" + a->name() + "' of " + describeNode(node, *opset))))
      return failure();
  // ONNX 1.12 leaves a Loop's carried outputs unranked when its body was typed late (function
  // bodies): they have the type the body yields for them.
  if (node.op_type() == "Loop" && (domain.empty() || domain == "ai.onnx") && !graphs.empty()) {
    Operation *yield = op->getRegion(0).front().getTerminator();
    unsigned nCarried = node.input_size() >= 2 ? node.input_size() - 2 : 0;
    for (unsigned k = 0; k < nCarried && k < op->getNumResults() &&
                         1 + k < yield->getNumOperands();
         ++k)
      if (isa<UnrankedTensorType>(op->getResult(k).getType()) &&
          isa<RankedTensorType>(yield->getOperand(1 + k).getType()))
        op->getResult(k).setType(yield->getOperand(1 + k).getType());
  }
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      values[node.output(i)] = op->getResult(i);
  return success();
}

void Importer::addValueTypes(const ::onnx::GraphProto &g) {
  for (const auto &vi : g.input())
    valueTypes[vi.name()] = &vi.type();
  for (const auto &vi : g.value_info())
    valueTypes[vi.name()] = &vi.type();
  for (const auto &vi : g.output())
    valueTypes[vi.name()] = &vi.type();
}

LogicalResult Importer::importGraphBody(const ::onnx::GraphProto &g, const std::string &prefix) {
  for (const auto &init : g.initializer()) {
    auto attr = tensorAttr(init, prefix + "initializer '" + init.name() + "'");
    if (failed(attr))
      return failure();
    values[init.name()] =
        arith::ConstantOp::create(builder, NameLoc::get(builder.getStringAttr(init.name()), fileLoc),
                                  *attr)
            .getResult();
  }
  if (g.sparse_initializer_size() > 0)
    return fail(prefix + "sparse initializers are not supported");
  for (const auto &node : g.node())
    if (failed(importNode(node)))
      return failure();
  return success();
}

LogicalResult Importer::importSubgraph(Region &region, const ::onnx::GraphProto &g,
                                       const std::string &what) {
  // The subgraph sees the values of the enclosing graphs; its own names stay inside it.
  auto outerValues = values;
  auto outerTypes = valueTypes;
  llvm::scope_exit restore([&] {
    values = std::move(outerValues);
    valueTypes = std::move(outerTypes);
  });
  addValueTypes(g);
  OpBuilder::InsertionGuard guard(builder);
  Block *block = builder.createBlock(&region);
  for (const auto &vi : g.input()) {
    auto t = tensorType(vi.type(), what + ": input '" + vi.name() + "'");
    if (failed(t))
      return failure();
    values[vi.name()] = block->addArgument(*t, fileLoc);
  }
  if (failed(importGraphBody(g, what + ": ")))
    return failure();
  SmallVector<Value> results;
  for (const auto &vi : g.output()) {
    auto it = values.find(vi.name());
    if (it == values.end())
      return fail(what + ": output '" + vi.name() + "' is not produced by any node");
    results.push_back(it->second);
  }
  sparq::onnx::YieldOp::create(builder, fileLoc, results);
  return success();
}

LogicalResult Importer::readModel() {
  auto parse = [&](google::protobuf::io::CodedInputStream &stream) -> LogicalResult {
    stream.SetTotalBytesLimit(INT32_MAX);
    if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
      return fail("not a valid ONNX model: protobuf parsing failed (the file is truncated or "
                  "corrupted, or not an ONNX file)");
    return success();
  };
  if (bytes.data()) {
    if (bytes.empty())
      return fail("model file is empty");
    google::protobuf::io::CodedInputStream stream(
        reinterpret_cast<const uint8_t *>(bytes.data()), (int)bytes.size());
    if (failed(parse(stream)))
      return failure();
  } else {
    // Streamed from the file in blocks: a mapped or read-in copy of a large model would be in
    // memory next to the parsed tensors until the parse ends (doubling the import's peak).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return fail("cannot open model file: " + std::string(std::strerror(errno)));
    llvm::scope_exit closeFile([&] { ::close(fd); });
    struct stat st;
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode))
      return fail("cannot open model file: " +
                  std::string(std::strerror(S_ISDIR(st.st_mode) ? EISDIR : errno)));
    if (st.st_size == 0)
      return fail("model file is empty");
    google::protobuf::io::FileInputStream file(fd, 1 << 20);
    google::protobuf::io::CodedInputStream stream(&file);
    if (failed(parse(stream)))
      return failure();
  }
  if (!model.has_graph())
    return fail("not a valid ONNX model: it has no graph");
  if (model.ir_version() <= 0)
    return fail("not a valid ONNX model: missing ir_version");
  for (const auto &o : model.opset_import())
    opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  if (opsets.empty())
    opsets[""] = 1; // IR version < 3 models have no opset_import and mean opset 1.
  return success();
}

LogicalResult Importer::pinInputShapes() {
  std::set<std::string> initializers;
  for (const auto &init : model.graph().initializer())
    initializers.insert(init.name());
  for (const auto &[name, dims] : options.inputShapes) {
    ::onnx::ValueInfoProto *input = nullptr;
    for (auto &in : *model.mutable_graph()->mutable_input())
      if (in.name() == name && !initializers.count(name))
        input = &in;
    if (!input)
      return fail("--input-shape names '" + name + "', which is not an input of the model");
    auto *tt = input->mutable_type()->mutable_tensor_type();
    if (tt->has_shape() && tt->shape().dim_size() != (int)dims.size())
      return fail("--input-shape gives " + Twine(dims.size()) + " dimensions for input '" + name +
                  "', which has rank " + Twine(tt->shape().dim_size()));
    auto *shape = tt->mutable_shape();
    std::vector<::onnx::TensorShapeProto_Dimension> declared(shape->dim().begin(),
                                                              shape->dim().end());
    shape->clear_dim();
    for (size_t k = 0; k < dims.size(); ++k) {
      auto *dim = shape->add_dim();
      if (dims[k].size >= 0)
        dim->set_dim_value(dims[k].size);
      else if (!dims[k].symbol.empty())
        dim->set_dim_param(dims[k].symbol);
      else if (k < declared.size() && declared[k].has_dim_param() &&
               !declared[k].dim_param().empty())
        dim->set_dim_param(declared[k].dim_param());
      else
        dim->set_dim_param(name + "/d" + std::to_string(k));
    }
  }
  if (options.dynamicInputs) {
    for (auto &in : *model.mutable_graph()->mutable_input()) {
      if (initializers.count(in.name()) || options.inputShapes.count(in.name()) ||
          !in.type().has_tensor_type() || !in.type().tensor_type().has_shape())
        continue;
      auto *shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
      for (int k = 0; k < shape->dim_size(); ++k)
        shape->mutable_dim(k)->set_dim_param(in.name() + "/d" + std::to_string(k));
    }
    // Declared output shapes would hand static dims back to shape inference: drop them too.
    for (auto &out : *model.mutable_graph()->mutable_output())
      if (out.type().has_tensor_type() && out.type().tensor_type().has_shape())
        for (auto &d : *out.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
          d.clear_dim_value();
  }
  for (const auto &[name, vals] : options.inputValues) {
    auto &inputs = *model.mutable_graph()->mutable_input();
    int at = -1;
    for (int k = 0; k < inputs.size(); ++k)
      if (inputs[k].name() == name && !initializers.count(name))
        at = k;
    if (at < 0)
      return fail("--input-value names '" + name + "', which is not an input of the model");
    const auto &tt = inputs[at].type().tensor_type();
    ::onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(tt.elem_type());
    int64_t count = 1;
    if (tt.has_shape())
      for (const auto &d : tt.shape().dim()) {
        if (!d.has_dim_value())
          return fail("--input-value '" + name + "': the input's shape is not static (pin it "
                      "with --input-shape)");
        t.add_dims(d.dim_value());
        count *= d.dim_value();
      }
    if (!tt.has_shape() || count != (int64_t)vals.size())
      return fail("--input-value gives " + Twine(vals.size()) + " values for input '" + name +
                  "', which has " + (tt.has_shape() ? Twine(count) + " elements" : Twine("no shape")));
    switch (tt.elem_type()) {
    case ::onnx::TensorProto::FLOAT:
      for (double v : vals)
        t.add_float_data(float(v));
      break;
    case ::onnx::TensorProto::DOUBLE:
      for (double v : vals)
        t.add_double_data(v);
      break;
    case ::onnx::TensorProto::INT64:
      for (double v : vals)
        t.add_int64_data(int64_t(v));
      break;
    case ::onnx::TensorProto::INT32:
    case ::onnx::TensorProto::BOOL:
      for (double v : vals)
        t.add_int32_data(int32_t(v));
      break;
    default:
      return fail("--input-value '" + name + "': element type " +
                  onnxTypeName(tt.elem_type()) +
                  " is not supported (float32, float64, int64, int32, bool)");
    }
    *model.mutable_graph()->add_initializer() = std::move(t);
    inputs.erase(inputs.begin() + at);
  }
  if (!options.inputShapes.empty() || options.dynamicInputs || !options.inputValues.empty())
    model.mutable_graph()->clear_value_info(); // stale after pinning; re-inferred below
  return success();
}

LogicalResult Importer::inferShapes() {
  if (llvm::Error err = inferShapesIsolated(model, options.shapeInferenceTimeoutSeconds))
    return fail(llvm::toString(std::move(err)));
  restoreNewerTypes(model); // 4-bit values libonnx knows as 8-bit
  if (llvm::Error err = checkInferredTypes(model))
    return fail(llvm::toString(std::move(err)));
  return success();
}

/// Gradient expansion, function expansion and shape folding, each followed by another round of
/// shape inference, until none changes the graph (GraphSimplify.h).
LogicalResult Importer::simplifyGraph() {
  constexpr int kMaxRounds = 16; // nested functions and chains of shape arithmetic
  for (int round = 0; round < kMaxRounds; ++round) {
    unsigned changed = 0;
    auto differentiated = expandGradientNodes(model);
    if (!differentiated)
      return fail(llvm::toString(differentiated.takeError()));
    changed += *differentiated;
    if (options.convertedOps) {
      auto expanded = expandFunctionNodes(model, options.convertedOps);
      if (!expanded)
        return fail(llvm::toString(expanded.takeError()));
      changed += *expanded;
    }
    auto folded = foldShapeComputations(model, typeHints);
    if (!folded)
      return fail(llvm::toString(folded.takeError()));
    changed += *folded;
    if (!changed)
      return success();
    model.mutable_graph()->clear_value_info(); // re-inferred from the rewritten graph
    for (const auto &[name, type] : typeHints) {
      ::onnx::ValueInfoProto *vi = model.mutable_graph()->add_value_info();
      vi->set_name(name);
      *vi->mutable_type() = type;
    }
    if (failed(inferShapes()))
      return failure();
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  // Before the model check and the (forked) shape inference read the schema registry.
  registerContribSchemas();
  ctx->loadDialect<sparq::onnx::SparqONNXDialect, func::FuncDialect, arith::ArithDialect>();
  if (failed(readModel()) || failed(pinInputShapes()))
    return nullptr;
  if (llvm::Error err = checkModel(model, llvm::sys::path::parent_path(path))) {
    (void)fail(llvm::toString(std::move(err)));
    return nullptr;
  }
  if (failed(inferShapes()) || failed(simplifyGraph()))
    return nullptr;

  const ::onnx::GraphProto &graph = model.graph();
  addValueTypes(graph);

  std::set<std::string> initializers;
  for (const auto &init : graph.initializer())
    initializers.insert(init.name());

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> argTypes;
  SmallVector<Attribute> argAttrs;
  SmallVector<const ::onnx::ValueInfoProto *> inputs;
  for (const auto &vi : graph.input()) {
    if (initializers.count(vi.name()))
      continue;
    auto t = tensorType(vi.type(), "input '" + vi.name() + "'");
    if (failed(t))
      return nullptr;
    if (int32_t et = vi.type().tensor_type().elem_type(); isFourBit(et)) {
      (void)fail("input '" + vi.name() + "' is " + onnxTypeName(et) +
                 ": the runtime does not pass 4-bit tensors in or out of a model");
      return nullptr;
    }
    argTypes.push_back(*t);
    inputs.push_back(&vi);
    SmallVector<NamedAttribute> attrs = {
        builder.getNamedAttr("sparq.name", builder.getStringAttr(vi.name())),
        builder.getNamedAttr("sparq.dtype",
                             builder.getStringAttr(onnxTypeName(vi.type().tensor_type().elem_type())))};
    // The dim_param of each dimension ("" for none): inputs that share one must agree at run time
    // (PrepareEntry writes the groups into the signature; the runtime checks them).
    SmallVector<Attribute> dimParams;
    bool anyParam = false;
    if (vi.type().tensor_type().has_shape())
      for (const auto &dim : vi.type().tensor_type().shape().dim()) {
        bool param = dim.has_dim_param() && !dim.dim_param().empty();
        anyParam |= param;
        dimParams.push_back(builder.getStringAttr(param ? dim.dim_param() : ""));
      }
    if (anyParam)
      attrs.push_back(builder.getNamedAttr("sparq.dim_params", builder.getArrayAttr(dimParams)));
    argAttrs.push_back(builder.getDictionaryAttr(attrs));
  }
  auto func = func::FuncOp::create(builder, fileLoc, kEntryFunctionName,
                                   builder.getFunctionType(argTypes, {}));
  func->setAttr("sparq.entry", builder.getUnitAttr());
  entryBlock = func.addEntryBlock();
  for (auto [i, vi] : llvm::enumerate(inputs))
    values[vi->name()] = entryBlock->getArgument(i);
  builder.setInsertionPointToEnd(entryBlock);

  if (failed(importGraphBody(graph, "")))
    return nullptr;

  SmallVector<Value> results;
  SmallVector<Attribute> resAttrs;
  for (const auto &vi : graph.output()) {
    auto it = values.find(vi.name());
    if (it == values.end()) {
      (void)fail("graph output '" + vi.name() + "' is not produced by any node");
      return nullptr;
    }
    results.push_back(it->second);
    int32_t et = vi.type().has_tensor_type() ? vi.type().tensor_type().elem_type() : 0;
    if (isFourBit(et)) {
      (void)fail("graph output '" + vi.name() + "' is " + onnxTypeName(et) +
                 ": the runtime does not pass 4-bit tensors in or out of a model");
      return nullptr;
    }
    resAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("sparq.name", builder.getStringAttr(vi.name())),
         builder.getNamedAttr("sparq.dtype", builder.getStringAttr(onnxTypeName(et)))}));
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resAttrs);
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp> importONNXFile(StringRef path, MLIRContext *ctx,
                                     const ImportOptions &options) {
  Importer importer(ctx, path, StringRef(), options);
  return importer.run();
}

OwningOpRef<ModuleOp> importONNXBytes(StringRef bytes, StringRef path, MLIRContext *ctx,
                                      const ImportOptions &options) {
  Importer importer(ctx, path, bytes.data() ? bytes : StringRef("", 0), options);
  return importer.run();
}

llvm::Error
writeModelWithInitializers(StringRef inputPath, StringRef outputPath,
                           const std::map<std::string, std::vector<float>> &replacements) {
  ::onnx::ModelProto model;
  {
    std::ifstream in(inputPath.str(), std::ios::binary);
    if (!in)
      return llvm::createStringError("cannot open '" + inputPath.str() + "'");
    if (!model.ParseFromIstream(&in))
      return llvm::createStringError("'" + inputPath.str() + "' is not a valid ONNX model");
  }
  std::set<std::string> done;
  auto replace = [&](::onnx::TensorProto &t) -> llvm::Error {
    auto it = replacements.find(t.name());
    if (it == replacements.end())
      return llvm::Error::success();
    int64_t n = 1;
    for (int64_t d : t.dims())
      n *= d;
    if (t.data_type() != ::onnx::TensorProto::FLOAT || (int64_t)it->second.size() != n)
      return llvm::createStringError("initializer '" + t.name() +
                                     "' does not match its compressed weight");
    t.clear_float_data();
    t.clear_external_data();
    t.set_data_location(::onnx::TensorProto::DEFAULT);
    t.set_raw_data(std::string(reinterpret_cast<const char *>(it->second.data()),
                               it->second.size() * sizeof(float)));
    done.insert(t.name());
    return llvm::Error::success();
  };
  for (auto &t : *model.mutable_graph()->mutable_initializer())
    if (llvm::Error err = replace(t))
      return err;
  for (auto &node : *model.mutable_graph()->mutable_node())
    if (node.op_type() == "Constant")
      for (auto &a : *node.mutable_attribute())
        if (a.name() == "value" && a.has_t() && !node.output().empty()) {
          a.mutable_t()->set_name(node.output(0));
          if (llvm::Error err = replace(*a.mutable_t()))
            return err;
        }
  for (const auto &kv : replacements)
    if (!done.count(kv.first))
      return llvm::createStringError("the model has no float initializer named '" + kv.first + "'");
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return llvm::createStringError("cannot serialize the model for '" + outputPath.str() + "'");
  // Through a temporary file renamed into place: no partial model on failure or interruption.
  return llvm::writeToOutput(outputPath, [&](llvm::raw_ostream &os) {
    os << bytes;
    return llvm::Error::success();
  });
}

llvm::Error parseInputValueFlag(StringRef flag, ImportOptions &options) {
  auto [name, list] = flag.rsplit('=');
  if (name.empty() || list.empty() || !flag.contains('='))
    return llvm::createStringError("--input-value expects NAME=V[,V...], got '" + flag.str() + "'");
  std::vector<double> values;
  SmallVector<StringRef> parts;
  list.split(parts, ',');
  for (StringRef p : parts) {
    double v;
    if (p.trim().getAsDouble(v))
      return llvm::createStringError("--input-value '" + flag.str() + "': '" + p.str() +
                                     "' is not a number");
    values.push_back(v);
  }
  options.inputValues[name.str()] = values;
  return llvm::Error::success();
}

llvm::Error parseInputShapeFlag(StringRef flag, ImportOptions &options) {
  auto [name, dimsStr] = flag.rsplit('=');
  if (name.empty() || dimsStr.empty() || !flag.contains('='))
    return llvm::createStringError("--input-shape expects NAME=D0xD1x..., got '" + flag.str() +
                                   "'");
  std::vector<ImportOptions::InputDim> dims;
  SmallVector<StringRef> parts;
  dimsStr.split(parts, 'x');
  for (StringRef p : parts) {
    ImportOptions::InputDim d;
    bool symbol = !p.empty() && (isalpha((unsigned char)p[0]) || p[0] == '_') &&
                  llvm::all_of(p, [](char ch) { return isalnum((unsigned char)ch) || ch == '_'; });
    if (symbol)
      d.symbol = p.str();
    else if (p != "?" && (p.getAsInteger(10, d.size) || d.size < 0))
      return llvm::createStringError("--input-shape '" + flag.str() + "': '" + p.str() +
                                     "' is not a dimension (a size, '?' or a symbol name)");
    dims.push_back(d);
  }
  options.inputShapes[name.str()] = dims;
  return llvm::Error::success();
}

} // namespace sparq
