// Hand-written prism.fusion ops of every kind run on the CPU against the
// float64 reference (which evaluates the body as the unfused ops), with
// tails in every tile dimension.
// RUN: prism-run %s --entry=matmul_epilogue --check --dynamic-size=19 | FileCheck %s
// RUN: prism-run %s --entry=matmul_bias_gelu_cast --check --dynamic-size=7 | FileCheck %s
// RUN: prism-run %s --entry=gated --check --dynamic-size=11 | FileCheck %s
// RUN: prism-run %s --entry=gated_bias_nt --check --dynamic-size=3 | FileCheck %s
// RUN: prism-run %s --entry=add_rms_norm --check --dynamic-size=5 | FileCheck %s
// RUN: prism-run %s --entry=add_layer_norm --check --dynamic-size=6 | FileCheck %s
// RUN: prism-run %s --entry=chain --check --dynamic-size=33 | FileCheck %s
// RUN: prism-run %s --entry=constants --check --dynamic-size=4 | FileCheck %s
// RUN: prism-run %s --entry=q_rope --check --dynamic-size=11 | FileCheck %s
// RUN: prism-run %s --entry=k_rope_f32_bias --check --dynamic-size=13 | FileCheck %s
// RUN: prism-run %s --entry=q_rope --check --dynamic-size=6 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=k_rope_f32_bias --check --dynamic-size=5 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=matmul_epilogue --check --dynamic-size=9 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=gated --check --dynamic-size=4 --target=ascend | FileCheck %s
// RUN: prism-run %s --entry=add_rms_norm --check --dynamic-size=5 --target=ascend | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: PASS

// Residual add and scaling by a constant in the epilogue (bf16).
func.func @matmul_epilogue(%x: tensor<?x72xbf16>, %w: tensor<70x72xbf16>, %r: tensor<?x70xbf16>) -> tensor<?x70xbf16> {
  %y = prism.fusion matmul -> (tensor<?x70xbf16>) {
    %half = arith.constant dense<0.5> : tensor<bf16>
    %m = prism.matmul %x, %w transpose_rhs : tensor<?x72xbf16>, tensor<70x72xbf16>
    %s = prism.mul %m, %half : tensor<?x70xbf16>, tensor<bf16>
    %a = prism.add %r, %s : tensor<?x70xbf16>, tensor<?x70xbf16>
    prism.yield %a : tensor<?x70xbf16>
  }
  return %y : tensor<?x70xbf16>
}

// Bias, gelu, and a cast to f32 of the f32 accumulator.
func.func @matmul_bias_gelu_cast(%x: tensor<2x?x40xf32>, %w: tensor<40x65xf32>, %b: tensor<65xf32>) -> tensor<2x?x65xf16> {
  %y = prism.fusion matmul -> (tensor<2x?x65xf16>) {
    %m = prism.matmul %x, %w bias(%b : tensor<65xf32>) : tensor<2x?x40xf32>, tensor<40x65xf32>
    %g = prism.gelu %m approximate = tanh : tensor<2x?x65xf32>
    %c = prism.cast %g : tensor<2x?x65xf32> to tensor<2x?x65xf16>
    prism.yield %c : tensor<2x?x65xf16>
  }
  return %y : tensor<2x?x65xf16>
}

// SwiGLU: gate and up share the reads of x.
func.func @gated(%x: tensor<1x?x48xbf16>, %wg: tensor<96x48xbf16>, %wu: tensor<96x48xbf16>) -> tensor<1x?x96xbf16> {
  %y = prism.fusion gated_matmul -> (tensor<1x?x96xbf16>) {
    %g = prism.matmul %x, %wg transpose_rhs : tensor<1x?x48xbf16>, tensor<96x48xbf16>
    %u = prism.matmul %x, %wu transpose_rhs : tensor<1x?x48xbf16>, tensor<96x48xbf16>
    %a = prism.swiglu %g, %u : tensor<1x?x96xbf16>
    prism.yield %a : tensor<1x?x96xbf16>
  }
  return %y : tensor<1x?x96xbf16>
}

// Gated with biases, [K, N] weights, and silu(gate) * up spelled out.
func.func @gated_bias_nt(%x: tensor<?x30xf32>, %wg: tensor<30x21xf32>, %wu: tensor<30x21xf32>, %bg: tensor<21xf32>, %bu: tensor<21xf32>) -> tensor<?x21xf32> {
  %y = prism.fusion gated_matmul -> (tensor<?x21xf32>) {
    %g = prism.matmul %x, %wg bias(%bg : tensor<21xf32>) : tensor<?x30xf32>, tensor<30x21xf32>
    %u = prism.matmul %x, %wu bias(%bu : tensor<21xf32>) : tensor<?x30xf32>, tensor<30x21xf32>
    %s = prism.silu %g : tensor<?x21xf32>
    %a = prism.mul %s, %u : tensor<?x21xf32>, tensor<?x21xf32>
    prism.yield %a : tensor<?x21xf32>
  }
  return %y : tensor<?x21xf32>
}

// Residual add + rms_norm, both results (row longer than a chunk).
func.func @add_rms_norm(%x: tensor<1x?x200xbf16>, %r: tensor<1x?x200xbf16>, %w: tensor<200xbf16>) -> (tensor<1x?x200xbf16>, tensor<1x?x200xbf16>) {
  %n, %s = prism.fusion norm -> (tensor<1x?x200xbf16>, tensor<1x?x200xbf16>) {
    %a = prism.add %x, %r : tensor<1x?x200xbf16>, tensor<1x?x200xbf16>
    %b = prism.rms_norm %a, %w eps = 1.0e-5 : tensor<1x?x200xbf16>, tensor<200xbf16>
    prism.yield %b, %a : tensor<1x?x200xbf16>, tensor<1x?x200xbf16>
  }
  return %n, %s : tensor<1x?x200xbf16>, tensor<1x?x200xbf16>
}

// Add + layer_norm with weight and bias, only the normalized result.
func.func @add_layer_norm(%x: tensor<?x77xf32>, %r: tensor<?x77xf32>, %w: tensor<77xf32>, %b: tensor<77xf32>) -> tensor<?x77xf32> {
  %n = prism.fusion norm -> (tensor<?x77xf32>) {
    %a = prism.add %x, %r : tensor<?x77xf32>, tensor<?x77xf32>
    %c = prism.layer_norm %a weight(%w : tensor<77xf32>) bias(%b : tensor<77xf32>) eps = 1.0e-5 : tensor<?x77xf32>
    prism.yield %c : tensor<?x77xf32>
  }
  return %n : tensor<?x77xf32>
}

// An elementwise chain with a broadcast operand used twice.
func.func @chain(%x: tensor<?x300xf16>, %y: tensor<?x300xf16>, %b: tensor<300xf16>) -> tensor<?x300xf16> {
  %z = prism.fusion elementwise -> (tensor<?x300xf16>) {
    %a = prism.mul %x, %y : tensor<?x300xf16>, tensor<?x300xf16>
    %c = prism.add %a, %b : tensor<?x300xf16>, tensor<300xf16>
    %d = prism.tanh %c : tensor<?x300xf16>
    %e = prism.sub %d, %b : tensor<?x300xf16>, tensor<300xf16>
    prism.yield %e : tensor<?x300xf16>
  }
  return %z : tensor<?x300xf16>
}

// Unfused elementwise ops with splat constants.
func.func @constants(%x: tensor<?x70xf32>) -> tensor<?x70xf32> {
  %c = arith.constant dense<0.125> : tensor<1x70xf32>
  %a = prism.mul %x, %c : tensor<?x70xf32>, tensor<1x70xf32>
  %b = prism.add %a, %x : tensor<?x70xf32>, tensor<?x70xf32>
  return %b : tensor<?x70xf32>
}

// A q projection with rope in its epilogue (pairs of a head 8 columns
// apart; two batches with their own positions).
func.func @q_rope(%x: tensor<2x?x48xbf16>, %w: tensor<64x48xbf16>, %pos: tensor<2x?xi32>) -> tensor<2x?x4x16xbf16> {
  %y = prism.fusion matmul_rope -> (tensor<2x?x4x16xbf16>) {
    %m = prism.matmul %x, %w transpose_rhs : tensor<2x?x48xbf16>, tensor<64x48xbf16>
    %r = prism.reshape %m : tensor<2x?x64xbf16> to tensor<2x?x4x16xbf16>
    %o = prism.rope neox bshd %r, %pos theta = 1.0e4 : tensor<2x?x4x16xbf16>, tensor<2x?xi32>
    prism.yield %o : tensor<2x?x4x16xbf16>
  }
  return %y : tensor<2x?x4x16xbf16>
}

// Head dim 128 (pair blocks of the full N tile), a [K, N] weight with a
// bias, positions [S].
func.func @k_rope_f32_bias(%x: tensor<1x?x40xf32>, %w: tensor<40x256xf32>, %b: tensor<256xf32>, %pos: tensor<?xi32>) -> tensor<1x?x2x128xf32> {
  %y = prism.fusion matmul_rope -> (tensor<1x?x2x128xf32>) {
    %m = prism.matmul %x, %w bias(%b : tensor<256xf32>) : tensor<1x?x40xf32>, tensor<40x256xf32>
    %r = prism.reshape %m : tensor<1x?x256xf32> to tensor<1x?x2x128xf32>
    %o = prism.rope neox bshd %r, %pos theta = 5.0e5 : tensor<1x?x2x128xf32>, tensor<?xi32>
    prism.yield %o : tensor<1x?x2x128xf32>
  }
  return %y : tensor<1x?x2x128xf32>
}
