// Tests that sparq-prepare-entry records the artifact signature, requests the C interface and
// copies outputs that would alias a constant, an argument or another output.
// RUN: sparq-opt %s --sparq-prepare-entry | FileCheck %s

// CHECK: module attributes {sparq.signature = "sparq-signature 1\0Ainputs 2\0Ax%20y float32 2 -1 3\0Aq uint8 1 4\0Aoutputs 3\0Aout0 float32 2 -1 3\0Avalue1 float32 1 4\0Aout0 float32 2 -1 3\0A"}
// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32> {{.*}}, %[[Q:.*]]: tensor<4xi8> {{.*}})
// CHECK-SAME: attributes {llvm.emit_c_interface, sparq.entry}
func.func @main_graph(%x: tensor<?x3xf32> {sparq.name = "x y", sparq.dtype = "float32"},
                      %q: tensor<4xi8> {sparq.name = "q", sparq.dtype = "uint8"})
    -> (tensor<?x3xf32> {sparq.name = "out0", sparq.dtype = "float32"}, tensor<4xf32>,
        tensor<?x3xf32> {sparq.name = "out0", sparq.dtype = "float32"})
    attributes {sparq.entry} {
  // CHECK: %[[CST:.*]] = arith.constant dense<1.0
  %c = arith.constant dense<1.0> : tensor<4xf32>
  // CHECK: %[[D:.*]] = tensor.dim %[[X]], %c0
  // CHECK: %[[A0:.*]] = bufferization.alloc_tensor(%[[D]]) : tensor<?x3xf32>
  // CHECK: %[[C0:.*]] = linalg.copy ins(%[[X]] : tensor<?x3xf32>) outs(%[[A0]] : tensor<?x3xf32>)
  // CHECK: %[[A1:.*]] = bufferization.alloc_tensor() : tensor<4xf32>
  // CHECK: %[[C1:.*]] = linalg.copy ins(%[[CST]] : tensor<4xf32>) outs(%[[A1]] : tensor<4xf32>)
  // CHECK: %[[C2:.*]] = linalg.copy ins(%[[X]]
  // CHECK: return %[[C0]], %[[C1]], %[[C2]]
  return %x, %c, %x : tensor<?x3xf32>, tensor<4xf32>, tensor<?x3xf32>
}
