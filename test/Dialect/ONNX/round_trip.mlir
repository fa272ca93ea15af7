// Tests that sparq_onnx ops print and parse back unchanged (custom assembly round trip).
// RUN: sparq-opt %s | sparq-opt | FileCheck %s

// CHECK-LABEL: func.func @nodes
func.func @nodes(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<1x4x8x8xf32>, tensor<4xui8>) {
  // CHECK: %[[NONE:.*]] = sparq_onnx.none
  %none = sparq_onnx.none
  // CHECK: %[[C:.*]] = sparq_onnx.node "Conv"(%{{.*}}, %{{.*}}, %[[NONE]]) {attrs = {pads = array<i64: 1, 1, 1, 1>}, domain = "", name = "conv1", opset = 13 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  %c = sparq_onnx.node "Conv"(%x, %w, %none) {attrs = {pads = array<i64: 1, 1, 1, 1>}, domain = "", name = "conv1", opset = 13 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  // CHECK: sparq_onnx.node "Foo"() {attrs = {}, domain = "com.example", name = "", opset = 1 : i64} : () -> tensor<4xui8>
  %q = sparq_onnx.node "Foo"() {attrs = {}, domain = "com.example", name = "", opset = 1 : i64} : () -> tensor<4xui8>
  // CHECK: sparq_onnx.node "Split"(%{{.*}}) {{.*}} -> (tensor<1x3x4x8xf32>, tensor<1x3x4x8xf32>)
  %a, %b = sparq_onnx.node "Split"(%x) {attrs = {axis = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<1x3x8x8xf32>) -> (tensor<1x3x4x8xf32>, tensor<1x3x4x8xf32>)
  return %c, %q : tensor<1x4x8x8xf32>, tensor<4xui8>
}
