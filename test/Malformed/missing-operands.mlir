// Generic forms with the wrong number of operands, results or attributes.
// RUN: not prism-opt %s -split-input-file 2>&1 | FileCheck %s
// CHECK: error: 'prism.add' op expected 2 operands, but found 1
func.func @f(%x: tensor<4xf32>) {
  %0 = "prism.add"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}
// -----
// CHECK: error: {{.*}}'prism.exp' op requires one result
func.func @g(%x: tensor<4xf32>) {
  %0:2 = "prism.exp"(%x) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}
// -----
// CHECK: error: {{.*}}'prism.transpose' op requires attribute 'permutation'
func.func @h(%x: tensor<4xf32>) {
  %0 = "prism.transpose"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}
// -----
// CHECK: error: {{.*}}Invalid attribute `kind` in property conversion: 42 : i32
func.func @i(%x: tensor<4xf32>) {
  %0 = "prism.reduce"(%x) <{axes = array<i64: 0>, kind = 42 : i32}> : (tensor<4xf32>) -> tensor<f32>
  return
}
// -----
// CHECK: error: {{.*}}Invalid attribute `layout` in property conversion: 7 : i32
func.func @j(%x: tensor<4x4x4x4xf32>, %p: tensor<4xi32>) {
  %0 = "prism.rope"(%x, %p) <{layout = 7 : i32, style = 0 : i32, operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<4x4x4x4xf32>, tensor<4xi32>) -> tensor<4x4x4x4xf32>
  return
}
// -----
// CHECK: error: {{.*}}'prism.layer_norm' op operand count (2) does not match with the total size (6) specified in attribute 'operandSegmentSizes'
func.func @k(%x: tensor<4x4xf32>) {
  %0 = "prism.layer_norm"(%x, %x) <{epsilon = 1.0e-5 : f64, operandSegmentSizes = array<i32: 1, 5, 0>}> : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return
}
// -----
// CHECK: error: {{.*}}Invalid attribute `axis` in property conversion: "last"
func.func @l(%x: tensor<4x4xf32>) {
  %0 = "prism.softmax"(%x) <{axis = "last"}> : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return
}
