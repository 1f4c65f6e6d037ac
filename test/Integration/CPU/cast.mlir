// cast on the CPU: rounding to nearest even, i8 saturation and NaN rules.
// RUN: prism-run %s --entry=floats --check --dynamic-size=300 | FileCheck %s
// RUN: prism-run %s --entry=to_int8 --check --dynamic-size=5 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: PASS

func.func @floats(%x: tensor<?x3xf32>, %h: tensor<?x3xf16>) -> (tensor<?x3xbf16>, tensor<?x3xf32>, tensor<?x3xbf16>) {
  %0 = prism.cast %x : tensor<?x3xf32> to tensor<?x3xbf16>
  %1 = prism.cast %0 : tensor<?x3xbf16> to tensor<?x3xf32>
  %2 = prism.cast %h : tensor<?x3xf16> to tensor<?x3xbf16>
  return %0, %1, %2 : tensor<?x3xbf16>, tensor<?x3xf32>, tensor<?x3xbf16>
}

func.func @to_int8(%x: tensor<?x40xf32>) -> (tensor<?x40xi8>, tensor<?x40xf32>) {
  // x * exp(x^2) reaches far beyond [-128, 127] on both sides.
  %sq = prism.mul %x, %x : tensor<?x40xf32>, tensor<?x40xf32>
  %e = prism.exp %sq : tensor<?x40xf32>
  %s = prism.mul %x, %e : tensor<?x40xf32>, tensor<?x40xf32>
  %0 = prism.cast %s : tensor<?x40xf32> to tensor<?x40xi8>
  %1 = prism.cast %0 : tensor<?x40xi8> to tensor<?x40xf32>
  return %0, %1 : tensor<?x40xi8>, tensor<?x40xf32>
}
