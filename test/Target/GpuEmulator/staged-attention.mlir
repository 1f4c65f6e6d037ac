// Attention's KV loop with staged operands, run under the GPU emulator and
// checked against float64: K and V tiles are loaded by cp.async into a
// 3-stage pipeline (their slots above the loop's own exchanges), Q, which
// the loop does not change, into a pinned slot once, and P (computed in
// the loop) is published at every step, except with 64-row tiles, where
// it stays in registers. The output accumulator stays in the matrix
// cores' fragments across the loop (its per-row rescale is a broadcast
// read at the fragment positions). Head dim 128, causal, grouped queries,
// ragged sequence lengths, several tile shapes (32x32 needs dynamic
// shared memory). With 64-row tiles on sm_90a both products run as
// wgmma: S = Q K^T with K-major K, O += P V with A (P) from registers and
// MN-major V (the instruction's B transpose), K and V by TMA into
// swizzled slots, Q pinned in core matrices; on sm_80, mma.sync takes P
// from registers the same way.

// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=77 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=16 attention-n=16" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=77 --target=nvidia-emulated:sm_80 --tile-sizes="attention-m=32 attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=50 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=64 attention-n=16" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=99 --target=nvidia-emulated:sm_80 --tile-sizes="attention-m=64 attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=70 --target=nvidia-emulated:sm_80 --tile-sizes="attention-m=64 attention-n=16" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=77 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=64 attention-n=64" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=130 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=64 attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=45 --target=nvidia-emulated:sm_90a | FileCheck %s
// 128-row query tiles: two warpgroups on sm_90a (each its 64 query rows,
// the same K and V), 128 threads and mma.sync on sm_80.
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=128 attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=128 attention-n=64" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=150 --target=nvidia-emulated:sm_80 --tile-sizes="attention-m=128 attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=93 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=64 attention-n=32" | FileCheck %s
// P V overlapping the softmax (sm_90a's default with the 128x64 tiles
// above) with other tiles, on mma.sync (sm_80: the same kernel, the
// products in order) and on the CPU (the kernel form itself), and a
// sequence of one key block, where the loop's only steps are the block's
// and the one past it.
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=77 --target=nvidia-emulated:sm_90a --tile-sizes="matrix-core-attention-m=64 matrix-core-attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=130 --target=nvidia-emulated:sm_90a --tile-sizes="matrix-core-attention-m=64 matrix-core-attention-n=16" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=93 --target=nvidia-emulated:sm_90a --tile-sizes="matrix-core-attention-m=128 matrix-core-attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=64 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=150 --target=nvidia-emulated:sm_80 --tile-sizes="matrix-core-attention-overlap=true" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=70 --target=cpu --tile-sizes="matrix-core-attention-m=16 matrix-core-attention-n=16 matrix-core-attention-overlap=true" | FileCheck %s
// CHECK: PASS
// CHECK-NOT: FAIL

// RUN: rm -rf %t && prism-translate %s --entry=causal_gqa --target=nvidia-emulated:sm_90a -o %t
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.json
// bf16 attention's default tiles on sm_90a: 128 queries (two warpgroups)
// by 64 keys.
// MANIFEST: "causal_gqa__0_attention": {
// MANIFEST-NEXT: "threads": 256,
// MANIFEST-NEXT: "shared_bytes": 132128,
// MANIFEST-NEXT: "stages": 3,
// MANIFEST-NEXT: "dynamic_shared": true

// RUN: prism-opt %s --prism-kernelize="attention-m=64 attention-n=32" --prism-nvidia-lower-tile-to-gpu="warpgroup-mma=true tensor-memory-access=true dynamic-shared-memory-limit=231424" | FileCheck %s --check-prefix=WGMMA
// WGMMA-LABEL: gpu.func @causal_gqa__0_attention
// WGMMA: nvvm.cp.async.bulk.tensor.shared.cluster.global
// The KV loop carries the row maximum and sum in the rows layout (two rows
// per thread) and the output in the wgmma registers.
// WGMMA: scf.for {{.*}} -> (vector<2xf32>, vector<2xf32>, vector<64xf32>)
// Q is read from its pinned slot, not published again at each step.
// WGMMA-NOT: vector.scatter {{.*}}memref<8192xbf16
// WGMMA: memref.view {{.*}} to memref<8192xbf16
// WGMMA-NOT: vector.scatter {{.*}}memref<8192xbf16
// WGMMA: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// The scores stay in the wgmma registers: the row maximum and sum combine
// the quads' partials by shuffles, nothing crosses shared memory until P.
// WGMMA-NOT: gpu.barrier
// WGMMA: gpu.shuffle xor {{.*}} : f32
// WGMMA-NOT: gpu.barrier
// WGMMA: gpu.shuffle xor {{.*}} : f32
// WGMMA-NOT: gpu.barrier
// WGMMA: gpu.shuffle xor {{.*}} : f32
// WGMMA-NOT: gpu.barrier
// WGMMA: gpu.shuffle xor {{.*}} : f32
// P stays in the registers too: O += P V is wgmma with A from registers
// (inline PTX: MLIR's op reads A from shared memory only; its K steps are
// P's fragment registers in order) and V MN-major (imm-trans-b 1), so the
// step's barrier is the loop's only one and nothing is published in it.
// WGMMA-NOT: gpu.barrier
// WGMMA-NOT: vector.scatter
// WGMMA: nvvm.wgmma.fence.aligned
// WGMMA: llvm.inline_asm has_side_effects asm_dialect = att "{\0A.reg .pred p;\0Asetp.ne.b32 p, $133, 0;\0Awgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {$0, {{.*}}, $63}, {$128, $129, $130, $131}, $132, p, 1, 1, 1;\0A}\0A", "=f,{{.*}},=f,0,{{.*}},63,r,r,r,r,l,n"
// WGMMA-SAME: (f32, {{.*}}, i32, i32, i32, i32, i64, i32) -> !llvm.struct<(f32,
// WGMMA: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async
// WGMMA: nvvm.wgmma.commit.group.sync.aligned
// Its wait comes down to the output's first use, the yield, with the
// output's registers tied to it (and P's A registers, which it reads).
// WGMMA-NOT: gpu.barrier
// WGMMA-NOT: vector.scatter
// WGMMA: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 0;", "=f,{{.*}},=f,=r,=r,=r,=r,=r,=r,=r,=r,0,
// WGMMA-NOT: gpu.barrier
// WGMMA: scf.yield {{.*}} : vector<2xf32>, vector<2xf32>, vector<64xf32>
// After the loop the output is divided by the row sums and stored from
// the registers (the row sums read in place): nothing is relaid through
// shared memory.
// WGMMA-NOT: memref<8192xf32
// WGMMA-NOT: memref<64xf32, #gpu.address_space<workgroup>>
// WGMMA: vector.scatter {{.*}} : memref<2147483647xbf16, strided<[1]>>, vector<64xindex>, vector<64xi1>, vector<64xbf16>
// WGMMA-NEXT: gpu.return
// WGMMA-LABEL: gpu.func @masked_f16__0_attention
// The additive mask is loaded at the fragment positions of the scores
// (16 per thread), not relaid through shared memory.
// WGMMA: scf.for {{.*}} -> (vector<2xf32>, vector<2xf32>, vector<32xf32>)
// WGMMA: vector.gather {{.*}} : memref<2147483647xf32, strided<[1]>>, vector<16xindex>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// WGMMA-NOT: memref<2048xf32
// WGMMA: gpu.shuffle xor

// With the products overlapping the softmax (sm_90a's default, here with
// 64x32 tiles): the loop also carries P in its fragment registers (bf16,
// 16 per thread), and each step issues S = Q K^T, then O += P V of the
// previous key block, waits for S alone (wait_group 1, S's registers tied
// through it), runs the softmax while P V runs (row sums by shuffles, no
// barrier), and waits for P V (wait_group 0) before the rescale; the next
// P is rounded to bf16 after that wait (before it, ptxas would serialize
// every wgmma: the new P would take the registers P V still reads).
// RUN: prism-opt %s --prism-kernelize="matrix-core-attention-m=64 matrix-core-attention-n=32 matrix-core-attention-overlap=true" --prism-nvidia-lower-tile-to-gpu="warpgroup-mma=true tensor-memory-access=true dynamic-shared-memory-limit=231424" | FileCheck %s --check-prefix=OVERLAP
// OVERLAP-LABEL: gpu.func @causal_gqa__0_attention
// OVERLAP: scf.for {{.*}} -> (vector<2xf32>, vector<2xf32>, vector<64xf32>, vector<16xbf16>)
// OVERLAP: nvvm.wgmma.fence.aligned
// OVERLAP: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 32, k = 16>
// OVERLAP: nvvm.wgmma.commit.group.sync.aligned
// OVERLAP-NOT: wgmma.wait
// OVERLAP: nvvm.wgmma.fence.aligned
// OVERLAP-NOT: wgmma.wait
// OVERLAP: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16
// OVERLAP-NOT: wgmma.wait
// OVERLAP: nvvm.wgmma.commit.group.sync.aligned
// OVERLAP-NOT: wgmma
// OVERLAP: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 1;", "=f,{{.*}},=f,0,{{.*}},15" 
// OVERLAP-NOT: gpu.barrier
// OVERLAP: math.exp2
// OVERLAP-NOT: gpu.barrier
// OVERLAP: gpu.shuffle xor
// OVERLAP-NOT: gpu.barrier
// P V's wait is in a block of its own, a branch whose both arms wait
// (their PTX differs by a newline), so that ptxas keeps it after the
// softmax.
// OVERLAP: gpu.block_id x
// OVERLAP: scf.if
// OVERLAP: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 0;", "=f,{{.*}},=f,=r,=r,=r,=r,=r,=r,=r,=r,0,
// OVERLAP: } else {
// OVERLAP: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 0;\0A", "=f,{{.*}},=f,=r,=r,=r,=r,=r,=r,=r,=r,0,
// OVERLAP-NOT: gpu.barrier
// OVERLAP: arith.mulf {{.*}} : vector<64xf32>
// OVERLAP-NEXT: arith.truncf {{.*}} : vector<16xf32> to vector<16xbf16>
// OVERLAP-NEXT: scf.yield {{.*}} : vector<2xf32>, vector<2xf32>, vector<64xf32>, vector<16xbf16>

// Warp-specialized (warp-specialize=1; 2 adds the ping-pong): a producer
// warpgroup issues the K and V copies into slots the consumers release
// once every wgmma of the step retired; the consumers fill Q's pinned slot
// themselves (the producer's threads have no place in the layout) and show
// it to each other at barrier 1. With the ping-pong (FlashAttention 3's),
// the two consumer warpgroups take turns at the tensor cores: warpgroup g
// waits at barrier 2 + g before issuing S = Q K^T and P V and lets the
// other go (bar.arrive 3 - g) once they are issued, before waiting for S,
// so that one's softmax runs while the other's products do; warpgroup 1
// lets warpgroup 0 go first and warpgroup 0 takes the last arrival after
// the loop (the emulator reports arrivals that nobody waited for).
// RUN: prism-opt %s --prism-kernelize="matrix-core-attention-m=128 matrix-core-attention-n=64 matrix-core-attention-overlap=true warp-specialize=2" --prism-nvidia-lower-tile-to-gpu="warpgroup-mma=true tensor-memory-access=true dynamic-shared-memory-limit=231424" | FileCheck %s --check-prefix=PINGPONG
// PINGPONG-LABEL: gpu.func @causal_gqa__0_attention
// PINGPONG-SAME: known_block_size = array<i32: 384, 1, 1>
// PINGPONG: nvvm.setmaxregister increase 232
// PINGPONG: nvvm.cp.async.wait.group 0
// PINGPONG: nvvm.barrier id = %c1_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: nvvm.barrier.arrive id = %c2_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: scf.for {{.*}} -> (vector<2xf32>, vector<2xf32>, vector<64xf32>, vector<32xbf16>)
// PINGPONG: nvvm.mbarrier.try_wait.parity
// PINGPONG: nvvm.barrier id = %c3_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: } else {
// PINGPONG: nvvm.barrier id = %c2_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: nvvm.wgmma.fence.aligned
// PINGPONG: nvvm.wgmma.commit.group.sync.aligned
// PINGPONG: wgmma.mma_async.sync.aligned.m64n128k16
// PINGPONG: nvvm.wgmma.commit.group.sync.aligned
// PINGPONG-NEXT: scf.if
// PINGPONG: nvvm.barrier.arrive id = %c2_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: nvvm.barrier.arrive id = %c3_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: "wgmma.wait_group.sync.aligned 1;"
// PINGPONG: nvvm.mbarrier.arrive
// PINGPONG: scf.yield
// PINGPONG: nvvm.barrier id = %c2_i32{{[_0-9]*}} number_of_threads = %c256_i32
// PINGPONG: nvvm.setmaxregister decrease 40
// PINGPONG: nvvm.mbarrier.arrive.expect_tx
// The same kernels run: K loops of one block and of several, causal and
// masked, without tensor maps, another schedule seed.
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="warp-specialize=2" | FileCheck %s
// RUN: env PRISM_EMULATOR_SEED=3 prism-run %s --entry=causal_gqa --check --dynamic-size=200 --target=nvidia-emulated:sm_90a --tile-sizes="warp-specialize=2" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=40 --target=nvidia-emulated:sm_90a --tile-sizes="warp-specialize=2" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="warp-specialize=2" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=130 --target=nvidia-emulated:sm_90a --tile-sizes="matrix-core-attention-overlap=false warp-specialize=2" | FileCheck %s
// RUN: env PRISM_TENSOR_MAPS=0 prism-run %s --entry=causal_gqa --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="warp-specialize=2" | FileCheck %s

// sm_80 with 64-row tiles: mma.sync with a column of warps, 16 whole rows
// each, so the softmax is in registers there too, and P V takes P's
// registers as mma.sync's A (bitcast bf16 pairs, no ldmatrix): V's slot
// is read by transposing ldmatrix, and the step's barrier is the loop's
// only one.
// RUN: prism-opt %s --prism-kernelize="attention-m=64 attention-n=32" --prism-nvidia-lower-tile-to-gpu="stages=3 dynamic-shared-memory-limit=165888" | FileCheck %s --check-prefix=SM80ROWS
// SM80ROWS-LABEL: gpu.func @causal_gqa__0_attention
// SM80ROWS: scf.for {{.*}} -> (vector<2xf32>, vector<2xf32>, vector<64xf32>)
// SM80ROWS: gpu.barrier
// SM80ROWS-NOT: gpu.barrier
// SM80ROWS: nvvm.mma.sync
// SM80ROWS-NOT: gpu.barrier
// SM80ROWS: gpu.shuffle xor {{.*}} : f32
// SM80ROWS-NOT: gpu.barrier
// SM80ROWS-NOT: vector.scatter
// SM80ROWS: vector.shuffle {{.*}} [0, 1] : vector<16xbf16>, vector<16xbf16>
// SM80ROWS-NEXT: vector.bitcast {{.*}} : vector<2xbf16> to vector<1xi32>
// SM80ROWS-NOT: gpu.barrier
// SM80ROWS: nvgpu.ldmatrix {{.*}} {numTiles = 2 : i32, transpose = true}
// SM80ROWS-NOT: gpu.barrier
// SM80ROWS-NOT: vector.scatter
// SM80ROWS: scf.yield {{.*}} : vector<2xf32>, vector<2xf32>, vector<64xf32>

// The same pinned Q on sm_80 (16x16 tiles, mma.sync, padded rows: 16 rows
// of 136 elements), never published in the loop.
// RUN: prism-opt %s --prism-kernelize="attention-m=16 attention-n=16" --prism-nvidia-lower-tile-to-gpu="stages=3" | FileCheck %s --check-prefix=PINNED
// PINNED-LABEL: gpu.func @causal_gqa__0_attention
// PINNED: nvgpu.device_async_copy {{.*}} to memref<2176xbf16
// PINNED: scf.for
// PINNED-NOT: vector.scatter {{.*}}memref<2048xbf16
// PINNED: memref.view {{.*}} to memref<2176xbf16
// PINNED-NOT: vector.scatter {{.*}}memref<2048xbf16
// PINNED: nvvm.mma.sync
// PINNED-LABEL: gpu.func @masked_f16__0_attention

func.func @causal_gqa(%q: tensor<1x4x?x128xbf16>, %k: tensor<1x2x?x128xbf16>, %v: tensor<1x2x?x128xbf16>) -> tensor<1x4x?x128xbf16> {
  %o = prism.attention %q, %k, %v causal : tensor<1x4x?x128xbf16>, tensor<1x2x?x128xbf16>, tensor<1x2x?x128xbf16>
  return %o : tensor<1x4x?x128xbf16>
}

func.func @masked_f16(%q: tensor<1x2x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>, %m: tensor<?x?xf32>) -> tensor<1x2x?x64xf16> {
  %o = prism.attention %q, %k, %v mask(%m : tensor<?x?xf32>) : tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>
  return %o : tensor<1x2x?x64xf16>
}
