// Attention's KV loop with staged operands, run under the GPU emulator and
// checked against float64: K and V tiles are loaded by cp.async into a
// 3-stage pipeline (their slots above the loop's own exchanges), Q, which
// the loop does not change, into a pinned slot once, and P (computed in
// the loop) is published at every step as before. Head dim 128, causal,
// grouped queries, ragged sequence lengths, several tile shapes (32x32
// needs dynamic shared memory).

// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=77 --target=nvidia-emulated:sm_90a | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=77 --target=nvidia-emulated:sm_80 --tile-sizes="attention-m=32 attention-n=32" | FileCheck %s
// RUN: prism-run %s --entry=causal_gqa --check --dynamic-size=50 --target=nvidia-emulated:sm_90a --tile-sizes="attention-m=64 attention-n=16" | FileCheck %s
// RUN: prism-run %s --entry=masked_f16 --check --dynamic-size=45 --target=nvidia-emulated:sm_90a | FileCheck %s
// CHECK: PASS
// CHECK-NOT: FAIL

// RUN: rm -rf %t && prism-translate %s --entry=causal_gqa --target=nvidia-emulated:sm_90a -o %t
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.json
// MANIFEST: "causal_gqa__0_attention": {
// MANIFEST-NEXT: "threads": 128,
// MANIFEST-NEXT: "shared_bytes": 43264,
// MANIFEST-NEXT: "stages": 3

func.func @causal_gqa(%q: tensor<1x4x?x128xbf16>, %k: tensor<1x2x?x128xbf16>, %v: tensor<1x2x?x128xbf16>) -> tensor<1x4x?x128xbf16> {
  %o = prism.attention %q, %k, %v causal : tensor<1x4x?x128xbf16>, tensor<1x2x?x128xbf16>, tensor<1x2x?x128xbf16>
  return %o : tensor<1x4x?x128xbf16>
}

func.func @masked_f16(%q: tensor<1x2x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>, %m: tensor<?x?xf32>) -> tensor<1x2x?x64xf16> {
  %o = prism.attention %q, %k, %v mask(%m : tensor<?x?xf32>) : tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>
  return %o : tensor<1x2x?x64xf16>
}
