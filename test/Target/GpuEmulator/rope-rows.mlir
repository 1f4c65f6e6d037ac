// A rope program rotates several vectors along d2 when half the head dim is
// at least 16 pairs: heads of a token (bshd; the angles computed once per
// column and broadcast over them), or positions of a head (bhsd; one
// position and its angles per row). Checked against float64 under the GPU
// emulators and on the CPU and Ascend: heads that do not fill the last
// program (6 heads of 8 per program), a dynamic number of positions, cos/sin
// tables, interleaved pairs (a transposed view) and bf16.
// RUN: prism-run %s --entry=heads --check --dynamic-size=5 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=positions --check --dynamic-size=37 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=tables --check --dynamic-size=9 --target=nvidia-emulated:sm_80 | FileCheck %s
// RUN: prism-run %s --entry=tables_bhsd --check --dynamic-size=19 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=tables_bhsd --check --dynamic-size=19 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=positions --check --dynamic-size=21 --target=nvidia-emulated:sm_80 | FileCheck %s
// RUN: %if prism-target-amd %{ prism-run %s --entry=heads --check --dynamic-size=5 --target=amd-emulated:gfx942 | FileCheck %s %}
// RUN: prism-run %s --entry=heads --check --dynamic-size=5 --target=cpu | FileCheck %s
// RUN: prism-run %s --entry=positions --check --dynamic-size=37 --target=cpu | FileCheck %s
// RUN: prism-run %s --entry=tables --check --dynamic-size=9 --target=cpu | FileCheck %s
// RUN: prism-run %s --entry=heads --check --dynamic-size=5 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=positions --check --dynamic-size=37 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=tables --check --dynamic-size=9 --target=ascend | FileCheck %s
// CHECK: PASS
// CHECK-NOT: FAIL

// The plan: 8 heads of 32 pairs per program (NVIDIA: element-wise block
// 1024 / 32, at most the 6 heads rounded up), angles per column broadcast.
// RUN: prism-opt %s -prism-kernelize="elementwise-block=256 row-block=512" | FileCheck %s --check-prefix=PLAN
// PLAN-LABEL: func.func @heads(
// PLAN-SAME: {product = [array<i64: 6, 1>], tile = 8 : i64}
// PLAN: tile.broadcast {{.*}} : tensor<32xf32> -> tensor<8x32xf32>
// PLAN: tile.load {{.*}} -> tensor<1x1x8x1x32xbf16>

func.func @heads(%x: tensor<2x?x6x64xbf16>, %p: tensor<2x?xi32>) -> tensor<2x?x6x64xbf16> {
  %0 = prism.rope neox bshd %x, %p theta = 1.0e4 : tensor<2x?x6x64xbf16>, tensor<2x?xi32>
  return %0 : tensor<2x?x6x64xbf16>
}

func.func @positions(%x: tensor<1x3x?x64xf32>, %p: tensor<?xi32>) -> (tensor<1x3x?x64xf32>, tensor<1x3x?x64xf32>) {
  %0 = prism.rope neox bhsd %x, %p : tensor<1x3x?x64xf32>, tensor<?xi32>
  %1 = prism.rope interleaved bhsd %x, %p : tensor<1x3x?x64xf32>, tensor<?xi32>
  return %0, %1 : tensor<1x3x?x64xf32>, tensor<1x3x?x64xf32>
}

func.func @tables(%x: tensor<1x?x4x32xf32>, %p: tensor<1x?xi32>, %c: tensor<16x16xf32>, %s: tensor<16x16xf32>) -> tensor<1x?x4x32xf32> {
  %0 = prism.rope neox bshd %x, %p tables(%c, %s : tensor<16x16xf32>, tensor<16x16xf32>) : tensor<1x?x4x32xf32>, tensor<1x?xi32>
  return %0 : tensor<1x?x4x32xf32>
}

func.func @tables_bhsd(%x: tensor<2x2x?x32xbf16>, %p: tensor<2x?xi32>, %c: tensor<24x16xf32>, %s: tensor<24x16xf32>) -> tensor<2x2x?x32xbf16> {
  %0 = prism.rope neox bhsd %x, %p tables(%c, %s : tensor<24x16xf32>, tensor<24x16xf32>) : tensor<2x2x?x32xbf16>, tensor<2x?xi32>
  return %0 : tensor<2x2x?x32xbf16>
}
