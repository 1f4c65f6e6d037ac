// Split-K: a matmul whose output has few tiles for the target's SMs sums
// its K range in parts, each program writing an f32 partial, and one
// element-wise kernel adds the parts up with the epilogue (bias,
// conversion, a fused gate or residual). Checked against float64 under
// the GPU emulator, on the CPU, and on the other targets.
//
// The target's choice: on sm_90a, 8 rows x 256 columns of bf16 are 2
// tiles (64 x 128) for 132 SMs, and K = 2048 is 32 steps of 64, so 4
// parts of 8 steps. A dynamic M gets a kernel for at most 64 rows and
// one for more, chosen at each run; the few-rows side is split as a
// static M of 64 would be (its products and their sum kernel, all with
// the range [0, 64]), the other is the one fused kernel. Both sides pass
// (at 5 and 64 rows, and at 7 and 65 with a fused residual, which the sum
// kernel adds).
// RUN: prism-run %s --entry=decode --check --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=AUTO
// AUTO: decode on nvidia-emulated:sm_90a: 2 kernel launches
// AUTO: PASS
// AMD fills its compute units the same way (gfx942: 304; its 32 x 32
// tiles make 8 x 256 a row of 8 tiles, K = 2048 in 8 parts of 8 steps).
// RUN: %if prism-target-amd %{ prism-run %s --entry=decode --check --target=amd-emulated:gfx942 | FileCheck %s --check-prefix=AMD-AUTO %}
// AMD-AUTO: decode on amd-emulated:gfx942: 2 kernel launches
// AMD-AUTO: PASS
// (One 128-column tile and K = 2048 split in 4: small weights, since the
// GPU harness carries these cases to the hardware.)
// RUN: prism-run %s --entry=narrow_rows_chosen_at_run_time --check --dynamic-size=5 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=ROWS
// RUN: prism-run %s --entry=narrow_rows_chosen_at_run_time --check --dynamic-size=64 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=ROWS
// RUN: prism-run %s --entry=residual_rows_chosen_at_run_time --check --dynamic-size=7 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=ROWS
// RUN: prism-run %s --entry=residual_rows_chosen_at_run_time --check --dynamic-size=65 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=ROWS
// ROWS: 2 kernel launches (1 chosen at run time by a dynamic size)
// ROWS: PASS
// ROWS-NOT: FAIL
// RUN: prism-opt %s -prism-kernelize="matrix-core-matmul-m=128 matrix-core-matmul-n=128 matrix-core-matmul-k=64 matrix-core-min-m=64 matmul-split-k-fill=132" | FileCheck %s --check-prefix=PLAN
// PLAN-LABEL: func.func @decode
// PLAN-SAME: grid = [{product = [array<i64: 8, 1>], tile = 64 : i64}, {product = [array<i64: 256, 1>], tile = 128 : i64}, {product = [array<i64: 4, 1>], tile = 1 : i64}], kernel = @decode__0_matmul}
// PLAN-SAME: kernel = @decode__1_matmul_sum}
// PLAN-LABEL: func.func @rows_chosen_at_run_time
// PLAN-SAME: {args = array<i64: 0, 1, 3>, grid = [{product = [array<i64: 1, 1, 0, 0>], tile = 64 : i64}, {product = [array<i64: 256, 1>], tile = 128 : i64}, {product = [array<i64: 4, 1>], tile = 1 : i64}], kernel = @{{[a-z_]+}}__0_matmul{{(_m64)?}}, when = {group = 0 : i64, max = 64 : i64, min = 0 : i64
// PLAN-SAME: {args = array<i64: 3, 2>, {{.*}} kernel = @{{[a-z_]+}}__1_matmul_sum, when = {group = 0 : i64, max = 64 : i64, min = 0 : i64
// PLAN-SAME: {args = array<i64: 0, 1, 2>, grid = [{product = [array<i64: 1, 1, 0, 0>], tile = 128 : i64}, {product = [array<i64: 256, 1>], tile = 128 : i64}, {product = [], tile = 1 : i64}], kernel = @rows_chosen_at_run_time__0_matmul, when = {group = 0 : i64, min = 65 : i64
// PLAN-SAME: outputs = array<i64: 2>
//
// Parts forced by matmul-split-k: uneven parts (f32, K = 500 in 16 steps of
// 32: 5, 5, 6) with a bias; parts with no K left (a dynamic K of 40 is one
// step of 64: parts 1 to 3 are zeros; a static K takes no more parts than
// steps); a batch with a transposed lhs; both kernels of a dynamic M; a
// fused SwiGLU MLP (two products, one sum kernel) and a matmul with a
// residual add. Ascend's cube starts its accumulator at a part's first
// step, so it splits a static K only (into at most its steps: 2 of 32 for
// K = 40).
// RUN: prism-run %s --entry=bias --check --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=3" | FileCheck %s
// RUN: prism-run %s --entry=short_k --check --dynamic-size=40 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=4" | FileCheck %s --check-prefix=EMPTY
// RUN: prism-run %s --entry=short_k --check --dynamic-size=40 --target=cpu --tile-sizes="matmul-split-k=4" | FileCheck %s --check-prefix=EMPTY
// RUN: prism-run %s --entry=short_k --check --dynamic-size=40 --target=ascend --tile-sizes="matmul-split-k=4" | FileCheck %s
// RUN: prism-run %s --entry=static_short_k --check --target=ascend --tile-sizes="matmul-split-k=4" | FileCheck %s
// RUN: prism-run %s --entry=static_short_k --check --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=4" | FileCheck %s --check-prefix=UNSPLIT
// RUN: prism-opt %s -prism-kernelize="matmul-k=32 matmul-split-k=4 separate-matmul-epilogue=true" | FileCheck %s --check-prefix=CUBE
// EMPTY: 2 kernel launches
// EMPTY: PASS
// UNSPLIT: 1 kernel launches
// UNSPLIT: PASS
// CUBE-LABEL: func.func @short_k
// CUBE-NOT: _sum
// CUBE: kernel = @short_k__1_matmul_epilogue
// CUBE-LABEL: func.func @static_short_k
// CUBE-SAME: {product = [array<i64: 2, 1>], tile = 1 : i64}], kernel = @static_short_k__0_matmul}
// CUBE-SAME: kernel = @static_short_k__1_matmul_sum}
// RUN: prism-run %s --entry=batched --check --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=2" | FileCheck %s
// RUN: prism-run %s --entry=rows_chosen_at_run_time --check --dynamic-size=40 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=2" | FileCheck %s
// RUN: prism-run %s --entry=rows_chosen_at_run_time --check --dynamic-size=100 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=2" | FileCheck %s
// RUN: prism-run %s --entry=mlp --check --dynamic-size=9 --target=nvidia-emulated:sm_90a --tile-sizes="matmul-split-k=2" | FileCheck %s --check-prefix=MLP
// RUN: prism-run %s --entry=mlp --check --dynamic-size=9 --target=nvidia-emulated:sm_80 --tile-sizes="matmul-split-k=3" | FileCheck %s --check-prefix=MLP
// RUN: prism-run %s --entry=mlp --check --dynamic-size=9 --target=cpu --tile-sizes="matmul-split-k=2" | FileCheck %s --check-prefix=MLP
// RUN: prism-run %s --entry=mlp --check --dynamic-size=9 --target=amd-emulated:gfx942 --tile-sizes="matmul-split-k=2" | FileCheck %s --check-prefix=MLP
// RUN: prism-run %s --entry=mlp --check --dynamic-size=9 --target=ascend --tile-sizes="matmul-split-k=2" | FileCheck %s --check-prefix=MLP
// RUN: prism-run %s --entry=batched --check --target=cpu --tile-sizes="matmul-split-k=3" | FileCheck %s
// CHECK: PASS
// CHECK-NOT: FAIL
// The norm, the gate and up products and their sum kernel, the down
// product and its sum kernel with the residual.
// MLP: 6 kernel launches
// MLP: PASS
// MLP-NOT: FAIL
//
// A split beyond what the sum kernel should unroll is refused.
// RUN: not prism-run %s --entry=bias --target=cpu --tile-sizes="matmul-split-k=17" 2>&1 | FileCheck %s --check-prefix=TOO-MANY
// TOO-MANY: matmul-split-k must be at most 16, not 17

func.func @decode(%x: tensor<8x2048xbf16>, %w: tensor<256x2048xbf16>) -> tensor<8x256xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<8x2048xbf16>, tensor<256x2048xbf16>
  return %0 : tensor<8x256xbf16>
}

func.func @rows_chosen_at_run_time(%x: tensor<?x2048xbf16>, %w: tensor<256x2048xbf16>) -> tensor<?x256xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<?x2048xbf16>, tensor<256x2048xbf16>
  return %0 : tensor<?x256xbf16>
}

func.func @narrow_rows_chosen_at_run_time(%x: tensor<?x2048xbf16>, %w: tensor<128x2048xbf16>) -> tensor<?x128xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<?x2048xbf16>, tensor<128x2048xbf16>
  return %0 : tensor<?x128xbf16>
}

func.func @residual_rows_chosen_at_run_time(%x: tensor<?x2048xbf16>, %w: tensor<128x2048xbf16>, %r: tensor<?x128xbf16>) -> tensor<?x128xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<?x2048xbf16>, tensor<128x2048xbf16>
  %1 = prism.add %0, %r : tensor<?x128xbf16>, tensor<?x128xbf16>
  return %1 : tensor<?x128xbf16>
}

func.func @bias(%x: tensor<8x500xf32>, %w: tensor<500x96xf32>, %b: tensor<96xf32>) -> tensor<8x96xf32> {
  %0 = prism.matmul %x, %w bias(%b : tensor<96xf32>) : tensor<8x500xf32>, tensor<500x96xf32>
  return %0 : tensor<8x96xf32>
}

func.func @short_k(%x: tensor<16x?xbf16>, %w: tensor<?x64xbf16>) -> tensor<16x64xbf16> {
  %0 = prism.matmul %x, %w : tensor<16x?xbf16>, tensor<?x64xbf16>
  return %0 : tensor<16x64xbf16>
}

func.func @static_short_k(%x: tensor<16x40xbf16>, %w: tensor<40x64xbf16>) -> tensor<16x64xbf16> {
  %0 = prism.matmul %x, %w : tensor<16x40xbf16>, tensor<40x64xbf16>
  return %0 : tensor<16x64xbf16>
}

func.func @batched(%x: tensor<2x300x24xbf16>, %w: tensor<2x300x40xbf16>) -> tensor<2x24x40xbf16> {
  %0 = prism.matmul %x, %w transpose_lhs : tensor<2x300x24xbf16>, tensor<2x300x40xbf16>
  return %0 : tensor<2x24x40xbf16>
}

func.func @mlp(%x: tensor<1x?x128xbf16>, %norm_w: tensor<128xbf16>, %w_gate: tensor<344x128xbf16>,
               %w_up: tensor<344x128xbf16>, %w_down: tensor<128x344xbf16>) -> tensor<1x?x128xbf16> {
  %h = prism.rms_norm %x, %norm_w eps = 1.0e-5 : tensor<1x?x128xbf16>, tensor<128xbf16>
  %gate = prism.matmul %h, %w_gate transpose_rhs : tensor<1x?x128xbf16>, tensor<344x128xbf16>
  %up = prism.matmul %h, %w_up transpose_rhs : tensor<1x?x128xbf16>, tensor<344x128xbf16>
  %act = prism.swiglu %gate, %up : tensor<1x?x344xbf16>
  %down = prism.matmul %act, %w_down transpose_rhs : tensor<1x?x344xbf16>, tensor<128x344xbf16>
  %out = prism.add %x, %down : tensor<1x?x128xbf16>, tensor<1x?x128xbf16>
  return %out : tensor<1x?x128xbf16>
}
