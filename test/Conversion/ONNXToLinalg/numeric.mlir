// Tests the conversion of LRN (the channel window as a reduction over zero-padded x), Shrink
// (elementwise selects) and Det (an scf.for over the pivot column: pivot search, swap and
// elimination into the iteration's tensor, the determinant's running product).
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 + d4, d2, d3)>
// CHECK-DAG: #[[OFF:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d4)>
// CHECK-LABEL: func.func @lrn
func.func @lrn(%x: tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32> {
  // CHECK: %[[XP:.*]] = tensor.pad %{{.*}} low[0, 1, 0, 0] high[0, 2, 0, 0]
  // CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[WIN]], #[[OFF]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[XP]], %{{.*}} : tensor<1x8x2x2xf32>, tensor<4xf32>)
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[SUM]] : tensor<1x5x2x2xf32>, tensor<1x5x2x2xf32>)
  // CHECK:   arith.constant 2.500000e-01 : f32
  // CHECK:   arith.constant 2.000000e+00 : f32
  // CHECK:   arith.constant 5.000000e-01 : f32
  // CHECK:   math.powf
  // CHECK:   arith.divf
  %0 = sparq_onnx.node "LRN"(%x) {attrs = {size = 4 : i64, alpha = 1.0 : f32, beta = 0.5 : f32, bias = 2.0 : f32}, domain = "", name = "", opset = 13 : i64} : (tensor<1x5x2x2xf32>) -> tensor<1x5x2x2xf32>
  return %0 : tensor<1x5x2x2xf32>
}

// -----

// CHECK-LABEL: func.func @shrink
func.func @shrink(%x: tensor<5xf32>) -> tensor<5xf32> {
  // CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
  // CHECK:   %[[BELOW:.*]] = arith.cmpf olt, %[[X]], %{{.*}} : f32
  // CHECK:   %[[ABOVE:.*]] = arith.cmpf ogt, %[[X]], %{{.*}} : f32
  // CHECK:   %[[SUB:.*]] = arith.subf %[[X]], %{{.*}} : f32
  // CHECK:   %[[R:.*]] = arith.select %[[ABOVE]], %[[SUB]], %{{.*}} : f32
  // CHECK:   %[[ADD:.*]] = arith.addf %[[X]], %{{.*}} : f32
  // CHECK:   arith.select %[[BELOW]], %[[ADD]], %[[R]] : f32
  %0 = sparq_onnx.node "Shrink"(%x) {attrs = {lambd = 1.5 : f32, bias = 0.5 : f32}, domain = "", name = "", opset = 9 : i64} : (tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// CHECK-LABEL: func.func @det
func.func @det(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  // CHECK: %[[A0:.*]] = linalg.copy ins(%{{.*}} : tensor<3x2x2xf32>)
  // CHECK: %[[D0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<3xf32>)
  // CHECK: %[[L:.*]]:2 = scf.for %[[K:.*]] = %{{.*}} iter_args(%[[A:.*]] = %[[A0]], %[[D:.*]] = %[[D0]]) -> (tensor<3x2x2xf32>, tensor<3xf32>)
  // CHECK:   %[[P:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[A]] : tensor<3x2x2xf32>) outs(%{{.*}}, %{{.*}} : tensor<3xi64>, tensor<3xf32>)
  // CHECK:     math.absf
  // CHECK:   %[[OLD:.*]] = linalg.copy ins(%[[A]] : tensor<3x2x2xf32>)
  // CHECK:   %[[NA:.*]] = linalg.generic {{.*}} ins(%[[P]]#0 : tensor<3xi64>) outs(%[[A]] : tensor<3x2x2xf32>)
  // CHECK:     tensor.extract %[[OLD]]
  // CHECK:     arith.divf
  // CHECK:     arith.subf
  // CHECK:   %[[ND:.*]] = linalg.generic {{.*}} ins(%[[P]]#0 : tensor<3xi64>) outs(%[[D]] : tensor<3xf32>)
  // CHECK:     arith.mulf
  // CHECK:     arith.negf
  // CHECK:   scf.yield %[[NA]], %[[ND]]
  // CHECK: return %[[L]]#1
  %0 = sparq_onnx.node "Det"(%x) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
