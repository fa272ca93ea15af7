// Tests every sparq_nm verifier message (pattern attribute, ops, constant packing).
// RUN: sparq-opt %s --split-input-file --verify-diagnostics --canonicalize

// expected-error @+1 {{N:M sparsity needs 1 <= N < M <= 16, got 4:4}}
func.func private @n_eq_m() -> () attributes {p = #sparq_nm.pattern<4:4>}

// -----

// expected-error @+1 {{N:M sparsity needs 1 <= N < M <= 16, got 2:32}}
func.func private @m_too_big() -> () attributes {p = #sparq_nm.pattern<2:32>}

// -----

// expected-error @+1 {{N:M sparsity needs 1 <= N < M <= 16, got 0:4}}
func.func private @n_zero() -> () attributes {p = #sparq_nm.pattern<0:4>}

// -----

func.func @prune_rank(%w: tensor<128xf32>) {
  // expected-error @+1 {{'sparq_nm.prune' op input must be a 2-D [rows, K] weight, got rank 1}}
  %p = sparq_nm.prune %w {pattern = #sparq_nm.pattern<2:4>} : tensor<128xf32>
  return
}

// -----

func.func @pack_values(%w: tensor<64x130xf32>) {
  // K = 130 pads to 132: 33 groups of 4, 66 kept values.
  // expected-error @+1 {{'sparq_nm.pack' op values must have shape 64x66 (ceil(K/M)*N = 66 kept values per row for 2:4 and K = 130), got 64x65}}
  %v, %i = sparq_nm.pack %w {pattern = #sparq_nm.pattern<2:4>} : tensor<64x130xf32> -> tensor<64x65xf32>, tensor<64x17xi8>
  return
}

// -----

func.func @pack_indices(%w: tensor<64x128xf32>) {
  // expected-error @+1 {{'sparq_nm.pack' op indices must have shape 64x24 (3-bit positions of the kept values of a row with K = 128), got 64x16}}
  %v, %i = sparq_nm.pack %w {pattern = #sparq_nm.pattern<4:8>} : tensor<64x128xf32> -> tensor<64x64xf32>, tensor<64x16xi8>
  return
}

// -----

func.func @pack_rank(%w: tensor<2x64x128xf32>) {
  // expected-error @+1 {{'sparq_nm.pack' op input must be a 2-D [rows, K] weight, got rank 3}}
  %v, %i = sparq_nm.pack %w {pattern = #sparq_nm.pattern<2:4>} : tensor<2x64x128xf32> -> tensor<64x64xf32>, tensor<64x16xi8>
  return
}

// -----

func.func @pack_type(%w: tensor<64x128xf32>) {
  // expected-error @+1 {{'sparq_nm.pack' op values must have the input's element type}}
  %v, %i = sparq_nm.pack %w {pattern = #sparq_nm.pattern<2:4>} : tensor<64x128xf32> -> tensor<64x64xf16>, tensor<64x16xi8>
  return
}

// -----

func.func @unpack_type(%v: tensor<64x64xf16>, %i: tensor<64x16xi8>) {
  // expected-error @+1 {{'sparq_nm.unpack' op values must have the result's element type}}
  %d = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<2:4>} : tensor<64x64xf16>, tensor<64x16xi8> -> tensor<64x128xf32>
  return
}

// -----

func.func @unpack_rank(%v: tensor<64x64xf32>, %i: tensor<64x16xi8>) {
  // expected-error @+1 {{'sparq_nm.unpack' op result must be a 2-D [rows, K] weight, got rank 1}}
  %d = sparq_nm.unpack %v, %i {pattern = #sparq_nm.pattern<2:4>} : tensor<64x64xf32>, tensor<64x16xi8> -> tensor<128xf32>
  return
}

// -----

// A constant that is not 2:4-sparse cannot be packed; folding reports it.
func.func @pack_not_sparse() -> (tensor<1x2xf32>, tensor<1x1xi8>) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 0.0]]> : tensor<1x4xf32>
  // expected-error @+1 {{'sparq_nm.pack' op constant input row 0 is not 2:4-sparse (prune it first)}}
  %v, %i = sparq_nm.pack %w {pattern = #sparq_nm.pattern<2:4>} : tensor<1x4xf32> -> tensor<1x2xf32>, tensor<1x1xi8>
  return %v, %i : tensor<1x2xf32>, tensor<1x1xi8>
}
