// RUN: prism-opt %s --prism-kernelize="separate-matmul-epilogue=1 matmul-m=64 matmul-n=64 matmul-k=64" -split-input-file | FileCheck %s

// With separate-matmul-epilogue (Ascend: the cube unit cannot run vector
// code) a matmul with a bias or a non-f32 result is two kernels: the f32
// product into a temporary, then bias + conversion elementwise.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: launches = [{args = array<i64: 0, 1, [[P:[0-9]+]]>, {{.*}}kernel = @linear__0_matmul}, {args = array<i64: [[P]], [[B:[0-9]+]], [[O:[0-9]+]]>, {{.*}}kernel = @linear__1_matmul_epilogue}]
// CHECK: func.func @linear__0_matmul(%{{.*}}: memref<?x?xbf16, {{.*}}>, %{{.*}}: memref<?x?xbf16, {{.*}}>, %{{.*}}: memref<?x?xf32, {{.*}}>)
// CHECK: tile.dot
// CHECK-NOT: arith.truncf
// CHECK: tile.store {{.*}} : tensor<64x64xf32>
// CHECK: func.func @linear__1_matmul_epilogue(%{{.*}}: memref<?x?xf32, {{.*}}>, %{{.*}}: memref<?x?xf32, {{.*}}>, %{{.*}}: memref<?x?xbf16, {{.*}}>)
// CHECK: arith.addf
// CHECK: arith.truncf
func.func @linear(%x: tensor<?x128xbf16>, %w: tensor<96x128xbf16>, %b: tensor<96xf32>) -> tensor<?x96xbf16> {
  %0 = prism.matmul %x, %w bias(%b : tensor<96xf32>) transpose_rhs : tensor<?x128xbf16>, tensor<96x128xbf16>
  return %0 : tensor<?x96xbf16>
}

// -----

// An f32 matmul without a bias keeps its one kernel.
// CHECK-LABEL: func.func @plain
// CHECK-NOT: matmul_epilogue
// CHECK: func.func @plain__0_matmul
func.func @plain(%a: tensor<?x32xf32>, %b: tensor<32x16xf32>) -> tensor<?x16xf32> {
  %0 = prism.matmul %a, %b : tensor<?x32xf32>, tensor<32x16xf32>
  return %0 : tensor<?x16xf32>
}
