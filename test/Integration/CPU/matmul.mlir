// matmul on the CPU against the float64 reference: tails in M, N and K,
// batch broadcasting, all transpose flags, bias, f16 accumulation, i8
// weights.
// RUN: prism-run %s --entry=plain --check --dynamic-size=29 | FileCheck %s
// RUN: prism-run %s --entry=linear_bf16 --check --dynamic-size=13 | FileCheck %s
// RUN: prism-run %s --entry=batched_transposed --check --dynamic-size=3 | FileCheck %s
// RUN: prism-run %s --entry=f16_accumulation --check | FileCheck %s
// RUN: prism-run %s --entry=int8_weights --check --dynamic-size=9 | FileCheck %s
// Programs in groups of row blocks (matmul-group-m, the NVIDIA default 8):
// 29 rows in 8 blocks of 4 and 45 columns in 6 blocks of 8, groups of 3
// row blocks (the last one of 2); a batch; every output tile written once.
// RUN: prism-run %s --entry=plain --check --dynamic-size=29 --tile-sizes="matmul-m=4 matmul-n=8 matmul-group-m=3" | FileCheck %s
// RUN: prism-run %s --entry=batched_transposed --check --dynamic-size=3 --tile-sizes="matmul-m=4 matmul-n=4 matmul-group-m=2" | FileCheck %s
// RUN: prism-run %s --entry=linear_bf16 --check --dynamic-size=13 --tile-sizes="matmul-m=4 matmul-n=16 matmul-group-m=8" | FileCheck %s
// The operand pipeline's shape is for targets that stage dot operands; the
// CPU takes the kernels' attributes and ignores them.
// RUN: prism-run %s --entry=linear_bf16 --check --dynamic-size=13 --tile-sizes="pipeline-stages=3 dots-in-flight=0 warp-specialize=1" | FileCheck %s
// The CPU's register-blocked products (default 128 x 128 x 32 tiles):
// whole blocks packed straight from memory and ragged ones through the
// padding, [N, K] weights packed by transposed squares (16 x 16 on AVX-512,
// 8 x 8 on AVX2) and A read transposed, the epilogue (bias, silu, the bf16
// rounding) on chunks of rows, a 16-bit accumulator rounded per FMA, a
// dynamic M of at most 8 rows on the 8-row kernel (matmul-min-m), and a
// static M of 40 on a 64-row tile.
// RUN: prism-run %s --entry=blocked_nt --check --dynamic-size=150 | FileCheck %s
// RUN: prism-run %s --entry=blocked_nt --check --dynamic-size=150 --target=cpu:avx2 | FileCheck %s
// RUN: prism-run %s --entry=blocked_nt --check --dynamic-size=5 | FileCheck %s
// RUN: prism-run %s --entry=blocked_tn --check --dynamic-size=131 | FileCheck %s
// RUN: prism-run %s --entry=blocked_tn --check --dynamic-size=131 --target=cpu:avx2 | FileCheck %s
// RUN: prism-run %s --entry=blocked_bf16_silu --check --dynamic-size=200 | FileCheck %s
// RUN: prism-run %s --entry=blocked_bf16_silu --check --dynamic-size=200 --target=cpu:avx2 | FileCheck %s
// RUN: prism-run %s --entry=blocked_f16_accumulation --check | FileCheck %s
// RUN: prism-run %s --entry=blocked_f16_accumulation --check --target=cpu:avx2 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: PASS

func.func @plain(%a: tensor<?x67xf32>, %b: tensor<67x45xf32>) -> tensor<?x45xf32> {
  %0 = prism.matmul %a, %b : tensor<?x67xf32>, tensor<67x45xf32>
  return %0 : tensor<?x45xf32>
}

func.func @linear_bf16(%x: tensor<1x?x96xbf16>, %w: tensor<130x96xbf16>, %b: tensor<130xf32>) -> tensor<1x?x130xbf16> {
  %0 = prism.matmul %x, %w bias(%b : tensor<130xf32>) transpose_rhs : tensor<1x?x96xbf16>, tensor<130x96xbf16>
  return %0 : tensor<1x?x130xbf16>
}

func.func @batched_transposed(%a: tensor<?x1x40x9xf32>, %b: tensor<4x17x40xf32>) -> tensor<?x4x9x17xf32> {
  %0 = prism.matmul %a, %b transpose_lhs transpose_rhs : tensor<?x1x40x9xf32>, tensor<4x17x40xf32>
  return %0 : tensor<?x4x9x17xf32>
}

func.func @f16_accumulation(%a: tensor<2x11x24xf16>, %b: tensor<24x5xf16>) -> tensor<2x11x5xf16> {
  %0 = prism.matmul %a, %b acc(f16) : tensor<2x11x24xf16>, tensor<24x5xf16>
  return %0 : tensor<2x11x5xf16>
}

func.func @int8_weights(%x: tensor<?x50xf32>, %w: tensor<50x70xi8>) -> tensor<?x70xf32> {
  %0 = prism.matmul %x, %w : tensor<?x50xf32>, tensor<50x70xi8>
  return %0 : tensor<?x70xf32>
}

func.func @blocked_nt(%x: tensor<?x160xf32>, %w: tensor<200x160xf32>, %b: tensor<200xf32>) -> tensor<?x200xf32> {
  %0 = prism.matmul %x, %w bias(%b : tensor<200xf32>) transpose_rhs : tensor<?x160xf32>, tensor<200x160xf32>
  return %0 : tensor<?x200xf32>
}

func.func @blocked_tn(%a: tensor<96x?xf32>, %b: tensor<96x140xf32>) -> tensor<?x140xf32> {
  %0 = prism.matmul %a, %b transpose_lhs : tensor<96x?xf32>, tensor<96x140xf32>
  return %0 : tensor<?x140xf32>
}

func.func @blocked_bf16_silu(%x: tensor<1x?x96xbf16>, %w: tensor<272x96xbf16>) -> tensor<1x?x272xbf16> {
  %0 = prism.matmul %x, %w transpose_rhs : tensor<1x?x96xbf16>, tensor<272x96xbf16>
  %1 = prism.silu %0 : tensor<1x?x272xbf16>
  return %1 : tensor<1x?x272xbf16>
}

func.func @blocked_f16_accumulation(%a: tensor<40x64xf16>, %b: tensor<64x48xf16>) -> tensor<40x48xf16> {
  %0 = prism.matmul %a, %b acc(f16) : tensor<40x64xf16>, tensor<64x48xf16>
  return %0 : tensor<40x48xf16>
}
