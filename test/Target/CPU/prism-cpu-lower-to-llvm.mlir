// The whole CPU pipeline leaves only the LLVM dialect, and a packed entry
// point for every kernel.
// RUN: prism-opt %s -prism-cpu-lower-to-llvm | FileCheck %s

// CHECK-NOT: tile.
// CHECK-NOT: vector.
// CHECK-NOT: memref.
// CHECK: llvm.func internal @scale
// CHECK: llvm.func @prism_kernel_scale(%[[ARGS:.+]]: !llvm.ptr, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64)
// CHECK: llvm.call @scale(
func.func @scale(%x: memref<?xf32, strided<[1], offset: ?>>, %s: f32) attributes {tile.kernel} {
  %pid = tile.program_id x
  %c64 = arith.constant 64 : index
  %i = arith.muli %pid, %c64 : index
  %t = tile.load %x[%i] : memref<?xf32, strided<[1], offset: ?>> -> tensor<64xf32>
  %b = tile.splat %s : tensor<64xf32>
  %y = arith.mulf %t, %b : tensor<64xf32>
  tile.store %y, %x[%i] : tensor<64xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}
