// A static type of 2^80 elements: its byte count does not fit 63 bits.
func.func @huge(%x: tensor<1099511627776x1099511627776xf32>) -> tensor<1099511627776x1099511627776xf32> {
  %0 = prism.exp %x : tensor<1099511627776x1099511627776xf32>
  return %0 : tensor<1099511627776x1099511627776xf32>
}
