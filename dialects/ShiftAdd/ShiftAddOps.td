//===- ShiftAddOps.td - sparq_shiftadd operations ----------*- tablegen -*-===//
#ifndef SPARQ_SHIFTADD_OPS_TD
#define SPARQ_SHIFTADD_OPS_TD

include "dialects/ShiftAdd/ShiftAddAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def SparqShiftAdd_PackSignsOp : SparqShiftAdd_Op<"pack_signs", [Pure]> {
  let summary = "sign planes (+-1 values) to packed bits";
  let description = [{
    Packs `[q, rows, K]` signs (any value >= 0 is +1, < 0 is -1) into `[q, rows, ceil(K/8)]`
    bytes, one bit per sign, LSB first. Constant operands fold.

    ```mlir
    %c = sparq_shiftadd.pack_signs %b {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>}
        : tensor<2x32x128xf32> -> tensor<2x32x16xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$signs, SparqShiftAdd_BCQAttr:$config);
  let results = (outs RankedTensorOf<[I8]>:$codes);
  let assemblyFormat = "$signs attr-dict `:` type($signs) `->` type($codes)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqShiftAdd_DequantizeOp : SparqShiftAdd_Op<"dequantize", [Pure]> {
  let summary = "packed sign planes and scales to a float weight";
  let description = [{
    `W[r, k] = sum_i scales[i, r, k / group] * sign(codes[i, r, k])`; K is the last dimension of
    the result. Constant operands fold.

    ```mlir
    %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>}
        : (tensor<2x32x16xi8>, tensor<2x32x2xf32>) -> tensor<32x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$codes, RankedTensorOf<[AnyFloat]>:$scales,
                       SparqShiftAdd_BCQAttr:$config);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = "$codes `,` $scales attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SPARQ_SHIFTADD_OPS_TD
