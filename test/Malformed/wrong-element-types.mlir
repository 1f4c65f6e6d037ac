// RUN: not prism-opt %s -split-input-file 2>&1 | FileCheck %s
// CHECK: error: 'prism.add' op operand 'lhs' must have element type f32, f16 or bf16, but got 'i32'
func.func @f(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = prism.add %x, %x : tensor<4xi32>, tensor<4xi32>
  return %0 : tensor<4xi32>
}
// -----
// CHECK: error: custom op 'prism.softmax' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'
func.func @g(%x: tensor<*xf32>) {
  %0 = prism.softmax %x : tensor<*xf32>
  return
}
// -----
// CHECK: error: custom op 'prism.matmul' invalid kind of type specified: expected builtin.tensor, but found 'memref<4x4xf32>'
func.func @h(%x: memref<4x4xf32>) {
  %0 = prism.matmul %x, %x : memref<4x4xf32>, memref<4x4xf32>
  return
}
