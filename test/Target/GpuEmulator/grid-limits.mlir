// The GPU emulator refuses a grid that a GPU would refuse (y and z at most
// 65535 blocks, x at most 2^31 - 1), with the CUDA runtime's message.
//
// A bhsd rope over 70000 positions puts its blocks of positions on x and
// batch * heads on y, so it launches; bshd puts the tokens on x. (Small
// rows: these cases also travel to a GPU machine, within 64 MiB.)
// RUN: prism-run %s --entry=rope_long_bhsd --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=rope_long_bshd --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a | FileCheck %s
//
// Element-wise kernels and embeddings put their rows and each row's
// blocks of columns on x (the manifest's outer sizes), so 70000 rows
// launch: rows of 2 columns and 70000 embedding indices; rows of two
// blocks with a ragged second (1030 columns: 1024 per program on NVIDIA)
// check the program's row and block (at fewer rows: the emulator takes
// 50 s for 70000 of them).
// RUN: prism-run %s --entry=many_rows --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=many_ragged_rows --check --dynamic-size=301 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=many_indices --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-opt %s -prism-kernelize="elementwise-block=1024" | FileCheck %s --check-prefix=GRID
// CHECK: PASS
// CHECK-NOT: FAIL
// GRID: grid = [{outer = [array<i64: 1, 1, 0, 0>], product = [array<i64: 2, 1>], tile = 1024 : i64}, {product = [], tile = 1 : i64}, {product = [], tile = 1 : i64}], kernel = @many_rows__0_add
// GRID: grid = [{outer = [array<i64: 1, 1, 1, 0>], product = [array<i64: 4, 1>], tile = 1024 : i64}, {product = [], tile = 1 : i64}, {product = [], tile = 1 : i64}], kernel = @many_indices__0_embedding
//
// A batched matmul puts its batch on z: more than 65535 is a launch no
// GPU takes (a known limit), refused with the CUDA runtime's message.
// RUN: not prism-run %s --entry=many_products --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a 2>&1 | FileCheck %s --check-prefix=LIMIT
// LIMIT: kernel 'many_products__0_matmul' needs a grid of 1 x 1 x 70000 blocks, beyond the device's limits (2147483647 x 65535 x 65535)

func.func @rope_long_bhsd(%x: tensor<1x1x?x4xf32>, %p: tensor<?xi32>) -> tensor<1x1x?x4xf32> {
  %0 = prism.rope neox bhsd %x, %p : tensor<1x1x?x4xf32>, tensor<?xi32>
  return %0 : tensor<1x1x?x4xf32>
}

func.func @rope_long_bshd(%x: tensor<1x?x1x4xf32>, %p: tensor<1x?xi32>) -> tensor<1x?x1x4xf32> {
  %0 = prism.rope neox bshd %x, %p : tensor<1x?x1x4xf32>, tensor<1x?xi32>
  return %0 : tensor<1x?x1x4xf32>
}

func.func @many_rows(%x: tensor<?x2xf32>, %y: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %0 = prism.add %x, %y : tensor<?x2xf32>, tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

func.func @many_ragged_rows(%x: tensor<?x1030xbf16>, %y: tensor<?x1030xbf16>) -> tensor<?x1030xbf16> {
  %0 = prism.mul %x, %y : tensor<?x1030xbf16>, tensor<?x1030xbf16>
  return %0 : tensor<?x1030xbf16>
}

func.func @many_indices(%table: tensor<100x4xbf16>, %ids: tensor<?xi32>) -> tensor<?x4xbf16> {
  %0 = prism.embedding %table, %ids : tensor<100x4xbf16>, tensor<?xi32>
  return %0 : tensor<?x4xbf16>
}

func.func @many_products(%a: tensor<?x2x8xf32>, %b: tensor<?x8x2xf32>) -> tensor<?x2x2xf32> {
  %0 = prism.matmul %a, %b : tensor<?x2x8xf32>, tensor<?x8x2xf32>
  return %0 : tensor<?x2x2xf32>
}
