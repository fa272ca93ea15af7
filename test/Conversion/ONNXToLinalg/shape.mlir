// Tests the conversion of shape and data-movement ONNX nodes: reshapes as collapse/expand_shape
// (tensor.reshape when dynamic), Transpose, Concat, Split, Slice (constant, run-time starts and
// run-time axes), gathers, Shape/Size, ConstantOfShape, Expand, Tile, Range, Pad in all modes,
// Resize, DepthToSpace/SpaceToDepth, OneHot, Trilu, EyeLike, scatters, NonZero and Compress.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @reshape_static
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
func.func @reshape_static(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<4x6xf32>) {
  // CHECK: %[[A:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  %s = arith.constant dense<[6, -1]> : tensor<2xi64>
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  // No single reassociation: through 1-D.
  // CHECK: %[[F:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
  // CHECK: %[[B:.*]] = tensor.expand_shape %[[F]] {{\[}}[0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
  %t = arith.constant dense<[4, 6]> : tensor<2xi64>
  %1 = sparq_onnx.node "Reshape"(%x, %t) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  // CHECK: return %[[A]], %[[B]]
  return %0, %1 : tensor<6x4xf32>, tensor<4x6xf32>
}

// -----

// A 0 entry copies the input dimension, -1 is what remains.
// CHECK-LABEL: func.func @reshape_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4xf32>)
func.func @reshape_dynamic(%x: tensor<?x3x4xf32>) -> tensor<?x12xf32> {
  // CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3x4xf32>
  // CHECK: %[[R:.*]] = arith.divui
  // CHECK: %[[S:.*]] = tensor.from_elements %[[D]], %[[R]] : tensor<2xindex>
  // CHECK: tensor.reshape %[[X]](%[[S]]) : (tensor<?x3x4xf32>, tensor<2xindex>) -> tensor<?x12xf32>
  %s = arith.constant dense<[0, -1]> : tensor<2xi64>
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

// A run-time shape is fine when the result type is static.
// CHECK-LABEL: func.func @reshape_runtime_shape
func.func @reshape_runtime_shape(%x: tensor<?x4xf32>, %s: tensor<2xi64>) -> tensor<2x4xf32> {
  // CHECK: %[[S:.*]] = tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xindex>
  // CHECK: tensor.reshape %{{.*}}(%[[S]]) : (tensor<?x4xf32>, tensor<2xindex>) -> tensor<2x4xf32>
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @flatten
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[Y:.*]]: tensor<?x3x4xf32>)
func.func @flatten(%x: tensor<2x3x4xf32>, %y: tensor<?x3x4xf32>) -> (tensor<1x24xf32>, tensor<?x12xf32>) {
  // CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [1, 24] : tensor<24xf32> into tensor<1x24xf32>
  %0 = sparq_onnx.node "Flatten"(%x) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>) -> tensor<1x24xf32>
  // CHECK: tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2]] : tensor<?x3x4xf32> into tensor<?x12xf32>
  %1 = sparq_onnx.node "Flatten"(%y) {attrs = {axis = -2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<?x3x4xf32>) -> tensor<?x12xf32>
  return %0, %1 : tensor<1x24xf32>, tensor<?x12xf32>
}

// -----

// Squeeze axes as an attribute (opset 11) and as an input (13); dynamic shapes need the axes.
// CHECK-LABEL: func.func @squeeze_unsqueeze
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x1x5xf32>, %[[D:.*]]: tensor<?x1x5xf32>)
func.func @squeeze_unsqueeze(%x: tensor<1x3x1x5xf32>, %d: tensor<?x1x5xf32>) -> (tensor<3x5xf32>, tensor<1x3x1x5x1xf32>, tensor<?x5xf32>, tensor<1x?x5x1xf32>) {
  // CHECK: tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2, 3]] : tensor<1x3x1x5xf32> into tensor<3x5xf32>
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {axes = array<i64: 0, -2>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x1x5xf32>) -> tensor<3x5xf32>
  // CHECK: tensor.expand_shape %[[X]] {{\[}}[0], [1], [2], [3, 4]] output_shape [1, 3, 1, 5, 1]
  %a = arith.constant dense<[4]> : tensor<1xi64>
  %1 = sparq_onnx.node "Unsqueeze"(%x, %a) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<1x3x1x5xf32>, tensor<1xi64>) -> tensor<1x3x1x5x1xf32>
  // CHECK: %[[S:.*]] = tensor.collapse_shape %[[D]] {{\[}}[0], [1, 2]] : tensor<?x1x5xf32> into tensor<?x5xf32>
  %b = arith.constant dense<[1]> : tensor<1xi64>
  %2 = sparq_onnx.node "Squeeze"(%d, %b) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x1x5xf32>, tensor<1xi64>) -> tensor<?x5xf32>
  // CHECK: %[[N:.*]] = tensor.dim %[[S]]
  // CHECK: tensor.expand_shape %[[S]] {{\[}}[0, 1], [2, 3]] output_shape [1, %[[N]], 5, 1] : tensor<?x5xf32> into tensor<1x?x5x1xf32>
  %e = arith.constant dense<[0, -1]> : tensor<2xi64>
  %3 = sparq_onnx.node "Unsqueeze"(%2, %e) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x5xf32>, tensor<2xi64>) -> tensor<1x?x5x1xf32>
  return %0, %1, %2, %3 : tensor<3x5xf32>, tensor<1x3x1x5x1xf32>, tensor<?x5xf32>, tensor<1x?x5x1xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
func.func @transpose(%x: tensor<2x3x4xf32>) -> (tensor<4x3x2xf32>, tensor<3x2x4xf32>) {
  // CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x3x2xf32>) permutation = [2, 1, 0]
  %0 = sparq_onnx.node "Transpose"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  // CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<3x2x4xf32>) permutation = [1, 0, 2]
  %1 = sparq_onnx.node "Transpose"(%x) {attrs = {perm = array<i64: 1, 0, 2>}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0, %1 : tensor<4x3x2xf32>, tensor<3x2x4xf32>
}

// -----

// Empty inputs are dropped.
// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %{{.*}}: tensor<2x0xf32>, %[[C:.*]]: tensor<2x5xf32>)
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x0xf32>, %c: tensor<2x5xf32>) -> tensor<2x8xf32> {
  // CHECK: tensor.concat dim(1) %[[A]], %[[C]] : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %0 = sparq_onnx.node "Concat"(%a, %b, %c) {attrs = {axis = -1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<2x0xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.*]]: tensor<6x4xf32>)
func.func @split(%x: tensor<6x4xf32>) -> (tensor<2x4xf32>, tensor<4x4xf32>) {
  // CHECK: tensor.extract_slice %[[X]][0, 0] [2, 4] [1, 1] : tensor<6x4xf32> to tensor<2x4xf32>
  // CHECK: tensor.extract_slice %[[X]][2, 0] [4, 4] [1, 1] : tensor<6x4xf32> to tensor<4x4xf32>
  %s = arith.constant dense<[2, 4]> : tensor<2xi64>
  %0:2 = sparq_onnx.node "Split"(%x, %s) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<6x4xf32>, tensor<2xi64>) -> (tensor<2x4xf32>, tensor<4x4xf32>)
  return %0#0, %0#1 : tensor<2x4xf32>, tensor<4x4xf32>
}

// -----

// Dynamic parts read the 'split' input at run time.
// CHECK-LABEL: func.func @split_runtime
// CHECK-SAME: (%[[X:.*]]: tensor<?xf32>, %[[S:.*]]: tensor<2xi64>)
func.func @split_runtime(%x: tensor<?xf32>, %s: tensor<2xi64>) -> (tensor<?xf32>, tensor<?xf32>) {
  // CHECK: %[[E0:.*]] = tensor.extract %[[S]][%{{.*}}] : tensor<2xi64>
  // CHECK: %[[N0:.*]] = arith.index_cast %[[E0]] : i64 to index
  // CHECK: %[[E1:.*]] = tensor.extract %[[S]][%{{.*}}] : tensor<2xi64>
  // CHECK: %[[N1:.*]] = arith.index_cast %[[E1]] : i64 to index
  // CHECK: tensor.extract_slice %[[X]][0] [%[[N0]]] [1]
  // CHECK: %[[O:.*]] = arith.addi %{{.*}}, %[[N0]] : index
  // CHECK: tensor.extract_slice %[[X]][%[[O]]] [%[[N1]]] [1]
  %0:2 = sparq_onnx.node "Split"(%x, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?xf32>, tensor<2xi64>) -> (tensor<?xf32>, tensor<?xf32>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xf32>
}

// -----

// Constant slices: ends clamp; a negative step is a strided slice read backwards.
// CHECK-DAG: #[[REV:.*]] = affine_map<(d0, d1) -> (d0, -d1 + 2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:.*]]: tensor<10x8xf32>)
func.func @slice(%x: tensor<10x8xf32>) -> (tensor<3x8xf32>, tensor<10x3xf32>) {
  // CHECK: tensor.extract_slice %[[X]][1, 0] [3, 8] [3, 1] : tensor<10x8xf32> to tensor<3x8xf32>
  %st = arith.constant dense<[1]> : tensor<1xi64>
  %en = arith.constant dense<[1000]> : tensor<1xi64>
  %ax = arith.constant dense<[0]> : tensor<1xi64>
  %sp = arith.constant dense<[3]> : tensor<1xi64>
  %0 = sparq_onnx.node "Slice"(%x, %st, %en, %ax, %sp) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x8xf32>
  // CHECK: %[[S:.*]] = tensor.extract_slice %[[X]][0, 1] [10, 3] [1, 3] : tensor<10x8xf32> to tensor<10x3xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[REV]], #[[ID]]]{{.*}} ins(%[[S]] : tensor<10x3xf32>)
  %st2 = arith.constant dense<[-1]> : tensor<1xi64>
  %en2 = arith.constant dense<[-9223372036854775807]> : tensor<1xi64>
  %ax2 = arith.constant dense<[-1]> : tensor<1xi64>
  %sp2 = arith.constant dense<[-3]> : tensor<1xi64>
  %1 = sparq_onnx.node "Slice"(%x, %st2, %en2, %ax2, %sp2) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<10x3xf32>
  return %0, %1 : tensor<3x8xf32>, tensor<10x3xf32>
}

// -----

// Opset 1: starts/ends/axes are attributes.
// CHECK-LABEL: func.func @slice_v1
func.func @slice_v1(%x: tensor<10x8xf32>) -> tensor<2x8xf32> {
  // CHECK: tensor.extract_slice %{{.*}}[7, 0] [2, 8] [1, 1] : tensor<10x8xf32> to tensor<2x8xf32>
  %0 = sparq_onnx.node "Slice"(%x) {attrs = {starts = array<i64: -3>, ends = array<i64: -1>, axes = array<i64: 0>}, domain = "", name = "", opset = 1 : i64} : (tensor<10x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Run-time starts with a static result: the clamped start is computed, the size is the type's.
// CHECK-LABEL: func.func @slice_runtime_starts
// CHECK-SAME: (%[[X:.*]]: tensor<10x8xf32>, %[[ST:.*]]: tensor<1xi64>, %{{.*}}: tensor<1xi64>)
func.func @slice_runtime_starts(%x: tensor<10x8xf32>, %st: tensor<1xi64>, %en: tensor<1xi64>) -> tensor<4x8xf32> {
  // CHECK: tensor.extract %[[ST]]
  // CHECK: %[[LO:.*]] = arith.maxsi
  // CHECK: %[[S:.*]] = arith.minsi %[[LO]]
  // CHECK: tensor.extract_slice %[[X]][%[[S]], 0] [4, 8] [1, 1] : tensor<10x8xf32> to tensor<4x8xf32>
  %0 = sparq_onnx.node "Slice"(%x, %st, %en) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Run-time axes: each output dimension reads data[start + i * step], selected at run time.
// CHECK-LABEL: func.func @slice_runtime_axes
// CHECK-SAME: (%[[X:.*]]: tensor<10x8xf32>, %{{.*}}: tensor<1xi64>, %{{.*}}: tensor<1xi64>, %[[AX:.*]]: tensor<1xi64>)
func.func @slice_runtime_axes(%x: tensor<10x8xf32>, %st: tensor<1xi64>, %en: tensor<1xi64>, %ax: tensor<1xi64>) -> tensor<10x2xf32> {
  // CHECK: tensor.extract %[[AX]]
  // CHECK: linalg.generic
  // CHECK:   %[[I:.*]] = linalg.index 0
  // CHECK:   %[[J:.*]] = linalg.index 1
  // CHECK:   %[[A:.*]] = arith.addi %{{.*}}, %{{.*}} : index
  // CHECK:   %[[B:.*]] = arith.addi %{{.*}}, %{{.*}} : index
  // CHECK:   tensor.extract %[[X]][%[[A]], %[[B]]] : tensor<10x8xf32>
  %0 = sparq_onnx.node "Slice"(%x, %st, %en, %ax) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<10x2xf32>
  return %0 : tensor<10x2xf32>
}

// -----

// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[X:.*]]: tensor<5x4xf32>, %[[I:.*]]: tensor<2x3xi64>)
func.func @gather(%x: tensor<5x4xf32>, %i: tensor<2x3xi64>) -> (tensor<5x2x3xf32>, tensor<4xf32>) {
  // CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.*}}]{{.*}} ins(%[[I]] : tensor<2x3xi64>)
  // CHECK:   %[[R:.*]] = linalg.index 0 : index
  // CHECK:   arith.cmpi slt
  // CHECK:   %[[C:.*]] = arith.minsi
  // CHECK:   tensor.extract %[[X]][%[[R]], %[[C]]] : tensor<5x4xf32>
  %0 = sparq_onnx.node "Gather"(%x, %i) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<5x4xf32>, tensor<2x3xi64>) -> tensor<5x2x3xf32>
  // A constant scalar index (negative) is a rank-reducing slice.
  // CHECK: tensor.extract_slice %[[X]][4, 0] [1, 4] [1, 1] : tensor<5x4xf32> to tensor<4xf32>
  %c = arith.constant dense<-1> : tensor<i64>
  %1 = sparq_onnx.node "Gather"(%x, %c) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<5x4xf32>, tensor<i64>) -> tensor<4xf32>
  return %0, %1 : tensor<5x2x3xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @gather_elements_nd
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[I:.*]]: tensor<3x2xi32>, %[[J:.*]]: tensor<2x2xi64>)
func.func @gather_elements_nd(%x: tensor<3x4xf32>, %i: tensor<3x2xi32>, %j: tensor<2x2xi64>) -> (tensor<3x2xf32>, tensor<2xf32>) {
  // CHECK: linalg.generic {{.*}} ins(%[[I]] : tensor<3x2xi32>)
  // CHECK:   %[[R:.*]] = linalg.index 0 : index
  // CHECK:   arith.index_cast %{{.*}} : i32 to index
  // CHECK:   tensor.extract %[[X]][%[[R]], %{{.*}}] : tensor<3x4xf32>
  %0 = sparq_onnx.node "GatherElements"(%x, %i) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<3x2xi32>) -> tensor<3x2xf32>
  // CHECK: linalg.generic
  // CHECK:   tensor.extract %[[J]]
  // CHECK:   tensor.extract %[[J]]
  // CHECK:   tensor.extract %[[X]]
  %1 = sparq_onnx.node "GatherND"(%x, %j) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<2x2xi64>) -> tensor<2xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<2xf32>
}

// -----

// Static shapes become constants; dynamic dimensions are read with tensor.dim.
// CHECK-LABEL: func.func @shape_size
// CHECK-SAME: (%{{.*}}: tensor<2x3x4xf32>, %[[Y:.*]]: tensor<?x3xf32>)
func.func @shape_size(%x: tensor<2x3x4xf32>, %y: tensor<?x3xf32>) -> (tensor<2xi64>, tensor<2xi64>, tensor<i64>, tensor<i64>) {
  // CHECK: %[[S0:.*]] = arith.constant dense<[3, 4]> : tensor<2xi64>
  %0 = sparq_onnx.node "Shape"(%x) {attrs = {start = 1 : i64}, domain = "", name = "", opset = 15 : i64} : (tensor<2x3x4xf32>) -> tensor<2xi64>
  // CHECK: %[[D:.*]] = tensor.dim %[[Y]]
  // CHECK: %[[D64:.*]] = arith.index_cast %[[D]] : index to i64
  // CHECK: %[[S1:.*]] = tensor.from_elements %[[D64]], %{{.*}} : tensor<2xi64>
  %1 = sparq_onnx.node "Shape"(%y) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x3xf32>) -> tensor<2xi64>
  // CHECK: %[[N0:.*]] = arith.constant dense<24> : tensor<i64>
  %2 = sparq_onnx.node "Size"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>) -> tensor<i64>
  // CHECK: %[[N1:.*]] = tensor.from_elements %{{.*}} : tensor<i64>
  %3 = sparq_onnx.node "Size"(%y) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x3xf32>) -> tensor<i64>
  // CHECK: return %[[S0]], %[[S1]], %[[N0]], %[[N1]]
  return %0, %1, %2, %3 : tensor<2xi64>, tensor<2xi64>, tensor<i64>, tensor<i64>
}

// -----

// The value attribute keeps its bits (ui8 200 is i8 -56); dynamic sizes come from the shape.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>) -> (tensor<3x4xi8>, tensor<?x?xf32>)
func.func @constant_of_shape(%s: tensor<2xi64>) -> (tensor<3x4xui8>, tensor<?x?xf32>) {
  // CHECK: %[[V:.*]] = arith.constant -56 : i8
  // CHECK: linalg.fill ins(%[[V]] : i8) outs(%{{.*}} : tensor<3x4xi8>)
  %c = arith.constant dense<[3, 4]> : tensor<2xi64>
  %0 = sparq_onnx.node "ConstantOfShape"(%c) {attrs = {value = dense<200> : tensor<1xui8>}, domain = "", name = "", opset = 9 : i64} : (tensor<2xi64>) -> tensor<3x4xui8>
  // CHECK: tensor.extract %[[S]]
  // CHECK: tensor.extract %[[S]]
  // CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
  // CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<?x?xf32>)
  %1 = sparq_onnx.node "ConstantOfShape"(%s) {attrs = {}, domain = "", name = "", opset = 9 : i64} : (tensor<2xi64>) -> tensor<?x?xf32>
  return %0, %1 : tensor<3x4xui8>, tensor<?x?xf32>
}

// -----

// Expand is a broadcasting generic; Tile a linalg.broadcast whose pairs of dims are merged.
// CHECK-DAG: #[[BC:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @expand_tile
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>
func.func @expand_tile(%x: tensor<3x1xf32>, %s: tensor<3xi64>, %r: tensor<2xi64>) -> (tensor<2x3x4xf32>, tensor<6x2xf32>) {
  // CHECK: linalg.generic {indexing_maps = [#[[BC]], #{{.*}}]{{.*}} ins(%[[X]] : tensor<3x1xf32>) outs(%{{.*}} : tensor<2x3x4xf32>)
  %0 = sparq_onnx.node "Expand"(%x, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  // CHECK: %[[B:.*]] = linalg.broadcast ins(%[[X]] : tensor<3x1xf32>) outs(%{{.*}} : tensor<2x3x2x1xf32>) dimensions = [0, 2]
  // CHECK: tensor.collapse_shape %[[B]] {{\[}}[0, 1], [2, 3]] : tensor<2x3x2x1xf32> into tensor<6x2xf32>
  %1 = sparq_onnx.node "Tile"(%x, %r) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<6x2xf32>
  return %0, %1 : tensor<2x3x4xf32>, tensor<6x2xf32>
}

// -----

// CHECK-LABEL: func.func @range
func.func @range(%a: tensor<f32>, %b: tensor<f32>, %d: tensor<f32>) -> (tensor<5xi32>, tensor<?xf32>) {
  // CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<5xi32>)
  // CHECK:   arith.muli
  // CHECK:   arith.addi
  %s = arith.constant dense<10> : tensor<i32>
  %l = arith.constant dense<0> : tensor<i32>
  %n = arith.constant dense<-2> : tensor<i32>
  %0 = sparq_onnx.node "Range"(%s, %l, %n) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<5xi32>
  // The length is ceil((limit - start) / delta) at run time.
  // CHECK: math.ceil
  // CHECK: %[[N:.*]] = arith.maxsi
  // CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?xf32>
  // CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?xf32>)
  // CHECK:   arith.sitofp
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  %1 = sparq_onnx.node "Range"(%a, %b, %d) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %0, %1 : tensor<5xi32>, tensor<?xf32>
}

// -----

// Pad: constant mode is tensor.pad (negative pads crop first), reflect and edge gather with
// mirrored / clamped indices, run-time pads gather with a bounds test.
// CHECK-LABEL: func.func @pad
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[P:.*]]: tensor<4xi64>)
func.func @pad(%x: tensor<3x4xf32>, %p: tensor<4xi64>) -> (tensor<4x5xf32>, tensor<5x4xf32>, tensor<4x6xf32>, tensor<6x6xf32>) {
  // CHECK: %[[V:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
  // CHECK: %[[C:.*]] = tensor.extract_slice %[[X]][0, 0] [3, 3] [1, 1] : tensor<3x4xf32> to tensor<3x3xf32>
  // CHECK: tensor.pad %[[C]] low[1, 2] high[0, 0]
  // CHECK:   tensor.yield %[[V]] : f32
  // CHECK: } : tensor<3x3xf32> to tensor<4x5xf32>
  %pads = arith.constant dense<[1, 2, 0, -1]> : tensor<4xi64>
  %v = arith.constant dense<1.5> : tensor<f32>
  %none = sparq_onnx.none
  %0 = sparq_onnx.node "Pad"(%x, %pads, %v) {attrs = {mode = "constant"}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x5xf32>
  // CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<5x4xf32>)
  // CHECK:   arith.remsi
  // CHECK:   tensor.extract %[[X]]
  %1 = sparq_onnx.node "Pad"(%x) {attrs = {mode = "reflect", pads = array<i64: 1, 0, 1, 0>}, domain = "", name = "", opset = 2 : i64} : (tensor<3x4xf32>) -> tensor<5x4xf32>
  // Opset 18 'axes' input: only dimension 1 is padded.
  // CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x6xf32>)
  // CHECK:   %[[R:.*]] = linalg.index 0
  // CHECK:   %[[CL:.*]] = arith.minsi
  // CHECK:   tensor.extract %[[X]][%[[R]], %[[CL]]]
  %ax = arith.constant dense<[1]> : tensor<1xi64>
  %pads2 = arith.constant dense<[1, 1]> : tensor<2xi64>
  %2 = sparq_onnx.node "Pad"(%x, %pads2, %none, %ax) {attrs = {mode = "edge"}, domain = "", name = "", opset = 18 : i64} : (tensor<3x4xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<4x6xf32>
  // CHECK: tensor.extract %[[P]]
  // CHECK: tensor.extract %[[P]]
  // CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<6x6xf32>)
  // CHECK:   arith.cmpi sge
  // CHECK:   %[[E:.*]] = tensor.extract %[[X]]
  // CHECK:   arith.select %{{.*}}, %[[E]], %{{.*}} : f32
  %3 = sparq_onnx.node "Pad"(%x, %p) {attrs = {mode = "constant"}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<4xi64>) -> tensor<6x6xf32>
  return %0, %1, %2, %3 : tensor<4x5xf32>, tensor<5x4xf32>, tensor<4x6xf32>, tensor<6x6xf32>
}

// -----

// Resize: one index (and weight) table per resized dimension, then a gather that blends taps.
// CHECK-DAG: #[[T1:.*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[H:.*]] = affine_map<(d0, d1, d2, d3) -> (d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @resize
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x4x4xf32>
func.func @resize(%x: tensor<1x2x4x4xf32>, %sz: tensor<4xi64>) -> (tensor<1x2x8x8xf32>, tensor<1x2x3x5xf32>) {
  // CHECK: %[[TH:.*]] = linalg.generic {indexing_maps = [#[[T1]]]{{.*}} outs(%{{.*}} : tensor<8xi64>)
  // CHECK:   math.floor
  // CHECK: %[[TW:.*]] = linalg.generic {indexing_maps = [#[[T1]]]{{.*}} outs(%{{.*}} : tensor<8xi64>)
  // CHECK: linalg.generic {indexing_maps = [#[[H]], #[[W]], #{{.*}}]{{.*}} ins(%[[TH]], %[[TW]] : tensor<8xi64>, tensor<8xi64>) outs(%{{.*}} : tensor<1x2x8x8xf32>)
  // CHECK:   tensor.extract %[[X]]
  // CHECK-NOT: tensor.extract
  // CHECK:   linalg.yield
  %none = sparq_onnx.none
  %sc = arith.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %0 = sparq_onnx.node "Resize"(%x, %none, %sc) {attrs = {mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"}, domain = "", name = "", opset = 13 : i64} : (tensor<1x2x4x4xf32>, none, tensor<4xf32>) -> tensor<1x2x8x8xf32>
  // Bilinear from 'sizes': two taps per resized dimension, four reads.
  // CHECK: %[[LH:.*]]:4 = linalg.generic
  // CHECK: } -> (tensor<3xi64>, tensor<3xi64>, tensor<3xf32>, tensor<3xf32>)
  // CHECK: %[[LW:.*]]:4 = linalg.generic
  // CHECK: } -> (tensor<5xi64>, tensor<5xi64>, tensor<5xf32>, tensor<5xf32>)
  // CHECK: linalg.generic {{.*}} ins(%[[LH]]#0, %[[LH]]#1, %[[LH]]#2, %[[LH]]#3, %[[LW]]#0, %[[LW]]#1, %[[LW]]#2, %[[LW]]#3 :
  // CHECK-COUNT-4: tensor.extract %[[X]]
  %1 = sparq_onnx.node "Resize"(%x, %none, %none, %sz) {attrs = {mode = "linear"}, domain = "", name = "", opset = 13 : i64} : (tensor<1x2x4x4xf32>, none, none, tensor<4xi64>) -> tensor<1x2x3x5xf32>
  return %0, %1 : tensor<1x2x8x8xf32>, tensor<1x2x3x5xf32>
}

// -----

// CHECK-LABEL: func.func @depth_space
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x2x3xf32>)
func.func @depth_space(%x: tensor<1x8x2x3xf32>) -> (tensor<1x2x4x6xf32>, tensor<1x32x1x1xf32>) {
  // CHECK: %[[E:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3], [4], [5]] output_shape [1, 2, 2, 2, 2, 3]
  // CHECK: %[[T:.*]] = linalg.transpose ins(%[[E]] : tensor<1x2x2x2x2x3xf32>) outs(%{{.*}} : tensor<1x2x2x2x3x2xf32>) permutation = [0, 1, 4, 2, 5, 3]
  // CHECK: tensor.collapse_shape %[[T]] {{\[}}[0], [1], [2, 3], [4, 5]] : tensor<1x2x2x2x3x2xf32> into tensor<1x2x4x6xf32>
  %0 = sparq_onnx.node "DepthToSpace"(%x) {attrs = {blocksize = 2 : i64, mode = "CRD"}, domain = "", name = "", opset = 13 : i64} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  // CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4, 5]] output_shape [1, 2, 1, 4, 1, 4]
  // CHECK: linalg.transpose {{.*}} permutation = [0, 3, 5, 1, 2, 4]
  // CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3], [4], [5]] : tensor<1x4x4x2x1x1xf32> into tensor<1x32x1x1xf32>
  %y = arith.constant dense<0.0> : tensor<1x2x4x4xf32>
  %1 = sparq_onnx.node "SpaceToDepth"(%y) {attrs = {blocksize = 4 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<1x2x4x4xf32>) -> tensor<1x32x1x1xf32>
  return %0, %1 : tensor<1x2x4x6xf32>, tensor<1x32x1x1xf32>
}

// -----

// CHECK-DAG: #[[SKIP:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @onehot_trilu_eyelike
// CHECK-SAME: (%[[I:.*]]: tensor<3xi64>, %[[D:.*]]: tensor<f32>, %[[V:.*]]: tensor<2xf32>, %[[X:.*]]: tensor<4x5xf32>)
func.func @onehot_trilu_eyelike(%i: tensor<3xi64>, %d: tensor<f32>, %v: tensor<2xf32>, %x: tensor<4x5xf32>) -> (tensor<5x3xf32>, tensor<4x5xf32>, tensor<4x5xi32>) {
  // CHECK: %[[DF:.*]] = tensor.extract %[[D]][] : tensor<f32>
  // CHECK: arith.fptosi %[[DF]]
  // CHECK: %[[OFF:.*]] = tensor.extract %[[V]]
  // CHECK: %[[ON:.*]] = tensor.extract %[[V]]
  // CHECK: linalg.generic {indexing_maps = [#[[SKIP]], #{{.*}}]{{.*}} ins(%[[I]] : tensor<3xi64>) outs(%{{.*}} : tensor<5x3xf32>)
  // CHECK:   %[[K:.*]] = linalg.index 0
  // CHECK:   %[[HIT:.*]] = arith.cmpi eq, %{{.*}}, %[[K]]
  // CHECK:   arith.select %[[HIT]], %[[ON]], %[[OFF]]
  %0 = sparq_onnx.node "OneHot"(%i, %d, %v) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<3xi64>, tensor<f32>, tensor<2xf32>) -> tensor<5x3xf32>
  // CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<4x5xf32>) outs(%{{.*}} : tensor<4x5xf32>)
  // CHECK:   arith.cmpi sle
  %k = arith.constant dense<1> : tensor<i64>
  %1 = sparq_onnx.node "Trilu"(%x, %k) {attrs = {upper = 0 : i64}, domain = "", name = "", opset = 14 : i64} : (tensor<4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
  // CHECK: %[[KE:.*]] = arith.constant -1 : index
  // CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x5xi32>)
  // CHECK:   arith.cmpi eq, %{{.*}}, %[[KE]]
  %2 = sparq_onnx.node "EyeLike"(%x) {attrs = {dtype = 6 : i64, k = -1 : i64}, domain = "", name = "", opset = 9 : i64} : (tensor<4x5xf32>) -> tensor<4x5xi32>
  return %0, %1, %2 : tensor<5x3xf32>, tensor<4x5xf32>, tensor<4x5xi32>
}

// -----

// Scatters are loops over the updates carrying the result tensor.
// CHECK-LABEL: func.func @scatter
// CHECK-SAME: (%[[X:.*]]: tensor<3x3xf32>
func.func @scatter(%x: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>, %j: tensor<2x1xi64>, %w: tensor<2x3xf32>) -> (tensor<3x3xf32>, tensor<3x3xf32>) {
  // CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[X]]) -> (tensor<3x3xf32>)
  // CHECK:   scf.for %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<3x3xf32>)
  // CHECK:     %[[OLD:.*]] = tensor.extract %[[ACC]]
  // CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
  // CHECK:     tensor.insert %[[NEW]] into %[[ACC]]
  %0 = sparq_onnx.node "ScatterElements"(%x, %i, %u) {attrs = {axis = 0 : i64, reduction = "add"}, domain = "", name = "", opset = 16 : i64} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  // CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[X]]) -> (tensor<3x3xf32>)
  // CHECK:   tensor.insert
  %1 = sparq_onnx.node "ScatterND"(%x, %j, %w) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0, %1 : tensor<3x3xf32>, tensor<3x3xf32>
}

// -----

// With static result types, NonZero and Compress count the selected elements in a loop.
// CHECK-LABEL: func.func @nonzero_compress
func.func @nonzero_compress(%x: tensor<2x2xi1>, %y: tensor<3x2xf32>, %c: tensor<3xi1>) -> (tensor<2x3xi64>, tensor<2x2xf32>) {
  // CHECK: scf.for {{.*}} -> (tensor<2x3xi64>, index)
  // CHECK:   scf.for {{.*}} -> (tensor<2x3xi64>, index)
  // CHECK:     scf.if %{{.*}} -> (tensor<2x3xi64>, index)
  // CHECK:       tensor.insert
  // CHECK:       tensor.insert
  %0 = sparq_onnx.node "NonZero"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x2xi1>) -> tensor<2x3xi64>
  // CHECK: scf.for {{.*}} -> (tensor<2x2xf32>, index)
  // CHECK:   scf.if %{{.*}} -> (tensor<2x2xf32>, index)
  // CHECK:     %[[S:.*]] = tensor.extract_slice %{{.*}} [1, 2] [1, 1] : tensor<3x2xf32> to tensor<1x2xf32>
  // CHECK:     tensor.insert_slice %[[S]] into
  %1 = sparq_onnx.node "Compress"(%y, %c) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<3x2xf32>, tensor<3xi1>) -> tensor<2x2xf32>
  return %0, %1 : tensor<2x3xi64>, tensor<2x2xf32>
}

// -----

// Dimensions that are not resized may be dynamic; Tile repeats may broadcast dynamic dims.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x4xf32>)
func.func @dynamic_batch(%x: tensor<?x2x4xf32>) -> (tensor<?x2x8xf32>, tensor<?x4x4xf32>) {
  // CHECK: %[[T:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xi64>)
  // CHECK: %[[N:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x2x4xf32>
  // CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x2x8xf32>
  // CHECK: linalg.generic {{.*}} ins(%[[T]] : tensor<8xi64>) outs(%[[E]] : tensor<?x2x8xf32>)
  %none = sparq_onnx.none
  %sc = arith.constant dense<[1.0, 1.0, 2.0]> : tensor<3xf32>
  %0 = sparq_onnx.node "Resize"(%x, %none, %sc) {attrs = {mode = "nearest"}, domain = "", name = "", opset = 13 : i64} : (tensor<?x2x4xf32>, none, tensor<3xf32>) -> tensor<?x2x8xf32>
  // CHECK: %[[M:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x2x4xf32>
  // CHECK: %[[B:.*]] = linalg.broadcast ins(%[[X]] : tensor<?x2x4xf32>) outs(%{{.*}} : tensor<?x2x2x4xf32>) dimensions = [1]
  // CHECK: tensor.collapse_shape %[[B]] {{\[}}[0], [1, 2], [3]] : tensor<?x2x2x4xf32> into tensor<?x4x4xf32>
  %r = arith.constant dense<[1, 2, 1]> : tensor<3xi64>
  %1 = sparq_onnx.node "Tile"(%x, %r) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x2x4xf32>, tensor<3xi64>) -> tensor<?x4x4xf32>
  return %0, %1 : tensor<?x2x8xf32>, tensor<?x4x4xf32>
}

// -----

// Empty outputs (no in-bounds offset exists in an empty dimension) are tensor.empty.
// CHECK-LABEL: func.func @empty_split
func.func @empty_split(%x: tensor<0xf32>, %s: tensor<2xi64>) -> (tensor<0xf32>, tensor<0xf32>) {
  // CHECK: %[[A:.*]] = tensor.empty() : tensor<0xf32>
  // CHECK: %[[B:.*]] = tensor.empty() : tensor<0xf32>
  // CHECK: return %[[A]], %[[B]]
  %0:2 = sparq_onnx.node "Split"(%x, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<0xf32>, tensor<2xi64>) -> (tensor<0xf32>, tensor<0xf32>)
  return %0#0, %0#1 : tensor<0xf32>, tensor<0xf32>
}
