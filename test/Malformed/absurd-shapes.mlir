// Shapes at the edge of int64: diagnostics, never an overflow or a crash.
// RUN: not prism-opt %s -split-input-file 2>&1 | FileCheck %s
// CHECK: error: 'prism.reshape' op element count of 'input' overflows a 64-bit integer
func.func @f(%x: tensor<9223372036854775807x4xf32>) {
  %0 = prism.reshape %x : tensor<9223372036854775807x4xf32> to tensor<?xf32>
  return
}
// -----
// CHECK: error: 'prism.reshape' op element count of result overflows a 64-bit integer
func.func @g(%x: tensor<?xf32>) {
  %0 = prism.reshape %x : tensor<?xf32> to tensor<4611686018427387904x4xf32>
  return
}
// -----
// CHECK: error: 'prism.attention' op query heads (3) must be a multiple of key/value heads (0) for grouped-query attention
func.func @h(%q: tensor<1x3x8x64xf32>, %k: tensor<1x0x8x64xf32>) {
  %0 = prism.attention %q, %k, %k : tensor<1x3x8x64xf32>, tensor<1x0x8x64xf32>, tensor<1x0x8x64xf32>
  return
}
// -----
// CHECK: error: 'prism.softmax' op attribute 'axis' (9223372036854775807) is out of range for rank 2
func.func @i(%x: tensor<4x4xf32>) {
  %0 = prism.softmax %x axis = 9223372036854775807 : tensor<4x4xf32>
  return
}
// -----
// CHECK: error: integer constant out of range for attribute
func.func @j(%x: tensor<4x4xf32>) {
  %0 = prism.softmax %x axis = 99999999999999999999999 : tensor<4x4xf32>
  return
}
// -----
// CHECK: error: 'prism.transpose' op attribute 'perm' must be a permutation of [0, 2), but -9223372036854775808 is out of range
func.func @k(%x: tensor<4x4xf32>) {
  %0 = prism.transpose %x perm = [1, -9223372036854775808] : tensor<4x4xf32>
  return
}
