func.func @f(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = prism.exp %x : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

func.func @g(%x: tensor<?x5xf32>, %y: tensor<?x5xf32>) -> tensor<?x5xf32> {
  %0 = prism.add %x, %y : tensor<?x5xf32>, tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// Every op has a kernel; a few forms do not yet (here: a rank-0 result).
func.func @unsupported(%x: tensor<4x8xf32>) -> tensor<f32> {
  %0 = prism.reduce sum %x axes = [0, 1] : tensor<4x8xf32>
  return %0 : tensor<f32>
}

// A declaration cannot be the entry.
func.func private @declared(%x: tensor<2x5xf32>) -> tensor<2x5xf32>
