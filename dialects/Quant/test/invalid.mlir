// Tests every sparq_quant verifier message (scheme attribute and ops).
// RUN: sparq-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{quantization bits must be in [1, 8], got 9}}
func.func private @bits() -> () attributes {s = #sparq_quant.scheme<bits = 9, signed, symmetric, per_channel>}

// -----

// expected-error @+1 {{group size must be positive, got -3}}
func.func private @group() -> () attributes {s = #sparq_quant.scheme<bits = 4, signed, symmetric, group = -3>}

// -----

// expected-error @+1 {{symmetric quantization needs signed codes (zero maps to code 0); use 'asymmetric' with unsigned codes}}
func.func private @sym_unsigned() -> () attributes {s = #sparq_quant.scheme<bits = 4, unsigned, symmetric, per_channel>}

// -----

// expected-error @+1 {{symmetric quantization needs at least 2 bits, got 1 (use sparq_shiftadd for binary weights)}}
func.func private @sym_1bit() -> () attributes {s = #sparq_quant.scheme<bits = 1, signed, symmetric, per_channel>}

// -----

// expected-error @+1 {{expected 'signed' or 'unsigned', got 'sined'}}
func.func private @spelling() -> () attributes {s = #sparq_quant.scheme<bits = 4, sined, symmetric, per_channel>}

// -----

// expected-error @+1 {{expected 'symmetric' or 'asymmetric', got 'symetric'}}
func.func private @spelling2() -> () attributes {s = #sparq_quant.scheme<bits = 4, signed, symetric, per_channel>}

// -----

func.func @rank(%w: tensor<4x32x128xf32>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_quant.quantize' op input must be a 2-D [rows, K] weight, got rank 3}}
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<4x32x128xf32>, tensor<32x1xf32>) -> tensor<4x32x128xi8>
  return
}

// -----

func.func @result_shape(%w: tensor<32x128xf32>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_quant.quantize' op result must have shape 32x128 (same shape as the input), got 32x64}}
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<32x128xf32>, tensor<32x1xf32>) -> tensor<32x64xi8>
  return
}

// -----

func.func @group_scales(%w: tensor<32x130xf32>, %s: tensor<32x2xf32>) {
  // 130 values in groups of 64 make 3 groups (the last holds 2).
  // expected-error @+1 {{'sparq_quant.quantize' op scales must have shape 32x3 (one parameter per group of 64 of a 32x130 weight), got 32x2}}
  %q = sparq_quant.quantize %w, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, group = 64>} : (tensor<32x130xf32>, tensor<32x2xf32>) -> tensor<32x130xi8>
  return
}

// -----

func.func @channel_scales(%q: tensor<32x128xi8>, %s: tensor<1x1xf32>) {
  // expected-error @+1 {{'sparq_quant.dequantize' op scales must have shape 32x1 (one parameter per row of a 32x128 weight), got 1x1}}
  %w = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<32x128xi8>, tensor<1x1xf32>) -> tensor<32x128xf32>
  return
}

// -----

func.func @tensor_scales(%q: tensor<32x128xi8>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_quant.dequantize' op scales must have shape 1x1 (per-tensor parameters), got 32x1}}
  %w = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_tensor>} : (tensor<32x128xi8>, tensor<32x1xf32>) -> tensor<32x128xf32>
  return
}

// -----

func.func @sym_zp(%q: tensor<32x128xi8>, %s: tensor<32x1xf32>, %z: tensor<32x1xi8>) {
  // expected-error @+1 {{'sparq_quant.dequantize' op symmetric quantization takes no zero points}}
  %w = sparq_quant.dequantize %q, %s, %z {scheme = #sparq_quant.scheme<bits = 4, signed, symmetric, per_channel>} : (tensor<32x128xi8>, tensor<32x1xf32>, tensor<32x1xi8>) -> tensor<32x128xf32>
  return
}

// -----

func.func @asym_no_zp(%q: tensor<32x128xi8>, %s: tensor<32x1xf32>) {
  // expected-error @+1 {{'sparq_quant.dequantize' op asymmetric quantization needs zero points}}
  %w = sparq_quant.dequantize %q, %s {scheme = #sparq_quant.scheme<bits = 4, unsigned, asymmetric, per_channel>} : (tensor<32x128xi8>, tensor<32x1xf32>) -> tensor<32x128xf32>
  return
}

// -----

func.func @zp_shape(%q: tensor<32x128xi8>, %s: tensor<32x1xf32>, %z: tensor<1x1xi8>) {
  // expected-error @+1 {{'sparq_quant.dequantize' op zero_points must have shape 32x1 (one parameter per row of a 32x128 weight), got 1x1}}
  %w = sparq_quant.dequantize %q, %s, %z {scheme = #sparq_quant.scheme<bits = 4, unsigned, asymmetric, per_channel>} : (tensor<32x128xi8>, tensor<32x1xf32>, tensor<1x1xi8>) -> tensor<32x128xf32>
  return
}

// -----

func.func @pack_bytes(%q: tensor<32x100xi8>) {
  // expected-error @+1 {{'sparq_quant.pack' op result must have shape 32x38 (ceil(K * 3 / 8) bytes per row), got 32x37}}
  %p = sparq_quant.pack %q {scheme = #sparq_quant.scheme<bits = 3, signed, symmetric, per_channel>} : tensor<32x100xi8> -> tensor<32x37xi8>
  return
}

// -----

func.func @unpack_bytes(%p: tensor<32x37xi8>) {
  // expected-error @+1 {{'sparq_quant.unpack' op input must have shape 32x38 (ceil(K * 3 / 8) bytes per row for K = 100), got 32x37}}
  %q = sparq_quant.unpack %p {scheme = #sparq_quant.scheme<bits = 3, signed, symmetric, per_channel>} : tensor<32x37xi8> -> tensor<32x100xi8>
  return
}

// -----

func.func @unpack_rank(%p: tensor<38xi8>) {
  // expected-error @+1 {{'sparq_quant.unpack' op result must be a 2-D [rows, K] weight, got rank 1}}
  %q = sparq_quant.unpack %p {scheme = #sparq_quant.scheme<bits = 3, signed, symmetric, per_channel>} : tensor<38xi8> -> tensor<100xi8>
  return
}
