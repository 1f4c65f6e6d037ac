// One query against thousands of keys with large, nearly equal logits
// (make_long_row_inputs.py): the online softmax's running maximum and its
// corrections must stay consistent over every KV block.
func.func @long_row(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x?x16xf32>, %v: tensor<1x1x?x16xf32>) -> tensor<1x1x1x16xf32> {
  %0 = prism.attention %q, %k, %v scale = 1.0 : tensor<1x1x1x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>
  return %0 : tensor<1x1x1x16xf32>
}
