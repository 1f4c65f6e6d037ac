// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu=threads=128 -split-input-file -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,STAGED
// RUN: prism-opt %s -prism-nvidia-lower-tile-to-gpu="threads=128 stages=1" -split-input-file -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,UNSTAGED

// One block per program; a 4x64 tile is 256 elements, two per thread, held
// as vector<2xf32>. A kernel without products or transposes holds runs of
// contiguous elements: here thread t holds elements 2t and 2t + 1. A global
// load is then one vector load per run where the buffer allows it (its
// start and strides aligned, its last size and the tile's first column
// multiples of the run: tested once, at run time), each run inside the
// buffer or not as its first element says; else a gather with the bounds
// in the mask.
// The row maximum has 4 outputs for rows of 64: 32 threads per output each
// combine a strided part, then a tree over the group in shared memory. The
// broadcast exchanges through the workspace (the tile, 1 KB, written by
// vector stores, plus one partial per thread) between barriers.
// CHECK: module attributes {gpu.container_module, prism.kernel_configs = {rows = {shared_bytes = 1536 : i64, stages = 1 : i64, threads = 128 : i64}}}
// CHECK: gpu.module @prism_kernels
// CHECK: gpu.func @rows(%{{.*}}: memref<?x?xf32, strided<[?, 1], offset: ?>>) workgroup(%[[WS:.*]] : memref<1536xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64}) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: gpu.block_id  x
// CHECK: %[[TID:.*]] = gpu.thread_id  x
// CHECK: arith.muli %[[TID]], %{{.*}} : index
// CHECK: %{{.*}}, %{{.*}}, %[[SIZES:.*]]:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: arith.cmpi eq, %[[STRIDES]]#1, %{{.*}} : index
// CHECK: arith.remui %[[SIZES]]#1, %{{.*}} : index
// CHECK: %[[ALIGNED:.*]] = arith.andi
// CHECK-NEXT: scf.if %[[ALIGNED]] -> (vector<2xf32>)
// CHECK: %[[FIRST:.*]] = vector.extract %{{.*}}[0] : index from vector<2xindex>
// CHECK: arith.cmpi ult, %[[FIRST]], %[[SIZES]]#0 : index
// CHECK: scf.if %{{.*}} -> (vector<2xf32>)
// CHECK: vector.load {{.*}} {alignment = 8 : i64} : memref<2147483647xf32, strided<[1]>>, vector<2xf32>
// CHECK: } else {
// CHECK: } else {
// CHECK: vector.gather {{.*}} : memref<2147483647xf32, strided<[1]>>, vector<2xindex>, vector<2xi1>, vector<2xf32> into vector<2xf32>
// CHECK: gpu.barrier
// CHECK: vector.store {{.*}} {alignment = 8 : i64} : memref<256xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} -> (f32)
// CHECK: arith.maximumf {{.*}} : f32
// CHECK: memref.view {{.*}}[%{{.*}}][] : memref<1536xi8, #gpu.address_space<workgroup>> to memref<128xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-5: scf.if
// CHECK: gpu.barrier
// CHECK: vector.gather
// CHECK: arith.subf {{.*}} : vector<2xf32>
// CHECK: scf.if
// CHECK: scf.if
// CHECK: vector.store {{.*}} {alignment = 8 : i64} : memref<2147483647xf32, strided<[1]>>, vector<2xf32>
// CHECK: } else {
// CHECK: vector.scatter {{.*}} : memref<2147483647xf32, strided<[1]>>
// CHECK: gpu.return
func.func @rows(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %pid = tile.program_id x
  %t = tile.load %x[%pid, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x64xf32>
  %m = tile.reduce max %t axis = 1 : tensor<4x64xf32> -> tensor<4xf32>
  %e = tile.expand_dims %m axis = 1 : tensor<4xf32> -> tensor<4x1xf32>
  %b = tile.broadcast %e : tensor<4x1xf32> -> tensor<4x64xf32>
  %d = arith.subf %t, %b : tensor<4x64xf32>
  tile.store %d, %x[%pid, %c0] : tensor<4x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A row of 512 f32 (a multiple of the 128 threads; softmax's and the
// norms' row chunks): each thread combines its 4 elements of the row
// without publishing it, the 32 lanes of each warp combine by xor
// shuffles (offsets 16 .. 1), lane 0 of each warp writes the warp's
// partial, and every thread combines the 4 partials: two barriers. The
// maximum is then the same in every thread (as is the running maximum the
// loop carries, from a splat), so its broadcast back to the row reads it
// in place: no exchange.
// CHECK-LABEL: gpu.func @row_max
// CHECK: scf.for {{.*}} -> (vector<1xf32>)
// CHECK-NOT: vector.scatter
// CHECK-COUNT-3: arith.maximumf {{.*}} : f32
// CHECK: gpu.shuffle  xor {{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: memref.store
// CHECK: gpu.barrier
// CHECK-COUNT-4: memref.load
// CHECK-NOT: gpu.barrier
// CHECK: vector.broadcast {{.*}} : f32 to vector<4xf32>
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
func.func @row_max(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %c2048 = arith.constant 2048 : index
  %pid = tile.program_id x
  %ninf = arith.constant 0xFF800000 : f32
  %init = tile.splat %ninf : tensor<f32>
  %r = scf.for %j = %c0 to %c2048 step %c512 iter_args(%m = %init) -> (tensor<f32>) {
    %t = tile.load %x[%pid, %j] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<1x512xf32>
    %row = tile.reshape %t : tensor<1x512xf32> -> tensor<512xf32>
    %mx = tile.reduce max %row axis = 0 : tensor<512xf32> -> tensor<f32>
    %n = arith.maximumf %m, %mx : tensor<f32>
    %b = tile.broadcast %n : tensor<f32> -> tensor<512xf32>
    %d = arith.subf %row, %b : tensor<512xf32>
    %d2 = tile.reshape %d : tensor<512xf32> -> tensor<1x512xf32>
    tile.store %d2, %x[%pid, %j] : tensor<1x512xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
    scf.yield %n : tensor<f32>
  }
  return
}

// -----

// Column indices of a block (`iota + start`, reshaped and broadcast, as
// attention's masks build them): the addition moves after the broadcast,
// which computes its iota from the thread's positions (column = flat index
// mod 64), so nothing crosses shared memory: no workspace beyond the
// minimum, no barrier.
// CHECK-LABEL: gpu.func @columns
// CHECK-SAME: workgroup(%{{.*}} : memref<16xi8, #gpu.address_space<workgroup>>
// CHECK-NOT: gpu.barrier
// CHECK: arith.remui {{.*}} : vector<2xindex>
// CHECK: arith.addi {{.*}} : vector<2xindex>
// CHECK: arith.cmpi ult, {{.*}} : vector<2xindex>
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return
func.func @columns(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>, %start: index, %limit: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %pid = tile.program_id x
  %t = tile.load %x[%pid, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<4x64xf32>
  %iota = tile.iota : tensor<64xindex>
  %s = tile.splat %start : tensor<64xindex>
  %cols = arith.addi %iota, %s : tensor<64xindex>
  %row = tile.reshape %cols : tensor<64xindex> -> tensor<1x64xindex>
  %all = tile.broadcast %row : tensor<1x64xindex> -> tensor<4x64xindex>
  %l = tile.splat %limit : tensor<4x64xindex>
  %inside = arith.cmpi ult, %all, %l : tensor<4x64xindex>
  %zero = arith.constant dense<0.0> : tensor<4x64xf32>
  %d = arith.select %inside, %t, %zero : tensor<4x64xi1>, tensor<4x64xf32>
  tile.store %d, %x[%pid, %c0] : tensor<4x64xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A bf16 dot into f32 runs on tensor cores: A and B published, each of the
// 4 warps takes an m16n8 tile of C (16x16 has 2) and accumulates it with
// mma.sync over K in steps of 16 from ldmatrix fragments (A: four 8x8
// blocks; B, stored [K, N]: two, transposed by ldmatrix), the tiles go
// through shared memory (f32, after the operands) back to the element-wise
// layout.
// CHECK-LABEL: gpu.func @dot_bf16
// CHECK-SAME: workgroup(%{{.*}} : memref<3072xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// CHECK: memref.view {{.*}} to memref<512xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<512xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<256xf32, #gpu.address_space<workgroup>>
// CHECK: scf.if
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false} : memref<512xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: vector.bitcast {{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 2 : i32, transpose = true} : memref<512xbf16, #gpu.address_space<workgroup>> -> vector<2x2xbf16>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK: nvvm.mma.sync
// CHECK: vector.store {{.*}} : memref<256xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK: gpu.barrier
// CHECK: arith.addf {{.*}} : vector<2xf32>
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

// -----

// Other dots (here f32, and i8 weights) are loops over K of shared-memory
// reads and FMAs for the output elements each thread holds.
// CHECK-LABEL: gpu.func @dot_f32_i8
// CHECK-SAME: workgroup(%{{.*}} : memref<2560xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// CHECK: scf.for {{.*}} -> (vector<2xf32>)
// CHECK: arith.sitofp {{.*}} : vector<2xi8> to vector<2xf32>
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: nvvm.mma.sync
func.func @dot_f32_i8(%a: memref<?x?xf32, strided<[?, 1], offset: ?>>, %w: memref<?x?xi8, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %x = tile.load %a[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<16x32xf32>
  %y = tile.load %w[%c0, %c0] : memref<?x?xi8, strided<[?, 1], offset: ?>> -> tensor<32x16xi8>
  %z = arith.constant 0.0 : f32
  %acc = tile.splat %z : tensor<16x16xf32>
  %r = tile.dot %x, %y, %acc : tensor<16x32xf32>, tensor<32x16xi8> -> tensor<16x16xf32>
  tile.store %r, %a[%c0, %c0] : tensor<16x16xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// A kernel whose exchanges do not fit a block's shared memory is rejected.
// expected-error @below {{kernel 'huge' needs 262656 bytes of shared memory for its tile exchanges, more than the 49152 available to a block; choose smaller tile sizes}}
func.func @huge(%x: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %t = tile.load %x[%c0, %c0] : memref<?x?xf32, strided<[?, 1], offset: ?>> -> tensor<256x256xf32>
  %r = tile.reduce sum %t axis = 0 : tensor<256x256xf32> -> tensor<256xf32>
  %e = tile.expand_dims %r axis = 0 : tensor<256xf32> -> tensor<1x256xf32>
  tile.store %e, %x[%c0, %c0] : tensor<1x256xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// Loops carry distributed tiles; iota is each thread's own flat indices;
// gathers take index tiles of the same layout; num_programs is the grid
// size; sum reductions of many outputs loop over the reduced axis per output.
// CHECK-LABEL: gpu.func @loop_gather
// CHECK: gpu.grid_dim  y
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<2xf32>)
// CHECK: vector.gather {{.*}} : memref<2147483647xf32, strided<[1]>>, vector<2xindex>, vector<2xi1>, vector<2xf32> into vector<2xf32>
// CHECK: arith.addf {{.*}} : vector<2xf32>
// CHECK: scf.yield {{.*}} : vector<2xf32>
func.func @loop_gather(%t: memref<?x?xf32, strided<[?, 1], offset: ?>>, %out: memref<?xf32, strided<[1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tile.num_programs y
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<256xf32>
  %cols = tile.iota : tensor<256xindex>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> (tensor<256xf32>) {
    %rows = tile.splat %i : tensor<256xindex>
    %g = tile.gather %t[%rows, %cols] : memref<?x?xf32, strided<[?, 1], offset: ?>>, tensor<256xindex>, tensor<256xindex> -> tensor<256xf32>
    %s = arith.addf %acc, %g : tensor<256xf32>
    scf.yield %s : tensor<256xf32>
  }
  tile.store %r, %out[%c0] : tensor<256xf32>, memref<?xf32, strided<[1], offset: ?>>
  return
}

// -----

// A dot accumulator carried by a K loop stays in mma.sync's registers: the
// loop carries each thread's fragments (2 tiles x 4 registers, as many as
// its element-wise elements), each step publishes A and B between one pair
// of barriers and accumulates with mma.sync from the carried registers,
// and C goes through shared memory once, after the loop, back to the
// element-wise layout. The workspace holds A and B only (no C area).
// STAGED: prism.kernel_configs = {k_loop = {shared_bytes = 15360 : i64, stages = 3 : i64, threads = 128 : i64}}
// UNSTAGED: prism.kernel_configs = {k_loop = {shared_bytes = 4096 : i64, stages = 1 : i64, threads = 128 : i64}}
// CHECK-LABEL: gpu.func @k_loop
// Without a pipeline (stages=1) A and B are loaded into registers and
// published between one pair of barriers at every step.
// UNSTAGED-SAME: workgroup(%{{.*}} : memref<4096xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// UNSTAGED: %[[LOOP:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<8xf32>)
// UNSTAGED: gpu.barrier
// UNSTAGED: vector.scatter
// UNSTAGED: vector.scatter
// UNSTAGED: gpu.barrier
// UNSTAGED-NOT: gpu.barrier
// UNSTAGED: vector.extract %[[ACC]][0] : f32 from vector<8xf32>
// UNSTAGED-COUNT-4: nvvm.mma.sync
// UNSTAGED-NOT: gpu.barrier
// UNSTAGED: scf.yield
// Staged (the default, 3 stages): A and B have 3 slots each of 32 rows
// padded to 40 elements (3 x 2 x 2560 bytes); the prologue fills
// iterations 0 and 1 with cp.async, a group each; every step waits for its
// group, passes one barrier, fills the slot 2 steps ahead and runs the
// mma.sync from its own slot with ldmatrix (A as [M, K] rows, B as [K, N]
// through .trans).
// STAGED-SAME: workgroup(%{{.*}} : memref<15360xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// STAGED: gpu.barrier
// STAGED-COUNT-2: nvgpu.device_async_copy {{.*}}, 8, %{{.*}} {bypassL1}
// STAGED: nvvm.cp.async.commit.group
// STAGED-COUNT-2: nvgpu.device_async_copy
// STAGED: nvvm.cp.async.commit.group
// STAGED-NOT: tile.load
// STAGED: %[[LOOP:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<8xf32>)
// STAGED: nvvm.cp.async.wait.group 1
// STAGED-NEXT: gpu.barrier
// STAGED-NOT: gpu.barrier
// STAGED: scf.if
// STAGED: nvgpu.device_async_copy
// STAGED: } else {
// STAGED: vector.gather
// STAGED: vector.store {{.*}} : memref<1280xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// STAGED: nvvm.cp.async.commit.group
// STAGED-NOT: gpu.barrier
// STAGED: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
// STAGED: nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = true}
// STAGED: nvvm.mma.sync
// STAGED-NOT: gpu.barrier
// STAGED: scf.yield
// STAGED: nvvm.cp.async.wait.group 0
// The accumulator is stored from the fragments: each thread writes its C
// registers at their positions, nothing crosses shared memory after the
// loop (the pipeline's last wait aside).
// CHECK-NOT: gpu.barrier
// CHECK-NOT: memref<1024xf32, #gpu.address_space<workgroup>>
// CHECK: vector.scatter {{.*}} : memref<2147483647xf32, strided<[1]>>, vector<8xindex>, vector<8xi1>, vector<8xf32>
// CHECK-NEXT: gpu.return
func.func @k_loop(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %z = arith.constant 0.0 : f32
  %init = tile.splat %z : tensor<32x32xf32>
  %r = scf.for %k = %c0 to %c128 step %c32 iter_args(%acc = %init) -> (tensor<32x32xf32>) {
    %x = tile.load %a[%c0, %k] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %y = tile.load %a[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %d = tile.dot %x, %y, %acc : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %d : tensor<32x32xf32>
  }
  tile.store %r, %c[%c0, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// An accumulator also used inside the loop (here rescaled each step, as
// attention does) stays element-wise: C returns through shared memory.
// Staged, the operands' slots go above the dot's own exchange (A, B and
// C: 8192 bytes), and the product reads them from their slots after a
// barrier that lets the previous step's readers of C finish.
// CHECK-LABEL: gpu.func @k_loop_rescaled
// UNSTAGED-SAME: workgroup(%{{.*}} : memref<8192xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// STAGED-SAME: workgroup(%{{.*}} : memref<23552xi8, #gpu.address_space<workgroup>> {llvm.align = 128 : i64})
// CHECK: scf.for
// STAGED: nvvm.cp.async.wait.group 1
// STAGED: nvvm.cp.async.commit.group
// STAGED: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: vector.store {{.*}} : memref<1024xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK: gpu.barrier
// CHECK: scf.yield
func.func @k_loop_rescaled(%a: memref<?x?xbf16, strided<[?, 1], offset: ?>>, %c: memref<?x?xf32, strided<[?, 1], offset: ?>>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %z = arith.constant 0.0 : f32
  %h = arith.constant 0.5 : f32
  %init = tile.splat %z : tensor<32x32xf32>
  %half = tile.splat %h : tensor<32x32xf32>
  %r = scf.for %k = %c0 to %c128 step %c32 iter_args(%acc = %init) -> (tensor<32x32xf32>) {
    %x = tile.load %a[%c0, %k] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %y = tile.load %a[%k, %c0] : memref<?x?xbf16, strided<[?, 1], offset: ?>> -> tensor<32x32xbf16>
    %s = arith.mulf %acc, %half : tensor<32x32xf32>
    %d = tile.dot %x, %y, %s : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %d : tensor<32x32xf32>
  }
  tile.store %r, %c[%c0, %c0] : tensor<32x32xf32>, memref<?x?xf32, strided<[?, 1], offset: ?>>
  return
}
