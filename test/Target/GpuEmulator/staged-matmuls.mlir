// bf16 matmuls whose operands the NVIDIA lowering stages in shared memory
// with cp.async (3 stages), run under the GPU emulator, which lands each
// copy only at the wait that requires it, and checked against float64.
// Shapes cover each path of a slot fill: K a multiple of 8 (cp.async),
// ragged M, N and K (copies zero-filled past the buffer), a row stride
// that is not a multiple of 8 elements (the ordinary loads and stores
// instead), a K loop of one step (the prologue's second fill guarded
// off), [K, N] weights (B read through ldmatrix .trans) and a batch.

// RUN: prism-run %s --entry=ragged --check --dynamic-size=37 --target=nvidia-emulated:sm_80 --tile-sizes="matmul-m=32 matmul-n=32 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=unaligned_rows --check --dynamic-size=21 --target=nvidia-emulated:sm_80 | FileCheck %s
// RUN: prism-run %s --entry=one_step --check --dynamic-size=33 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=weights_k_n --check --dynamic-size=40 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=32 matmul-n=32 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=batched --check --dynamic-size=19 --target=nvidia-emulated:sm_90a | FileCheck %s
// 64-row tiles on sm_90a: wgmma.mma_async where B is [N, K] (the emulator
// reads the operands through the descriptors), its tiles copied by TMA
// into swizzled slots on mbarriers (the emulator lands a box only when a
// thread waits on its barrier) or, for a buffer whose rows are not
// 16-byte multiples (unaligned_rows), by cp.async into the same swizzled
// slots; mma.sync from padded rows otherwise.
// RUN: prism-run %s --entry=ragged --check --dynamic-size=77 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=unaligned_rows --check --dynamic-size=70 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=one_step --check --dynamic-size=65 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=weights_k_n --check --dynamic-size=64 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=batched --check --dynamic-size=19 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=32 matmul-k=32" | FileCheck %s
// [N, K] weights shared by a batch (a rank-3 box of a broadcast view): the
// batch stride of 0 is not a tensor map's, so the kernel copies them itself.
// RUN: prism-run %s --entry=broadcast_weights --check --dynamic-size=70 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// 64x128 tiles with K steps of 64 (wgmma m64n128, 128-byte swizzle): each
// step leaves its wgmma group in flight, so the loop has 4 stages (a
// slot is refilled two steps after it was read): 98,304 bytes, plus 4
// mbarriers and 1 KB to align dynamic shared memory to the swizzle's 1024
// bytes: 99,360 bytes of dynamic shared memory; the emulator gives the
// kernel that much.
// RUN: prism-run %s --entry=ragged --check --dynamic-size=77 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=128 matmul-k=64" | FileCheck %s
// RUN: prism-run %s --entry=weights_k_n --check --dynamic-size=64 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=128 matmul-k=64" | FileCheck %s
// 128-row tiles on sm_90a: two warpgroups (256 threads), each multiplying
// its 64 rows of A by the same B; M above 64 so that both compute stored
// rows (the emulator reads each warpgroup's descriptors).
// RUN: prism-run %s --entry=ragged --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=unaligned_rows --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=weights_k_n --check --dynamic-size=200 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64" | FileCheck %s
// RUN: prism-run %s --entry=batched --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=32 matmul-k=32" | FileCheck %s
// K loops of 6 to 13 steps, so that slots are refilled while the loop
// runs: with a wgmma group left in flight at each step, a slot is refilled
// only once a wait_group retired the dots that read it (the emulator
// reports a copy issued into shared memory that a wgmma in flight reads);
// the TMA path, [K, N] weights, the cp.async path (weights shared by a
// batch) and mma.sync on sm_80 and with the default tiles.
// RUN: prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64" | FileCheck %s
// RUN: prism-run %s --entry=long_k --check --dynamic-size=77 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=long_k_n --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=long_k_broadcast_weights --check --dynamic-size=70 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=long_k --check --dynamic-size=45 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=long_k --check --dynamic-size=45 --target=nvidia-emulated:sm_80 --tile-sizes="matmul-m=64 matmul-n=64" | FileCheck %s
// With PRISM_TENSOR_MAPS=0 the runtime passes an empty maps buffer (and
// encodes none): the TMA kernels fill the same swizzled slots by cp.async.
// Were a kernel to copy by TMA anyway, the emulator would refuse its zero
// map.
// RUN: env PRISM_TENSOR_MAPS=0 prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64" | FileCheck %s
// RUN: env PRISM_TENSOR_MAPS=off prism-run %s --entry=weights_k_n --check --dynamic-size=64 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32" | FileCheck %s
// Programs in groups of row blocks (the NVIDIA default is groups of 8):
// 19 row blocks of 8 in groups of 3 (the last of 1) by 5 column blocks.
// RUN: prism-run %s --entry=ragged --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=8 matmul-n=16 matmul-group-m=3 matmul-k=32" | FileCheck %s
// The kernel's own pipeline (prism-kernelize's pipeline-stages and
// dots-in-flight, as tile.pipeline_stages / tile.dots_in_flight on the
// kernel): 3 stages with a wgmma group in flight (fills one step ahead),
// 5 stages (three ahead), and 3 stages waiting for every group (the
// pipeline before 2026-12-03).
// RUN: prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 pipeline-stages=3 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=long_k_n --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 pipeline-stages=5 matmul-k=32" | FileCheck %s
// RUN: prism-run %s --entry=long_k_broadcast_weights --check --dynamic-size=70 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 pipeline-stages=3 dots-in-flight=0 matmul-k=32" | FileCheck %s
// RUN: rm -rf %t.choices && prism-translate %s --entry=long_k --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 pipeline-stages=3 dots-in-flight=0 matmul-k=32" -o %t.choices
// RUN: FileCheck %s --check-prefix=CHOICES < %t.choices/manifest.json
// CHOICES: "stages": 3,
// Warp-specialized (prism-kernelize's warp-specialize, tile.warp_specialize
// on the kernel): a producer warpgroup after the consumers' 256 threads
// (its registers lowered to 40, theirs raised to 232 by setmaxnreg)
// issues every tensor copy, each into a slot its consumers released; the consumers wait for each stage's full barrier, leave a
// wgmma group in flight and release the slot of the group retired (each
// warp meets at bar.warp.sync, then its lane 0 arrives on the slot's
// empty barrier, which expects 8). The consumers' loop has no block
// barrier on the tensor-copy path; their other barriers (the fallback's,
// the epilogue's) are barrier 1 of 256 threads, which the producer
// warpgroup never reaches. The producer's thread acquires the tensor maps
// it copies through (thread 0 does without specialization). The emulator takes the fibers in a new random order at
// each pass (and another with PRISM_EMULATOR_SEED), so that a consumer
// released too early, or a producer that does not wait, is caught (a
// tensor copy over a wgmma in flight, or a barrier's phase overrun).
// Paths: K loops of 6 steps and of 1, the fallback without tensor maps
// (unaligned rows, PRISM_TENSOR_MAPS=0), [K, N] weights, a batch, 64-row
// tiles (256 threads), dots waited for at each step.
// RUN: prism-opt %s --prism-kernelize="matmul-m=128 matmul-n=128 matmul-k=64 warp-specialize=1" --prism-nvidia-lower-tile-to-gpu="warpgroup-mma=true tensor-memory-access=true dynamic-shared-memory-limit=231424" | FileCheck %s --check-prefix=WS
// WS: ragged__0_matmul = {dynamic_shared, shared_bytes = 132160 : i64, stages = 4 : i64, {{.*}}, threads = 384 : i64}
// WS-LABEL: gpu.func @ragged__0_matmul(
// WS-SAME: known_block_size = array<i32: 384, 1, 1>
// WS-COUNT-4: nvvm.mbarrier.init %{{[0-9]+}}, %c1_i32{{(_[0-9]+)?}} :
// WS-COUNT-4: nvvm.mbarrier.init %{{[0-9]+}}, %c8_i32{{(_[0-9]+)?}} :
// WS: gpu.barrier
// WS: nvvm.setmaxregister increase 232
// WS: scf.for {{.*}} iter_args
// WS: nvvm.mbarrier.try_wait.parity
// WS-NEXT: } else {
// WS: nvvm.barrier id = %c1_i32{{[_0-9]*}} number_of_threads = %c256_i32
// WS: nvvm.wgmma.wait.group.sync.aligned 1
// WS-NOT: gpu.barrier
// WS: nvvm.bar.warp.sync
// WS-NOT: gpu.barrier
// WS: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3> -> i64
// WS-NOT: gpu.barrier
// WS: "wgmma.wait_group.sync.aligned 0;"
// WS-NOT: gpu.barrier
// WS: nvvm.barrier id = %c1_i32{{[_0-9]*}} number_of_threads = %c256_i32
// WS-COUNT-8: nvvm.mbarrier.inval
// WS-NOT: gpu.barrier
// WS: } else {
// WS-NEXT: nvvm.setmaxregister decrease 40
// WS: arith.cmpi eq, %{{.*}}, %c256
// WS: scf.if
// WS: nvvm.fence.proxy.acquire
// WS: scf.for
// WS-NOT: gpu.barrier
// WS: nvvm.mbarrier.try_wait.parity
// WS: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c32768_i32
// WS-COUNT-2: nvvm.cp.async.bulk.tensor.shared.cluster.global
// WS: gpu.return
// RUN: prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64 warp-specialize=1" | FileCheck %s
// RUN: env PRISM_EMULATOR_SEED=7 prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64 warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=long_k_n --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32 warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=one_step --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=64 warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=unaligned_rows --check --dynamic-size=140 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32 warp-specialize=1" | FileCheck %s
// RUN: env PRISM_TENSOR_MAPS=0 prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64 warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=batched --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=32 matmul-k=32 warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=long_k --check --dynamic-size=45 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32 warp-specialize=1" | FileCheck %s
// RUN: prism-run %s --entry=long_k --check --dynamic-size=150 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=128 matmul-k=64 dots-in-flight=0 warp-specialize=1" | FileCheck %s
// A matmul of few static rows (a decode step compiled for its batch)
// takes sm_90a's smallest wgmma tile, 64 rows on one warpgroup, instead of
// the default 128.
// RUN: prism-run %s --entry=decode_step --check --dynamic-size=1 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: rm -rf %t.decode && prism-translate %s --entry=decode_step --target=nvidia-emulated:sm_90a -o %t.decode
// RUN: FileCheck %s --check-prefix=DECODE < %t.decode/manifest.json
// DECODE: "decode_step__0_matmul": {
// DECODE-NEXT: "threads": 128,
// DECODE-NEXT: "shared_bytes": 99360,
// A dynamic M gets two kernels on sm_90a, chosen at each launch: 64-row
// tiles on one warpgroup for at most 64 rows, the default 128 rows on two
// warpgroups for more. Both sides of the boundary match float64, and the
// profile of a run names the kernel that ran.
// RUN: prism-run %s --entry=ragged --check --dynamic-size=64 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefixes=CHECK,ROWS
// RUN: prism-run %s --entry=ragged --check --dynamic-size=65 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefixes=CHECK,ROWS
// ROWS: ragged on nvidia-emulated:sm_90a: 1 kernel launches (1 chosen at run time by a dynamic size)
// RUN: rm -rf %t.rows %t.rows5 %t.rows100
// RUN: prism-run %s --entry=ragged --target=nvidia-emulated:sm_90a --compile-only --bundle=%t.rows
// RUN: prism-run %s --entry=ragged --target=nvidia-emulated:sm_90a --dynamic-size=5 --save-case=%t.rows5
// RUN: prism-run %s --entry=ragged --target=nvidia-emulated:sm_90a --dynamic-size=100 --save-case=%t.rows100
// RUN: prism-exec %t.rows ragged %t.rows5/in0.npy %t.rows5/in1.npy --bench=1 --profile | FileCheck %s --check-prefix=FEW
// FEW: profile: 1 launches
// FEW-NEXT: # kernel grid ms GB/s share
// FEW-NEXT: 0 ragged__0_matmul_m64 1x1x1
// RUN: prism-exec %t.rows ragged %t.rows100/in0.npy %t.rows100/in1.npy --bench=1 --profile | FileCheck %s --check-prefix=MANY
// MANY: profile: 1 launches
// MANY-NEXT: # kernel grid ms GB/s share
// MANY-NEXT: 0 ragged__0_matmul 1x1x1
// RUN: FileCheck %s --check-prefix=ROWSMANIFEST < %t.rows/manifest.json
// ROWSMANIFEST: "ragged__0_matmul": {
// ROWSMANIFEST-NEXT: "threads": 256,
// ROWSMANIFEST: "ragged__0_matmul_m64": {
// ROWSMANIFEST-NEXT: "threads": 128,
// ROWSMANIFEST: "kernel": "ragged__0_matmul_m64",
// ROWSMANIFEST: "when": {
// ROWSMANIFEST-NEXT: "group": 0,
// ROWSMANIFEST-NEXT: "size": {
// ROWSMANIFEST: "min": 0,
// ROWSMANIFEST-NEXT: "max": 64
// ROWSMANIFEST: "kernel": "ragged__0_matmul",
// ROWSMANIFEST: "min": 65
// ROWSMANIFEST-NOT: "max"
// RUN: rm -rf %t.two && prism-translate %s --entry=ragged --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=128 matmul-n=64 matmul-k=32" -o %t.two
// RUN: FileCheck %s --check-prefix=TWO < %t.two/manifest.json
// TWO: "threads": 256,
// TWO: "stages": 4,
// TWO: "box": [32, 128],
// RUN: rm -rf %t.dynamic && prism-translate %s --entry=ragged --target=nvidia-emulated:sm_90a --tile-sizes="matmul-m=64 matmul-n=128 matmul-k=64" -o %t.dynamic
// RUN: FileCheck %s --check-prefix=DYNAMIC < %t.dynamic/manifest.json
// DYNAMIC: "shared_bytes": 99360,
// DYNAMIC-NEXT: "stages": 4,
// DYNAMIC-NEXT: "dynamic_shared": true,
// DYNAMIC-NEXT: "tensor_maps": [
// DYNAMIC-NEXT: {
// DYNAMIC-NEXT: "argument": 0,
// DYNAMIC-NEXT: "element_bytes": 2,
// DYNAMIC-NEXT: "box": [64, 64],
// DYNAMIC-NEXT: "swizzle_bytes": 128
// DYNAMIC-NEXT: },
// DYNAMIC-NEXT: {
// DYNAMIC-NEXT: "argument": 1,
// DYNAMIC-NEXT: "element_bytes": 2,
// DYNAMIC-NEXT: "box": [64, 128],
// DYNAMIC-NEXT: "swizzle_bytes": 128
// CHECK: PASS
// CHECK-NOT: FAIL

// The staging is in the kernels (3 stages in the manifest).
// RUN: rm -rf %t && prism-translate %s --entry=ragged --target=nvidia-emulated:sm_80 -o %t
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.json
// MANIFEST: "stages": 3

func.func @decode_step(%x: tensor<5x136xbf16>, %w: tensor<200x136xbf16>, %b: tensor<200xbf16>) -> tensor<5x200xbf16> {
  %y = prism.matmul %x, %w bias(%b : tensor<200xbf16>) transpose_rhs : tensor<5x136xbf16>, tensor<200x136xbf16>
  return %y : tensor<5x200xbf16>
}

func.func @ragged(%x: tensor<?x72xbf16>, %w: tensor<70x72xbf16>) -> tensor<?x70xbf16> {
  %m = prism.matmul %x, %w transpose_rhs : tensor<?x72xbf16>, tensor<70x72xbf16>
  return %m : tensor<?x70xbf16>
}

func.func @unaligned_rows(%x: tensor<?x36xbf16>, %w: tensor<48x36xbf16>) -> tensor<?x48xbf16> {
  %m = prism.matmul %x, %w transpose_rhs : tensor<?x36xbf16>, tensor<48x36xbf16>
  return %m : tensor<?x48xbf16>
}

func.func @one_step(%x: tensor<?x16xbf16>, %w: tensor<32x16xbf16>) -> tensor<?x32xbf16> {
  %m = prism.matmul %x, %w transpose_rhs : tensor<?x16xbf16>, tensor<32x16xbf16>
  return %m : tensor<?x32xbf16>
}

func.func @weights_k_n(%x: tensor<?x96xbf16>, %w: tensor<96x64xbf16>) -> tensor<?x64xbf16> {
  %m = prism.matmul %x, %w : tensor<?x96xbf16>, tensor<96x64xbf16>
  return %m : tensor<?x64xbf16>
}

func.func @batched(%x: tensor<3x?x64xbf16>, %w: tensor<3x64x40xbf16>) -> tensor<3x?x40xbf16> {
  %m = prism.matmul %x, %w : tensor<3x?x64xbf16>, tensor<3x64x40xbf16>
  return %m : tensor<3x?x40xbf16>
}

func.func @broadcast_weights(%x: tensor<3x?x64xbf16>, %w: tensor<40x64xbf16>) -> tensor<3x?x40xbf16> {
  %m = prism.matmul %x, %w transpose_rhs : tensor<3x?x64xbf16>, tensor<40x64xbf16>
  return %m : tensor<3x?x40xbf16>
}

func.func @long_k(%x: tensor<?x328xbf16>, %w: tensor<96x328xbf16>) -> tensor<?x96xbf16> {
  %m = prism.matmul %x, %w transpose_rhs : tensor<?x328xbf16>, tensor<96x328xbf16>
  return %m : tensor<?x96xbf16>
}

func.func @long_k_n(%x: tensor<?x392xbf16>, %w: tensor<392x64xbf16>) -> tensor<?x64xbf16> {
  %m = prism.matmul %x, %w : tensor<?x392xbf16>, tensor<392x64xbf16>
  return %m : tensor<?x64xbf16>
}

func.func @long_k_broadcast_weights(%x: tensor<3x?x256xbf16>, %w: tensor<40x256xbf16>) -> tensor<3x?x40xbf16> {
  %m = prism.matmul %x, %w transpose_rhs : tensor<3x?x256xbf16>, tensor<40x256xbf16>
  return %m : tensor<3x?x40xbf16>
}
