// Tests the conversion of ConvInteger, QLinearMatMul and QLinearConv: operands widened to i32 by
// their signedness minus their zero points (per tensor, per output channel, per column), an i32
// contraction (named conv / matmul op, a generic for groups, the bias as the accumulator's init),
// and for QLinear* the requantization: f32(acc) * (sa * sb / sy), round half to even, plus the
// output zero point, clamped to the 8-bit range.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1, d2, d3) -> ()>
// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, 0)>
// CHECK-LABEL: func.func @convinteger
func.func @convinteger(%x: tensor<1x2x5x5xui8>, %w: tensor<3x2x3x3xi8>, %xz: tensor<ui8>, %wz: tensor<3xi8>) -> tensor<1x3x5x5xi32> {
  // CHECK: %[[X:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]
  // CHECK:   arith.extui %{{.*}} : i8 to i32
  // CHECK:   arith.extui %{{.*}} : i8 to i32
  // CHECK:   arith.subi
  // CHECK: } -> tensor<1x2x5x5xi32>
  // CHECK: %[[WZ:.*]] = tensor.expand_shape %{{.*}} output_shape [3, 1, 1, 1]
  // CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[CHAN]], #[[ID]]]{{.*}} ins(%{{.*}}, %[[WZ]]
  // CHECK:   arith.extsi %{{.*}} : i8 to i32
  // CHECK:   arith.extsi %{{.*}} : i8 to i32
  // CHECK:   arith.subi
  // CHECK: } -> tensor<3x2x3x3xi32>
  // CHECK: %[[XP:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<1x3x5x5xi32>)
  // CHECK: %[[Y:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%[[XP]], %[[W]] : tensor<1x2x7x7xi32>, tensor<3x2x3x3xi32>) outs(%[[Z]] : tensor<1x3x5x5xi32>)
  // CHECK: return %[[Y]]
  %0 = sparq_onnx.node "ConvInteger"(%x, %w, %xz, %wz) {attrs = {pads = array<i64: 1, 1, 1, 1>}, domain = "", name = "", opset = 10 : i64} : (tensor<1x2x5x5xui8>, tensor<3x2x3x3xi8>, tensor<ui8>, tensor<3xi8>) -> tensor<1x3x5x5xi32>
  return %0 : tensor<1x3x5x5xi32>
}

// -----

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @qlinearmatmul
// CHECK-SAME: %[[AS:[a-z0-9]*]]: tensor<f32>, %{{.*}}: tensor<i8>, %{{.*}}: tensor<4x3xi8>, %[[BS:[a-z0-9]*]]: tensor<3xf32>, %{{.*}}: tensor<3xi8>, %[[YS:[a-z0-9]*]]: tensor<f32>, %[[YZ:[a-z0-9]*]]: tensor<i8>)
func.func @qlinearmatmul(%a: tensor<2x4xui8>, %as: tensor<f32>, %az: tensor<ui8>, %b: tensor<4x3xui8>, %bs: tensor<3xf32>, %bz: tensor<3xui8>, %ys: tensor<f32>, %yz: tensor<ui8>) -> tensor<2x3xui8> {
  // CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]
  // CHECK: %[[B:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
  // CHECK: %[[ACC:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<2x4xi32>, tensor<4x3xi32>) outs(%{{.*}} : tensor<2x3xi32>)
  // CHECK: %[[BS2:.*]] = tensor.expand_shape %[[BS]] {{\[}}[0, 1]] output_shape [1, 3]
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[COL]], #[[SCALAR]], #[[SCALAR]], #[[ID]]]{{.*}} ins(%[[ACC]], %[[AS]], %[[BS2]], %[[YS]], %[[YZ]] : {{.*}}) outs(%{{.*}} : tensor<2x3xi8>)
  // CHECK: ^bb0(%[[I:.*]]: i32, %[[SA:.*]]: f32, %[[SB:.*]]: f32, %[[SY:.*]]: f32, %[[ZY:.*]]: i8, %{{.*}}: i8):
  // CHECK:   %[[P:.*]] = arith.mulf %[[SA]], %[[SB]] : f32
  // CHECK:   %[[M:.*]] = arith.divf %[[P]], %[[SY]] : f32
  // CHECK:   %[[F:.*]] = arith.sitofp %[[I]] : i32 to f32
  // CHECK:   %[[S:.*]] = arith.mulf %[[F]], %[[M]] : f32
  // CHECK:   %[[R:.*]] = math.roundeven %[[S]] : f32
  // CHECK:   %[[Z:.*]] = arith.uitofp %[[ZY]] : i8 to f32
  // CHECK:   %[[Q:.*]] = arith.addf %[[R]], %[[Z]] : f32
  // CHECK:   arith.maximumf %[[Q]], %{{.*}} : f32
  // CHECK:   arith.constant 2.550000e+02 : f32
  // CHECK:   arith.minimumf
  // CHECK:   arith.fptoui %{{.*}} : f32 to i8
  %0 = sparq_onnx.node "QLinearMatMul"(%a, %as, %az, %b, %bs, %bz, %ys, %yz) {attrs = {}, domain = "", name = "", opset = 10 : i64} : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>, tensor<4x3xui8>, tensor<3xf32>, tensor<3xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

// Groups: a generic over [N, G, F/G, H, W, C/G, KH, KW] accumulating into the broadcast bias; the
// per-channel weight scale lies along the output channels.
// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[OMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// CHECK-LABEL: func.func @qlinearconv_groups
func.func @qlinearconv_groups(%x: tensor<1x4x5x5xi8>, %xs: tensor<f32>, %xz: tensor<i8>, %w: tensor<4x2x3x3xi8>, %ws: tensor<4xf32>, %wz: tensor<i8>, %ys: tensor<f32>, %yz: tensor<i8>, %bias: tensor<4xi32>) -> tensor<1x4x3x3xi8> {
  // CHECK: %[[BIAS:.*]] = linalg.broadcast ins(%{{.*}} : tensor<4xi32>) outs(%{{.*}} : tensor<1x4x3x3xi32>) dimensions = [0, 2, 3]
  // CHECK: %[[INIT:.*]] = tensor.expand_shape %[[BIAS]] {{.*}} into tensor<1x2x2x3x3xi32>
  // CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[OMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}{{.*}} outs(%[[INIT]] : tensor<1x2x2x3x3xi32>)
  // CHECK:   arith.muli
  // CHECK:   arith.addi
  // CHECK: %[[Y:.*]] = tensor.collapse_shape %[[ACC]] {{.*}} into tensor<1x4x3x3xi32>
  // CHECK: %[[WS:.*]] = tensor.expand_shape %{{.*}} output_shape [1, 4, 1, 1]
  // CHECK: linalg.generic {{.*}} ins(%[[Y]], %{{.*}}, %[[WS]], %{{.*}}, %{{.*}} : tensor<1x4x3x3xi32>, tensor<f32>, tensor<1x4x1x1xf32>, tensor<f32>, tensor<i8>) outs(%{{.*}} : tensor<1x4x3x3xi8>)
  // CHECK:   math.roundeven
  // CHECK:   arith.constant -1.280000e+02 : f32
  // CHECK:   arith.constant 1.270000e+02 : f32
  // CHECK:   arith.fptosi %{{.*}} : f32 to i8
  %0 = sparq_onnx.node "QLinearConv"(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %bias) {attrs = {group = 2 : i64}, domain = "", name = "", opset = 10 : i64} : (tensor<1x4x5x5xi8>, tensor<f32>, tensor<i8>, tensor<4x2x3x3xi8>, tensor<4xf32>, tensor<i8>, tensor<f32>, tensor<i8>, tensor<4xi32>) -> tensor<1x4x3x3xi8>
  return %0 : tensor<1x4x3x3xi8>
}
