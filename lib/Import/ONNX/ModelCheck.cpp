//===- lib/Import/ONNX/ModelCheck.cpp - validate a parsed ONNX model ------------===//
//
// Everything here runs before ONNX's shape inference sees the model: libonnx 1.12 writes past
// buffers and dereferences missing fields on malformed graphs (an int64 initializer whose
// raw_data does not match its dims, a Scan without a body, an untyped input, an opset it does not
// know, a node list out of order), and none of that can be caught once it happens.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/ModelCheck.h"
#include "lib/Import/ONNX/NewerOpsets.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx-ml.pb.h>

#include <map>
#include <queue>
#include <string>
#include <vector>

namespace sparq {
namespace {

llvm::Error error(const llvm::Twine &msg) { return llvm::createStringError(msg); }

/// Bytes per element of ONNX's raw storage, 0 for strings, -1 for data types that do not exist.
int64_t elementBytes(int32_t dt) {
  using T = ::onnx::TensorProto;
  switch (dt) {
  case T::FLOAT: case T::INT32: case T::UINT32: return 4;
  case T::UINT8: case T::INT8: case T::BOOL: return 1;
  case T::UINT16: case T::INT16: case T::FLOAT16: case T::BFLOAT16: return 2;
  case T::INT64: case T::UINT64: case T::DOUBLE: case T::COMPLEX64: return 8;
  case T::COMPLEX128: return 16;
  case T::STRING: return 0;
  case kOnnxInt4: case kOnnxUInt4: return 1; // packed two per byte: see checkTensor
  default: return -1;
  }
}

std::string nodeName(const ::onnx::NodeProto &node) {
  return quoted(node.op_type()) + " node" +
         (node.name().empty() ? std::string() : " " + quoted(node.name()));
}

/// Element type, rank and element count of a declared or inferred tensor type.
llvm::Error checkType(const ::onnx::TypeProto &type, const llvm::Twine &what) {
  if (!type.has_tensor_type())
    return llvm::Error::success(); // sequences/maps: the importer names them unsupported
  const auto &tt = type.tensor_type();
  int32_t et = tt.elem_type();
  if (et == ::onnx::TensorProto::UNDEFINED || elementBytes(et) < 0)
    return error(what + " has element type " + llvm::Twine(et) + ", which is not an ONNX "
                 "data type");
  if (!tt.has_shape())
    return llvm::Error::success();
  if (tt.shape().dim_size() > ModelLimits::kMaxRank)
    return error(what + " has rank " + llvm::Twine(tt.shape().dim_size()) +
                 "; sparq accepts at most " + llvm::Twine(ModelLimits::kMaxRank));
  std::vector<int64_t> dims;
  for (const auto &d : tt.shape().dim())
    if (d.has_dim_value())
      dims.push_back(d.dim_value());
  return checkedElementCount(dims, what).takeError();
}

class Checker {
public:
  Checker(::onnx::ModelProto &model, llvm::StringRef modelDir)
      : model(model), modelDir(modelDir.empty() ? "." : modelDir.str()) {}

  llvm::Error run() {
    if (llvm::Error e = checkOpsets())
      return e;
    std::vector<std::string> outer;
    return checkGraph(*model.mutable_graph(), outer, 0);
  }

private:
  llvm::Error checkOpsets() {
    const auto &ranges = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
    for (const auto &o : model.opset_import()) {
      std::string domain = o.domain() == "ai.onnx" ? "" : o.domain();
      if (o.version() < 1)
        return error("opset_import of domain " + quoted(o.domain()) + " has version " +
                     llvm::Twine(o.version()) + "; versions start at 1");
      auto it = ranges.find(domain);
      // The default domain: sparq reads opsets newer than libonnx knows (NewerOpsets.h).
      const int64_t newest = domain.empty() ? kMaxDefaultOpset
                             : it != ranges.end() ? it->second.second
                                                  : INT64_MAX;
      if (o.version() > newest)
        return error("the model imports opset " + llvm::Twine(o.version()) + " of domain " +
                     quoted(domain.empty() ? "ai.onnx" : domain) + ", newer than sparq reads " +
                     "(it reads up to " + llvm::Twine(newest) + ")");
      opsets[domain] = o.version();
    }
    if (model.opset_import_size() == 0)
      opsets[""] = 1;
    return llvm::Error::success();
  }

  llvm::Error checkTensor(const ::onnx::TensorProto &t, const llvm::Twine &what) {
    int32_t dt = t.data_type();
    int64_t eb = elementBytes(dt);
    if (dt == ::onnx::TensorProto::UNDEFINED || eb < 0)
      return error(what + " has data type " + llvm::Twine(dt) + ", which is not an ONNX data type");
    if (t.dims_size() > ModelLimits::kMaxRank)
      return error(what + " has rank " + llvm::Twine(t.dims_size()) + "; sparq accepts at most " +
                   llvm::Twine(ModelLimits::kMaxRank));
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    auto count = checkedElementCount(dims, what);
    if (!count)
      return count.takeError();
    const int64_t n = *count;
    // eb <= 16, n <= 2^40: no overflow. 4-bit elements are packed two per byte (and two per
    // int32_data entry).
    const int64_t nbytes = isFourBit(dt) ? (n + 1) / 2 : n * eb;

    if (t.data_location() == ::onnx::TensorProto::EXTERNAL) {
      if (dt == ::onnx::TensorProto::STRING)
        return error(what + ": string tensors cannot be stored externally");
      return externalData(t, modelDir, nbytes, what).takeError();
    }
    if (t.has_raw_data()) {
      if (dt == ::onnx::TensorProto::STRING)
        return error(what + ": string tensors cannot use raw_data");
      if (int64_t(t.raw_data().size()) != nbytes)
        return error(what + ": raw_data holds " + llvm::Twine(t.raw_data().size()) +
                     " bytes, its shape needs " + llvm::Twine(nbytes));
      return llvm::Error::success();
    }
    using T = ::onnx::TensorProto;
    int64_t have = 0, want = n;
    switch (dt) {
    case T::FLOAT: have = t.float_data_size(); break;
    case T::COMPLEX64: have = t.float_data_size(); want = 2 * n; break;
    case T::DOUBLE: have = t.double_data_size(); break;
    case T::COMPLEX128: have = t.double_data_size(); want = 2 * n; break;
    case T::INT64: have = t.int64_data_size(); break;
    case T::UINT32: case T::UINT64: have = t.uint64_data_size(); break;
    case T::STRING: have = t.string_data_size(); break;
    default: have = t.int32_data_size(); break;
    }
    if (isFourBit(dt))
      want = (n + 1) / 2;
    if (have != want)
      return error(what + " holds " + llvm::Twine(have) + " values, its shape needs " +
                   llvm::Twine(want));
    return llvm::Error::success();
  }

  /// The names `g`'s nodes (and their subgraphs') read: a node with a subgraph depends on the
  /// values its body reads from the enclosing scopes.
  static void collectReads(const ::onnx::GraphProto &g, std::vector<std::string> &reads,
                           int depth) {
    if (depth > ModelLimits::kMaxGraphDepth)
      return;
    for (const auto &node : g.node()) {
      for (const auto &in : node.input())
        reads.push_back(in);
      for (const auto &a : node.attribute()) {
        if (a.has_g())
          collectReads(a.g(), reads, depth + 1);
        for (const auto &sub : a.graphs())
          collectReads(sub, reads, depth + 1);
      }
    }
  }

  llvm::Error checkAttributes(::onnx::NodeProto &node, const std::vector<std::string> &scope,
                              int depth) {
    for (auto &a : *node.mutable_attribute()) {
      std::string what = "attribute " + quoted(a.name()) + " of " + nodeName(node);
      if (a.has_t())
        if (llvm::Error e = checkTensor(a.t(), what))
          return e;
      for (const auto &t : a.tensors())
        if (llvm::Error e = checkTensor(t, what))
          return e;
      if (a.has_g())
        if (llvm::Error e = checkGraph(*a.mutable_g(), scope, depth + 1))
          return e;
      for (auto &sub : *a.mutable_graphs())
        if (llvm::Error e = checkGraph(sub, scope, depth + 1))
          return e;
    }
    return llvm::Error::success();
  }

  llvm::Error checkSchema(const ::onnx::NodeProto &node) {
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto it = opsets.find(domain);
    if (it == opsets.end())
      return llvm::Error::success(); // the importer names the missing opset_import
    const ::onnx::OpSchema *schema =
        ::onnx::OpSchemaRegistry::Schema(node.op_type(), int(it->second), domain);
    if (!schema)
      return llvm::Error::success(); // the importer names the unknown operator
    if (domain.empty() && newerDefinition(node.op_type(), it->second))
      return llvm::Error::success(); // libonnx's schema is an older definition
    try {
      schema->Verify(node);
    } catch (const std::exception &e) {
      std::string msg = e.what();
      std::replace(msg.begin(), msg.end(), '\n', ' ');
      return error(nodeName(node) + " (domain " +
                   quoted(domain.empty() ? "ai.onnx" : domain) + ", opset " +
                   llvm::Twine(it->second) + ") does not match its operator's definition: " +
                   msg);
    }
    return llvm::Error::success();
  }

  llvm::Error checkGraph(::onnx::GraphProto &g, const std::vector<std::string> &outer,
                         int depth) {
    if (depth > ModelLimits::kMaxGraphDepth)
      return error("subgraphs are nested more than " + llvm::Twine(ModelLimits::kMaxGraphDepth) +
                   " deep");
    std::string where = depth == 0 ? std::string("the graph")
                                   : "subgraph " + quoted(g.name());
    llvm::StringSet<> defined;
    for (const auto &name : outer)
      defined.insert(name);
    for (const auto &init : g.initializer()) {
      if (llvm::Error e = checkTensor(init, "initializer " + quoted(init.name())))
        return e;
      defined.insert(init.name());
    }
    if (g.sparse_initializer_size() > 0)
      return error(where + " has sparse initializers, which sparq does not support");
    for (const auto &in : g.input()) {
      std::string what = "input " + quoted(in.name()) + " of " + where;
      // A subgraph input may leave its type to inference (Loop and Scan bodies give them
      // from the node's inputs; ONNX's function bodies rely on it), which runs isolated.
      if (!in.has_type() && !defined.contains(in.name()) && depth == 0)
        return error(what + " has no type");
      if (llvm::Error e = checkType(in.type(), what))
        return e;
      defined.insert(in.name());
    }
    for (const auto &vi : g.output())
      if (llvm::Error e = checkType(vi.type(), "output " + quoted(vi.name()) + " of " + where))
        return e;
    for (const auto &vi : g.value_info())
      if (llvm::Error e = checkType(vi.type(), "value " + quoted(vi.name()) + " of " + where))
        return e;

    // Producers; every value is defined once.
    const int n = g.node_size();
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const auto &out : g.node(i).output()) {
        if (out.empty())
          continue;
        if (defined.contains(out) || !producer.emplace(out, i).second)
          return error(nodeName(g.node(i)) + " in " + where + " defines " + quoted(out) +
                       ", which is already defined (ONNX values are assigned once)");
      }

    // Dependencies (with subgraph reads) and a stable topological order.
    std::vector<std::vector<int>> users(n);
    std::vector<int> pending(n, 0);
    for (int i = 0; i < n; ++i) {
      const auto &node = g.node(i);
      std::vector<std::string> reads(node.input().begin(), node.input().end());
      for (const auto &a : node.attribute()) {
        if (a.has_g())
          collectReads(a.g(), reads, depth + 1);
        for (const auto &sub : a.graphs())
          collectReads(sub, reads, depth + 1);
      }
      std::vector<int> deps;
      for (size_t r = 0; r < reads.size(); ++r) {
        const std::string &name = reads[r];
        if (name.empty() || defined.contains(name))
          continue;
        auto it = producer.find(name);
        if (it == producer.end()) {
          if (r < size_t(node.input_size()))
            return error(nodeName(node) + " in " + where + " reads " + quoted(name) +
                         ", which no node, input or initializer defines");
          continue; // a subgraph's own value: checked with the subgraph
        }
        deps.push_back(it->second);
      }
      llvm::sort(deps);
      deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
      for (int d : deps) {
        if (d == i)
          return error(nodeName(node) + " in " + where + " reads its own output");
        users[d].push_back(i);
      }
      pending[i] = int(deps.size());
    }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int i = 0; i < n; ++i)
      if (pending[i] == 0)
        ready.push(i);
    std::vector<int> order;
    order.reserve(n);
    while (!ready.empty()) {
      int i = ready.top();
      ready.pop();
      order.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0)
          ready.push(u);
    }
    if (int(order.size()) != n) {
      for (int i = 0; i < n; ++i)
        if (pending[i] > 0)
          return error(nodeName(g.node(i)) + " in " + where +
                       " is on a cycle (its inputs depend on its own outputs)");
    }
    if (!std::is_sorted(order.begin(), order.end())) {
      google::protobuf::RepeatedPtrField<::onnx::NodeProto> sorted;
      for (int i : order)
        sorted.Add()->Swap(g.mutable_node(i));
      g.mutable_node()->Swap(&sorted);
    }

    // Nodes: schema, tensors and subgraphs (which see every value of this scope).
    std::vector<std::string> scope(outer);
    for (const auto &entry : defined)
      scope.push_back(entry.getKey().str());
    for (const auto &entry : producer)
      scope.push_back(entry.first);
    for (auto &node : *g.mutable_node()) {
      if (llvm::Error e = checkSchema(node))
        return e;
      if (llvm::Error e = checkAttributes(node, scope, depth))
        return e;
    }
    return llvm::Error::success();
  }

  ::onnx::ModelProto &model;
  std::string modelDir;
  std::map<std::string, int64_t> opsets;
};

} // namespace

llvm::Expected<int64_t> checkedElementCount(llvm::ArrayRef<int64_t> dims,
                                            const llvm::Twine &what) {
  auto dimsText = [&] {
    return llvm::join(llvm::map_range(dims, [](int64_t d) { return std::to_string(d); }), "x");
  };
  for (int64_t d : dims)
    if (d < 0 || d > ModelLimits::kMaxElements)
      return error(what + " has dimension " + llvm::Twine(d) + " (dims " + dimsText() +
                   "); sparq accepts dimensions from 0 to 2^40");
  if (llvm::is_contained(dims, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : dims)
    if (llvm::MulOverflow(n, d, n) || n > ModelLimits::kMaxElements)
      return error(what + " has more than 2^40 elements (dims " + dimsText() +
                   "); sparq accepts at most 2^40 per tensor");
  return n;
}

llvm::Expected<std::string> resolveExternalData(llvm::StringRef modelDir,
                                                llvm::StringRef location,
                                                const llvm::Twine &what) {
  if (llvm::sys::path::is_absolute(location))
    return error(what + ": external data location " + quoted(location) +
                 " is an absolute path; it must be relative to the model's folder");
  // Lexical check first, so that a location climbing out of the folder is refused for what it
  // is whether or not its target exists; the real_path check below then catches symlinks.
  llvm::SmallString<256> lexical(location);
  llvm::sys::path::remove_dots(lexical, /*remove_dot_dot=*/true);
  if (lexical == ".." || llvm::StringRef(lexical).starts_with("../"))
    return error(what + ": external data location " + quoted(location) +
                 " climbs out of the model's folder");
  llvm::SmallString<256> dir, full(modelDir.empty() ? "." : modelDir);
  if (std::error_code ec = llvm::sys::fs::real_path(full, dir))
    return error(what + ": cannot resolve the model's folder " + quoted(full) + ": " +
                 ec.message());
  llvm::sys::path::append(full, location);
  llvm::SmallString<256> real;
  if (std::error_code ec = llvm::sys::fs::real_path(full, real))
    return error(what + ": cannot open external data file " + quoted(full) + ": " +
                 ec.message());
  llvm::SmallString<256> prefix(dir);
  if (!prefix.ends_with("/"))
    prefix += "/";
  if (!llvm::StringRef(real).starts_with(prefix))
    return error(what + ": external data location " + quoted(location) + " resolves to " +
                 quoted(real) + ", outside the model's folder " + quoted(dir));
  if (!llvm::sys::fs::is_regular_file(real))
    return error(what + ": external data " + quoted(real) + " is not a regular file");
  return std::string(real);
}

std::string quoted(llvm::StringRef name) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << '\'';
  llvm::printEscapedString(name, os);
  os << '\'';
  return s;
}

llvm::Expected<ExternalData> externalData(const ::onnx::TensorProto &t, llvm::StringRef modelDir,
                                          int64_t nbytes, const llvm::Twine &what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    llvm::StringRef value = kv.value();
    if (kv.key() == "location") {
      location = value.str();
    } else if (kv.key() == "offset" || kv.key() == "length") {
      int64_t v;
      if (value.getAsInteger(10, v) || v < 0)
        return error(what + ": external data " + kv.key() + " " + quoted(value) +
                     " is not a non-negative integer");
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return error(what + ": external data has no 'location'");
  auto full = resolveExternalData(modelDir, location, what);
  if (!full)
    return full.takeError();
  if (length < 0)
    length = nbytes;
  if (length != nbytes)
    return error(what + ": external data length " + llvm::Twine(length) +
                 " does not match the " + llvm::Twine(nbytes) + " bytes of its shape");
  uint64_t size = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(*full, size))
    return error(what + ": cannot read external data file " + quoted(*full) + ": " +
                 ec.message());
  if (uint64_t(offset) > size || uint64_t(length) > size - uint64_t(offset))
    return error(what + ": external data file " + quoted(*full) + " is truncated: it has " +
                 llvm::Twine(size) + " bytes, the tensor needs bytes [" + llvm::Twine(offset) +
                 ", " + llvm::Twine(offset + length) + ")");
  return ExternalData{*full, offset};
}

llvm::Error checkModel(::onnx::ModelProto &model, llvm::StringRef modelDir) {
  return Checker(model, modelDir).run();
}

llvm::Error checkInferredTypes(const ::onnx::ModelProto &model) {
  for (const auto &vi : model.graph().value_info())
    if (llvm::Error e = checkType(vi.type(), "value " + quoted(vi.name()) +
                                                 " (as ONNX shape inference infers it)"))
      return e;
  return llvm::Error::success();
}

} // namespace sparq
