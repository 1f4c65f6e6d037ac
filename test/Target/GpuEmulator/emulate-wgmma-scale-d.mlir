// RUN: prism-opt %s -prism-emulate-gpu-kernels-on-cpu | FileCheck %s

// wgmma's scale-d 0 (D = A B: the NVIDIA backend's first k16 step into a
// zero accumulator, attention's S = Q K^T) reads none of D's input
// registers: the emulator hands the product zeros in their place; with
// scale-d 1 it hands it the registers. Both wgmma forms: descriptors, and
// A from registers (inline PTX whose last operand sets the predicate).

// CHECK-LABEL: func.func @descriptors_into_zeros(
// CHECK-SAME: %[[D0:[a-z0-9]+]]: f32
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NOT: llvm.extractvalue
// CHECK-COUNT-4: llvm.store %[[ZERO]], %{{.*}} : f32, !llvm.ptr
// CHECK: llvm.call
// CHECK-LABEL: func.func @register_a_into_zeros(
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-COUNT-4: llvm.store %[[ZERO]], %{{.*}} : f32, !llvm.ptr
// CHECK: llvm.call
// CHECK-LABEL: func.func @register_a_accumulating(
// CHECK-SAME: %[[A:[a-z0-9]+]]: i32, %[[DESC:[a-z0-9]+]]: i64, %[[D0:[a-z0-9]+]]: f32, %[[D1:[a-z0-9]+]]: f32, %[[D2:[a-z0-9]+]]: f32, %[[D3:[a-z0-9]+]]: f32
// CHECK: llvm.store %[[D0]]
// CHECK: llvm.store %[[D1]]
// CHECK: llvm.store %[[D2]]
// CHECK: llvm.store %[[D3]]
// CHECK: llvm.call
module attributes {gpu.container_module} {
  gpu.module @prism_kernels {
    gpu.func @descriptors_into_zeros(%d0: f32, %da: i64, %db: i64, %out: memref<4xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %u = llvm.mlir.undef : !llvm.struct<(f32, f32, f32, f32)>
      %s0 = llvm.insertvalue %d0, %u[0] : !llvm.struct<(f32, f32, f32, f32)>
      %s1 = llvm.insertvalue %d0, %s0[1] : !llvm.struct<(f32, f32, f32, f32)>
      %s2 = llvm.insertvalue %d0, %s1[2] : !llvm.struct<(f32, f32, f32, f32)>
      %s3 = llvm.insertvalue %d0, %s2[3] : !llvm.struct<(f32, f32, f32, f32)>
      %r = nvvm.wgmma.mma_async %da, %db, %s3, <m = 64, n = 8, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32)>
      %e = llvm.extractvalue %r[0] : !llvm.struct<(f32, f32, f32, f32)>
      %c0 = arith.constant 0 : index
      memref.store %e, %out[%c0] : memref<4xf32>
      gpu.return
    }
    gpu.func @register_a_into_zeros(%a: i32, %desc: i64, %d0: f32, %d1: f32, %d2: f32, %d3: f32, %out: memref<4xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %zero = llvm.mlir.constant(0 : i32) : i32
      %r = llvm.inline_asm has_side_effects "{\0A.reg .pred p;\0Asetp.ne.b32 p, $13, 0;\0Awgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {$0, $1, $2, $3}, {$8, $9, $10, $11}, $12, p, 1, 1, 1;\0A}\0A", "=f,=f,=f,=f,0,1,2,3,r,r,r,r,l,n" %d0, %d1, %d2, %d3, %a, %a, %a, %a, %desc, %zero : (f32, f32, f32, f32, i32, i32, i32, i32, i64, i32) -> !llvm.struct<(f32, f32, f32, f32)>
      %e = llvm.extractvalue %r[0] : !llvm.struct<(f32, f32, f32, f32)>
      %c0 = arith.constant 0 : index
      memref.store %e, %out[%c0] : memref<4xf32>
      gpu.return
    }
    gpu.func @register_a_accumulating(%a: i32, %desc: i64, %d0: f32, %d1: f32, %d2: f32, %d3: f32, %out: memref<4xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %one = llvm.mlir.constant(1 : i32) : i32
      %r = llvm.inline_asm has_side_effects "{\0A.reg .pred p;\0Asetp.ne.b32 p, $13, 0;\0Awgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {$0, $1, $2, $3}, {$8, $9, $10, $11}, $12, p, 1, 1, 1;\0A}\0A", "=f,=f,=f,=f,0,1,2,3,r,r,r,r,l,n" %d0, %d1, %d2, %d3, %a, %a, %a, %a, %desc, %one : (f32, f32, f32, f32, i32, i32, i32, i32, i64, i32) -> !llvm.struct<(f32, f32, f32, f32)>
      %e = llvm.extractvalue %r[0] : !llvm.struct<(f32, f32, f32, f32)>
      %c0 = arith.constant 0 : index
      memref.store %e, %out[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
