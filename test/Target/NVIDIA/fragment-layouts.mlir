// RUN: prism-opt %s -split-input-file --prism-nvidia-lower-tile-to-gpu="warpgroup-mma=true" | FileCheck %s

// Fragment layouts (targets/gpu/FragmentLayouts.cpp) on 64-row tiles of
// sm_90a: the corner cases a review found, each of which failed to lower
// or, for the rank-1 broadcast, computed wrong results.

// An inner loop's accumulator stays in fragments (16 per thread for
// 64x32) while the outer loop carries its row maximum in rows (2 per
// thread); the outer placement leaves the inner loop's layouts alone.
// CHECK-LABEL: gpu.func @nested
// CHECK: scf.for {{.*}} -> (vector<2xf32>, vector<16xf32>)
// CHECK: gpu.shuffle xor
// CHECK: scf.for {{.*}} -> (vector<16xf32>)
func.func @nested(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %z = tile.splat %zero : tensor<64x32xf32>
  %m0 = tile.splat %ninf : tensor<64xf32>
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %o = %z) -> (tensor<64xf32>, tensor<64x32xf32>) {
    %y = tile.load %a[%i, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x32xbf16>
    %s = tile.dot %x, %y, %z : tensor<64x16xbf16>, tensor<16x32xbf16> -> tensor<64x32xf32>
    %rm = tile.reduce max %s axis = 1 : tensor<64x32xf32> -> tensor<64xf32>
    %m2 = arith.maximumf %m, %rm : tensor<64xf32>
    %in = scf.for %k = %c0 to %n step %c1 iter_args(%acc = %o) -> (tensor<64x32xf32>) {
      %d = tile.dot %x, %y, %acc : tensor<64x16xbf16>, tensor<16x32xbf16> -> tensor<64x32xf32>
      scf.yield %d : tensor<64x32xf32>
    }
    scf.yield %m2, %in : tensor<64xf32>, tensor<64x32xf32>
  }
  %e = tile.expand_dims %r#0 axis = 1 : tensor<64xf32> -> tensor<64x1xf32>
  %b = tile.broadcast %e : tensor<64x1xf32> -> tensor<64x32xf32>
  %sum = arith.addf %b, %r#1 : tensor<64x32xf32>
  tile.store %sum, %c[%c0, %c0] : tensor<64x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A rank-1 [64] broadcast to [64, 64] repeats it along the rows (numpy
// alignment: element (i, j) is its element j), so the accumulator's scale
// reads the row maxima published, not the thread's own rows.
// CHECK-LABEL: gpu.func @columns_scale
// CHECK: scf.for {{.*}} -> (vector<2xf32>, vector<32xf32>)
// CHECK: gpu.shuffle xor
// CHECK-NOT: vector.shuffle {{.*}} : vector<2xf32>, vector<2xf32>
// CHECK: gpu.return
func.func @columns_scale(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %z = tile.splat %zero : tensor<64x64xf32>
  %m0 = tile.splat %ninf : tensor<64xf32>
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %o = %z) -> (tensor<64xf32>, tensor<64x64xf32>) {
    %y = tile.load %a[%i, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x64xbf16>
    %s = tile.dot %x, %y, %z : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
    %rm = tile.reduce max %s axis = 1 : tensor<64x64xf32> -> tensor<64xf32>
    %m2 = arith.maximumf %m, %rm : tensor<64xf32>
    %b = tile.broadcast %m2 : tensor<64xf32> -> tensor<64x64xf32>
    %sc = arith.mulf %o, %b : tensor<64x64xf32>
    %d = tile.dot %x, %y, %sc : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
    scf.yield %m2, %d : tensor<64xf32>, tensor<64x64xf32>
  }
  tile.store %r#1, %c[%c0, %c0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A bf16 row sum of fragments is not shuffled (shuffles take 32-bit
// values): the tile goes back to the element-wise layout for it.
// CHECK-LABEL: gpu.func @bf16_sum
// CHECK-NOT: gpu.shuffle {{.*}} : bf16
// CHECK: gpu.return
func.func @bf16_sum(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?xbf16, strided<[1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %zb = arith.constant 0.0 : bf16
  %z = tile.splat %zero : tensor<64x32xf32>
  %s0 = tile.splat %zb : tensor<64xbf16>
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%t = %s0) -> (tensor<64xbf16>) {
    %y = tile.load %a[%i, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x32xbf16>
    %s = tile.dot %x, %y, %z : tensor<64x16xbf16>, tensor<16x32xbf16> -> tensor<64x32xf32>
    %h = arith.truncf %s : tensor<64x32xf32> to tensor<64x32xbf16>
    %rs = tile.reduce sum %h axis = 1 : tensor<64x32xbf16> -> tensor<64xbf16>
    %t2 = arith.addf %t, %rs : tensor<64xbf16>
    scf.yield %t2 : tensor<64xbf16>
  }
  tile.store %r, %c[%c0] : tensor<64xbf16>, memref<?xbf16, strided<[1], offset: ?>>
  return
}

// -----

// A flat [2048] bias reshaped to the scores [64, 32] is not loaded at the
// fragment positions of a [1, 2048] tile: it is loaded element-wise and
// relaid.
// CHECK-LABEL: gpu.func @loadflat
// CHECK: vector.gather {{.*}} vector<16xf32>
// CHECK: vector.scatter {{.*}} : memref<2048xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.return
func.func @loadflat(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %bias: memref<?xf32, strided<[1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %z = tile.splat %zero : tensor<64x32xf32>
  %m0 = tile.splat %ninf : tensor<64xf32>
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0) -> (tensor<64xf32>) {
    %y = tile.load %a[%i, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x32xbf16>
    %s = tile.dot %x, %y, %z : tensor<64x16xbf16>, tensor<16x32xbf16> -> tensor<64x32xf32>
    %bf = tile.load %bias[%i] : memref<?xf32, strided<[1], offset: ?>> -> tensor<2048xf32>
    %b = tile.reshape %bf : tensor<2048xf32> -> tensor<64x32xf32>
    %sb = arith.addf %s, %b : tensor<64x32xf32>
    %rm = tile.reduce max %sb axis = 1 : tensor<64x32xf32> -> tensor<64xf32>
    %m2 = arith.maximumf %m, %rm : tensor<64xf32>
    scf.yield %m2 : tensor<64xf32>
  }
  %e = tile.expand_dims %r axis = 1 : tensor<64xf32> -> tensor<64x1xf32>
  %bb = tile.broadcast %e : tensor<64x1xf32> -> tensor<64x32xf32>
  tile.store %bb, %c[%c0, %c0] : tensor<64x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A product in fragments used as both operands of the next dot: A is
// taken from the registers (no ldmatrix for it), B, not staged, is
// published from its fragment positions (32 per thread) between two
// barriers, in rows, so the product runs as mma.sync.
// CHECK-LABEL: gpu.func @both_operands
// CHECK: scf.for
// CHECK: nvvm.wgmma.mma_async
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: vector.scatter {{.*}} : memref<4096xbf16, #gpu.address_space<workgroup>>, vector<32xindex>, vector<32xi1>, vector<32xbf16>
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: numTiles = 4
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 2 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
func.func @both_operands(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %z = tile.splat %zero : tensor<64x64xf32>
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%o = %z) -> (tensor<64x64xf32>) {
    %y = tile.load %a[%i, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x64xbf16>
    %s = tile.dot %x, %y, %z : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
    %p = arith.truncf %s : tensor<64x64xf32> to tensor<64x64xbf16>
    %d = tile.dot %p, %p, %o : tensor<64x64xbf16>, tensor<64x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  tile.store %r, %c[%c0, %c0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// After a K loop, what is computed from its accumulator stays in the
// fragments: an angle built from broadcasts of a per-row and a per-column
// vector (each published once: 64 values) and its cosine are built in
// fragments, so the product times the cosine is stored from the
// registers; the column sums need the element-wise layout, so the
// accumulator alone is relaid once for them (right after the loop), and
// the reduction publishes it as it does any element-wise tile.
// CHECK-LABEL: gpu.func @after_loop
// CHECK: scf.yield {{.*}} : vector<32xf32>
// CHECK: vector.scatter {{.*}} : memref<4096xf32, #gpu.address_space<workgroup>>, vector<32xindex>, vector<32xi1>, vector<32xf32>
// CHECK: vector.gather {{.*}} : memref<4096xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: memref<4096xf32, #gpu.address_space<workgroup>>
// CHECK: vector.scatter {{.*}} : memref<64xf32, #gpu.address_space<workgroup>>, vector<1xindex>, vector<1xi1>, vector<1xf32>
// CHECK-NOT: memref<4096xf32, #gpu.address_space<workgroup>>
// CHECK: vector.scatter {{.*}} : memref<64xf32, #gpu.address_space<workgroup>>, vector<1xindex>, vector<1xi1>, vector<1xf32>
// CHECK-NOT: memref<4096xf32, #gpu.address_space<workgroup>>
// CHECK: math.cos {{.*}} : vector<32xf32>
// CHECK-NOT: math.cos
// CHECK: vector.scatter {{.*}} : memref<2147483647xf32, strided<[1]>>, vector<32xindex>, vector<32xi1>, vector<32xf32>
// CHECK: vector.scatter {{.*}} : memref<4096xf32, #gpu.address_space<workgroup>>, vector<32xindex>, vector<32xi1>, vector<32xf32>
// CHECK-NOT: vector.scatter {{.*}} : memref<4096xf32
// CHECK: gpu.return
func.func @after_loop(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %rows: memref<?xf32, strided<[1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %sums: memref<?xf32, strided<[1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %z = tile.splat %zero : tensor<64x64xf32>
  %r = scf.for %k = %c0 to %n step %c16 iter_args(%o = %z) -> (tensor<64x64xf32>) {
    %x = tile.load %a[%c0, %k] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
    %y = tile.load %a[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x64xbf16>
    %d = tile.dot %x, %y, %o : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  %p = tile.load %rows[%c0] : memref<?xf32, strided<[1], offset: ?>> -> tensor<64xf32>
  %pr = tile.reshape %p : tensor<64xf32> -> tensor<64x1xf32>
  %pb = tile.broadcast %pr : tensor<64x1xf32> -> tensor<64x64xf32>
  %f = tile.load %rows[%c16] : memref<?xf32, strided<[1], offset: ?>> -> tensor<64xf32>
  %fr = tile.reshape %f : tensor<64xf32> -> tensor<1x64xf32>
  %fb = tile.broadcast %fr : tensor<1x64xf32> -> tensor<64x64xf32>
  %angle = arith.mulf %pb, %fb : tensor<64x64xf32>
  %cos = math.cos %angle : tensor<64x64xf32>
  %rotated = arith.mulf %r, %cos : tensor<64x64xf32>
  tile.store %rotated, %c[%c0, %c0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  %s = tile.reduce sum %r axis = 0 : tensor<64x64xf32> -> tensor<64xf32>
  tile.store %s, %sums[%c0] : tensor<64xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}

// -----

// Regressions found by review. A row vector carried from a loaded start
// value: its conversion to rows is made before the loop (it is an operand
// of the loop itself).
// CHECK-LABEL: gpu.func @rows_loaded_init
// CHECK: scf.for {{.*}} -> (vector<2xf32>)
func.func @rows_loaded_init(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %mi: memref<?xf32, strided<[1], offset: ?>>, %c: memref<?xf32, strided<[1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %z = tile.splat %zero : tensor<64x32xf32>
  %m0 = tile.load %mi[%c0] : memref<?xf32, strided<[1], offset: ?>> -> tensor<64xf32>
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0) -> (tensor<64xf32>) {
    %y = tile.load %a[%i, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x32xbf16>
    %s = tile.dot %x, %y, %z : tensor<64x16xbf16>, tensor<16x32xbf16> -> tensor<64x32xf32>
    %rm = tile.reduce max %s axis = 1 : tensor<64x32xf32> -> tensor<64xf32>
    %m2 = arith.maximumf %m, %rm : tensor<64xf32>
    scf.yield %m2 : tensor<64xf32>
  }
  tile.store %r, %c[%c0] : tensor<64xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}

// -----

// A loop result reshaped to rank 3 plus a rank-3 broadcast: the broadcast
// is relaid to fragments (broadcasts are rebuilt in fragments for [m, n]
// tiles only), the sum stored from the registers.
// CHECK-LABEL: gpu.func @c1
// CHECK: scf.for {{.*}} -> (vector<32xf32>)
// CHECK: vector.scatter {{.*}} : memref<2147483647xf32, strided<[1]>>, vector<32xindex>, vector<32xi1>, vector<32xf32>
func.func @c1(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %bias: memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>, %c: memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>, %n: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %z = tile.splat %zero : tensor<64x64xf32>
  %r = scf.for %k = %c0 to %n step %c16 iter_args(%o = %z) -> (tensor<64x64xf32>) {
    %x = tile.load %a[%c0, %k] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
    %y = tile.load %a[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x64xbf16>
    %d = tile.dot %x, %y, %o : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  %r3 = tile.reshape %r : tensor<64x64xf32> -> tensor<1x64x64xf32>
  %b = tile.load %bias[%c0, %c0, %c0] : memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>> -> tensor<1x1x64xf32>
  %bb = tile.broadcast %b : tensor<1x1x64xf32> -> tensor<1x64x64xf32>
  %s = arith.addf %r3, %bb : tensor<1x64x64xf32>
  tile.store %s, %c[%c0, %c0, %c0] : tensor<1x64x64xf32>, memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>
  return
}

// -----

// A dead scf.if holding a second K loop: dead ops with regions are kept
// while their loops are still to be placed (it crashed).
// CHECK-LABEL: gpu.func @f1
// CHECK: scf.if
// CHECK: scf.for {{.*}} -> (vector<32xf32>)
func.func @f1(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>, %n: index, %flag: i1) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %z = tile.splat %zero : tensor<64x64xf32>
  %r = scf.for %k = %c0 to %n step %c16 iter_args(%o = %z) -> (tensor<64x64xf32>) {
    %x = tile.load %a[%c0, %k] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
    %y = tile.load %a[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x64xbf16>
    %d = tile.dot %x, %y, %o : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  tile.store %r, %c[%c0, %c0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  scf.if %flag {
    %r2 = scf.for %k = %c0 to %n step %c16 iter_args(%o = %z) -> (tensor<64x64xf32>) {
      %x = tile.load %a[%c0, %k] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x16xbf16>
      %y = tile.load %a[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x64xbf16>
      %d = tile.dot %x, %y, %o : tensor<64x16xbf16>, tensor<16x64xbf16> -> tensor<64x64xf32>
      scf.yield %d : tensor<64x64xf32>
    }
    %two = arith.constant 2.0 : f32
    %t = tile.splat %two : tensor<64x64xf32>
    %u = arith.mulf %r2, %t : tensor<64x64xf32>
  }
  return
}
