// RUN: prism-opt %s --prism-fuse-elementwise -split-input-file | FileCheck %s

// A chain of elementwise ops of one shape is one fusion.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT: %[[F:.+]] = prism.fusion elementwise -> (tensor<?x64xf16>) {
// CHECK-NEXT:   prism.mul %arg0, %arg1
// CHECK-NEXT:   prism.add
// CHECK-NEXT:   prism.gelu
// CHECK-NEXT:   prism.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]
func.func @chain(%x: tensor<?x64xf16>, %y: tensor<?x64xf16>, %b: tensor<64xf16>) -> tensor<?x64xf16> {
  %0 = prism.mul %x, %y : tensor<?x64xf16>, tensor<?x64xf16>
  %1 = prism.add %0, %b : tensor<?x64xf16>, tensor<64xf16>
  %2 = prism.gelu %1 : tensor<?x64xf16>
  return %2 : tensor<?x64xf16>
}

// -----

// A producer of a smaller shape that the consumer broadcasts is not fused
// (it would be recomputed for every row); neither is one used twice.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: prism.fusion
func.func @not_fused(%x: tensor<8x64xf32>, %b: tensor<64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %e = prism.exp %b : tensor<64xf32>
  %0 = prism.add %x, %e : tensor<8x64xf32>, tensor<64xf32>
  %t = prism.tanh %x : tensor<8x64xf32>
  %1 = prism.mul %t, %t : tensor<8x64xf32>, tensor<8x64xf32>
  return %0, %1 : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// Two independent chains give two fusions.
// CHECK-LABEL: func.func @two_chains
// CHECK-COUNT-2: prism.fusion elementwise
func.func @two_chains(%x: tensor<8x64xf32>, %y: tensor<8x64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %0 = prism.exp %x : tensor<8x64xf32>
  %1 = prism.neg %0 : tensor<8x64xf32>
  %2 = prism.abs %y : tensor<8x64xf32>
  %3 = prism.sqrt %2 : tensor<8x64xf32>
  return %1, %3 : tensor<8x64xf32>, tensor<8x64xf32>
}
