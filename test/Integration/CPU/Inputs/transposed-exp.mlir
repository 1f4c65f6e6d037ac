// A transpose read as a view, for damaged-bundle.test.
func.func @t(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  %0 = prism.transpose %x perm = [1, 0] : tensor<4x8xf32>
  %1 = prism.exp %0 : tensor<8x4xf32>
  return %1 : tensor<8x4xf32>
}
