// Tests the diagnostics of the string conversions.
// RUN: sparq-opt %s --sparq-convert-onnx-to-linalg --split-input-file --verify-diagnostics

func.func @bad_action(%x: tensor<4x!sparq_onnx.string>) -> tensor<4x!sparq_onnx.string> {
  // expected-error @+1 {{'StringNormalizer' node 'sn' (domain ai.onnx, opset 10): attribute 'case_change_action' = 'TITLE' is not one of LOWER, UPPER, NONE}}
  %0 = sparq_onnx.node "StringNormalizer"(%x) {attrs = {case_change_action = "TITLE"}, domain = "", name = "sn", opset = 10 : i64} : (tensor<4x!sparq_onnx.string>) -> tensor<4x!sparq_onnx.string>
  return %0 : tensor<4x!sparq_onnx.string>
}

// -----

func.func @bad_locale(%x: tensor<4x!sparq_onnx.string>) -> tensor<4x!sparq_onnx.string> {
  // expected-error @+1 {{attribute 'locale' = 'tr_TR' is not supported (case changes and case-insensitive matching are ASCII: locales en_US and C)}}
  %0 = sparq_onnx.node "StringNormalizer"(%x) {attrs = {locale = "tr_TR"}, domain = "", name = "sn", opset = 10 : i64} : (tensor<4x!sparq_onnx.string>) -> tensor<4x!sparq_onnx.string>
  return %0 : tensor<4x!sparq_onnx.string>
}

// -----

func.func @bad_rank(%x: tensor<2x4x!sparq_onnx.string>) -> tensor<2x4x!sparq_onnx.string> {
  // expected-error @+1 {{input X must be [C] or [1, C], got [2, 4]}}
  %0 = sparq_onnx.node "StringNormalizer"(%x) {attrs = {}, domain = "", name = "sn", opset = 10 : i64} : (tensor<2x4x!sparq_onnx.string>) -> tensor<2x4x!sparq_onnx.string>
  return %0 : tensor<2x4x!sparq_onnx.string>
}
