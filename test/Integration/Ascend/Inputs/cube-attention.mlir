// Attention in bf16 for Ascend: Q K^T and P V on the cube unit, the masked
// softmax on the vector unit (the same graphs as the CPU's f32 tests).
func.func @attention_gqa_causal(%q: tensor<2x4x?x16xbf16>, %k: tensor<2x2x?x16xbf16>, %v: tensor<2x2x?x16xbf16>) -> tensor<2x4x?x16xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<2x4x?x16xbf16>, tensor<2x2x?x16xbf16>, tensor<2x2x?x16xbf16>
  return %0 : tensor<2x4x?x16xbf16>
}

// Five new queries against a cache of 40 keys, multi-query, a window of 7.
func.func @attention_decode_window(%q: tensor<1x4x5x12xbf16>, %k: tensor<1x1x?x12xbf16>, %v: tensor<1x1x?x20xbf16>) -> tensor<1x4x5x20xbf16> {
  %0 = prism.attention %q, %k, %v causal window = 7 : tensor<1x4x5x12xbf16>, tensor<1x1x?x12xbf16>, tensor<1x1x?x20xbf16>
  return %0 : tensor<1x4x5x20xbf16>
}

// 37 queries and 5 keys: the first 32 queries see no key and give zeros.
func.func @attention_more_queries(%q: tensor<1x2x?x8xbf16>, %k: tensor<1x2x5x8xbf16>, %v: tensor<1x2x5x8xbf16>) -> tensor<1x2x?x8xbf16> {
  %0 = prism.attention %q, %k, %v causal scale = 0.5 : tensor<1x2x?x8xbf16>, tensor<1x2x5x8xbf16>, tensor<1x2x5x8xbf16>
  return %0 : tensor<1x2x?x8xbf16>
}

