// RUN: prism-opt %s -prism-kernelize -split-input-file -verify-diagnostics

func.func @rank0(%x: tensor<4x8xf32>) -> tensor<f32> {
  // expected-error @below {{kernelization of a reduction over every axis (a rank-0 result) is not supported yet}}
  %0 = prism.reduce sum %x axes = [0, 1] : tensor<4x8xf32>
  return %0 : tensor<f32>
}

// -----

func.func @dynamic_head_dim(%q: tensor<1x2x8x?xf32>) -> tensor<1x2x8x?xf32> {
  // expected-error @below {{attention kernels need static head dims}}
  %0 = prism.attention %q, %q, %q scale = 0.25 : tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>
  return %0 : tensor<1x2x8x?xf32>
}

// -----

func.func @rank0_indices(%t: tensor<10x4xf32>, %i: tensor<i32>) -> tensor<4xf32> {
  // expected-error @below {{kernelization of an embedding with rank-0 indices is not supported yet}}
  %0 = prism.embedding %t, %i : tensor<10x4xf32>, tensor<i32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error @below {{kernelization needs ranked tensor arguments}}
func.func @unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  return %x : tensor<*xf32>
}

// -----

// Splat constants are computed in the kernels that use them; other graph
// constants have no kernel yet, also when a fusion reads them.
func.func @dense_constant(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{graph constants other than float splats are not supported by kernelization yet}}
  %c = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  %0 = prism.fusion elementwise -> (tensor<4x8xf32>) {
    %a = prism.add %x, %c : tensor<4x8xf32>, tensor<8xf32>
    prism.yield %a : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

// A constant read by an op that is not elementwise has no buffer.
func.func @matmul_of_constant(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = arith.constant dense<1.5> : tensor<8x8xf32>
  // expected-error @below {{operand #1 is a constant; only elementwise ops can take constants in a compiled graph}}
  %0 = prism.matmul %x, %c : tensor<4x8xf32>, tensor<8x8xf32>
  return %0 : tensor<4x8xf32>
}
