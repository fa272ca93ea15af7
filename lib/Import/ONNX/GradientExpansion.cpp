//===- lib/Import/ONNX/GradientExpansion.cpp - Gradient as backward nodes ---------------===//
//
// ai.onnx.preview.training's Gradient node asks for the derivatives of a graph value y with
// respect to graph values xs. It is replaced by reverse-mode differentiation written out as
// ordinary ONNX nodes (GraphSimplify.h): the seed is a tensor of ones shaped like y (so a
// non-scalar y is differentiated as sum(y)), each node between xs and y contributes the
// derivative of its inputs by its rule, contributions to one value add up, and broadcast
// operands get their gradient summed over the broadcast dimensions.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/GraphSimplify.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace sparq {
namespace {

constexpr const char *kTrainingDomain = "ai.onnx.preview.training";

/// Operators whose derivative sparq writes out, for the error message.
constexpr const char *kDifferentiated = "Add, Sub, Mul, Div, Neg, Identity, Relu, Exp, Log, "
                                        "Sqrt, Tanh, Sigmoid, Sum, MatMul (rank 2)";

llvm::Error error(const ::onnx::NodeProto &node, const llvm::Twine &msg) {
  std::string name = node.name().empty() ? std::string() : " '" + node.name() + "'";
  return llvm::createStringError("'Gradient' node" + name + " (domain " + kTrainingDomain +
                                 "): " + msg);
}

class Differentiator {
public:
  Differentiator(const ::onnx::GraphProto &graph, const ::onnx::NodeProto &grad, int64_t opset,
                 std::set<std::string> &names)
      : grad(grad), opset(opset), names(names) {
    for (const auto &vi : graph.input())
      types[vi.name()] = &vi.type();
    for (const auto &vi : graph.value_info())
      types[vi.name()] = &vi.type();
    for (const auto &vi : graph.output())
      types[vi.name()] = &vi.type();
    base = (grad.name().empty() ? std::string("Gradient") : grad.name()) + "/d.";
  }

  /// Appends to `out` the nodes that compute the Gradient node's outputs from the nodes
  /// `forward` (the graph's nodes before it, in topological order).
  llvm::Error run(const std::vector<const ::onnx::NodeProto *> &forward,
                  google::protobuf::RepeatedPtrField<::onnx::NodeProto> &out) {
    this->out = &out;
    std::vector<std::string> xs, ys;
    for (const auto &a : grad.attribute()) {
      if (a.name() == "xs")
        xs.assign(a.strings().begin(), a.strings().end());
      else if (a.name() == "y")
        ys.push_back(a.s());
    }
    if (xs.empty() || ys.size() != 1 || ys[0].empty())
      return error(grad, "needs the attributes 'xs' (a list of names) and 'y' (a name)");
    const std::string &y = ys[0];
    if (grad.output_size() != int(xs.size()))
      return error(grad, "has " + llvm::Twine(grad.output_size()) + " outputs for " +
                             llvm::Twine(xs.size()) + " names in 'xs'");
    for (size_t i = 0; i < xs.size(); ++i)
      if (int(i) >= grad.input_size() || grad.input(int(i)) != xs[i])
        return error(grad, "input " + llvm::Twine(i) + " must be the value xs[" + llvm::Twine(i) +
                               "] = '" + xs[i] +
                               "' itself (sparq differentiates the graph as it computes it)");
    auto yType = types.find(y);
    if (yType == types.end() || !yType->second->has_tensor_type())
      return error(grad, "the type of y = '" + y + "' is unknown");
    elemType = yType->second->tensor_type().elem_type();
    if (elemType != ::onnx::TensorProto::FLOAT && elemType != ::onnx::TensorProto::DOUBLE)
      return error(grad, "y = '" + y + "' is not float or double");

    // The nodes between xs and y: those that read a value depending on xs and feed y.
    std::set<std::string> dependsOnX(xs.begin(), xs.end());
    std::vector<const ::onnx::NodeProto *> onPath;
    for (const auto *n : forward)
      if (llvm::any_of(n->input(), [&](const std::string &s) { return dependsOnX.count(s); }))
        for (const auto &o : n->output())
          dependsOnX.insert(o);
    std::set<std::string> feedsY{y};
    for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
      const auto *n = *it;
      if (!llvm::any_of(n->output(), [&](const std::string &s) { return feedsY.count(s); }))
        continue;
      for (const auto &in : n->input())
        feedsY.insert(in);
      if (llvm::any_of(n->input(), [&](const std::string &s) { return dependsOnX.count(s); }))
        onPath.push_back(n); // reverse topological order
    }

    grads[y] = fill(y, 1.0);
    for (const auto *n : onPath) {
      std::vector<std::string> gOut;
      bool any = false;
      for (const auto &o : n->output()) {
        auto it = grads.find(o);
        gOut.push_back(it == grads.end() ? std::string() : it->second);
        any |= it != grads.end();
      }
      if (!any)
        continue;
      if (llvm::Error err = backward(*n, gOut, dependsOnX))
        return err;
    }
    for (size_t i = 0; i < xs.size(); ++i) {
      auto it = grads.find(xs[i]);
      std::string g = it != grads.end() ? it->second : fill(xs[i], 0.0);
      emit("Identity", {g}, {}, grad.output(int(i)));
    }
    return llvm::Error::success();
  }

private:
  /// Adds the derivatives of `n`'s inputs (those that depend on xs) given its output gradients.
  llvm::Error backward(const ::onnx::NodeProto &n, const std::vector<std::string> &gOut,
                       const std::set<std::string> &dependsOnX) {
    const std::string &op = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return unsupported(n);
    const std::string &g = gOut[0];
    auto in = [&](int i) { return n.input(i); };
    auto wanted = [&](int i) { return i < n.input_size() && dependsOnX.count(in(i)); };
    // Elementwise operators broadcast their inputs: the gradient is summed back to each
    // input's shape. Contractions (`elementwise` false) give gradients of the input's shape.
    auto give = [&](int i, const std::string &gi, bool elementwise = true) -> llvm::Error {
      if (!wanted(i))
        return llvm::Error::success();
      if (!elementwise) {
        accumulate(in(i), gi);
        return llvm::Error::success();
      }
      auto reduced = reduceTo(gi, n.output(0), in(i));
      if (!reduced)
        return reduced.takeError();
      accumulate(in(i), *reduced);
      return llvm::Error::success();
    };
    if (g.empty())
      return llvm::Error::success(); // only other outputs reach y: not one of these operators
    if (op == "Add" || op == "Sum" || op == "Identity") {
      for (int i = 0; i < n.input_size(); ++i)
        if (llvm::Error e = give(i, g))
          return e;
      return llvm::Error::success();
    }
    if (op == "Sub") {
      if (llvm::Error e = give(0, g))
        return e;
      return wanted(1) ? give(1, emit("Neg", {g})) : llvm::Error::success();
    }
    if (op == "Neg")
      return give(0, emit("Neg", {g}));
    if (op == "Mul") {
      if (wanted(0))
        if (llvm::Error e = give(0, emit("Mul", {g, in(1)})))
          return e;
      return wanted(1) ? give(1, emit("Mul", {g, in(0)})) : llvm::Error::success();
    }
    if (op == "Div") { // d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b
      if (wanted(0))
        if (llvm::Error e = give(0, emit("Div", {g, in(1)})))
          return e;
      if (!wanted(1))
        return llvm::Error::success();
      return give(1, emit("Neg", {emit("Div", {emit("Mul", {g, n.output(0)}), in(1)})}));
    }
    if (op == "Relu") // g where x > 0
      return give(0, emit("Mul", {g, cast(emit("Greater", {in(0), scalar(0.0)}))}));
    if (op == "Exp")
      return give(0, emit("Mul", {g, n.output(0)}));
    if (op == "Log")
      return give(0, emit("Div", {g, in(0)}));
    if (op == "Sqrt")
      return give(0, emit("Div", {g, emit("Mul", {scalar(2.0), n.output(0)})}));
    if (op == "Tanh") // 1 - tanh²
      return give(0, emit("Mul", {g, emit("Sub", {scalar(1.0),
                                                  emit("Mul", {n.output(0), n.output(0)})})}));
    if (op == "Sigmoid") // s (1 - s)
      return give(0, emit("Mul", {g, emit("Mul", {n.output(0),
                                                  emit("Sub", {scalar(1.0), n.output(0)})})}));
    if (op == "MatMul" && rank(in(0)) == 2 && rank(in(1)) == 2) {
      if (wanted(0))
        if (llvm::Error e = give(0, emit("MatMul", {g, transposed(in(1))}), false))
          return e;
      return wanted(1) ? give(1, emit("MatMul", {transposed(in(0)), g}), false)
                       : llvm::Error::success();
    }
    return unsupported(n);
  }

  llvm::Error unsupported(const ::onnx::NodeProto &n) {
    std::string name = n.name().empty() ? std::string() : " '" + n.name() + "'";
    return error(grad, "the '" + n.op_type() + "' node" + name +
                           " lies between xs and y, and sparq does not differentiate it "
                           "(it does: " + kDifferentiated + ")");
  }

  /// `g` (shaped like `result`) summed over the dimensions along which `operand` was broadcast
  /// to `result`'s shape.
  llvm::Expected<std::string> reduceTo(const std::string &g, const std::string &result,
                                       const std::string &operand) {
    const ::onnx::TensorShapeProto *rs = shape(result), *os = shape(operand);
    if (!rs || !os)
      return error(grad, "the shape of '" + (rs ? operand : result) + "' is unknown");
    auto same = [](const ::onnx::TensorShapeProto_Dimension &a,
                   const ::onnx::TensorShapeProto_Dimension &b) {
      if (a.has_dim_value() && b.has_dim_value())
        return a.dim_value() == b.dim_value();
      return a.has_dim_param() && b.has_dim_param() && !a.dim_param().empty() &&
             a.dim_param() == b.dim_param();
    };
    int lead = rs->dim_size() - os->dim_size();
    bool equal = lead == 0;
    for (int d = 0; equal && d < os->dim_size(); ++d)
      equal = same(os->dim(d), rs->dim(d));
    if (equal)
      return g;
    std::vector<int64_t> axes, target;
    for (int d = 0; d < rs->dim_size(); ++d) {
      if (!rs->dim(d).has_dim_value())
        return error(grad, "'" + operand + "' is broadcast to the dynamic shape of '" + result +
                               "'; sparq sums gradients over static broadcast dimensions only");
      if (d < lead)
        axes.push_back(d);
      else if (!os->dim(d - lead).has_dim_value())
        return error(grad, "'" + operand + "' has a dynamic dimension broadcast to '" + result +
                               "'");
      else if (os->dim(d - lead).dim_value() != rs->dim(d).dim_value())
        axes.push_back(d);
    }
    for (const auto &d : os->dim())
      target.push_back(d.dim_value());
    // keepdims defaults to 1; the axes are an input from opset 13 on, an attribute before.
    std::string sum;
    if (opset >= 13) {
      sum = emit("ReduceSum", {g, ints(axes)});
    } else {
      ::onnx::AttributeProto a;
      a.set_name("axes");
      a.set_type(::onnx::AttributeProto::INTS);
      for (int64_t x : axes)
        a.add_ints(x);
      sum = emit("ReduceSum", {g}, {a});
    }
    return emit("Reshape", {sum, ints(target)});
  }

  void accumulate(const std::string &value, const std::string &g) {
    auto [it, fresh] = grads.emplace(value, g);
    if (!fresh)
      it->second = emit("Add", {it->second, g});
  }

  const ::onnx::TensorShapeProto *shape(const std::string &value) {
    auto it = types.find(value);
    if (it == types.end() || !it->second->has_tensor_type() ||
        !it->second->tensor_type().has_shape())
      return nullptr;
    return &it->second->tensor_type().shape();
  }
  int rank(const std::string &value) {
    const auto *s = shape(value);
    return s ? s->dim_size() : -1;
  }

  std::string fresh(const std::string &hint) {
    for (;;) {
      std::string name = base + std::to_string(counter++) + "/" + hint;
      if (names.insert(name).second)
        return name;
    }
  }
  /// Appends a node and returns its (one) output: `output` when given, else a fresh name.
  std::string emit(const std::string &op, const std::vector<std::string> &inputs,
                   const std::vector<::onnx::AttributeProto> &attrs = {},
                   const std::string &output = {}) {
    ::onnx::NodeProto *n = out->Add();
    n->set_op_type(op);
    std::string result = output.empty() ? fresh(op) : output;
    n->set_name(fresh(op + "_node"));
    for (const auto &s : inputs)
      n->add_input(s);
    n->add_output(result);
    for (const auto &a : attrs)
      *n->add_attribute() = a;
    return result;
  }
  static ::onnx::AttributeProto intAttr(const std::string &name, int64_t v) {
    ::onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  static ::onnx::AttributeProto tensorAttr(const ::onnx::TensorProto &t) {
    ::onnx::AttributeProto a;
    a.set_name("value");
    a.set_type(::onnx::AttributeProto::TENSOR);
    *a.mutable_t() = t;
    return a;
  }
  ::onnx::TensorProto scalarTensor(double v, std::vector<int64_t> dims) {
    ::onnx::TensorProto t;
    t.set_data_type(elemType);
    for (int64_t d : dims)
      t.add_dims(d);
    if (elemType == ::onnx::TensorProto::DOUBLE)
      t.add_double_data(v);
    else
      t.add_float_data(float(v));
    return t;
  }
  /// A scalar constant of y's element type.
  std::string scalar(double v) { return emit("Constant", {}, {tensorAttr(scalarTensor(v, {}))}); }
  std::string ints(const std::vector<int64_t> &v) {
    ::onnx::TensorProto t;
    t.set_data_type(::onnx::TensorProto::INT64);
    t.add_dims(int64_t(v.size()));
    for (int64_t x : v)
      t.add_int64_data(x);
    return emit("Constant", {}, {tensorAttr(t)});
  }
  /// A tensor shaped like `like`, every element `v`.
  std::string fill(const std::string &like, double v) {
    return emit("ConstantOfShape", {emit("Shape", {like})}, {tensorAttr(scalarTensor(v, {1}))});
  }
  std::string cast(const std::string &x) { return emit("Cast", {x}, {intAttr("to", elemType)}); }
  std::string transposed(const std::string &x) { return emit("Transpose", {x}); }

  const ::onnx::NodeProto &grad;
  int64_t opset;
  std::set<std::string> &names;
  std::map<std::string, const ::onnx::TypeProto *> types;
  std::map<std::string, std::string> grads; // value -> its gradient
  google::protobuf::RepeatedPtrField<::onnx::NodeProto> *out = nullptr;
  std::string base;
  unsigned counter = 0;
  int32_t elemType = 0;
};

} // namespace

llvm::Expected<unsigned> expandGradientNodes(::onnx::ModelProto &model) {
  ::onnx::GraphProto &graph = *model.mutable_graph();
  if (llvm::none_of(graph.node(), [](const ::onnx::NodeProto &n) {
        return n.op_type() == "Gradient" && n.domain() == kTrainingDomain;
      }))
    return 0;
  int64_t opset = 1;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  std::set<std::string> names;
  for (const auto &vi : graph.input())
    names.insert(vi.name());
  for (const auto &init : graph.initializer())
    names.insert(init.name());
  for (const auto &n : graph.node()) {
    names.insert(n.name());
    names.insert(n.output().begin(), n.output().end());
  }
  google::protobuf::RepeatedPtrField<::onnx::NodeProto> nodes;
  std::vector<const ::onnx::NodeProto *> forward;
  unsigned expanded = 0;
  for (const auto &node : graph.node()) {
    if (node.op_type() != "Gradient" || node.domain() != kTrainingDomain) {
      *nodes.Add() = node;
      forward.push_back(&node);
      continue;
    }
    Differentiator d(graph, node, opset, names);
    if (llvm::Error err = d.run(forward, nodes))
      return std::move(err);
    ++expanded;
  }
  graph.mutable_node()->Swap(&nodes);
  return expanded;
}

} // namespace sparq
