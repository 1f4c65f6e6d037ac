// RUN: prism-opt %s -prism-cpu-lower-tile-to-vector="vector-bits=512 vector-registers=32" -canonicalize -split-input-file | FileCheck %s

// The epilogue of a large tile (a silu after the K loop) runs on chunks of
// rows (256 elements: 2 rows of 128), each chunk read back from the
// product's accumulator buffer; nothing is computed on the whole tile.
// CHECK-LABEL: func.func @silu_epilogue
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step %c2 {
// CHECK:   vector.transfer_read %{{.+}}[%{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true, true]} : memref<64x128xf32>, vector<2x128xf32>
// CHECK:   arith.negf %{{.+}} : vector<2x128xf32>
// CHECK:   arith.divf %{{.+}} : vector<2x128xf32>
// CHECK:   arith.mulf %{{.+}} : vector<2x128xf32>
// CHECK-NOT: vector<64x128xf32>
// CHECK: return
func.func @silu_epilogue(%a: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                         %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %k: index, %m0: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %init = tile.splat %zero : tensor<64x128xf32>
  %acc = scf.for %k0 = %c0 to %k step %c32 iter_args(%c = %init) -> (tensor<64x128xf32>) {
    %ab = tile.load %a[%m0, %k0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<64x32xf32>
    %bb = tile.load %a[%k0, %m0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<32x128xf32>
    %r = tile.dot %ab, %bb, %c : tensor<64x32xf32>, tensor<32x128xf32> -> tensor<64x128xf32>
    scf.yield %r : tensor<64x128xf32>
  }
  %n = arith.negf %acc : tensor<64x128xf32>
  %e = math.exp %n : tensor<64x128xf32>
  %ones = tile.splat %one : tensor<64x128xf32>
  %d = arith.addf %ones, %e : tensor<64x128xf32>
  %s = arith.divf %ones, %d : tensor<64x128xf32>
  %y = arith.mulf %acc, %s : tensor<64x128xf32>
  tile.store %y, %out[%m0, %c0] : tensor<64x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// Two stores sharing their epilogue (a rope's two halves use the same
// cosines) run in one loop of chunks; a column broadcast over the rows
// (the positions) is computed whole and read back by chunks.
// CHECK-LABEL: func.func @shared_epilogue
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c8 {
// CHECK:   math.cos %{{.+}} : vector<8x32xf32>
// CHECK:   vector.transfer_write %{{.+}} : vector<8x32xf32>
// CHECK:   vector.transfer_write %{{.+}} : vector<8x32xf32>
// CHECK: }
// CHECK-NOT: math.cos
func.func @shared_epilogue(%a: memref<?x?xf32, strided<[?, 1], offset: ?>>, %p: memref<?xf32, strided<[1], offset: ?>>,
                           %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %k: index, %m0: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %init = tile.splat %zero : tensor<64x32xf32>
  %acc:2 = scf.for %k0 = %c0 to %k step %c32 iter_args(%c = %init, %d = %init) -> (tensor<64x32xf32>, tensor<64x32xf32>) {
    %ab = tile.load %a[%m0, %k0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<64x32xf32>
    %bb = tile.load %a[%k0, %m0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<32x32xf32>
    %r = tile.dot %ab, %bb, %c : tensor<64x32xf32>, tensor<32x32xf32> -> tensor<64x32xf32>
    %q = tile.dot %ab, %bb, %d : tensor<64x32xf32>, tensor<32x32xf32> -> tensor<64x32xf32>
    scf.yield %r, %q : tensor<64x32xf32>, tensor<64x32xf32>
  }
  %pos = tile.load %p[%m0] : memref<?xf32, strided<[1], offset: ?>> -> tensor<64xf32>
  %col = tile.reshape %pos : tensor<64xf32> -> tensor<64x1xf32>
  %angle = tile.broadcast %col : tensor<64x1xf32> -> tensor<64x32xf32>
  %cos = math.cos %angle : tensor<64x32xf32>
  %x = arith.mulf %acc#0, %cos : tensor<64x32xf32>
  %y = arith.mulf %acc#1, %cos : tensor<64x32xf32>
  tile.store %x, %out[%m0, %c0] : tensor<64x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  tile.store %y, %out[%m0, %c32] : tensor<64x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
