// Round trip of the tile dialect, on kernels written the way the kernel
// library writes them.
// RUN: prism-opt %s | prism-opt | FileCheck %s
// RUN: prism-opt %s --mlir-print-op-generic | prism-opt | FileCheck %s

// Row-wise softmax: one program per block of 4 rows; the row (N <= 128) is
// one tile, its tail masked by the bounds of the memrefs.
// CHECK-LABEL: func.func @softmax_rows
// CHECK-SAME: attributes {tile.kernel}
func.func @softmax_rows(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>,
                        %y: memref<?x?xf32, strided<[?, 1], offset: ?>>)
    attributes {tile.kernel} {
  // CHECK: %[[PID:.+]] = tile.program_id x
  %pid = tile.program_id x
  // CHECK: tile.num_programs y
  %np = tile.num_programs y
  %c4 = arith.constant 4 : index
  %c0 = arith.constant 0 : index
  %row0 = arith.muli %pid, %c4 : index
  %ninf = arith.constant 0xFF800000 : f32
  // CHECK: tile.load %{{.+}}[%{{.+}}, %{{.+}}] padding(%{{.+}} : f32) : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x128xf32>
  %s = tile.load %x[%row0, %c0] padding(%ninf : f32) : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x128xf32>
  // CHECK: tile.reduce max %{{.+}} axis = 1 : tensor<4x128xf32> -> tensor<4xf32>
  %m = tile.reduce max %s axis = 1 : tensor<4x128xf32> -> tensor<4xf32>
  // CHECK: tile.expand_dims %{{.+}} axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  %mc = tile.expand_dims %m axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  // CHECK: tile.broadcast %{{.+}} : tensor<4x1xf32> -> tensor<4x128xf32>
  %mb = tile.broadcast %mc : tensor<4x1xf32> -> tensor<4x128xf32>
  %d = arith.subf %s, %mb : tensor<4x128xf32>
  %e = math.exp %d : tensor<4x128xf32>
  // CHECK: tile.reduce sum
  %sum = tile.reduce sum %e axis = 1 : tensor<4x128xf32> -> tensor<4xf32>
  %sc = tile.expand_dims %sum axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  %sb = tile.broadcast %sc : tensor<4x1xf32> -> tensor<4x128xf32>
  %p = arith.divf %e, %sb : tensor<4x128xf32>
  // CHECK: tile.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : tensor<4x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  tile.store %p, %y[%row0, %c0] : tensor<4x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// Blocked matmul: one program per 32x32 block of C, a loop over K.
// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: memref<?x?xbf16, strided<[?, ?], offset: ?>>,
                  %b: memref<?x?xbf16, strided<[?, ?], offset: ?>>,
                  %c: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %k: index)
    attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %pm = tile.program_id x
  %pn = tile.program_id y
  %m0 = arith.muli %pm, %c32 : index
  %n0 = arith.muli %pn, %c32 : index
  %zero = arith.constant 0.0 : f32
  // CHECK: tile.splat %{{.+}} : tensor<32x32xf32>
  %init = tile.splat %zero : tensor<32x32xf32>
  // CHECK: scf.for
  %acc = scf.for %k0 = %c0 to %k step %c16 iter_args(%acc0 = %init) -> tensor<32x32xf32> {
    %ta = tile.load %a[%m0, %k0] : memref<?x?xbf16, strided<[?, ?], offset: ?>> -> tensor<32x16xbf16>
    %tb = tile.load %b[%k0, %n0] : memref<?x?xbf16, strided<[?, ?], offset: ?>> -> tensor<16x32xbf16>
    // CHECK: tile.dot %{{.+}}, %{{.+}}, %{{.+}} : tensor<32x16xbf16>, tensor<16x32xbf16> -> tensor<32x32xf32>
    %next = tile.dot %ta, %tb, %acc0 : tensor<32x16xbf16>, tensor<16x32xbf16> -> tensor<32x32xf32>
    scf.yield %next : tensor<32x32xf32>
  }
  %out = arith.truncf %acc : tensor<32x32xf32> to tensor<32x32xbf16>
  tile.store %out, %c[%m0, %n0] : tensor<32x32xbf16>, memref<?x?xbf16, strided<[?, 1], offset: ?>>
  return
}

// Embedding rows through a gather; iota builds the column offsets; the store
// is masked.
// CHECK-LABEL: func.func @gather_rows
func.func @gather_rows(%table: memref<?x?xf16, strided<[?, 1], offset: ?>>,
                       %ids: memref<?xindex, strided<[1], offset: ?>>,
                       %out: memref<?x?xf16, strided<[?, 1], offset: ?>>)
    attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %pid = tile.program_id x
  %rows = tile.load %ids[%pid] : memref<?xindex, strided<[1], offset: ?>> -> tensor<8xindex>
  %rc = tile.expand_dims %rows axis = 1 : tensor<8xindex> -> tensor<8x1xindex>
  %r = tile.broadcast %rc : tensor<8x1xindex> -> tensor<8x64xindex>
  // CHECK: tile.iota : tensor<64xindex>
  %cols = tile.iota : tensor<64xindex>
  %c = tile.broadcast %cols : tensor<64xindex> -> tensor<8x64xindex>
  // CHECK: tile.gather %{{.+}}[%{{.+}}, %{{.+}}] : memref<?x?xf16, strided<[?, 1], offset: ?>>, tensor<8x64xindex>, tensor<8x64xindex> -> tensor<8x64xf16>
  %v = tile.gather %table[%r, %c] : memref<?x?xf16, strided<[?, 1], offset: ?>>, tensor<8x64xindex>, tensor<8x64xindex> -> tensor<8x64xf16>
  %true = arith.constant true
  %mask = tile.splat %true : tensor<8x64xi1>
  // CHECK: tile.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] mask(%{{.+}} : tensor<8x64xi1>)
  tile.store %v, %out[%pid, %c0] mask(%mask : tensor<8x64xi1>) : tensor<8x64xf16>, memref<?x?xf16, strided<[?, 1], offset: ?>>
  return
}
