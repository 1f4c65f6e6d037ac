// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128 dynamic-shared-memory-limit=232448" -split-input-file -verify-diagnostics | FileCheck %s

// A workspace above the 48 KB of static shared memory becomes a view of
// the dynamic shared memory (sized at launch from the manifest), when the
// chip allows that much (227 KB on sm_90a); no workgroup buffer is left.
// CHECK: prism.kernel_configs = {wide = {dynamic_shared, shared_bytes = 131584 : i64, stages = 1 : i64, threads = 128 : i64}}
// CHECK-LABEL: gpu.func @wide(
// CHECK-NOT: workgroup(
// CHECK-SAME: kernel
// CHECK-NEXT: %[[RAW:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: memref.view %[[RAW]][%{{.*}}][] {prism.workspace} : memref<?xi8, #gpu.address_space<workgroup>> to memref<131584xi8, #gpu.address_space<workgroup>>
func.func @wide(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %t = tile.load %x[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<128x256xf32>
  %r = tile.reduce sum %t axis = 0 : tensor<128x256xf32> -> tensor<256xf32>
  %e = tile.expand_dims %r axis = 0 : tensor<256xf32> -> tensor<1x256xf32>
  tile.store %e, %x[%c0, %c0] : tensor<1x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// Small workspaces stay static.
// CHECK: prism.kernel_configs = {narrow = {shared_bytes = 8704 : i64, stages = 1 : i64, threads = 128 : i64}}
// CHECK: gpu.func @narrow({{.*}}) workgroup(%{{.*}} : memref<8704xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
func.func @narrow(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %t = tile.load %x[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<8x256xf32>
  %r = tile.reduce sum %t axis = 0 : tensor<8x256xf32> -> tensor<256xf32>
  %e = tile.expand_dims %r axis = 0 : tensor<256xf32> -> tensor<1x256xf32>
  tile.store %e, %x[%c0, %c0] : tensor<1x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// Above what the chip allows even dynamically: rejected, with the limit.
// expected-error @below {{kernel 'huge' needs 262656 bytes of shared memory for its tile exchanges, more than the 232448 available to a block; choose smaller tile sizes}}
func.func @huge(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %t = tile.load %x[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<256x256xf32>
  %r = tile.reduce sum %t axis = 0 : tensor<256x256xf32> -> tensor<256xf32>
  %e = tile.expand_dims %r axis = 0 : tensor<256xf32> -> tensor<1x256xf32>
  tile.store %e, %x[%c0, %c0] : tensor<1x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A tile far beyond the registers (1024 elements per thread of 128) is
// rejected before the assembler tries it.
func.func @beyond_registers(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  // expected-error @below {{kernel 'beyond_registers': a 'tensor<512x256xf32>' tile puts 1024 elements in each of the 128 threads, more than the 512 the registers can hold even with spills; choose smaller tile sizes}}
  %t = tile.load %x[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<512x256xf32>
  tile.store %t, %x[%c0, %c0] : tensor<512x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
