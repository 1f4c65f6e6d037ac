// RUN: prism-opt %s --prism-fuse-rope-projections -split-input-file | FileCheck %s

// A q projection, split into heads and rotated: one matmul_rope fusion.
// CHECK-LABEL: func.func @q_projection
// CHECK-NEXT: %[[F:.+]] = prism.fusion matmul_rope -> (tensor<1x?x32x128xbf16>) {
// CHECK-NEXT:   %[[M:.+]] = prism.matmul %arg0, %arg1 transpose_rhs
// CHECK-NEXT:   %[[R:.+]] = prism.reshape %[[M]] : tensor<1x?x4096xbf16> to tensor<1x?x32x128xbf16>
// CHECK-NEXT:   %[[O:.+]] = prism.rope neox bshd %[[R]], %arg2 theta = 5.000000e+05
// CHECK-NEXT:   prism.yield %[[O]]
// CHECK-NEXT: }
// CHECK-NEXT: prism.transpose %[[F]]
func.func @q_projection(%h: tensor<1x?x4096xbf16>, %wq: tensor<4096x4096xbf16>, %pos: tensor<1x?xi32>) -> tensor<1x32x?x128xbf16> {
  %q = prism.matmul %h, %wq transpose_rhs : tensor<1x?x4096xbf16>, tensor<4096x4096xbf16>
  %r = prism.reshape %q : tensor<1x?x4096xbf16> to tensor<1x?x32x128xbf16>
  %o = prism.rope neox bshd %r, %pos theta = 5.0e5 : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  %t = prism.transpose %o perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
  return %t : tensor<1x32x?x128xbf16>
}

// -----

// Where the layout does not allow it, nothing is fused: interleaved pairs,
// the bhsd layout (the product is not split into heads by a reshape alone),
// cos/sin tables, a product with another use.
// CHECK-LABEL: func.func @interleaved
// CHECK-NOT: prism.fusion
// CHECK-LABEL: func.func @tables
// CHECK-NOT: prism.fusion
// CHECK-LABEL: func.func @product_used_twice
// CHECK-NOT: prism.fusion
// CHECK-LABEL: func.func @bhsd
// CHECK-NOT: prism.fusion
func.func @interleaved(%h: tensor<1x?x64xf32>, %w: tensor<64x64xf32>, %pos: tensor<1x?xi32>) -> tensor<1x?x4x16xf32> {
  %q = prism.matmul %h, %w transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %r = prism.reshape %q : tensor<1x?x64xf32> to tensor<1x?x4x16xf32>
  %o = prism.rope interleaved bshd %r, %pos : tensor<1x?x4x16xf32>, tensor<1x?xi32>
  return %o : tensor<1x?x4x16xf32>
}
func.func @tables(%h: tensor<1x?x64xf32>, %w: tensor<64x64xf32>, %pos: tensor<1x?xi32>, %cos: tensor<128x8xf32>, %sin: tensor<128x8xf32>) -> tensor<1x?x4x16xf32> {
  %q = prism.matmul %h, %w transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %r = prism.reshape %q : tensor<1x?x64xf32> to tensor<1x?x4x16xf32>
  %o = prism.rope neox bshd %r, %pos tables(%cos, %sin : tensor<128x8xf32>, tensor<128x8xf32>) : tensor<1x?x4x16xf32>, tensor<1x?xi32>
  return %o : tensor<1x?x4x16xf32>
}
func.func @product_used_twice(%h: tensor<1x?x64xf32>, %w: tensor<64x64xf32>, %pos: tensor<1x?xi32>) -> (tensor<1x?x4x16xf32>, tensor<1x?x64xf32>) {
  %q = prism.matmul %h, %w transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %r = prism.reshape %q : tensor<1x?x64xf32> to tensor<1x?x4x16xf32>
  %o = prism.rope neox bshd %r, %pos : tensor<1x?x4x16xf32>, tensor<1x?xi32>
  return %o, %q : tensor<1x?x4x16xf32>, tensor<1x?x64xf32>
}
func.func @bhsd(%h: tensor<1x?x64xf32>, %w: tensor<64x64xf32>, %pos: tensor<1x?xi32>) -> tensor<1x4x?x16xf32> {
  %q = prism.matmul %h, %w transpose_rhs : tensor<1x?x64xf32>, tensor<64x64xf32>
  %r = prism.reshape %q : tensor<1x?x64xf32> to tensor<1x?x4x16xf32>
  %t = prism.transpose %r perm = [0, 2, 1, 3] : tensor<1x?x4x16xf32>
  %o = prism.rope neox bhsd %t, %pos : tensor<1x4x?x16xf32>, tensor<1x?xi32>
  return %o : tensor<1x4x?x16xf32>
}
