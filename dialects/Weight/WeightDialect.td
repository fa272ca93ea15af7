//===- WeightDialect.td - sparq_weight dialect definition --*- tablegen -*-===//
#ifndef SPARQ_WEIGHT_DIALECT_TD
#define SPARQ_WEIGHT_DIALECT_TD

include "mlir/IR/OpBase.td"

def SparqWeight_Dialect : Dialect {
  let name = "sparq_weight";
  let summary = "compressed weights as ordered lists of composable weight formats";
  let description = [{
    The scheme-independent core of weight compression. A compressed weight is described by an
    ordered list of *weight formats* — attributes of the scheme dialects (`sparq_nm`,
    `sparq_quant`, `sparq_shiftadd`, `sparq_mx`, …) that implement
    `WeightFormatAttrInterface` — applied to the canonical `[rows, K]` weight (one row per output
    channel, K the reduction dimension) in list order: `[#sparq_nm.pattern<2:4>,
    #sparq_quant.scheme<bits = 4, signed, symmetric, group = 128>]` prunes to 2:4 first and then
    quantizes the kept values.

    A format is either a *transform* (N:M sparsity: it stores its own metadata and hands a
    smaller `[rows, K']` value matrix to the next format) or an *encoding* (quantization,
    binary coding, microscaling floats: it stores the values itself and ends the list). A list
    that ends with a transform stores the remaining values as an f32 operand. Each format owns a
    fixed number of packed operands whose types it derives from `rows` and `K`; the operands of
    a consumer are those of every format in list order, then the trailing f32 values if any.

    The consumers, `sparq_weight.linear` and `sparq_weight.conv2d`, are generic over the list:
    adding a scheme adds no op and no lowering here. `sparq_weight.decode` expands a packed weight
    to its dense `[rows, K]` form.
  }];
  let cppNamespace = "::sparq::weight";
}

class SparqWeight_Op<string mnemonic, list<Trait> traits = []>
    : Op<SparqWeight_Dialect, mnemonic, traits>;

#endif // SPARQ_WEIGHT_DIALECT_TD
