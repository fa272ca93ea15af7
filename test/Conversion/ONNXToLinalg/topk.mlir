// Tests the conversion of TopK: the rank of every element along the axis (a reduction over a
// second copy of the axis: "comes before" = larger, or tied with a lower index; NaN largest), then
// the k outputs selected by rank in one two-result generic. k from input 1 (opset 10+) or the
// attribute (opset 1); smallest and unsigned orders.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[SELF:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[OTHER:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @topk_largest
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %{{.*}}: tensor<1xi64>)
func.func @topk_largest(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  // CHECK: %[[RINIT:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%{{.*}} : tensor<3x4xi64>)
  // CHECK: %[[RANK:.*]] = linalg.generic {indexing_maps = [#[[SELF]], #[[OTHER]], #[[SELF]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[X]] : tensor<3x4xf32>, tensor<3x4xf32>) outs(%[[RINIT]] : tensor<3x4xi64>)
  // CHECK: ^bb0(%[[XI:.*]]: f32, %[[XJ:.*]]: f32, %[[ACC:.*]]: i64):
  // CHECK:   %[[I:.*]] = linalg.index 1 : index
  // CHECK:   %[[J:.*]] = linalg.index 2 : index
  // CHECK:   %[[JFIRST:.*]] = arith.cmpi ult, %[[J]], %[[I]] : index
  // CHECK:   %[[GT:.*]] = arith.cmpf ogt, %[[XJ]], %[[XI]] : f32
  // CHECK:   %[[GTNAN:.*]] = arith.ori %[[GT]], %{{.*}} : i1
  // CHECK:   %[[EQ:.*]] = arith.cmpf oeq, %[[XJ]], %[[XI]] : f32
  // CHECK:   %[[TIE:.*]] = arith.ori %[[EQ]], %{{.*}} : i1
  // CHECK:   %[[TIEFIRST:.*]] = arith.andi %[[TIE]], %[[JFIRST]] : i1
  // CHECK:   %[[BEFORE:.*]] = arith.ori %[[GTNAN]], %[[TIEFIRST]] : i1
  // CHECK:   %[[INC:.*]] = arith.extui %[[BEFORE]] : i1 to i64
  // CHECK:   arith.addi %[[ACC]], %[[INC]] : i64
  // CHECK: } -> tensor<3x4xi64>
  // CHECK: %[[OUT:.*]]:2 = linalg.generic {indexing_maps = [#[[OTHER]], #[[OTHER]], #[[SELF]], #[[SELF]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[RANK]] : tensor<3x4xf32>, tensor<3x4xi64>) outs(%{{.*}}, %{{.*}} : tensor<3x2xf32>, tensor<3x2xi64>)
  // CHECK:   %[[HIT:.*]] = arith.cmpi eq
  // CHECK:   arith.select %[[HIT]]
  // CHECK:   arith.select %[[HIT]]
  // CHECK: return %[[OUT]]#0, %[[OUT]]#1
  %0:2 = sparq_onnx.node "TopK"(%x, %k) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %0#0, %0#1 : tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

// Opset 1: k is an attribute, the axis defaults to the last; unsigned values compare unsigned,
// and largest = 0 reverses the comparison.
// CHECK-LABEL: func.func @topk_smallest_unsigned
func.func @topk_smallest_unsigned(%x: tensor<2x5xui8>) -> (tensor<2x3xui8>, tensor<2x3xi64>) {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x5xi8>, tensor<2x5xi8>) outs(%{{.*}} : tensor<2x5xi64>)
  // CHECK: ^bb0(%[[XI:.*]]: i8, %[[XJ:.*]]: i8, %{{.*}}: i64):
  // CHECK:   arith.cmpi ult, %[[XJ]], %[[XI]] : i8
  // CHECK: linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<2x3xi8>, tensor<2x3xi64>)
  %0:2 = sparq_onnx.node "TopK"(%x) {attrs = {k = 3 : i64, largest = 0 : i64}, domain = "", name = "", opset = 1 : i64} : (tensor<2x5xui8>) -> (tensor<2x3xui8>, tensor<2x3xi64>)
  return %0#0, %0#1 : tensor<2x3xui8>, tensor<2x3xi64>
}
