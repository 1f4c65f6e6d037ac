func.func @f(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = prism.exp %x : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

func.func @g(%x: tensor<?x5xf32>, %y: tensor<?x5xf32>) -> tensor<?x5xf32> {
  %0 = prism.add %x, %y : tensor<?x5xf32>, tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

func.func @unsupported(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %0 = prism.attention %q, %q, %q causal : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}
