// Tests the conversion of MatMul, MatMulInteger, Gemm, Conv and ConvTranspose to linalg named ops
// (matmul, batch_matmul, conv_*_nc*_fc*, depthwise, grouped) with their reshapes, pads and inits.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// A 2-D weight: the activation's batch dims fold into M around one linalg.matmul.
// CHECK-LABEL: func.func @matmul_weight
// CHECK-SAME: (%[[A:.*]]: tensor<2x3x4xf32>, %[[B:.*]]: tensor<4x5xf32>)
func.func @matmul_weight(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<2x3x5xf32> {
  // CHECK: %[[A2:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  // CHECK: %[[Z:.*]] = linalg.fill
  // CHECK: %[[M:.*]] = linalg.matmul ins(%[[A2]], %[[B]] : tensor<6x4xf32>, tensor<4x5xf32>) outs(%[[Z]] : tensor<6x5xf32>)
  // CHECK: %[[R:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1], [2]] output_shape [2, 3, 5]
  // CHECK: return %[[R]]
  %0 = sparq_onnx.node "MatMul"(%a, %b) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// Broadcast batch dims are materialized, then flattened into one batch_matmul.
// CHECK-DAG: #[[BA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
// CHECK-DAG: #[[BB:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_batch_broadcast
func.func @matmul_batch_broadcast(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[BA]], {{.*}}]{{.*}} outs(%{{.*}} : tensor<2x5x3x4xf32>)
  // CHECK: %[[A3:.*]] = tensor.collapse_shape {{.*}} into tensor<10x3x4xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[BB]], {{.*}}]{{.*}} outs(%{{.*}} : tensor<2x5x4x6xf32>)
  // CHECK: %[[B3:.*]] = tensor.collapse_shape {{.*}} into tensor<10x4x6xf32>
  // CHECK: %[[M:.*]] = linalg.batch_matmul ins(%[[A3]], %[[B3]] : tensor<10x3x4xf32>, tensor<10x4x6xf32>)
  // CHECK: tensor.expand_shape %[[M]] {{\[}}[0, 1], [2], [3]] output_shape [2, 5, 3, 6]
  %0 = sparq_onnx.node "MatMul"(%a, %b) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
  return %0 : tensor<2x5x3x6xf32>
}

// -----

// A 1-D operand is promoted to a matrix and the unit dim dropped from the result.
// CHECK-LABEL: func.func @matmul_vector
func.func @matmul_vector(%a: tensor<4xf32>, %b: tensor<4x5xf32>) -> tensor<5xf32> {
  // CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [1, 4]
  // CHECK: linalg.matmul {{.*}} -> tensor<1x5xf32>
  // CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<1x5xf32> into tensor<5xf32>
  %0 = sparq_onnx.node "MatMul"(%a, %b) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// Integer MatMul: signless linalg.matmul (wrapping arithmetic is the same for ui32).
// CHECK-LABEL: func.func @matmul_int
// CHECK-SAME: tensor<3x4xi32>
func.func @matmul_int(%a: tensor<3x4xui32>, %b: tensor<4x5xui32>) -> tensor<3x5xui32> {
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x4xi32>, tensor<4x5xi32>) outs(%{{.*}} : tensor<3x5xi32>)
  %0 = sparq_onnx.node "MatMul"(%a, %b) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xui32>, tensor<4x5xui32>) -> tensor<3x5xui32>
  return %0 : tensor<3x5xui32>
}

// -----

// MatMulInteger: operands widened to i32 (by their signedness) minus their zero points.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @matmul_integer
func.func @matmul_integer(%a: tensor<3x4xui8>, %b: tensor<4x5xi8>, %za: tensor<ui8>, %zb: tensor<5xi8>) -> tensor<3x5xi32> {
  // CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]
  // CHECK:   arith.extui
  // CHECK:   arith.extui
  // CHECK:   arith.subi
  // CHECK: %[[B:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
  // CHECK:   arith.extsi
  // CHECK:   arith.extsi
  // CHECK:   arith.subi
  // CHECK: linalg.matmul ins(%[[A]], %[[B]] : tensor<3x4xi32>, tensor<4x5xi32>)
  %0 = sparq_onnx.node "MatMulInteger"(%a, %b, %za, %zb) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<3x4xui8>, tensor<4x5xi8>, tensor<ui8>, tensor<5xi8>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----

// Gemm with transB: a transposed indexing map on linalg.matmul, accumulating into beta * C.
// CHECK-DAG: #[[MA:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[MB:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MC:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @gemm_transb_bias
// CHECK-SAME: (%[[A:.*]]: tensor<3x4xf32>, %[[B:.*]]: tensor<5x4xf32>, %[[C:.*]]: tensor<5xf32>)
func.func @gemm_transb_bias(%a: tensor<3x4xf32>, %b: tensor<5x4xf32>, %c: tensor<5xf32>) -> tensor<3x5xf32> {
  // CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[C]] : tensor<5xf32>) outs(%{{.*}} : tensor<3x5xf32>)
  // CHECK:   arith.constant 2.000000e+00
  // CHECK:   arith.mulf
  // CHECK: %[[R:.*]] = linalg.matmul indexing_maps = [#[[MA]], #[[MB]], #[[MC]]] ins(%[[A]], %[[B]] : tensor<3x4xf32>, tensor<5x4xf32>) outs(%[[INIT]] : tensor<3x5xf32>)
  // CHECK: return %[[R]]
  %0 = sparq_onnx.node "Gemm"(%a, %b, %c) {attrs = {transB = 1 : i64, beta = 2.0 : f32}, domain = "", name = "", opset = 13 : i64} : (tensor<3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Gemm with transA, alpha and no C: the product is scaled afterwards.
// CHECK-DAG: #[[MA:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-LABEL: func.func @gemm_alpha
func.func @gemm_alpha(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>) -> tensor<3x5xf32> {
  // CHECK: %[[M:.*]] = linalg.matmul indexing_maps = [#[[MA]], {{.*}}] {{.*}} -> tensor<3x5xf32>
  // CHECK: linalg.generic {{.*}} ins(%[[M]] : tensor<3x5xf32>)
  // CHECK:   arith.constant 5.000000e-01
  // CHECK:   arith.mulf
  %n = sparq_onnx.none
  %0 = sparq_onnx.node "Gemm"(%a, %b, %n) {attrs = {transA = 1 : i64, alpha = 5.000000e-01 : f32}, domain = "", name = "", opset = 13 : i64} : (tensor<4x3xf32>, tensor<4x5xf32>, none) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Conv: padded input, bias broadcast as the accumulator, strides on the named op.
// CHECK-LABEL: func.func @conv2d
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>)
func.func @conv2d(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK: } : tensor<1x3x8x8xf32> to tensor<1x3x10x10xf32>
  // CHECK: %[[INIT:.*]] = linalg.broadcast ins(%[[B]] : tensor<4xf32>) outs(%{{.*}} : tensor<1x4x4x4xf32>) dimensions = [0, 2, 3]
  // CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %[[W]] : {{.*}}) outs(%[[INIT]] : tensor<1x4x4x4xf32>)
  %0 = sparq_onnx.node "Conv"(%x, %w, %b) {attrs = {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// auto_pad SAME_UPPER puts the odd padding element at the end.
// CHECK-LABEL: func.func @conv_same_upper
func.func @conv_same_upper(%x: tensor<1x3x5x5xf32>, %w: tensor<4x3x2x2xf32>) -> tensor<1x4x5x5xf32> {
  // CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
  // CHECK: linalg.conv_2d_nchw_fchw {{.*}} -> tensor<1x4x5x5xf32>
  %0 = sparq_onnx.node "Conv"(%x, %w) {attrs = {auto_pad = "SAME_UPPER"}, domain = "", name = "", opset = 11 : i64} : (tensor<1x3x5x5xf32>, tensor<4x3x2x2xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

// group == channels: depthwise named op on the [C, KH, KW] weight.
// CHECK-LABEL: func.func @conv_depthwise
func.func @conv_depthwise(%x: tensor<1x4x6x6xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x2x2xf32> {
  // CHECK: %[[W:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3]] : tensor<4x1x3x3xf32> into tensor<4x3x3xf32>
  // CHECK: linalg.depthwise_conv_2d_nchw_chw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%{{.*}}, %[[W]] :
  %0 = sparq_onnx.node "Conv"(%x, %w) {attrs = {group = 4 : i64, dilations = array<i64: 2, 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Other groups: channels split into [G, C/G], conv_2d_ngchw_gfchw, merged back.
// CHECK-LABEL: func.func @conv_grouped
func.func @conv_grouped(%x: tensor<1x4x5x5xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x3x3xf32> {
  // CHECK: %[[X:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 5, 5]
  // CHECK: %[[W:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
  // CHECK: %[[I:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 3, 3, 3]
  // CHECK: %[[C:.*]] = linalg.conv_2d_ngchw_gfchw {{.*}} ins(%[[X]], %[[W]] : {{.*}}) outs(%[[I]] : tensor<1x2x3x3x3xf32>)
  // CHECK: tensor.collapse_shape %[[C]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x3x3xf32> into tensor<1x6x3x3xf32>
  %0 = sparq_onnx.node "Conv"(%x, %w) {attrs = {group = 2 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x5x5xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x3x3xf32>
  return %0 : tensor<1x6x3x3xf32>
}

// -----

// A grouped 1-D convolution goes through the 2-D grouped op with a unit height.
// CHECK-LABEL: func.func @conv1d_grouped
func.func @conv1d_grouped(%x: tensor<1x4x5xf32>, %w: tensor<6x2x3xf32>) -> tensor<1x6x3xf32> {
  // CHECK: linalg.conv_2d_ngchw_gfchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x2x1x5xf32>, tensor<2x3x2x1x3xf32>) outs(%{{.*}} : tensor<1x2x3x1x3xf32>)
  %0 = sparq_onnx.node "Conv"(%x, %w) {attrs = {group = 2 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x5xf32>, tensor<6x2x3xf32>) -> tensor<1x6x3xf32>
  return %0 : tensor<1x6x3xf32>
}

// -----

// A grouped 3-D convolution is a window linalg.generic over the split channel dims.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d6, d3 + d7, d4 + d8, d5 + d9)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d1, d2, d6, d7, d8, d9)>
// CHECK-LABEL: func.func @conv3d_grouped
func.func @conv3d_grouped(%x: tensor<1x4x3x5x5xf32>, %w: tensor<6x2x1x3x3xf32>) -> tensor<1x6x3x3x3xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]}
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  %0 = sparq_onnx.node "Conv"(%x, %w) {attrs = {group = 2 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<1x4x3x5x5xf32>, tensor<6x2x1x3x3xf32>) -> tensor<1x6x3x3x3xf32>
  return %0 : tensor<1x6x3x3x3xf32>
}

// -----

// ConvTranspose: the input scattered with stride 2 into a zero buffer, convolved (stride 1) with
// the flipped, channel-swapped weight.
// CHECK-DAG: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, -d2 + 2, -d3 + 2)>
// CHECK-LABEL: func.func @conv_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x3xf32>, %[[W:.*]]: tensor<2x4x3x3xf32>)
func.func @conv_transpose(%x: tensor<1x2x3x3xf32>, %w: tensor<2x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // CHECK: %[[Z:.*]] = linalg.fill {{.*}} -> tensor<1x2x8x8xf32>
  // CHECK: %[[BUF:.*]] = tensor.insert_slice %[[X]] into %[[Z]][0, 0, 1, 1] [1, 2, 3, 3] [1, 1, 2, 2]
  // CHECK: %[[WF:.*]] = linalg.generic {indexing_maps = [#[[FLIP]], {{.*}}]{{.*}} ins(%[[W]] : tensor<2x4x3x3xf32>) outs(%{{.*}} : tensor<4x2x3x3xf32>)
  // CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[BUF]], %[[WF]] : {{.*}}) {{.*}} -> tensor<1x4x6x6xf32>
  %0 = sparq_onnx.node "ConvTranspose"(%x, %w) {attrs = {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<1x2x3x3xf32>, tensor<2x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}
