// Tests the kernels of a linear op on int8 activations (an ONNX MatMulInteger, docs/codegen.md
// "Integer products"): with int8-dot (a target with AVX-512 VNNI) a constant 8-bit per-channel
// weight becomes int8 dot-product panels for sparq_uk_igemm_s8_f32_mt, and other codes run on
// sparq_uk_qgemm_s8_f32_mt; without it the activations are converted to float for
// sparq_uk_qgemm_f32_mt.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels{int8-dot=true},cse)' | FileCheck %s --check-prefix=DOT
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-compressed-ukernels,cse)' | FileCheck %s --check-prefix=FLT

// Two rows of K = 5, unsigned codes with zero points 128 and 1: the panel values are the codes
// minus 128, row 0 [2, -3, 0, -128, 127], row 1 [-127, -126, -125, -124, -123], interleaved by
// dwords of 4 (row 0's k 0-3, row 1's k 0-3, then k = 4 in a second vector, zero padding); zero
// points minus 128 [0, -127]; terms 128 (5 z - sum w) = [256, -1280]; scales [1, 0.5].
// DOT-LABEL: func.func @per_channel
// DOT-DAG: arith.constant dense<"0x02FD0080818283840000{{0+}}7F00000085{{0+}}"> : tensor<128xi8>
// DOT-DAG: arith.constant dense<[0, -127]> : tensor<2xi32>
// DOT-DAG: arith.constant dense<[256, -1280]> : tensor<2xi32>
// DOT-DAG: arith.constant dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>
// DOT-DAG: bufferization.to_buffer %{{.*}} read_only : tensor<3x5xi8> to memref<3x5xi8>
// DOT: call @sparq_uk_igemm_s8_f32_mt(
// FLT-LABEL: func.func @per_channel
// FLT: linalg.generic
// FLT: arith.sitofp %{{.*}} : i8 to f32
// FLT: call @sparq_uk_qgemm_f32_mt(
func.func @per_channel(%x: tensor<3x5xi8>) -> tensor<3x2xf32> {
  %p = arith.constant dense<[[130, 125, 128, 0, 255], [1, 2, 3, 4, 5]]> : tensor<2x5xi8>
  %s = arith.constant dense<[[1.0], [0.5]]> : tensor<2x1xf32>
  %z = arith.constant dense<[[128], [1]]> : tensor<2x1xi8>
  %y = sparq_weight.linear %x [%p, %s, %z] formats [#sparq_quant.scheme<bits = 8, unsigned, asymmetric, per_channel>] : (tensor<3x5xi8>, tensor<2x5xi8>, tensor<2x1xf32>, tensor<2x1xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// Codes that are not constants (or not 8-bit per row) keep their layout: the exact product on
// the stored codes, group 32 of 4-bit codes; batched rows are flattened in int8.
// DOT-LABEL: func.func @group_codes
// DOT: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x64xi8> into tensor<6x64xi8>
// DOT: call @sparq_uk_qgemm_s8_f32_mt(
// FLT-LABEL: func.func @group_codes
// FLT: arith.sitofp
// FLT: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x64xf32> into tensor<6x64xf32>
// FLT: call @sparq_uk_qgemm_f32_mt(
func.func @group_codes(%x: tensor<2x3x64xi8>, %p: tensor<4x32xi8>, %s: tensor<4x2xf32>) -> tensor<2x3x4xf32> {
  %y = sparq_weight.linear %x [%p, %s] formats [#sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>] : (tensor<2x3x64xi8>, tensor<4x32xi8>, tensor<4x2xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}
