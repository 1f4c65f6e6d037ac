// A file that ends in the middle of an op.
// RUN: not prism-opt %s 2>&1 | FileCheck %s
// CHECK: error:
func.func @f(%x: tensor<2x?x64xbf16>, %w: tensor<64xbf16>) -> tensor<2x?x64xbf16> {
  %0 = prism.rms_norm %x, %w eps = 1.0e-5 : tensor<2x?x64xbf16>, tensor<64x
