// Tests the conversion of string tensors (passes/ONNXToLinalg/Strings.cpp): a string element
// becomes an i64 (the address of its text); StringNormalizer counts the strings that are not
// stopwords, checks the count against a static result length, and writes them with their case
// changed; casts call one kernel per element; data movement keeps the i64 elements.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: memref.global "private" constant @sparq_strings{{.*}} : memref<10xi8> = dense<[109, 111, 110, 100, 97, 121, 0, 120, 0, 0]>
// CHECK-LABEL: func.func @normalizer
// CHECK-SAME: (%[[X:.*]]: tensor<4xi64>) -> tensor<3xi64>
// CHECK: %[[ARENA:.*]] = call @sparq_uk_str_arena() : () -> i64
// CHECK: %[[G:.*]] = memref.get_global @sparq_strings
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[G]]
// CHECK: %[[LIST:.*]] = arith.index_cast %[[P]] : index to i64
// CHECK: %[[CS:.*]] = arith.constant 1 : i32
// CHECK: %[[COUNT:.*]] = scf.for
// CHECK:   tensor.extract %[[X]]
// CHECK:   call @sparq_uk_str_in_list({{.*}}, %[[LIST]], %[[CS]]) : (i64, i64, i32) -> i32
// CHECK: %[[LEN:.*]] = arith.maxui %[[COUNT]]
// CHECK: cf.assert {{.*}} "'StringNormalizer' node 'sn' (domain ai.onnx, opset 10): the strings that remain after removing stopwords do not match the result length 3 of the model's declared type"
// CHECK: %[[EMPTY:.*]] = call @sparq_uk_str_empty() : () -> i64
// CHECK: linalg.fill ins(%[[EMPTY]] : i64) outs(%{{.*}} : tensor<3xi64>)
// CHECK: %[[UPPER:.*]] = arith.constant 2 : i32
// CHECK: scf.for
// CHECK:   scf.if
// CHECK:     call @sparq_uk_str_case(%[[ARENA]], %{{.*}}, %[[UPPER]]) : (i64, i64, i32) -> i64
// CHECK:     tensor.insert
func.func @normalizer(%x: tensor<4x!sparq_onnx.string>) -> tensor<3x!sparq_onnx.string> {
  %0 = sparq_onnx.node "StringNormalizer"(%x) {attrs = {case_change_action = "UPPER", is_case_sensitive = 1 : i64, stopwords = ["monday", "x"]}, domain = "", name = "sn", opset = 10 : i64} : (tensor<4x!sparq_onnx.string>) -> tensor<3x!sparq_onnx.string>
  return %0 : tensor<3x!sparq_onnx.string>
}

// -----

// No stopwords: nothing to look up; a dynamic result length is the count (at least 1).
// CHECK-LABEL: func.func @normalizer_dynamic
// CHECK-NOT: sparq_uk_str_in_list
// CHECK-NOT: cf.assert
// CHECK: tensor.empty(%{{.*}}) : tensor<1x?xi64>
func.func @normalizer_dynamic(%x: tensor<1x?x!sparq_onnx.string>) -> tensor<1x?x!sparq_onnx.string> {
  %0 = sparq_onnx.node "StringNormalizer"(%x) {attrs = {case_change_action = "LOWER"}, domain = "", name = "sn", opset = 10 : i64} : (tensor<1x?x!sparq_onnx.string>) -> tensor<1x?x!sparq_onnx.string>
  return %0 : tensor<1x?x!sparq_onnx.string>
}

// -----

// CHECK-LABEL: func.func @casts
// CHECK: %[[ARENA:.*]] = call @sparq_uk_str_arena() : () -> i64
// CHECK: linalg.generic
// CHECK:   call @sparq_uk_str_from_f32(%[[ARENA]], %{{.*}}) : (i64, f32) -> i64
// CHECK: linalg.generic
// CHECK:   %[[V:.*]] = func.call @sparq_uk_str_to_i64(%{{.*}}) : (i64) -> i64
// CHECK:   arith.trunci %[[V]] : i64 to i8
// CHECK: linalg.generic
// CHECK:   call @sparq_uk_str_from_i64(%{{.*}}, %{{.*}}, %{{.*}}) : (i64, i64, i32) -> i64
func.func @casts(%x: tensor<2xf32>, %s: tensor<2x!sparq_onnx.string>, %u: tensor<2xui8>) -> (tensor<2x!sparq_onnx.string>, tensor<2xui8>, tensor<2x!sparq_onnx.string>) {
  %0 = sparq_onnx.node "Cast"(%x) {attrs = {to = 8 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2xf32>) -> tensor<2x!sparq_onnx.string>
  %1 = sparq_onnx.node "Cast"(%s) {attrs = {to = 2 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2x!sparq_onnx.string>) -> tensor<2xui8>
  %2 = sparq_onnx.node "Cast"(%u) {attrs = {to = 8 : i64}, domain = "", name = "", opset = 13 : i64} : (tensor<2xui8>) -> tensor<2x!sparq_onnx.string>
  return %0, %1, %2 : tensor<2x!sparq_onnx.string>, tensor<2xui8>, tensor<2x!sparq_onnx.string>
}

// -----

// Data movement needs nothing string-specific.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%{{.*}}: tensor<2x3xi64>) -> tensor<6xi64>
// CHECK: tensor.collapse_shape
func.func @reshape(%s: tensor<2x3x!sparq_onnx.string>) -> tensor<6x!sparq_onnx.string> {
  %shape = arith.constant dense<[6]> : tensor<1xi64>
  %0 = sparq_onnx.node "Reshape"(%s, %shape) {attrs = {}, domain = "", name = "", opset = 14 : i64} : (tensor<2x3x!sparq_onnx.string>, tensor<1xi64>) -> tensor<6x!sparq_onnx.string>
  return %0 : tensor<6x!sparq_onnx.string>
}
