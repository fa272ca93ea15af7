// Tests the conversion of reduction ONNX nodes: Reduce* in the axes-attribute and axes-input forms
// (keepdims, noop_with_empty_axes, reduce-all, run-time axes), f16 accumulation in f32, the
// max-subtracting LogSumExp/Softmax/LogSoftmax, Hardmax and Softmax before and from opset 13,
// ArgMax/ArgMin (select_last_index, unsigned), CumSum (constant and run-time axis) and Einsum.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @reduce_sum_axes_input
// CHECK-SAME: (%[[X:.*]]: tensor<3x4x5xf32>)
func.func @reduce_sum_axes_input(%x: tensor<3x4x5xf32>) -> tensor<3x1x5xf32> {
  // CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
  // CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<3x5xf32>)
  // CHECK: %[[R:.*]] = linalg.reduce { arith.addf } ins(%[[X]] : tensor<3x4x5xf32>) outs(%[[INIT]] : tensor<3x5xf32>) dimensions = [1]
  // CHECK: %[[E:.*]] = tensor.expand_shape %[[R]] {{\[}}[0, 1], [2]] output_shape [3, 1, 5] : tensor<3x5xf32> into tensor<3x1x5xf32>
  // CHECK: return %[[E]]
  %axes = arith.constant dense<[-2]> : tensor<1xi64>
  %0 = sparq_onnx.node "ReduceSum"(%x, %axes) {attrs = {keepdims = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4x5xf32>, tensor<1xi64>) -> tensor<3x1x5xf32>
  return %0 : tensor<3x1x5xf32>
}

// -----

// Before opset 18 ReduceMean takes its axes from the attribute.
// CHECK-LABEL: func.func @reduce_mean_attr
func.func @reduce_mean_attr(%x: tensor<3x4x5xf32>) -> tensor<4xf32> {
  // CHECK: %[[R:.*]] = linalg.reduce { arith.addf } ins(%{{.*}} : tensor<3x4x5xf32>) outs(%{{.*}} : tensor<4xf32>) dimensions = [0, 2]
  // CHECK: %[[N:.*]] = arith.constant 1.500000e+01 : f32
  // CHECK: linalg.generic {{.*}} ins(%[[R]] : tensor<4xf32>)
  // CHECK:   arith.divf %{{.*}}, %[[N]] : f32
  %0 = sparq_onnx.node "ReduceMean"(%x) {attrs = {axes = array<i64: 0, 2>, keepdims = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4x5xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// From opset 18 ReduceMax reads its axes from input 1; unsigned integers start from 0.
// CHECK-LABEL: func.func @reduce_max_unsigned_axes_input
// CHECK-SAME: (%[[X:.*]]: tensor<4x6xi8>) -> tensor<4xi8>
func.func @reduce_max_unsigned_axes_input(%x: tensor<4x6xui8>) -> tensor<4xui8> {
  // CHECK: %[[Z:.*]] = arith.constant 0 : i8
  // CHECK: %[[INIT:.*]] = linalg.fill ins(%[[Z]] : i8)
  // CHECK: linalg.reduce ins(%[[X]] : tensor<4x6xi8>) outs(%[[INIT]] : tensor<4xi8>) dimensions = [1]
  // CHECK:   arith.maxui
  // CHECK-NOT: tensor.expand_shape
  %axes = arith.constant dense<1> : tensor<1xi64>
  %0 = sparq_onnx.node "ReduceMax"(%x, %axes) {attrs = {keepdims = 0 : i64}, domain = "", name = "", opset = 18 : i64} : (tensor<4x6xui8>, tensor<1xi64>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// CHECK-LABEL: func.func @reduce_min_signed
func.func @reduce_min_signed(%x: tensor<4x6xi32>) -> tensor<1x6xi32> {
  // CHECK: %[[MAX:.*]] = arith.constant 2147483647 : i32
  // CHECK: linalg.fill ins(%[[MAX]] : i32)
  // CHECK: %[[R:.*]] = linalg.reduce
  // CHECK:   arith.minsi
  // CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1]] output_shape [1, 6] : tensor<6xi32> into tensor<1x6xi32>
  %0 = sparq_onnx.node "ReduceMin"(%x) {attrs = {axes = array<i64: 0>}, domain = "", name = "", opset = 13 : i64} : (tensor<4x6xi32>) -> tensor<1x6xi32>
  return %0 : tensor<1x6xi32>
}

// -----

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @reduce_l2
func.func @reduce_l2(%x: tensor<4x6xf32>) -> tensor<4xf32> {
  // CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
  // CHECK:   %[[SQ:.*]] = arith.mulf %[[IN:.*]], %[[IN]] : f32
  // CHECK:   arith.addf %{{.*}}, %[[SQ]] : f32
  // CHECK: linalg.generic {{.*}} ins(%[[S]] : tensor<4xf32>)
  // CHECK:   math.sqrt
  %axes = arith.constant dense<-1> : tensor<1xi64>
  %0 = sparq_onnx.node "ReduceL2"(%x, %axes) {attrs = {keepdims = 0 : i64}, domain = "", name = "", opset = 18 : i64} : (tensor<4x6xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// f16 sums accumulate in f32 and are truncated at the end.
// CHECK-LABEL: func.func @reduce_sum_square_f16
func.func @reduce_sum_square_f16(%x: tensor<4x6xf16>) -> tensor<4xf16> {
  // CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4x6xf16>) outs(%{{.*}} : tensor<4xf32>)
  // CHECK:   %[[E:.*]] = arith.extf %{{.*}} : f16 to f32
  // CHECK:   arith.mulf %[[E]], %[[E]] : f32
  // CHECK: linalg.generic {{.*}} ins(%[[S]] : tensor<4xf32>) outs(%{{.*}} : tensor<4xf16>)
  // CHECK:   arith.truncf %{{.*}} : f32 to f16
  %0 = sparq_onnx.node "ReduceSumSquare"(%x) {attrs = {axes = array<i64: 1>, keepdims = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4x6xf16>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// LogSumExp subtracts the maximum (0 where it is infinite) before exponentiating.
// CHECK-LABEL: func.func @reduce_log_sum_exp
func.func @reduce_log_sum_exp(%x: tensor<4x6xf32>) -> tensor<4x1xf32> {
  // CHECK: %[[M:.*]] = linalg.reduce ins(%{{.*}} : tensor<4x6xf32>)
  // CHECK:   arith.maximumf
  // CHECK: %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}}, %[[M]] : tensor<4x6xf32>, tensor<4xf32>)
  // CHECK:   math.absf
  // CHECK:   arith.select
  // CHECK:   arith.subf
  // CHECK:   math.exp
  // CHECK:   arith.addf
  // CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[M]] : tensor<4xf32>, tensor<4xf32>)
  // CHECK:   math.log
  // CHECK:   arith.addf
  // CHECK: tensor.expand_shape %[[L]] {{\[}}[0, 1]] output_shape [4, 1]
  %0 = sparq_onnx.node "ReduceLogSumExp"(%x) {attrs = {axes = array<i64: 1>}, domain = "", name = "", opset = 13 : i64} : (tensor<4x6xf32>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

// noop_with_empty_axes without axes: no dimension is reduced, the per-element part (|x|) stays.
// CHECK-LABEL: func.func @reduce_l1_noop
func.func @reduce_l1_noop(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // CHECK-NOT: linalg.reduce
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
  // CHECK:   math.absf
  // CHECK-NOT: tensor.expand_shape
  %none = sparq_onnx.none
  %0 = sparq_onnx.node "ReduceL1"(%x, %none) {attrs = {noop_with_empty_axes = 1 : i64}, domain = "", name = "", opset = 18 : i64} : (tensor<4x6xf32>, none) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// No axes: every dimension is reduced.
// CHECK-LABEL: func.func @reduce_prod_all
func.func @reduce_prod_all(%x: tensor<4x6xi64>) -> tensor<1x1xi64> {
  // CHECK: %[[ONE:.*]] = arith.constant 1 : i64
  // CHECK: linalg.fill ins(%[[ONE]] : i64) outs(%{{.*}} : tensor<i64>)
  // CHECK: %[[R:.*]] = linalg.reduce { arith.muli {{.*}} } ins(%{{.*}} : tensor<4x6xi64>) outs(%{{.*}} : tensor<i64>) dimensions = [0, 1]
  // CHECK: tensor.expand_shape %[[R]] [] output_shape [1, 1] : tensor<i64> into tensor<1x1xi64>
  %0 = sparq_onnx.node "ReduceProd"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x6xi64>) -> tensor<1x1xi64>
  return %0 : tensor<1x1xi64>
}

// -----

// A dynamic reduced dimension: the mean divides by its run-time size.
// CHECK-LABEL: func.func @reduce_mean_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x6xf32>)
func.func @reduce_mean_dynamic(%x: tensor<?x6xf32>) -> tensor<6xf32> {
  // CHECK: linalg.reduce { arith.addf } ins(%[[X]] : tensor<?x6xf32>)
  // CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x6xf32>
  // CHECK: %[[N:.*]] = arith.muli %{{.*}}, %[[D]] : index
  // CHECK: %[[I:.*]] = arith.index_cast %[[N]] : index to i64
  // CHECK: %[[F:.*]] = arith.sitofp %[[I]] : i64 to f32
  // CHECK: linalg.generic
  // CHECK:   arith.divf %{{.*}}, %[[F]] : f32
  %0 = sparq_onnx.node "ReduceMean"(%x) {attrs = {axes = array<i64: 0>, keepdims = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<?x6xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// Axes computed at run time: the static shapes determine the reduced dimension.
// CHECK-LABEL: func.func @reduce_sum_runtime_axes
func.func @reduce_sum_runtime_axes(%x: tensor<3x4x5xf32>, %axes: tensor<1xi64>) -> (tensor<3x1x5xf32>, tensor<3x4xf32>) {
  // CHECK: linalg.reduce { arith.addf } ins(%{{.*}} : tensor<3x4x5xf32>) outs(%{{.*}} : tensor<3x5xf32>) dimensions = [1]
  // CHECK: linalg.reduce { arith.addf } ins(%{{.*}} : tensor<3x4x5xf32>) outs(%{{.*}} : tensor<3x4xf32>) dimensions = [2]
  // CHECK-NOT: scf.index_switch
  %0 = sparq_onnx.node "ReduceSum"(%x, %axes) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4x5xf32>, tensor<1xi64>) -> tensor<3x1x5xf32>
  %1 = sparq_onnx.node "ReduceSum"(%x, %axes) {attrs = {keepdims = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4x5xf32>, tensor<1xi64>) -> tensor<3x4xf32>
  return %0, %1 : tensor<3x1x5xf32>, tensor<3x4xf32>
}

// -----

// Run-time axes that the shapes do not determine (dimension 1 or 2): switch on the axes' mask.
// CHECK-LABEL: func.func @reduce_sum_runtime_axes_ambiguous
// CHECK-SAME: (%[[X:.*]]: tensor<3x2x2xf32>, %[[AXES:.*]]: tensor<1xi64>)
func.func @reduce_sum_runtime_axes_ambiguous(%x: tensor<3x2x2xf32>, %axes: tensor<1xi64>) -> tensor<3x2xf32> {
  // CHECK: %[[A:.*]] = tensor.extract %[[AXES]]
  // CHECK: arith.shli %{{.*}}, %{{.*}} : i64
  // CHECK: %[[MASK:.*]] = arith.index_cast
  // CHECK: %[[R:.*]] = scf.index_switch %[[MASK]] -> tensor<3x2xf32>
  // CHECK: case 4 {
  // CHECK:   linalg.reduce {{.*}} dimensions = [2]
  // CHECK: default {
  // CHECK:   linalg.reduce {{.*}} dimensions = [1]
  // CHECK: return %[[R]]
  %0 = sparq_onnx.node "ReduceSum"(%x, %axes) {attrs = {keepdims = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Before opset 13 Softmax coerces the input to 2-D at axis (default 1): it normalizes over
// dimensions 1 and 2 together.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[D0:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @softmax_opset11
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
func.func @softmax_opset11(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // CHECK: %[[M:.*]] = linalg.reduce ins(%[[X]] : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<2xf32>) dimensions = [1, 2]
  // CHECK:   arith.maximumf
  // CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[D0]], #[[D0]]], iterator_types = ["parallel", "reduction", "reduction"]} ins(%[[X]], %[[M]]
  // CHECK:   arith.subf
  // CHECK:   math.exp
  // CHECK:   arith.addf
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[D0]], #[[D0]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[M]], %[[S]]
  // CHECK:   arith.subf
  // CHECK:   math.exp
  // CHECK:   arith.divf
  %0 = sparq_onnx.node "Softmax"(%x) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// From opset 13 one axis only.
// CHECK-DAG: #[[D02:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @log_softmax_opset13
func.func @log_softmax_opset13(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // CHECK: %[[M:.*]] = linalg.reduce {{.*}} outs(%{{.*}} : tensor<2x4xf32>) dimensions = [1]
  // CHECK: %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
  // CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2x4xf32>)
  // CHECK:   math.log
  // CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[D02]], #[[D02]], #{{.*}}]{{.*}} ins(%{{.*}}, %[[M]], %[[L]]
  // CHECK:   %[[D:.*]] = arith.subf
  // CHECK:   arith.subf %[[D]]
  %0 = sparq_onnx.node "LogSoftmax"(%x) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Hardmax before opset 13: the first maximum in row-major order over dimensions 1 and 2.
// CHECK-LABEL: func.func @hardmax_opset11
func.func @hardmax_opset11(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // CHECK: %[[M:.*]] = linalg.reduce {{.*}} dimensions = [1, 2]
  // CHECK: %[[C4:.*]] = arith.constant 4 : index
  // CHECK: %[[BIG:.*]] = arith.constant 9223372036854775807 : i64
  // CHECK: %[[FIRST:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]} ins(%{{.*}}, %[[M]]
  // CHECK:   arith.cmpf oeq
  // CHECK:   arith.cmpf uno
  // CHECK:   %[[I1:.*]] = linalg.index 1 : index
  // CHECK:   %[[I2:.*]] = linalg.index 2 : index
  // CHECK:   %[[MUL:.*]] = arith.muli %[[I1]], %[[C4]] : index
  // CHECK:   arith.addi %[[MUL]], %[[I2]] : index
  // CHECK:   %[[CAND:.*]] = arith.select %{{.*}}, %{{.*}}, %[[BIG]] : i64
  // CHECK:   arith.minsi %{{.*}}, %[[CAND]] : i64
  // CHECK: linalg.generic {{.*}} ins(%[[FIRST]] : tensor<2xi64>) outs(%{{.*}} : tensor<2x3x4xf32>)
  // CHECK:   arith.cmpi eq
  // CHECK:   arith.select
  %0 = sparq_onnx.node "Hardmax"(%x) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// select_last_index keeps the largest matching index (starting from -1).
// CHECK-LABEL: func.func @argmax_last
func.func @argmax_last(%x: tensor<3x5xf32>) -> tensor<3x1xi64> {
  // CHECK: %[[M:.*]] = linalg.reduce {{.*}} dimensions = [1]
  // CHECK:   arith.maximumf
  // CHECK: %[[NEG:.*]] = arith.constant -1 : i64
  // CHECK: %[[I:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[M]] : tensor<3x5xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<3xi64>)
  // CHECK:   linalg.index 1 : index
  // CHECK:   arith.select %{{.*}}, %{{.*}}, %[[NEG]] : i64
  // CHECK:   arith.maxsi
  // CHECK: tensor.expand_shape %[[I]] {{\[}}[0, 1]] output_shape [3, 1] : tensor<3xi64> into tensor<3x1xi64>
  %0 = sparq_onnx.node "ArgMax"(%x) {attrs = {axis = -1 : i64, select_last_index = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x5xf32>) -> tensor<3x1xi64>
  return %0 : tensor<3x1xi64>
}

// -----

// CHECK-LABEL: func.func @argmin_unsigned
func.func @argmin_unsigned(%x: tensor<3x5xui8>) -> tensor<5xi64> {
  // CHECK: %[[MAX:.*]] = arith.constant -1 : i8
  // CHECK: linalg.fill ins(%[[MAX]] : i8)
  // CHECK: linalg.reduce {{.*}} dimensions = [0]
  // CHECK:   arith.minui
  // CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
  // CHECK:   arith.cmpi eq
  // CHECK:   linalg.index 0 : index
  // CHECK:   arith.minsi
  // CHECK-NOT: tensor.expand_shape
  %0 = sparq_onnx.node "ArgMin"(%x) {attrs = {keepdims = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x5xui8>) -> tensor<5xi64>
  return %0 : tensor<5xi64>
}

// -----

// CumSum: a loop over the axis carrying the running sum; exclusive stores it before adding,
// reverse walks the axis backwards.
// CHECK-LABEL: func.func @cumsum_reverse_exclusive
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xi32>)
func.func @cumsum_reverse_exclusive(%x: tensor<2x3xi32>) -> tensor<2x3xi32> {
  // CHECK: %[[ACC0:.*]] = linalg.fill {{.*}} -> tensor<2xi32>
  // CHECK: %[[OUT0:.*]] = tensor.empty() : tensor<2x3xi32>
  // CHECK: %[[R:.*]]:2 = scf.for %[[IV:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ACC0]], %[[OUT:.*]] = %[[OUT0]])
  // CHECK:   %[[K:.*]] = arith.subi %{{.*}}, %[[IV]] : index
  // CHECK:   %[[XS:.*]] = tensor.extract_slice %[[X]][0, %[[K]]] [2, 1] [1, 1] : tensor<2x3xi32> to tensor<2xi32>
  // CHECK:   %[[INS:.*]] = tensor.insert_slice %[[ACC]] into %[[OUT]][0, %[[K]]] [2, 1] [1, 1]
  // CHECK:   %[[NEXT:.*]] = linalg.generic {{.*}} ins(%[[XS]] : tensor<2xi32>) outs(%[[ACC]] : tensor<2xi32>)
  // CHECK:     arith.addi
  // CHECK:   scf.yield %[[NEXT]], %[[INS]]
  // CHECK: return %[[R]]#1
  %axis = arith.constant dense<-1> : tensor<i64>
  %0 = sparq_onnx.node "CumSum"(%x, %axis) {attrs = {exclusive = 1 : i64, reverse = 1 : i64}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3xi32>, tensor<i64>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// -----

// A run-time axis: one loop per possible axis behind an scf.index_switch.
// CHECK-LABEL: func.func @cumsum_runtime_axis
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[AXIS:.*]]: tensor<i32>)
func.func @cumsum_runtime_axis(%x: tensor<2x3xf32>, %axis: tensor<i32>) -> tensor<2x3xf32> {
  // CHECK: %[[A:.*]] = tensor.extract %[[AXIS]][] : tensor<i32>
  // CHECK: %[[AI:.*]] = arith.index_cast %[[A]] : i32 to index
  // CHECK: %[[NORM:.*]] = arith.select
  // CHECK: %[[R:.*]] = scf.index_switch %[[NORM]] -> tensor<2x3xf32>
  // CHECK: case 0 {
  // CHECK:   scf.for
  // CHECK:     tensor.extract_slice %[[X]][%{{.*}}, 0] [1, 3] [1, 1]
  // CHECK: case 1 {
  // CHECK:   scf.for
  // CHECK:     tensor.extract_slice %[[X]][0, %{{.*}}] [2, 1] [1, 1]
  // CHECK: default {
  // CHECK:   scf.yield %[[X]]
  // CHECK: return %[[R]]
  %0 = sparq_onnx.node "CumSum"(%x, %axis) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3xf32>, tensor<i32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @einsum_batch_matmul
func.func @einsum_batch_matmul(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  // CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<2x3x5xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%[[INIT]] : tensor<2x3x5xf32>)
  // CHECK:   %[[P:.*]] = arith.mulf
  // CHECK:   arith.addf %{{.*}}, %[[P]]
  %0 = sparq_onnx.node "Einsum"(%a, %b) {attrs = {equation = "bij, bjk -> bik"}, domain = "", name = "", opset = 12 : i64} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// Ellipsis dimensions broadcast numpy-style: the unit batch dimension of %a reads index 0.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d1, d3)>
// CHECK-LABEL: func.func @einsum_ellipsis_broadcast
func.func @einsum_ellipsis_broadcast(%a: tensor<1x3x4xf32>, %b: tensor<6x4x5xf32>) -> tensor<6x3x5xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[A]], #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
  %0 = sparq_onnx.node "Einsum"(%a, %b) {attrs = {equation = "...ij,...jk->...ik"}, domain = "", name = "", opset = 12 : i64} : (tensor<1x3x4xf32>, tensor<6x4x5xf32>) -> tensor<6x3x5xf32>
  return %0 : tensor<6x3x5xf32>
}

// -----

// Implicit output (labels used once, here none): the trace, a diagonal read.
// CHECK-DAG: #[[DIAG:.*]] = affine_map<(d0) -> (d0, d0)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @einsum_implicit_trace
func.func @einsum_implicit_trace(%a: tensor<5x5xi32>) -> tensor<i32> {
  // CHECK: linalg.generic {indexing_maps = [#[[DIAG]], #[[SCALAR]]], iterator_types = ["reduction"]} ins(%{{.*}} : tensor<5x5xi32>) outs(%{{.*}} : tensor<i32>)
  // CHECK:   arith.addi
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ii"}, domain = "", name = "", opset = 12 : i64} : (tensor<5x5xi32>) -> tensor<i32>
  return %0 : tensor<i32>
}
