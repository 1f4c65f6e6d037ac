func.func @linear_silu(%x: tensor<?x48xf32>, %w: tensor<20x48xf32>) -> tensor<?x20xf32> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<?x48xf32>, tensor<20x48xf32>
  %1 = prism.silu %0 : tensor<?x20xf32>
  return %1 : tensor<?x20xf32>
}
