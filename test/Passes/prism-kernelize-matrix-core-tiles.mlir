// RUN: prism-opt %s -prism-optimize -prism-kernelize="matmul-m=32 matmul-n=32 matmul-k=32 attention-m=16 attention-n=16 matrix-core-matmul-m=128 matrix-core-matmul-n=128 matrix-core-matmul-k=64 matrix-core-attention-m=128 matrix-core-attention-n=64 matrix-core-min-m=64" -split-input-file | FileCheck %s
// RUN: prism-opt %s -prism-kernelize="matmul-m=32 matmul-n=32 matmul-k=32 attention-m=16 attention-n=16" -split-input-file | FileCheck %s --check-prefix=PLAIN
// RUN: not prism-opt %s -prism-kernelize="matrix-core-matmul-k=-1" -split-input-file 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: prism-opt %s -prism-kernelize="matrix-core-attention-m=64 matrix-core-attention-n=48" -split-input-file | FileCheck %s --check-prefix=ALIGN

// A target sizes the tiles of products on its matrix cores (bf16 and f16
// operands) apart from those of f32 products: a bf16 matmul takes the
// matrix-core tiles (grid and dot), an f32 one the plain tiles. Without
// the matrix-core options every product takes the plain tiles.
// The bf16 matmul's M is dynamic, and the target tiles few rows more
// narrowly (matrix-core-min-m): it is built twice, the 64-row kernel
// launched for at most 64 rows, the 128-row one for more; both launches
// count as one in the kernels' numbering (the f32 matmul is __1).

// CHECK-LABEL: func.func @mixed(
// CHECK-SAME: grid = [{product = [array<i64: 1, 1, 0, 0>], tile = 64 : i64}, {product = [array<i64: 256, 1>], tile = 128 : i64}, {product = [], tile = 1 : i64}], kernel = @mixed__0_matmul_m64, when = {group = 0 : i64, max = 64 : i64, min = 0 : i64, size = array<i64: 1, 1, 0, 0>}}
// CHECK-SAME: grid = [{product = [array<i64: 1, 1, 0, 0>], tile = 128 : i64}, {product = [array<i64: 256, 1>], tile = 128 : i64}, {product = [], tile = 1 : i64}], kernel = @mixed__0_matmul, when = {group = 0 : i64, min = 65 : i64, size = array<i64: 1, 1, 0, 0>}}
// CHECK-SAME: grid = [{product = [array<i64: 1, 1, 2, 0>], tile = 32 : i64}, {product = [array<i64: 256, 1>], tile = 32 : i64}, {product = [], tile = 1 : i64}], kernel = @mixed__1_matmul}
// CHECK: func.func @mixed__0_matmul_m64(
// CHECK: tile.dot %{{.*}} : tensor<64x64xbf16>, tensor<64x128xbf16> -> tensor<64x128xf32>
// CHECK: func.func @mixed__0_matmul(
// CHECK: tile.dot %{{.*}} : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
// CHECK: func.func @mixed__1_matmul(
// CHECK: tile.dot %{{.*}} : tensor<32x32xf32>, tensor<32x32xf32> -> tensor<32x32xf32>
// PLAIN-LABEL: func.func @mixed(
// PLAIN-SAME: tile = 32 : i64}, {product = [array<i64: 256, 1>], tile = 32 : i64}, {product = [], tile = 1 : i64}], kernel = @mixed__0_matmul}
// PLAIN: tile.dot %{{.*}} : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
// NEGATIVE: prism-kernelize: matrix-core-matmul-k must be 0 (the plain size) or at least 1, not -1
func.func @mixed(%x: tensor<?x512xbf16>, %w: tensor<256x512xbf16>,
                 %y: tensor<?x512xf32>, %v: tensor<256x512xf32>)
    -> (tensor<?x256xbf16>, tensor<?x256xf32>) {
  %a = prism.matmul %x, %w transpose_rhs : tensor<?x512xbf16>, tensor<256x512xbf16>
  %b = prism.matmul %y, %v transpose_rhs : tensor<?x512xf32>, tensor<256x512xf32>
  return %a, %b : tensor<?x256xbf16>, tensor<?x256xf32>
}

// -----

// Attention: f16 queries and keys take the matrix-core tiles (128 queries
// per program, 64 keys per step), f32 ones the plain 16 x 16.

// CHECK-LABEL: func.func @attentions(
// CHECK-SAME: {product = [array<i64: 1, 1, 0, 2>], tile = 128 : i64}{{.*}}kernel = @attentions__0_attention}
// CHECK-SAME: {product = [array<i64: 1, 1, 3, 2>], tile = 16 : i64}{{.*}}kernel = @attentions__1_attention}
// CHECK: func.func @attentions__0_attention(
// CHECK: tile.dot %{{.*}} : tensor<128x64xf16>, tensor<64x64xf16> -> tensor<128x64xf32>
// CHECK: func.func @attentions__1_attention(
// CHECK: tile.dot %{{.*}} : tensor<16x64xf32>, tensor<64x16xf32> -> tensor<16x16xf32>
func.func @attentions(%q: tensor<1x4x?x64xf16>, %k: tensor<1x4x?x64xf16>, %v: tensor<1x4x?x64xf16>,
                      %qf: tensor<1x4x?x64xf32>, %kf: tensor<1x4x?x64xf32>, %vf: tensor<1x4x?x64xf32>)
    -> (tensor<1x4x?x64xf16>, tensor<1x4x?x64xf32>) {
  %a = prism.attention %q, %k, %v causal : tensor<1x4x?x64xf16>, tensor<1x4x?x64xf16>, tensor<1x4x?x64xf16>
  %b = prism.attention %qf, %kf, %vf causal : tensor<1x4x?x64xf32>, tensor<1x4x?x64xf32>, tensor<1x4x?x64xf32>
  return %a, %b : tensor<1x4x?x64xf16>, tensor<1x4x?x64xf32>
}

// -----

// Matrix cores accumulate in f32: an f16 accumulator is an FMA loop, with
// the plain tiles.

// CHECK-LABEL: func.func @f16_accumulator(
// CHECK-SAME: tile = 32 : i64}, {product = [array<i64: 200, 1>], tile = 32 : i64}
// CHECK: tile.dot %{{.*}} : tensor<32x32xf16>, tensor<32x32xf16> -> tensor<32x32xf16>
func.func @f16_accumulator(%x: tensor<?x136xf16>, %w: tensor<200x136xf16>) -> tensor<?x200xf16> {
  %m = prism.matmul %x, %w transpose_rhs acc(f16) : tensor<?x136xf16>, tensor<200x136xf16>
  return %m : tensor<?x200xf16>
}

// -----

// A head dim above 128 (padded to a power of two: 160 -> 256) takes
// proportionally fewer keys per step: 64 * 128 / 256 = 32 (and above 256
// fewer queries too).

// Keys stay whole k16 steps: 48 * 128 / 256 = 24 is rounded down to 16.

// CHECK-LABEL: func.func @wide_heads(
// CHECK: func.func @wide_heads__0_attention(
// CHECK: tile.dot %{{.*}} : tensor<128x256xbf16>, tensor<256x32xbf16> -> tensor<128x32xf32>
// ALIGN: func.func @wide_heads__0_attention(
// ALIGN: tile.dot %{{.*}} : tensor<64x256xbf16>, tensor<256x16xbf16> -> tensor<64x16xf32>
func.func @wide_heads(%q: tensor<1x4x?x160xbf16>, %k: tensor<1x2x?x160xbf16>, %v: tensor<1x2x?x160xbf16>) -> tensor<1x4x?x160xbf16> {
  %o = prism.attention %q, %k, %v causal : tensor<1x4x?x160xbf16>, tensor<1x2x?x160xbf16>, tensor<1x2x?x160xbf16>
  return %o : tensor<1x4x?x160xbf16>
}

// -----

// A fused rope matmul computes both halves of its pairs, so it takes half
// the N tile (128 -> 64 pairs), and half again with a bias (32); a head
// whose half is not a multiple of 8 (D = 72: 36) cannot run on matrix
// cores and takes the plain tiles.

// CHECK-LABEL: func.func @rope_tiles(
// CHECK-SAME: {product = [array<i64: 1, 1, 0, 1>], tile = 128 : i64}, {product = [array<i64: 128, 1>], tile = 64 : i64}{{.*}}kernel = @rope_tiles__0_matmul_rope, when = {group = 0 : i64, min = 65 : i64
// CHECK-SAME: {product = [array<i64: 1, 1, 0, 1>], tile = 128 : i64}, {product = [array<i64: 128, 1>], tile = 32 : i64}{{.*}}kernel = @rope_tiles__1_matmul_rope, when = {group = 2 : i64, min = 65 : i64
// CHECK-SAME: {product = [array<i64: 1, 1, 0, 1>], tile = 32 : i64}, {product = [array<i64: 72, 1>], tile = 4 : i64}{{.*}}kernel = @rope_tiles__2_matmul_rope}
func.func @rope_tiles(%x: tensor<1x?x136xbf16>, %w: tensor<256x136xbf16>, %b: tensor<256xbf16>,
                      %pos: tensor<1x?xi32>, %w72: tensor<144x136xbf16>)
    -> (tensor<1x?x2x128xbf16>, tensor<1x?x2x128xbf16>, tensor<1x?x2x72xbf16>) {
  %k = prism.matmul %x, %w transpose_rhs : tensor<1x?x136xbf16>, tensor<256x136xbf16>
  %h = prism.reshape %k : tensor<1x?x256xbf16> to tensor<1x?x2x128xbf16>
  %r = prism.rope neox bshd %h, %pos theta = 1.0e4 : tensor<1x?x2x128xbf16>, tensor<1x?xi32>
  %kb = prism.matmul %x, %w bias(%b : tensor<256xbf16>) transpose_rhs : tensor<1x?x136xbf16>, tensor<256x136xbf16>
  %hb = prism.reshape %kb : tensor<1x?x256xbf16> to tensor<1x?x2x128xbf16>
  %rb = prism.rope neox bshd %hb, %pos theta = 1.0e4 : tensor<1x?x2x128xbf16>, tensor<1x?xi32>
  %k72 = prism.matmul %x, %w72 transpose_rhs : tensor<1x?x136xbf16>, tensor<144x136xbf16>
  %h72 = prism.reshape %k72 : tensor<1x?x144xbf16> to tensor<1x?x2x72xbf16>
  %r72 = prism.rope neox bshd %h72, %pos theta = 1.0e4 : tensor<1x?x2x72xbf16>, tensor<1x?xi32>
  return %r, %rb, %r72 : tensor<1x?x2x128xbf16>, tensor<1x?x2x128xbf16>, tensor<1x?x2x72xbf16>
}

// -----

// Above 256 the query tile shrinks too: 128 * 256 / 512 = 64 queries,
// 64 * 128 / 512 = 16 keys.

// CHECK-LABEL: func.func @huge_heads__0_attention(
// CHECK: tile.dot %{{.*}} : tensor<64x512xbf16>, tensor<512x16xbf16> -> tensor<64x16xf32>
func.func @huge_heads(%q: tensor<1x4x?x512xbf16>, %k: tensor<1x2x?x512xbf16>, %v: tensor<1x2x?x512xbf16>) -> tensor<1x4x?x512xbf16> {
  %o = prism.attention %q, %k, %v causal : tensor<1x4x?x512xbf16>, tensor<1x2x?x512xbf16>, tensor<1x2x?x512xbf16>
  return %o : tensor<1x4x?x512xbf16>
}

// -----

// A static M shrinks the matrix-core M tile to the power of two that holds
// it, not below matrix-core-min-m: 8 rows take 64, 100 rows keep 128.

// CHECK-LABEL: func.func @static_rows(
// CHECK-SAME: grid = [{product = [array<i64: 8, 1>], tile = 64 : i64}, {product = [array<i64: 1024, 1>], tile = 128 : i64}
// CHECK-SAME: grid = [{product = [array<i64: 100, 1>], tile = 128 : i64}, {product = [array<i64: 1024, 1>], tile = 128 : i64}
func.func @static_rows(%x: tensor<8x512xbf16>, %w: tensor<1024x512xbf16>, %x100: tensor<100x512xbf16>)
    -> (tensor<8x1024xbf16>, tensor<100x1024xbf16>) {
  %y = prism.matmul %x, %w transpose_rhs : tensor<8x512xbf16>, tensor<1024x512xbf16>
  %z = prism.matmul %x100, %w transpose_rhs : tensor<100x512xbf16>, tensor<1024x512xbf16>
  return %y, %z : tensor<8x1024xbf16>, tensor<100x1024xbf16>
}

// -----

// Fused products with a dynamic M get a kernel per row range too, each
// with the fusion's own N tile: 64 for the gated pair (two accumulators)
// and for the rope projection (two column blocks of 64 pairs' halves).

// CHECK-LABEL: func.func @fused_rows(
// CHECK-SAME: kernel = @fused_rows__0_matmul_matmul_swiglu_m64, when = {group = 0 : i64, max = 64 : i64, min = 0 : i64
// CHECK-SAME: kernel = @fused_rows__0_matmul_matmul_swiglu, when = {group = 0 : i64, min = 65 : i64
// CHECK-SAME: kernel = @fused_rows__1_matmul_rope_m64, when = {group = 2 : i64, max = 64 : i64, min = 0 : i64
// CHECK-SAME: kernel = @fused_rows__1_matmul_rope, when = {group = 2 : i64, min = 65 : i64
// CHECK: func.func @fused_rows__0_matmul_matmul_swiglu_m64(
// CHECK: tile.dot %{{.*}} : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
// CHECK: func.func @fused_rows__0_matmul_matmul_swiglu(
// CHECK: tile.dot %{{.*}} : tensor<128x64xbf16>, tensor<64x64xbf16> -> tensor<128x64xf32>
// CHECK: func.func @fused_rows__1_matmul_rope_m64(
// CHECK: tile.dot %{{.*}} : tensor<64x64xbf16>
// CHECK: func.func @fused_rows__1_matmul_rope(
// CHECK: tile.dot %{{.*}} : tensor<128x64xbf16>
func.func @fused_rows(%x: tensor<?x512xbf16>, %wg: tensor<1024x512xbf16>, %wu: tensor<1024x512xbf16>,
                      %wq: tensor<512x512xbf16>, %pos: tensor<1x?xi32>)
    -> (tensor<?x1024xbf16>, tensor<1x?x4x128xbf16>) {
  %g = prism.matmul %x, %wg transpose_rhs : tensor<?x512xbf16>, tensor<1024x512xbf16>
  %u = prism.matmul %x, %wu transpose_rhs : tensor<?x512xbf16>, tensor<1024x512xbf16>
  %a = prism.swiglu %g, %u : tensor<?x1024xbf16>
  %x3 = prism.reshape %x : tensor<?x512xbf16> to tensor<1x?x512xbf16>
  %q = prism.matmul %x3, %wq transpose_rhs : tensor<1x?x512xbf16>, tensor<512x512xbf16>
  %h = prism.reshape %q : tensor<1x?x512xbf16> to tensor<1x?x4x128xbf16>
  %r = prism.rope neox bshd %h, %pos theta = 1.0e4 : tensor<1x?x4x128xbf16>, tensor<1x?xi32>
  return %a, %r : tensor<?x1024xbf16>, tensor<1x?x4x128xbf16>
}
