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

func.func @matmul_rank(%x: tensor<128xf32>, %v: tensor<64x64xf32>, %i: tensor<64x16xi8>) {
  // expected-error @+1 {{'sparq_nm.matmul' op input must have rank >= 2 ([..., M, K]), got rank 1}}
  %y = sparq_nm.matmul %x, %v, %i {pattern = #sparq_nm.pattern<2:4>} : (tensor<128xf32>, tensor<64x64xf32>, tensor<64x16xi8>) -> tensor<64xf32>
  return
}

// -----

func.func @matmul_values_rank(%x: tensor<8x128xf32>, %v: tensor<64xf32>, %i: tensor<64x16xi8>) {
  // expected-error @+1 {{'sparq_nm.matmul' op values must be a 2-D [rows, K] weight, got rank 1}}
  %y = sparq_nm.matmul %x, %v, %i {pattern = #sparq_nm.pattern<2:4>} : (tensor<8x128xf32>, tensor<64xf32>, tensor<64x16xi8>) -> tensor<8x64xf32>
  return
}

// -----

func.func @matmul_k(%x: tensor<8x256xf32>, %v: tensor<64x64xf32>, %i: tensor<64x16xi8>) {
  // expected-error @+1 {{'sparq_nm.matmul' op values must have shape 64x128 (ceil(K/M)*N = 128 kept values per row for 2:4 and K = 256), got 64x64}}
  %y = sparq_nm.matmul %x, %v, %i {pattern = #sparq_nm.pattern<2:4>} : (tensor<8x256xf32>, tensor<64x64xf32>, tensor<64x16xi8>) -> tensor<8x64xf32>
  return
}

// -----

func.func @matmul_result(%x: tensor<8x128xf32>, %v: tensor<64x64xf32>, %i: tensor<64x16xi8>) {
  // expected-error @+1 {{'sparq_nm.matmul' op result must have shape 8x64 (input shape with K replaced by the N rows of the weight), got 8x32}}
  %y = sparq_nm.matmul %x, %v, %i {pattern = #sparq_nm.pattern<2:4>} : (tensor<8x128xf32>, tensor<64x64xf32>, tensor<64x16xi8>) -> tensor<8x32xf32>
  return
}

// -----

func.func @conv_k(%x: tensor<1x16x8x8xf32>, %v: tensor<32x32xf32>, %i: tensor<32x9xi8>) {
  // expected-error @+1 {{'sparq_nm.conv2d' op values must have shape 32x36 (ceil(K/M)*N = 36 kept values per row for 1:4 and K = 144), got 32x32}}
  %y = sparq_nm.conv2d %x, %v, %i {pattern = #sparq_nm.pattern<1:4>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x32xf32>, tensor<32x9xi8>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @conv_values_rank(%x: tensor<1x16x8x8xf32>, %v: tensor<36xf32>, %i: tensor<32x9xi8>) {
  // expected-error @+1 {{'sparq_nm.conv2d' op values must be a 2-D [rows, K] weight, got rank 1}}
  %y = sparq_nm.conv2d %x, %v, %i {pattern = #sparq_nm.pattern<1:4>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<36xf32>, tensor<32x9xi8>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x16x8x8xf32>, %v: tensor<32x36xf32>, %i: tensor<32x9xi8>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'sparq_nm.conv2d' op bias must have shape 32 (one per filter), got 8}}
  %y = sparq_nm.conv2d %x, %v, %i, %b {pattern = #sparq_nm.pattern<1:4>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x36xf32>, tensor<32x9xi8>, tensor<8xf32>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<1x16x8x8xf32>, %v: tensor<32x36xf32>, %i: tensor<32x9xi8>) {
  // expected-error @+1 {{'sparq_nm.conv2d' op result must have shape 1x32x6x6 (the convolution's NCHW output), got 1x32x8x8}}
  %y = sparq_nm.conv2d %x, %v, %i {pattern = #sparq_nm.pattern<1:4>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x16x8x8xf32>, tensor<32x36xf32>, tensor<32x9xi8>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @qmm_rank(%x: tensor<128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op input must have rank >= 2 ([..., M, K]), got rank 1}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<128xf32>, tensor<32x32xi8>, tensor<32x16xi8>, tensor<32x2xf32>) -> tensor<32xf32>
  return
}

// -----

func.func @qmm_codes_rank(%x: tensor<8x128xf32>, %c: tensor<32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op codes must be a 2-D [rows, K] weight, got rank 1}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<8x128xf32>, tensor<32xi8>, tensor<32x16xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_codes(%x: tensor<8x128xf32>, %c: tensor<32x64xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op codes must have shape 32x32 (4-bit codes of the 64 kept values per row), got 32x64}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x64xi8>, tensor<32x16xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_indices(%x: tensor<8x128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x8xi8>, %s: tensor<32x2xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op indices must have shape 32x16 (N:M positions of a row with K = 128), got 32x8}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x32xi8>, tensor<32x8xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_scales(%x: tensor<8x128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x4xf32>) {
  // Groups run along the 64 kept values, not along K = 128.
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op scales must have shape 32x2 (quantization parameters of the kept values (groups along the kept dimension)), got 32x4}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x32xi8>, tensor<32x16xi8>, tensor<32x4xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_sym_zp(%x: tensor<8x128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>, %z: tensor<32x2xi8>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op symmetric quantization takes no zero points}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s, %z {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x32xi8>, tensor<32x16xi8>, tensor<32x2xf32>, tensor<32x2xi8>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_asym(%x: tensor<8x128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op asymmetric quantization needs zero points}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, unsigned, asymmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x32xi8>, tensor<32x16xi8>, tensor<32x2xf32>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_zp_shape(%x: tensor<8x128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>, %z: tensor<32x1xi8>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op zero_points must have shape 32x2 (same shape as scales), got 32x1}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s, %z {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, unsigned, asymmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x32xi8>, tensor<32x16xi8>, tensor<32x2xf32>, tensor<32x1xi8>) -> tensor<8x32xf32>
  return
}

// -----

func.func @qmm_result(%x: tensor<8x128xf32>, %c: tensor<32x32xi8>, %i: tensor<32x16xi8>, %s: tensor<32x2xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_matmul' op result must have shape 8x32 (input shape with K replaced by the N rows of the weight), got 8x8}}
  %y = sparq_nm.quantized_matmul %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 32>} : (tensor<8x128xf32>, tensor<32x32xi8>, tensor<32x16xi8>, tensor<32x2xf32>) -> tensor<8x8xf32>
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

// -----

func.func @qconv_codes(%x: tensor<1x16x8x8xf32>, %c: tensor<32x72xi8>, %i: tensor<32x18xi8>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_conv2d' op codes must have shape 32x36 (4-bit codes of the 72 kept values per row), got 32x72}}
  %y = sparq_nm.quantized_conv2d %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x72xi8>, tensor<32x18xi8>, tensor<32x1xf32>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @qconv_codes_rank(%x: tensor<1x16x8x8xf32>, %c: tensor<36xi8>, %i: tensor<32x18xi8>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_conv2d' op codes must be a 2-D [rows, K] weight, got rank 1}}
  %y = sparq_nm.quantized_conv2d %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<36xi8>, tensor<32x18xi8>, tensor<32x1xf32>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @qconv_result(%x: tensor<1x16x8x8xf32>, %c: tensor<32x36xi8>, %i: tensor<32x18xi8>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_conv2d' op result must have shape 1x32x6x6 (the convolution's NCHW output), got 1x32x8x8}}
  %y = sparq_nm.quantized_conv2d %x, %c, %i, %s {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x16x8x8xf32>, tensor<32x36xi8>, tensor<32x18xi8>, tensor<32x1xf32>) -> tensor<1x32x8x8xf32>
  return
}

// -----

func.func @qconv_bias(%x: tensor<1x16x8x8xf32>, %c: tensor<32x36xi8>, %i: tensor<32x18xi8>, %s: tensor<32x1xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'sparq_nm.quantized_conv2d' op bias must have shape 32 (one per filter), got 4}}
  %y = sparq_nm.quantized_conv2d %x, %c, %i, %s bias %b {pattern = #sparq_nm.pattern<2:4>, scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>, kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x8x8xf32>, tensor<32x36xi8>, tensor<32x18xi8>, tensor<32x1xf32>, tensor<4xf32>) -> tensor<1x32x8x8xf32>
  return
}
