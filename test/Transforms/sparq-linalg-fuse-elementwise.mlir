// Elementwise ops on constants folded at compile time by sparq-linalg-fuse-elementwise
// (passes/Codegen/FoldConstantElementwise.cpp). Expected values computed by hand.
// RUN: sparq-opt %s --split-input-file --sparq-linalg-fuse-elementwise | FileCheck %s
// RUN: sparq-opt %s --split-input-file --sparq-linalg-fuse-elementwise=fold-max-elements=0 | FileCheck %s --check-prefix=OFF

#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>

// An int8 weight converted by the graph: (float(w) * 0.5) + 1.0, the three ops fused and folded.
// CHECK-LABEL: func.func @dequantize_chain
// CHECK: %[[C:.*]] = arith.constant dense<[-5.000000e-01, 1.000000e+00, 3.500000e+00, 6.450000e+01]> : tensor<4xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[C]]
// OFF-LABEL: func.func @dequantize_chain
// OFF: linalg.generic
func.func @dequantize_chain() -> tensor<4xf32> {
  %w = arith.constant dense<[-3, 0, 5, 127]> : tensor<4xi8>
  %s = arith.constant dense<5.000000e-01> : tensor<f32>
  %z = arith.constant dense<1.000000e+00> : tensor<f32>
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%w : tensor<4xi8>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: i8, %out: f32):
    %c = arith.sitofp %in : i8 to f32
    linalg.yield %c : f32
  } -> tensor<4xf32>
  %m = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel"]}
      ins(%f, %s : tensor<4xf32>, tensor<f32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %c = arith.mulf %a, %b : f32
    linalg.yield %c : f32
  } -> tensor<4xf32>
  %r = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel"]}
      ins(%m, %z : tensor<4xf32>, tensor<f32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %c = arith.addf %a, %b : f32
    linalg.yield %c : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Unsigned conversion (the byte 0xFF is 255) with a per-row broadcast operand, float32
// rounding (1/3 as float32: 0.333333343), and integer arithmetic wrapping at 8 bits
// (100 + 100 = -56).
// CHECK-LABEL: func.func @unsigned_rows_and_wrap
// CHECK-DAG: arith.constant dense<{{\[\[}}2.550000e+02, 1.000000e+00], [0.333333343, 0.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: arith.constant dense<[-56, 2]> : tensor<2xi8>
// CHECK-NOT: linalg.generic
func.func @unsigned_rows_and_wrap() -> (tensor<2x2xf32>, tensor<2xi8>) {
  %w = arith.constant dense<[[-1, 1], [1, 0]]> : tensor<2x2xi8>
  %d = arith.constant dense<[1.0, 3.0]> : tensor<2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%w, %d : tensor<2x2xi8>, tensor<2xf32>) outs(%e : tensor<2x2xf32>) {
  ^bb0(%in: i8, %div: f32, %out: f32):
    %c = arith.uitofp %in : i8 to f32
    %q = arith.divf %c, %div : f32
    linalg.yield %q : f32
  } -> tensor<2x2xf32>
  %a = arith.constant dense<[100, 1]> : tensor<2xi8>
  %e2 = tensor.empty() : tensor<2xi8>
  %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : tensor<2xi8>) outs(%e2 : tensor<2xi8>) {
  ^bb0(%in: i8, %out: i8):
    %c = arith.addi %in, %in : i8
    linalg.yield %c : i8
  } -> tensor<2xi8>
  return %f, %s : tensor<2x2xf32>, tensor<2xi8>
}

// -----

// A broadcast of a small constant to a large tensor is not materialized (its result would be
// far larger than its input), nor is an op the folder does not interpret (math.exp).
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: math.exp
func.func @left_alone() -> (tensor<512x512xf32>, tensor<4xf32>) {
  %s = arith.constant dense<2.000000e+00> : tensor<f32>
  %e = tensor.empty() : tensor<512x512xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<f32>) outs(%e : tensor<512x512xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c = arith.mulf %in, %in : f32
    linalg.yield %c : f32
  } -> tensor<512x512xf32>
  %v = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %e4 = tensor.empty() : tensor<4xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%v : tensor<4xf32>) outs(%e4 : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c = math.exp %in : f32
    linalg.yield %c : f32
  } -> tensor<4xf32>
  return %b, %x : tensor<512x512xf32>, tensor<4xf32>
}
