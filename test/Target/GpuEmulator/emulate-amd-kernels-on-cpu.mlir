// REQUIRES: prism-target-amd
// RUN: prism-opt %s -prism-amd-lower-tile-to-gpu="threads=256 matrix-cores=mfma" -prism-emulate-gpu-kernels-on-cpu | FileCheck %s --check-prefix=MFMA
// RUN: prism-opt %s -prism-amd-lower-tile-to-gpu="threads=256 matrix-cores=wmma" -prism-emulate-gpu-kernels-on-cpu | FileCheck %s --check-prefix=WMMA

// AMD's matrix instructions go through the thread context too: MFMA (wave
// of 64) stores A and B as 2 words each and C as 4, calls instruction 2
// (bf16) and reads 4 words of D; WMMA (wave of 32) stores 8 + 8 + 8 words,
// calls instruction 4 and reads 8.
// MFMA-LABEL: func.func @dot_bf16(
// MFMA-SAME: attributes {prism.cpu_kernel}
// MFMA: vector.bitcast {{.*}} : vector<4xbf16> to vector<2xi32>
// MFMA: llvm.mlir.constant(2 : i64) : i64
// MFMA: llvm.call
// MFMA: vector.from_elements {{.*}} : vector<4xf32>
// MFMA-NOT: amdgpu.
// WMMA-LABEL: func.func @dot_bf16(
// WMMA: vector.bitcast {{.*}} : vector<16xbf16> to vector<8xi32>
// WMMA: llvm.mlir.constant(4 : i64) : i64
// WMMA: llvm.call
// WMMA: vector.from_elements {{.*}} : vector<8xf32>
// WMMA-NOT: amdgpu.
func.func @dot_bf16(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x32xbf16>
  %y = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x16xbf16>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<16x16xf32>
  %r = tile.dot %x, %y, %acc : tensor<16x32xbf16>, tensor<32x16xbf16> -> tensor<16x16xf32>
  tile.store %r, %c[%c0, %c0] : tensor<16x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
