// A residual add, rms_norm and SiLU: vector kernels only.
func.func @vector_block(%x: tensor<?x300xf32>, %r: tensor<?x300xf32>, %w: tensor<300xf32>) -> tensor<?x300xf32> {
  %s = prism.add %x, %r : tensor<?x300xf32>, tensor<?x300xf32>
  %n = prism.rms_norm %s, %w eps = 1.0e-5 : tensor<?x300xf32>, tensor<300xf32>
  %y = prism.silu %n : tensor<?x300xf32>
  return %y : tensor<?x300xf32>
}
