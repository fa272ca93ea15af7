//===- WeightOps.td - sparq_weight operations --------------*- tablegen -*-===//
#ifndef SPARQ_WEIGHT_OPS_TD
#define SPARQ_WEIGHT_OPS_TD

include "dialects/Weight/WeightDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def SparqWeight_FormatListAttr
    : TypedArrayAttrBase<AnyAttr, "ordered list of weight formats (WeightFormatAttrInterface)">;

def SparqWeight_LinearOp : SparqWeight_Op<"linear", [Pure]> {
  let summary = "matmul with a compressed weight";
  let description = [{
    `result[..., m, n] = sum_k input[..., m, k] * W[n, k]`, where `W` is the `[N, K]` weight that
    the ordered `formats` describe and `packed` stores (the operands of each format in list order;
    see the dialect description). `input : [..., M, K]`, `result : [..., M, N]`.

    An `i8` input holds integer activations, taken as signed values, with an `f32` result: the
    exact integer product of an ONNX MatMulInteger (whose importer checks that every sum stays
    below 2^24, so the float result holds it exactly); the CPU backend runs it on integer dot
    products where the target has them.

    ```mlir
    %y = sparq_weight.linear %x [%codes, %idx, %scales]
        formats [#sparq_nm.pattern<2:4>,
                 #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>]
        : (tensor<8x128xf32>, tensor<64x16xi8>, tensor<64x32xi8>, tensor<64x2xf32>)
        -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat, I8]>:$input, Variadic<AnyRankedTensor>:$packed,
                       SparqWeight_FormatListAttr:$formats);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input ` ` `[` $packed `]` `formats` $formats attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SparqWeight_Conv2DOp : SparqWeight_Op<"conv2d", [Pure, AttrSizedOperandSegments]> {
  let summary = "2-D convolution (NCHW) with a compressed weight";
  let description = [{
    A 2-D convolution of an NCHW `input` with the weight `W` that `formats` and `packed` describe,
    in its canonical `[F, C*KH*KW]` shape (the ONNX `[F, C, KH, KW]` weight flattened in
    (c, kh, kw) order; N:M groups and quantization groups run along that flattened K).
    `kernel` = [KH, KW], `strides`, `dilations` and `pads` = [top, left, bottom, right] follow
    ONNX Conv (group = 1); `bias` of shape `[F]` is optional.

    ```mlir
    %y = sparq_weight.conv2d %x [%codes, %scales] bias %b
        formats [#sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>]
        {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>,
         pads = array<i64: 1, 1, 1, 1>}
        : (tensor<1x16x8x8xf32>, tensor<32x72xi8>, tensor<32x1xf32>, tensor<32xf32>)
        -> tensor<1x32x8x8xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$input, Variadic<AnyRankedTensor>:$packed,
                       Optional<RankedTensorOf<[AnyFloat]>>:$bias,
                       SparqWeight_FormatListAttr:$formats, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$pads);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input ` ` `[` $packed `]` (`bias` $bias^)? `formats` $formats attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SparqWeight_DecodeOp : SparqWeight_Op<"decode", [Pure]> {
  let summary = "a compressed weight expanded to its dense [rows, K] form";
  let description = [{
    The reference semantics of a packed weight: each format's decode, last format first, gives
    the dense `[rows, K]` weight the list describes.

    ```mlir
    %w = sparq_weight.decode [%codes, %scales]
        formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>]
        : (tensor<32x64xi8>, tensor<32x2xf32>) -> tensor<32x128xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$packed, SparqWeight_FormatListAttr:$formats);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    ` ` `[` $packed `]` `formats` $formats attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // SPARQ_WEIGHT_OPS_TD
