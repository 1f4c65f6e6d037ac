// The second half of a Llama decoder block: pre-norm SwiGLU MLP with its
// residual, at a small size (model dim 256, hidden 688, f32, any number of
// tokens). Every op here has a kernel in the library today, so `make run`
// compiles and runs it on the CPU; llama_decoder_block_small.mlir also needs
// the rope and attention kernels.

func.func @mlp_block(
    %x: tensor<1x?x256xf32>,          // hidden states [batch, seq, dim]
    %norm_w: tensor<256xf32>,
    %w_gate: tensor<688x256xf32>,     // PyTorch Linear layout [out, in]
    %w_up: tensor<688x256xf32>,
    %w_down: tensor<256x688xf32>) -> tensor<1x?x256xf32> {
  %h = prism.rms_norm %x, %norm_w eps = 1.0e-5 : tensor<1x?x256xf32>, tensor<256xf32>
  %gate = prism.matmul %h, %w_gate transpose_rhs : tensor<1x?x256xf32>, tensor<688x256xf32>
  %up = prism.matmul %h, %w_up transpose_rhs : tensor<1x?x256xf32>, tensor<688x256xf32>
  %act = prism.swiglu %gate, %up : tensor<1x?x688xf32>
  %down = prism.matmul %act, %w_down transpose_rhs : tensor<1x?x688xf32>, tensor<256x688xf32>
  %out = prism.add %x, %down : tensor<1x?x256xf32>, tensor<1x?x256xf32>
  return %out : tensor<1x?x256xf32>
}
