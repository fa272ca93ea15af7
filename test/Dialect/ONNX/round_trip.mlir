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

// Graph attributes are regions named by `subgraphs`; a body's block arguments are its inputs.
// CHECK-LABEL: func.func @subgraphs
func.func @subgraphs(%c: tensor<i1>, %m: tensor<i64>, %x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  // CHECK: sparq_onnx.node "If"(%{{.*}}) ({
  // CHECK-NEXT: sparq_onnx.yield %{{.*}} : tensor<2xf32>
  // CHECK-NEXT: }, {
  // CHECK: subgraphs = ["then_branch", "else_branch"]
  %r = sparq_onnx.node "If"(%c) ({
    sparq_onnx.yield %x : tensor<2xf32>
  }, {
    %n = sparq_onnx.node "Neg"(%x) {attrs = {}, domain = "", name = "", opset = 16 : i64} : (tensor<2xf32>) -> tensor<2xf32>
    sparq_onnx.yield %n : tensor<2xf32>
  }) {attrs = {}, domain = "", name = "if", opset = 16 : i64, subgraphs = ["then_branch", "else_branch"]} : (tensor<i1>) -> tensor<2xf32>
  // CHECK: sparq_onnx.node "Loop"
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<i64>, %{{.*}}: tensor<i1>, %{{.*}}: tensor<2xf32>):
  %l = sparq_onnx.node "Loop"(%m, %c, %x) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %s: tensor<2xf32>):
    sparq_onnx.yield %cond, %s : tensor<i1>, tensor<2xf32>
  }) {attrs = {}, domain = "", name = "", opset = 16 : i64, subgraphs = ["body"]} : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %r, %l : tensor<2xf32>, tensor<2xf32>
}
