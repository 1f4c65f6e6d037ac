// RUN: not prism-opt %s 2>&1 | FileCheck %s
// CHECK: error: {{.*}} body must end with prism.yield
func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %a = prism.exp %x : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}
