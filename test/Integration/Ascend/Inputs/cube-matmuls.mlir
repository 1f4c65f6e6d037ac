// Matmuls for Ascend's cube unit: Linear layers ([N, K] weights, bf16, with
// a bias), [K, N] f16 operands, batches, and sizes that leave partial
// 32 x 32 x 32 blocks in every dimension.
func.func @linear_bias_bf16(%x: tensor<1x?x200xbf16>, %w: tensor<150x200xbf16>, %b: tensor<150xf32>) -> tensor<1x?x150xbf16> {
  %0 = prism.matmul %x, %w bias(%b : tensor<150xf32>) transpose_rhs : tensor<1x?x200xbf16>, tensor<150x200xbf16>
  return %0 : tensor<1x?x150xbf16>
}

func.func @plain_f16(%a: tensor<?x96xf16>, %b: tensor<96x130xf16>) -> tensor<?x130xf16> {
  %0 = prism.matmul %a, %b : tensor<?x96xf16>, tensor<96x130xf16>
  return %0 : tensor<?x130xf16>
}

func.func @batched_f16(%a: tensor<2x?x70xf16>, %b: tensor<2x70x40xf16>) -> tensor<2x?x40xf16> {
  %0 = prism.matmul %a, %b : tensor<2x?x70xf16>, tensor<2x70x40xf16>
  return %0 : tensor<2x?x40xf16>
}

// A dynamic K (the contraction of a ragged batch of features, a decode
// step's empty cache): with K = 0 no K step runs, so the cube writes L0C
// through one Mmad of zero fractals; the output is the bias alone, or 0.
func.func @dynamic_k_bias_bf16(%x: tensor<2x7x?xbf16>, %w: tensor<50x?xbf16>, %b: tensor<50xf32>) -> tensor<2x7x50xbf16> {
  %0 = prism.matmul %x, %w bias(%b : tensor<50xf32>) transpose_rhs : tensor<2x7x?xbf16>, tensor<50x?xbf16>
  return %0 : tensor<2x7x50xbf16>
}

func.func @dynamic_k_f16(%a: tensor<20x?xf16>, %b: tensor<?x40xf16>) -> tensor<20x40xf16> {
  %0 = prism.matmul %a, %b : tensor<20x?xf16>, tensor<?x40xf16>
  return %0 : tensor<20x40xf16>
}

// Attention over an empty key sequence: P V is a cube matmul with K = 0,
// and every row sees no key (the op gives zeros).
func.func @attention_no_keys_f16(%q: tensor<1x2x5x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>) -> tensor<1x2x5x64xf16> {
  %0 = prism.attention %q, %k, %v : tensor<1x2x5x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>
  return %0 : tensor<1x2x5x64xf16>
}
