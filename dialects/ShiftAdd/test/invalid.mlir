// Tests every sparq_shiftadd verifier message.
// RUN: sparq-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{the number of binary planes q must be in [1, 8], got 0}}
func.func private @q0() -> () attributes {c = #sparq_shiftadd.bcq<q = 0, group = 64, pow2 = false>}

// -----

// expected-error @+1 {{the scale group size must be positive, got 0}}
func.func private @g0() -> () attributes {c = #sparq_shiftadd.bcq<q = 2, group = 0, pow2 = false>}

// -----

func.func @signs_rank(%b: tensor<32x128xf32>) {
  // expected-error @+1 {{'sparq_shiftadd.pack_signs' op signs must be [q, rows, K], got rank 2}}
  %c = sparq_shiftadd.pack_signs %b {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : tensor<32x128xf32> -> tensor<32x16xi8>
  return
}

// -----

func.func @signs_planes(%b: tensor<3x32x128xf32>) {
  // expected-error @+1 {{'sparq_shiftadd.pack_signs' op signs hold 3 planes but the config has q = 2}}
  %c = sparq_shiftadd.pack_signs %b {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : tensor<3x32x128xf32> -> tensor<3x32x16xi8>
  return
}

// -----

func.func @signs_bytes(%b: tensor<2x32x100xf32>) {
  // expected-error @+1 {{'sparq_shiftadd.pack_signs' op codes must have shape 2x32x13 (ceil(K/8) bytes per row), got 2x32x12}}
  %c = sparq_shiftadd.pack_signs %b {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : tensor<2x32x100xf32> -> tensor<2x32x12xi8>
  return
}

// -----

func.func @deq_rank(%c: tensor<2x32x16xi8>, %s: tensor<2x32x2xf32>) {
  // expected-error @+1 {{'sparq_shiftadd.dequantize' op result must be a 2-D [rows, K] weight, got rank 1}}
  %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : (tensor<2x32x16xi8>, tensor<2x32x2xf32>) -> tensor<128xf32>
  return
}

// -----

func.func @deq_codes(%c: tensor<3x32x16xi8>, %s: tensor<2x32x2xf32>) {
  // expected-error @+1 {{'sparq_shiftadd.dequantize' op codes must have shape 2x32x16 (q sign planes of ceil(K/8) bytes per row for K = 128), got 3x32x16}}
  %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : (tensor<3x32x16xi8>, tensor<2x32x2xf32>) -> tensor<32x128xf32>
  return
}

// -----

func.func @deq_scales(%c: tensor<2x32x16xi8>, %s: tensor<2x32x1xf32>) {
  // expected-error @+1 {{'sparq_shiftadd.dequantize' op scales must have shape 2x32x2 (one scale per plane, row and group of 64), got 2x32x1}}
  %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 2, group = 64, pow2 = false>} : (tensor<2x32x16xi8>, tensor<2x32x1xf32>) -> tensor<32x128xf32>
  return
}

// -----

func.func @deq_pow2(%c: tensor<1x1x1xi8>) {
  %s = arith.constant dense<[[[0.5, 0.75]]]> : tensor<1x1x2xf32>
  // expected-error @+1 {{'sparq_shiftadd.dequantize' op pow2 scales must be powers of two, but scale #1 is 7.500000e-01}}
  %w = sparq_shiftadd.dequantize %c, %s {config = #sparq_shiftadd.bcq<q = 1, group = 4, pow2 = true>} : (tensor<1x1x1xi8>, tensor<1x1x2xf32>) -> tensor<1x8xf32>
  return
}
