// A file that ends inside a function body.
// RUN: not prism-opt %s 2>&1 | FileCheck %s
// CHECK: error:
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = prism.exp %x : tensor<4xf32>
