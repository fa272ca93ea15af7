// Tests the diagnostics of the shape and data-movement conversions (Shape.cpp): one case per
// unsupported form or malformed node.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

func.func @unranked_input(%x: tensor<*xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'Transpose' node (domain ai.onnx, opset 13): the input must be a ranked tensor}}
  %0 = sparq_onnx.node "Transpose"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<*xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @squeeze_axis_out_of_range(%x: tensor<?x1xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'axes' [2] is out of range for rank 2}}
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {axes = array<i64: 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<?x1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @squeeze_repeated_axis(%x: tensor<?x1xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'axes' [1, -1] repeats an axis}}
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {axes = array<i64: 1, -1>}, domain = "", name = "", opset = 11 : i64} : (tensor<?x1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>, %s: tensor<2xi64>) -> tensor<2x2xf32> {
  // expected-error @+1 {{cannot reshape 6 elements into 4}}
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @reshape_runtime_shape(%x: tensor<?x3xf32>, %s: tensor<3xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'shape' has 3 entries for a rank-2 result}}
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?x3xf32>, tensor<3xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_shape_length(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %s = arith.constant dense<[0, 3, 1]> : tensor<3xi64>
  // expected-error @+1 {{'shape' has 3 entries for a rank-2 result}}
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?x3xf32>, tensor<3xi64>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

func.func @reshape_two_inferred(%x: tensor<?x3xf32>) -> tensor<?x?xf32> {
  %s = arith.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+1 {{'shape' [-1, -1] has more than one -1 entry}}
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_copy_missing_dim(%x: tensor<?xf32>) -> tensor<?x?xf32> {
  %s = arith.constant dense<[-1, 0]> : tensor<2xi64>
  // expected-error @+1 {{'shape' [-1, 0] copies dimension 1 of a rank-1 input}}
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reshape_negative(%x: tensor<?xf32>) -> tensor<?x?xf32> {
  %s = arith.constant dense<[-1, -2]> : tensor<2xi64>
  // expected-error @+1 {{'shape' [-1, -2] has a negative entry}}
  %0 = sparq_onnx.node "Reshape"(%x, %s) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @flatten_axis(%x: tensor<2x3xf32>) -> tensor<6x1xf32> {
  // expected-error @+1 {{attribute 'axis' = 3 is out of range for rank 2}}
  %0 = sparq_onnx.node "Flatten"(%x) {attrs = {axis = 3 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}

// -----

func.func @squeeze_count(%x: tensor<2x1xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{the result shape does not hold the input's elements}}
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x1xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @squeeze_runtime_axes(%x: tensor<?x1xf32>, %a: tensor<2xi64>) -> tensor<?xf32> {
  // expected-error @+1 {{'axes' must be a 1-D tensor of 1 entries (the rank difference of the input and the result)}}
  %0 = sparq_onnx.node "Squeeze"(%x, %a) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @squeeze_dynamic_no_axes(%x: tensor<?x1xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{without 'axes', dimension 0 of the input must be static to tell whether it is squeezed}}
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @squeeze_non_unit(%x: tensor<?x2xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{cannot squeeze dimension 1 of size 2}}
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {axes = array<i64: 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<?x2xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @squeeze_rank(%x: tensor<?x1x1xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{squeezing leaves rank 2 but the result has rank 1}}
  %0 = sparq_onnx.node "Squeeze"(%x) {attrs = {axes = array<i64: 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<?x1x1xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @unsqueeze_count(%x: tensor<2x3xf32>) -> tensor<1x5xf32> {
  %a = arith.constant dense<[0]> : tensor<1xi64>
  // expected-error @+1 {{the result shape does not hold the input's elements}}
  %0 = sparq_onnx.node "Unsqueeze"(%x, %a) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

func.func @unsqueeze_runtime_axes(%x: tensor<?xf32>, %a: tensor<1x1xi64>) -> tensor<1x?xf32> {
  // expected-error @+1 {{'axes' must be a 1-D tensor of 1 entries (the rank difference of the input and the result)}}
  %0 = sparq_onnx.node "Unsqueeze"(%x, %a) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?xf32>, tensor<1x1xi64>) -> tensor<1x?xf32>
  return %0 : tensor<1x?xf32>
}

// -----

func.func @unsqueeze_no_axes(%x: tensor<?xf32>) -> tensor<1x?xf32> {
  // expected-error @+1 {{'axes' is required}}
  %0 = sparq_onnx.node "Unsqueeze"(%x) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<?xf32>) -> tensor<1x?xf32>
  return %0 : tensor<1x?xf32>
}

// -----

func.func @unsqueeze_rank(%x: tensor<?xf32>) -> tensor<1x?xf32> {
  // expected-error @+1 {{unsqueezing 2 axes of a rank-1 input does not give the rank-2 result}}
  %0 = sparq_onnx.node "Unsqueeze"(%x) {attrs = {axes = array<i64: 0, 1>}, domain = "", name = "", opset = 11 : i64} : (tensor<?xf32>) -> tensor<1x?xf32>
  return %0 : tensor<1x?xf32>
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{attribute 'perm' = [1, 1] is not a permutation of 2 dimensions}}
  %0 = sparq_onnx.node "Transpose"(%x) {attrs = {perm = array<i64: 1, 1>}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @concat_axis(%x: tensor<2x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{attribute 'axis' = 2 is out of range for rank 2}}
  %0 = sparq_onnx.node "Concat"(%x, %x) {attrs = {axis = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_rank(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{input 1 has rank 1 but the result has rank 2}}
  %0 = sparq_onnx.node "Concat"(%x, %y) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @split_axis(%x: tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  // expected-error @+1 {{attribute 'axis' = 1 is out of range for rank 1}}
  %0:2 = sparq_onnx.node "Split"(%x) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0#0, %0#1 : tensor<2xf32>, tensor<2xf32>
}

// -----

func.func @split_count(%x: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  // expected-error @+1 {{'split' has 3 entries for 2 outputs}}
  %0:2 = sparq_onnx.node "Split"(%x) {attrs = {split = array<i64: 1, 1, 2>}, domain = "", name = "", opset = 11 : i64} : (tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>)
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xf32>
}

// -----

func.func @slice_runtime_axes_dynamic(%x: tensor<?x8xf32>, %s: tensor<1xi64>, %a: tensor<1x1xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'starts', 'ends', 'axes' and 'steps' must be 1-D tensors}}
  %0 = sparq_onnx.node "Slice"(%x, %s, %s, %a) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1x1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @slice_dynamic_starts(%x: tensor<8xf32>, %s: tensor<?x1xi64>) -> tensor<?xf32> {
  // expected-error @+1 {{'starts' must be a 1-D tensor}}
  %0 = sparq_onnx.node "Slice"(%x, %s, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<8xf32>, tensor<?x1xi64>, tensor<?x1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @slice_lengths(%x: tensor<8xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'starts', 'ends', 'axes' and 'steps' must have the same length}}
  %0 = sparq_onnx.node "Slice"(%x) {attrs = {starts = array<i64: 1>, ends = array<i64: 3, 4>}, domain = "", name = "", opset = 1 : i64} : (tensor<8xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @slice_zero_step(%x: tensor<8xf32>) -> tensor<2xf32> {
  %s = arith.constant dense<[1]> : tensor<1xi64>
  %e = arith.constant dense<[3]> : tensor<1xi64>
  %a = arith.constant dense<[0]> : tensor<1xi64>
  %z = arith.constant dense<[0]> : tensor<1xi64>
  // expected-error @+1 {{'steps' [0] has a zero entry}}
  %0 = sparq_onnx.node "Slice"(%x, %s, %e, %a, %z) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @slice_result_mismatch(%x: tensor<8xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{the slice along axis 0 has 2 elements but the result type has 3}}
  %0 = sparq_onnx.node "Slice"(%x) {attrs = {starts = array<i64: 1>, ends = array<i64: 3>}, domain = "", name = "", opset = 1 : i64} : (tensor<8xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_axis(%x: tensor<4xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{attribute 'axis' = -2 is out of range for rank 1}}
  %0 = sparq_onnx.node "Gather"(%x, %i) {attrs = {axis = -2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_rank(%x: tensor<4x3xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{the result has rank 1, expected 2}}
  %0 = sparq_onnx.node "Gather"(%x, %i) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x3xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_constant_index(%x: tensor<4x3xf32>) -> tensor<3xf32> {
  %i = arith.constant dense<4> : tensor<i64>
  // expected-error @+1 {{index 4 is out of range for axis 0 of size 4}}
  %0 = sparq_onnx.node "Gather"(%x, %i) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x3xf32>, tensor<i64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_elements_axis(%x: tensor<4xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{attribute 'axis' = 1 is out of range for rank 1}}
  %0 = sparq_onnx.node "GatherElements"(%x, %i) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_elements_rank(%x: tensor<4x2xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{indices have rank 1 but data has rank 2}}
  %0 = sparq_onnx.node "GatherElements"(%x, %i) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_nd_dynamic_tuple(%x: tensor<4x2xf32>, %i: tensor<2x?xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{the last dimension of the indices must be static}}
  %0 = sparq_onnx.node "GatherND"(%x, %i) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x2xf32>, tensor<2x?xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_nd_batch_dims(%x: tensor<4x2xf32>, %i: tensor<4x2xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'batch_dims' = 1 with 2-tuples of indices does not fit data of rank 2}}
  %0 = sparq_onnx.node "GatherND"(%x, %i) {attrs = {batch_dims = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4x2xf32>, tensor<4x2xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @gather_nd_rank(%x: tensor<4x2xf32>, %i: tensor<3x1xi64>) -> tensor<3xf32> {
  // expected-error @+1 {{the result has rank 1, expected 2}}
  %0 = sparq_onnx.node "GatherND"(%x, %i) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x2xf32>, tensor<3x1xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @shape_result(%x: tensor<4x2xf32>) -> tensor<3xi64> {
  // expected-error @+1 {{the result type 1-D does not hold 2 dimensions}}
  %0 = sparq_onnx.node "Shape"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x2xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

func.func @constant_of_shape_value(%s: tensor<1xi64>) -> tensor<3xf32> {
  // expected-error @+1 {{attribute 'value' must be a one-element tensor}}
  %0 = sparq_onnx.node "ConstantOfShape"(%s) {attrs = {value = dense<[1.0, 2.0]> : tensor<2xf32>}, domain = "", name = "", opset = 9 : i64} : (tensor<1xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @constant_of_shape_type(%s: tensor<1xi64>) -> tensor<3xf32> {
  // expected-error @+1 {{attribute 'value' of element type i32 does not match the result element type f32}}
  %0 = sparq_onnx.node "ConstantOfShape"(%s) {attrs = {value = dense<1> : tensor<1xi32>}, domain = "", name = "", opset = 9 : i64} : (tensor<1xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @expand_runtime_shape(%x: tensor<?x1xf32>, %s: tensor<3xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{the 'shape' input is read at run time: it must be 1-D with at most as many entries as the result has dimensions (2)}}
  %0 = sparq_onnx.node "Expand"(%x, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @expand_rank(%x: tensor<2x3xf32>, %s: tensor<1xi64>) -> tensor<6xf32> {
  // expected-error @+1 {{the input has rank 2 above the result's 1}}
  %0 = sparq_onnx.node "Expand"(%x, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

func.func @expand_broadcast(%x: tensor<2x3xf32>, %s: tensor<2xi64>) -> tensor<2x4xf32> {
  // expected-error @+1 {{input dimension 1 of size 3 cannot broadcast to 4}}
  %0 = sparq_onnx.node "Expand"(%x, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @tile_negative(%x: tensor<?xf32>) -> tensor<?xf32> {
  %r = arith.constant dense<[-1]> : tensor<1xi64>
  // expected-error @+1 {{'repeats' [-1] has a negative entry}}
  %0 = sparq_onnx.node "Tile"(%x, %r) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @tile_multiple(%x: tensor<3xf32>, %r: tensor<1xi64>) -> tensor<7xf32> {
  // expected-error @+1 {{result dimension 0 of size 7 is not a multiple of the input's 3}}
  %0 = sparq_onnx.node "Tile"(%x, %r) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3xf32>, tensor<1xi64>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @tile_runtime_repeats(%x: tensor<3xf32>, %r: tensor<1xi64>) -> tensor<?xf32> {
  // expected-error @+1 {{the 'repeats' input is not a constant and the shapes are not static}}
  %0 = sparq_onnx.node "Tile"(%x, %r) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @tile_repeats_length(%x: tensor<3xf32>) -> tensor<?xf32> {
  %r = arith.constant dense<[2, 2]> : tensor<2xi64>
  // expected-error @+1 {{'repeats' has 2 entries for rank 1}}
  %0 = sparq_onnx.node "Tile"(%x, %r) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3xf32>, tensor<2xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @pad_mode(%x: tensor<3xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{attribute 'mode' = 'wrap' is not supported (constant, reflect, edge)}}
  %0 = sparq_onnx.node "Pad"(%x) {attrs = {mode = "wrap", pads = array<i64: 1, 1>}, domain = "", name = "", opset = 2 : i64} : (tensor<3xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @pad_no_pads(%x: tensor<3xf32>) -> tensor<5xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{the 'pads' input is required}}
  %0 = sparq_onnx.node "Pad"(%x, %none) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<3xf32>, none) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @pad_runtime_axes(%x: tensor<3xf32>, %a: tensor<1xi64>) -> tensor<5xf32> {
  %p = arith.constant dense<[1, 1]> : tensor<2xi64>
  %none = sparq_onnx.none
  // expected-error @+1 {{the 'axes' input must be a constant}}
  %0 = sparq_onnx.node "Pad"(%x, %p, %none, %a) {attrs = {}, domain = "", name = "", opset = 18 : i64} : (tensor<3xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @pad_count(%x: tensor<3xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'pads' must have 2 entries}}
  %0 = sparq_onnx.node "Pad"(%x) {attrs = {pads = array<i64: 1, 1, 0>}, domain = "", name = "", opset = 2 : i64} : (tensor<3xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @pad_crop_too_much(%x: tensor<3xf32>) -> tensor<0xf32> {
  // expected-error @+1 {{negative pads crop more than dimension 0 holds}}
  %0 = sparq_onnx.node "Pad"(%x) {attrs = {pads = array<i64: -2, -2>}, domain = "", name = "", opset = 2 : i64} : (tensor<3xf32>) -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

func.func @pad_edge_empty(%x: tensor<0xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{cannot pad an empty dimension in mode 'edge'}}
  %0 = sparq_onnx.node "Pad"(%x) {attrs = {mode = "edge", pads = array<i64: 1, 1>}, domain = "", name = "", opset = 2 : i64} : (tensor<0xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @pad_runtime_dynamic(%x: tensor<?xf32>, %p: tensor<2xi64>) -> tensor<?xf32> {
  // expected-error @+1 {{the 'pads' input is not a constant and the result shape is not static}}
  %0 = sparq_onnx.node "Pad"(%x, %p) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<?xf32>, tensor<2xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @resize_dynamic(%x: tensor<2x?xf32>, %s: tensor<3xf32>) -> tensor<2x?xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{'scales' must have 2 entries}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x?xf32>, none, tensor<3xf32>) -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

func.func @resize_rank(%x: tensor<2x4xf32>, %s: tensor<2xf32>) -> tensor<8xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{the result has rank 1, expected 2}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @resize_mode(%x: tensor<2x4xf32>, %s: tensor<2xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{attribute 'mode' = 'lanczos' is not supported}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {mode = "lanczos"}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_ctm(%x: tensor<2x4xf32>, %s: tensor<2xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{attribute 'coordinate_transformation_mode' = 'pixel_perfect' is not supported}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {coordinate_transformation_mode = "pixel_perfect"}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_nearest_mode(%x: tensor<2x4xf32>, %s: tensor<2xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{attribute 'nearest_mode' = 'round_half_even' is not supported}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {nearest_mode = "round_half_even"}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_antialias(%x: tensor<2x4xf32>, %s: tensor<2xf32>) -> tensor<2x2xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{attribute 'antialias' = 1 is not supported}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {antialias = 1 : i64, mode = "linear"}, domain = "", name = "", opset = 18 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @resize_aspect(%x: tensor<2x4xf32>, %s: tensor<2xi64>) -> tensor<2x4xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{attribute 'keep_aspect_ratio_policy' = 'not_larger' is not supported}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %none, %s) {attrs = {keep_aspect_ratio_policy = "not_larger"}, domain = "", name = "", opset = 18 : i64} : (tensor<2x4xf32>, none, none, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @resize_linear_int(%x: tensor<2x4xi32>, %s: tensor<2xf32>) -> tensor<2x8xi32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{mode 'linear' needs a floating-point input}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {mode = "linear"}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xi32>, none, tensor<2xf32>) -> tensor<2x8xi32>
  return %0 : tensor<2x8xi32>
}

// -----

func.func @upsample_scales_attr(%x: tensor<2x4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{attribute 'scales' must have 2 entries}}
  %0 = sparq_onnx.node "Upsample"(%x) {attrs = {scales = array<f32: 2.0>}, domain = "", name = "", opset = 7 : i64} : (tensor<2x4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_scales_count(%x: tensor<2x4xf32>, %s: tensor<3xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{'scales' must have 2 entries}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<3xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_no_scales(%x: tensor<2x4xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  %empty = arith.constant dense<> : tensor<0xf32>
  // expected-error @+1 {{one of 'scales' and 'sizes' must be given}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %empty) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<2x4xf32>, none, tensor<0xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_crop_no_roi(%x: tensor<2x4xf32>, %s: tensor<2xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  // expected-error @+1 {{tf_crop_and_resize needs a 'roi' input of 4 entries}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {coordinate_transformation_mode = "tf_crop_and_resize"}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @resize_zero_scale(%x: tensor<2x4xf32>) -> tensor<2x8xf32> {
  %none = sparq_onnx.none
  %s = arith.constant dense<[0.0, 2.0]> : tensor<2xf32>
  // expected-error @+1 {{scale 0.000000 of dimension 0 is not positive}}
  %0 = sparq_onnx.node "Resize"(%x, %none, %s) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<2x4xf32>, none, tensor<2xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @depth_to_space_rank(%x: tensor<8x2x3xf32>) -> tensor<2x4x6xf32> {
  // expected-error @+1 {{the input must be a static 4-D tensor}}
  %0 = sparq_onnx.node "DepthToSpace"(%x) {attrs = {blocksize = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<8x2x3xf32>) -> tensor<2x4x6xf32>
  return %0 : tensor<2x4x6xf32>
}

// -----

func.func @depth_to_space_blocksize(%x: tensor<1x6x2x3xf32>) -> tensor<1x2x4x6xf32> {
  // expected-error @+1 {{attribute 'blocksize' = 2 does not divide the 6 channels into squares}}
  %0 = sparq_onnx.node "DepthToSpace"(%x) {attrs = {blocksize = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<1x6x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %0 : tensor<1x2x4x6xf32>
}

// -----

func.func @depth_to_space_mode(%x: tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32> {
  // expected-error @+1 {{attribute 'mode' = 'XYZ' is not supported (DCR, CRD)}}
  %0 = sparq_onnx.node "DepthToSpace"(%x) {attrs = {blocksize = 2 : i64, mode = "XYZ"}, domain = "", name = "", opset = 13 : i64} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %0 : tensor<1x2x4x6xf32>
}

// -----

func.func @space_to_depth_rank(%x: tensor<?x2x4x4xf32>) -> tensor<?x8x2x2xf32> {
  // expected-error @+1 {{the input must be a static 4-D tensor}}
  %0 = sparq_onnx.node "SpaceToDepth"(%x) {attrs = {blocksize = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<?x2x4x4xf32>) -> tensor<?x8x2x2xf32>
  return %0 : tensor<?x8x2x2xf32>
}

// -----

func.func @space_to_depth_blocksize(%x: tensor<1x2x4x5xf32>) -> tensor<1x8x2x2xf32> {
  // expected-error @+1 {{attribute 'blocksize' = 2 does not divide the spatial size 4x5}}
  %0 = sparq_onnx.node "SpaceToDepth"(%x) {attrs = {blocksize = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<1x2x4x5xf32>) -> tensor<1x8x2x2xf32>
  return %0 : tensor<1x8x2x2xf32>
}

// -----

func.func @onehot_axis(%i: tensor<3xi64>, %d: tensor<i64>, %v: tensor<2xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{attribute 'axis' = 2 is out of range for rank 2}}
  %0 = sparq_onnx.node "OneHot"(%i, %d, %v) {attrs = {axis = 2 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<3xi64>, tensor<i64>, tensor<2xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @onehot_values(%i: tensor<3xi64>, %d: tensor<i64>, %v: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'values' must hold exactly [off_value, on_value]}}
  %0 = sparq_onnx.node "OneHot"(%i, %d, %v) {attrs = {}, domain = "", name = "", opset = 11 : i64} : (tensor<3xi64>, tensor<i64>, tensor<3xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @trilu_rank(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{the input must have rank >= 2}}
  %0 = sparq_onnx.node "Trilu"(%x) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @eyelike_rank(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{the input must be 2-D}}
  %0 = sparq_onnx.node "EyeLike"(%x) {attrs = {}, domain = "", name = "", opset = 9 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scatter_reduction(%x: tensor<4xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'reduction' = 'mean' is not supported}}
  %0 = sparq_onnx.node "ScatterElements"(%x, %i, %u) {attrs = {reduction = "mean"}, domain = "", name = "", opset = 16 : i64} : (tensor<4xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scatter_axis(%x: tensor<4xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{attribute 'axis' = 1 is out of range for rank 1}}
  %0 = sparq_onnx.node "ScatterElements"(%x, %i, %u) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scatter_rank(%x: tensor<4x2xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'indices' and 'updates' must have the rank of 'data'}}
  %0 = sparq_onnx.node "ScatterElements"(%x, %i, %u) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x2xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @scatter_nd_dynamic_tuple(%x: tensor<4xf32>, %i: tensor<2x?xi64>, %u: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{the last dimension of the indices must be static}}
  %0 = sparq_onnx.node "ScatterND"(%x, %i, %u) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>, tensor<2x?xi64>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @scatter_nd_updates(%x: tensor<4x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'updates' of rank 1 do not match 1-tuples of indices into data of rank 2}}
  %0 = sparq_onnx.node "ScatterND"(%x, %i, %u) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @nonzero_dynamic(%x: tensor<4xf32>) -> tensor<1x?xi64> {
  // expected-error @+1 {{the number of nonzero elements is data-dependent: the result type must be static}}
  %0 = sparq_onnx.node "NonZero"(%x) {attrs = {}, domain = "", name = "", opset = 13 : i64} : (tensor<4xf32>) -> tensor<1x?xi64>
  return %0 : tensor<1x?xi64>
}

// -----

func.func @compress_dynamic(%x: tensor<4xf32>, %c: tensor<4xi1>) -> tensor<?xf32> {
  // expected-error @+1 {{the number of selected slices is data-dependent: the input and result types must be static}}
  %0 = sparq_onnx.node "Compress"(%x, %c) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<4xf32>, tensor<4xi1>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @compress_axis(%x: tensor<4xf32>, %c: tensor<4xi1>) -> tensor<2xf32> {
  // expected-error @+1 {{attribute 'axis' = 1 is out of range for rank 1}}
  %0 = sparq_onnx.node "Compress"(%x, %c) {attrs = {axis = 1 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<4xf32>, tensor<4xi1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @compress_rank(%x: tensor<4x2xf32>, %c: tensor<4xi1>) -> tensor<2xf32> {
  // expected-error @+1 {{the result has rank 1, expected 2}}
  %0 = sparq_onnx.node "Compress"(%x, %c) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<4x2xf32>, tensor<4xi1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @compress_condition(%x: tensor<4xf32>, %c: tensor<2x2xi1>) -> tensor<2xf32> {
  // expected-error @+1 {{'condition' must be a 1-D tensor of static length}}
  %0 = sparq_onnx.node "Compress"(%x, %c) {attrs = {axis = 0 : i64}, domain = "", name = "", opset = 11 : i64} : (tensor<4xf32>, tensor<2x2xi1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
