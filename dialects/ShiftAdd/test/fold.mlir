// Tests the sparq_shiftadd constant folders against hand-computed values.
// RUN: sparq-opt %s --canonicalize --split-input-file | FileCheck %s

// Signs [+,-,+,+,-,-,-,+ | -,+] -> bits 0x8D, 0x02 (LSB first) = [-115, 2] as i8.
// CHECK-LABEL: func.func @pack_signs
// CHECK: arith.constant dense<{{\[\[\[}}-115, 2]]]> : tensor<1x1x2xi8>
func.func @pack_signs() -> tensor<1x1x2xi8> {
  %b = arith.constant dense<[[[1.0, -1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0, -1.0, 1.0]]]> : tensor<1x1x10xf32>
  %c = sparq_shiftadd.pack_signs %b {config = #sparq_shiftadd.bcq<q = 1, group = 8, pow2 = false>} : tensor<1x1x10xf32> -> tensor<1x1x2xi8>
  return %c : tensor<1x1x2xi8>
}

// -----

// Two planes over K = 4, group 2: plane 0 signs 0b0101 -> [+,-,+,-], scales [1, 0.5];
// plane 1 signs 0b0011 -> [+,+,-,-], scales [0.25, 0.25].
// W = [1+0.25, -1+0.25, 0.5-0.25, -0.5-0.25] = [1.25, -0.75, 0.25, -0.75].
// CHECK-LABEL: func.func @dequantize
// CHECK: arith.constant dense<{{\[}}[1.250000e+00, -7.500000e-01, 2.500000e-01, -7.500000e-01]]>
func.func @dequantize() -> tensor<1x4xf32> {
  %c = arith.constant dense<[[[5]], [[3]]]> : tensor<2x1x1xi8>
  %s = arith.constant dense<[[[1.0, 0.5]], [[0.25, 0.25]]]> : tensor<2x1x2xf32>
  %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 2, group = 2, pow2 = false>} : (tensor<2x1x1xi8>, tensor<2x1x2xf32>) -> tensor<1x4xf32>
  return %w : tensor<1x4xf32>
}
