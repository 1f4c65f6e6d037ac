// Split-KV attention (flash-decoding): an attention with few programs for
// the target's SMs (a decode step: one query row per batch and head) cuts
// each query block's key range into parts, a program each, which write
// f32 partial outputs with their rows' maximum and sum; a combine kernel
// rescales the parts to the largest maximum and divides once. Checked
// against float64 under the GPU emulators, on the CPU and on AMD.
//
// The target's choice on sm_90a (132 SMs, 128 x 64 bf16 tiles, parts of at
// least 4 key blocks = 256 keys): 4 heads of one query row are 4 programs,
// so up to 32 parts. 700 static keys hold 2 parts of 256 (then 2 launches);
// a dynamic key count gets the single kernel up to 511 keys and the split
// above, chosen at each run (at 1000 keys: parts of 256, the 4 past the
// keys empty but merged). (The static graphs' lines name a size, which
// they ignore, so that scripts/gpu/prepare_cases.py --emulator-tests
// carries them to the hardware too.)
// RUN: prism-run %s --entry=decode_static --check --dynamic-size=1 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=STATIC
// STATIC: 2 kernel launches
// STATIC: PASS
// RUN: prism-run %s --entry=decode --check --dynamic-size=300 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=CHOSEN
// RUN: prism-run %s --entry=decode --check --dynamic-size=1000 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=CHOSEN
// AMD chooses the same way from its compute units (gfx942: 304; 16-key
// blocks, parts of at least 64 keys: the split from 128 keys).
// RUN: %if prism-target-amd %{ prism-run %s --entry=decode --check --dynamic-size=1000 --target=amd-emulated:gfx942 | FileCheck %s --check-prefix=CHOSEN %}
// CHOSEN: 2 kernel launches (1 chosen at run time by a dynamic size)
// CHOSEN: PASS
// CHOSEN-NOT: FAIL
// RUN: prism-opt %s -prism-kernelize="matrix-core-attention-m=128 matrix-core-attention-n=64 matmul-split-k-fill=132" | FileCheck %s --check-prefix=PLAN
// One query row per head with grouped-query heads: the 2 query heads of
// a KV head are the rows of one program (pack-GQA: y = B x Hkv, the
// query and output seen as [B, Hkv, G, D]), reading each key block once
// for both; a few query rows per head too (a speculative step: row r of
// the packed block is query r mod Sq, the position the causal and window
// tests use). A window caps the parts at the keys it leaves a query block
// (600 + 128 + 64 with the plan's 128-row tiles: 3 parts of 256; a window
// of 16 is not split at all). A mask, read by row and head, and query
// rows that fill more than half the tile keep a program per head.
// PLAN-LABEL: func.func @decode(
// PLAN-SAME: {product = [array<i64: 1, 1>, array<i64: 2, 1>], tile = 1 : i64}
// PLAN-SAME: kernel = @decode__0_attention, when = {group = 0 : i64, max = 511 : i64, min = 0 : i64
// PLAN-SAME: {product = [array<i64: 32, 1>], tile = 1 : i64}], kernel = @decode__0_attention_part, when = {group = 0 : i64, min = 512 : i64
// PLAN-SAME: kernel = @decode__1_attention_combine, when = {group = 0 : i64, min = 512 : i64
// PLAN-LABEL: func.func @decode_static(
// PLAN-SAME: {product = [array<i64: 2, 1>], tile = 1 : i64}], kernel = @decode_static__0_attention_part}
// PLAN-SAME: kernel = @decode_static__1_attention_combine}
// A static key count too short for two parts, and many query blocks, are
// not split; nor is anything without a fill (the CPU's default).
// PLAN-LABEL: func.func @short_keys(
// PLAN-NOT: attention_part
// PLAN-LABEL: func.func @prefill(
// PLAN-SAME: {product = [array<i64: 300, 1>], tile = 128 : i64}, {product = [array<i64: 1, 1>, array<i64: 32, 1>], tile = 1 : i64}
// PLAN-NOT: attention_part
// PLAN-LABEL: func.func @decode_window(
// PLAN-SAME: {product = [array<i64: 1, 1>, array<i64: 2, 1>], tile = 1 : i64}, {product = [array<i64: 3, 1>], tile = 1 : i64}], kernel = @decode_window__0_attention_part
// PLAN-LABEL: func.func @short_window(
// PLAN-NOT: attention_part
// PLAN-LABEL: func.func @speculative(
// PLAN-SAME: {product = [array<i64: 6, 1>], tile = 128 : i64}, {product = [array<i64: 1, 1>, array<i64: 2, 1>], tile = 1 : i64}
// PLAN-LABEL: func.func @masked_window(
// RUN: prism-opt %s -prism-kernelize | FileCheck %s --check-prefix=NO-FILL
// NO-FILL-NOT: attention_part
//
// Parts forced by attention-split-kv: several query rows with a causal
// window and an additive mask, grouped-query heads, a value head dim that
// is not a power of two (48), parts past a short range (window 20: 3 parts
// of one key block, the last ones empty), on every emulated target and the
// CPU; a dynamic key count split whatever its length (9 keys: one part
// with keys, two empty).
// RUN: prism-run %s --entry=masked_window --check --target=cpu --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=masked_window --check --dynamic-size=1 --target=nvidia-emulated:sm_90a --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=masked_window --check --dynamic-size=1 --target=nvidia-emulated:sm_80 --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=masked_window --check --target=amd-emulated:gfx942 --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=prefill --check --dynamic-size=1 --target=nvidia-emulated:sm_90a --tile-sizes="attention-split-kv=2" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=decode --check --dynamic-size=9 --target=cpu --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=decode --check --dynamic-size=777 --target=nvidia-emulated:sm_80 --tile-sizes="attention-split-kv=5" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=decode_window --check --dynamic-size=1100 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=CHOSEN
// RUN: prism-run %s --entry=decode --check --dynamic-size=300 --target=cpu | FileCheck %s --check-prefix=PACKED
// RUN: prism-run %s --entry=speculative --check --dynamic-size=13 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=CHOSEN
// RUN: prism-run %s --entry=speculative --check --dynamic-size=1000 --target=nvidia-emulated:sm_90a | FileCheck %s --check-prefix=CHOSEN
// RUN: prism-run %s --entry=speculative --check --dynamic-size=13 --target=cpu | FileCheck %s --check-prefix=PACKED
// RUN: prism-run %s --entry=speculative_window --check --dynamic-size=40 --target=cpu --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=speculative_window --check --dynamic-size=40 --target=nvidia-emulated:sm_90a --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=FORCED
// RUN: prism-run %s --entry=speculative_window --check --dynamic-size=40 --target=nvidia-emulated:sm_80 | FileCheck %s --check-prefix=PACKED
// RUN: prism-run %s --entry=speculative_window --check --dynamic-size=40 --target=amd-emulated:gfx942 | FileCheck %s --check-prefix=PACKED
// PACKED: 1 kernel launches
// PACKED: PASS
// FORCED: 2 kernel launches
// FORCED: PASS
// FORCED-NOT: FAIL
//
// Unfused attention (Ascend's cube and vector split) has no key loop to
// split: the option leaves it as it is.
// RUN: prism-run %s --entry=decode_static --check --target=ascend --tile-sizes="attention-split-kv=3" | FileCheck %s --check-prefix=ASCEND
// ASCEND: PASS
//
// The combine kernel walks every part: a few dozen at most.
// RUN: not prism-run %s --entry=decode --target=cpu --tile-sizes="attention-split-kv=33" 2>&1 | FileCheck %s --check-prefix=TOO-MANY
// TOO-MANY: attention-split-kv must be at most 32, not 33

func.func @decode(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>) -> tensor<1x4x1x64xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x4x1x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>
  return %0 : tensor<1x4x1x64xbf16>
}

func.func @decode_static(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x700x64xbf16>, %v: tensor<1x2x700x64xbf16>) -> tensor<1x4x1x64xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x4x1x64xbf16>, tensor<1x2x700x64xbf16>, tensor<1x2x700x64xbf16>
  return %0 : tensor<1x4x1x64xbf16>
}

func.func @short_keys(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x300x64xbf16>, %v: tensor<1x2x300x64xbf16>) -> tensor<1x4x1x64xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x4x1x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>
  return %0 : tensor<1x4x1x64xbf16>
}

// 1 x 32 heads x 3 blocks of 128 queries: 96 programs, more than half of 132.
func.func @prefill(%q: tensor<1x32x300x64xbf16>, %k: tensor<1x8x300x64xbf16>, %v: tensor<1x8x300x64xbf16>) -> tensor<1x32x300x64xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x32x300x64xbf16>, tensor<1x8x300x64xbf16>, tensor<1x8x300x64xbf16>
  return %0 : tensor<1x32x300x64xbf16>
}

func.func @decode_window(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>) -> tensor<1x4x1x64xbf16> {
  %0 = prism.attention %q, %k, %v causal window = 600 : tensor<1x4x1x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>
  return %0 : tensor<1x4x1x64xbf16>
}

func.func @short_window(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>) -> tensor<1x4x1x64xbf16> {
  %0 = prism.attention %q, %k, %v causal window = 16 : tensor<1x4x1x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>
  return %0 : tensor<1x4x1x64xbf16>
}

// A speculative step: 3 query rows per head, rows of 2 heads packed.
func.func @speculative(%q: tensor<1x4x3x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>) -> tensor<1x4x3x64xbf16> {
  %0 = prism.attention %q, %k, %v causal : tensor<1x4x3x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>
  return %0 : tensor<1x4x3x64xbf16>
}

func.func @speculative_window(%q: tensor<2x6x3x32xf32>, %k: tensor<2x2x?x32xf32>, %v: tensor<2x2x?x32xf32>) -> tensor<2x6x3x32xf32> {
  %0 = prism.attention %q, %k, %v causal window = 4 : tensor<2x6x3x32xf32>, tensor<2x2x?x32xf32>, tensor<2x2x?x32xf32>
  return %0 : tensor<2x6x3x32xf32>
}

func.func @masked_window(%q: tensor<2x4x5x32xf32>, %k: tensor<2x2x77x32xf32>, %v: tensor<2x2x77x48xf32>, %mask: tensor<5x77xf32>) -> tensor<2x4x5x48xf32> {
  %0 = prism.attention %q, %k, %v mask(%mask : tensor<5x77xf32>) causal window = 20 : tensor<2x4x5x32xf32>, tensor<2x2x77x32xf32>, tensor<2x2x77x48xf32>
  return %0 : tensor<2x4x5x48xf32>
}
