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
