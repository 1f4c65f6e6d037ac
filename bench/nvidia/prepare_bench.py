"""Compiles bench/nvidia/graphs.mlir for an NVIDIA target, one bundle per
function, into OUT (carried to the GPU machine, where run_gpu_bench.py runs
them). The matmuls and attention are also compiled with other tile sizes
(bundles NAME@VARIANT, prism-run --tile-sizes), so that one run on the GPU
measures which tiles to make the target's default.
Usage: python bench/nvidia/prepare_bench.py OUT [--target nvidia:sm_90a]"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAPHS = os.path.join(ROOT, "bench", "nvidia", "graphs.mlir")
# Tile-size variants of the matmul graphs: name -> prism-run --tile-sizes
# (each names every size, since a size left out keeps the target's choice
# for bf16 products). The default bundle has the target's bf16 tiles: on
# sm_90a 128x128x64, two warpgroups (256 threads) of wgmma sharing B, TMA
# into 4 stages with one wgmma group left in flight per K step (132,128
# bytes of dynamic shared memory, 1 block per SM). 64-row tiles run on one
# warpgroup: 64x128 with K steps of 64 needs 99,360 bytes (2 blocks per
# SM); 128x256x64, the largest of cuBLAS's and CUTLASS's Hopper tiles,
# 197,664. t32x32 is the default before 2026-12-03 (mma.sync).
MATMUL_VARIANTS = {
    "t64x64": "matmul-m=64 matmul-n=64 matmul-k=32",
    "t64x128": "matmul-m=64 matmul-n=128 matmul-k=32",
    "t64x128k64": "matmul-m=64 matmul-n=128 matmul-k=64",
    "t128x128": "matmul-m=128 matmul-n=128 matmul-k=32",
    "t128x256k64": "matmul-m=128 matmul-n=256 matmul-k=64",
    # The default tile without grouped launch order (NVIDIA's default
    # groups 8 row blocks per column block): what the grouping gains.
    "t128x128k64g1": "matmul-m=128 matmul-n=128 matmul-k=64 matmul-group-m=1",
    # 3 stages, every wgmma waited for at each step (the pipeline before
    # 2026-12-03): what leaving a group in flight gains, and at 128x128x64
    # whether two blocks per SM (99 KB each) beat one (132 KB).
    "t128x128k64s3": "matmul-m=128 matmul-n=128 matmul-k=64 pipeline-stages=3 dots-in-flight=0",
    "t128x256k64s3": "matmul-m=128 matmul-n=256 matmul-k=64 pipeline-stages=3 dots-in-flight=0",
    # Warp-specialized (since 2026-12-04): a producer warpgroup issues the
    # TMA copies into slots the two consumer warpgroups release on
    # mbarriers (no block barrier in the K loop), registers shared out by
    # setmaxnreg (40 and 232). 128x256x64 is cuBLAS's and CUTLASS's tile
    # for large bf16 GEMMs on Hopper.
    "t128x128k64ws": "matmul-m=128 matmul-n=128 matmul-k=64 warp-specialize=1",
    "t128x256k64ws": "matmul-m=128 matmul-n=256 matmul-k=64 warp-specialize=1",
    "t32x32": "matmul-m=32 matmul-n=32 matmul-k=32",
    "t32x64": "matmul-m=32 matmul-n=64 matmul-k=32",
    "t32x32k64": "matmul-m=32 matmul-n=32 matmul-k=64",
}
# Attention tile variants (queries x keys per block); the default on sm_90a
# is 128x64: two warpgroups sharing K and V (FlashAttention 3's 128-query
# blocks), both products as wgmma, K and V by TMA. 64-row tiles run on one
# warpgroup; a16x16 is the default before 2026-12-03 (mma.sync). The
# default overlaps P V of one key block with the softmax of the next
# (since 2026-12-04); a128x64serial is the same tiles with the products in
# order, and the variants that set attention-m/n run in order too.
# (Other kernels than attention ignore the ping-pong of warp-specialize=2.)
ATTENTION_VARIANTS = {
    "a128x64serial": "matrix-core-attention-overlap=false",
    # Warp-specialized (since 2026-12-04): a producer warpgroup copies K
    # and V; "pingpong" also makes the two consumer warpgroups take turns
    # at the tensor cores (FlashAttention 3's full scheme with the
    # default's overlap within each warpgroup).
    "a128x64ws": "warp-specialize=1",
    "a128x64pingpong": "warp-specialize=2",
    "a16x16": "attention-m=16 attention-n=16",
    "a32x32": "attention-m=32 attention-n=32",
    "a64x16": "attention-m=64 attention-n=16",
    "a64x32": "attention-m=64 attention-n=32",
    "a64x64": "attention-m=64 attention-n=64",
    "a128x32": "attention-m=128 attention-n=32",
    "a128x128": "attention-m=128 attention-n=128",
}
# Split-K variants of the static decode step (the default on sm_90a: 4
# parts): none, and fewer or more parts. The dynamic-M matmul splits its
# few-rows kernel the same way (since 2026-12-04); its @k1 is that kernel
# unsplit, for the decode case it also runs.
# Split-KV variants of the attention decode step (the default on sm_90a
# above 511 keys: 16 parts for 8 KV heads of 4 packed query heads): none,
# fewer and more parts.
ATTENTION_DECODE_VARIANTS = {
    "s1": "attention-split-kv=1",
    "s4": "attention-split-kv=4",
    "s32": "attention-split-kv=32",
}
DECODE_VARIANTS = {
    "k1": "matmul-split-k=1",
    "k2": "matmul-split-k=2",
    "k8": "matmul-split-k=8",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--target", default="nvidia:sm_90a")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    with open(GRAPHS) as f:
        entries = re.findall(r"func\.func @(\w+)\(", f.read())
    for entry in entries:
        variants = {"": ""}
        if entry.startswith("matmul"):
            variants.update(MATMUL_VARIANTS)
        if entry.startswith("attention_decode"):
            variants.update(ATTENTION_DECODE_VARIANTS)
        elif entry.startswith("attention"):
            variants.update(ATTENTION_VARIANTS)
        if entry.startswith("decode"):
            variants.update(DECODE_VARIANTS)
        if entry == "matmul_bf16":
            variants["k1"] = DECODE_VARIANTS["k1"]
        for variant, tiles in variants.items():
            bundle = entry + (f"@{variant}" if variant else "")
            subprocess.run([os.path.join(args.build, "bin", "prism-run"), GRAPHS,
                            f"--entry={entry}", f"--target={args.target}",
                            f"--tile-sizes={tiles}", "--compile-only",
                            f"--bundle={os.path.join(args.out, bundle)}"],
                           check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
