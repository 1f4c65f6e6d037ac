// The small Llama decoder block as a framework exports it: attention
// unfused (grouped-query heads through broadcasting, K^T, a scale, an
// additive mask input, softmax, P V), SiLU(gate) * up spelled out, and the
// reshapes and transposes around them. prism-optimize recognizes the
// attention and fuses the rest.
func.func @exported_block(
    %x: tensor<1x?x64xf32>, %positions: tensor<1x?xi32>, %mask: tensor<?x?xf32>,
    %attn_norm_w: tensor<64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<32x64xf32>,
    %wv: tensor<32x64xf32>, %wo: tensor<64x64xf32>, %mlp_norm_w: tensor<64xf32>,
    %w_gate: tensor<128x64xf32>, %w_up: tensor<128x64xf32>,
    %w_down: tensor<64x128xf32>) -> tensor<1x?x64xf32> {
  %scale = arith.constant dense<0.25> : tensor<f32>
  %h = prism.rms_norm %x, %attn_norm_w eps = 1.0e-5 : tensor<1x?x64xf32>, tensor<64xf32>
  %q = prism.matmul %h, %wq transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %k = prism.matmul %h, %wk transpose_rhs : tensor<1x?x64xf32>, tensor<32x64xf32>
  %v = prism.matmul %h, %wv transpose_rhs : tensor<1x?x64xf32>, tensor<32x64xf32>
  %q4 = prism.reshape %q : tensor<1x?x64xf32> to tensor<1x?x4x16xf32>
  %k4 = prism.reshape %k : tensor<1x?x32xf32> to tensor<1x?x2x16xf32>
  %v4 = prism.reshape %v : tensor<1x?x32xf32> to tensor<1x?x2x16xf32>
  %q_rot = prism.rope neox bshd %q4, %positions theta = 1.0e4 : tensor<1x?x4x16xf32>, tensor<1x?xi32>
  %k_rot = prism.rope neox bshd %k4, %positions theta = 1.0e4 : tensor<1x?x2x16xf32>, tensor<1x?xi32>
  %q_t = prism.transpose %q_rot perm = [0, 2, 1, 3] : tensor<1x?x4x16xf32>
  %k_t = prism.transpose %k_rot perm = [0, 2, 1, 3] : tensor<1x?x2x16xf32>
  %v_t = prism.transpose %v4 perm = [0, 2, 1, 3] : tensor<1x?x2x16xf32>
  // repeat_kv as broadcasting: [B, Hkv, G, S, D] against [B, Hkv, 1, S, D].
  %q5 = prism.reshape %q_t : tensor<1x4x?x16xf32> to tensor<1x2x2x?x16xf32>
  %k5 = prism.reshape %k_t : tensor<1x2x?x16xf32> to tensor<1x2x1x?x16xf32>
  %v5 = prism.reshape %v_t : tensor<1x2x?x16xf32> to tensor<1x2x1x?x16xf32>
  %kT = prism.transpose %k5 perm = [0, 1, 2, 4, 3] : tensor<1x2x1x?x16xf32>
  %s = prism.matmul %q5, %kT : tensor<1x2x2x?x16xf32>, tensor<1x2x1x16x?xf32>
  %s_scaled = prism.mul %s, %scale : tensor<1x2x2x?x?xf32>, tensor<f32>
  %s_masked = prism.add %s_scaled, %mask : tensor<1x2x2x?x?xf32>, tensor<?x?xf32>
  %p = prism.softmax %s_masked axis = -1 : tensor<1x2x2x?x?xf32>
  %o5 = prism.matmul %p, %v5 : tensor<1x2x2x?x?xf32>, tensor<1x2x1x?x16xf32>
  %o4 = prism.reshape %o5 : tensor<1x2x2x?x16xf32> to tensor<1x4x?x16xf32>
  %o_t = prism.transpose %o4 perm = [0, 2, 1, 3] : tensor<1x4x?x16xf32>
  %o = prism.reshape %o_t : tensor<1x?x4x16xf32> to tensor<1x?x64xf32>
  %attn_out = prism.matmul %o, %wo transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %x1 = prism.add %x, %attn_out : tensor<1x?x64xf32>, tensor<1x?x64xf32>
  %h2 = prism.rms_norm %x1, %mlp_norm_w eps = 1.0e-5 : tensor<1x?x64xf32>, tensor<64xf32>
  %gate = prism.matmul %h2, %w_gate transpose_rhs : tensor<1x?x64xf32>, tensor<128x64xf32>
  %up = prism.matmul %h2, %w_up transpose_rhs : tensor<1x?x64xf32>, tensor<128x64xf32>
  %g = prism.silu %gate : tensor<1x?x128xf32>
  %act = prism.mul %g, %up : tensor<1x?x128xf32>, tensor<1x?x128xf32>
  %down = prism.matmul %act, %w_down transpose_rhs : tensor<1x?x128xf32>, tensor<64x128xf32>
  %out = prism.add %x1, %down : tensor<1x?x64xf32>, tensor<1x?x64xf32>
  return %out : tensor<1x?x64xf32>
}
