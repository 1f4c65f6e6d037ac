// RUN: prism-opt %s --prism-fuse-matmul-epilogues -split-input-file | FileCheck %s

// Bias, activation, scaling by a constant, residual add and a cast: one
// fusion whose body is the chain.
// CHECK-LABEL: func.func @linear_silu_residual
// CHECK-NEXT: %[[C:.+]] = arith.constant
// CHECK-NEXT: %[[F:.+]] = prism.fusion matmul -> (tensor<?x64xf16>) {
// CHECK-NEXT:   %[[M:.+]] = prism.matmul %arg0, %arg1 bias(%arg2 : tensor<64xf32>) transpose_rhs
// CHECK-NEXT:   %[[S:.+]] = prism.silu %[[M]]
// CHECK-NEXT:   %[[H:.+]] = prism.mul %[[S]], %[[C]]
// CHECK-NEXT:   %[[R:.+]] = prism.add %arg3, %[[H]]
// CHECK-NEXT:   %[[T:.+]] = prism.cast %[[R]] : tensor<?x64xf32> to tensor<?x64xf16>
// CHECK-NEXT:   prism.yield %[[T]] : tensor<?x64xf16>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]
func.func @linear_silu_residual(%x: tensor<?x32xf32>, %w: tensor<64x32xf32>, %b: tensor<64xf32>, %r: tensor<?x64xf32>) -> tensor<?x64xf16> {
  %c = arith.constant dense<0.5> : tensor<f32>
  %0 = prism.matmul %x, %w bias(%b : tensor<64xf32>) transpose_rhs : tensor<?x32xf32>, tensor<64x32xf32>
  %1 = prism.silu %0 : tensor<?x64xf32>
  %2 = prism.mul %1, %c : tensor<?x64xf32>, tensor<f32>
  %3 = prism.add %r, %2 : tensor<?x64xf32>, tensor<?x64xf32>
  %4 = prism.cast %3 : tensor<?x64xf32> to tensor<?x64xf16>
  return %4 : tensor<?x64xf16>
}

// -----

// A value used twice stops the chain: the matmul and gelu fuse, the gelu's
// result (also returned) is where the fusion ends.
// CHECK-LABEL: func.func @used_twice
// CHECK: %[[F:.+]] = prism.fusion matmul
// CHECK:   prism.matmul
// CHECK:   %[[G:.+]] = prism.gelu
// CHECK:   prism.yield %[[G]]
// CHECK: }
// CHECK: %[[E:.+]] = prism.exp %[[F]]
// CHECK: return %[[F]], %[[E]]
func.func @used_twice(%x: tensor<8x32xf32>, %w: tensor<32x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %0 = prism.matmul %x, %w : tensor<8x32xf32>, tensor<32x16xf32>
  %1 = prism.gelu %0 : tensor<8x16xf32>
  %2 = prism.exp %1 : tensor<8x16xf32>
  return %1, %2 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Not fused: the matmul's result is used twice.
// CHECK-LABEL: func.func @product_used_twice
// CHECK-NOT: prism.fusion
func.func @product_used_twice(%x: tensor<8x32xf32>, %w: tensor<32x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %0 = prism.matmul %x, %w : tensor<8x32xf32>, tensor<32x16xf32>
  %1 = prism.relu %0 : tensor<8x16xf32>
  return %0, %1 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// Not fused: the add broadcasts the product to a larger shape (every
// product element would be needed by several output tiles).
// CHECK-LABEL: func.func @mismatched_shapes
// CHECK-NOT: prism.fusion
func.func @mismatched_shapes(%x: tensor<1x32xf32>, %w: tensor<32x16xf32>, %r: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %0 = prism.matmul %x, %w : tensor<1x32xf32>, tensor<32x16xf32>
  %1 = prism.add %0, %r : tensor<1x16xf32>, tensor<8x16xf32>
  return %1 : tensor<8x16xf32>
}

// -----

// Not fused: the residual is read through a transpose that moves the
// innermost dimension (the epilogue's tile loads would be uncoalesced).
// CHECK-LABEL: func.func @transposed_residual
// CHECK-NOT: prism.fusion
func.func @transposed_residual(%x: tensor<8x32xf32>, %w: tensor<32x16xf32>, %r: tensor<16x8xf32>) -> tensor<8x16xf32> {
  %0 = prism.matmul %x, %w : tensor<8x32xf32>, tensor<32x16xf32>
  %t = prism.transpose %r perm = [1, 0] : tensor<16x8xf32>
  %1 = prism.add %0, %t : tensor<8x16xf32>, tensor<8x16xf32>
  return %1 : tensor<8x16xf32>
}

// -----

// A transpose that keeps the innermost dimension is fine.
// CHECK-LABEL: func.func @batch_transposed_residual
// CHECK: prism.fusion matmul
func.func @batch_transposed_residual(%x: tensor<2x8x32xf32>, %w: tensor<32x16xf32>, %r: tensor<8x2x16xf32>) -> tensor<2x8x16xf32> {
  %0 = prism.matmul %x, %w : tensor<2x8x32xf32>, tensor<32x16xf32>
  %t = prism.transpose %r perm = [1, 0, 2] : tensor<8x2x16xf32>
  %1 = prism.add %0, %t : tensor<2x8x16xf32>, tensor<2x8x16xf32>
  return %1 : tensor<2x8x16xf32>
}

// -----

// Not fused: an f16 accumulator (epilogues run on f32 accumulators).
// CHECK-LABEL: func.func @f16_accumulator
// CHECK-NOT: prism.fusion
func.func @f16_accumulator(%x: tensor<8x32xf16>, %w: tensor<32x16xf16>) -> tensor<8x16xf16> {
  %0 = prism.matmul %x, %w acc(f16) : tensor<8x32xf16>, tensor<32x16xf16>
  %1 = prism.relu %0 : tensor<8x16xf16>
  return %1 : tensor<8x16xf16>
}
