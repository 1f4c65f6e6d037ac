// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu=threads=128 -prism-emulate-gpu-kernels-on-cpu | FileCheck %s

// The NVIDIA kernel becomes a host function with the CPU kernel signature:
// its buffers, the workspace (no longer workgroup memory), the thread's
// context and the six grid arguments. The thread id is read from the
// context; each barrier calls the context's barrier with its site number,
// the barrier's id, its threads and whether it only arrives (0, 0 and 0:
// bar.sync 0 of every thread);
// ldmatrix and mma.sync store this lane's address or registers in a
// fragment buffer, call the context's matrix function (mma instruction 0:
// bf16) and read the results back.
// CHECK-NOT: gpu.module
// CHECK-LABEL: func.func @dot_bf16(
// CHECK-SAME: %{{.*}}: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %{{.*}}: memref<?x?xf32, strided<[?, 1], offset: ?>>, %[[WS:.*]]: memref<3072xi8>, %[[CTX:.*]]: !llvm.ptr, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: attributes {prism.cpu_kernel}
// CHECK: llvm.load %[[CTX]] : !llvm.ptr -> i64
// CHECK: %[[FRAGMENTS:.*]] = llvm.alloca %{{.*}} x i32 {alignment = 16 : i64}
// CHECK: %[[B0:.*]] = llvm.getelementptr %[[CTX]][8] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: %[[BARRIER:.*]] = llvm.load %[[B0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[SITE0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[ID0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[ALL:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[WAIT:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.call %[[BARRIER]](%[[CTX]], %[[SITE0]], %[[ID0]], %[[ALL]], %[[WAIT]]) : !llvm.ptr, (!llvm.ptr, i64, i64, i64, i64) -> ()
// CHECK: memref.view %[[WS]][%{{.*}}][] : memref<3072xi8> to memref<512xbf16>
// CHECK: llvm.mlir.constant(1 : i64) : i64
// ldmatrix.x4 of A (instruction 16 + 2 * 3) and .x2.trans of B (16 + 2 + 1):
// this lane's row address in, the registers out.
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: llvm.store %{{.*}}, %[[FRAGMENTS]] : i64, !llvm.ptr
// CHECK: llvm.mlir.constant(22 : i64) : i64
// CHECK: vector.bitcast {{.*}} : vector<4x1xi32> to vector<4x2xbf16>
// CHECK: llvm.mlir.constant(19 : i64) : i64
// CHECK: vector.bitcast {{.*}} : vector<2x1xi32> to vector<2x2xbf16>
// CHECK: llvm.store %{{.*}}, %[[FRAGMENTS]] : i32, !llvm.ptr
// CHECK: llvm.getelementptr %[[FRAGMENTS]][5] : (!llvm.ptr) -> !llvm.ptr, i32
// CHECK: llvm.store %{{.*}} : f32, !llvm.ptr
// CHECK: %[[M0:.*]] = llvm.getelementptr %[[CTX]][16] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: %[[MATRIX:.*]] = llvm.load %[[M0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[BF16:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.call %[[MATRIX]](%[[CTX]], %[[FRAGMENTS]], %[[BF16]]) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK: llvm.getelementptr %[[FRAGMENTS]][10] : (!llvm.ptr) -> !llvm.ptr, i32
// CHECK-NOT: nvvm.
// CHECK-NOT: gpu.
// CHECK: return
func.func @dot_bf16(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<16x32xbf16>
  %y = tile.load %a[%c0, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x16xbf16>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<16x16xf32>
  %r = tile.dot %x, %y, %acc : tensor<16x32xbf16>, tensor<32x16xbf16> -> tensor<16x16xf32>
  tile.store %r, %c[%c0, %c0] : tensor<16x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
