// RUN: prism-opt %s --prism-kernelize="unfused-attention=1 separate-matmul-epilogue=1" | FileCheck %s

// With unfused-attention (Ascend: the cube unit cannot interleave with the
// vector unit) attention is S = Q K^T in f32, a masked softmax into the
// value dtype, and P V: grouped-query heads become batch dims, Q as
// [B, Hkv, G, S, D] against K and V viewed [B, Hkv, 1 -> G, S, D].
// CHECK-LABEL: func.func @gqa
// CHECK-SAME: kernel = @gqa__0_matmul}
// CHECK-SAME: kernel = @gqa__1_attention_softmax}
// CHECK-SAME: kernel = @gqa__2_matmul}
// CHECK-SAME: kernel = @gqa__3_matmul_epilogue}
// CHECK: func.func @gqa__0_matmul(%{{.*}}: memref<?x?x?x?x?xbf16, {{.*}}>, %{{.*}}: memref<?x?x?x?x?xbf16, {{.*}}>, %{{.*}}: memref<?x?x?x?x?xf32, {{.*}}>)
// CHECK: tile.transpose
// CHECK: tile.dot
// CHECK: func.func @gqa__1_attention_softmax(%{{.*}}: memref<?x?x?x?x?xf32, {{.*}}>, %{{.*}}: memref<?x?x?x?x?xbf16, {{.*}}>)
// CHECK: arith.cmpi sle
// CHECK: math.exp
// CHECK: func.func @gqa__2_matmul(%{{.*}}: memref<?x?x?x?x?xbf16, {{.*}}>, %{{.*}}: memref<?x?x?x?x?xbf16, {{.*}}>, %{{.*}}: memref<?x?x?x?x?xf32, {{.*}}>)
// CHECK-NOT: tile.transpose
// CHECK: tile.dot
func.func @gqa(%q: tensor<1x8x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>) -> tensor<1x8x?x64xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x8x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>
  return %0 : tensor<1x8x?x64xbf16>
}
