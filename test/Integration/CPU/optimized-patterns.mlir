// Unfused patterns as frameworks export them, compiled with prism-optimize
// (the default) and checked against the float64 reference of the unfused
// ops: attention recognized into one flash-attention kernel, matmul
// epilogues, SwiGLU, norms and elementwise chains fused.
// RUN: prism-run %s --entry=attention_masked --check --dynamic-size=37 | FileCheck %s --check-prefixes=CHECK,ONE
// RUN: prism-run %s --entry=attention_bf16_casts --check --dynamic-size=21 | FileCheck %s --check-prefixes=CHECK,ONE
// RUN: prism-run %s --entry=attention_causal_constant --check | FileCheck %s --check-prefixes=CHECK,ONE
// RUN: prism-run %s --entry=attention_window_constant --check | FileCheck %s --check-prefixes=CHECK,ONE
// The grouped form returns a reshape of the attention output, which the
// plan copies into the output buffer: two launches.
// RUN: prism-run %s --entry=attention_grouped --check --dynamic-size=19 | FileCheck %s --check-prefixes=CHECK,TWO
// RUN: prism-run %s --entry=mlp --check --dynamic-size=13 | FileCheck %s --check-prefixes=CHECK,THREE
// RUN: prism-run %s --entry=mlp --check --dynamic-size=13 --optimize=false | FileCheck %s --check-prefixes=CHECK,EIGHT
// RUN: prism-run %s --entry=chain --check --dynamic-size=9 | FileCheck %s --check-prefixes=CHECK,ONE
// A prologue that is not zero on the padding (exp(0) = 1) with a row tail:
// RUN: prism-run %s --entry=exp_rms_norm --check --dynamic-size=5 | FileCheck %s --check-prefixes=CHECK,ONE
// RUN: prism-run %s --entry=exp_layer_norm --check --dynamic-size=5 | FileCheck %s --check-prefixes=CHECK,ONE
// CHECK-NOT: FAIL
// ONE: 1 kernel launches
// THREE: 3 kernel launches
// TWO: 2 kernel launches
// EIGHT: 8 kernel launches
// CHECK: PASS

func.func @attention_masked(%q: tensor<2x3x?x32xf32>, %k: tensor<2x3x?x32xf32>, %v: tensor<2x3x?x16xf32>, %mask: tensor<1x1x?x?xf32>) -> tensor<2x3x?x16xf32> {
  %c = arith.constant dense<0.1767766952966369> : tensor<f32>
  %s = prism.matmul %q, %k transpose_rhs : tensor<2x3x?x32xf32>, tensor<2x3x?x32xf32>
  %t = prism.mul %s, %c : tensor<2x3x?x?xf32>, tensor<f32>
  %m = prism.add %t, %mask : tensor<2x3x?x?xf32>, tensor<1x1x?x?xf32>
  %p = prism.softmax %m axis = -1 : tensor<2x3x?x?xf32>
  %o = prism.matmul %p, %v : tensor<2x3x?x?xf32>, tensor<2x3x?x16xf32>
  return %o : tensor<2x3x?x16xf32>
}

func.func @attention_bf16_casts(%q: tensor<1x4x?x64xbf16>, %k: tensor<1x4x?x64xbf16>, %v: tensor<1x4x?x64xbf16>) -> tensor<1x4x?x64xbf16> {
  %c = arith.constant dense<8.0> : tensor<bf16>
  %kt = prism.transpose %k perm = [0, 1, 3, 2] : tensor<1x4x?x64xbf16>
  %s = prism.matmul %q, %kt : tensor<1x4x?x64xbf16>, tensor<1x4x64x?xbf16>
  %d = prism.div %s, %c : tensor<1x4x?x?xbf16>, tensor<bf16>
  %f = prism.cast %d : tensor<1x4x?x?xbf16> to tensor<1x4x?x?xf32>
  %p = prism.softmax %f axis = 3 : tensor<1x4x?x?xf32>
  %b = prism.cast %p : tensor<1x4x?x?xf32> to tensor<1x4x?x?xbf16>
  %o = prism.matmul %b, %v : tensor<1x4x?x?xbf16>, tensor<1x4x?x64xbf16>
  return %o : tensor<1x4x?x64xbf16>
}

func.func @attention_causal_constant(%q: tensor<1x2x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>) -> tensor<1x2x3x16xf32> {
  %mask = arith.constant dense<[[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000],
                                [0.0, 0.0, 0.0, 0.0, 0xFF800000],
                                [0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<3x5xf32>
  %s = prism.matmul %q, %k transpose_rhs : tensor<1x2x3x16xf32>, tensor<1x2x5x16xf32>
  %m = prism.add %s, %mask : tensor<1x2x3x5xf32>, tensor<3x5xf32>
  %p = prism.softmax %m axis = -1 scale = 0.25 : tensor<1x2x3x5xf32>
  %o = prism.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x16xf32>
  return %o : tensor<1x2x3x16xf32>
}

func.func @attention_window_constant(%q: tensor<1x2x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>) -> tensor<1x2x3x16xf32> {
  %mask = arith.constant dense<[[0xFF800000, 0.0, 0.0, 0xFF800000, 0xFF800000],
                                [0xFF800000, 0xFF800000, 0.0, 0.0, 0xFF800000],
                                [0xFF800000, 0xFF800000, 0xFF800000, 0.0, 0.0]]> : tensor<3x5xf32>
  %s = prism.matmul %q, %k transpose_rhs : tensor<1x2x3x16xf32>, tensor<1x2x5x16xf32>
  %m = prism.add %s, %mask : tensor<1x2x3x5xf32>, tensor<3x5xf32>
  %p = prism.softmax %m axis = -1 : tensor<1x2x3x5xf32>
  %o = prism.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x16xf32>
  return %o : tensor<1x2x3x16xf32>
}

func.func @attention_grouped(%q: tensor<1x2x4x?x32xf16>, %k: tensor<1x2x1x?x32xf16>, %v: tensor<1x2x1x?x32xf16>) -> tensor<1x2x4x?x32xf16> {
  %s = prism.matmul %q, %k transpose_rhs : tensor<1x2x4x?x32xf16>, tensor<1x2x1x?x32xf16>
  %p = prism.softmax %s axis = -1 scale = 0.1767766952966369 : tensor<1x2x4x?x?xf16>
  %o = prism.matmul %p, %v : tensor<1x2x4x?x?xf16>, tensor<1x2x1x?x32xf16>
  return %o : tensor<1x2x4x?x32xf16>
}

func.func @mlp(%x: tensor<?x48xbf16>, %r: tensor<?x48xbf16>, %n: tensor<48xbf16>, %wg: tensor<96x48xbf16>, %wu: tensor<96x48xbf16>, %wd: tensor<48x96xbf16>) -> tensor<?x48xbf16> {
  %s = prism.add %x, %r : tensor<?x48xbf16>, tensor<?x48xbf16>
  %h = prism.rms_norm %s, %n : tensor<?x48xbf16>, tensor<48xbf16>
  %g = prism.matmul %h, %wg transpose_rhs : tensor<?x48xbf16>, tensor<96x48xbf16>
  %u = prism.matmul %h, %wu transpose_rhs : tensor<?x48xbf16>, tensor<96x48xbf16>
  %a = prism.silu %g : tensor<?x96xbf16>
  %b = prism.mul %a, %u : tensor<?x96xbf16>, tensor<?x96xbf16>
  %d = prism.matmul %b, %wd transpose_rhs : tensor<?x96xbf16>, tensor<48x96xbf16>
  %o = prism.add %s, %d : tensor<?x48xbf16>, tensor<?x48xbf16>
  return %o : tensor<?x48xbf16>
}

func.func @chain(%x: tensor<?x130xf32>, %y: tensor<130xf32>) -> tensor<?x130xf32> {
  %c = arith.constant dense<3.0> : tensor<f32>
  %t = prism.transpose %x perm = [0, 1] : tensor<?x130xf32>
  %a = prism.mul %t, %c : tensor<?x130xf32>, tensor<f32>
  %b = prism.add %a, %y : tensor<?x130xf32>, tensor<130xf32>
  %e = prism.sigmoid %b : tensor<?x130xf32>
  %f = prism.mul %e, %x : tensor<?x130xf32>, tensor<?x130xf32>
  return %f : tensor<?x130xf32>
}

func.func @exp_rms_norm(%x: tensor<?x37xf32>, %w: tensor<37xf32>) -> tensor<?x37xf32> {
  %e = prism.exp %x : tensor<?x37xf32>
  %y = prism.rms_norm %e, %w : tensor<?x37xf32>, tensor<37xf32>
  return %y : tensor<?x37xf32>
}

func.func @exp_layer_norm(%x: tensor<?x37xf32>, %w: tensor<37xf32>, %b: tensor<37xf32>) -> tensor<?x37xf32> {
  %e = prism.exp %x : tensor<?x37xf32>
  %y = prism.layer_norm %e weight(%w : tensor<37xf32>) bias(%b : tensor<37xf32>) : tensor<?x37xf32>
  return %y : tensor<?x37xf32>
}
