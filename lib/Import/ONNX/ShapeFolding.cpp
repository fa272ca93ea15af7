//===- lib/Import/ONNX/ShapeFolding.cpp - evaluate shape computations at import ------===//
//
// Exporters compute Reshape/Expand targets with `Shape -> Gather/Slice -> Concat` chains that
// ONNX 1.12's shape inference does not see through. This file evaluates such chains on small
// integer tensors whose entries may be partly unknown (a Shape of a value with a dynamic dim),
// and replaces each fully known result by a Constant node. See GraphSimplify.h.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/GraphSimplify.h"
#include "lib/Import/ONNX/NewerOpsets.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace sparq {
namespace {

using Elem = std::optional<int64_t>;

/// A small integer tensor (int64, int32 or bool), row-major; entries may be unknown.
struct Known {
  int32_t type = ::onnx::TensorProto::INT64;
  std::vector<int64_t> dims;
  std::vector<Elem> v;

  bool complete() const {
    return llvm::all_of(v, [](const Elem &e) { return e.has_value(); });
  }
  int64_t rank() const { return int64_t(dims.size()); }
};

bool isIntType(int32_t t) {
  return t == ::onnx::TensorProto::INT64 || t == ::onnx::TensorProto::INT32 ||
         t == ::onnx::TensorProto::BOOL;
}

int64_t product(const std::vector<int64_t> &dims, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t n = 1;
  for (size_t i = from; i < std::min(to, dims.size()); ++i)
    n *= dims[i];
  return n;
}

/// The element count of `dims` when every dim is non-negative and the count is at most
/// kMaxFoldElements (overflow-safe); nullopt otherwise.
std::optional<int64_t> foldableCount(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d < 0 || llvm::MulOverflow(n, d, n) || n > kMaxFoldElements)
      return std::nullopt;
  return n;
}

/// Reads a small integer tensor (stored inline); nullopt for anything else.
std::optional<Known> readTensor(const ::onnx::TensorProto &t) {
  if (!isIntType(t.data_type()) || t.data_location() == ::onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  Known k;
  k.type = t.data_type();
  k.dims.assign(t.dims().begin(), t.dims().end());
  std::optional<int64_t> count = foldableCount(k.dims);
  if (!count)
    return std::nullopt;
  int64_t n = *count;
  if (t.has_raw_data()) {
    size_t width = t.data_type() == ::onnx::TensorProto::INT64   ? 8
                   : t.data_type() == ::onnx::TensorProto::INT32 ? 4
                                                                 : 1;
    if (t.raw_data().size() != size_t(n) * width)
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i) {
      const char *p = t.raw_data().data() + i * width;
      if (width == 8) {
        int64_t x;
        std::memcpy(&x, p, 8);
        k.v.push_back(x);
      } else if (width == 4) {
        int32_t x;
        std::memcpy(&x, p, 4);
        k.v.push_back(x);
      } else {
        k.v.push_back(*p != 0);
      }
    }
  } else if (t.data_type() == ::onnx::TensorProto::INT64 && t.int64_data_size() == n) {
    for (int64_t x : t.int64_data())
      k.v.push_back(x);
  } else if (t.data_type() != ::onnx::TensorProto::INT64 && t.int32_data_size() == n) {
    for (int32_t x : t.int32_data())
      k.v.push_back(t.data_type() == ::onnx::TensorProto::BOOL ? int64_t(x != 0) : int64_t(x));
  } else {
    return std::nullopt;
  }
  return k;
}

/// A complete value as a Constant node's tensor.
::onnx::TensorProto toTensor(const Known &k) {
  ::onnx::TensorProto t;
  t.set_data_type(k.type);
  for (int64_t d : k.dims)
    t.add_dims(d);
  std::string raw;
  for (const Elem &e : k.v) {
    if (k.type == ::onnx::TensorProto::INT64) {
      int64_t x = *e;
      raw.append(reinterpret_cast<const char *>(&x), 8);
    } else if (k.type == ::onnx::TensorProto::INT32) {
      int32_t x = int32_t(*e);
      raw.append(reinterpret_cast<const char *>(&x), 4);
    } else {
      raw.push_back(char(*e != 0));
    }
  }
  t.set_raw_data(raw);
  return t;
}

Known scalar(int64_t x) { return Known{::onnx::TensorProto::INT64, {}, {x}}; }
Known vector(std::vector<Elem> v) {
  int64_t n = int64_t(v.size());
  return Known{::onnx::TensorProto::INT64, {n}, std::move(v)};
}

/// Normalizes a possibly negative axis; nullopt when out of range.
std::optional<int64_t> axisOf(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

/// Numpy-style broadcast of two shapes.
std::optional<std::vector<int64_t>> broadcast(const std::vector<int64_t> &a,
                                              const std::vector<int64_t> &b) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// The element of `k` read at flat index `i` of a broadcast result of shape `out`.
const Elem &broadcastAt(const Known &k, const std::vector<int64_t> &out, int64_t i) {
  int64_t src = 0, stride = 1;
  size_t off = out.size() - k.dims.size();
  for (size_t d = out.size(); d-- > 0;) {
    int64_t idx = i % out[d];
    i /= out[d];
    if (d >= off) {
      int64_t kd = k.dims[d - off];
      src += (kd == 1 ? 0 : idx) * stride;
      stride *= kd;
    }
  }
  return k.v[src];
}

/// Renames, in `g` and the subgraphs of its nodes, every reference to a name in `rename`.
void renameReferences(::onnx::GraphProto &g,
                      const std::unordered_map<std::string, std::string> &rename) {
  for (auto &n : *g.mutable_node()) {
    for (auto &in : *n.mutable_input())
      if (auto it = rename.find(in); it != rename.end())
        in = it->second;
    for (auto &a : *n.mutable_attribute()) {
      if (a.has_g())
        renameReferences(*a.mutable_g(), rename);
      for (auto &sub : *a.mutable_graphs())
        renameReferences(sub, rename);
    }
  }
  for (auto &o : *g.mutable_output())
    if (auto it = rename.find(o.name()); it != rename.end())
      o.set_name(it->second);
}

class Folder {
public:
  Folder(::onnx::ModelProto &model, std::map<std::string, ::onnx::TypeProto> &typeHints)
      : graph(*model.mutable_graph()), typeHints(typeHints), topLevel(true) {
    for (const auto &o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx")
        opset = o.version();
    addGraph(graph);
  }

  /// A subgraph of `parent`'s graph (If branch, Loop/Scan body): it sees the enclosing values
  /// and shapes; its inputs shadow them.
  Folder(const Folder &parent, ::onnx::GraphProto &g)
      : graph(g), typeHints(parent.typeHints), topLevel(false), opset(parent.opset),
        types(parent.types), initializerDims(parent.initializerDims), known(parent.known) {
    for (const auto &vi : g.input()) {
      known.erase(vi.name());
      initializerDims.erase(vi.name());
    }
    addGraph(g);
  }

  void addGraph(const ::onnx::GraphProto &g) {
    for (const auto &vi : g.input())
      types[vi.name()] = &vi.type();
    for (const auto &vi : g.value_info())
      types[vi.name()] = &vi.type();
    for (const auto &vi : g.output()) {
      types[vi.name()] = &vi.type();
      graphOutputs.insert(vi.name());
    }
    for (const auto &init : g.initializer()) {
      initializerDims[init.name()].assign(init.dims().begin(), init.dims().end());
      if (auto k = readTensor(init))
        known[init.name()] = *k;
    }
  }

  unsigned run() {
    unsigned folded = 0;
    std::vector<std::pair<int, ::onnx::NodeProto>> inserted; // before node #first
    auto &nodes = *graph.mutable_node();
    for (int idx = 0; idx < nodes.size(); ++idx) {
      ::onnx::NodeProto &node = nodes[idx];
      if ((node.domain().empty() || node.domain() == "ai.onnx") && typeLoopBody(node))
        ++folded;
      // Shape computations inside subgraphs fold too, with the enclosing values known (an If
      // whose condition folds below is inlined with its branch already folded).
      for (auto &a : *node.mutable_attribute())
        if (a.has_g())
          folded += Folder(*this, *a.mutable_g()).run();
      if (isDefaultDomain(node.domain()) && newerForm(node, idx, inserted))
        ++folded;
      if (!isDefaultDomain(node.domain()) || (node.output_size() != 1 && node.op_type() != "If"))
        continue;
      if (node.op_type() == "If") {
        if (inlineKnownBranch(node, idx, inserted))
          ++folded;
        continue;
      }
      if (auto target = reshapeTarget(node)) {
        // A Reshape target with one unknown entry: that entry is what -1 infers.
        constantInput(node, 1, "reshape_target", *target, idx, inserted);
        ++folded;
      }
      if (hintReshapeRank(node))
        ++folded;
      std::optional<Known> result = evaluate(node);
      std::optional<int64_t> count = result ? foldableCount(result->dims) : std::nullopt;
      if (!count || result->v.size() != size_t(*count))
        continue;
      const std::string &out = node.output(0);
      known[out] = *result;
      if (node.op_type() == "Constant" || !result->complete() || graphOutputs.count(out))
        continue;
      // The node becomes a Constant holding its value (same name and output).
      node.clear_input();
      node.clear_attribute();
      node.set_op_type("Constant");
      ::onnx::AttributeProto *a = node.add_attribute();
      a->set_name("value");
      a->set_type(::onnx::AttributeProto::TENSOR);
      *a->mutable_t() = toTensor(*result);
      ++folded;
    }
    if (!inserted.empty()) {
      google::protobuf::RepeatedPtrField<::onnx::NodeProto> out;
      size_t next = 0;
      for (int idx = 0; idx < nodes.size(); ++idx) {
        for (; next < inserted.size() && inserted[next].first == idx; ++next)
          *out.Add() = std::move(inserted[next].second);
        if (!removed.count(idx))
          *out.Add() = std::move(nodes[idx]);
      }
      nodes.Swap(&out);
    }
    return folded;
  }

private:
  /// Sets input `i` of `n` to a new Constant node holding `value`, inserted before node #idx.
  void constantInput(::onnx::NodeProto &n, int i, llvm::StringRef what, const Known &value,
                     int idx, std::vector<std::pair<int, ::onnx::NodeProto>> &inserted) {
    ::onnx::NodeProto c;
    c.set_op_type("Constant");
    c.set_name(n.output(0) + "/sparq." + what.str());
    c.add_output(c.name());
    ::onnx::AttributeProto *a = c.add_attribute();
    a->set_name("value");
    a->set_type(::onnx::AttributeProto::TENSOR);
    *a->mutable_t() = toTensor(value);
    while (n.input_size() <= i)
      n.add_input("");
    n.set_input(i, c.output(0));
    known[c.output(0)] = value;
    inserted.emplace_back(idx, std::move(c));
  }

  /// Opset 18's forms whose results libonnx 1.12 cannot infer (NewerOpsets.h), rewritten into
  /// equivalent ones at the same opset once the input shape is known: a Split with
  /// `num_outputs` gets its (ceil-divided) sizes as a constant `split` input; a Pad with
  /// constant `axes` gets constant pads for every axis and no `axes`.
  bool newerForm(::onnx::NodeProto &n, int idx,
                 std::vector<std::pair<int, ::onnx::NodeProto>> &inserted) {
    if (opset < 18 || n.input_size() == 0)
      return false;
    auto shape = shapeOf(n.input(0));
    if (!shape)
      return false;
    const int64_t rank = int64_t(shape->size());
    if (n.op_type() == "Split" && attr(n, "num_outputs") &&
        (n.input_size() < 2 || n.input(1).empty())) {
      auto axis = axisOf(intAttr(n, "axis", 0), rank);
      const int64_t parts = intAttr(n, "num_outputs", 0);
      if (!axis || !(*shape)[*axis] || parts != n.output_size() || parts < 1)
        return false;
      const int64_t dim = *(*shape)[*axis], chunk = (dim + parts - 1) / parts;
      if (chunk * (parts - 1) > dim)
        return false; // fewer elements than parts: the converter names it
      std::vector<Elem> sizes(parts, chunk);
      sizes.back() = dim - chunk * (parts - 1);
      auto *attrs = n.mutable_attribute();
      for (int k = 0; k < attrs->size(); ++k)
        if ((*attrs)[k].name() == "num_outputs")
          attrs->DeleteSubrange(k--, 1);
      constantInput(n, 1, "split", vector(sizes), idx, inserted);
      return true;
    }
    if (n.op_type() == "Pad" && n.input_size() >= 4 && !n.input(3).empty()) {
      auto pads = ints(n, 1), axes = ints(n, 3);
      if (!pads || !axes || pads->size() != 2 * axes->size())
        return false;
      std::vector<Elem> full(2 * rank, int64_t(0));
      for (size_t k = 0; k < axes->size(); ++k) {
        auto a = axisOf((*axes)[k], rank);
        if (!a)
          return false; // the converter names the bad axis
        full[*a] = (*pads)[k];
        full[rank + *a] = (*pads)[axes->size() + k];
      }
      n.mutable_input()->RemoveLast();
      while (n.input_size() > 2 && n.input(n.input_size() - 1).empty())
        n.mutable_input()->RemoveLast();
      constantInput(n, 1, "pads", vector(full), idx, inserted);
      return true;
    }
    return false;
  }

  const Known *input(const ::onnx::NodeProto &n, int i) {
    if (i >= n.input_size() || n.input(i).empty())
      return nullptr;
    auto it = known.find(n.input(i));
    return it == known.end() ? nullptr : &it->second;
  }
  /// The complete integer values of input `i` (e.g. axes), or nullopt.
  std::optional<std::vector<int64_t>> ints(const ::onnx::NodeProto &n, int i) {
    const Known *k = input(n, i);
    if (!k || !k->complete())
      return std::nullopt;
    std::vector<int64_t> r;
    for (const Elem &e : k->v)
      r.push_back(*e);
    return r;
  }
  const ::onnx::AttributeProto *attr(const ::onnx::NodeProto &n, llvm::StringRef name) {
    for (const auto &a : n.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t intAttr(const ::onnx::NodeProto &n, llvm::StringRef name, int64_t dflt) {
    const auto *a = attr(n, name);
    return a ? a->i() : dflt;
  }
  std::optional<std::vector<int64_t>> intsAttr(const ::onnx::NodeProto &n, llvm::StringRef name) {
    const auto *a = attr(n, name);
    if (!a)
      return std::nullopt;
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }
  /// The dims of a value from its type (unknown dims as nullopt), or nullopt when unranked.
  std::optional<std::vector<Elem>> shapeOf(const std::string &name) {
    if (auto it = initializerDims.find(name); it != initializerDims.end())
      return std::vector<Elem>(it->second.begin(), it->second.end());
    if (auto it = known.find(name); it != known.end())
      return std::vector<Elem>(it->second.dims.begin(), it->second.dims.end());
    auto it = types.find(name);
    if (it == types.end() || !it->second->has_tensor_type() ||
        !it->second->tensor_type().has_shape())
      return std::nullopt;
    std::vector<Elem> dims;
    for (const auto &d : it->second->tensor_type().shape().dim())
      dims.push_back(d.has_dim_value() ? Elem(d.dim_value()) : std::nullopt);
    return dims;
  }

  /// An If whose condition is known becomes the nodes of the branch it takes (internal values
  /// renamed under a unique prefix) and one Identity per output; the If itself is removed.
  bool inlineKnownBranch(const ::onnx::NodeProto &n, int idx,
                         std::vector<std::pair<int, ::onnx::NodeProto>> &inserted) {
    const Known *cond = input(n, 0);
    if (!cond || cond->v.size() != 1 || !cond->complete())
      return false;
    const ::onnx::AttributeProto *branch =
        attr(n, *cond->v[0] ? "then_branch" : "else_branch");
    if (!branch || !branch->has_g() || branch->g().output_size() != n.output_size())
      return false;
    ::onnx::GraphProto g = branch->g();
    std::string prefix = (n.name().empty() ? n.output(0) : n.name()) + "/" +
                         (*cond->v[0] ? "then" : "else") + "/";
    std::unordered_map<std::string, std::string> rename;
    for (const auto &init : g.initializer())
      rename[init.name()] = prefix + init.name();
    for (const auto &bn : g.node())
      for (const auto &o : bn.output())
        if (!o.empty())
          rename[o] = prefix + o;
    renameReferences(g, rename);
    for (auto &init : *g.mutable_initializer()) {
      // Branch initializers become Constant nodes (valid at every IR version).
      ::onnx::NodeProto c;
      c.set_op_type("Constant");
      c.set_name(prefix + init.name());
      c.add_output(prefix + init.name());
      ::onnx::AttributeProto *a = c.add_attribute();
      a->set_name("value");
      a->set_type(::onnx::AttributeProto::TENSOR);
      *a->mutable_t() = init;
      a->mutable_t()->set_name(c.output(0));
      inserted.emplace_back(idx, std::move(c));
    }
    for (auto &bn : *g.mutable_node()) {
      for (auto &o : *bn.mutable_output())
        if (auto it = rename.find(o); it != rename.end())
          o = it->second;
      bn.set_name(prefix + bn.name());
      inserted.emplace_back(idx, std::move(bn));
    }
    for (int i = 0; i < n.output_size(); ++i) {
      if (n.output(i).empty())
        continue;
      ::onnx::NodeProto id;
      id.set_op_type("Identity");
      id.set_name(n.output(i) + "/" + prefix);
      id.add_input(g.output(i).name());
      id.add_output(n.output(i));
      inserted.emplace_back(idx, std::move(id));
    }
    removed.insert(idx);
    return true;
  }

  /// For a Reshape whose target is known but for one entry (and holds no -1), the target with
  /// that entry set to -1.
  std::optional<Known> reshapeTarget(const ::onnx::NodeProto &n) {
    if (n.op_type() != "Reshape" || n.input_size() != 2 || opset < 5)
      return std::nullopt;
    const Known *t = input(n, 1);
    if (!t || t->rank() != 1)
      return std::nullopt;
    bool allowZero = intAttr(n, "allowzero", 0) != 0;
    int unknown = 0;
    for (const Elem &e : t->v)
      if (!e)
        ++unknown;
      else if (*e == -1 || (allowZero && *e == 0))
        return std::nullopt;
    if (unknown != 1)
      return std::nullopt;
    Known r = *t;
    for (Elem &e : r.v)
      if (!e)
        e = -1;
    return r;
  }

  /// A Reshape (opset >= 5) with an unranked result whose target has a static length: records
  /// the result type (that rank; each dim the target fixes, or copies from a known input dim)
  /// in typeHints. Returns whether a hint was added.
  bool hintReshapeRank(const ::onnx::NodeProto &n) {
    if (n.op_type() != "Reshape" || n.input_size() != 2 || opset < 5)
      return false;
    const std::string &out = n.output(0);
    auto it = types.find(out);
    if (typeHints.count(out) || (it != types.end() && it->second->has_tensor_type() &&
                                 it->second->tensor_type().has_shape()))
      return false;
    auto dataType = types.find(n.input(0));
    std::optional<std::vector<Elem>> targetShape = shapeOf(n.input(1));
    if (dataType == types.end() || !dataType->second->has_tensor_type() ||
        dataType->second->tensor_type().elem_type() == 0 || !targetShape ||
        targetShape->size() != 1 || !(*targetShape)[0])
      return false;
    int64_t rank = *(*targetShape)[0];
    const Known *target = input(n, 1);
    std::optional<std::vector<Elem>> inDims = shapeOf(n.input(0));
    bool allowZero = intAttr(n, "allowzero", 0) != 0;
    ::onnx::TypeProto t;
    auto *tt = t.mutable_tensor_type();
    tt->set_elem_type(dataType->second->tensor_type().elem_type());
    auto *shape = tt->mutable_shape();
    for (int64_t i = 0; i < rank; ++i) {
      auto *d = shape->add_dim();
      Elem e = target && target->v.size() == size_t(rank) ? target->v[i] : std::nullopt;
      if (e && *e > 0)
        d->set_dim_value(*e);
      else if (e && *e == 0 && !allowZero && inDims && i < int64_t(inDims->size()) &&
               (*inDims)[i])
        d->set_dim_value(*(*inDims)[i]);
    }
    if (topLevel) {
      typeHints[out] = t;
      return true;
    }
    // Inside a subgraph the hint goes into its own value_info, which the importer does not
    // clear between rounds of inference.
    for (auto &vi : *graph.mutable_value_info())
      if (vi.name() == out) {
        *vi.mutable_type() = t;
        return true;
      }
    ::onnx::ValueInfoProto *vi = graph.add_value_info();
    vi->set_name(out);
    *vi->mutable_type() = t;
    return true;
  }

  /// Loop and Scan bodies whose inputs carry no type (ONNX function bodies leave them to
  /// inference, which ONNX 1.12 does not do for Loop): each gets the type of what feeds it, the
  /// iteration count int64 and the condition bool scalars. Returns whether one was set.
  bool typeLoopBody(::onnx::NodeProto &n) {
    bool loop = n.op_type() == "Loop", scan = n.op_type() == "Scan" && opset >= 9;
    if (!loop && !scan)
      return false;
    ::onnx::GraphProto *body = nullptr;
    for (auto &a : *n.mutable_attribute())
      if (a.name() == "body" && a.has_g())
        body = a.mutable_g();
    if (!body)
      return false;
    bool changed = false;
    auto setScalar = [&](::onnx::ValueInfoProto &vi, int32_t elem) {
      if (vi.has_type() && vi.type().has_tensor_type() && vi.type().tensor_type().has_shape())
        return;
      auto *tt = vi.mutable_type()->mutable_tensor_type();
      tt->set_elem_type(elem);
      tt->mutable_shape();
      changed = true;
    };
    auto copyFrom = [&](::onnx::ValueInfoProto &vi, const std::string &from) {
      if (vi.has_type() && vi.type().has_tensor_type() && vi.type().tensor_type().has_shape())
        return;
      auto it = types.find(from);
      if (it == types.end() || !it->second->has_tensor_type() ||
          !it->second->tensor_type().has_shape())
        return;
      *vi.mutable_type() = *it->second;
      changed = true;
    };
    if (loop) {
      if (body->input_size() < 2 || body->input_size() != n.input_size())
        return false;
      setScalar(*body->mutable_input(0), ::onnx::TensorProto::INT64);
      setScalar(*body->mutable_input(1), ::onnx::TensorProto::BOOL);
      for (int i = 2; i < n.input_size(); ++i)
        copyFrom(*body->mutable_input(i), n.input(i));
    } else {
      int64_t nIn = intAttr(n, "num_scan_inputs", -1);
      int64_t nState = n.input_size() - nIn;
      if (nIn < 0 || nState < 0 || body->input_size() != n.input_size())
        return false;
      for (int64_t i = 0; i < nState; ++i)
        copyFrom(*body->mutable_input(i), n.input(i));
    }
    return changed;
  }

  std::optional<Known> evaluate(const ::onnx::NodeProto &n);
  std::optional<Known> elementwise(const ::onnx::NodeProto &n);
  std::optional<Known> slice(const ::onnx::NodeProto &n);
  std::optional<Known> gather(const ::onnx::NodeProto &n);
  std::optional<Known> concat(const ::onnx::NodeProto &n);

  ::onnx::GraphProto &graph;
  std::map<std::string, ::onnx::TypeProto> &typeHints;
  bool topLevel;
  int64_t opset = 1;
  std::unordered_map<std::string, const ::onnx::TypeProto *> types;
  std::unordered_map<std::string, std::vector<int64_t>> initializerDims;
  std::unordered_map<std::string, Known> known;
  std::set<std::string> graphOutputs;
  std::set<int> removed; // indices of nodes replaced by `inserted` ones
};

std::optional<Known> Folder::evaluate(const ::onnx::NodeProto &n) {
  const std::string &op = n.op_type();
  if (op == "Constant") {
    if (const auto *a = attr(n, "value"); a && a->has_t())
      return readTensor(a->t());
    if (const auto *a = attr(n, "value_int"))
      return scalar(a->i());
    if (const auto *a = attr(n, "value_ints"))
      return vector(std::vector<Elem>(a->ints().begin(), a->ints().end()));
    return std::nullopt;
  }
  if (op == "Shape") {
    auto dims = shapeOf(n.input(0));
    if (!dims)
      return std::nullopt;
    int64_t r = int64_t(dims->size());
    int64_t start = intAttr(n, "start", 0), end = intAttr(n, "end", r);
    auto clampAxis = [&](int64_t a) { return std::clamp(a < 0 ? a + r : a, int64_t(0), r); };
    start = clampAxis(start);
    end = clampAxis(end);
    return vector(std::vector<Elem>(dims->begin() + start, dims->begin() + std::max(start, end)));
  }
  if (op == "Size") {
    auto dims = shapeOf(n.input(0));
    if (!dims || !llvm::all_of(*dims, [](const Elem &e) { return e.has_value(); }))
      return std::nullopt;
    int64_t c = 1;
    for (const Elem &e : *dims)
      c *= *e;
    return scalar(c);
  }
  if (op == "Identity") {
    const Known *x = input(n, 0);
    return x ? std::optional<Known>(*x) : std::nullopt;
  }
  if (op == "Cast") {
    const Known *x = input(n, 0);
    int64_t to = intAttr(n, "to", 0);
    if (!x || !isIntType(int32_t(to)))
      return std::nullopt;
    Known r = *x;
    r.type = int32_t(to);
    for (Elem &e : r.v)
      if (e)
        e = to == ::onnx::TensorProto::BOOL    ? int64_t(*e != 0)
            : to == ::onnx::TensorProto::INT32 ? int64_t(int32_t(*e))
                                               : *e;
    return r;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    const Known *x = input(n, 0);
    if (!x)
      return std::nullopt;
    std::optional<std::vector<int64_t>> axes =
        opset >= 13 ? (n.input_size() > 1 ? ints(n, 1) : std::vector<int64_t>{})
                    : intsAttr(n, "axes").value_or(std::vector<int64_t>{});
    if (!axes)
      return std::nullopt;
    Known r = *x;
    if (op == "Unsqueeze") {
      int64_t outRank = x->rank() + int64_t(axes->size());
      std::vector<bool> isNew(outRank, false);
      for (int64_t a : *axes) {
        auto ax = axisOf(a, outRank);
        if (!ax || isNew[*ax])
          return std::nullopt;
        isNew[*ax] = true;
      }
      r.dims.clear();
      for (int64_t i = 0, j = 0; i < outRank; ++i)
        r.dims.push_back(isNew[i] ? 1 : x->dims[j++]);
    } else {
      std::vector<bool> drop(x->rank(), axes->empty());
      for (int64_t a : *axes) {
        auto ax = axisOf(a, x->rank());
        if (!ax || x->dims[*ax] != 1)
          return std::nullopt;
        drop[*ax] = true;
      }
      r.dims.clear();
      for (int64_t i = 0; i < x->rank(); ++i)
        if (!(drop[i] && x->dims[i] == 1))
          r.dims.push_back(x->dims[i]);
    }
    return r;
  }
  if (op == "Reshape") {
    const Known *x = input(n, 0);
    auto shape = ints(n, 1);
    if (!x || !shape)
      return std::nullopt;
    bool allowZero = intAttr(n, "allowzero", 0) != 0;
    Known r = *x;
    r.dims.clear();
    int64_t inferred = -1, prod = 1;
    for (size_t i = 0; i < shape->size(); ++i) {
      int64_t d = (*shape)[i];
      if (d == 0 && !allowZero) {
        if (i >= x->dims.size())
          return std::nullopt;
        d = x->dims[i];
      }
      if (d == -1) {
        if (inferred >= 0)
          return std::nullopt;
        inferred = int64_t(i);
        d = 1;
      } else if (d < 0) {
        return std::nullopt;
      }
      r.dims.push_back(d);
      if (llvm::MulOverflow(prod, d, prod))
        return std::nullopt;
    }
    int64_t count = int64_t(x->v.size());
    if (inferred >= 0) {
      if (prod == 0 || count % prod)
        return std::nullopt;
      r.dims[inferred] = count / prod;
    } else if (prod != count) {
      return std::nullopt;
    }
    return r;
  }
  if (op == "Transpose") {
    // PyTorch's F.pad export reorders its pad vector with a Transpose of a [k, 2] tensor.
    const Known *x = input(n, 0);
    if (!x)
      return std::nullopt;
    int64_t rank = x->rank();
    std::vector<int64_t> perm;
    if (auto p = intsAttr(n, "perm"))
      perm = *p;
    else
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    if (int64_t(perm.size()) != rank)
      return std::nullopt;
    std::vector<bool> seen(rank, false);
    for (int64_t p : perm) {
      if (p < 0 || p >= rank || seen[p])
        return std::nullopt;
      seen[p] = true;
    }
    Known r;
    r.type = x->type;
    for (int64_t p : perm)
      r.dims.push_back(x->dims[p]);
    r.v.resize(x->v.size());
    std::vector<int64_t> idx(rank, 0); // index into r, row-major
    for (size_t flat = 0; flat < r.v.size(); ++flat) {
      int64_t src = 0;
      for (int64_t d = 0; d < rank; ++d) // source index: x index perm[d] = idx[d]
        src += idx[d] * product(x->dims, perm[d] + 1);
      r.v[flat] = x->v[src];
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < r.dims[d])
          break;
        idx[d] = 0;
      }
    }
    return r;
  }
  if (op == "Gather")
    return gather(n);
  if (op == "Slice")
    return slice(n);
  if (op == "Concat")
    return concat(n);
  if (op == "Range") {
    auto s = ints(n, 0), l = ints(n, 1), d = ints(n, 2);
    const Known *k = input(n, 0);
    if (!s || !l || !d || s->size() != 1 || l->size() != 1 || d->size() != 1 || (*d)[0] == 0)
      return std::nullopt;
    int64_t start = (*s)[0], limit = (*l)[0], delta = (*d)[0];
    // ceil((limit - start) / delta), in long double: the int64 difference may overflow.
    long double span = (long double)limit - (long double)start;
    long double steps = span / (long double)delta;
    if (steps > (long double)kMaxFoldElements)
      return std::nullopt;
    int64_t count = steps <= 0 ? 0 : int64_t(std::ceil(steps));
    Known r = vector({});
    r.type = k->type;
    for (int64_t i = 0; i < count; ++i)
      r.v.push_back(start + i * delta);
    r.dims = {count};
    return r;
  }
  if (op == "ConstantOfShape") {
    auto shape = ints(n, 0);
    if (!shape)
      return std::nullopt;
    Known fill{::onnx::TensorProto::FLOAT, {}, {}};
    if (const auto *a = attr(n, "value"); a && a->has_t()) {
      auto v = readTensor(a->t());
      if (!v || v->v.size() != 1)
        return std::nullopt;
      fill = *v;
    }
    if (!isIntType(fill.type))
      return std::nullopt;
    int64_t count = 1;
    for (int64_t d : *shape) {
      if (d < 0 || (d && count > kMaxFoldElements / d))
        return std::nullopt;
      count *= d;
    }
    Known r = fill;
    r.dims = *shape;
    r.v.assign(size_t(count), fill.v[0]);
    return r;
  }
  if (op == "Expand") {
    const Known *x = input(n, 0);
    auto shape = ints(n, 1);
    if (!x || !shape)
      return std::nullopt;
    auto out = broadcast(x->dims, *shape);
    if (!out || !foldableCount(*out))
      return std::nullopt;
    Known r = *x;
    r.dims = *out;
    r.v.clear();
    for (int64_t i = 0, e = product(*out); i < e; ++i)
      r.v.push_back(broadcastAt(*x, *out, i));
    return r;
  }
  return elementwise(n);
}

std::optional<Known> Folder::elementwise(const ::onnx::NodeProto &n) {
  const std::string &op = n.op_type();
  using Fn = std::optional<int64_t> (*)(int64_t, int64_t);
  static const std::unordered_map<std::string, Fn> binary = {
      // Overflow is left to the kernel's wrapping arithmetic (not folded).
      {"Add",
       [](int64_t a, int64_t b) -> std::optional<int64_t> {
         int64_t r;
         return llvm::AddOverflow(a, b, r) ? std::nullopt : std::optional<int64_t>(r);
       }},
      {"Sub",
       [](int64_t a, int64_t b) -> std::optional<int64_t> {
         int64_t r;
         return llvm::SubOverflow(a, b, r) ? std::nullopt : std::optional<int64_t>(r);
       }},
      {"Mul",
       [](int64_t a, int64_t b) -> std::optional<int64_t> {
         int64_t r;
         return llvm::MulOverflow(a, b, r) ? std::nullopt : std::optional<int64_t>(r);
       }},
      {"Div",
       [](int64_t a, int64_t b) -> std::optional<int64_t> {
         if (b == 0 || (a == INT64_MIN && b == -1))
           return std::nullopt;
         return a / b;
       }},
      {"Min", [](int64_t a, int64_t b) -> std::optional<int64_t> { return std::min(a, b); }},
      {"Max", [](int64_t a, int64_t b) -> std::optional<int64_t> { return std::max(a, b); }},
      {"Equal", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a == b; }},
      {"Less", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a < b; }},
      {"Greater", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a > b; }},
      {"LessOrEqual", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a <= b; }},
      {"GreaterOrEqual", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a >= b; }},
      {"And", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a && b; }},
      {"Or", [](int64_t a, int64_t b) -> std::optional<int64_t> { return a || b; }},
  };
  static const std::set<std::string> comparisons = {"Equal", "Less", "Greater", "LessOrEqual",
                                                    "GreaterOrEqual"};
  if (op == "Neg" || op == "Abs" || op == "Not") {
    const Known *x = input(n, 0);
    if (!x)
      return std::nullopt;
    Known r = *x;
    for (Elem &e : r.v)
      if (e) {
        if (*e == INT64_MIN && op != "Not")
          return std::nullopt; // no int64 negation
        e = op == "Neg" ? -*e : op == "Abs" ? std::abs(*e) : int64_t(!*e);
      }
    return r;
  }
  if (op == "Where") {
    const Known *c = input(n, 0), *a = input(n, 1), *b = input(n, 2);
    if (!c || !a || !b || a->type != b->type)
      return std::nullopt;
    auto ab = broadcast(a->dims, b->dims);
    auto out = ab ? broadcast(c->dims, *ab) : std::nullopt;
    if (!out || !foldableCount(*out))
      return std::nullopt;
    Known r{a->type, *out, {}};
    for (int64_t i = 0, e = product(*out); i < e; ++i) {
      const Elem &ce = broadcastAt(*c, *out, i);
      r.v.push_back(!ce ? std::nullopt : *ce ? broadcastAt(*a, *out, i) : broadcastAt(*b, *out, i));
    }
    return r;
  }
  auto fn = binary.find(op);
  if (fn == binary.end() || n.input_size() < 1)
    return std::nullopt;
  // Variadic Min/Max fold pairwise; the others take two inputs.
  const Known *first = input(n, 0);
  if (!first)
    return std::nullopt;
  Known acc = *first;
  for (int i = 1; i < n.input_size(); ++i) {
    const Known *b = input(n, i);
    if (!b || b->type != first->type)
      return std::nullopt;
    auto out = broadcast(acc.dims, b->dims);
    if (!out || !foldableCount(*out))
      return std::nullopt;
    Known r{comparisons.count(op) ? ::onnx::TensorProto::BOOL : acc.type, *out, {}};
    for (int64_t k = 0, e = product(*out); k < e; ++k) {
      const Elem &x = broadcastAt(acc, *out, k), &y = broadcastAt(*b, *out, k);
      r.v.push_back(x && y ? fn->second(*x, *y) : std::nullopt);
    }
    if (r.type == ::onnx::TensorProto::INT32)
      for (Elem &e : r.v)
        if (e && *e != int64_t(int32_t(*e)))
          return std::nullopt; // int32 overflow: leave it to the kernel's wrapping
    acc = std::move(r);
  }
  return n.input_size() >= 2 ? std::optional<Known>(acc) : std::nullopt;
}

std::optional<Known> Folder::gather(const ::onnx::NodeProto &n) {
  const Known *x = input(n, 0);
  auto idx = ints(n, 1);
  const Known *idxK = input(n, 1);
  if (!x || !idx || x->rank() == 0)
    return std::nullopt;
  auto axis = axisOf(intAttr(n, "axis", 0), x->rank());
  if (!axis)
    return std::nullopt;
  int64_t dim = x->dims[*axis];
  int64_t outer = product(x->dims, 0, *axis), inner = product(x->dims, *axis + 1);
  Known r{x->type, {}, {}};
  r.dims.insert(r.dims.end(), x->dims.begin(), x->dims.begin() + *axis);
  r.dims.insert(r.dims.end(), idxK->dims.begin(), idxK->dims.end());
  r.dims.insert(r.dims.end(), x->dims.begin() + *axis + 1, x->dims.end());
  if (!foldableCount(r.dims))
    return std::nullopt;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : *idx) {
      if (i < -dim || i >= dim)
        return std::nullopt; // out of range: the converted Gather reports it
      int64_t j = i < 0 ? i + dim : i;
      for (int64_t k = 0; k < inner; ++k)
        r.v.push_back(x->v[(o * dim + j) * inner + k]);
    }
  return r;
}

std::optional<Known> Folder::slice(const ::onnx::NodeProto &n) {
  const Known *x = input(n, 0);
  if (!x || x->rank() == 0)
    return std::nullopt;
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (opset < 10) {
    starts = intsAttr(n, "starts");
    ends = intsAttr(n, "ends");
    axes = intsAttr(n, "axes");
  } else {
    starts = ints(n, 1);
    ends = ints(n, 2);
    if (n.input_size() > 3 && !n.input(3).empty())
      if (!(axes = ints(n, 3)))
        return std::nullopt;
    if (n.input_size() > 4 && !n.input(4).empty())
      if (!(steps = ints(n, 4)))
        return std::nullopt;
  }
  if (!starts || !ends || starts->size() != ends->size())
    return std::nullopt;
  size_t count = starts->size();
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < count; ++i)
      axes->push_back(int64_t(i));
  }
  if (!steps)
    steps = std::vector<int64_t>(count, 1);
  if (axes->size() != count || steps->size() != count)
    return std::nullopt;
  int64_t r = x->rank();
  std::vector<int64_t> lo(r, 0), step(r, 1), len(x->dims);
  for (size_t i = 0; i < count; ++i) {
    auto ax = axisOf((*axes)[i], r);
    int64_t s = (*steps)[i];
    if (!ax || s == 0)
      return std::nullopt;
    int64_t d = x->dims[*ax];
    auto clampIdx = [&](int64_t v, int64_t minV, int64_t maxV) {
      if (v < 0)
        v = v < -d ? minV : v + d; // very negative values clamp to the low end
      return std::clamp(v, minV, maxV);
    };
    if (s == INT64_MIN)
      return std::nullopt;
    int64_t b, e;
    if (s > 0) {
      b = clampIdx((*starts)[i], 0, d);
      e = clampIdx((*ends)[i], 0, d);
      len[*ax] = e > b ? (e - b - 1) / s + 1 : 0;
    } else {
      b = clampIdx((*starts)[i], -1, d - 1);
      e = clampIdx((*ends)[i], -1, d - 1);
      if ((*ends)[i] < -d)
        e = -1;
      len[*ax] = b > e ? (b - e - 1) / (-s) + 1 : 0;
    }
    lo[*ax] = b;
    step[*ax] = s;
  }
  Known out{x->type, len, {}};
  int64_t total = product(len);
  for (int64_t f = 0; f < total; ++f) {
    int64_t rem = f, src = 0, stride = 1;
    for (int64_t d = r - 1; d >= 0; --d) {
      int64_t i = rem % len[d];
      rem /= len[d];
      src += (lo[d] + i * step[d]) * stride;
      stride *= x->dims[d];
    }
    out.v.push_back(x->v[src]);
  }
  return out;
}

std::optional<Known> Folder::concat(const ::onnx::NodeProto &n) {
  std::vector<const Known *> parts;
  for (int i = 0; i < n.input_size(); ++i) {
    const Known *k = input(n, i);
    if (!k || k->type != (parts.empty() ? k->type : parts[0]->type))
      return std::nullopt;
    parts.push_back(k);
  }
  if (parts.empty() || parts[0]->rank() == 0)
    return std::nullopt;
  auto axis = axisOf(intAttr(n, "axis", 0), parts[0]->rank());
  if (!axis)
    return std::nullopt;
  Known r{parts[0]->type, parts[0]->dims, {}};
  r.dims[*axis] = 0;
  for (const Known *k : parts) {
    if (k->rank() != r.rank())
      return std::nullopt;
    for (int64_t d = 0; d < k->rank(); ++d)
      if (d != *axis && k->dims[d] != r.dims[d])
        return std::nullopt;
    r.dims[*axis] += k->dims[*axis];
  }
  int64_t outer = product(r.dims, 0, *axis);
  for (int64_t o = 0; o < outer; ++o)
    for (const Known *k : parts) {
      int64_t chunk = product(k->dims, *axis);
      for (int64_t j = 0; j < chunk; ++j)
        r.v.push_back(k->v[o * chunk + j]);
    }
  return r;
}

} // namespace

llvm::Expected<unsigned> foldShapeComputations(::onnx::ModelProto &model,
                                               std::map<std::string, ::onnx::TypeProto> &typeHints) {
  return Folder(model, typeHints).run();
}

} // namespace sparq
