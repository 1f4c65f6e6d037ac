// RUN: prism-opt %s --prism-sink-views -split-input-file | FileCheck %s

// Elementwise ops on transposes of one permutation compute on the sources
// (contiguous rows) and the transpose moves below them.
// CHECK-LABEL: func.func @binary
// CHECK-NEXT: %[[A:.+]] = prism.add %arg0, %arg1 : tensor<4x?x8xf32>, tensor<4x?x8xf32>
// CHECK-NEXT: %[[T:.+]] = prism.transpose %[[A]] perm = [1, 0, 2] : tensor<4x?x8xf32>
// CHECK-NEXT: return %[[T]]
func.func @binary(%x: tensor<4x?x8xf32>, %y: tensor<4x?x8xf32>) -> tensor<?x4x8xf32> {
  %a = prism.transpose %x perm = [1, 0, 2] : tensor<4x?x8xf32>
  %b = prism.transpose %y perm = [1, 0, 2] : tensor<4x?x8xf32>
  %c = prism.add %a, %b : tensor<?x4x8xf32>, tensor<?x4x8xf32>
  return %c : tensor<?x4x8xf32>
}

// -----

// Through a chain of unary ops, with a rank-0 constant operand, and a cast.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT: %[[C:.+]] = arith.constant
// CHECK-NEXT: %[[E:.+]] = prism.exp %arg0 : tensor<16x8xf32>
// CHECK-NEXT: %[[M:.+]] = prism.mul %[[E]], %[[C]] : tensor<16x8xf32>, tensor<f32>
// CHECK-NEXT: %[[K:.+]] = prism.cast %[[M]] : tensor<16x8xf32> to tensor<16x8xbf16>
// CHECK-NEXT: %[[T:.+]] = prism.transpose %[[K]] perm = [1, 0] : tensor<16x8xbf16>
// CHECK-NEXT: return %[[T]]
func.func @chain(%x: tensor<16x8xf32>) -> tensor<8x16xbf16> {
  %c = arith.constant dense<2.0> : tensor<f32>
  %t = prism.transpose %x perm = [1, 0] : tensor<16x8xf32>
  %e = prism.exp %t : tensor<8x16xf32>
  %m = prism.mul %e, %c : tensor<8x16xf32>, tensor<f32>
  %k = prism.cast %m : tensor<8x16xf32> to tensor<8x16xbf16>
  return %k : tensor<8x16xbf16>
}

// -----

// Left alone: different permutations, a transpose with another use, a
// broadcast operand.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-2: prism.transpose
// CHECK: prism.add
// CHECK: prism.transpose
// CHECK: prism.exp
// CHECK: prism.mul
func.func @kept(%x: tensor<2x3x4xf32>, %y: tensor<3x4x2xf32>, %z: tensor<4x3xf32>, %b: tensor<4xf32>) -> (tensor<3x2x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
  %a = prism.transpose %x perm = [1, 0, 2] : tensor<2x3x4xf32>
  %c = prism.transpose %y perm = [0, 2, 1] : tensor<3x4x2xf32>
  %d = prism.add %a, %c : tensor<3x2x4xf32>, tensor<3x2x4xf32>
  %t = prism.transpose %z perm = [1, 0] : tensor<4x3xf32>
  %e = prism.exp %t : tensor<3x4xf32>
  %u = prism.transpose %z perm = [1, 0] : tensor<4x3xf32>
  %m = prism.mul %u, %b : tensor<3x4xf32>, tensor<4xf32>
  return %d, %e, %t, %m : tensor<3x2x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// A reshape that only prepends unit dims to a broadcast operand is
// redundant (broadcast elimination).
// CHECK-LABEL: func.func @rank_expanding
// CHECK-NEXT: %[[A:.+]] = prism.add %arg0, %arg1 : tensor<2x?x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[A]]
func.func @rank_expanding(%x: tensor<2x?x64xf32>, %b: tensor<64xf32>) -> tensor<2x?x64xf32> {
  %r = prism.reshape %b : tensor<64xf32> to tensor<1x1x64xf32>
  %a = prism.add %x, %r : tensor<2x?x64xf32>, tensor<1x1x64xf32>
  return %a : tensor<2x?x64xf32>
}
