// RUN: prism-opt %s -prism-amd-lower-tile-to-gpu="threads=256 matrix-cores=mfma" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=MFMA
// RUN: prism-opt %s -prism-amd-lower-tile-to-gpu="threads=256 matrix-cores=wmma" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=WMMA
// RUN: prism-opt %s -prism-amd-lower-tile-to-gpu="threads=256 matrix-cores=none" -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=NONE
// RUN: not prism-opt %s -prism-amd-lower-tile-to-gpu="matrix-cores=xdl" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// A bf16 dot into f32 on the matrix cores. A [32, 32] and B [32, 32] are
// published, the 2x2 C tiles of 16x16 go to the waves round-robin (4 waves
// of 64 with mfma: one tile each; 8 waves of 32 with wmma: waves 4..7 idle),
// each accumulates over K in steps of 16 and writes its tile to shared
// memory (f32, after the operands), from where every thread reads its own
// elements of C.
//
// With mfma, lane l = 16 g + r reads A row r at K 4g .. 4g + 3 (one vector load
// of a row-major A) and B column r at the same K (B is [K, N] here: one
// load per element); its 4 results are C rows 4g .. 4g + 3 at column r.
// MFMA-LABEL: gpu.func @dot_bf16
// MFMA-SAME: workgroup(%{{.*}} : memref<8192xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// MFMA: memref.view {{.*}} to memref<1024xbf16, #gpu.address_space<workgroup>>
// MFMA: memref.view {{.*}} to memref<1024xbf16, #gpu.address_space<workgroup>>
// MFMA: memref.view {{.*}} to memref<1024xf32, #gpu.address_space<workgroup>>
// MFMA: %[[TID:.*]] = gpu.thread_id x
// MFMA: %[[WAVE:.*]] = arith.divui %[[TID]], %c64
// MFMA: %[[LANE:.*]] = arith.remui %[[TID]], %c64
// MFMA: %[[R:.*]] = arith.remui %[[LANE]], %c16
// MFMA: %[[G:.*]] = arith.divui %[[LANE]], %c16
// MFMA: scf.if
// MFMA: %[[G4:.*]] = arith.muli %[[G]], %c4
// MFMA: vector.load {{.*}} : memref<1024xbf16, #gpu.address_space<workgroup>>, vector<4xbf16>
// MFMA-COUNT-4: memref.load {{.*}} : memref<1024xbf16, #gpu.address_space<workgroup>>
// MFMA: amdgpu.mfma 16x16x16 {{.*}} : vector<4xbf16>, vector<4xbf16>, vector<4xf32>
// MFMA: amdgpu.mfma 16x16x16 {{.*}} : vector<4xbf16>, vector<4xbf16>, vector<4xf32>
// MFMA-NOT: amdgpu.mfma
// MFMA-COUNT-4: memref.store {{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>
// MFMA: gpu.barrier
// MFMA: arith.addf {{.*}} : vector<4xf32>
//
// With wmma, lane l reads A row l % 16 and B column l % 16, 16 elements of K
// each (lanes 16..31 repeat lanes 0..15); its 8 results are C rows
// 2e + l / 16 at column l % 16.
// WMMA-LABEL: gpu.func @dot_bf16
// WMMA: arith.divui %{{.*}}, %c32 : index
// WMMA: scf.if
// WMMA: vector.load {{.*}} : memref<1024xbf16, #gpu.address_space<workgroup>>, vector<16xbf16>
// WMMA-COUNT-16: memref.load {{.*}} : memref<1024xbf16, #gpu.address_space<workgroup>>
// WMMA: amdgpu.wmma 16x16x16 {{.*}} : vector<16xbf16>, vector<16xbf16>, vector<8xf32>
// WMMA: amdgpu.wmma 16x16x16 {{.*}} : vector<16xbf16>, vector<16xbf16>, vector<8xf32>
// WMMA-NOT: amdgpu.wmma
// WMMA-COUNT-8: memref.store {{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>
// WMMA: gpu.barrier
//
// NONE-LABEL: gpu.func @dot_bf16
// NONE-NOT: amdgpu.
// NONE: gpu.return
func.func @dot_bf16(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
  %y = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<32x32xf32>
  %r = tile.dot %x, %y, %acc : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
  tile.store %r, %c[%c0, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A transposed B (Q K^T in attention) is read in place: B^T's rows are the
// runs along K, so both operands are single vector loads.
// MFMA-LABEL: gpu.func @dot_nt_f16
// MFMA: vector.load {{.*}} vector<4xf16>
// MFMA: vector.load {{.*}} vector<4xf16>
// MFMA-NEXT: amdgpu.mfma 16x16x16 {{.*}} : vector<4xf16>, vector<4xf16>, vector<4xf32>
// WMMA-LABEL: gpu.func @dot_nt_f16
// WMMA: vector.load {{.*}} vector<16xf16>
// WMMA: vector.load {{.*}} vector<16xf16>
// WMMA-NEXT: amdgpu.wmma 16x16x16 {{.*}} : vector<16xf16>, vector<16xf16>, vector<8xf32>
func.func @dot_nt_f16(%a: memref<?x?xf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<16x16xf16>
  %y = tile.load %a[%c0, %c0] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<16x16xf16>
  %t = tile.transpose %y perm = [1, 0] : tensor<16x16xf16> -> tensor<16x16xf16>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<16x16xf32>
  %r = tile.dot %x, %t, %acc : tensor<16x16xf16>, tensor<16x16xf16> -> tensor<16x16xf32>
  tile.store %r, %c[%c0, %c0] : tensor<16x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// Dots that do not fill 16x16x16 tiles, or are not bf16/f16 into f32, are
// FMA loops over K on every chip.
// MFMA-LABEL: gpu.func @dot_f32
// MFMA-NOT: amdgpu.mfma
// MFMA: gpu.return
// WMMA-LABEL: gpu.func @dot_f32
// WMMA-NOT: amdgpu.wmma
// WMMA: gpu.return
func.func @dot_f32(%a: memref<?x?xf32, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<16x16xf32>
  %y = tile.load %a[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<16x16xf32>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<16x16xf32>
  %r = tile.dot %x, %y, %acc : tensor<16x16xf32>, tensor<16x16xf32> -> tensor<16x16xf32>
  tile.store %r, %c[%c0, %c0] : tensor<16x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// BAD: unknown matrix-cores 'xdl' (expected mfma, wmma or none)

// -----

// Math that ROCDL would turn into ROCm device-library calls (__ocml_*)
// becomes polynomials and intrinsics; exp, log and sqrt stay (ROCDL maps
// them to LLVM intrinsics).
// NONE-LABEL: gpu.func @math
// NONE-NOT: math.tanh
// NONE-NOT: math.erf
// NONE-NOT: math.sin
// NONE-NOT: math.cos
// NONE-NOT: math.floor
// NONE-NOT: math.rsqrt
// NONE: math.exp
// NONE: gpu.return
func.func @math(%a: memref<?xf32, strided<[1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0] : memref<?xf32, strided<[1], offset: ?>> -> tensor<256xf32>
  %t = math.tanh %x : tensor<256xf32>
  %e = math.erf %t : tensor<256xf32>
  %s = math.sin %e : tensor<256xf32>
  %c = math.cos %s : tensor<256xf32>
  %f = math.floor %c : tensor<256xf32>
  %r = math.rsqrt %f : tensor<256xf32>
  %x2 = math.exp %r : tensor<256xf32>
  tile.store %x2, %a[%c0] : tensor<256xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}
