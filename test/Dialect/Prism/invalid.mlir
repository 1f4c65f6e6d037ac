// Every diagnostic of the prism dialect. Most cases use the custom form, where
// the error comes from result-type inference while parsing; the generic-form
// cases check the verifier on ops that already exist.
// RUN: prism-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Shared operand checks
//===----------------------------------------------------------------------===//

func.func @binary_element_type(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'prism.add' op operands 'lhs' and 'rhs' must have the same element type, but got 'f32' and 'f16'}}
  %0 = prism.add %a, %b : tensor<4xf32>, tensor<4xf16>
  return
}

// -----

func.func @binary_no_broadcast(%a: tensor<4x8xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'prism.mul' op operands 'lhs' ('tensor<4x8xf32>') and 'rhs' ('tensor<3xf32>') do not broadcast: dimension 1 of 'lhs' is 8 but dimension 0 of 'rhs' is 3}}
  %0 = prism.mul %a, %b : tensor<4x8xf32>, tensor<3xf32>
  return
}

// -----

func.func @binary_integer(%a: tensor<4xi32>) {
  // expected-error @+1 {{'prism.sub' op operand 'lhs' must have element type f32, f16 or bf16, but got 'i32'}}
  %0 = prism.sub %a, %a : tensor<4xi32>, tensor<4xi32>
  return
}

// -----

func.func @binary_rhs_integer(%a: tensor<4xf32>, %b: tensor<4xi8>) {
  // expected-error @+1 {{'prism.max' op operand 'rhs' must have element type f32, f16 or bf16, but got 'i8'}}
  %0 = prism.max %a, %b : tensor<4xf32>, tensor<4xi8>
  return
}

// -----

func.func @unary_integer(%a: tensor<4xi32>) {
  // expected-error @+1 {{'prism.exp' op operand 'input' must have element type f32, f16 or bf16, but got 'i32'}}
  %0 = prism.exp %a : tensor<4xi32>
  return
}

// -----

func.func @unary_f64(%a: tensor<4xf64>) {
  // expected-error @+1 {{'prism.silu' op operand 'input' must have element type f32, f16 or bf16, but got 'f64'}}
  %0 = prism.silu %a : tensor<4xf64>
  return
}

// -----

func.func @result_type_mismatch(%a: tensor<4xf32>) {
  // expected-error @+2 {{'prism.add' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<5xf32>'}}
  // expected-error @+1 {{'prism.add' op failed to infer returned types}}
  %0 = "prism.add"(%a, %a) : (tensor<4xf32>, tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @generic_inference_failure(%a: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'prism.add' op operands 'lhs' ('tensor<4xf32>') and 'rhs' ('tensor<3xf32>') do not broadcast}}
  // expected-error @+1 {{'prism.add' op failed to infer returned types}}
  %0 = "prism.add"(%a, %b) : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @ods_operand_constraint(%a: tensor<4xi32>) {
  // expected-error @+1 {{'prism.exp' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xi32>'}}
  %0 = "prism.exp"(%a) : (tensor<4xi32>) -> tensor<4xi32>
  return
}

// -----

func.func @generic_unranked(%a: tensor<*xf32>) {
  // expected-error @+1 {{'prism.exp' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %0 = "prism.exp"(%a) : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @swiglu_types(%g: tensor<4x8xf32>, %u: tensor<4x8xf16>) {
  // expected-error @+1 {{'prism.swiglu' op failed to verify that all of {gate, up} have same type}}
  %0 = "prism.swiglu"(%g, %u) : (tensor<4x8xf32>, tensor<4x8xf16>) -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// softmax, reduce
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_rank0(%a: tensor<f32>) {
  // expected-error @+1 {{'prism.softmax' op operand 'input' must have rank >= 1, but got 'tensor<f32>'}}
  %0 = prism.softmax %a : tensor<f32>
  return
}

// -----

func.func @softmax_axis(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'prism.softmax' op attribute 'axis' (2) is out of range for rank 2; expected [-2, 2)}}
  %0 = prism.softmax %a axis = 2 : tensor<4x8xf32>
  return
}

// -----

func.func @reduce_no_axes(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'prism.reduce' op attribute 'axes' must name at least one axis}}
  %0 = prism.reduce sum %a axes = [] : tensor<4x8xf32>
  return
}

// -----

func.func @reduce_axis_range(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'prism.reduce' op attribute 'axes' (-3) is out of range for rank 2; expected [-2, 2)}}
  %0 = prism.reduce max %a axes = [-3] : tensor<4x8xf32>
  return
}

// -----

func.func @reduce_duplicate_axis(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{'prism.reduce' op attribute 'axes' names axis 1 more than once}}
  %0 = prism.reduce mean %a axes = [1, -1] : tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// rms_norm, layer_norm
//===----------------------------------------------------------------------===//

// -----

func.func @norm_rank0(%a: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{'prism.rms_norm' op operand 'input' must have rank >= 1 (it is normalized over its last axis), but got 'tensor<f32>'}}
  %0 = prism.rms_norm %a, %w : tensor<f32>, tensor<1xf32>
  return
}

// -----

func.func @rms_norm_weight_shape(%a: tensor<4x64xbf16>, %w: tensor<32xbf16>) {
  // expected-error @+1 {{'prism.rms_norm' op operand 'weight' must have shape [64] (the last dimension of 'input'), but got 'tensor<32xbf16>'}}
  %0 = prism.rms_norm %a, %w : tensor<4x64xbf16>, tensor<32xbf16>
  return
}

// -----

func.func @rms_norm_weight_rank(%a: tensor<4x64xbf16>, %w: tensor<1x64xbf16>) {
  // expected-error @+1 {{'prism.rms_norm' op operand 'weight' must have shape [64] (the last dimension of 'input'), but got 'tensor<1x64xbf16>'}}
  %0 = prism.rms_norm %a, %w : tensor<4x64xbf16>, tensor<1x64xbf16>
  return
}

// -----

func.func @rms_norm_weight_type(%a: tensor<4x64xbf16>, %w: tensor<64xf16>) {
  // expected-error @+1 {{'prism.rms_norm' op operand 'weight' must have element type 'bf16' or f32, but got 'f16'}}
  %0 = prism.rms_norm %a, %w : tensor<4x64xbf16>, tensor<64xf16>
  return
}

// -----

func.func @rms_norm_negative_eps(%a: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'prism.rms_norm' op attribute 'eps' must be a finite f32 value >= 0, but got -1.000000e-05}}
  %0 = prism.rms_norm %a, %w eps = -1.0e-5 : tensor<4x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @layer_norm_inf_eps(%a: tensor<4x64xf32>) {
  // expected-error @+1 {{'prism.layer_norm' op attribute 'eps' must be a finite f32 value >= 0, but got}}
  %0 = prism.layer_norm %a eps = 0x7FF0000000000000 : tensor<4x64xf32>
  return
}

// -----

func.func @layer_norm_bias_shape(%a: tensor<4x64xf32>, %b: tensor<63xf32>) {
  // expected-error @+1 {{'prism.layer_norm' op operand 'bias' must have shape [64] (the last dimension of 'input'), but got 'tensor<63xf32>'}}
  %0 = prism.layer_norm %a bias(%b : tensor<63xf32>) : tensor<4x64xf32>
  return
}

// -----

func.func @layer_norm_weight_integer(%a: tensor<4x64xf32>, %w: tensor<64xi8>) {
  // expected-error @+1 {{'prism.layer_norm' op operand 'weight' must have element type f32, f16 or bf16, but got 'i8'}}
  %0 = prism.layer_norm %a weight(%w : tensor<64xi8>) : tensor<4x64xf32>
  return
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_rank(%a: tensor<64xf32>, %b: tensor<64x8xf32>) {
  // expected-error @+1 {{'prism.matmul' op operand 'lhs' must have rank >= 2 ([..., M, K]), but got 'tensor<64xf32>'}}
  %0 = prism.matmul %a, %b : tensor<64xf32>, tensor<64x8xf32>
  return
}

// -----

func.func @matmul_rhs_rank(%a: tensor<4x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'prism.matmul' op operand 'rhs' must have rank >= 2 ([..., K, N]), but got 'tensor<64xf32>'}}
  %0 = prism.matmul %a, %b : tensor<4x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @matmul_k(%a: tensor<8x64xf32>, %b: tensor<32x16xf32>) {
  // expected-error @+1 {{'prism.matmul' op contraction dimension K of 'lhs' (64) does not match that of 'rhs' (32); shapes 'tensor<8x64xf32>' and 'tensor<32x16xf32>'}}
  %0 = prism.matmul %a, %b : tensor<8x64xf32>, tensor<32x16xf32>
  return
}

// -----

func.func @matmul_k_transposed(%a: tensor<8x64xf32>, %b: tensor<64x16xf32>) {
  // expected-error @+1 {{'prism.matmul' op contraction dimension K of 'lhs' (64) does not match that of 'rhs' (16); shapes 'tensor<8x64xf32>' and 'tensor<64x16xf32>' with transpose_rhs}}
  %0 = prism.matmul %a, %b transpose_rhs : tensor<8x64xf32>, tensor<64x16xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x8x64xf32>, %b: tensor<3x64x16xf32>) {
  // expected-error @+1 {{'prism.matmul' op operands 'lhs batch' ('tensor<2xf32>') and 'rhs batch' ('tensor<3xf32>') do not broadcast: dimension 0 of 'lhs batch' is 2 but dimension 0 of 'rhs batch' is 3}}
  %0 = prism.matmul %a, %b : tensor<2x8x64xf32>, tensor<3x64x16xf32>
  return
}

// -----

func.func @matmul_rhs_type(%a: tensor<8x64xbf16>, %b: tensor<64x16xf16>) {
  // expected-error @+1 {{'prism.matmul' op operand 'rhs' must have the element type of 'lhs' ('bf16') or i8 / f8E4M3FN, but got 'f16'}}
  %0 = prism.matmul %a, %b : tensor<8x64xbf16>, tensor<64x16xf16>
  return
}

// -----

func.func @matmul_lhs_quantized(%a: tensor<8x64xi8>, %b: tensor<64x16xi8>) {
  // expected-error @+1 {{'prism.matmul' op operand 'lhs' must have element type f32, f16 or bf16, but got 'i8'}}
  %0 = prism.matmul %a, %b : tensor<8x64xi8>, tensor<64x16xi8>
  return
}

// -----

func.func @matmul_acc(%a: tensor<8x64xbf16>, %b: tensor<64x16xbf16>) {
  // expected-error @+1 {{'prism.matmul' op attribute 'acc' must be f32 (or f16 for f16 operands), but got 'bf16' for operands of 'bf16'}}
  %0 = prism.matmul %a, %b acc(bf16) : tensor<8x64xbf16>, tensor<64x16xbf16>
  return
}

// -----

func.func @matmul_bias_shape(%a: tensor<8x64xf32>, %b: tensor<64x16xf32>, %c: tensor<64xf32>) {
  // expected-error @+1 {{'prism.matmul' op operand 'bias' must have shape [16] (N), but got 'tensor<64xf32>'}}
  %0 = prism.matmul %a, %b bias(%c : tensor<64xf32>) : tensor<8x64xf32>, tensor<64x16xf32>
  return
}

// -----

func.func @matmul_bias_type(%a: tensor<8x64xf16>, %b: tensor<64x16xf16>, %c: tensor<16xbf16>) {
  // expected-error @+1 {{'prism.matmul' op operand 'bias' must have element type 'f16' or f32, but got 'bf16'}}
  %0 = prism.matmul %a, %b bias(%c : tensor<16xbf16>) : tensor<8x64xf16>, tensor<64x16xf16>
  return
}

// -----

func.func @matmul_rhs_unranked(%a: tensor<8x64xf32>, %b: tensor<*xf32>) {
  // The ODS constraints run before inference on existing ops, and the parser
  // of the custom form only accepts ranked tensors; the "must be a ranked
  // tensor" checks of inference guard ops built from C++ and Python.
  // expected-error @+1 {{'prism.matmul' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or 8-bit signless integer or f8E4M3FN type values, but got 'tensor<*xf32>'}}
  %0 = "prism.matmul"(%a, %b) : (tensor<8x64xf32>, tensor<*xf32>) -> tensor<8x64xf32>
  return
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

// -----

func.func @attention_query_rank(%q: tensor<8x16x64xf16>, %k: tensor<1x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op operand 'query' must have rank 4 ([batch, q_heads, q_seq, head_dim]), but got 'tensor<8x16x64xf16>'}}
  %0 = prism.attention %q, %k, %k : tensor<8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_key_rank(%q: tensor<1x8x16x64xf16>, %k: tensor<8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op operand 'key' must have rank 4 ([batch, kv_heads, kv_seq, head_dim]), but got 'tensor<8x16x64xf16>'}}
  %0 = prism.attention %q, %k, %q : tensor<1x8x16x64xf16>, tensor<8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_value_rank(%q: tensor<1x8x16x64xf16>, %v: tensor<8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op operand 'value' must have rank 4 ([batch, kv_heads, kv_seq, value_dim]), but got 'tensor<8x16x64xf16>'}}
  %0 = prism.attention %q, %q, %v : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<8x16x64xf16>
  return
}

// -----

func.func @attention_types(%q: tensor<1x8x16x64xf16>, %k: tensor<1x8x16x64xbf16>) {
  // expected-error @+1 {{'prism.attention' op operands 'query', 'key' and 'value' must have the same element type, but got 'f16', 'bf16' and 'bf16'}}
  %0 = prism.attention %q, %k, %k : tensor<1x8x16x64xf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x8x16x64xf16>, %k: tensor<3x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op batch sizes differ: 'query' has 2, 'key' has 3, 'value' has 3}}
  %0 = prism.attention %q, %k, %k : tensor<2x8x16x64xf16>, tensor<3x8x16x64xf16>, tensor<3x8x16x64xf16>
  return
}

// -----

func.func @attention_kv_heads(%q: tensor<1x8x16x64xf16>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x4x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op operands 'key' and 'value' must have the same number of heads, but got 2 and 4}}
  %0 = prism.attention %q, %k, %v : tensor<1x8x16x64xf16>, tensor<1x2x16x64xf16>, tensor<1x4x16x64xf16>
  return
}

// -----

func.func @attention_gqa(%q: tensor<1x6x16x64xf16>, %k: tensor<1x4x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op query heads (6) must be a multiple of key/value heads (4) for grouped-query attention}}
  %0 = prism.attention %q, %k, %k : tensor<1x6x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16>
  return
}

// -----

func.func @attention_kv_seq(%q: tensor<1x8x16x64xf16>, %k: tensor<1x8x16x64xf16>, %v: tensor<1x8x32x64xf16>) {
  // expected-error @+1 {{'prism.attention' op operands 'key' and 'value' must have the same sequence length, but got 16 and 32}}
  %0 = prism.attention %q, %k, %v : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x32x64xf16>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x8x16x64xf16>, %k: tensor<1x8x16x128xf16>) {
  // expected-error @+1 {{'prism.attention' op head_dim of 'query' (64) does not match head_dim of 'key' (128)}}
  %0 = prism.attention %q, %k, %k : tensor<1x8x16x64xf16>, tensor<1x8x16x128xf16>, tensor<1x8x16x128xf16>
  return
}

// -----

func.func @attention_mask_type(%q: tensor<1x8x16x64xf16>, %m: tensor<16x16xbf16>) {
  // expected-error @+1 {{'prism.attention' op operand 'mask' must have element type 'f16' or f32, but got 'bf16'}}
  %0 = prism.attention %q, %q, %q mask(%m : tensor<16x16xbf16>) : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<1x8x16x64xf16>, %m: tensor<16x17xf32>) {
  // expected-error @+1 {{'prism.attention' op operands 'mask' ('tensor<16x17xf32>') and 'scores' ('tensor<1x8x16x16xf32>') do not broadcast: dimension 1 of 'mask' is 17 but dimension 3 of 'scores' is 16}}
  %0 = prism.attention %q, %q, %q mask(%m : tensor<16x17xf32>) : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_mask_expands(%q: tensor<1x8x16x64xf16>, %m: tensor<2x8x16x16xf32>) {
  // expected-error @+1 {{'prism.attention' op operand 'mask' must broadcast to the scores 'tensor<1x8x16x16xf32>', but got 'tensor<2x8x16x16xf32>'}}
  %0 = prism.attention %q, %q, %q mask(%m : tensor<2x8x16x16xf32>) : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_mask_rank(%q: tensor<1x8x16x64xf16>, %m: tensor<1x1x8x16x16xf32>) {
  // expected-error @+1 {{'prism.attention' op operand 'mask' must broadcast to the scores 'tensor<1x8x16x16xf32>', but got 'tensor<1x1x8x16x16xf32>'}}
  %0 = prism.attention %q, %q, %q mask(%m : tensor<1x1x8x16x16xf32>) : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op attribute 'scale' must be a finite, non-zero, normal f32 value of magnitude at most 2.35e38 (the kernels scale by scale * log2(e) in f32), but got 0.000000e+00}}
  %0 = prism.attention %q, %q, %q scale = 0.0 : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_scale_beyond_logits(%q: tensor<1x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op attribute 'scale' must be a finite, non-zero, normal f32 value of magnitude at most 2.35e38 (the kernels scale by scale * log2(e) in f32), but got -3.000000e+38}}
  %0 = prism.attention %q, %q, %q scale = -3.0e38 : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_scale_beyond_f32(%q: tensor<1x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op attribute 'scale' must be a finite, non-zero, normal f32 value of magnitude at most 2.35e38 (the kernels scale by scale * log2(e) in f32), but got 1.000000e+300}}
  %0 = prism.attention %q, %q, %q scale = 1.0e300 : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @rms_norm_eps_beyond_f32(%a: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'prism.rms_norm' op attribute 'eps' must be a finite f32 value >= 0, but got 1.000000e+300}}
  %0 = prism.rms_norm %a, %w eps = 1.0e300 : tensor<4x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @attention_window(%q: tensor<1x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op attribute 'window' must be positive, but got 0}}
  %0 = prism.attention %q, %q, %q causal window = 0 : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

// -----

func.func @attention_window_causal(%q: tensor<1x8x16x64xf16>) {
  // expected-error @+1 {{'prism.attention' op attribute 'window' (sliding-window attention) requires 'causal'}}
  %0 = prism.attention %q, %q, %q window = 4 : tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>, tensor<1x8x16x64xf16>
  return
}

//===----------------------------------------------------------------------===//
// rope
//===----------------------------------------------------------------------===//

// -----

func.func @rope_rank(%x: tensor<16x8x64xf32>, %p: tensor<16xi32>) {
  // expected-error @+1 {{'prism.rope' op operand 'input' must have rank 4 (bshd: [batch, seq, heads, head_dim]), but got 'tensor<16x8x64xf32>'}}
  %0 = prism.rope neox bshd %x, %p : tensor<16x8x64xf32>, tensor<16xi32>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<1x8x16x63xf32>, %p: tensor<16xi32>) {
  // expected-error @+1 {{'prism.rope' op head_dim of 'input' must be even, but got 63}}
  %0 = prism.rope interleaved bhsd %x, %p : tensor<1x8x16x63xf32>, tensor<16xi32>
  return
}

// -----

func.func @rope_positions_type(%x: tensor<1x16x8x64xf32>, %p: tensor<16xf32>) {
  // expected-error @+1 {{'prism.rope' op operand 'positions' must have element type i32 or i64, but got 'f32'}}
  %0 = prism.rope neox bshd %x, %p : tensor<1x16x8x64xf32>, tensor<16xf32>
  return
}

// -----

func.func @rope_positions_shape(%x: tensor<1x16x8x64xf32>, %p: tensor<8xi32>) {
  // expected-error @+1 {{'prism.rope' op operand 'positions' must have shape [1, 16] or [16] (batch and seq of 'input'), but got 'tensor<8xi32>'}}
  %0 = prism.rope neox bshd %x, %p : tensor<1x16x8x64xf32>, tensor<8xi32>
  return
}

// -----

func.func @rope_one_table(%x: tensor<1x16x8x64xf32>, %p: tensor<16xi32>, %c: tensor<128x32xf32>) {
  // expected-error @+2 {{'prism.rope' op operands 'cos_table' and 'sin_table' must be given together}}
  // expected-error @+1 {{'prism.rope' op failed to infer returned types}}
  %0 = "prism.rope"(%x, %p, %c) <{layout = 0 : i32, style = 0 : i32, operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<1x16x8x64xf32>, tensor<16xi32>, tensor<128x32xf32>) -> tensor<1x16x8x64xf32>
  return
}

// -----

func.func @rope_theta_and_tables(%x: tensor<1x16x8x64xf32>, %p: tensor<16xi32>, %c: tensor<128x32xf32>) {
  // expected-error @+1 {{'prism.rope' op attribute 'theta' must not be given with cos/sin tables (the tables define the angles)}}
  %0 = prism.rope neox bshd %x, %p tables(%c, %c : tensor<128x32xf32>, tensor<128x32xf32>) theta = 1.0e4 : tensor<1x16x8x64xf32>, tensor<16xi32>
  return
}

// -----

func.func @rope_table_empty(%x: tensor<1x16x8x64xf32>, %p: tensor<16xi32>, %c: tensor<0x32xf32>) {
  // expected-error @+1 {{'prism.rope' op operand 'cos_table' must have at least one position (positions are clamped to the table), but got 'tensor<0x32xf32>'}}
  %0 = prism.rope neox bshd %x, %p tables(%c, %c : tensor<0x32xf32>, tensor<0x32xf32>) : tensor<1x16x8x64xf32>, tensor<16xi32>
  return
}

// -----

func.func @rope_table_shape(%x: tensor<1x16x8x64xf32>, %p: tensor<16xi32>, %c: tensor<128x64xf32>) {
  // expected-error @+1 {{'prism.rope' op operand 'cos_table' must have shape [positions, 32] (head_dim / 2), but got 'tensor<128x64xf32>'}}
  %0 = prism.rope neox bshd %x, %p tables(%c, %c : tensor<128x64xf32>, tensor<128x64xf32>) : tensor<1x16x8x64xf32>, tensor<16xi32>
  return
}

// -----

func.func @rope_table_type(%x: tensor<1x16x8x64xbf16>, %p: tensor<16xi32>, %c: tensor<128x32xf16>) {
  // expected-error @+1 {{'prism.rope' op operand 'cos_table' must have element type 'bf16' or f32, but got 'f16'}}
  %0 = prism.rope neox bshd %x, %p tables(%c, %c : tensor<128x32xf16>, tensor<128x32xf16>) : tensor<1x16x8x64xbf16>, tensor<16xi32>
  return
}

// -----

func.func @rope_tables_differ(%x: tensor<1x16x8x64xbf16>, %p: tensor<16xi32>, %c: tensor<128x32xf32>, %s: tensor<128x32xbf16>) {
  // expected-error @+1 {{'prism.rope' op operands 'cos_table' and 'sin_table' must have the same type, but got 'tensor<128x32xf32>' and 'tensor<128x32xbf16>'}}
  %0 = prism.rope neox bshd %x, %p tables(%c, %s : tensor<128x32xf32>, tensor<128x32xbf16>) : tensor<1x16x8x64xbf16>, tensor<16xi32>
  return
}

// -----

func.func @rope_theta(%x: tensor<1x16x8x64xf32>, %p: tensor<16xi32>) {
  // expected-error @+1 {{'prism.rope' op attribute 'theta' must be a finite value > 1, but got 5.000000e-01}}
  %0 = prism.rope neox bshd %x, %p theta = 0.5 : tensor<1x16x8x64xf32>, tensor<16xi32>
  return
}

//===----------------------------------------------------------------------===//
// embedding, transpose, reshape, cast
//===----------------------------------------------------------------------===//

// -----

func.func @embedding_table_rank(%t: tensor<1000xf32>, %i: tensor<4xi32>) {
  // expected-error @+1 {{'prism.embedding' op operand 'table' must have rank 2 ([vocab, features]), but got 'tensor<1000xf32>'}}
  %0 = prism.embedding %t, %i : tensor<1000xf32>, tensor<4xi32>
  return
}

// -----

func.func @embedding_indices_type(%t: tensor<1000x64xf32>, %i: tensor<4xf32>) {
  // expected-error @+1 {{'prism.embedding' op operand 'indices' must have element type i32 or i64, but got 'f32'}}
  %0 = prism.embedding %t, %i : tensor<1000x64xf32>, tensor<4xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'prism.transpose' op attribute 'perm' must have one entry per dimension of 'input' (3), but has 2}}
  %0 = prism.transpose %x perm = [1, 0] : tensor<2x3x4xf32>
  return
}

// -----

func.func @transpose_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'prism.transpose' op attribute 'perm' must be a permutation of [0, 2), but 2 is out of range}}
  %0 = prism.transpose %x perm = [0, 2] : tensor<2x3xf32>
  return
}

// -----

func.func @transpose_duplicate(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'prism.transpose' op attribute 'perm' must be a permutation of [0, 2), but 0 appears twice}}
  %0 = prism.transpose %x perm = [0, 0] : tensor<2x3xf32>
  return
}

// -----

func.func @transpose_unranked(%x: tensor<*xf32>) {
  // expected-error @+1 {{'prism.transpose' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or 8-bit signless integer or f8E4M3FN type values, but got 'tensor<*xf32>'}}
  %0 = "prism.transpose"(%x) <{permutation = array<i64: 0>}> : (tensor<*xf32>) -> tensor<?xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'prism.reshape' op result must have the element type of operand 'input' ('f32'), but got 'f16'}}
  %0 = prism.reshape %x : tensor<4x4xf32> to tensor<16xf16>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'prism.reshape' op operand 'input' has 16 elements but the result has 15 ('tensor<4x4xf32>' to 'tensor<3x5xf32>')}}
  %0 = prism.reshape %x : tensor<4x4xf32> to tensor<3x5xf32>
  return
}

// -----

func.func @reshape_dynamic_beside_zero(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'prism.reshape' op a dynamic result dimension cannot be inferred beside a static dimension of size 0, but got 'tensor<0x?xf32>'}}
  %0 = prism.reshape %x : tensor<?x4xf32> to tensor<0x?xf32>
  return
}

// -----

func.func @reshape_two_dynamic(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'prism.reshape' op result may have at most one dynamic dimension, but got 'tensor<?x?x8xf32>'}}
  %0 = prism.reshape %x : tensor<?x64xf32> to tensor<?x?x8xf32>
  return
}

// -----

func.func @reshape_not_dividing(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{'prism.reshape' op the static dimensions of the result (5 elements) do not divide the 24 elements of operand 'input'}}
  %0 = prism.reshape %x : tensor<4x6xf32> to tensor<?x5xf32>
  return
}

// -----

func.func @reshape_overflow(%x: tensor<9223372036854775807x2xf32>) {
  // expected-error @+1 {{'prism.reshape' op element count of 'input' overflows a 64-bit integer}}
  %0 = prism.reshape %x : tensor<9223372036854775807x2xf32> to tensor<?xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'prism.cast' op result must have the shape of operand 'input' ('tensor<4x4xf32>'), but got 'tensor<16xbf16>'}}
  %0 = prism.cast %x : tensor<4x4xf32> to tensor<16xbf16>
  return
}

// -----

func.func @cast_dims(%x: tensor<4x?xf32>) {
  // expected-error @+1 {{'prism.cast' op result must have the shape of operand 'input' ('tensor<4x?xf32>'), but got 'tensor<4x4xbf16>'}}
  %0 = prism.cast %x : tensor<4x?xf32> to tensor<4x4xbf16>
  return
}

// -----

func.func @cast_unsupported(%x: tensor<4xf32>) {
  // expected-error @+1 {{'prism.cast' op result #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type or 8-bit signless integer or f8E4M3FN type values, but got 'tensor<4xf64>'}}
  %0 = prism.cast %x : tensor<4xf32> to tensor<4xf64>
  return
}
