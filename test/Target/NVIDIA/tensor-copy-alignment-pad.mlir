// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128 warpgroup-mma=true tensor-memory-access=true dynamic-shared-memory-limit=132096" -split-input-file -verify-diagnostics
// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128 warpgroup-mma=true tensor-memory-access=true dynamic-shared-memory-limit=133120" -split-input-file | FileCheck %s

// A kernel whose dot operands are copied by TMA into swizzled slots asks
// for 1 KB more than its workspace, to align the slots at run time
// (dynamic shared memory is only 16-byte aligned). The stages are sized
// for that; an exchange larger than they are (here a 128 x 256 f32
// reduction, 131584 bytes) must leave room for it too: with 132096 bytes
// to a block the kernel is refused (the pad would take the block past
// what the driver allows), with 133120 it fits and asks for 132608.
// CHECK: shared_bytes = 132608
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global
// expected-error @below {{kernel 'padded' needs 132608 bytes of shared memory for its tile exchanges (with the 1 KB that aligns its tensor-copy slots), more than the 132096 available to a block; choose smaller tile sizes}}
func.func @padded(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>,
                  %y: memref<?x?xf32, strided<[?, 1], offset: ?>>, %r: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %k = memref.dim %x, %c1 : memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<64x64xf32>
  %p = scf.for %kk = %c0 to %k step %c32 iter_args(%acc = %init) -> (tensor<64x64xf32>) {
    %a = tile.load %x[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
    %b = tile.load %w[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
    %bt = tile.transpose %b perm = [1, 0] : tensor<64x32xbf16> -> tensor<32x64xbf16>
    %d = tile.dot %a, %bt, %acc : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  tile.store %p, %y[%c0, %c0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  %t = tile.load %r[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<128x256xf32>
  %s = tile.reduce sum %t axis = 0 : tensor<128x256xf32> -> tensor<256xf32>
  %e = tile.expand_dims %s axis = 0 : tensor<256xf32> -> tensor<1x256xf32>
  tile.store %e, %r[%c0, %c0] : tensor<1x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
