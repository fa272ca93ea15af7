// Tests that sparq-quant-reorder turns quantize-then-prune into prune-then-quantize with the
// parameters recomputed on the kept values, and reports chains it cannot reorder.
// RUN: sparq-opt %s --split-input-file --sparq-quant-reorder --verify-diagnostics | FileCheck %s

// Row [4, -1, 0.5, 2 | ...]: 2:4 keeps {4, 2}; the recomputed symmetric 4-bit scale of the kept
// values is max|kept| / 7 = 4 / 7 (the original scale 1.0 came from the dense row).
// CHECK-LABEL: func.func @reorder
// CHECK: %[[S:.*]] = arith.constant dense<0.571428597> : tensor<1x1xf32>
// CHECK: %[[P:.*]] = sparq_nm.prune %{{.*}} {pattern = #sparq_nm.pattern<2:4>}
// CHECK: %[[Q:.*]] = sparq_quant.quantize %[[P]], %[[S]]
// CHECK: %[[D:.*]] = sparq_quant.dequantize %[[Q]], %[[S]]
// CHECK: return %[[D]]
func.func @reorder() -> tensor<1x4xf32> {
  %w = arith.constant dense<[[4.0, -1.0, 0.5, 2.0]]> : tensor<1x4xf32>
  %s = arith.constant dense<1.0> : tensor<1x1xf32>
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xi8>
  %d = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<1x4xi8>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %p = sparq_nm.prune %d {pattern = #sparq_nm.pattern<2:4>} : tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}

// -----

func.func @not_constant(%w: tensor<1x4xf32>, %s: tensor<1x1xf32>) -> tensor<1x4xf32> {
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xi8>
  %d = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<1x4xi8>, tensor<1x1xf32>) -> tensor<1x4xf32>
  // expected-error @+1 {{cannot reorder quantize-then-prune: the weight is not a static f32 constant, so its quantization parameters cannot be recomputed on the values pruning keeps}}
  %p = sparq_nm.prune %d {pattern = #sparq_nm.pattern<2:4>} : tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}

// -----

func.func @not_quantized(%c: tensor<1x4xi8>, %s: tensor<1x1xf32>) -> tensor<1x4xf32> {
  %d = sparq_quant.dequantize %c, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<1x4xi8>, tensor<1x1xf32>) -> tensor<1x4xf32>
  // expected-error @+1 {{cannot reorder quantize-then-prune: the pruned weight is dequantized from codes that are not produced by sparq_quant.quantize}}
  %p = sparq_nm.prune %d {pattern = #sparq_nm.pattern<2:4>} : tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}
