// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128" -split-input-file | FileCheck %s
// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128 dynamic-shared-memory-limit=100000" -split-input-file | FileCheck %s --check-prefix=DYNAMIC

// Operands that cannot be staged are loaded into registers and published
// at every step, as without a pipeline; a loop with none to stage keeps
// stages = 1.

// The buffer A reads is made in the loop: fills ahead would read a buffer
// that does not exist yet, so A is published (from offset 0) and only B
// is staged (its slots from 4096, above the dot's exchange).
// CHECK: prism.kernel_configs = {sliced = {shared_bytes = 11776 : i64, stages = 3 : i64, threads = 128 : i64}}
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: gpu.barrier
// CHECK: vector.scatter {{.*}} : memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
func.func @sliced(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %k = memref.dim %x, %c1 : memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<32x32xf32>
  %r = scf.for %kk = %c0 to %k step %c32 iter_args(%acc = %init) -> (tensor<32x32xf32>) {
    %xs = memref.subview %x[0, %kk] [32, 32] [1, 1] : memref<?x?xbf16, strided<[?, 1], offset: ?>> to memref<32x32xbf16, strided<[?, 1], offset: ?>>
    %a = tile.load %xs[%c0, %c0] : memref<32x32xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %b = tile.load %w[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %bt = tile.transpose %b perm = [1, 0] : tensor<32x32xbf16> -> tensor<32x32xbf16>
    %d = tile.dot %a, %bt, %acc : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %d : tensor<32x32xf32>
  }
  tile.store %r, %y[%c0, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// The loop writes memory (here the block the next step reads): a fill
// ahead would read it before it is written.
// CHECK: prism.kernel_configs = {writes = {shared_bytes = 4096 : i64, stages = 1 : i64, threads = 128 : i64}}
// CHECK-NOT: device_async_copy
func.func @writes(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %k = memref.dim %x, %c1 : memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : bf16
  %init = tile.splat %z : tensor<32x32xf32>
  %ones = tile.splat %one : tensor<32x32xbf16>
  %r = scf.for %kk = %c0 to %k step %c32 iter_args(%acc = %init) -> (tensor<32x32xf32>) {
    %a = tile.load %x[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %b = tile.load %w[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %bt = tile.transpose %b perm = [1, 0] : tensor<32x32xbf16> -> tensor<32x32xbf16>
    %d = tile.dot %a, %bt, %acc : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    %next = arith.addi %kk, %c32 : index
    tile.store %ones, %x[%c0, %next] : tensor<32x32xbf16>, memref<?x?xbf16, strided<[?, 1], offset: ?>>
    scf.yield %d : tensor<32x32xf32>
  }
  tile.store %r, %y[%c0, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// As many stages as the shared memory holds: a 64x64 A and 64x128 B slot
// (26,624 bytes a stage with padding) gets no pipeline within the 48 KB
// of static shared memory (the operands are then published at each step:
// 8 + 16 KB; the result is stored from the mma registers), and 3 stages
// when 100,000 bytes of dynamic shared memory are allowed.
// CHECK: prism.kernel_configs = {wide = {shared_bytes = 24576 : i64, stages = 1 : i64, threads = 128 : i64}}
// DYNAMIC: prism.kernel_configs = {wide = {dynamic_shared, shared_bytes = 79872 : i64, stages = 3 : i64, threads = 128 : i64}}
// DYNAMIC: gpu.dynamic_shared_memory
// DYNAMIC: nvgpu.device_async_copy
func.func @wide(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %k = memref.dim %x, %c1 : memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<64x128xf32>
  %r = scf.for %kk = %c0 to %k step %c64 iter_args(%acc = %init) -> (tensor<64x128xf32>) {
    %a = tile.load %x[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x64xbf16>
    %b = tile.load %w[%kk, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x128xbf16>
    %d = tile.dot %a, %b, %acc : tensor<64x64xbf16>, tensor<64x128xbf16> -> tensor<64x128xf32>
    scf.yield %d : tensor<64x128xf32>
  }
  tile.store %r, %y[%c0, %c0] : tensor<64x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// An operand loaded before the loop is pinned (staged once) only when
// nothing between its load and the loop writes memory: here the buffer is
// overwritten in between, so A keeps its load before the loop (a gather
// into registers) and is published at every step; B is staged.
// CHECK: prism.kernel_configs = {overwritten = {shared_bytes = 11776 : i64, stages = 3 : i64, threads = 128 : i64}}
// CHECK: vector.gather
// CHECK: vector.scatter
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: vector.scatter {{.*}} : memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.mma.sync
func.func @overwritten(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %z = arith.constant 0.0 : f32
  %zb = arith.constant 0.0 : bf16
  %init = tile.splat %z : tensor<32x32xf32>
  %q = tile.load %x[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
  %zero = tile.splat %zb : tensor<32x32xbf16>
  tile.store %zero, %x[%c0, %c0] : tensor<32x32xbf16>, memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %r = scf.for %k = %c0 to %c128 step %c32 iter_args(%acc = %init) -> (tensor<32x32xf32>) {
    %b = tile.load %w[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %d = tile.dot %q, %b, %acc : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %d : tensor<32x32xf32>
  }
  tile.store %r, %y[%c0, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
