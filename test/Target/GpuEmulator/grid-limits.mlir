// The GPU emulator refuses a grid that a GPU would refuse (y and z at most
// 65535 blocks, x at most 2^31 - 1), with the CUDA runtime's message.
//
// A bhsd rope over 70000 positions puts its blocks of positions on x and
// batch * heads on y, so it launches; bshd puts the tokens on x.
// RUN: prism-run %s --entry=rope_long_bhsd --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=rope_long_bshd --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a | FileCheck %s
// CHECK: PASS
// CHECK-NOT: FAIL
//
// An element-wise kernel puts the rows on y: more than 65535 rows is a
// launch no GPU takes (a known limit of the element-wise grid).
// RUN: not prism-run %s --entry=many_rows --check --dynamic-size=70000 --target=nvidia-emulated:sm_90a 2>&1 | FileCheck %s --check-prefix=LIMIT
// LIMIT: kernel 'many_rows__0_add' needs a grid of 1 x 70000 x 1 blocks, beyond the device's limits (2147483647 x 65535 x 65535)

func.func @rope_long_bhsd(%x: tensor<1x2x?x8xf32>, %p: tensor<?xi32>) -> tensor<1x2x?x8xf32> {
  %0 = prism.rope neox bhsd %x, %p : tensor<1x2x?x8xf32>, tensor<?xi32>
  return %0 : tensor<1x2x?x8xf32>
}

func.func @rope_long_bshd(%x: tensor<1x?x2x8xf32>, %p: tensor<1x?xi32>) -> tensor<1x?x2x8xf32> {
  %0 = prism.rope neox bshd %x, %p : tensor<1x?x2x8xf32>, tensor<1x?xi32>
  return %0 : tensor<1x?x2x8xf32>
}

func.func @many_rows(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = prism.add %x, %y : tensor<?x8xf32>, tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
