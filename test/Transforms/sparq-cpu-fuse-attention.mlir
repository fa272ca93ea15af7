// Tests sparq-cpu-fuse-attention on the form sparq-convert-onnx-to-linalg gives attention: a
// scaled, causally masked attention over 2 heads becomes one call of the attention kernel (the
// causal mask a flag and an offset, no mask operand; K is read as rows, flag 32, and its
// transpose goes), an unmasked rank-2 one with the scale as a division too, and the same with
// 300 queries (the packed-key scratch passed); attention whose probabilities are also
// returned, and one with a softmax over scores scaled after the mask, are left alone with a
// remark that says why.
// RUN: sparq-opt %s --pass-pipeline='builtin.module(sparq-cpu-fuse-attention{report=1},canonicalize,cse)' -split-input-file -verify-diagnostics | FileCheck %s

#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> ()>
#map2 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @causal
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.353553{{[0-9]*}} : f32
// CHECK-DAG: %[[FLAGS:.*]] = arith.constant 48 : index
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x8xf32>
// CHECK: bufferization.to_buffer %{{.*}} read_only : tensor<2x4x8xf32> to memref<2x4x8xf32>
// CHECK: bufferization.to_buffer %arg1 read_only : tensor<1x2x4x8xf32> to memref<1x2x4x8xf32>
// CHECK: call @sparq_uk_attention_f32_mt({{.*}}, %[[SCALE]], %c0, %[[FLAGS]], %c0) {sparq.kernel_cost = array<i64: 640, 1024>}
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: tensor.expand_shape %[[T]]
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.reduce
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func @causal(%arg0: tensor<1x2x4x8xf32>, %arg1: tensor<1x2x4x8xf32>, %arg2: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>) {
  %cst = arith.constant 0xFF800000 : f32
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant dense<0.353553385> : tensor<f32>
  %cst_2 = arith.constant dense<[[0.000000e+00, -1.000000e+09, -1.000000e+09, -1.000000e+09], [0.000000e+00, 0.000000e+00, -1.000000e+09, -1.000000e+09], [0.000000e+00, 0.000000e+00, 0.000000e+00, -1.000000e+09], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<4x4xf32>
  %0 = tensor.empty() : tensor<1x2x8x4xf32>
  %transposed = linalg.transpose ins(%arg1 : tensor<1x2x4x8xf32>) outs(%0 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2] 
  %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %collapsed_3 = tensor.collapse_shape %transposed [[0, 1], [2], [3]] : tensor<1x2x8x4xf32> into tensor<2x8x4xf32>
  %1 = tensor.empty() : tensor<2x4x4xf32>
  %2 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %3 = linalg.batch_matmul ins(%collapsed, %collapsed_3 : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%2 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %expanded = tensor.expand_shape %3 [[0, 1], [2], [3]] output_shape [1, 2, 4, 4] : tensor<2x4x4xf32> into tensor<1x2x4x4xf32>
  %4 = tensor.empty() : tensor<1x2x4x4xf32>
  %5 = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded, %cst_1 : tensor<1x2x4x4xf32>, tensor<f32>) outs(%4 : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in_7: f32, %out: f32):
    %15 = arith.mulf %in, %in_7 : f32
    linalg.yield %15 : f32
  } -> tensor<1x2x4x4xf32>
  %6 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %cst_2 : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%4 : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in_7: f32, %out: f32):
    %15 = arith.addf %in, %in_7 : f32
    linalg.yield %15 : f32
  } -> tensor<1x2x4x4xf32>
  %7 = tensor.empty() : tensor<1x2x4xf32>
  %8 = linalg.fill ins(%cst : f32) outs(%7 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %reduced = linalg.reduce ins(%6 : tensor<1x2x4x4xf32>) outs(%8 : tensor<1x2x4xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %15 = arith.maximumf %in, %init : f32
      linalg.yield %15 : f32
    }
  %9 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %10 = linalg.generic {indexing_maps = [#map, #map3, #map3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%6, %reduced : tensor<1x2x4x4xf32>, tensor<1x2x4xf32>) outs(%9 : tensor<1x2x4xf32>) {
  ^bb0(%in: f32, %in_7: f32, %out: f32):
    %15 = arith.subf %in, %in_7 : f32
    %16 = math.exp %15 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x2x4xf32>
  %11 = linalg.generic {indexing_maps = [#map, #map3, #map3, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%6, %reduced, %10 : tensor<1x2x4x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) outs(%4 : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in_7: f32, %in_8: f32, %out: f32):
    %15 = arith.subf %in, %in_7 : f32
    %16 = math.exp %15 : f32
    %17 = arith.divf %16, %in_8 : f32
    linalg.yield %17 : f32
  } -> tensor<1x2x4x4xf32>
  %collapsed_4 = tensor.collapse_shape %11 [[0, 1], [2], [3]] : tensor<1x2x4x4xf32> into tensor<2x4x4xf32>
  %collapsed_5 = tensor.collapse_shape %arg2 [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %12 = tensor.empty() : tensor<2x4x8xf32>
  %13 = linalg.fill ins(%cst_0 : f32) outs(%12 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // expected-remark @+1 {{sparq-cpu-fuse-attention: fused attention (online softmax, causal, K rows) (11 ops) over blocks of 128 query rows, 4096 bytes of intermediates per block}}
  %14 = linalg.batch_matmul ins(%collapsed_4, %collapsed_5 : tensor<2x4x4xf32>, tensor<2x4x8xf32>) outs(%13 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %expanded_6 = tensor.expand_shape %14 [[0, 1], [2], [3]] output_shape [1, 2, 4, 8] : tensor<2x4x8xf32> into tensor<1x2x4x8xf32>
  return %expanded_6 : tensor<1x2x4x8xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1) -> ()>
#map2 = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @rank2
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<3x4xf32>
// CHECK: bufferization.to_buffer %arg1 read_only : tensor<5x4xf32> to memref<5x4xf32>
// CHECK: call @sparq_uk_attention_f32_mt({{.*}}, %cst{{.*}}, %c0, %c32, %c0) {sparq.kernel_cost = array<i64: 240, 256>}
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: linalg.matmul
// CHECK: return %[[T]]
func.func @rank2(%arg0: tensor<3x4xf32>, %arg1: tensor<5x4xf32>, %arg2: tensor<5x4xf32>) -> (tensor<3x4xf32>) {
  %cst = arith.constant 0xFF800000 : f32
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant dense<2.000000e+00> : tensor<f32>
  %0 = tensor.empty() : tensor<4x5xf32>
  %transposed = linalg.transpose ins(%arg1 : tensor<5x4xf32>) outs(%0 : tensor<4x5xf32>) permutation = [1, 0] 
  %1 = tensor.empty() : tensor<3x5xf32>
  %2 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<3x5xf32>) -> tensor<3x5xf32>
  %3 = linalg.matmul ins(%arg0, %transposed : tensor<3x4xf32>, tensor<4x5xf32>) outs(%2 : tensor<3x5xf32>) -> tensor<3x5xf32>
  %4 = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]} ins(%3, %cst_1 : tensor<3x5xf32>, tensor<f32>) outs(%1 : tensor<3x5xf32>) {
  ^bb0(%in: f32, %in_2: f32, %out: f32):
    %13 = arith.divf %in, %in_2 : f32
    linalg.yield %13 : f32
  } -> tensor<3x5xf32>
  %5 = tensor.empty() : tensor<3xf32>
  %6 = linalg.fill ins(%cst : f32) outs(%5 : tensor<3xf32>) -> tensor<3xf32>
  %reduced = linalg.reduce ins(%4 : tensor<3x5xf32>) outs(%6 : tensor<3xf32>) dimensions = [1] 
    (%in: f32, %init: f32) {
      %13 = arith.maximumf %in, %init : f32
      linalg.yield %13 : f32
    }
  %7 = linalg.fill ins(%cst_0 : f32) outs(%5 : tensor<3xf32>) -> tensor<3xf32>
  %8 = linalg.generic {indexing_maps = [#map, #map2, #map2], iterator_types = ["parallel", "reduction"]} ins(%4, %reduced : tensor<3x5xf32>, tensor<3xf32>) outs(%7 : tensor<3xf32>) {
  ^bb0(%in: f32, %in_2: f32, %out: f32):
    %13 = arith.subf %in, %in_2 : f32
    %14 = math.exp %13 : f32
    %15 = arith.addf %out, %14 : f32
    linalg.yield %15 : f32
  } -> tensor<3xf32>
  %9 = linalg.generic {indexing_maps = [#map, #map2, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%4, %reduced, %8 : tensor<3x5xf32>, tensor<3xf32>, tensor<3xf32>) outs(%1 : tensor<3x5xf32>) {
  ^bb0(%in: f32, %in_2: f32, %in_3: f32, %out: f32):
    %13 = arith.subf %in, %in_2 : f32
    %14 = math.exp %13 : f32
    %15 = arith.divf %14, %in_3 : f32
    linalg.yield %15 : f32
  } -> tensor<3x5xf32>
  %10 = tensor.empty() : tensor<3x4xf32>
  %11 = linalg.fill ins(%cst_0 : f32) outs(%10 : tensor<3x4xf32>) -> tensor<3x4xf32>
  // expected-remark @+1 {{sparq-cpu-fuse-attention: fused attention (online softmax, K rows) (7 ops) over blocks of 128 query rows, 2048 bytes of intermediates per block}}
  %12 = linalg.matmul ins(%9, %arg2 : tensor<3x5xf32>, tensor<5x4xf32>) outs(%11 : tensor<3x4xf32>) -> tensor<3x4xf32>
  return %12 : tensor<3x4xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1) -> ()>
#map2 = affine_map<(d0, d1) -> (d0)>

// With more than one task of query rows (S = 300), the call passes the packed-key scratch:
// B x ceil(T / 128) x D x 128 = 512 floats, its address the last operand.
// CHECK-LABEL: func.func @rank2_long
// CHECK: %[[PACK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<512xf32>
// CHECK: %[[CAST:.*]] = memref.cast %[[PACK]] : memref<512xf32> to memref<?xf32>
// CHECK: %[[ADDR:.*]] = memref.extract_aligned_pointer_as_index %[[CAST]]
// CHECK: call @sparq_uk_attention_f32_mt({{.*}}, %c0, %c32, %[[ADDR]])
func.func @rank2_long(%arg0: tensor<300x4xf32>, %arg1: tensor<5x4xf32>, %arg2: tensor<5x4xf32>) -> (tensor<300x4xf32>) {
  %cst = arith.constant 0xFF800000 : f32
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant dense<2.000000e+00> : tensor<f32>
  %0 = tensor.empty() : tensor<4x5xf32>
  %transposed = linalg.transpose ins(%arg1 : tensor<5x4xf32>) outs(%0 : tensor<4x5xf32>) permutation = [1, 0] 
  %1 = tensor.empty() : tensor<300x5xf32>
  %2 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<300x5xf32>) -> tensor<300x5xf32>
  %3 = linalg.matmul ins(%arg0, %transposed : tensor<300x4xf32>, tensor<4x5xf32>) outs(%2 : tensor<300x5xf32>) -> tensor<300x5xf32>
  %4 = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]} ins(%3, %cst_1 : tensor<300x5xf32>, tensor<f32>) outs(%1 : tensor<300x5xf32>) {
  ^bb0(%in: f32, %in_2: f32, %out: f32):
    %13 = arith.divf %in, %in_2 : f32
    linalg.yield %13 : f32
  } -> tensor<300x5xf32>
  %5 = tensor.empty() : tensor<300xf32>
  %6 = linalg.fill ins(%cst : f32) outs(%5 : tensor<300xf32>) -> tensor<300xf32>
  %reduced = linalg.reduce ins(%4 : tensor<300x5xf32>) outs(%6 : tensor<300xf32>) dimensions = [1] 
    (%in: f32, %init: f32) {
      %13 = arith.maximumf %in, %init : f32
      linalg.yield %13 : f32
    }
  %7 = linalg.fill ins(%cst_0 : f32) outs(%5 : tensor<300xf32>) -> tensor<300xf32>
  %8 = linalg.generic {indexing_maps = [#map, #map2, #map2], iterator_types = ["parallel", "reduction"]} ins(%4, %reduced : tensor<300x5xf32>, tensor<300xf32>) outs(%7 : tensor<300xf32>) {
  ^bb0(%in: f32, %in_2: f32, %out: f32):
    %13 = arith.subf %in, %in_2 : f32
    %14 = math.exp %13 : f32
    %15 = arith.addf %out, %14 : f32
    linalg.yield %15 : f32
  } -> tensor<300xf32>
  %9 = linalg.generic {indexing_maps = [#map, #map2, #map2, #map], iterator_types = ["parallel", "parallel"]} ins(%4, %reduced, %8 : tensor<300x5xf32>, tensor<300xf32>, tensor<300xf32>) outs(%1 : tensor<300x5xf32>) {
  ^bb0(%in: f32, %in_2: f32, %in_3: f32, %out: f32):
    %13 = arith.subf %in, %in_2 : f32
    %14 = math.exp %13 : f32
    %15 = arith.divf %14, %in_3 : f32
    linalg.yield %15 : f32
  } -> tensor<300x5xf32>
  %10 = tensor.empty() : tensor<300x4xf32>
  %11 = linalg.fill ins(%cst_0 : f32) outs(%10 : tensor<300x4xf32>) -> tensor<300x4xf32>
  // expected-remark @+1 {{sparq-cpu-fuse-attention: fused attention (online softmax, K rows) (7 ops) over blocks of 128 query rows, 2048 bytes of intermediates per block}}
  %12 = linalg.matmul ins(%9, %arg2 : tensor<300x5xf32>, tensor<5x4xf32>) outs(%11 : tensor<300x4xf32>) -> tensor<300x4xf32>
  return %12 : tensor<300x4xf32>
}

// -----

#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> ()>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @probs
// CHECK-NOT: sparq_uk_attention
// CHECK: linalg.matmul
// CHECK: linalg.matmul
func.func @probs(%arg0: tensor<1x1x2x4xf32>, %arg1: tensor<1x1x3x4xf32>, %arg2: tensor<1x1x3x4xf32>) -> (tensor<1x1x2x4xf32>, tensor<1x1x2x3xf32>) {
  %cst = arith.constant 0xFF800000 : f32
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant dense<5.000000e-01> : tensor<f32>
  %0 = tensor.empty() : tensor<1x1x4x3xf32>
  %transposed = linalg.transpose ins(%arg1 : tensor<1x1x3x4xf32>) outs(%0 : tensor<1x1x4x3xf32>) permutation = [0, 1, 3, 2] 
  %collapsed = tensor.collapse_shape %arg0 [[0, 1, 2], [3]] : tensor<1x1x2x4xf32> into tensor<2x4xf32>
  %collapsed_2 = tensor.collapse_shape %transposed [[0, 1, 2], [3]] : tensor<1x1x4x3xf32> into tensor<4x3xf32>
  %1 = tensor.empty() : tensor<2x3xf32>
  %2 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = linalg.matmul ins(%collapsed, %collapsed_2 : tensor<2x4xf32>, tensor<4x3xf32>) outs(%2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %expanded = tensor.expand_shape %3 [[0, 1, 2], [3]] output_shape [1, 1, 2, 3] : tensor<2x3xf32> into tensor<1x1x2x3xf32>
  %4 = tensor.empty() : tensor<1x1x2x3xf32>
  %5 = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded, %cst_1 : tensor<1x1x2x3xf32>, tensor<f32>) outs(%4 : tensor<1x1x2x3xf32>) {
  ^bb0(%in: f32, %in_6: f32, %out: f32):
    %14 = arith.mulf %in, %in_6 : f32
    linalg.yield %14 : f32
  } -> tensor<1x1x2x3xf32>
  %6 = tensor.empty() : tensor<1x1x2xf32>
  %7 = linalg.fill ins(%cst : f32) outs(%6 : tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  %reduced = linalg.reduce ins(%5 : tensor<1x1x2x3xf32>) outs(%7 : tensor<1x1x2xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %14 = arith.maximumf %in, %init : f32
      linalg.yield %14 : f32
    }
  %8 = linalg.fill ins(%cst_0 : f32) outs(%6 : tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  %9 = linalg.generic {indexing_maps = [#map, #map2, #map2], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%5, %reduced : tensor<1x1x2x3xf32>, tensor<1x1x2xf32>) outs(%8 : tensor<1x1x2xf32>) {
  ^bb0(%in: f32, %in_6: f32, %out: f32):
    %14 = arith.subf %in, %in_6 : f32
    %15 = math.exp %14 : f32
    %16 = arith.addf %out, %15 : f32
    linalg.yield %16 : f32
  } -> tensor<1x1x2xf32>
  // expected-remark @+1 {{sparq-cpu-fuse-attention: not fused: attention: the probabilities have other users}}
  %10 = linalg.generic {indexing_maps = [#map, #map2, #map2, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %reduced, %9 : tensor<1x1x2x3xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) outs(%4 : tensor<1x1x2x3xf32>) {
  ^bb0(%in: f32, %in_6: f32, %in_7: f32, %out: f32):
    %14 = arith.subf %in, %in_6 : f32
    %15 = math.exp %14 : f32
    %16 = arith.divf %15, %in_7 : f32
    linalg.yield %16 : f32
  } -> tensor<1x1x2x3xf32>
  %collapsed_3 = tensor.collapse_shape %10 [[0, 1, 2], [3]] : tensor<1x1x2x3xf32> into tensor<2x3xf32>
  %collapsed_4 = tensor.collapse_shape %arg2 [[0, 1, 2], [3]] : tensor<1x1x3x4xf32> into tensor<3x4xf32>
  %11 = tensor.empty() : tensor<2x4xf32>
  %12 = linalg.fill ins(%cst_0 : f32) outs(%11 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %13 = linalg.matmul ins(%collapsed_3, %collapsed_4 : tensor<2x3xf32>, tensor<3x4xf32>) outs(%12 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %expanded_5 = tensor.expand_shape %13 [[0, 1, 2], [3]] output_shape [1, 1, 2, 4] : tensor<2x4xf32> into tensor<1x1x2x4xf32>
  return %expanded_5, %10 : tensor<1x1x2x4xf32>, tensor<1x1x2x3xf32>
}

// -----

#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#map2 = affine_map<(d0, d1, d2, d3) -> ()>
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// CHECK-LABEL: func.func @after
// CHECK-NOT: sparq_uk_attention
// CHECK: linalg.matmul
// CHECK: linalg.matmul
func.func @after(%arg0: tensor<1x1x2x4xf32>, %arg1: tensor<1x1x2x4xf32>, %arg2: tensor<1x1x2x4xf32>) -> (tensor<1x1x2x4xf32>) {
  %cst = arith.constant 0xFF800000 : f32
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant dense<5.000000e-01> : tensor<f32>
  %cst_2 = arith.constant dense<[[5.000000e-01, 1.000000e+00], [2.000000e+00, 2.500000e-01]]> : tensor<2x2xf32>
  %0 = tensor.empty() : tensor<1x1x4x2xf32>
  %transposed = linalg.transpose ins(%arg1 : tensor<1x1x2x4xf32>) outs(%0 : tensor<1x1x4x2xf32>) permutation = [0, 1, 3, 2] 
  %collapsed = tensor.collapse_shape %arg0 [[0, 1, 2], [3]] : tensor<1x1x2x4xf32> into tensor<2x4xf32>
  %collapsed_3 = tensor.collapse_shape %transposed [[0, 1, 2], [3]] : tensor<1x1x4x2xf32> into tensor<4x2xf32>
  %1 = tensor.empty() : tensor<2x2xf32>
  %2 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %3 = linalg.matmul ins(%collapsed, %collapsed_3 : tensor<2x4xf32>, tensor<4x2xf32>) outs(%2 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %expanded = tensor.expand_shape %3 [[0, 1, 2], [3]] output_shape [1, 1, 2, 2] : tensor<2x2xf32> into tensor<1x1x2x2xf32>
  %4 = tensor.empty() : tensor<1x1x2x2xf32>
  %5 = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded, %cst_2 : tensor<1x1x2x2xf32>, tensor<2x2xf32>) outs(%4 : tensor<1x1x2x2xf32>) {
  ^bb0(%in: f32, %in_7: f32, %out: f32):
    %15 = arith.addf %in, %in_7 : f32
    linalg.yield %15 : f32
  } -> tensor<1x1x2x2xf32>
  %6 = linalg.generic {indexing_maps = [#map, #map2, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %cst_1 : tensor<1x1x2x2xf32>, tensor<f32>) outs(%4 : tensor<1x1x2x2xf32>) {
  ^bb0(%in: f32, %in_7: f32, %out: f32):
    %15 = arith.mulf %in, %in_7 : f32
    linalg.yield %15 : f32
  } -> tensor<1x1x2x2xf32>
  %7 = tensor.empty() : tensor<1x1x2xf32>
  %8 = linalg.fill ins(%cst : f32) outs(%7 : tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  %reduced = linalg.reduce ins(%6 : tensor<1x1x2x2xf32>) outs(%8 : tensor<1x1x2xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %15 = arith.maximumf %in, %init : f32
      linalg.yield %15 : f32
    }
  %9 = linalg.fill ins(%cst_0 : f32) outs(%7 : tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  %10 = linalg.generic {indexing_maps = [#map, #map3, #map3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%6, %reduced : tensor<1x1x2x2xf32>, tensor<1x1x2xf32>) outs(%9 : tensor<1x1x2xf32>) {
  ^bb0(%in: f32, %in_7: f32, %out: f32):
    %15 = arith.subf %in, %in_7 : f32
    %16 = math.exp %15 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x1x2xf32>
  // expected-remark @+1 {{sparq-cpu-fuse-attention: not fused: attention: an op between the scores and the softmax is not a scale by a constant followed by an additive mask}}
  %11 = linalg.generic {indexing_maps = [#map, #map3, #map3, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%6, %reduced, %10 : tensor<1x1x2x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) outs(%4 : tensor<1x1x2x2xf32>) {
  ^bb0(%in: f32, %in_7: f32, %in_8: f32, %out: f32):
    %15 = arith.subf %in, %in_7 : f32
    %16 = math.exp %15 : f32
    %17 = arith.divf %16, %in_8 : f32
    linalg.yield %17 : f32
  } -> tensor<1x1x2x2xf32>
  %collapsed_4 = tensor.collapse_shape %11 [[0, 1, 2], [3]] : tensor<1x1x2x2xf32> into tensor<2x2xf32>
  %collapsed_5 = tensor.collapse_shape %arg2 [[0, 1, 2], [3]] : tensor<1x1x2x4xf32> into tensor<2x4xf32>
  %12 = tensor.empty() : tensor<2x4xf32>
  %13 = linalg.fill ins(%cst_0 : f32) outs(%12 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %14 = linalg.matmul ins(%collapsed_4, %collapsed_5 : tensor<2x2xf32>, tensor<2x4xf32>) outs(%13 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %expanded_6 = tensor.expand_shape %14 [[0, 1, 2], [3]] output_shape [1, 1, 2, 4] : tensor<2x4xf32> into tensor<1x1x2x4xf32>
  return %expanded_6 : tensor<1x1x2x4xf32>
}
