// A matmul for the tile-size checks of prism-run-errors.test.
func.func @mm(%x: tensor<?x64xf32>, %w: tensor<64x96xf32>) -> tensor<?x96xf32> {
  %0 = prism.matmul %x, %w : tensor<?x64xf32>, tensor<64x96xf32>
  return %0 : tensor<?x96xf32> }
