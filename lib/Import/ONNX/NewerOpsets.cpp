//===- lib/Import/ONNX/NewerOpsets.cpp - default-domain opsets 18-21 ----------------===//
//
// See NewerOpsets.h. The table of (re)definitions follows ONNX's Changelog.md for opsets 18
// to 21. The stand-ins only have to give libonnx's shape inference the same result types: the
// importer still imports each node as written, with its real opset, and the converter
// (passes/ONNXToLinalg) implements the newer definition.
//
//===----------------------------------------------------------------------===//
#include "lib/Import/ONNX/NewerOpsets.h"

#include "llvm/ADT/StringMap.h"

#include <onnx/defs/schema.h>
#include <onnx/onnx-ml.pb.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sparq {
namespace {

using T = ::onnx::TensorProto;

/// Each default-domain operator that opsets 18-21 defined or redefined, with those opsets.
const llvm::StringMap<std::vector<int64_t>> &definitions() {
  static const llvm::StringMap<std::vector<int64_t>> table = [] {
    llvm::StringMap<std::vector<int64_t>> m;
    auto add = [&](int64_t opset, std::initializer_list<const char *> ops) {
      for (const char *op : ops)
        m[op].push_back(opset);
    };
    add(18, {"BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "CenterCropPad", "Col2Im",
             "GroupNormalization", "LpPool", "Mish", "OptionalGetElement", "OptionalHasElement",
             "Pad", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
             "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare", "Resize",
             "ScatterElements", "ScatterND", "Split"});
    add(19, {"AveragePool", "Cast", "CastLike", "Constant", "DeformConv", "DequantizeLinear",
             "Equal", "Identity", "If", "Loop", "Pad", "QuantizeLinear", "Reshape", "Resize",
             "Scan", "Shape", "Size"});
    add(20, {"AffineGrid", "ConstantOfShape", "DFT", "Gelu", "GridSample", "ImageDecoder",
             "IsInf", "IsNaN", "ReduceMax", "ReduceMin", "RegexFullMatch", "StringConcat",
             "StringSplit"});
    add(21, {"Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten",
             "GroupNormalization", "Identity", "If", "Loop", "Pad", "QLinearMatMul",
             "QuantizeLinear", "Reshape", "Scan", "Shape", "Size", "Squeeze", "Transpose",
             "Unsqueeze"});
    return m;
  }();
  return table;
}

int64_t defaultOpsetOf(const ::onnx::ModelProto &model) {
  for (const auto &o : model.opset_import())
    if (isDefaultDomain(o.domain()))
      return o.version();
  return model.opset_import_size() == 0 ? 1 : 0;
}

/// The 8-bit type libonnx is shown for a 4-bit one.
int32_t eightBit(int32_t dataType) {
  return dataType == kOnnxInt4 ? T::INT8 : dataType == kOnnxUInt4 ? T::UINT8 : dataType;
}

void narrowType(::onnx::TypeProto &type) {
  if (type.has_tensor_type())
    type.mutable_tensor_type()->set_elem_type(eightBit(type.tensor_type().elem_type()));
}

void eraseAttr(::onnx::NodeProto &n, const std::string &name) {
  auto *attrs = n.mutable_attribute();
  for (int k = 0; k < attrs->size(); ++k)
    if ((*attrs)[k].name() == name)
      attrs->DeleteSubrange(k--, 1);
}

::onnx::AttributeProto *findAttr(::onnx::NodeProto &n, const std::string &name) {
  for (auto &a : *n.mutable_attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

bool hasInput(const ::onnx::NodeProto &n, int i) {
  return i < n.input_size() && !n.input(i).empty();
}

/// A 4-bit tensor (in a subgraph or attribute) as libonnx is shown it: the 8-bit type, its
/// values dropped (inference reads the type and dims; 4-bit values are never shapes).
void widenFourBitTensor(::onnx::TensorProto &t) {
  if (!isFourBit(t.data_type()))
    return;
  t.set_data_type(eightBit(t.data_type()));
  t.clear_int32_data();
  t.clear_raw_data();
  t.clear_data_location();
  t.clear_external_data();
}

class Presenter {
public:
  Presenter(::onnx::ModelProto &model, int64_t opset) : model(model), opset(opset) {}

  void run() {
    ::onnx::GraphProto &top = *model.mutable_graph();
    fourBitConstantsToInputs(top);
    graph(top);
  }

private:
  /// Top-level 4-bit initializers and Constant nodes become graph inputs of the 8-bit type
  /// (no bytes are copied in the child).
  void fourBitConstantsToInputs(::onnx::GraphProto &g) {
    auto asInput = [&](const std::string &name, int32_t dataType, const auto &dims) {
      ::onnx::ValueInfoProto *vi = nullptr;
      for (auto &in : *g.mutable_input())
        if (in.name() == name)
          vi = &in;
      if (!vi)
        vi = g.add_input();
      vi->set_name(name);
      auto *tt = vi->mutable_type()->mutable_tensor_type();
      tt->set_elem_type(eightBit(dataType));
      tt->clear_shape();
      auto *shape = tt->mutable_shape();
      for (int64_t d : dims)
        shape->add_dim()->set_dim_value(d);
    };
    auto *inits = g.mutable_initializer();
    for (int k = 0; k < inits->size(); ++k)
      if (isFourBit((*inits)[k].data_type())) {
        asInput((*inits)[k].name(), (*inits)[k].data_type(), (*inits)[k].dims());
        inits->DeleteSubrange(k--, 1);
      }
    auto *nodes = g.mutable_node();
    for (int k = 0; k < nodes->size(); ++k) {
      ::onnx::NodeProto &n = (*nodes)[k];
      if (!isDefaultDomain(n.domain()) || n.op_type() != "Constant" || n.output_size() != 1)
        continue;
      ::onnx::AttributeProto *v = findAttr(n, "value");
      if (!v || !v->has_t() || !isFourBit(v->t().data_type()))
        continue;
      asInput(n.output(0), v->t().data_type(), v->t().dims());
      nodes->DeleteSubrange(k--, 1);
    }
  }

  void graph(::onnx::GraphProto &g) {
    for (auto *vis : {g.mutable_input(), g.mutable_output(), g.mutable_value_info()})
      for (auto &vi : *vis)
        narrowType(*vi.mutable_type());
    for (auto &init : *g.mutable_initializer())
      widenFourBitTensor(init); // in subgraphs (small)
    for (auto &n : *g.mutable_node()) {
      for (auto &a : *n.mutable_attribute()) {
        if (a.has_t())
          widenFourBitTensor(*a.mutable_t());
        if (a.has_g())
          graph(*a.mutable_g());
        for (auto &sub : *a.mutable_graphs())
          graph(sub);
      }
      if (isDefaultDomain(n.domain()) && newerDefinition(n.op_type(), opset))
        standIn(n);
    }
  }

  /// A fresh top-level graph input of `elemType` and rank 1, unknown length: an operand whose
  /// value inference must not read.
  std::string unknownInput(int32_t elemType) {
    ::onnx::ValueInfoProto *vi = model.mutable_graph()->add_input();
    vi->set_name("sparq.unknown." + std::to_string(unknowns++));
    auto *tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elemType);
    tt->mutable_shape()->add_dim();
    return vi->name();
  }

  void keepInputs(::onnx::NodeProto &n, int count) {
    while (n.input_size() > count)
      n.mutable_input()->RemoveLast();
  }

  void becomes(::onnx::NodeProto &n, const char *opType, int inputs) {
    n.set_op_type(opType);
    n.clear_attribute();
    keepInputs(n, inputs);
  }

  void standIn(::onnx::NodeProto &n) {
    const std::string op = n.op_type();
    if (op == "Cast" || op == "CastLike") {
      eraseAttr(n, "saturate");
      if (auto *to = findAttr(n, "to"))
        to->set_i(eightBit(int32_t(to->i())));
    } else if (op == "QuantizeLinear") {
      // Its result type is the zero point's, else output_dtype's (uint8 by default).
      if (hasInput(n, 2)) {
        n.set_input(1, n.input(2));
        becomes(n, "CastLike", 2);
      } else {
        auto *dt = findAttr(n, "output_dtype");
        int64_t to = dt && dt->i() != 0 ? eightBit(int32_t(dt->i())) : T::UINT8;
        becomes(n, "Cast", 1);
        ::onnx::AttributeProto *a = n.add_attribute();
        a->set_name("to");
        a->set_type(::onnx::AttributeProto::INT);
        a->set_i(to);
      }
    } else if (op == "DequantizeLinear") {
      becomes(n, "CastLike", 2); // the result has the scale's type and the input's shape
    } else if (op.rfind("Reduce", 0) == 0) {
      n.set_op_type("ReduceSum"); // ReduceSum-13: axes input, keepdims, noop_with_empty_axes
    } else if (op == "Pad") {
      if (auto *mode = findAttr(n, "mode"); mode && mode->s() == "wrap")
        mode->set_s("constant");
      if (hasInput(n, 3)) {
        n.set_input(1, unknownInput(T::INT64));
        keepInputs(n, 3);
      }
    } else if (op == "Resize") {
      auto *policy = findAttr(n, "keep_aspect_ratio_policy");
      bool exactShape = !findAttr(n, "axes") && (!policy || policy->s() == "stretch");
      for (const char *a : {"antialias", "axes", "keep_aspect_ratio_policy"})
        eraseAttr(n, a);
      if (auto *ctm = findAttr(n, "coordinate_transformation_mode");
          ctm && ctm->s() == "half_pixel_symmetric")
        ctm->set_s("half_pixel");
      if (!exactShape) {
        if (hasInput(n, 2))
          n.set_input(2, unknownInput(T::FLOAT));
        if (hasInput(n, 3))
          n.set_input(3, unknownInput(T::INT64));
      }
    } else if (op == "ScatterElements" || op == "ScatterND") {
      if (auto *r = findAttr(n, "reduction"); r && (r->s() == "max" || r->s() == "min"))
        r->set_s("add");
    } else if (op == "Split") {
      if (findAttr(n, "num_outputs")) {
        eraseAttr(n, "num_outputs");
        if (!hasInput(n, 1)) {
          keepInputs(n, 1);
          n.add_input(unknownInput(T::INT64));
        }
      }
    } else if (op == "AveragePool" || op == "LpPool") {
      // MaxPool-12 has the same output-shape rule, dilations included.
      n.set_op_type("MaxPool");
      eraseAttr(n, "count_include_pad");
      eraseAttr(n, "p");
    } else if (op == "DFT") {
      // DFT-20 takes the axis as input 2 (default -2); DFT-17 as an attribute (default 1).
      int64_t axis = -2;
      if (hasInput(n, 2))
        if (auto v = constantInt(n.input(2)))
          axis = *v;
      keepInputs(n, 2);
      eraseAttr(n, "axis");
      ::onnx::AttributeProto *a = n.add_attribute();
      a->set_name("axis");
      a->set_type(::onnx::AttributeProto::INT);
      a->set_i(axis);
    } else if (op == "GridSample") {
      if (auto *mode = findAttr(n, "mode"))
        mode->set_s(mode->s() == "linear" ? "bilinear" : mode->s() == "cubic" ? "bicubic"
                                                                               : mode->s());
    } else if (op == "Mish" || op == "Gelu" || op == "BitwiseNot" ||
               op == "GroupNormalization") {
      becomes(n, "Identity", 1); // same type and shape as input 0
    } else if (op == "BitwiseAnd" || op == "BitwiseOr" || op == "BitwiseXor") {
      becomes(n, "Add", 2); // the broadcast shape, the inputs' type
    }
    // The others only widened their type constraints (opsets 19 and 21), or are operators
    // sparq does not convert, which the importer names.
  }

  /// The value of a top-level scalar int64 initializer or Constant, if `name` is one.
  std::optional<int64_t> constantInt(const std::string &name) {
    auto read = [](const ::onnx::TensorProto &t) -> std::optional<int64_t> {
      if (t.data_type() != T::INT64)
        return std::nullopt;
      if (t.int64_data_size() == 1)
        return t.int64_data(0);
      if (t.raw_data().size() == 8) {
        int64_t v;
        std::memcpy(&v, t.raw_data().data(), 8);
        return v;
      }
      return std::nullopt;
    };
    for (const auto &init : model.graph().initializer())
      if (init.name() == name)
        return read(init);
    for (const auto &n : model.graph().node())
      if (n.op_type() == "Constant" && n.output_size() == 1 && n.output(0) == name)
        for (const auto &a : n.attribute())
          if (a.name() == "value" && a.has_t())
            return read(a.t());
    return std::nullopt;
  }

  ::onnx::ModelProto &model;
  int64_t opset;
  int unknowns = 0;
};

/// The data movement operators that carry their input's element type to their result.
bool carriesElementType(const std::string &op) {
  return op == "Identity" || op == "Reshape" || op == "Transpose" || op == "Flatten" ||
         op == "Squeeze" || op == "Unsqueeze";
}

} // namespace

int64_t libonnxDefaultOpset() {
  const auto &ranges = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = ranges.find("");
  return it == ranges.end() ? 0 : it->second.second;
}

std::optional<int64_t> newerDefinition(llvm::StringRef opType, int64_t opset) {
  const int64_t known = libonnxDefaultOpset();
  if (opset <= known)
    return std::nullopt;
  auto it = definitions().find(opType);
  if (it == definitions().end())
    return std::nullopt;
  std::optional<int64_t> def;
  for (int64_t v : it->second)
    if (v > known && v <= opset)
      def = v;
  return def;
}

bool isNewerOnlyOperator(llvm::StringRef opType) {
  auto it = definitions().find(opType);
  return it != definitions().end() &&
         !::onnx::OpSchemaRegistry::Schema(opType.str(), int(libonnxDefaultOpset()), "");
}

void presentToLibonnx(::onnx::ModelProto &model) {
  const int64_t opset = defaultOpsetOf(model);
  if (opset > libonnxDefaultOpset())
    for (auto &o : *model.mutable_opset_import())
      if (isDefaultDomain(o.domain()))
        o.set_version(libonnxDefaultOpset());
  Presenter(model, opset).run();
}

void restoreNewerTypes(::onnx::ModelProto &model) {
  ::onnx::GraphProto &g = *model.mutable_graph();
  // The element type each value has in the model, where it is 4-bit.
  std::map<std::string, int32_t> fourBit;
  for (const auto &init : g.initializer())
    if (isFourBit(init.data_type()))
      fourBit[init.name()] = init.data_type();
  if (defaultOpsetOf(model) <= libonnxDefaultOpset() && fourBit.empty())
    return;
  auto typeOf = [&](const ::onnx::NodeProto &n, int i) -> int32_t {
    if (!hasInput(n, i))
      return 0;
    auto it = fourBit.find(n.input(i));
    return it == fourBit.end() ? 0 : it->second;
  };
  for (const auto &n : g.node()) {
    if (!isDefaultDomain(n.domain()) || n.output_size() == 0)
      continue;
    int32_t t = 0;
    const std::string &op = n.op_type();
    if (op == "Constant") {
      for (const auto &a : n.attribute())
        if (a.name() == "value" && a.has_t())
          t = a.t().data_type();
    } else if (op == "QuantizeLinear") {
      t = typeOf(n, 2);
      for (const auto &a : n.attribute())
        if (a.name() == "output_dtype")
          t = int32_t(a.i());
    } else if (op == "Cast") {
      for (const auto &a : n.attribute())
        if (a.name() == "to")
          t = int32_t(a.i());
    } else if (op == "CastLike") {
      t = typeOf(n, 1);
    } else if (carriesElementType(op)) {
      t = typeOf(n, 0);
    }
    if (isFourBit(t))
      fourBit[n.output(0)] = t;
  }
  for (auto *vis : {g.mutable_value_info(), g.mutable_output()})
    for (auto &vi : *vis)
      if (auto it = fourBit.find(vi.name());
          it != fourBit.end() && vi.type().has_tensor_type())
        vi.mutable_type()->mutable_tensor_type()->set_elem_type(it->second);
}

} // namespace sparq
