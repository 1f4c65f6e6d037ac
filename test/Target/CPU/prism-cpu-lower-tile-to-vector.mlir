// RUN: prism-opt %s -prism-cpu-lower-tile-to-vector -split-input-file | FileCheck %s

// The grid becomes six trailing index arguments.
// CHECK-LABEL: func.func @grid
// CHECK-SAME: (%[[OUT:.+]]: memref<?xindex, strided<[1], offset: ?>>, %[[PX:.+]]: index, %[[PY:.+]]: index, %[[PZ:.+]]: index, %[[NX:.+]]: index, %[[NY:.+]]: index, %[[NZ:.+]]: index)
// CHECK-SAME: attributes {prism.cpu_kernel}
// CHECK-NOT: tile.
// CHECK: %[[V:.+]] = vector.broadcast %[[NZ]] : index to vector<1xindex>
// CHECK: vector.transfer_write %[[V]], %[[OUT]][%[[PY]]] {in_bounds = [true]}
func.func @grid(%out: memref<?xindex, strided<[1], offset: ?>>) attributes {tile.kernel} {
  %y = tile.program_id y
  %nz = tile.num_programs z
  %t = tile.splat %nz : tensor<1xindex>
  tile.store %t, %out[%y] : tensor<1xindex>, memref<?xindex, strided<[1], offset: ?>>
  return
}

// -----

// Unit-stride blocks inside the memref are plain transfers; blocks at its
// edges are staged through a stack buffer (padding, then a loop copying the
// elements inside), never masked vector memory operations.
// CHECK-LABEL: func.func @unit_stride
// CHECK-DAG: %[[PAD:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[STAGE_STORE:.+]] = memref.alloca() : memref<4x128xf32>
// CHECK-DAG: %[[STAGE_LOAD:.+]] = memref.alloca() : memref<4x128xf32>
// CHECK: %[[T:.+]] = scf.if %{{.+}} -> (vector<4x128xf32>) {
// CHECK:   %[[R:.+]] = vector.transfer_read %{{.+}}[%{{.+}}, %{{.+}}], %[[PAD]] {in_bounds = [true, true]} : memref<?x?xf32, strided<[?, 1], offset: ?>>, vector<4x128xf32>
// CHECK:   scf.yield %[[R]]
// CHECK: } else {
// CHECK:   vector.transfer_write %{{.+}}, %[[STAGE_LOAD]]
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       memref.load %{{.+}} : memref<?x?xf32, strided<[?, 1], offset: ?>>
// CHECK:       memref.store %{{.+}}, %[[STAGE_LOAD]]
// CHECK:   vector.transfer_read %[[STAGE_LOAD]]
// CHECK: %[[M:.+]] = vector.multi_reduction <maximumf>, %[[T]], %{{.+}} [1] : vector<4x128xf32> to vector<4xf32>
// CHECK: %[[C:.+]] = vector.shape_cast %[[M]] : vector<4xf32> to vector<4x1xf32>
// CHECK: %[[B:.+]] = vector.broadcast %[[C]] : vector<4x1xf32> to vector<4x128xf32>
// CHECK: %[[D:.+]] = arith.subf %[[T]], %[[B]] : vector<4x128xf32>
// exp is a vector polynomial (no libm call per lane):
// CHECK-NOT: math.exp
// CHECK: math.fma
// CHECK-NOT: math.exp
// CHECK: scf.if
// CHECK:   vector.transfer_write %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] {in_bounds = [true, true]} : vector<4x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
// CHECK: } else {
// CHECK:   vector.transfer_write %{{.+}}, %[[STAGE_STORE]]
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       memref.load %[[STAGE_STORE]]
// CHECK:       memref.store %{{.+}} : memref<?x?xf32, strided<[?, 1], offset: ?>>
func.func @unit_stride(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %ninf = arith.constant 0xFF800000 : f32
  %s = tile.load %x[%i, %i] padding(%ninf : f32) : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x128xf32>
  %m = tile.reduce max %s axis = 1 : tensor<4x128xf32> -> tensor<4xf32>
  %mc = tile.expand_dims %m axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  %mb = tile.broadcast %mc : tensor<4x1xf32> -> tensor<4x128xf32>
  %d = arith.subf %s, %mb : tensor<4x128xf32>
  %e = math.exp %d : tensor<4x128xf32>
  tile.store %e, %x[%i, %i] : tensor<4x128xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A dynamic innermost stride is read through a gather on a flat view, with
// the bounds in the mask.
// CHECK-LABEL: func.func @strided
// CHECK: %{{.+}}, %[[OFF:.+]], %[[SIZES:.+]]:2, %[[STRIDES:.+]]:2 = memref.extract_strided_metadata
// CHECK: %[[FLAT:.+]] = memref.reinterpret_cast
// CHECK: arith.cmpi ult
// CHECK: %[[MASK:.+]] = arith.andi
// CHECK: vector.gather %[[FLAT]][%{{.+}}] [%{{.+}}], %[[MASK]], %{{.+}} : memref<2147483647xf32, strided<[1]>>, vector<8x4xindex>, vector<8x4xi1>, vector<8x4xf32> into vector<8x4xf32>
func.func @strided(%x: memref<?x?xf32, strided<[?, ?], offset: ?>>, %i: index) attributes {tile.kernel} {
  %t = tile.load %x[%i, %i] : memref<?x?xf32, strided<[?, ?], offset: ?>> -> tensor<8x4xf32>
  %c = tile.transpose %t perm = [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  %r = tile.reduce sum %c axis = 0 : tensor<4x8xf32> -> tensor<8xf32>
  %r2 = tile.reshape %r : tensor<8xf32> -> tensor<1x8xf32>
  tile.store %r2, %x[%i, %i] : tensor<1x8xf32>, memref<?x?xf32, strided<[?, ?], offset: ?>>
  return
}

// -----

// dot converts bf16 inputs to the f32 accumulator and contracts.
// CHECK-LABEL: func.func @dot
// CHECK: %[[A:.+]] = arith.extf %{{.+}} : vector<4x8xbf16> to vector<4x8xf32>
// CHECK: %[[B:.+]] = arith.extf %{{.+}} : vector<8x2xbf16> to vector<8x2xf32>
// CHECK: vector.contract {indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %[[A]], %[[B]], %{{.+}} : vector<4x8xf32>, vector<8x2xf32> into vector<4x2xf32>
func.func @dot(%in: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %out: memref<?x?xf32, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %a = tile.load %in[%i, %i] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<4x8xbf16>
  %b = tile.load %in[%i, %i] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<8x2xbf16>
  %c = tile.load %out[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x2xf32>
  %r = tile.dot %a, %b, %c : tensor<4x8xbf16>, tensor<8x2xbf16> -> tensor<4x2xf32>
  tile.store %r, %out[%i, %i] : tensor<4x2xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// Gathers fold the bounds into their mask; masked stores scatter row by row.
// f16 memory is accessed as i16 (here the f16 value is never used as a
// float, so the bitcasts to f16 and back fold away).
// CHECK-LABEL: func.func @masked
// CHECK-SAME: memref<?x?xi16, strided<[?, 1], offset: ?>>
// CHECK: vector.step : vector<4xindex>
// CHECK: vector.gather %{{.+}} : memref<2147483647xi16, strided<[1]>>, vector<2x4xindex>, vector<2x4xi1>, vector<2x4xi16> into vector<2x4xi16>
// CHECK-NOT: vector.bitcast
// CHECK-COUNT-2: vector.scatter %{{.+}}[%{{.+}}] [%{{.+}}], %{{.+}}, %{{.+}} : memref<2147483647xi16, strided<[1]>>, vector<4xindex>, vector<4xi1>, vector<4xi16>
func.func @masked(%m: memref<?x?xf16, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %cols = tile.iota : tensor<4xindex>
  %c = tile.broadcast %cols : tensor<4xindex> -> tensor<2x4xindex>
  %r = tile.splat %i : tensor<2x4xindex>
  %v = tile.gather %m[%r, %c] : memref<?x?xf16, strided<[?, 1], offset: ?>>, tensor<2x4xindex>, tensor<2x4xindex> -> tensor<2x4xf16>
  %k = arith.cmpi ult, %c, %r : tensor<2x4xindex>
  tile.store %v, %m[%i, %i] mask(%k : tensor<2x4xi1>) : tensor<2x4xf16>, memref<?x?xf16, strided<[?, 1], offset: ?>>
  return
}

// -----

// A row the kernel does not read back may bypass the caches: with a
// non-temporal store when the memref holds at least 16 MiB and the row's
// address is aligned to a register. The first store is read back by the
// second pass: an ordinary transfer.
// CHECK-LABEL: func.func @streaming_store
// CHECK: scf.if
// CHECK:   vector.transfer_write %{{.+}}, %[[Y:[a-z0-9]+]][%{{.+}}, %{{.+}}] {in_bounds = [true, true]} : vector<1x64xf32>
// CHECK: vector.transfer_read %[[Y]]
// CHECK: memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: arith.cmpi uge, %{{.+}}, %c16777216
// CHECK: scf.if
// CHECK:   vector.store %{{.+}}, %[[Y]][%{{.+}}, %{{.+}}] {alignment = 32 : i64, nontemporal = true} : memref<?x?xf32, strided<[?, 1], offset: ?>>, vector<64xf32>
// CHECK: } else {
// CHECK:   vector.transfer_write
func.func @streaming_store(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>, %i: index) attributes {tile.kernel} {
  %t = tile.load %x[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<1x64xf32>
  tile.store %t, %y[%i, %i] : tensor<1x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  %u = tile.load %y[%i, %i] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<1x64xf32>
  %v = arith.addf %u, %u : tensor<1x64xf32>
  tile.store %v, %y[%i, %i] : tensor<1x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
