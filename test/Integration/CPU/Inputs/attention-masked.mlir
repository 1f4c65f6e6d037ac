// Attention with an additive mask that has -inf entries, and whole rows of
// -inf (those queries see no key: zeros). Inputs come from make_masked_inputs.py.
func.func @masked(%q: tensor<1x2x19x16xf32>, %k: tensor<1x2x45x16xf32>, %v: tensor<1x2x45x16xf32>, %m: tensor<1x2x19x45xf32>) -> tensor<1x2x19x16xf32> {
  %0 = prism.attention %q, %k, %v mask(%m : tensor<1x2x19x45xf32>) : tensor<1x2x19x16xf32>, tensor<1x2x45x16xf32>, tensor<1x2x45x16xf32>
  return %0 : tensor<1x2x19x16xf32>
}
