// layer_norm, reduce, rope, embedding and attention on the CPU against the
// float64 reference, on random inputs: rows longer than one chunk, strided
// views (reductions over a middle axis, interleaved rope pairs), positions
// beyond the cos/sin tables (clamped), token ids beyond the vocabulary (zero
// rows), grouped-query heads, causal attention with more and fewer queries
// than keys (bottom-right alignment; queries that see no key give zeros),
// sliding windows, additive masks, and a value head dim unlike the key's.
// RUN: prism-run %s --entry=layer_norm --check --dynamic-size=300 | FileCheck %s
// RUN: prism-run %s --entry=layer_norm_bf16 --check --dynamic-size=5 | FileCheck %s
// RUN: prism-run %s --entry=reductions --check --dynamic-size=300 | FileCheck %s
// RUN: prism-run %s --entry=reductions_f16 --check --dynamic-size=9 | FileCheck %s
// RUN: prism-run %s --entry=rope_neox --check --dynamic-size=37 | FileCheck %s
// RUN: prism-run %s --entry=rope_interleaved --check --dynamic-size=11 | FileCheck %s
// RUN: prism-run %s --entry=rope_tables --check --dynamic-size=23 | FileCheck %s
// RUN: prism-run %s --entry=embedding --check --dynamic-size=7 | FileCheck %s
// RUN: prism-run %s --entry=attention_gqa_causal --check --dynamic-size=37 | FileCheck %s
// RUN: prism-run %s --entry=attention_decode_window --check --dynamic-size=40 | FileCheck %s
// RUN: prism-run %s --entry=attention_more_queries --check --dynamic-size=37 | FileCheck %s
// RUN: prism-run %s --entry=attention_mask_bf16 --check --dynamic-size=21 | FileCheck %s
// RUN: prism-run %s --entry=attention_negative_scale --check --dynamic-size=45 | FileCheck %s
// RUN: prism-run %s --entry=attention_widest_window --check --dynamic-size=72 | FileCheck %s
// RUN: prism-run %s --entry=f16_ops --check --dynamic-size=29 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: PASS

func.func @layer_norm(%x: tensor<3x?xf32>, %w: tensor<?xf32>, %b: tensor<?xf32>) -> (tensor<3x?xf32>, tensor<3x?xf32>) {
  %0 = prism.layer_norm %x weight(%w : tensor<?xf32>) bias(%b : tensor<?xf32>) : tensor<3x?xf32>
  %1 = prism.layer_norm %x eps = 1.0e-3 : tensor<3x?xf32>
  return %0, %1 : tensor<3x?xf32>, tensor<3x?xf32>
}

func.func @layer_norm_bf16(%x: tensor<?x768xbf16>, %w: tensor<768xf32>) -> tensor<?x768xbf16> {
  %0 = prism.layer_norm %x weight(%w : tensor<768xf32>) : tensor<?x768xbf16>
  return %0 : tensor<?x768xbf16>
}

func.func @reductions(%x: tensor<4x?x6xf32>) -> (tensor<4x6xf32>, tensor<4x1x6xf32>, tensor<?xf32>, tensor<4xf32>) {
  %0 = prism.reduce sum %x axes = [1] : tensor<4x?x6xf32>
  %1 = prism.reduce max %x axes = [-2] keepdims : tensor<4x?x6xf32>
  %2 = prism.reduce mean %x axes = [0, 2] : tensor<4x?x6xf32>
  %3 = prism.reduce min %x axes = [1, 2] : tensor<4x?x6xf32>
  return %0, %1, %2, %3 : tensor<4x6xf32>, tensor<4x1x6xf32>, tensor<?xf32>, tensor<4xf32>
}

func.func @reductions_f16(%x: tensor<?x1000xf16>) -> (tensor<?x1xf16>, tensor<?xf16>) {
  %0 = prism.reduce mean %x axes = [1] keepdims : tensor<?x1000xf16>
  %1 = prism.reduce max %x axes = [-1] : tensor<?x1000xf16>
  return %0, %1 : tensor<?x1xf16>, tensor<?xf16>
}

func.func @rope_neox(%x: tensor<2x?x3x16xf32>, %p: tensor<2x?xi32>) -> tensor<2x?x3x16xf32> {
  %0 = prism.rope neox bshd %x, %p theta = 5.0e5 : tensor<2x?x3x16xf32>, tensor<2x?xi32>
  return %0 : tensor<2x?x3x16xf32>
}

func.func @rope_interleaved(%x: tensor<2x3x?x8xbf16>, %p: tensor<?xi64>) -> tensor<2x3x?x8xbf16> {
  %0 = prism.rope interleaved bhsd %x, %p : tensor<2x3x?x8xbf16>, tensor<?xi64>
  return %0 : tensor<2x3x?x8xbf16>
}

func.func @rope_tables(%x: tensor<1x?x2x12xf32>, %p: tensor<1x?xi32>, %c: tensor<16x6xf32>, %s: tensor<16x6xf32>) -> tensor<1x?x2x12xf32> {
  %0 = prism.rope neox bshd %x, %p tables(%c, %s : tensor<16x6xf32>, tensor<16x6xf32>) : tensor<1x?x2x12xf32>, tensor<1x?xi32>
  return %0 : tensor<1x?x2x12xf32>
}

// Random token ids are in [0, 64): some are past the 50-row table.
func.func @embedding(%t: tensor<50x300xf32>, %i: tensor<2x?xi32>) -> tensor<2x?x300xf32> {
  %0 = prism.embedding %t, %i : tensor<50x300xf32>, tensor<2x?xi32>
  return %0 : tensor<2x?x300xf32>
}

func.func @attention_gqa_causal(%q: tensor<2x4x?x16xf32>, %k: tensor<2x2x?x16xf32>, %v: tensor<2x2x?x16xf32>) -> tensor<2x4x?x16xf32> {
  %0 = prism.attention %q, %k, %v causal : tensor<2x4x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>
  return %0 : tensor<2x4x?x16xf32>
}

// Five new queries against a cache of 40 keys, multi-query, a window of 7.
func.func @attention_decode_window(%q: tensor<1x4x5x12xf32>, %k: tensor<1x1x?x12xf32>, %v: tensor<1x1x?x20xf32>) -> tensor<1x4x5x20xf32> {
  %0 = prism.attention %q, %k, %v causal window = 7 : tensor<1x4x5x12xf32>, tensor<1x1x?x12xf32>, tensor<1x1x?x20xf32>
  return %0 : tensor<1x4x5x20xf32>
}

// 37 queries and 5 keys: the first 32 queries see no key and give zeros.
func.func @attention_more_queries(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x2x?x8xf32> {
  %0 = prism.attention %q, %k, %v causal scale = 0.5 : tensor<1x2x?x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x?x8xf32>
}

// A large negative scale (nearly one-hot rows): each row's maximum is of
// the scaled scores, not of the raw ones (whose maximum is the minimum of
// the scaled ones: exp2 would overflow).
func.func @attention_negative_scale(%q: tensor<1x2x?x16xbf16>, %k: tensor<1x1x?x16xbf16>, %v: tensor<1x1x?x16xbf16>) -> tensor<1x2x?x16xbf16> {
  %0 = prism.attention %q, %k, %v causal scale = -40.0 : tensor<1x2x?x16xbf16>, tensor<1x1x?x16xbf16>, tensor<1x1x?x16xbf16>
  return %0 : tensor<1x2x?x16xbf16>
}

// More queries than keys and the largest window the verifier allows: the
// window's first key (query position - window + 1) must not wrap around.
func.func @attention_widest_window(%q: tensor<1x1x?x16xf32>, %k: tensor<1x1x5x16xf32>, %v: tensor<1x1x5x16xf32>) -> tensor<1x1x?x16xf32> {
  %0 = prism.attention %q, %k, %v causal window = 9223372036854775807 : tensor<1x1x?x16xf32>, tensor<1x1x5x16xf32>, tensor<1x1x5x16xf32>
  return %0 : tensor<1x1x?x16xf32>
}

func.func @attention_mask_bf16(%q: tensor<1x2x?x16xbf16>, %k: tensor<1x2x?x16xbf16>, %v: tensor<1x2x?x16xbf16>, %m: tensor<?x?xf32>) -> tensor<1x2x?x16xbf16> {
  %0 = prism.attention %q, %k, %v mask(%m : tensor<?x?xf32>) : tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>
  return %0 : tensor<1x2x?x16xbf16>
}

// f16 through rope, attention (GQA, causal, a head dim that is not a power
// of two) and layer_norm.
func.func @f16_ops(%x: tensor<1x?x4x24xf16>, %kv: tensor<1x2x?x24xf16>, %p: tensor<?xi32>, %h: tensor<?x96xf16>) -> (tensor<1x4x?x24xf16>, tensor<?x96xf16>) {
  %r = prism.rope neox bshd %x, %p : tensor<1x?x4x24xf16>, tensor<?xi32>
  %q = prism.transpose %r perm = [0, 2, 1, 3] : tensor<1x?x4x24xf16>
  %a = prism.attention %q, %kv, %kv causal : tensor<1x4x?x24xf16>, tensor<1x2x?x24xf16>, tensor<1x2x?x24xf16>
  %n = prism.layer_norm %h : tensor<?x96xf16>
  return %a, %n : tensor<1x4x?x24xf16>, tensor<?x96xf16>
}
