// A reduction to a scalar has no kernel yet (a clear kernelization error).
func.func @total(%x: tensor<8x16xf32>) -> tensor<f32> {
  %0 = prism.reduce sum %x axes = [0, 1] : tensor<8x16xf32>
  return %0 : tensor<f32>
}
