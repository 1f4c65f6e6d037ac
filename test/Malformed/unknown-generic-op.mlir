// RUN: not prism-opt %s 2>&1 | FileCheck %s
// CHECK: error: unregistered operation 'prism.nope' found in dialect ('prism') that does not allow unknown operations
// CHECK-NOT: Stack dump
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "prism.nope"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
