// The graphs benchmarked on NVIDIA GPUs by run_gpu_bench.py. Dynamic leading
// dims: one compiled bundle serves every size the script chooses.

func.func @matmul_bf16(%x: tensor<?x4096xbf16>, %w: tensor<4096x4096xbf16>) -> tensor<?x4096xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<?x4096xbf16>, tensor<4096x4096xbf16>
  return %0 : tensor<?x4096xbf16>
}

// A decode step compiled for its batch of 8 rows: static sizes, so the
// target may split K (sm_90a: 32 output tiles of 64 x 128 for 132 SMs,
// 4 parts of 16 K steps).
func.func @decode_bf16(%x: tensor<8x4096xbf16>, %w: tensor<4096x4096xbf16>) -> tensor<8x4096xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<8x4096xbf16>, tensor<4096x4096xbf16>
  return %0 : tensor<8x4096xbf16>
}

func.func @matmul_bf16_8192(%x: tensor<?x8192xbf16>, %w: tensor<8192x8192xbf16>) -> tensor<?x8192xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<?x8192xbf16>, tensor<8192x8192xbf16>
  return %0 : tensor<?x8192xbf16>
}

func.func @rms_norm_bf16(%x: tensor<?x4096xbf16>, %w: tensor<4096xbf16>) -> tensor<?x4096xbf16> {
  %0 = prism.rms_norm %x, %w eps = 1.0e-5 : tensor<?x4096xbf16>, tensor<4096xbf16>
  return %0 : tensor<?x4096xbf16>
}

func.func @softmax_bf16(%x: tensor<?x4096xbf16>) -> tensor<?x4096xbf16> {
  %0 = prism.softmax %x : tensor<?x4096xbf16>
  return %0 : tensor<?x4096xbf16>
}

func.func @rope_bf16(%x: tensor<1x?x32x128xbf16>, %p: tensor<?xi32>) -> tensor<1x?x32x128xbf16> {
  %0 = prism.rope neox bshd %x, %p theta = 5.0e5 : tensor<1x?x32x128xbf16>, tensor<?xi32>
  return %0 : tensor<1x?x32x128xbf16>
}

func.func @attention_bf16(%q: tensor<1x32x?x128xbf16>, %k: tensor<1x8x?x128xbf16>, %v: tensor<1x8x?x128xbf16>) -> tensor<1x32x?x128xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  return %0 : tensor<1x32x?x128xbf16>
}

// A decode step against a KV cache: one query row for each of 32 heads
// (8 KV heads), a dynamic key count. The 4 query heads of a KV head are
// the rows of one program (8 programs); above 511 keys sm_90a splits the
// keys in 16 parts (flash-decoding). Not
// causal: with one query row, bottom-right causal sees every key, and
// SDPA's is_causal aligns top-left.
func.func @attention_decode_bf16(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x?x128xbf16>, %v: tensor<1x8x?x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %0 = prism.attention %q, %k, %v : tensor<1x32x1x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  return %0 : tensor<1x32x1x128xbf16>
}

func.func @attention_bf16_full(%q: tensor<1x32x?x128xbf16>, %k: tensor<1x8x?x128xbf16>, %v: tensor<1x8x?x128xbf16>) -> tensor<1x32x?x128xbf16> {
  %0 = prism.attention %q, %k, %v : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  return %0 : tensor<1x32x?x128xbf16>
}
