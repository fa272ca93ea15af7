// Tests the sparq_quant constant folders against hand-computed values, and unpack(pack(x)) -> x.
// RUN: sparq-opt %s --canonicalize --split-input-file | FileCheck %s

// 4-bit signed symmetric, per-tensor scale 0.5: w/s = [1, -2, 3.2, 15.8] -> codes [1, -2, 3, 7]
// (15.8 clamps to 7). Packed 4-bit, low nibble first: [0xE1, 0x73] = [-31, 115] as i8.
// CHECK-LABEL: func.func @quantize_pack
// CHECK-DAG: arith.constant dense<{{\[}}[1, -2, 3, 7]]> : tensor<1x4xi8>
// CHECK-DAG: arith.constant dense<{{\[}}[-31, 115]]> : tensor<1x2xi8>
// CHECK-NOT: sparq_quant
func.func @quantize_pack() -> (tensor<1x4xi8>, tensor<1x2xi8>) {
  %w = arith.constant dense<[[0.5, -1.0, 1.6, 7.9]]> : tensor<1x4xf32>
  %s = arith.constant dense<0.5> : tensor<1x1xf32>
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_tensor>} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xi8>
  %p = sparq_quant.pack %q {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_tensor>} : tensor<1x4xi8> -> tensor<1x2xi8>
  return %q, %p : tensor<1x4xi8>, tensor<1x2xi8>
}

// -----

// 3-bit unsigned asymmetric, groups of 2: codes [7, 1 | 5, 0], zero points [4 | 1], scales
// [0.25 | 2.0] -> w = [(7-4)*0.25, (1-4)*0.25, (5-1)*2, (0-1)*2] = [0.75, -0.75, 8, -2].
// CHECK-LABEL: func.func @dequantize_groups
// CHECK: arith.constant dense<{{\[}}[7.500000e-01, -7.500000e-01, 8.000000e+00, -2.000000e+00]]>
func.func @dequantize_groups() -> tensor<1x4xf32> {
  %q = arith.constant dense<[[7, 1, 5, 0]]> : tensor<1x4xi8>
  %s = arith.constant dense<[[0.25, 2.0]]> : tensor<1x2xf32>
  %z = arith.constant dense<[[4, 1]]> : tensor<1x2xi8>
  %w = sparq_quant.dequantize %q, %s, %z {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, group = 2>} : (tensor<1x4xi8>, tensor<1x2xf32>, tensor<1x2xi8>) -> tensor<1x4xf32>
  return %w : tensor<1x4xf32>
}

// -----

// 3-bit codes 7,1,5 pack to 0x4F 0x01 (docs/packed-formats.md) and unpack back.
// CHECK-LABEL: func.func @unpack_const
// CHECK: arith.constant dense<{{\[}}[7, 1, 5]]> : tensor<1x3xi8>
func.func @unpack_const() -> tensor<1x3xi8> {
  %p = arith.constant dense<[[79, 1]]> : tensor<1x2xi8>
  %q = sparq_quant.unpack %p {scheme = #sparq_quant.scheme<bits = 3, unsigned, asymmetric, per_channel>} : tensor<1x2xi8> -> tensor<1x3xi8>
  return %q : tensor<1x3xi8>
}

// -----

// CHECK-LABEL: func.func @unpack_of_pack
// CHECK-SAME: (%[[Q:.*]]: tensor<4x16xi8>)
// CHECK-NEXT: return %[[Q]]
func.func @unpack_of_pack(%q: tensor<4x16xi8>) -> tensor<4x16xi8> {
  %p = sparq_quant.pack %q {scheme = #sparq_quant.scheme<bits = 2, signed, symmetric, per_channel>} : tensor<4x16xi8> -> tensor<4x4xi8>
  %u = sparq_quant.unpack %p {scheme = #sparq_quant.scheme<bits = 2, signed, symmetric, per_channel>} : tensor<4x4xi8> -> tensor<4x16xi8>
  return %u : tensor<4x16xi8>
}
