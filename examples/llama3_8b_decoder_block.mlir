// One decoder block of Llama-3-8B at its real sizes: model dim 4096,
// 32 query heads and 8 key/value heads of head_dim 128 (grouped-query
// attention, 4 query heads per KV head), MLP hidden dim 14336, RoPE theta
// 500000, RMSNorm eps 1e-5, bf16, batch 1, any sequence length.
//
// Weights are in PyTorch Linear layout [out_features, in_features], hence
// `transpose_rhs` on every projection. Same structure as
// llama_decoder_block_small.mlir.

func.func @decoder_block(
    %x: tensor<1x?x4096xbf16>,          // hidden states [batch, seq, dim]
    %positions: tensor<1x?xi32>,        // token positions [batch, seq]
    %attn_norm_w: tensor<4096xbf16>,
    %wq: tensor<4096x4096xbf16>,        // 32 heads x 128
    %wk: tensor<1024x4096xbf16>,        // 8 heads x 128
    %wv: tensor<1024x4096xbf16>,
    %wo: tensor<4096x4096xbf16>,
    %mlp_norm_w: tensor<4096xbf16>,
    %w_gate: tensor<14336x4096xbf16>,
    %w_up: tensor<14336x4096xbf16>,
    %w_down: tensor<4096x14336xbf16>) -> tensor<1x?x4096xbf16> {
  // Attention.
  %h = prism.rms_norm %x, %attn_norm_w eps = 1.0e-5 : tensor<1x?x4096xbf16>, tensor<4096xbf16>
  %q = prism.matmul %h, %wq transpose_rhs : tensor<1x?x4096xbf16>, tensor<4096x4096xbf16>
  %k = prism.matmul %h, %wk transpose_rhs : tensor<1x?x4096xbf16>, tensor<1024x4096xbf16>
  %v = prism.matmul %h, %wv transpose_rhs : tensor<1x?x4096xbf16>, tensor<1024x4096xbf16>
  %q_heads = prism.reshape %q : tensor<1x?x4096xbf16> to tensor<1x?x32x128xbf16>
  %k_heads = prism.reshape %k : tensor<1x?x1024xbf16> to tensor<1x?x8x128xbf16>
  %v_heads = prism.reshape %v : tensor<1x?x1024xbf16> to tensor<1x?x8x128xbf16>
  %q_rot = prism.rope neox bshd %q_heads, %positions theta = 5.0e5 : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  %k_rot = prism.rope neox bshd %k_heads, %positions theta = 5.0e5 : tensor<1x?x8x128xbf16>, tensor<1x?xi32>
  %q_t = prism.transpose %q_rot perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
  %k_t = prism.transpose %k_rot perm = [0, 2, 1, 3] : tensor<1x?x8x128xbf16>
  %v_t = prism.transpose %v_heads perm = [0, 2, 1, 3] : tensor<1x?x8x128xbf16>
  %attn = prism.attention %q_t, %k_t, %v_t causal : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  %attn_t = prism.transpose %attn perm = [0, 2, 1, 3] : tensor<1x32x?x128xbf16>
  %attn_flat = prism.reshape %attn_t : tensor<1x?x32x128xbf16> to tensor<1x?x4096xbf16>
  %o = prism.matmul %attn_flat, %wo transpose_rhs : tensor<1x?x4096xbf16>, tensor<4096x4096xbf16>
  %x1 = prism.add %x, %o : tensor<1x?x4096xbf16>, tensor<1x?x4096xbf16>

  // MLP.
  %h2 = prism.rms_norm %x1, %mlp_norm_w eps = 1.0e-5 : tensor<1x?x4096xbf16>, tensor<4096xbf16>
  %gate = prism.matmul %h2, %w_gate transpose_rhs : tensor<1x?x4096xbf16>, tensor<14336x4096xbf16>
  %up = prism.matmul %h2, %w_up transpose_rhs : tensor<1x?x4096xbf16>, tensor<14336x4096xbf16>
  %act = prism.swiglu %gate, %up : tensor<1x?x14336xbf16>
  %down = prism.matmul %act, %w_down transpose_rhs : tensor<1x?x14336xbf16>, tensor<4096x14336xbf16>
  %out = prism.add %x1, %down : tensor<1x?x4096xbf16>, tensor<1x?x4096xbf16>
  return %out : tensor<1x?x4096xbf16>
}
