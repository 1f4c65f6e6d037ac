// RUN: prism-opt %s -prism-cpu-lower-tile-to-vector="vector-bits=512 vector-registers=32" -canonicalize -split-input-file | FileCheck %s --check-prefixes=CHECK,AVX512
// RUN: prism-opt %s -prism-cpu-lower-tile-to-vector="vector-bits=256 vector-registers=16" -canonicalize -split-input-file | FileCheck %s --check-prefixes=CHECK,AVX2

// A matmul K loop: each step's A and B blocks are packed from memory into
// f32 stack buffers (a row copy per row, inside; padding and the elements
// inside at the edges), and the product runs as register blocks: column
// blocks of two registers, row blocks of as many rows as the registers
// leave (12 with AVX-512, 6 with AVX2), a K loop of FMAs on the block's
// accumulators (24 and 12 registers). The
// accumulator stays in its buffer across the K loop: the loop carries no
// vector, the buffer is written before it and read after it.
// CHECK-LABEL: func.func @k_loop
// CHECK: vector.transfer_write %{{.+}}, %[[ACC:.+]][%{{.+}}, %{{.+}}] {in_bounds = [true, true]} : vector<48x64xf32>, memref<48x64xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:   scf.if
// CHECK:     scf.for
// CHECK:       vector.load %{{.+}} : memref<1x?x?xf32, strided<[?, ?, 1], offset: ?>>, vector<32xf32>
// CHECK:       vector.store %{{.+}}, %[[A:.+]][%{{.+}}, %{{.+}}] : memref<48x32xf32>, vector<32xf32>
// CHECK:   } else {
// CHECK:     memref.load
// CHECK:     memref.store %{{.+}}, %[[A]]
// CHECK:   scf.if
// CHECK:     vector.store %{{.+}}, %[[B:.+]][%{{.+}}, %{{.+}}] : memref<32x64xf32>, vector<64xf32>
// AVX512: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c32
// AVX2:   scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c16
// AVX512:   scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c12
// AVX2:     scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c6
// AVX512:     %{{.+}} = vector.load %[[ACC]]{{.+}} : memref<48x64xf32>, vector<16xf32>
// AVX2:       %{{.+}} = vector.load %[[ACC]]{{.+}} : memref<48x64xf32>, vector<8xf32>
// CHECK:       scf.for {{.+}} iter_args(
// CHECK:         vector.load %[[B]]
// CHECK:         memref.load %[[A]]
// CHECK:         vector.broadcast
// CHECK:         vector.fma
// AVX512-COUNT-23: vector.fma
// AVX2-COUNT-11:   vector.fma
// CHECK-NOT:     vector.fma
// CHECK:         scf.yield
// CHECK:       vector.store %{{.+}}, %[[ACC]]
// CHECK-NOT: scf.yield %{{.+}} : vector
// CHECK: vector.transfer_read %[[ACC]]
// CHECK-NOT: vector.contract
func.func @k_loop(%a: memref<1x?x?xf32, strided<[?, ?, 1], offset: ?>>,
                  %b: memref<1x?x?xf32, strided<[?, ?, 1], offset: ?>>,
                  %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %k: index, %m0: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %init = tile.splat %zero : tensor<48x64xf32>
  %acc = scf.for %k0 = %c0 to %k step %c32 iter_args(%c = %init) -> (tensor<48x64xf32>) {
    %ab = tile.load %a[%c0, %m0, %k0] : memref<1x?x?xf32, strided<[?, ?, 1], offset: ?>> -> tensor<1x48x32xf32>
    %a2 = tile.reshape %ab : tensor<1x48x32xf32> -> tensor<48x32xf32>
    %bb = tile.load %b[%c0, %k0, %m0] : memref<1x?x?xf32, strided<[?, ?, 1], offset: ?>> -> tensor<1x32x64xf32>
    %b2 = tile.reshape %bb : tensor<1x32x64xf32> -> tensor<32x64xf32>
    %r = tile.dot %a2, %b2, %c : tensor<48x32xf32>, tensor<32x64xf32> -> tensor<48x64xf32>
    scf.yield %r : tensor<48x64xf32>
  }
  tile.store %acc, %out[%m0, %c0] : tensor<48x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// [N, K] bf16 weights read transposed (x @ w^T): the B block is packed
// transposed, in squares of lanes x lanes widened to f32 and transposed by
// shuffles of whole registers (no element-by-element transpose).
// CHECK-LABEL: func.func @transposed_weights
// AVX512: vector.transfer_read %{{.+}} {in_bounds = [true, true]} : memref<?x?xi16, strided<[?, 1], offset: ?>>, vector<16x16xi16>
// AVX2:   vector.transfer_read %{{.+}} {in_bounds = [true, true]} : memref<?x?xi16, strided<[?, 1], offset: ?>>, vector<8x8xi16>
// CHECK: arith.extf
// CHECK: vector.shuffle
// CHECK-NOT: vector.transpose
// CHECK: vector.fma
func.func @transposed_weights(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>,
                              %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>,
                              %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %zero = arith.constant 0.0 : f32
  %init = tile.splat %zero : tensor<32x64xf32>
  %xb = tile.load %x[%i, %i] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
  %wb = tile.load %w[%i, %i] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
  %wt = tile.transpose %wb perm = [1, 0] : tensor<64x32xbf16> -> tensor<32x64xbf16>
  %r = tile.dot %xb, %wt, %init : tensor<32x32xbf16>, tensor<32x64xbf16> -> tensor<32x64xf32>
  tile.store %r, %out[%i, %i] : tensor<32x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A block loaded outside a loop of products (attention's queries, read by
// every KV step) is packed once, where it is loaded: the pack's row copies
// come before the loop (and the accumulator's buffer write), and the loop
// packs only the block it loads.
// CHECK-LABEL: func.func @loop_invariant_operand
// CHECK: scf.if
// CHECK:   scf.for
// CHECK:     vector.load %{{.+}} : memref<?x?xf32, strided<[?, 1], offset: ?>>, vector<64xf32>
// CHECK:     vector.store %{{.+}}, %[[Q:.+]][%{{.+}}, %{{.+}}] : memref<32x64xf32>, vector<64xf32>
// CHECK: vector.transfer_write %{{.+}} : vector<32x32xf32>, memref<32x32xf32>
// CHECK-NEXT: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK-NOT: store %{{[^ ]+}}, %[[Q]][
// CHECK:   vector.load %{{.+}} : memref<?x?xf32, strided<[?, 1], offset: ?>>, vector<32xf32>
// CHECK-NOT: store %{{[^ ]+}}, %[[Q]][
// CHECK:   vector.fma
// CHECK-NOT: store %{{[^ ]+}}, %[[Q]][
// CHECK: return
func.func @loop_invariant_operand(%q: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                                  %k: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                                  %out: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                                  %n: index, %i: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %init = tile.splat %zero : tensor<32x32xf32>
  %qb = tile.load %q[%i, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<32x64xf32>
  %acc = scf.for %j = %c0 to %n step %c32 iter_args(%c = %init) -> (tensor<32x32xf32>) {
    %kb = tile.load %k[%c0, %j] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<64x32xf32>
    %r = tile.dot %qb, %kb, %c : tensor<32x64xf32>, tensor<64x32xf32> -> tensor<32x32xf32>
    scf.yield %r : tensor<32x32xf32>
  }
  tile.store %acc, %out[%i, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// An operand that is not a load (attention's probabilities) is written to
// its buffer from registers; an f16 accumulator is rounded to f16 after
// every FMA.
// CHECK-LABEL: func.func @computed_operand_f16_accumulator
// CHECK: vector.transfer_write %{{.+}}, %{{.+}} : vector<16x32xf32>, memref<16x32xf32>
// CHECK: vector.fma
// CHECK-NEXT: arith.truncf %{{.+}} : vector<{{8|16}}xf32> to vector<{{8|16}}xf16>
// CHECK-NEXT: arith.extf
// CHECK: arith.truncf %{{.+}} : vector<16x32xf32> to vector<16x32xf16>
func.func @computed_operand_f16_accumulator(%x: memref<?x?xf16, strided<[?, 1], offset: ?>>,
                                            %out: memref<?x?xf16, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %zero = arith.constant 0.0 : f16
  %init = tile.splat %zero : tensor<16x32xf16>
  %xb = tile.load %x[%i, %i] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<16x32xf16>
  %p = arith.negf %xb : tensor<16x32xf16>
  %v = tile.load %x[%i, %i] : memref<?x?xf16, strided<[?, 1], offset: ?>> -> tensor<32x32xf16>
  %r = tile.dot %p, %v, %init : tensor<16x32xf16>, tensor<32x32xf16> -> tensor<16x32xf16>
  tile.store %r, %out[%i, %i] : tensor<16x32xf16>, memref<?x?xf16, strided<[?, 1], offset: ?>>
  return
}

// -----

// Columns that are not a whole register even at a quarter width (N = 6),
// and products too small
// for the buffers to pay, stay vector.contract.
// CHECK-LABEL: func.func @contract_kept
// CHECK-COUNT-2: vector.contract
// CHECK-NOT: vector.fma
func.func @contract_kept(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                         %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %zero = arith.constant 0.0 : f32
  %a = tile.load %x[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<64x64xf32>
  %b = tile.load %x[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<64x6xf32>
  %c = tile.splat %zero : tensor<64x6xf32>
  %r = tile.dot %a, %b, %c : tensor<64x64xf32>, tensor<64x6xf32> -> tensor<64x6xf32>
  tile.store %r, %out[%i, %i] : tensor<64x6xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  %s = tile.load %x[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x8xf32>
  %t = tile.load %x[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<8x16xf32>
  %d = tile.splat %zero : tensor<4x16xf32>
  %q = tile.dot %s, %t, %d : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
  tile.store %q, %out[%i, %i] : tensor<4x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
