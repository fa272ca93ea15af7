//===- lib/Import/ONNX/FunctionExpansion.cpp - inline ONNX function bodies ------------===//
//
// ONNX defines many operators as functions of others (the `_expanded` backend tests are those
// bodies written out). A node that sparq does not convert is replaced by its schema's body, so
// that every operator built from supported ones is supported too. See GraphSimplify.h.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/GraphSimplify.h"
#include "lib/Import/ONNX/ModelCheck.h"
#include "lib/Import/ONNX/NewerOpsets.h"

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace sparq {
namespace {


/// The function body of `node` at `opset`, or false when its schema defines none (or one sparq
/// cannot inline: bodies holding subgraphs).
bool functionBody(const ::onnx::OpSchema &schema, const ::onnx::NodeProto &node,
                  const std::vector<::onnx::TypeProto> &inputTypes, ::onnx::FunctionProto &body) {
  if (schema.HasContextDependentFunction()) {
    ::onnx::FunctionBodyBuildContextImpl ctx(node, inputTypes);
    try {
      if (!schema.BuildContextDependentFunction(ctx, body))
        return false;
    } catch (const std::exception &) {
      return false; // the builder rejects this node (e.g. an input type it cannot handle)
    }
  } else if (schema.HasFunction()) {
    body = *schema.GetFunction();
  } else {
    return false;
  }
  for (const auto &n : body.node())
    for (const auto &a : n.attribute())
      if (a.has_g() || a.graphs_size() > 0)
        return false;
  return body.node_size() > 0;
}

class Expander {
public:
  explicit Expander(const ::onnx::GraphProto &graph) {
    for (const auto &vi : graph.input())
      types[vi.name()] = vi.type();
    for (const auto &vi : graph.value_info())
      types[vi.name()] = vi.type();
    for (const auto &init : graph.initializer()) {
      ::onnx::TypeProto t;
      auto *tt = t.mutable_tensor_type();
      tt->set_elem_type(init.data_type());
      for (int64_t d : init.dims())
        tt->mutable_shape()->add_dim()->set_dim_value(d);
      types[init.name()] = t;
    }
    auto note = [&](const std::string &s) { names.insert(s); };
    for (const auto &vi : graph.input())
      note(vi.name());
    for (const auto &init : graph.initializer())
      note(init.name());
    for (const auto &n : graph.node()) {
      for (const auto &s : n.output())
        note(s);
      note(n.name());
    }
  }

  /// Appends the body of `node` to `out` with its values bound and renamed.
  void inlineBody(const ::onnx::NodeProto &node, const ::onnx::OpSchema &schema,
                  const ::onnx::FunctionProto &body,
                  google::protobuf::RepeatedPtrField<::onnx::NodeProto> &out) {
    std::string prefix = uniquePrefix(node);
    std::unordered_map<std::string, std::string> rename;
    for (int i = 0; i < body.input_size(); ++i)
      rename[body.input(i)] = i < node.input_size() ? node.input(i) : std::string();
    for (int i = 0; i < body.output_size(); ++i)
      if (i < node.output_size() && !node.output(i).empty())
        rename[body.output(i)] = node.output(i);
    auto bound = [&](const std::string &name) -> std::string {
      if (name.empty())
        return name;
      auto it = rename.find(name);
      return it != rename.end() ? it->second : prefix + name;
    };
    std::map<std::string, const ::onnx::AttributeProto *> nodeAttrs;
    for (const auto &a : node.attribute())
      nodeAttrs[a.name()] = &a;

    for (int k = 0; k < body.node_size(); ++k) {
      const auto &src = body.node(k);
      ::onnx::NodeProto *dst = out.Add();
      dst->set_op_type(src.op_type());
      dst->set_domain(src.domain());
      dst->set_name(prefix + (src.name().empty() ? src.op_type() + std::to_string(k) : src.name()));
      for (const auto &in : src.input())
        dst->add_input(bound(in));
      for (const auto &o : src.output())
        dst->add_output(bound(o));
      for (const auto &a : src.attribute()) {
        if (a.ref_attr_name().empty()) {
          *dst->add_attribute() = a;
          continue;
        }
        // An attribute reference: the node's value, else the schema's default, else absent.
        const ::onnx::AttributeProto *value = nullptr;
        if (auto it = nodeAttrs.find(a.ref_attr_name()); it != nodeAttrs.end())
          value = it->second;
        else if (auto s = schema.attributes().find(a.ref_attr_name());
                 s != schema.attributes().end() && s->second.default_value.type() != 0)
          value = &s->second.default_value;
        if (!value)
          continue;
        ::onnx::AttributeProto *copy = dst->add_attribute();
        *copy = *value;
        copy->set_name(a.name());
      }
    }
  }

  std::vector<::onnx::TypeProto> inputTypes(const ::onnx::NodeProto &node) {
    std::vector<::onnx::TypeProto> result;
    for (const auto &in : node.input()) {
      auto it = types.find(in);
      result.push_back(it != types.end() ? it->second : ::onnx::TypeProto());
    }
    return result;
  }

private:
  std::string uniquePrefix(const ::onnx::NodeProto &node) {
    std::string base = node.name().empty() ? node.op_type() : node.name();
    for (unsigned i = 0;; ++i) {
      std::string prefix = base + "/" + node.op_type() + "." + std::to_string(i) + "/";
      if (!prefixes.count(prefix) &&
          llvm::none_of(names, [&](const std::string &n) { return llvm::StringRef(n).starts_with(prefix); })) {
        prefixes.insert(prefix);
        return prefix;
      }
    }
  }

  std::unordered_map<std::string, ::onnx::TypeProto> types;
  std::set<std::string> names, prefixes;
};

/// Whether a body libonnx wrote for opset 17 or older uses an operator that the model's newer
/// opset redefined (a ReduceMean with an `axes` attribute read at opset 18): its nodes would be
/// read with the wrong definition, so the node is left to the converter (NewerOpsets.h).
bool bodyUsesNewerDefinitions(const ::onnx::FunctionProto &body, int64_t opset) {
  return llvm::any_of(body.node(), [&](const ::onnx::NodeProto &n) {
    return isDefaultDomain(n.domain()) && newerDefinition(n.op_type(), opset);
  });
}

} // namespace

llvm::Expected<unsigned> expandFunctionNodes(::onnx::ModelProto &model, const OpFilter &converted) {
  std::map<std::string, int64_t> opsets;
  for (const auto &o : model.opset_import())
    opsets[isDefaultDomain(o.domain()) ? "" : o.domain()] = o.version();
  ::onnx::GraphProto &graph = *model.mutable_graph();
  Expander expander(graph);
  google::protobuf::RepeatedPtrField<::onnx::NodeProto> nodes;
  unsigned expanded = 0;
  for (const auto &node : graph.node()) {
    std::string domain = isDefaultDomain(node.domain()) ? "" : node.domain();
    auto opset = opsets.find(domain);
    const ::onnx::OpSchema *schema =
        opset == opsets.end()
            ? nullptr
            : ::onnx::OpSchemaRegistry::Schema(node.op_type(), int(opset->second), domain);
    ::onnx::FunctionProto body;
    if (!schema || converted(node.op_type(), domain, opset->second) ||
        !functionBody(*schema, node, expander.inputTypes(node), body) ||
        bodyUsesNewerDefinitions(body, opset->second)) {
      *nodes.Add() = node;
      continue;
    }
    expander.inlineBody(node, *schema, body, nodes);
    ++expanded;
  }
  if (expanded)
    graph.mutable_node()->Swap(&nodes);
  return expanded;
}

} // namespace sparq
