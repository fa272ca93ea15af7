//===- SparqONNXOps.td - sparq_onnx operations -------------*- tablegen -*-===//
#ifndef SPARQ_ONNX_OPS_TD
#define SPARQ_ONNX_OPS_TD

include "dialects/ONNX/SparqONNXDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

def SparqONNX_NodeOp : SparqONNX_Op<"node", [Pure]> {
  let summary = "one ONNX node, kept generic";
  let description = [{
    An ONNX node as imported. `op_type`, `domain` (empty for the default `ai.onnx` domain) and
    `opset` identify the operator version; `name` is the ONNX node name (possibly empty) and
    `attrs` holds the ONNX attributes: INT as `i64`, FLOAT as `f32`, STRING as a string, INTS as
    `array<i64>`, FLOATS as `array<f32>`, STRINGS as an array of strings and TENSOR as an elements
    attribute.

    Example:

    ```mlir
    %y = sparq_onnx.node "Conv"(%x, %w, %b) {attrs = {pads = array<i64: 1, 1, 1, 1>},
             domain = "", name = "conv1", opset = 13 : i64}
         : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```

    Graph-valued attributes (the branches of `If`, the bodies of `Loop` and `Scan`) are regions
    of the node, one per attribute, named in order by `subgraphs`. A region has one block whose
    arguments are the subgraph's inputs and which ends in `sparq_onnx.yield` of its outputs;
    it reads values of the enclosing graphs directly (ONNX's outer-scope references).

    ```mlir
    %r = sparq_onnx.node "If"(%cond) ({
      sparq_onnx.yield %a : tensor<2xf32>
    }, {
      sparq_onnx.yield %b : tensor<2xf32>
    }) {attrs = {}, domain = "", name = "if", opset = 16 : i64,
        subgraphs = ["then_branch", "else_branch"]} : (tensor<i1>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins
    StrAttr:$op_type,
    StrAttr:$domain,
    I64Attr:$opset,
    StrAttr:$name,
    DictionaryAttr:$attrs,
    OptionalAttr<StrArrayAttr>:$subgraphs,
    Variadic<AnyType>:$inputs);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region VariadicRegion<SizedRegion<1>>:$graphs);
  let assemblyFormat = [{
    $op_type `(` $inputs `)` (`(` $graphs^ `)`)? attr-dict `:` functional-type($inputs, $outputs)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::llvm::StringRef":$opType,
                   "::llvm::StringRef":$domain, "int64_t":$opset, "::llvm::StringRef":$name,
                   "::mlir::DictionaryAttr":$attrs, "::mlir::ValueRange":$inputs), [{
      build($_builder, $_state, resultTypes, opType, domain, opset, name, attrs,
            /*subgraphs=*/nullptr, inputs, /*graphsCount=*/0);
    }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The attribute `name` of the ONNX node, or null when absent.
    ::mlir::Attribute getOnnxAttr(::llvm::StringRef attrName) {
      return getAttrs().get(attrName);
    }
    /// The region holding the graph attribute `attrName` (e.g. "then_branch"), or null.
    ::mlir::Region *getSubgraph(::llvm::StringRef attrName);
    /// A human-readable identification: `'Conv' node 'conv1' (domain ai.onnx, opset 13)`.
    std::string describe();
  }];
}

def SparqONNX_YieldOp : SparqONNX_Op<"yield", [Pure, Terminator,
                                                 HasParent<"::sparq::onnx::NodeOp">]> {
  let summary = "the outputs of a subgraph";
  let description = [{
    Ends the region of a graph attribute (`If` branch, `Loop`/`Scan` body) with the subgraph's
    outputs, in the order the subgraph declares them.
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

def SparqONNX_NoneOp : SparqONNX_Op<"none", [Pure]> {
  let summary = "an absent optional ONNX input";
  let description = [{
    Stands for an ONNX optional input whose name is empty.

    ```mlir
    %none = sparq_onnx.none
    ```
  }];
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

#endif // SPARQ_ONNX_OPS_TD
