// A Llama-style decoder block (pre-norm, grouped-query attention, SwiGLU MLP)
// at a small size for tests: model dim 64, 4 query heads and 2 key/value
// heads of head_dim 16, MLP hidden dim 128, f32, any sequence length.
//
// Weights are in PyTorch Linear layout [out_features, in_features], hence
// `transpose_rhs` on every projection. Same structure as
// llama3_8b_decoder_block.mlir.

func.func @decoder_block(
    %x: tensor<1x?x64xf32>,           // hidden states [batch, seq, dim]
    %positions: tensor<1x?xi32>,      // token positions [batch, seq]
    %attn_norm_w: tensor<64xf32>,
    %wq: tensor<64x64xf32>,           // 4 heads x 16
    %wk: tensor<32x64xf32>,           // 2 heads x 16
    %wv: tensor<32x64xf32>,
    %wo: tensor<64x64xf32>,
    %mlp_norm_w: tensor<64xf32>,
    %w_gate: tensor<128x64xf32>,
    %w_up: tensor<128x64xf32>,
    %w_down: tensor<64x128xf32>) -> tensor<1x?x64xf32> {
  // Attention.
  %h = prism.rms_norm %x, %attn_norm_w eps = 1.0e-5 : tensor<1x?x64xf32>, tensor<64xf32>
  %q = prism.matmul %h, %wq transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %k = prism.matmul %h, %wk transpose_rhs : tensor<1x?x64xf32>, tensor<32x64xf32>
  %v = prism.matmul %h, %wv transpose_rhs : tensor<1x?x64xf32>, tensor<32x64xf32>
  %q_heads = prism.reshape %q : tensor<1x?x64xf32> to tensor<1x?x4x16xf32>
  %k_heads = prism.reshape %k : tensor<1x?x32xf32> to tensor<1x?x2x16xf32>
  %v_heads = prism.reshape %v : tensor<1x?x32xf32> to tensor<1x?x2x16xf32>
  %q_rot = prism.rope neox bshd %q_heads, %positions theta = 1.0e4 : tensor<1x?x4x16xf32>, tensor<1x?xi32>
  %k_rot = prism.rope neox bshd %k_heads, %positions theta = 1.0e4 : tensor<1x?x2x16xf32>, tensor<1x?xi32>
  %q_t = prism.transpose %q_rot perm = [0, 2, 1, 3] : tensor<1x?x4x16xf32>
  %k_t = prism.transpose %k_rot perm = [0, 2, 1, 3] : tensor<1x?x2x16xf32>
  %v_t = prism.transpose %v_heads perm = [0, 2, 1, 3] : tensor<1x?x2x16xf32>
  %attn = prism.attention %q_t, %k_t, %v_t causal : tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
  %attn_t = prism.transpose %attn perm = [0, 2, 1, 3] : tensor<1x4x?x16xf32>
  %attn_flat = prism.reshape %attn_t : tensor<1x?x4x16xf32> to tensor<1x?x64xf32>
  %o = prism.matmul %attn_flat, %wo transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %x1 = prism.add %x, %o : tensor<1x?x64xf32>, tensor<1x?x64xf32>

  // MLP.
  %h2 = prism.rms_norm %x1, %mlp_norm_w eps = 1.0e-5 : tensor<1x?x64xf32>, tensor<64xf32>
  %gate = prism.matmul %h2, %w_gate transpose_rhs : tensor<1x?x64xf32>, tensor<128x64xf32>
  %up = prism.matmul %h2, %w_up transpose_rhs : tensor<1x?x64xf32>, tensor<128x64xf32>
  %act = prism.swiglu %gate, %up : tensor<1x?x128xf32>
  %down = prism.matmul %act, %w_down transpose_rhs : tensor<1x?x128xf32>, tensor<64x128xf32>
  %out = prism.add %x1, %down : tensor<1x?x64xf32>, tensor<1x?x64xf32>
  return %out : tensor<1x?x64xf32>
}
