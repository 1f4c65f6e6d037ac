// Every elementwise op on the CPU against the float64 reference: numpy
// broadcasting (stride-0 views), a dynamic dimension, sizes that are not
// multiples of any tile, and f32 / f16 / bf16.
// RUN: prism-run %s --entry=binary_f32 --check --dynamic-size=37 | FileCheck %s
// RUN: prism-run %s --entry=binary_bf16 --check --dynamic-size=5 | FileCheck %s
// RUN: prism-run %s --entry=unary_f32 --check --seed=3 | FileCheck %s
// RUN: prism-run %s --entry=unary_f16 --check --seed=4 | FileCheck %s
// RUN: prism-run %s --entry=activations_bf16 --check --dynamic-size=300 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: PASS

func.func @binary_f32(%a: tensor<3x?x5xf32>, %b: tensor<5xf32>, %c: tensor<3x1x1xf32>) -> (tensor<3x?x5xf32>, tensor<3x?x5xf32>, tensor<3x?x5xf32>) {
  %0 = prism.add %a, %b : tensor<3x?x5xf32>, tensor<5xf32>
  %1 = prism.sub %c, %0 : tensor<3x1x1xf32>, tensor<3x?x5xf32>
  %2 = prism.mul %1, %a : tensor<3x?x5xf32>, tensor<3x?x5xf32>
  %3 = prism.div %2, %c : tensor<3x?x5xf32>, tensor<3x1x1xf32>
  %4 = prism.max %3, %b : tensor<3x?x5xf32>, tensor<5xf32>
  %5 = prism.min %4, %a : tensor<3x?x5xf32>, tensor<3x?x5xf32>
  return %3, %4, %5 : tensor<3x?x5xf32>, tensor<3x?x5xf32>, tensor<3x?x5xf32>
}

func.func @binary_bf16(%a: tensor<?x1x300xbf16>, %b: tensor<7x300xbf16>) -> tensor<?x7x300xbf16> {
  %0 = prism.mul %a, %b : tensor<?x1x300xbf16>, tensor<7x300xbf16>
  %1 = prism.add %0, %a : tensor<?x7x300xbf16>, tensor<?x1x300xbf16>
  return %1 : tensor<?x7x300xbf16>
}

func.func @unary_f32(%x: tensor<?x33xf32>) -> (tensor<?x33xf32>, tensor<?x33xf32>, tensor<?x33xf32>, tensor<?x33xf32>) {
  %a = prism.abs %x : tensor<?x33xf32>
  %e = prism.exp %x : tensor<?x33xf32>
  %l = prism.log %a : tensor<?x33xf32>
  %s = prism.sqrt %a : tensor<?x33xf32>
  %r = prism.rsqrt %e : tensor<?x33xf32>
  %n = prism.neg %r : tensor<?x33xf32>
  %t = prism.tanh %x : tensor<?x33xf32>
  %g = prism.sigmoid %t : tensor<?x33xf32>
  return %l, %s, %n, %g : tensor<?x33xf32>, tensor<?x33xf32>, tensor<?x33xf32>, tensor<?x33xf32>
}

func.func @unary_f16(%x: tensor<2x?x257xf16>) -> (tensor<2x?x257xf16>, tensor<2x?x257xf16>) {
  %e = prism.exp %x : tensor<2x?x257xf16>
  %t = prism.tanh %x : tensor<2x?x257xf16>
  return %e, %t : tensor<2x?x257xf16>, tensor<2x?x257xf16>
}

func.func @activations_bf16(%x: tensor<?x129xbf16>, %y: tensor<?x129xbf16>) -> (tensor<?x129xbf16>, tensor<?x129xbf16>, tensor<?x129xbf16>, tensor<?x129xbf16>, tensor<?x129xbf16>) {
  %r = prism.relu %x : tensor<?x129xbf16>
  %s = prism.silu %x : tensor<?x129xbf16>
  %g = prism.gelu %x : tensor<?x129xbf16>
  %t = prism.gelu %x approximate = tanh : tensor<?x129xbf16>
  %w = prism.swiglu %x, %y : tensor<?x129xbf16>
  return %r, %s, %g, %t, %w : tensor<?x129xbf16>, tensor<?x129xbf16>, tensor<?x129xbf16>, tensor<?x129xbf16>, tensor<?x129xbf16>
}
