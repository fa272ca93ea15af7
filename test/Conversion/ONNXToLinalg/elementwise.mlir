// Tests the conversion of elementwise ONNX nodes: numpy broadcasting through indexing maps,
// float/signed/unsigned variants, Cast signedness, Clip in both opset forms, and signless types.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>, %[[C:.*]]: tensor<2x1xf32>)
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<2x1xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
  // CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<2x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<2x3xf32>)
  // CHECK:   arith.addf
  %0 = sparq_onnx.node "Add"(%a, %b) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]{{.*}} ins(%[[S]], %[[C]]
  // CHECK:   arith.mulf
  %1 = sparq_onnx.node "Mul"(%0, %c) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// Unsigned ONNX integers become signless tensors and pick unsigned arithmetic.
// CHECK-LABEL: func.func @unsigned_div
// CHECK-SAME: (%{{.*}}: tensor<4xi8>, %{{.*}}: tensor<4xi8>) -> tensor<4xi8>
func.func @unsigned_div(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  // CHECK: arith.divui
  %0 = sparq_onnx.node "Div"(%a, %b) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// CHECK-LABEL: func.func @signed_div_and_less
func.func @signed_div_and_less(%a: tensor<4xi32>, %b: tensor<4xi32>) -> (tensor<4xi32>, tensor<4xi1>) {
  // CHECK: arith.divsi
  %0 = sparq_onnx.node "Div"(%a, %b) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  // CHECK: arith.cmpi slt
  %1 = sparq_onnx.node "Less"(%a, %b) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  return %0, %1 : tensor<4xi32>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @casts
func.func @casts(%a: tensor<4xui8>, %f: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xui16>, tensor<4xi1>) {
  // CHECK: arith.uitofp %{{.*}} : i8 to f32
  %0 = sparq_onnx.node "Cast"(%a) {attrs = {to = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xui8>) -> tensor<4xf32>
  // CHECK: arith.fptoui %{{.*}} : f32 to i16
  %1 = sparq_onnx.node "Cast"(%f) {attrs = {to = 4 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> tensor<4xui16>
  // CHECK: arith.cmpf une
  %2 = sparq_onnx.node "Cast"(%f) {attrs = {to = 9 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> tensor<4xi1>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xui16>, tensor<4xi1>
}

// -----

// Clip: attributes before opset 11, optional inputs from 11 (here only max is given).
// CHECK-LABEL: func.func @clip
func.func @clip(%x: tensor<4xf32>, %hi: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // CHECK: linalg.generic
  // CHECK:   %[[LO:.*]] = arith.constant -1.000000e+00 : f32
  // CHECK:   %[[HI:.*]] = arith.constant 2.000000e+00 : f32
  // CHECK:   arith.maximumf %{{.*}}, %[[LO]]
  // CHECK:   arith.minimumf %{{.*}}, %[[HI]]
  %0 = sparq_onnx.node "Clip"(%x) {attrs = {min = -1.0 : f32, max = 2.0 : f32}, domain = "", name = "", opset = 6 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %none = sparq_onnx.none
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<f32>)
  // CHECK-NOT: arith.maximumf
  // CHECK:   arith.minimumf
  %1 = sparq_onnx.node "Clip"(%x, %none, %hi) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Dropout in inference mode is the identity; its mask output is all true.
// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
func.func @dropout(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>) {
  // CHECK: %[[T:.*]] = arith.constant true
  // CHECK: %[[M:.*]] = linalg.fill ins(%[[T]] : i1)
  // CHECK: return %[[X]], %[[M]]
  %0, %1 = sparq_onnx.node "Dropout"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>)
  return %0, %1 : tensor<4xf32>, tensor<4xi1>
}
