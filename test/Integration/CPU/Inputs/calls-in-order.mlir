// @helper is only called by @other, which is not the entry: neither is
// compiled (helper's rank-0 reduce has no kernel), whatever their order.
func.func @helper(%x: tensor<4x8xf32>) -> tensor<f32> {
  %0 = prism.reduce sum %x axes = [0, 1] : tensor<4x8xf32>
  return %0 : tensor<f32>
}
func.func @other(%x: tensor<4x8xf32>) -> tensor<f32> {
  %0 = func.call @helper(%x) : (tensor<4x8xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = prism.exp %x : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
