// RUN: prism-opt %s -prism-kernelize="matmul-m=8 matmul-n=64 strided-block=16" -split-input-file | FileCheck %s

// The plan of a small graph: buffers (inputs, temporaries, views), one launch
// per op with its grid as a function of the input sizes, and the outputs.
// Sizes are [constant, divisor, (input, dim)...]: [1, 1, 0, 0] is dim 0 of
// input 0. The transposed output is a view, so a copy makes it contiguous,
// reading the strided view in chunks of `strided-block`.

// CHECK-LABEL: func.func @block(
// CHECK-SAME: prism.plan = {buffers = [
// CHECK-SAME: {dtype = f32, index = 0 : i64, kind = "input", shape = [array<i64: 1, 1, 0, 0>, array<i64: 64, 1>], unit_innermost = true}
// CHECK-SAME: {dtype = f32, kind = "temporary", shape = [array<i64: 1, 1, 0, 0>, array<i64: 64, 1>], unit_innermost = true}
// CHECK-SAME: {dtype = f32, kind = "view", permutation = array<i64: 1, 0>, shape = [array<i64: 32, 1>, array<i64: 1, 1, 0, 0>], source = 4 : i64, unit_innermost = false, view = "transpose"}
// CHECK-SAME: launches = [
// CHECK-SAME: {args = array<i64: 0, 1, 3>, grid = [{product = [array<i64: 1, 1, 0, 0>], tile = 1 : i64}, {product = [], tile = 1 : i64}, {product = [], tile = 1 : i64}], kernel = @block__0_rms_norm}
// CHECK-SAME: {args = array<i64: 3, 2, 4>, grid = [{product = [array<i64: 1, 1, 0, 0>], tile = 8 : i64}, {product = [array<i64: 32, 1>], tile = 64 : i64}, {product = [], tile = 1 : i64}], kernel = @block__1_matmul}
// CHECK-SAME: {args = array<i64: 5, 6>, grid = [{outer = [array<i64: 32, 1>], product = [array<i64: 1, 1, 0, 0>], tile = 16 : i64}, {product = [], tile = 1 : i64}, {product = [], tile = 1 : i64}], kernel = @block__2_copy}
// CHECK-SAME: outputs = array<i64: 6>
// The graph itself is kept: it is what the reference evaluates.
// CHECK: prism.rms_norm
// CHECK: prism.matmul
// CHECK: func.func @block__0_rms_norm(%{{.*}}: memref<?x?xf32, strided<[?, 1], offset: ?>>, %{{.*}}: memref<?xf32, strided<[1], offset: ?>>, %{{.*}}: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel}
// CHECK: tile.reduce sum
// CHECK: func.func @block__1_matmul(
// CHECK: scf.for
// CHECK: tile.dot %{{.*}} : tensor<8x16xf32>, tensor<16x64xf32> -> tensor<8x64xf32>
// CHECK: func.func @block__2_copy(%{{.*}}: memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: tile.load {{.*}} -> tensor<1x16xf32>
func.func @block(%x: tensor<?x64xf32>, %w: tensor<64xf32>, %wt: tensor<32x64xf32>) -> tensor<32x?xf32> {
  %h = prism.rms_norm %x, %w : tensor<?x64xf32>, tensor<64xf32>
  %y = prism.matmul %h, %wt transpose_rhs : tensor<?x64xf32>, tensor<32x64xf32>
  %t = prism.transpose %y perm = [1, 0] : tensor<?x32xf32>
  return %t : tensor<32x?xf32>
}

// -----

// Reshapes of contiguous buffers are views; the dynamic size of the new
// shape is the element count divided by the static sizes ([1, 4, 0, 0]:
// dim 0 of input 0 divided by 4). Broadcast operands are views too.
// CHECK-LABEL: func.func @views(
// CHECK-SAME: {dtype = f32, kind = "view", shape = [array<i64: 1, 4, 0, 0>, array<i64: 4, 1>], source = 0 : i64, unit_innermost = true, view = "reshape"}
// CHECK-SAME: {dtype = f32, kind = "view", shape = [array<i64: 1, 4, 0, 0>, array<i64: 4, 1>], source = 1 : i64, unit_innermost = true, view = "broadcast"}
// CHECK-SAME: kernel = @views__0_add
// CHECK-SAME: outputs = array<i64: 4>
func.func @views(%x: tensor<?xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %r = prism.reshape %x : tensor<?xf32> to tensor<?x4xf32>
  %y = prism.add %r, %b : tensor<?x4xf32>, tensor<4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Attention: one program per block of 16 queries of each (batch, head);
// the tiles are padded to a power of two above the head dim (24 -> 32), the
// key/value head is the query head divided by the group size, and the key
// loop is bounded by the causal diagonal. Causal query blocks run in
// reverse (program x takes block ceil(Sq / 16) - 1 - x: the heaviest
// first). With bf16
// values P is rounded to bf16 for P.V (accumulated in f32).
// CHECK-LABEL: func.func @attention(
// CHECK-SAME: grid = [{product = [array<i64: 1, 1, 0, 2>], tile = 16 : i64}, {product = [array<i64: 1, 1>, array<i64: 8, 1>], tile = 1 : i64}
// CHECK: func.func @attention__0_attention(
// CHECK: arith.divui
// CHECK: %[[SQ:.*]] = memref.dim %arg0, %c2
// CHECK: %[[X:.*]] = tile.program_id x
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[SQ]], %c16
// CHECK: %[[LAST:.*]] = arith.subi %[[BLOCKS]], %{{.*}} : index
// CHECK: %[[BLOCK:.*]] = arith.subi %[[LAST]], %[[X]] : index
// CHECK: arith.muli %[[BLOCK]], %c16
// CHECK: arith.minsi
// CHECK: tile.load {{.*}} -> tensor<1x1x16x32xbf16>
// CHECK: scf.for {{.*}} -> (tensor<16xf32>, tensor<16xf32>, tensor<16x32xf32>)
// CHECK: tile.dot {{.*}} : tensor<16x32xbf16>, tensor<32x32xbf16> -> tensor<16x32xf32>
// CHECK: tile.reduce max {{.*}} axis = 1
// CHECK: math.exp
// CHECK: arith.truncf {{.*}} : tensor<16x32xf32> to tensor<16x32xbf16>
// CHECK: tile.dot {{.*}} : tensor<16x32xbf16>, tensor<32x32xbf16> -> tensor<16x32xf32>
func.func @attention(%q: tensor<1x8x?x24xbf16>, %k: tensor<1x2x?x24xbf16>, %v: tensor<1x2x?x24xbf16>) -> tensor<1x8x?x24xbf16> {
  %o = prism.attention %q, %k, %v causal : tensor<1x8x?x24xbf16>, tensor<1x2x?x24xbf16>, tensor<1x2x?x24xbf16>
  return %o : tensor<1x8x?x24xbf16>
}

// -----

// Interleaved rope reads its pairs through a reshape then a transpose view;
// bhsd positions [S] are broadcast over the batch. A head of 4 pairs is
// too short to stack several vectors in a program (rows under 16 pairs are
// not stacked): one position per program, a chunk of strided-block pairs;
// the positions on the grid's long axis x, batch * heads on y.
// CHECK-LABEL: func.func @rope(
// CHECK-SAME: shape = [array<i64: 2, 1>, array<i64: 3, 1>, array<i64: 1, 1, 0, 2>, array<i64: 4, 1>, array<i64: 2, 1>], source = 0 : i64, unit_innermost = true, view = "reshape"
// CHECK-SAME: permutation = array<i64: 0, 1, 2, 4, 3>, shape = [array<i64: 2, 1>, array<i64: 3, 1>, array<i64: 1, 1, 0, 2>, array<i64: 2, 1>, array<i64: 4, 1>], source = 3 : i64, unit_innermost = false, view = "transpose"
// CHECK-SAME: view = "broadcast"
// CHECK-SAME: grid = [{product = [array<i64: 1, 1, 0, 2>], tile = 1 : i64}, {product = [array<i64: 2, 1>, array<i64: 3, 1>], tile = 1 : i64}, {product = [], tile = 1 : i64}], kernel = @rope__0_rope
// CHECK: func.func @rope__0_rope(
// CHECK: tile.load {{.*}} -> tensor<1x1xi64>
// CHECK: math.cos {{.*}} : tensor<1x16xf32>
// CHECK: math.sin {{.*}} : tensor<1x16xf32>
// CHECK: tile.load {{.*}} -> tensor<1x1x1x1x16xf32>
func.func @rope(%x: tensor<2x3x?x8xf32>, %p: tensor<?xi64>) -> tensor<2x3x?x8xf32> {
  %0 = prism.rope interleaved bhsd %x, %p : tensor<2x3x?x8xf32>, tensor<?xi64>
  return %0 : tensor<2x3x?x8xf32>
}

// -----

// bshd rope with a static head dim and heads: a program rotates 4 heads of
// a token (elementwise-block 256 / 64 pairs), computing the angles of its
// 64 pairs once and broadcasting them over the heads: x = the tokens (the
// grid's long axis), y = ceil(32 / 4) head blocks.
// CHECK-LABEL: func.func @rope_heads(
// CHECK-SAME: grid = [{product = [array<i64: 1, 1>, array<i64: 1, 1, 0, 1>], tile = 1 : i64}, {product = [array<i64: 32, 1>], tile = 4 : i64}, {product = [], tile = 1 : i64}], kernel = @rope_heads__0_rope
// CHECK: func.func @rope_heads__0_rope(
// CHECK: tile.load {{.*}} -> tensor<1x1xi32>
// CHECK: math.cos {{.*}} : tensor<64xf32>
// CHECK: tile.broadcast {{.*}} : tensor<64xf32> -> tensor<4x64xf32>
// CHECK: tile.load {{.*}} -> tensor<1x1x4x1x64xbf16>
func.func @rope_heads(%x: tensor<1x?x32x128xbf16>, %p: tensor<1x?xi32>) -> tensor<1x?x32x128xbf16> {
  %0 = prism.rope neox bshd %x, %p : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  return %0 : tensor<1x?x32x128xbf16>
}

// -----

// Softmax over a middle axis reads and writes transposed views that put the
// axis last. With an f32 output the row kernel makes three passes with one
// exponential per element: the maximum, the stored exponentials and their
// sum, the division.
// CHECK-LABEL: func.func @softmax_axis(
// CHECK-SAME: permutation = array<i64: 0, 2, 1>
// CHECK-SAME: view = "transpose"
// CHECK: func.func @softmax_axis__0_softmax(
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: tile.reduce max
// CHECK: scf.for
// CHECK: math.exp
// CHECK: tile.store
// CHECK: tile.reduce sum
// CHECK: scf.for
// CHECK: arith.divf
// CHECK: tile.store
func.func @softmax_axis(%x: tensor<2x?x8xf32>) -> tensor<2x?x8xf32> {
  %0 = prism.softmax %x axis = 1 : tensor<2x?x8xf32>
  return %0 : tensor<2x?x8xf32>
}

// -----

// layer_norm: three passes over the row (mean, variance with the tail
// masked, normalize) with optional weight and bias arguments.
// CHECK-LABEL: func.func @layer_norm(
// CHECK: func.func @layer_norm__0_layer_norm(%{{.*}}: memref<?x?xf16, {{.*}}>, %{{.*}}: memref<?xf32, {{.*}}>, %{{.*}}: memref<?x?xf16, {{.*}}>)
// CHECK: tile.reduce sum
// CHECK: arith.cmpi ult
// CHECK: arith.select
// CHECK: tile.reduce sum
// CHECK: math.rsqrt
// CHECK: arith.truncf {{.*}} to tensor<256xf16>
func.func @layer_norm(%x: tensor<?x768xf16>, %b: tensor<768xf32>) -> tensor<?x768xf16> {
  %0 = prism.layer_norm %x bias(%b : tensor<768xf32>) : tensor<?x768xf16>
  return %0 : tensor<?x768xf16>
}

// -----

// reduce: kept axes first, reduced axes last (a transpose view), one
// program per output element, keepdims as a reshape view of the result.
// CHECK-LABEL: func.func @reduce(
// CHECK-SAME: permutation = array<i64: 1, 0, 2>
// CHECK-SAME: kind = "temporary", shape = [array<i64: 1, 1, 0, 1>]
// CHECK-SAME: view = "reshape"
// CHECK: func.func @reduce__0_reduce(
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: tile.reduce max
func.func @reduce(%x: tensor<4x?x6xf32>) -> tensor<1x?x1xf32> {
  %0 = prism.reduce max %x axes = [0, 2] keepdims : tensor<4x?x6xf32>
  return %0 : tensor<1x?x1xf32>
}

// -----

// embedding: a gather whose bounds check turns ids outside the table into
// zero rows; elementwise ops and casts share one kernel shape.
// CHECK-LABEL: func.func @embed_then_gelu(
// CHECK: func.func @embed_then_gelu__0_embedding(
// CHECK: arith.index_cast {{.*}} : tensor<i32> to tensor<index>
// CHECK: tile.gather
// CHECK: func.func @embed_then_gelu__1_gelu(
// CHECK: math.erf
// CHECK: func.func @embed_then_gelu__2_cast(
// CHECK: arith.truncf {{.*}} to tensor<256xbf16>
func.func @embed_then_gelu(%t: tensor<100x64xf32>, %ids: tensor<?xi32>) -> tensor<?x64xbf16> {
  %e = prism.embedding %t, %ids : tensor<100x64xf32>, tensor<?xi32>
  %g = prism.gelu %e : tensor<?x64xf32>
  %c = prism.cast %g : tensor<?x64xf32> to tensor<?x64xbf16>
  return %c : tensor<?x64xbf16>
}
