// Tests the diagnostics of the reduction conversions (Reduce*, Softmax family, ArgMax/ArgMin,
// CumSum, Einsum).
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

func.func @unranked_input(%x: tensor<*xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'ReduceSum' node (domain ai.onnx, opset 11): input 0 is not a ranked tensor}}
  %0 = sparq_onnx.node "ReduceSum"(%x) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<*xf32>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @complex_elements(%x: tensor<4xcomplex<f32>>) -> tensor<1xcomplex<f32>> {
  // expected-error @+1 {{'ReduceSum' node (domain ai.onnx, opset 11): unsupported element type 'complex<f32>'}}
  %0 = sparq_onnx.node "ReduceSum"(%x) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<4xcomplex<f32>>) -> tensor<1xcomplex<f32>>
  return %0 : tensor<1xcomplex<f32>>
}

// -----

func.func @int_log_sum(%x: tensor<4xi32>) -> tensor<1xi32> {
  // expected-error @+1 {{'ReduceLogSum' node 'ls' (domain ai.onnx, opset 13): only floating-point element types are supported}}
  %0 = sparq_onnx.node "ReduceLogSum"(%x) {attrs = {}, domain = "", name = "ls", opset = 13 : i64} : (tensor<4xi32>) -> tensor<1xi32>
  return %0 : tensor<1xi32>
}

// -----

func.func @axis_out_of_range(%x: tensor<4x5xf32>) -> tensor<4x1xf32> {
  // expected-error @+1 {{'ReduceMax' node (domain ai.onnx, opset 13): axis 2 is out of range for an input of rank 2}}
  %0 = sparq_onnx.node "ReduceMax"(%x) {attrs = {axes = array<i64: 2>}, domain = "", name = "", opset = 13 : i64} : (tensor<4x5xf32>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

func.func @runtime_axes_dynamic_shape(%x: tensor<?x5xf32>, %axes: tensor<1xi64>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'ReduceSum' node (domain ai.onnx, opset 13): the axes input is not a constant and no set of reduced axes turns the input shape into the result shape}}
  %0 = sparq_onnx.node "ReduceSum"(%x, %axes) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x5xf32>, tensor<1xi64>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

func.func @runtime_axes_matrix(%x: tensor<3x2x2xf32>, %axes: tensor<1x1xi64>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'ReduceMean' node (domain ai.onnx, opset 18): the axes input is not a constant and not a 1-D tensor}}
  %0 = sparq_onnx.node "ReduceMean"(%x, %axes) {attrs = {keepdims = 0 : i64}, domain = "", name = "", opset = 18 : i64} : (tensor<3x2x2xf32>, tensor<1x1xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @wrong_result_type(%x: tensor<4x5xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'ReduceSum' node (domain ai.onnx, opset 11): computed result type 'tensor<4x1xf32>' does not match the node's result type 'tensor<4x5xf32>'}}
  %0 = sparq_onnx.node "ReduceSum"(%x) {attrs = {axes = array<i64: 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<4x5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @int_softmax(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'Softmax' node (domain ai.onnx, opset 13): only floating-point element types are supported}}
  %0 = sparq_onnx.node "Softmax"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @softmax_rank0(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'LogSoftmax' node (domain ai.onnx, opset 13): the input must have rank >= 1}}
  %0 = sparq_onnx.node "LogSoftmax"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @hardmax_axis(%x: tensor<4x5xf32>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'Hardmax' node (domain ai.onnx, opset 11): axis -3 is out of range for an input of rank 2}}
  %0 = sparq_onnx.node "Hardmax"(%x) {attrs = {axis = -3 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<4x5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @argmax_axis(%x: tensor<4x5xf32>) -> tensor<4x1xi64> {
  // expected-error @+1 {{'ArgMax' node (domain ai.onnx, opset 13): axis 5 is out of range for an input of rank 2}}
  %0 = sparq_onnx.node "ArgMax"(%x) {attrs = {axis = 5 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4x5xf32>) -> tensor<4x1xi64>
  return %0 : tensor<4x1xi64>
}

// -----

func.func @argmin_element_type(%x: tensor<4xcomplex<f32>>) -> tensor<1xi64> {
  // expected-error @+1 {{'ArgMin' node (domain ai.onnx, opset 13): unsupported element type 'complex<f32>'}}
  %0 = sparq_onnx.node "ArgMin"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xcomplex<f32>>) -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

func.func @cumsum_rank0(%x: tensor<f32>) -> tensor<f32> {
  %axis = arith.constant dense<0> : tensor<i64>
  // expected-error @+1 {{'CumSum' node (domain ai.onnx, opset 14): the input must have rank >= 1}}
  %0 = sparq_onnx.node "CumSum"(%x, %axis) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<f32>, tensor<i64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @cumsum_axis_shape(%x: tensor<4x5xf32>, %axis: tensor<?xi64>) -> tensor<4x5xf32> {
  // expected-error @+1 {{'CumSum' node (domain ai.onnx, opset 14): the axis input must be an integer tensor holding one value}}
  %0 = sparq_onnx.node "CumSum"(%x, %axis) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<4x5xf32>, tensor<?xi64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @cumsum_axis_range(%x: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %axis = arith.constant dense<-3> : tensor<i64>
  // expected-error @+1 {{'CumSum' node (domain ai.onnx, opset 14): axis -3 is out of range for an input of rank 2}}
  %0 = sparq_onnx.node "CumSum"(%x, %axis) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

func.func @cumsum_element_type(%x: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  %axis = arith.constant dense<0> : tensor<i64>
  // expected-error @+1 {{'CumSum' node (domain ai.onnx, opset 14): unsupported element type 'complex<f32>'}}
  %0 = sparq_onnx.node "CumSum"(%x, %axis) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<4xcomplex<f32>>, tensor<i64>) -> tensor<4xcomplex<f32>>
  return %0 : tensor<4xcomplex<f32>>
}

// -----

func.func @einsum_term_count(%a: tensor<3x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij,jk->ik': it has 2 input terms for 1 inputs}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ij,jk->ik"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @einsum_term_rank(%a: tensor<3x4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ijk->i': term 'ijk' does not match input 0 of rank 2}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ijk->i"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @einsum_size_mismatch(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) -> tensor<3x6xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij,jk->ik': dimension sizes 4 and 5 of one subscript differ}}
  %0 = sparq_onnx.node "Einsum"(%a, %b) {attrs = {equation = "ij,jk->ik"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>, tensor<5x6xf32>) -> tensor<3x6xf32>
  return %0 : tensor<3x6xf32>
}

// -----

func.func @einsum_bad_output(%a: tensor<3x4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij->i.': the output term 'i.' is malformed}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ij->i."}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @einsum_repeated_output(%a: tensor<3x4xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij->ii': an output subscript is repeated}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ij->ii"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @einsum_unknown_output(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij->ik': an output subscript does not appear in the inputs}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ij->ik"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @einsum_result_rank(%a: tensor<3x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij->i': the output has 1 dimensions but the result has rank 2}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ij->i"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @einsum_result_size(%a: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported equation 'ij->i': output dimension 0 has size 3 but the result type says 4}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "ij->i"}, domain = "", name = "", opset = 12 : i64} : (tensor<3x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @einsum_element_type(%a: tensor<3xcomplex<f32>>) -> tensor<complex<f32>> {
  // expected-error @+1 {{'Einsum' node (domain ai.onnx, opset 12): unsupported element type 'complex<f32>'}}
  %0 = sparq_onnx.node "Einsum"(%a) {attrs = {equation = "i->"}, domain = "", name = "", opset = 12 : i64} : (tensor<3xcomplex<f32>>) -> tensor<complex<f32>>
  return %0 : tensor<complex<f32>>
}
