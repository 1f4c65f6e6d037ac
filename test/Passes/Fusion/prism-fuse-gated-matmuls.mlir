// RUN: prism-opt %s --prism-fuse-gated-matmuls -split-input-file | FileCheck %s

// swiglu of two projections of one input: one gated_matmul fusion; the
// cast after it joins the epilogue.
// CHECK-LABEL: func.func @swiglu
// CHECK-NEXT: %[[F:.+]] = prism.fusion gated_matmul -> (tensor<1x?x64xf32>) {
// CHECK-NEXT:   %[[G:.+]] = prism.matmul %arg0, %arg1 transpose_rhs
// CHECK-NEXT:   %[[U:.+]] = prism.matmul %arg0, %arg2 transpose_rhs
// CHECK-NEXT:   %[[A:.+]] = prism.swiglu %[[G]], %[[U]]
// CHECK-NEXT:   %[[C:.+]] = prism.cast %[[A]]
// CHECK-NEXT:   prism.yield %[[C]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]
func.func @swiglu(%x: tensor<1x?x32xbf16>, %wg: tensor<64x32xbf16>, %wu: tensor<64x32xbf16>) -> tensor<1x?x64xf32> {
  %g = prism.matmul %x, %wg transpose_rhs : tensor<1x?x32xbf16>, tensor<64x32xbf16>
  %u = prism.matmul %x, %wu transpose_rhs : tensor<1x?x32xbf16>, tensor<64x32xbf16>
  %a = prism.swiglu %g, %u : tensor<1x?x64xbf16>
  %c = prism.cast %a : tensor<1x?x64xbf16> to tensor<1x?x64xf32>
  return %c : tensor<1x?x64xf32>
}

// -----

// silu(gate) * up as frameworks export it, in either operand order.
// CHECK-LABEL: func.func @silu_mul
// CHECK: prism.fusion gated_matmul
// CHECK:   prism.silu
// CHECK:   prism.mul
// CHECK-LABEL: func.func @mul_silu
// CHECK: prism.fusion gated_matmul
// CHECK:   prism.silu
// CHECK:   prism.mul
func.func @silu_mul(%x: tensor<8x32xf32>, %wg: tensor<32x64xf32>, %wu: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %g = prism.matmul %x, %wg : tensor<8x32xf32>, tensor<32x64xf32>
  %u = prism.matmul %x, %wu : tensor<8x32xf32>, tensor<32x64xf32>
  %s = prism.silu %g : tensor<8x64xf32>
  %a = prism.mul %s, %u : tensor<8x64xf32>, tensor<8x64xf32>
  return %a : tensor<8x64xf32>
}
func.func @mul_silu(%x: tensor<8x32xf32>, %wg: tensor<32x64xf32>, %wu: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %g = prism.matmul %x, %wg : tensor<8x32xf32>, tensor<32x64xf32>
  %u = prism.matmul %x, %wu : tensor<8x32xf32>, tensor<32x64xf32>
  %s = prism.silu %g : tensor<8x64xf32>
  %a = prism.mul %u, %s : tensor<8x64xf32>, tensor<8x64xf32>
  return %a : tensor<8x64xf32>
}

// -----

// Not fused: the projections read different inputs.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: prism.fusion
func.func @different_inputs(%x: tensor<8x32xf32>, %y: tensor<8x32xf32>, %wg: tensor<32x64xf32>, %wu: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %g = prism.matmul %x, %wg : tensor<8x32xf32>, tensor<32x64xf32>
  %u = prism.matmul %y, %wu : tensor<8x32xf32>, tensor<32x64xf32>
  %a = prism.swiglu %g, %u : tensor<8x64xf32>
  return %a : tensor<8x64xf32>
}

// -----

// Not fused: the gate is used twice (it must reach memory anyway).
// CHECK-LABEL: func.func @gate_used_twice
// CHECK-NOT: prism.fusion
func.func @gate_used_twice(%x: tensor<8x32xf32>, %wg: tensor<32x64xf32>, %wu: tensor<32x64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %g = prism.matmul %x, %wg : tensor<8x32xf32>, tensor<32x64xf32>
  %u = prism.matmul %x, %wu : tensor<8x32xf32>, tensor<32x64xf32>
  %a = prism.swiglu %g, %u : tensor<8x64xf32>
  return %a, %g : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// Not fused: one weight is [N, K], the other [K, N] (the kernel reads both
// the same way).
// CHECK-LABEL: func.func @different_layouts
// CHECK-NOT: prism.fusion
func.func @different_layouts(%x: tensor<8x32xf32>, %wg: tensor<64x32xf32>, %wu: tensor<32x64xf32>) -> tensor<8x64xf32> {
  %g = prism.matmul %x, %wg transpose_rhs : tensor<8x32xf32>, tensor<64x32xf32>
  %u = prism.matmul %x, %wu : tensor<8x32xf32>, tensor<32x64xf32>
  %a = prism.swiglu %g, %u : tensor<8x64xf32>
  return %a : tensor<8x64xf32>
}
