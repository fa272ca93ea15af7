//===- QuantOps.td - sparq_quant operations ----------------*- tablegen -*-===//
#ifndef SPARQ_QUANT_OPS_TD
#define SPARQ_QUANT_OPS_TD

include "dialects/Quant/QuantAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class SparqQuant_ParamOp<string mnemonic, list<Trait> traits = []>
    : SparqQuant_Op<mnemonic, !listconcat(traits, [Pure])>;

def SparqQuant_QuantizeOp : SparqQuant_ParamOp<"quantize"> {
  let summary = "float weight to integer codes";
  let description = [{
    `code = clamp(round_half_even(w / scale) + zero_point, minCode, maxCode)` per element, with
    the scale (and zero point) of the element's row and group. Codes are returned unpacked, one per
    `i8` (unsigned 8-bit codes use the full byte). Constant operands fold.

    ```mlir
    %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>}
        : (tensor<32x128xf32>, tensor<32x2xf32>) -> tensor<32x128xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, RankedTensorOf<[AnyFloat]>:$scales,
                       Optional<RankedTensorOf<[I8]>>:$zero_points,
                       SparqQuant_SchemeAttr:$scheme);
  let results = (outs RankedTensorOf<[I8]>:$result);
  let assemblyFormat = [{
    $input `,` $scales (`,` $zero_points^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqQuant_DequantizeOp : SparqQuant_ParamOp<"dequantize"> {
  let summary = "integer codes to float weight";
  let description = [{
    `w = (code - zero_point) * scale` per element. Constant operands fold.

    ```mlir
    %w = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>}
        : (tensor<32x128xi8>, tensor<32x2xf32>) -> tensor<32x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input, RankedTensorOf<[AnyFloat]>:$scales,
                       Optional<RankedTensorOf<[I8]>>:$zero_points,
                       SparqQuant_SchemeAttr:$scheme);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input `,` $scales (`,` $zero_points^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqQuant_PackOp : SparqQuant_Op<"pack", [Pure]> {
  let summary = "integer codes to sub-byte packed rows";
  let description = [{
    Packs each row of `[rows, K]` codes into `ceil(K * bits / 8)` bytes (docs/packed-formats.md).
    Constant operands fold; a code outside the scheme's range is reported.

    ```mlir
    %p = sparq_quant.pack %q {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_channel>}
        : tensor<32x128xi8> -> tensor<32x48xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input, SparqQuant_SchemeAttr:$scheme);
  let results = (outs RankedTensorOf<[I8]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqQuant_UnpackOp : SparqQuant_Op<"unpack", [Pure]> {
  let summary = "sub-byte packed rows to integer codes";
  let description = [{
    The inverse of `sparq_quant.pack`; K is the last dimension of the result. Signed codes are
    sign-extended. `unpack(pack(x))` folds to `x`.

    ```mlir
    %q = sparq_quant.unpack %p {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_channel>}
        : tensor<32x48xi8> -> tensor<32x128xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$input, SparqQuant_SchemeAttr:$scheme);
  let results = (outs RankedTensorOf<[I8]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SPARQ_QUANT_OPS_TD
