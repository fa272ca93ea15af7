//===- SparqONNXDialect.td - sparq_onnx dialect definition -*- tablegen -*-===//
#ifndef SPARQ_ONNX_DIALECT_TD
#define SPARQ_ONNX_DIALECT_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpBase.td"

def SparqONNX_Dialect : Dialect {
  let name = "sparq_onnx";
  let summary = "ONNX graphs as imported, one generic op per ONNX node";
  let description = [{
    The `sparq_onnx` dialect holds an ONNX graph exactly as the importer read it. Every ONNX node
    becomes one `sparq_onnx.node` op that keeps the node's `op_type`, `domain`, the opset version
    that was in force for that domain, the node name and all ONNX attributes. Tensor element types
    keep ONNX signedness (`ui8`, `si8`...) so that conversions can pick signed or unsigned
    arithmetic; the conversion to upstream dialects turns them into signless integers.

    Absent optional inputs are the result of `sparq_onnx.none`. Initializers and Constant nodes are
    imported as `arith.constant` (large ones as `dense_resource` blobs).

    ONNX `string` elements are `!sparq_onnx.string`.
  }];
  let cppNamespace = "::sparq::onnx";
  let useDefaultTypePrinterParser = 1;
}

def SparqONNX_StringType : TypeDef<SparqONNX_Dialect, "String"> {
  let mnemonic = "string";
  let summary = "an ONNX string element";
  let description = [{
    One element of an ONNX `string` tensor (`tensor<4x!sparq_onnx.string>`). The conversion to
    upstream dialects represents it as an `i64` holding the address of a NUL-terminated byte
    string (docs/strings.md): data movement treats it like any 64-bit element, and the
    string operators call run-time kernels.
  }];
}

class SparqONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparqONNX_Dialect, mnemonic, traits>;

#endif // SPARQ_ONNX_DIALECT_TD
