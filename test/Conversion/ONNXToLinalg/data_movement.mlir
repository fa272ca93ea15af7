// Tests the conversion of ReverseSequence (a generic reading x at the time index reversed within
// the clamped sequence length) and MaxUnpool (an scf.for scattering the flattened values to their
// in-range indices, then the zero padding at the end up to output_shape).
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[BATCH:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @reverse_sequence
// CHECK-SAME: (%[[X:.*]]: tensor<4x3xf32>, %[[L:.*]]: tensor<4xi64>)
func.func @reverse_sequence(%x: tensor<4x3xf32>, %l: tensor<4xi64>) -> tensor<4x3xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[BATCH]], #{{.*}}]{{.*}} ins(%[[L]] : tensor<4xi64>) outs(%{{.*}} : tensor<4x3xf32>)
  // CHECK: ^bb0(%[[LEN:.*]]: i64, %{{.*}}: f32):
  // CHECK:   %[[B:.*]] = linalg.index 0 : index
  // CHECK:   %[[T:.*]] = linalg.index 1 : index
  // CHECK:   %[[LI:.*]] = arith.index_cast %[[LEN]] : i64 to index
  // CHECK:   arith.maxsi %[[LI]]
  // CHECK:   %[[LC:.*]] = arith.minsi
  // CHECK:   %[[IN:.*]] = arith.cmpi slt, %[[T]], %[[LC]] : index
  // CHECK:   %[[REV:.*]] = arith.subi %{{.*}}, %[[T]] : index
  // CHECK:   %[[SRC:.*]] = arith.select %[[IN]], %[[REV]], %[[T]] : index
  // CHECK:   tensor.extract %[[X]][%[[B]], %[[SRC]]] : tensor<4x3xf32>
  %0 = sparq_onnx.node "ReverseSequence"(%x, %l) {attrs = {batch_axis = 0 : i64, time_axis = 1 : i64}, domain = "", name = "", opset = 10 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// With output_shape the indices address the 4x4 output the attributes give; the 5x5 result pads
// it at the end.
// CHECK-LABEL: func.func @maxunpool_output_shape
func.func @maxunpool_output_shape(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>, %s: tensor<4xi64>) -> tensor<1x1x5x5xf32> {
  // CHECK: %[[XS:.*]] = tensor.collapse_shape %{{.*}} into tensor<4xf32>
  // CHECK: %[[IS:.*]] = tensor.collapse_shape %{{.*}} into tensor<4xi64>
  // CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16xf32>)
  // CHECK: %[[S:.*]] = scf.for %[[IV:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[Z]]) -> (tensor<16xf32>)
  // CHECK:   %[[P:.*]] = tensor.extract %[[IS]][%[[IV]]] : tensor<4xi64>
  // CHECK:   arith.cmpi sge, %[[P]]
  // CHECK:   arith.constant 16 : i64
  // CHECK:   arith.cmpi slt, %[[P]]
  // CHECK:   scf.if
  // CHECK:     %[[V:.*]] = tensor.extract %[[XS]][%[[IV]]] : tensor<4xf32>
  // CHECK:     tensor.insert %[[V]] into %[[ACC]]
  // CHECK: %[[E:.*]] = tensor.expand_shape %[[S]] {{.*}} output_shape [1, 1, 4, 4]
  // CHECK: %[[R:.*]] = tensor.pad %[[E]] low[0, 0, 0, 0] high[0, 0, 1, 1]
  // CHECK: return %[[R]]
  %0 = sparq_onnx.node "MaxUnpool"(%x, %i, %s) {attrs = {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, tensor<4xi64>) -> tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x5x5xf32>
}
