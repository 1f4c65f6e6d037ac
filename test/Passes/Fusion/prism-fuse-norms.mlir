// RUN: prism-opt %s --prism-fuse-norms -split-input-file | FileCheck %s

// Residual add + rms_norm; the sum (the residual stream) is used again, so
// the fusion yields it too.
// CHECK-LABEL: func.func @add_rms_norm
// CHECK-NEXT: %[[F:.+]]:2 = prism.fusion norm -> (tensor<1x?x64xbf16>, tensor<1x?x64xbf16>) {
// CHECK-NEXT:   %[[S:.+]] = prism.add %arg0, %arg1
// CHECK-NEXT:   %[[N:.+]] = prism.rms_norm %[[S]], %arg2
// CHECK-NEXT:   prism.yield %[[N]], %[[S]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[Y:.+]] = prism.mul %[[F]]#0, %[[F]]#1
// CHECK-NEXT: return %[[Y]]
func.func @add_rms_norm(%x: tensor<1x?x64xbf16>, %r: tensor<1x?x64xbf16>, %w: tensor<64xbf16>) -> tensor<1x?x64xbf16> {
  %s = prism.add %x, %r : tensor<1x?x64xbf16>, tensor<1x?x64xbf16>
  %n = prism.rms_norm %s, %w eps = 1.0e-5 : tensor<1x?x64xbf16>, tensor<64xbf16>
  %y = prism.mul %n, %s : tensor<1x?x64xbf16>, tensor<1x?x64xbf16>
  return %y : tensor<1x?x64xbf16>
}

// -----

// layer_norm with a longer prologue; only the normalized value leaves.
// CHECK-LABEL: func.func @scaled_add_layer_norm
// CHECK-NEXT: %[[F:.+]] = prism.fusion norm -> (tensor<8x64xf32>) {
// CHECK-NEXT:   prism.mul
// CHECK-NEXT:   prism.add
// CHECK-NEXT:   prism.layer_norm
// CHECK-NEXT:   prism.yield
func.func @scaled_add_layer_norm(%x: tensor<8x64xf32>, %r: tensor<8x64xf32>, %g: tensor<64xf32>, %w: tensor<64xf32>) -> tensor<8x64xf32> {
  %m = prism.mul %r, %g : tensor<8x64xf32>, tensor<64xf32>
  %s = prism.add %x, %m : tensor<8x64xf32>, tensor<8x64xf32>
  %n = prism.layer_norm %s weight(%w : tensor<64xf32>) : tensor<8x64xf32>
  return %n : tensor<8x64xf32>
}

// -----

// Not fused: nothing computes the input (a function argument), or what
// does is not elementwise.
// CHECK-LABEL: func.func @plain_norms
// CHECK-NOT: prism.fusion
func.func @plain_norms(%x: tensor<8x64xf32>, %w: tensor<64xf32>, %v: tensor<64x64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %n = prism.rms_norm %x, %w : tensor<8x64xf32>, tensor<64xf32>
  %m = prism.matmul %x, %v : tensor<8x64xf32>, tensor<64x64xf32>
  %k = prism.rms_norm %m, %w : tensor<8x64xf32>, tensor<64xf32>
  return %n, %k : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// The prologue stops at a producer of a smaller (broadcast) shape and at
// a value used twice: only the final add is fused.
// CHECK-LABEL: func.func @partial_prologue
// CHECK: %[[E:.+]] = prism.exp %arg1 : tensor<64xf32>
// CHECK: %[[T:.+]] = prism.tanh %arg0
// CHECK: prism.fusion norm -> (tensor<8x64xf32>) {
// CHECK-NEXT:   prism.add %[[T]], %[[E]]
// CHECK-NEXT:   prism.rms_norm
func.func @partial_prologue(%x: tensor<8x64xf32>, %b: tensor<64xf32>, %w: tensor<64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %e = prism.exp %b : tensor<64xf32>
  %t = prism.tanh %x : tensor<8x64xf32>
  %s = prism.add %t, %e : tensor<8x64xf32>, tensor<64xf32>
  %n = prism.rms_norm %s, %w : tensor<8x64xf32>, tensor<64xf32>
  return %n, %t : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// Not fused: a prologue of constants only (no row to load).
// CHECK-LABEL: func.func @constant_prologue
// CHECK-NOT: prism.fusion
func.func @constant_prologue(%w: tensor<64xf32>) -> tensor<4x64xf32> {
  %c = arith.constant dense<2.0> : tensor<4x64xf32>
  %a = prism.exp %c : tensor<4x64xf32>
  %n = prism.rms_norm %a, %w : tensor<4x64xf32>, tensor<64xf32>
  return %n : tensor<4x64xf32>
}
