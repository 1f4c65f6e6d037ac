#!/usr/bin/env bash
# Here (with LLVM): everything a session on a lent GPU machine checks and
# times, in one directory small enough to carry there (the device tool
# carries at most 64 MiB): the check cases with the default tiles (on
# sm_90a, 128-row bf16 tiles: two warpgroups of wgmma fed by TMA, a group
# left in flight per K step), with 64-row tiles (one warpgroup) and with
# 32-row ones (mma.sync, the defaults before 2026-12-03) (those two sets
# only where the tiles change the kernels),
# the GPU emulator tests' edge cases with their own tile sizes, the
# benchmark bundles (matmul and attention tile variants too) and the
# Llama-3-8B decoder block. Then, there,
# scripts/gpu/device_session.sh runs it all in one command.
#
# DIR ends up holding one archive, session.tar.xz (the cubins compress
# about 3x, the PTX about 17x: 94 MiB of cases and bundles were 30 MiB
# packed on 2026-12-05),
# which device_session.sh unpacks there; PRISM_GPU_PACK=0 leaves DIR
# unpacked (to look at here).
#
# Usage: scripts/gpu/prepare_device_session.sh DIR [TARGET] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: prepare_device_session.sh DIR [TARGET] [BUILD_DIR]}
target=${2:-nvidia:sm_90a}
build=${3:-$root/build}
python=${PYTHON:-$root/.venv/bin/python}
rm -rf "$out"
mkdir -p "$out"
"$python" "$root/scripts/gpu/prepare_cases.py" "$out/cases" --target="$target" --build="$build"
"$python" "$root/scripts/gpu/prepare_cases.py" "$out/cases-64" --target="$target" \
  --build="$build" --tile-sizes="matmul-m=64 matmul-n=64 matmul-k=32 attention-m=64 attention-n=32" \
  --skip-same-kernels-as="$out/cases"
"$python" "$root/scripts/gpu/prepare_cases.py" "$out/cases-32" --target="$target" \
  --build="$build" --tile-sizes="matmul-m=32 matmul-n=32 matmul-k=32 attention-m=16 attention-n=16" \
  --skip-same-kernels-as="$out/cases"
"$python" "$root/scripts/gpu/prepare_cases.py" "$out/cases-emulator-tests" --target="$target" \
  --build="$build" --emulator-tests
"$python" "$root/bench/nvidia/prepare_bench.py" "$out/bench" --target="$target" --build="$build"
"$build/bin/prism-translate" "$root/examples/llama3_8b_decoder_block.mlir" --target="$target" \
  -o "$out/decoder_block"
echo "$target" >"$out/TARGET"
# The PTX ISA's wgmma.fence rule on every kernel prepared (every tile and
# pipeline variant): what breaks it is undefined on the hardware, which the
# emulator cannot show.
find "$out" -name kernels.ptx -print0 |
  xargs -0 -r -n 1 "$python" "$root/scripts/gpu/check_wgmma_fences.py"
# The runtime loads the library the manifest names (the cubin), and the
# PTX beside it where the driver refuses the cubin (a driver older than
# this ptxas): packed, the PTX costs about a twentieth of its size.
unpacked=$(du -sm "$out" | cut -f1)
if [ "${PRISM_GPU_PACK:-1}" != 0 ]; then
  tar -C "$out" -cf - . | xz -T0 -6 >"$out.tar.xz.partial"
  find "$out" -mindepth 1 -delete
  mv "$out.tar.xz.partial" "$out/session.tar.xz"
fi
size=$(du -sm "$out" | cut -f1)
echo "prepared $out for $target: ${size} MiB to carry (${unpacked} MiB unpacked)"
if [ "$size" -gt 60 ]; then
  echo "error: $out is ${size} MiB, more than the 60 MiB that leave room in the" \
       "device tool's 64 MiB carry; make the largest cases smaller" \
       "(PRISM_GPU_PACK=0, then du -sm $out/*/*)" >&2
  exit 1
fi
