//===- NMOps.td - sparq_nm operations ----------------------*- tablegen -*-===//
#ifndef SPARQ_NM_OPS_TD
#define SPARQ_NM_OPS_TD

include "dialects/NM/NMAttrs.td"
include "dialects/Quant/QuantAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def SparqNM_PruneOp : SparqNM_Op<"prune", [Pure, SameOperandsAndResultType]> {
  let summary = "magnitude N:M pruning of a dense weight";
  let description = [{
    Keeps, in every group of M consecutive values of each row along K, the N values of largest
    magnitude (ties to the lower position) and zeroes the others. The result is dense and
    N:M-valid. A constant operand folds.

    ```mlir
    %p = sparq_nm.prune %w {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqNM_PackOp : SparqNM_Op<"pack", [Pure]> {
  let summary = "dense N:M-valid weight to packed values + index metadata";
  let description = [{
    Packs a `[rows, K]` weight whose rows are N:M-valid into kept values and index metadata (see
    the dialect description). A constant operand folds; a constant that is not N:M-valid is
    reported.

    ```mlir
    %v, %i = sparq_nm.pack %p {pattern = #sparq_nm.pattern<2:4>}
        : tensor<64x128xf32> -> tensor<64x64xf32>, tensor<64x16xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$values, RankedTensorOf<[I8]>:$indices);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($values) `,` type($indices)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqNM_UnpackOp : SparqNM_Op<"unpack", [Pure]> {
  let summary = "packed N:M values + index metadata to a dense weight";
  let description = [{
    The inverse of `sparq_nm.pack`: scatters the kept values of each row back to their positions,
    zeros elsewhere. K is the last dimension of the result. `unpack(pack(x))` folds to `x`.

    ```mlir
    %d = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<2:4>}
        : tensor<64x64xf32>, tensor<64x16xi8> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$values, RankedTensorOf<[I8]>:$indices,
                       SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $values `,` $indices attr-dict `:` type($values) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def SparqNM_MatmulOp : SparqNM_Op<"matmul", [Pure]> {
  let summary = "matmul with an N:M-sparse packed weight";
  let description = [{
    `result[m, n] = sum_k input[m, k] * W[n, k]` where `W = unpack(values, indices)` is the
    `[N, K]` packed weight (rows are output features). Operands may have leading batch dimensions
    on `input` only: `input : [..., M, K]`, `result : [..., M, N]`.

    ```mlir
    %y = sparq_nm.matmul %x, %v, %i {pattern = #sparq_nm.pattern<2:4>}
        : (tensor<8x128xf32>, tensor<64x64xf32>, tensor<64x16xi8>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, RankedTensorOf<[AnyFloat]>:$values,
                       RankedTensorOf<[I8]>:$indices, SparqNM_PatternAttr:$pattern);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input `,` $values `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SparqNM_Conv2DOp : SparqNM_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution (NCHW) with an N:M-sparse packed weight";
  let description = [{
    A 2-D convolution of an NCHW `input` with the weight `W = unpack(values, indices)` of shape
    `[F, C*KH*KW]`, the ONNX `[F, C, KH, KW]` weight flattened in (c, kh, kw) order; N:M groups
    run along that flattened reduction dimension. `kernel` = [KH, KW], `strides`, `dilations` and
    `pads` = [top, left, bottom, right] follow ONNX Conv (group = 1). An optional `bias` of shape
    `[F]` is added.

    ```mlir
    %y = sparq_nm.conv2d %x, %v, %i, %b {pattern = #sparq_nm.pattern<2:4>,
           kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>,
           pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x16x8x8xf32>, tensor<32x72xf32>, tensor<32x18xi8>, tensor<32xf32>)
        -> tensor<1x32x8x8xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, RankedTensorOf<[AnyFloat]>:$values,
                       RankedTensorOf<[I8]>:$indices,
                       Optional<RankedTensorOf<[AnyFloat]>>:$bias,
                       SparqNM_PatternAttr:$pattern, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$pads);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input `,` $values `,` $indices (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SparqNM_QuantizedMatmulOp : SparqNM_Op<"quantized_matmul", [Pure]> {
  let summary = "matmul with an N:M-sparse weight whose kept values are quantized";
  let description = [{
    Composition of sparsity and quantization, in this order: the weight was pruned to N:M first,
    then only its kept values were quantized. `codes` holds the kept values of each row as
    sub-byte codes (`[N, packedRowBytes(keptPerRow(K), bits)]`), quantized group-wise along the
    kept dimension with `scales`/`zero_points` of shape `[N, ceil(keptPerRow(K) / group)]`;
    `indices` is the N:M metadata as for `sparq_nm.matmul`. `result = input x W^T` with
    `W = unpack(dequantize(codes), indices)`.

    ```mlir
    %y = sparq_nm.quantized_matmul %x, %codes, %idx, %scales
        {pattern = #sparq_nm.pattern<2:4>,
         scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>}
        : (tensor<8x128xf32>, tensor<64x32xi8>, tensor<64x16xi8>, tensor<64x2xf32>)
        -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, RankedTensorOf<[I8]>:$codes,
                       RankedTensorOf<[I8]>:$indices, RankedTensorOf<[AnyFloat]>:$scales,
                       Optional<RankedTensorOf<[AnyInteger]>>:$zero_points,
                       SparqNM_PatternAttr:$pattern, SparqQuant_SchemeAttr:$scheme);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input `,` $codes `,` $indices `,` $scales (`,` $zero_points^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SparqNM_QuantizedConv2DOp : SparqNM_Op<"quantized_conv2d", [Pure, AttrSizedOperandSegments]> {
  let summary = "2-D convolution (NCHW) with an N:M-sparse weight whose kept values are quantized";
  let description = [{
    The convolution counterpart of `sparq_nm.quantized_matmul`: the canonical `[F, C*KH*KW]`
    weight was pruned to N:M along its flattened reduction dimension, then its kept values were
    quantized (groups along the kept dimension). `kernel`, `strides`, `dilations` and `pads`
    follow ONNX Conv (group = 1); `bias` of shape `[F]` is optional.

    ```mlir
    %y = sparq_nm.quantized_conv2d %x, %codes, %idx, %scales bias %b
        {pattern = #sparq_nm.pattern<2:4>,
         scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>,
         kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>,
         pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x16x8x8xf32>, tensor<32x36xi8>, tensor<32x18xi8>, tensor<32x1xf32>,
           tensor<32xf32>) -> tensor<1x32x8x8xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, RankedTensorOf<[I8]>:$codes,
                       RankedTensorOf<[I8]>:$indices, RankedTensorOf<[AnyFloat]>:$scales,
                       Optional<RankedTensorOf<[AnyInteger]>>:$zero_points,
                       Optional<RankedTensorOf<[AnyFloat]>>:$bias,
                       SparqNM_PatternAttr:$pattern, SparqQuant_SchemeAttr:$scheme,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$pads);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input `,` $codes `,` $indices `,` $scales (`zero_points` $zero_points^)? (`bias` $bias^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // SPARQ_NM_OPS_TD
