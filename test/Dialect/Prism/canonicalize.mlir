// RUN: prism-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>)
// CHECK-NOT: prism.transpose
// CHECK: return %[[X]]
func.func @transpose_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = prism.transpose %x perm = [0, 1] : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_of_transpose_composes
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.+]] = prism.transpose %[[X]] perm = [2, 0, 1] : tensor<2x3x4xf32>
// CHECK-NOT: prism.transpose
// CHECK: return %[[T]] : tensor<4x2x3xf32>
func.func @transpose_of_transpose_composes(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = prism.transpose %x perm = [1, 2, 0] : tensor<2x3x4xf32>
  %1 = prism.transpose %0 perm = [1, 2, 0] : tensor<3x4x2xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_of_transpose_cancels
// CHECK-SAME: (%[[X:.+]]: tensor<1x?x32x128xbf16>)
// CHECK-NOT: prism.transpose
// CHECK: return %[[X]]
func.func @transpose_of_transpose_cancels(%x: tensor<1x?x32x128xbf16>) -> tensor<1x?x32x128xbf16> {
  %0 = prism.transpose %x perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
  %1 = prism.transpose %0 perm = [0, 2, 1, 3] : tensor<1x32x?x128xbf16>
  return %1 : tensor<1x?x32x128xbf16>
}

// -----

// Moving only size-1 dimensions keeps the data order: a reshape.
// CHECK-LABEL: func.func @transpose_of_unit_dims_is_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<1x?x1x64xf16>)
// CHECK: %[[R:.+]] = prism.reshape %[[X]] : tensor<1x?x1x64xf16> to tensor<?x1x1x64xf16>
// CHECK: return %[[R]]
func.func @transpose_of_unit_dims_is_reshape(%x: tensor<1x?x1x64xf16>) -> tensor<?x1x1x64xf16> {
  %0 = prism.transpose %x perm = [1, 2, 0, 3] : tensor<1x?x1x64xf16>
  return %0 : tensor<?x1x1x64xf16>
}

// -----

// Negative: a transpose that reorders two non-unit dimensions moves data.
// CHECK-LABEL: func.func @transpose_moving_data_stays
// CHECK: prism.transpose %{{.*}} perm = [0, 2, 1, 3]
func.func @transpose_moving_data_stays(%x: tensor<1x?x32x128xbf16>) -> tensor<1x32x?x128xbf16> {
  %0 = prism.transpose %x perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
  return %0 : tensor<1x32x?x128xbf16>
}

// -----

// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.+]]: tensor<4x?xf32>)
// CHECK-NOT: prism.reshape
// CHECK: return %[[X]]
func.func @reshape_identity(%x: tensor<4x?xf32>) -> tensor<4x?xf32> {
  %0 = prism.reshape %x : tensor<4x?xf32> to tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.+]] = prism.reshape %[[X]] : tensor<2x3x4xf32> to tensor<4x6xf32>
// CHECK-NOT: prism.reshape
// CHECK: return %[[R]]
func.func @reshape_chain(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = prism.reshape %x : tensor<2x3x4xf32> to tensor<24xf32>
  %1 = prism.reshape %0 : tensor<24xf32> to tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.+]]: tensor<1x?x4096xbf16>)
// CHECK-NOT: prism.reshape
// CHECK: return %[[X]]
func.func @reshape_round_trip(%x: tensor<1x?x4096xbf16>) -> tensor<1x?x4096xbf16> {
  %0 = prism.reshape %x : tensor<1x?x4096xbf16> to tensor<1x?x32x128xbf16>
  %1 = prism.reshape %0 : tensor<1x?x32x128xbf16> to tensor<1x?x4096xbf16>
  return %1 : tensor<1x?x4096xbf16>
}

// -----

// CHECK-LABEL: func.func @cast_identity
// CHECK-SAME: (%[[X:.+]]: tensor<8xbf16>)
// CHECK-NOT: prism.cast
// CHECK: return %[[X]]
func.func @cast_identity(%x: tensor<8xbf16>) -> tensor<8xbf16> {
  %0 = prism.cast %x : tensor<8xbf16> to tensor<8xbf16>
  return %0 : tensor<8xbf16>
}

// -----

// bf16 -> f32 is exact, so bf16 -> f32 -> f16 rounds once, like bf16 -> f16.
// CHECK-LABEL: func.func @cast_through_wider_type
// CHECK-SAME: (%[[X:.+]]: tensor<8xbf16>)
// CHECK: %[[C:.+]] = prism.cast %[[X]] : tensor<8xbf16> to tensor<8xf16>
// CHECK-NOT: prism.cast
// CHECK: return %[[C]]
func.func @cast_through_wider_type(%x: tensor<8xbf16>) -> tensor<8xf16> {
  %0 = prism.cast %x : tensor<8xbf16> to tensor<8xf32>
  %1 = prism.cast %0 : tensor<8xf32> to tensor<8xf16>
  return %1 : tensor<8xf16>
}

// -----

// CHECK-LABEL: func.func @cast_round_trip_exact
// CHECK-SAME: (%[[X:.+]]: tensor<8xi8>)
// CHECK-NOT: prism.cast
// CHECK: return %[[X]]
func.func @cast_round_trip_exact(%x: tensor<8xi8>) -> tensor<8xi8> {
  %0 = prism.cast %x : tensor<8xi8> to tensor<8xf16>
  %1 = prism.cast %0 : tensor<8xf16> to tensor<8xi8>
  return %1 : tensor<8xi8>
}

// -----

// Negative: f32 -> bf16 rounds, so the round trip is not the identity.
// CHECK-LABEL: func.func @cast_round_trip_lossy
// CHECK: prism.cast %{{.*}} : tensor<8xf32> to tensor<8xbf16>
// CHECK: prism.cast %{{.*}} : tensor<8xbf16> to tensor<8xf32>
func.func @cast_round_trip_lossy(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = prism.cast %x : tensor<8xf32> to tensor<8xbf16>
  %1 = prism.cast %0 : tensor<8xbf16> to tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// Negative: f8E4M3FN does not hold every i8 (it has 3 mantissa bits).
// CHECK-LABEL: func.func @cast_i8_through_f8
// CHECK: prism.cast %{{.*}} : tensor<8xi8> to tensor<8xf8E4M3FN>
// CHECK: prism.cast %{{.*}} : tensor<8xf8E4M3FN> to tensor<8xf32>
func.func @cast_i8_through_f8(%x: tensor<8xi8>) -> tensor<8xf32> {
  %0 = prism.cast %x : tensor<8xi8> to tensor<8xf8E4M3FN>
  %1 = prism.cast %0 : tensor<8xf8E4M3FN> to tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// CHECK-LABEL: func.func @idempotent_unary
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK: %[[A:.+]] = prism.abs %[[X]]
// CHECK-NOT: prism.abs
// CHECK: %[[R:.+]] = prism.relu %[[X]]
// CHECK-NOT: prism.relu
// CHECK-NOT: prism.neg
// CHECK: return %[[A]], %[[R]], %[[X]]
func.func @idempotent_unary(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = prism.abs %x : tensor<4xf32>
  %1 = prism.abs %0 : tensor<4xf32>
  %2 = prism.relu %x : tensor<4xf32>
  %3 = prism.relu %2 : tensor<4xf32>
  %4 = prism.neg %x : tensor<4xf32>
  %5 = prism.neg %4 : tensor<4xf32>
  return %1, %3, %5 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @exact_identities
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xbf16>)
// CHECK-NOT: prism.
// CHECK: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
func.func @exact_identities(%x: tensor<2x4xbf16>)
    -> (tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>) {
  %one = arith.constant dense<1.0> : tensor<4xbf16>
  %mzero = arith.constant dense<-0.0> : tensor<bf16>
  %zero = arith.constant dense<0.0> : tensor<2x4xbf16>
  %0 = prism.mul %x, %one : tensor<2x4xbf16>, tensor<4xbf16>
  %1 = prism.mul %one, %x : tensor<4xbf16>, tensor<2x4xbf16>
  %2 = prism.div %x, %one : tensor<2x4xbf16>, tensor<4xbf16>
  %3 = prism.add %x, %mzero : tensor<2x4xbf16>, tensor<bf16>
  %4 = prism.sub %x, %zero : tensor<2x4xbf16>, tensor<2x4xbf16>
  %5 = prism.max %x, %x : tensor<2x4xbf16>, tensor<2x4xbf16>
  return %0, %1, %2, %3, %4, %5 : tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>, tensor<2x4xbf16>
}

// -----

// Negative: x + 0.0 is not x for x = -0.0; x * 1 that broadcasts x to a
// larger shape is not x; x * 2 is not x.
// CHECK-LABEL: func.func @not_identities
// CHECK: prism.add
// CHECK: prism.mul
// CHECK: prism.mul
// CHECK: prism.min
func.func @not_identities(%x: tensor<4xf32>, %y: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %ones = arith.constant dense<1.0> : tensor<2x4xf32>
  %two = arith.constant dense<2.0> : tensor<4xf32>
  %0 = prism.add %x, %zero : tensor<4xf32>, tensor<4xf32>
  %1 = prism.mul %x, %ones : tensor<4xf32>, tensor<2x4xf32>
  %2 = prism.mul %x, %two : tensor<4xf32>, tensor<4xf32>
  %3 = prism.min %x, %y : tensor<4xf32>, tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @softmax_axis_normalized
// CHECK: prism.softmax %{{.*}} axis = 2 scale = 5.000000e-01 : tensor<2x?x8xf32>
func.func @softmax_axis_normalized(%x: tensor<2x?x8xf32>) -> tensor<2x?x8xf32> {
  %0 = prism.softmax %x axis = -1 scale = 0.5 : tensor<2x?x8xf32>
  return %0 : tensor<2x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_axes_normalized
// CHECK: prism.reduce sum %{{.*}} axes = [0, 2] : tensor<2x?x8xf32>
func.func @reduce_axes_normalized(%x: tensor<2x?x8xf32>) -> tensor<?xf32> {
  %0 = prism.reduce sum %x axes = [-1, 0] : tensor<2x?x8xf32>
  return %0 : tensor<?xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_unit_dims_keepdims
// CHECK-SAME: (%[[X:.+]]: tensor<4x1x?xf32>)
// CHECK-NOT: prism.reduce
// CHECK: return %[[X]]
func.func @reduce_unit_dims_keepdims(%x: tensor<4x1x?xf32>) -> tensor<4x1x?xf32> {
  %0 = prism.reduce max %x axes = [1] keepdims : tensor<4x1x?xf32>
  return %0 : tensor<4x1x?xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_unit_dims_is_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<4x1x?xf32>)
// CHECK: %[[R:.+]] = prism.reshape %[[X]] : tensor<4x1x?xf32> to tensor<4x?xf32>
// CHECK: return %[[R]]
func.func @reduce_unit_dims_is_reshape(%x: tensor<4x1x?xf32>) -> tensor<4x?xf32> {
  %0 = prism.reduce mean %x axes = [1] : tensor<4x1x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// Negative: a dynamic dimension may be larger than 1.
// CHECK-LABEL: func.func @reduce_dynamic_dim_stays
// CHECK: prism.reduce sum %{{.*}} axes = [2] keepdims
func.func @reduce_dynamic_dim_stays(%x: tensor<4x1x?xf32>) -> tensor<4x1x1xf32> {
  %0 = prism.reduce sum %x axes = [2] keepdims : tensor<4x1x?xf32>
  return %0 : tensor<4x1x1xf32>
}
