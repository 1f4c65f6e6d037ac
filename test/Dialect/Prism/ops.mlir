// Round trip of every prism op and attribute through the custom assembly
// format, and through the generic form back to the custom one.
// RUN: prism-opt %s | prism-opt | FileCheck %s
// RUN: prism-opt %s --mlir-print-op-generic | prism-opt | FileCheck %s

// CHECK-LABEL: func.func @binary
func.func @binary(%a: tensor<2x?x64xbf16>, %b: tensor<64xbf16>, %s: tensor<f16>, %c: tensor<3x1xf16>) {
  // CHECK: prism.add %{{.*}}, %{{.*}} : tensor<2x?x64xbf16>, tensor<64xbf16>
  %0 = prism.add %a, %b : tensor<2x?x64xbf16>, tensor<64xbf16>
  // CHECK: prism.sub %{{.*}}, %{{.*}} : tensor<64xbf16>, tensor<2x?x64xbf16>
  %1 = prism.sub %b, %a : tensor<64xbf16>, tensor<2x?x64xbf16>
  // CHECK: prism.mul
  %2 = prism.mul %a, %a : tensor<2x?x64xbf16>, tensor<2x?x64xbf16>
  // CHECK: prism.div %{{.*}}, %{{.*}} : tensor<3x1xf16>, tensor<f16>
  %3 = prism.div %c, %s : tensor<3x1xf16>, tensor<f16>
  // CHECK: prism.max
  %4 = prism.max %a, %b : tensor<2x?x64xbf16>, tensor<64xbf16>
  // CHECK: prism.min
  %5 = prism.min %a, %b : tensor<2x?x64xbf16>, tensor<64xbf16>
  return
}

// CHECK-LABEL: func.func @broadcast_result_types
func.func @broadcast_result_types(%a: tensor<4x1x?xf32>, %b: tensor<3x1xf32>, %c: tensor<?xf32>)
    -> (tensor<4x3x?xf32>, tensor<4x1x?xf32>) {
  // CHECK: %[[X:.+]] = prism.add %{{.*}}, %{{.*}} : tensor<4x1x?xf32>, tensor<3x1xf32>
  %0 = prism.add %a, %b : tensor<4x1x?xf32>, tensor<3x1xf32>
  // CHECK: %[[Y:.+]] = prism.mul %{{.*}}, %{{.*}} : tensor<4x1x?xf32>, tensor<?xf32>
  %1 = prism.mul %a, %c : tensor<4x1x?xf32>, tensor<?xf32>
  // CHECK: return %[[X]], %[[Y]] : tensor<4x3x?xf32>, tensor<4x1x?xf32>
  return %0, %1 : tensor<4x3x?xf32>, tensor<4x1x?xf32>
}

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<8x?xf16>) {
  // CHECK: prism.exp %{{.*}} : tensor<8x?xf16>
  %0 = prism.exp %x : tensor<8x?xf16>
  // CHECK: prism.log
  %1 = prism.log %x : tensor<8x?xf16>
  // CHECK: prism.sqrt
  %2 = prism.sqrt %x : tensor<8x?xf16>
  // CHECK: prism.rsqrt
  %3 = prism.rsqrt %x : tensor<8x?xf16>
  // CHECK: prism.neg
  %4 = prism.neg %x : tensor<8x?xf16>
  // CHECK: prism.abs
  %5 = prism.abs %x : tensor<8x?xf16>
  // CHECK: prism.tanh
  %6 = prism.tanh %x : tensor<8x?xf16>
  // CHECK: prism.sigmoid
  %7 = prism.sigmoid %x : tensor<8x?xf16>
  return
}

// CHECK-LABEL: func.func @activations
func.func @activations(%x: tensor<4x3072xbf16>, %y: tensor<4x3072xbf16>) {
  // CHECK: prism.relu %{{.*}} : tensor<4x3072xbf16>
  %0 = prism.relu %x : tensor<4x3072xbf16>
  // CHECK: prism.silu %{{.*}} : tensor<4x3072xbf16>
  %1 = prism.silu %x : tensor<4x3072xbf16>
  // CHECK: prism.gelu %{{.*}} : tensor<4x3072xbf16>
  %2 = prism.gelu %x : tensor<4x3072xbf16>
  // CHECK: prism.gelu %{{.*}} approximate = tanh : tensor<4x3072xbf16>
  %3 = prism.gelu %x approximate = tanh : tensor<4x3072xbf16>
  // CHECK: prism.swiglu %{{.*}}, %{{.*}} : tensor<4x3072xbf16>
  %4 = prism.swiglu %x, %y : tensor<4x3072xbf16>
  return
}

// CHECK-LABEL: func.func @softmax_and_reduce
func.func @softmax_and_reduce(%x: tensor<2x8x?x?xf32>) -> tensor<2x1x?xf32> {
  // CHECK: prism.softmax %{{.*}} : tensor<2x8x?x?xf32>
  %0 = prism.softmax %x : tensor<2x8x?x?xf32>
  // CHECK: prism.softmax %{{.*}} axis = 1 scale = 1.250000e-01 : tensor<2x8x?x?xf32>
  %1 = prism.softmax %x axis = 1 scale = 0.125 : tensor<2x8x?x?xf32>
  // CHECK: prism.reduce sum %{{.*}} axes = [1, 3] : tensor<2x8x?x?xf32>
  %2 = prism.reduce sum %x axes = [1, 3] : tensor<2x8x?x?xf32>
  // CHECK: prism.reduce max %{{.*}} axes = [-1] keepdims : tensor<2x8x?x?xf32>
  %3 = prism.reduce max %x axes = [-1] keepdims : tensor<2x8x?x?xf32>
  // CHECK: prism.reduce min
  %4 = prism.reduce min %x axes = [0] : tensor<2x8x?x?xf32>
  // CHECK: %[[M:.+]] = prism.reduce mean %{{.*}} axes = [1, 3] keepdims : tensor<2x8x?x?xf32>
  %5 = prism.reduce mean %x axes = [1, 3] keepdims : tensor<2x8x?x?xf32>
  %6 = prism.reshape %5 : tensor<2x1x?x1xf32> to tensor<2x1x?xf32>
  return %6 : tensor<2x1x?xf32>
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<1x?x4096xbf16>, %w: tensor<4096xbf16>, %w32: tensor<4096xf32>) {
  // CHECK: prism.rms_norm %{{.*}}, %{{.*}} : tensor<1x?x4096xbf16>, tensor<4096xbf16>
  %0 = prism.rms_norm %x, %w : tensor<1x?x4096xbf16>, tensor<4096xbf16>
  // CHECK: prism.rms_norm %{{.*}}, %{{.*}} eps = 1.000000e-05 : tensor<1x?x4096xbf16>, tensor<4096xf32>
  %1 = prism.rms_norm %x, %w32 eps = 1.0e-5 : tensor<1x?x4096xbf16>, tensor<4096xf32>
  // CHECK: prism.layer_norm %{{.*}} weight(%{{.*}} : tensor<4096xbf16>) bias(%{{.*}} : tensor<4096xf32>) eps = 9.9999999999999995E-7 : tensor<1x?x4096xbf16>
  %2 = prism.layer_norm %x weight(%w : tensor<4096xbf16>) bias(%w32 : tensor<4096xf32>) eps = 1.0e-6 : tensor<1x?x4096xbf16>
  // CHECK: prism.layer_norm %{{.*}} : tensor<1x?x4096xbf16>
  %3 = prism.layer_norm %x : tensor<1x?x4096xbf16>
  // CHECK: prism.layer_norm %{{.*}} bias(%{{.*}} : tensor<4096xbf16>) : tensor<1x?x4096xbf16>
  %4 = prism.layer_norm %x bias(%w : tensor<4096xbf16>) : tensor<1x?x4096xbf16>
  return
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%x: tensor<2x?x64xbf16>, %w: tensor<128x64xbf16>, %wt: tensor<64x128xbf16>,
                  %w8: tensor<128x64xi8>, %wf8: tensor<64x128xf8E4M3FN>, %bias: tensor<128xf32>,
                  %a: tensor<4x1x32x16xf16>, %b: tensor<3x16x8xf16>) -> tensor<4x3x32x8xf16> {
  // CHECK: prism.matmul %{{.*}}, %{{.*}} transpose_rhs : tensor<2x?x64xbf16>, tensor<128x64xbf16>
  %0 = prism.matmul %x, %w transpose_rhs : tensor<2x?x64xbf16>, tensor<128x64xbf16>
  // CHECK: prism.matmul %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<128xf32>) : tensor<2x?x64xbf16>, tensor<64x128xbf16>
  %1 = prism.matmul %x, %wt bias(%bias : tensor<128xf32>) : tensor<2x?x64xbf16>, tensor<64x128xbf16>
  // CHECK: prism.matmul %{{.*}}, %{{.*}} transpose_rhs acc(f32) : tensor<2x?x64xbf16>, tensor<128x64xi8>
  %2 = prism.matmul %x, %w8 transpose_rhs acc(f32) : tensor<2x?x64xbf16>, tensor<128x64xi8>
  // CHECK: prism.matmul %{{.*}}, %{{.*}} : tensor<2x?x64xbf16>, tensor<64x128xf8E4M3FN>
  %3 = prism.matmul %x, %wf8 : tensor<2x?x64xbf16>, tensor<64x128xf8E4M3FN>
  // CHECK: %[[R:.+]] = prism.matmul %{{.*}}, %{{.*}} acc(f16) : tensor<4x1x32x16xf16>, tensor<3x16x8xf16>
  %4 = prism.matmul %a, %b acc(f16) : tensor<4x1x32x16xf16>, tensor<3x16x8xf16>
  // CHECK: prism.matmul %{{.*}}, %{{.*}} transpose_lhs transpose_rhs : tensor<2x64x?xbf16>, tensor<128x64xbf16>
  %xt = prism.transpose %x perm = [0, 2, 1] : tensor<2x?x64xbf16>
  %5 = prism.matmul %xt, %w transpose_lhs transpose_rhs : tensor<2x64x?xbf16>, tensor<128x64xbf16>
  // CHECK: return %[[R]] : tensor<4x3x32x8xf16>
  return %4 : tensor<4x3x32x8xf16>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<1x32x?x128xbf16>, %k: tensor<1x8x?x128xbf16>, %v: tensor<1x8x?x128xbf16>,
                     %mask: tensor<?x?xbf16>, %bmask: tensor<1x1x1x?xf32>) {
  // CHECK: prism.attention %{{.*}}, %{{.*}}, %{{.*}} causal : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  %0 = prism.attention %q, %k, %v causal : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  // CHECK: prism.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<?x?xbf16>) scale = 6.250000e-02 :
  %1 = prism.attention %q, %k, %v mask(%mask : tensor<?x?xbf16>) scale = 0.0625 : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  // CHECK: prism.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x1x1x?xf32>) causal window = 4096 :
  %2 = prism.attention %q, %k, %v mask(%bmask : tensor<1x1x1x?xf32>) causal window = 4096 : tensor<1x32x?x128xbf16>, tensor<1x8x?x128xbf16>, tensor<1x8x?x128xbf16>
  return
}

// CHECK-LABEL: func.func @attention_value_dim
func.func @attention_value_dim(%q: tensor<2x4x16x64xf16>, %k: tensor<2x4x32x64xf16>, %v: tensor<2x4x32x32xf16>) -> tensor<2x4x16x32xf16> {
  // CHECK: prism.attention
  %0 = prism.attention %q, %k, %v : tensor<2x4x16x64xf16>, tensor<2x4x32x64xf16>, tensor<2x4x32x32xf16>
  return %0 : tensor<2x4x16x32xf16>
}

// CHECK-LABEL: func.func @rope
func.func @rope(%x: tensor<1x?x32x128xbf16>, %pos: tensor<1x?xi32>, %xh: tensor<2x8x?x64xf32>,
                %pos1: tensor<?xi64>, %cos: tensor<8192x32xf32>, %sin: tensor<8192x32xf32>) {
  // CHECK: prism.rope neox bshd %{{.*}}, %{{.*}} theta = 5.000000e+05 : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  %0 = prism.rope neox bshd %x, %pos theta = 5.0e5 : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  // CHECK: prism.rope interleaved bshd %{{.*}}, %{{.*}} : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  %1 = prism.rope interleaved bshd %x, %pos : tensor<1x?x32x128xbf16>, tensor<1x?xi32>
  // CHECK: prism.rope neox bhsd %{{.*}}, %{{.*}} tables(%{{.*}}, %{{.*}} : tensor<8192x32xf32>, tensor<8192x32xf32>) : tensor<2x8x?x64xf32>, tensor<?xi64>
  %2 = prism.rope neox bhsd %xh, %pos1 tables(%cos, %sin : tensor<8192x32xf32>, tensor<8192x32xf32>) : tensor<2x8x?x64xf32>, tensor<?xi64>
  return
}

// CHECK-LABEL: func.func @embedding
func.func @embedding(%table: tensor<128256x4096xbf16>, %ids: tensor<1x?xi32>, %ids64: tensor<7xi64>) -> tensor<1x?x4096xbf16> {
  // CHECK: %[[E:.+]] = prism.embedding %{{.*}}, %{{.*}} : tensor<128256x4096xbf16>, tensor<1x?xi32>
  %0 = prism.embedding %table, %ids : tensor<128256x4096xbf16>, tensor<1x?xi32>
  // CHECK: prism.embedding %{{.*}}, %{{.*}} : tensor<128256x4096xbf16>, tensor<7xi64>
  %1 = prism.embedding %table, %ids64 : tensor<128256x4096xbf16>, tensor<7xi64>
  // CHECK: return %[[E]] : tensor<1x?x4096xbf16>
  return %0 : tensor<1x?x4096xbf16>
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<1x?x32x128xbf16>, %q: tensor<64x64xi8>) -> tensor<1x32x?x128xbf16> {
  // CHECK: %[[T:.+]] = prism.transpose %{{.*}} perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
  %0 = prism.transpose %x perm = [0, 2, 1, 3] : tensor<1x?x32x128xbf16>
  // CHECK: prism.reshape %{{.*}} : tensor<1x?x32x128xbf16> to tensor<1x?x4096xbf16>
  %1 = prism.reshape %x : tensor<1x?x32x128xbf16> to tensor<1x?x4096xbf16>
  // CHECK: prism.reshape %{{.*}} : tensor<64x64xi8> to tensor<4x?xi8>
  %2 = prism.reshape %q : tensor<64x64xi8> to tensor<4x?xi8>
  // CHECK: prism.transpose %{{.*}} perm = [1, 0] : tensor<64x64xi8>
  %3 = prism.transpose %q perm = [1, 0] : tensor<64x64xi8>
  // CHECK: return %[[T]] : tensor<1x32x?x128xbf16>
  return %0 : tensor<1x32x?x128xbf16>
}

// CHECK-LABEL: func.func @casts
func.func @casts(%x: tensor<?x4096xf32>, %q: tensor<16xi8>) {
  // CHECK: prism.cast %{{.*}} : tensor<?x4096xf32> to tensor<?x4096xbf16>
  %0 = prism.cast %x : tensor<?x4096xf32> to tensor<?x4096xbf16>
  // CHECK: prism.cast %{{.*}} : tensor<?x4096xf32> to tensor<?x4096xf16>
  %1 = prism.cast %x : tensor<?x4096xf32> to tensor<?x4096xf16>
  // CHECK: prism.cast %{{.*}} : tensor<?x4096xf32> to tensor<?x4096xf8E4M3FN>
  %2 = prism.cast %x : tensor<?x4096xf32> to tensor<?x4096xf8E4M3FN>
  // CHECK: prism.cast %{{.*}} : tensor<?x4096xf32> to tensor<?x4096xi8>
  %3 = prism.cast %x : tensor<?x4096xf32> to tensor<?x4096xi8>
  // CHECK: prism.cast %{{.*}} : tensor<16xi8> to tensor<16xf32>
  %4 = prism.cast %q : tensor<16xi8> to tensor<16xf32>
  return
}
