// Tests the conversion of MaxPool, AveragePool, the global pools, BatchNormalization,
// InstanceNormalization, LayerNormalization and LpNormalization: pads, ceil_mode, the Indices
// output, compile-time AveragePool divisors and the per-channel normalization factors.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @maxpool_2d
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x6x6xf32>)
func.func @maxpool_2d(%x: tensor<1x3x6x6xf32>) -> tensor<1x3x3x3xf32> {
  // CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK:   tensor.yield %[[NINF]]
  // CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<1x3x3x3xf32>)
  // CHECK: %[[WIN:.*]] = tensor.empty() : tensor<3x3xf32>
  // CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %[[WIN]] : tensor<1x3x8x8xf32>, tensor<3x3xf32>) outs(%[[INIT]] : tensor<1x3x3x3xf32>)
  %0 = sparq_onnx.node "MaxPool"(%x) {attrs = {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x3x6x6xf32>) -> tensor<1x3x3x3xf32>
  return %0 : tensor<1x3x3x3xf32>
}

// -----

// ceil_mode: the last window overhangs the input; the overhang is padded with -inf.
// CHECK-LABEL: func.func @maxpool_ceil
func.func @maxpool_ceil(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
  // CHECK: linalg.pooling_nchw_max {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x5x5xf32>, tensor<3x3xf32>)
  %0 = sparq_onnx.node "MaxPool"(%x) {attrs = {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Unsigned MaxPool: a window generic with maxui, starting at 0.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @maxpool_uint8
func.func @maxpool_uint8(%x: tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xui8> {
  // CHECK: %[[Z:.*]] = arith.constant 0 : i8
  // CHECK: linalg.fill ins(%[[Z]] : i8)
  // CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
  // CHECK:   arith.maxui
  %0 = sparq_onnx.node "MaxPool"(%x) {attrs = {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xui8>
  return %0 : tensor<1x1x2x2xui8>
}

// -----

// The Indices output: one generic with two results; the flat index is computed from
// linalg.index and only in-bounds positions are taken.
// CHECK-LABEL: func.func @maxpool_indices
func.func @maxpool_indices(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) {
  // CHECK: %[[NEG:.*]] = arith.constant -1 : i64
  // CHECK: %[[IDX:.*]] = linalg.fill ins(%[[NEG]] : i64)
  // CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %[[IDX]] : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  // CHECK:   linalg.index 0
  // CHECK:   arith.cmpi sge
  // CHECK:   arith.cmpi slt
  // CHECK:   arith.cmpf ogt
  // CHECK:   arith.select
  // CHECK:   arith.select
  // CHECK: return %[[R]]#0, %[[R]]#1
  %0:2 = sparq_onnx.node "MaxPool"(%x) {attrs = {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, storage_order = 1 : i64}, domain = "", name = "", opset = 12 : i64} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  return %0#0, %0#1 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>
}

// -----

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2 + d5, d3 + d6, d4 + d7)>
// CHECK-LABEL: func.func @maxpool_3d
func.func @maxpool_3d(%x: tensor<1x2x4x4x4xf32>) -> tensor<1x2x3x3x3xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[IN]], {{.*}}]
  // CHECK:   arith.maximumf
  %0 = sparq_onnx.node "MaxPool"(%x) {attrs = {kernel_shape = array<i64: 2, 2, 2>}, domain = "", name = "", opset = 12 : i64} : (tensor<1x2x4x4x4xf32>) -> tensor<1x2x3x3x3xf32>
  return %0 : tensor<1x2x3x3x3xf32>
}

// -----

// AveragePool without count_include_pad: the divisor is a product of per-dimension counts,
// non-uniform along H (a constant) and uniform along W (a scalar).
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, 0)>
// CHECK-LABEL: func.func @avgpool_pads
func.func @avgpool_pads(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x2xf32> {
  // CHECK: %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 0] high[0, 0, 1, 0]
  // CHECK: %[[S:.*]] = linalg.pooling_nchw_sum {{.*}} ins(%[[P]], %{{.*}} : tensor<1x3x6x4xf32>, tensor<3x3xf32>)
  // CHECK: %[[CNT:.*]] = arith.constant dense<[2.000000e+00, 3.000000e+00, 3.000000e+00, 2.000000e+00]> : tensor<4xf32>
  // CHECK: %[[C2:.*]] = tensor.expand_shape %[[CNT]] {{\[}}[0, 1]] output_shape [4, 1]
  // CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROW]], #{{.*}}]{{.*}} ins(%[[S]], %[[C2]] :
  // CHECK:   arith.constant 3.000000e+00
  // CHECK:   arith.mulf
  // CHECK:   arith.divf
  %0 = sparq_onnx.node "AveragePool"(%x) {attrs = {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 0, 1, 0>, strides = array<i64: 1, 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x2xf32>
  return %0 : tensor<1x3x4x2xf32>
}

// -----

// count_include_pad: every window counts kernel_shape elements.
// CHECK-LABEL: func.func @avgpool_include_pad
func.func @avgpool_include_pad(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  // CHECK: %[[S:.*]] = linalg.pooling_ncw_sum {{.*}} -> tensor<1x3x4xf32>
  // CHECK: linalg.generic {{.*}} ins(%[[S]] : tensor<1x3x4xf32>)
  // CHECK:   %[[D:.*]] = arith.constant 3.000000e+00 : f32
  // CHECK:   arith.divf %{{.*}}, %[[D]]
  %0 = sparq_onnx.node "AveragePool"(%x) {attrs = {kernel_shape = array<i64: 3>, pads = array<i64: 1, 1>, count_include_pad = 1 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x4xf32>) -> tensor<1x3x4xf32>
  return %0 : tensor<1x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @global_avg
func.func @global_avg(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32> {
  // The element count, 20, a constant (with dynamic sizes it is read at run time).
  // CHECK: %[[R:.*]] = linalg.reduce ins(%{{.*}} : tensor<2x3x4x5xf32>) outs(%{{.*}} : tensor<2x3xf32>) dimensions = [2, 3]
  // CHECK:   arith.addf
  // CHECK: %[[E:.*]] = tensor.expand_shape %[[R]] {{\[}}[0], [1, 2, 3]] output_shape [2, 3, 1, 1]
  // CHECK: %[[N:.*]] = arith.constant 2.000000e+01
  // CHECK: linalg.generic {{.*}} ins(%[[E]] :
  // CHECK:   arith.divf %{{.*}}, %[[N]]
  %0 = sparq_onnx.node "GlobalAveragePool"(%x) {attrs = {}, domain = "", name = "", opset = 1 : i64} : (tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32>
  return %0 : tensor<2x3x1x1xf32>
}

// -----

// CHECK-LABEL: func.func @global_max
func.func @global_max(%x: tensor<2x3x4xf32>) -> tensor<2x3x1xf32> {
  // CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[I:.*]] = linalg.fill ins(%[[NINF]] : f32)
  // CHECK: %[[R:.*]] = linalg.reduce ins(%{{.*}} : tensor<2x3x4xf32>) outs(%[[I]] : tensor<2x3xf32>) dimensions = [2]
  // CHECK:   arith.maximumf
  // CHECK: %[[E:.*]] = tensor.expand_shape %[[R]] {{\[}}[0], [1, 2]] output_shape [2, 3, 1]
  // CHECK: return %[[E]]
  %0 = sparq_onnx.node "GlobalMaxPool"(%x) {attrs = {}, domain = "", name = "", opset = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  return %0 : tensor<2x3x1xf32>
}

// -----

// BatchNormalization: a = scale / sqrt(var + eps) once per channel, then y = (x - mean) * a + B.
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-LABEL: func.func @batchnorm
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x5xf32>, %[[S:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>, %[[M:.*]]: tensor<3xf32>, %[[V:.*]]: tensor<3xf32>)
func.func @batchnorm(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  // CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[V]] : tensor<3xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<3xf32>)
  // CHECK:   arith.constant 1.000000e-03
  // CHECK:   math.sqrt
  // CHECK: %[[A3:.*]] = tensor.expand_shape %[[A]] {{\[}}[0, 1, 2]] output_shape [3, 1, 1]
  // CHECK: %[[M3:.*]] = tensor.expand_shape %[[M]]
  // CHECK: %[[B3:.*]] = tensor.expand_shape %[[B]]
  // CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #[[CH]], #[[CH]], #{{.*}}]{{.*}} ins(%[[X]], %[[M3]], %[[A3]], %[[B3]] :
  // CHECK:   arith.subf
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  %0 = sparq_onnx.node "BatchNormalization"(%x, %s, %b, %m, %v) {attrs = {epsilon = 1.000000e-03 : f32}, domain = "", name = "", opset = 15 : i64} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// -----

// spatial = 0 (opset 7): per-activation parameters of the shape of one sample.
// CHECK-DAG: #[[SAMPLE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @batchnorm_per_activation
func.func @batchnorm_per_activation(%x: tensor<2x3x4xf32>, %s: tensor<3x4xf32>, %b: tensor<3x4xf32>, %m: tensor<3x4xf32>, %v: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  // CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x4xf32>)
  // CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SAMPLE]], #[[SAMPLE]], #[[SAMPLE]], #{{.*}}]
  %0 = sparq_onnx.node "BatchNormalization"(%x, %s, %b, %m, %v) {attrs = {spatial = 0 : i64}, domain = "", name = "", opset = 7 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// InstanceNormalization: mean (linalg.reduce), two-pass variance, per-(n, c) factor.
// CHECK-DAG: #[[NC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// CHECK-LABEL: func.func @instancenorm
func.func @instancenorm(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  // CHECK: %[[N:.*]] = arith.constant 2.000000e+01
  // CHECK: linalg.reduce {{.*}} dimensions = [2, 3]
  // CHECK: %[[MEAN:.*]] = linalg.generic
  // CHECK:   arith.divf %{{.*}}, %[[N]]
  // CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[NC]], #[[NC]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%{{.*}}, %[[MEAN]] :
  // CHECK:   arith.subf
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  // CHECK: %[[INV:.*]] = linalg.generic {{.*}} ins(%[[SQ]] :
  // CHECK:   math.sqrt
  // CHECK: %[[F:.*]] = linalg.generic {{.*}} ins(%[[INV]], %{{.*}} : tensor<2x3x1x1xf32>, tensor<3x1x1xf32>)
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[MEAN]], %[[F]], %{{.*}} : tensor<2x3x4x5xf32>, tensor<2x3x1x1xf32>, tensor<2x3x1x1xf32>, tensor<3x1x1xf32>)
  %0 = sparq_onnx.node "InstanceNormalization"(%x, %s, %b) {attrs = {}, domain = "", name = "", opset = 6 : i64} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// -----

// LayerNormalization returns the mean and the inverse standard deviation too.
// CHECK-LABEL: func.func @layernorm
func.func @layernorm(%x: tensor<2x3x4xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) {
  // CHECK: linalg.reduce {{.*}} dimensions = [2]
  // CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x1xf32>)
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK: %[[INV:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x1xf32>)
  // CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MEAN]], %[[INV]], %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: return %[[Y]], %[[MEAN]], %[[INV]]
  %0:3 = sparq_onnx.node "LayerNormalization"(%x, %s, %b) {attrs = {}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  return %0#0, %0#1, %0#2 : tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>
}

// -----

// f16 input with stash_type = 1: the statistics are computed in f32, the normalized value is
// truncated to f16 before the scale.
// CHECK-LABEL: func.func @layernorm_f16
func.func @layernorm_f16(%x: tensor<2x3x4xf16>, %s: tensor<3x4xf16>) -> tensor<2x3x4xf16> {
  // CHECK: arith.extf %{{.*}} : f16 to f32
  // CHECK: linalg.reduce {{.*}} dimensions = [1, 2]
  // CHECK: arith.truncf %{{.*}} : f32 to f16
  // CHECK-NEXT: arith.mulf %{{.*}}, %{{.*}} : f16
  %n = sparq_onnx.none
  %0 = sparq_onnx.node "LayerNormalization"(%x, %s, %n) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 17 : i64} : (tensor<2x3x4xf16>, tensor<3x4xf16>, none) -> tensor<2x3x4xf16>
  return %0 : tensor<2x3x4xf16>
}

// -----

// CHECK-LABEL: func.func @lpnorm
func.func @lpnorm(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: linalg.reduce {{.*}} dimensions = [0]
  // CHECK:   math.absf
  // CHECK: linalg.generic
  // CHECK:   arith.divf
  %0 = sparq_onnx.node "LpNormalization"(%x) {attrs = {axis = 0 : i64, p = 1 : i64}, domain = "", name = "", opset = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
