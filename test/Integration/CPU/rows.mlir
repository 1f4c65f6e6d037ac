// rms_norm and softmax on the CPU against the float64 reference: rows longer
// than one chunk (tails), weights in f32 with bf16 activations, softmax over
// the last and over a middle axis, scales of both signs.
// RUN: prism-run %s --entry=rms_f32 --check --dynamic-size=3 | FileCheck %s
// RUN: prism-run %s --entry=rms_bf16_f32_weight --check --dynamic-size=37 | FileCheck %s
// RUN: prism-run %s --entry=softmax_last --check --dynamic-size=600 | FileCheck %s
// RUN: prism-run %s --entry=softmax_middle_axis --check --dynamic-size=19 | FileCheck %s
// RUN: prism-run %s --entry=softmax_f16 --check --dynamic-size=7 | FileCheck %s
// Outputs of 16 MiB and more: rows whose address is aligned are written
// with non-temporal stores (rows of 1000 f32 are, every other one), the
// others and the tails with ordinary ones; softmax, whose last pass
// rewrites the exponentials an earlier one stored, always with ordinary
// ones.
// RUN: prism-run %s --entry=rms_f32 --check --dynamic-size=2100 | FileCheck %s
// RUN: prism-run %s --entry=softmax_last --check --dynamic-size=1400000 | FileCheck %s
// Rows of length 0: nothing to compute, and the float64 reference agrees.
// RUN: prism-run %s --entry=norms_of_empty_rows --check | FileCheck %s --check-prefix=EMPTY
// EMPTY-COUNT-2: f32 4x0 {{.*}} PASS
// CHECK-NOT: FAIL
// CHECK: PASS

func.func @rms_f32(%x: tensor<2x?x1000xf32>, %w: tensor<1000xf32>) -> tensor<2x?x1000xf32> {
  %0 = prism.rms_norm %x, %w eps = 1.0e-5 : tensor<2x?x1000xf32>, tensor<1000xf32>
  return %0 : tensor<2x?x1000xf32>
}

func.func @rms_bf16_f32_weight(%x: tensor<?x77xbf16>, %w: tensor<77xf32>) -> tensor<?x77xbf16> {
  %0 = prism.rms_norm %x, %w : tensor<?x77xbf16>, tensor<77xf32>
  return %0 : tensor<?x77xbf16>
}

func.func @softmax_last(%x: tensor<3x?xf32>) -> (tensor<3x?xf32>, tensor<3x?xf32>) {
  %0 = prism.softmax %x : tensor<3x?xf32>
  %1 = prism.softmax %x scale = -0.75 : tensor<3x?xf32>
  return %0, %1 : tensor<3x?xf32>, tensor<3x?xf32>
}

func.func @softmax_middle_axis(%x: tensor<4x?x6xf32>) -> tensor<4x?x6xf32> {
  %0 = prism.softmax %x axis = 1 scale = 0.5 : tensor<4x?x6xf32>
  return %0 : tensor<4x?x6xf32>
}

func.func @softmax_f16(%x: tensor<?x300xf16>) -> tensor<?x300xf16> {
  %0 = prism.softmax %x : tensor<?x300xf16>
  return %0 : tensor<?x300xf16>
}

func.func @norms_of_empty_rows(%x: tensor<4x0xf32>, %w: tensor<0xf32>) -> (tensor<4x0xf32>, tensor<4x0xf32>) {
  %0 = prism.rms_norm %x, %w : tensor<4x0xf32>, tensor<0xf32>
  %1 = prism.layer_norm %x : tensor<4x0xf32>
  return %0, %1 : tensor<4x0xf32>, tensor<4x0xf32>
}
