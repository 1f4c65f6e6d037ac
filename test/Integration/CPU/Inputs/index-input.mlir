// An input of index elements: no dtype for it, said so (it crashed the size check).
func.func @f(%a: tensor<4xf32>, %b: tensor<4xindex>) -> tensor<4xf32> {
  %0 = prism.exp %a : tensor<4xf32>
  return %0 : tensor<4xf32>
}
