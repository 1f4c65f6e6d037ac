// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128 warpgroup-mma=true" | FileCheck %s
// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128" | FileCheck %s --check-prefix=MMASYNC

// sm_90a: a 64-row K-loop dot with A [M, K] and B [N, K] (x @ w^T) runs as
// wgmma.mma_async. Its operands are staged by cp.async in core matrices
// (no row padding: 4 stages x (64 + 64) rows x 32 x 2 bytes), made visible
// to the async proxy before the step's barrier, and read through matrix
// descriptors: K-adjacent core matrices 128 bytes apart (8 << 16), row
// groups 8 x 32 x 2 = 512 bytes apart (32 << 32). Each step fences the
// accumulator registers, issues the two k16 steps back to back, commits
// and leaves the group in flight (wait_group 1): the tensor cores work
// while the warps go on to the next step's barrier, which is why the loop
// has a fourth stage (a slot is refilled two steps after it was read,
// once the previous step's wait retired its dots). The accumulator keeps
// the fragment layout of 4 warps x 16 rows (32 registers per thread); its
// initial value goes through an empty inline PTX statement that ties the
// registers, and after the loop a wait_group 0 ties them again, so that
// no read of them moves before the wait (LLVM does not know wgmma writes
// them late).
// CHECK: prism.kernel_configs = {linear = {shared_bytes = 32768 : i64, stages = 4 : i64, threads = 128 : i64}, linear_two_warpgroups = {shared_bytes = 49152 : i64, stages = 4 : i64, threads = 256 : i64}}
// CHECK-LABEL: gpu.func @linear
// CHECK: %[[PINNED:.*]] = llvm.inline_asm has_side_effects asm_dialect = att "", "=f,{{.*}},0,1,2,{{.*}},31"
// CHECK: scf.for {{.*}} -> (vector<32xf32>)
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: ldmatrix
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: arith.constant 137439477760 : i64
// CHECK: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 64, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: scf.yield
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 0;", "=f,{{.*}},0,1,2,{{.*}},31"
// CHECK: nvvm.cp.async.wait.group 0
// Without warpgroup MMA (sm_80, sm_89): mma.sync from padded rows.
// MMASYNC: linear = {shared_bytes = 30720 : i64, stages = 3 : i64, threads = 128 : i64}, linear_two_warpgroups = {{.*}}threads = 128 : i64}
// MMASYNC-NOT: wgmma
// MMASYNC: nvgpu.ldmatrix
// MMASYNC: nvvm.mma.sync
func.func @linear(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %k = memref.dim %x, %c1 : memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<64x64xf32>
  %r = scf.for %kk = %c0 to %k step %c32 iter_args(%acc = %init) -> (tensor<64x64xf32>) {
    %a = tile.load %x[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
    %b = tile.load %w[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
    %bt = tile.transpose %b perm = [1, 0] : tensor<64x32xbf16> -> tensor<32x64xbf16>
    %d = tile.dot %a, %bt, %acc : tensor<64x32xbf16>, tensor<32x64xbf16> -> tensor<64x64xf32>
    scf.yield %d : tensor<64x64xf32>
  }
  tile.store %r, %y[%c0, %c0] : tensor<64x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// A 128-row tile takes two warpgroups: the kernel gets 256 threads (in its
// configuration and its known block size), the 8 warps keep the column
// layout (16 rows each, 32 registers per thread for 128x64), and warpgroup
// g = tid / 128 reads A from row 64 g: 8 row groups of 512 bytes further.
// Both warpgroups read the same B. Without warpgroup MMA the kernel keeps
// 128 threads (mma.sync on a grid of 4 warps).
// CHECK-LABEL: gpu.func @linear_two_warpgroups
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK: scf.for {{.*}} -> (vector<32xf32>)
// CHECK: %[[A:.*]] = arith.index_cast %intptr : index to i64
// CHECK-NEXT: %[[TID:.*]] = gpu.thread_id x
// CHECK-NEXT: %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT: %[[GROUP:.*]] = arith.divui %[[TID]], %[[C128]] : index
// CHECK-NEXT: %[[GROUP64:.*]] = arith.index_cast %[[GROUP]] : index to i64
// CHECK-NEXT: %[[C4096:.*]] = arith.constant 4096 : i64
// CHECK-NEXT: %[[ROWS:.*]] = arith.muli %[[GROUP64]], %[[C4096]] : i64
// CHECK-NEXT: %[[A1:.*]] = arith.addi %[[A]], %[[ROWS]] : i64
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : i64
// CHECK-NEXT: arith.addi %[[A1]], %[[C0]] : i64
// CHECK: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 64, k = 16>
// CHECK: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// MMASYNC-LABEL: gpu.func @linear_two_warpgroups
// MMASYNC-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @linear_two_warpgroups(%x: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %w: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %y: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %k = memref.dim %x, %c1 : memref<?x?xbf16, strided<[?, 1], offset: ?>>
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<128x64xf32>
  %r = scf.for %kk = %c0 to %k step %c32 iter_args(%acc = %init) -> (tensor<128x64xf32>) {
    %a = tile.load %x[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<128x32xbf16>
    %b = tile.load %w[%c0, %kk] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<64x32xbf16>
    %bt = tile.transpose %b perm = [1, 0] : tensor<64x32xbf16> -> tensor<32x64xbf16>
    %d = tile.dot %a, %bt, %acc : tensor<128x32xbf16>, tensor<32x64xbf16> -> tensor<128x64xf32>
    scf.yield %d : tensor<128x64xf32>
  }
  tile.store %r, %y[%c0, %c0] : tensor<128x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
