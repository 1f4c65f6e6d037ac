#!/usr/bin/env bash
# Here (with LLVM): everything a session on a lent GPU machine checks and
# times, in one directory small enough to carry there (the device tool
# carries at most 64 MiB): the check cases with the default tiles and with
# 64-row matmul and attention tiles (wgmma fed by TMA on sm_90a), the
# benchmark bundles (matmul and attention tile variants too) and the
# Llama-3-8B decoder block. Then, there,
# scripts/gpu/device_session.sh runs it all in one command.
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
  --build="$build" --tile-sizes="matmul-m=64 matmul-n=64 attention-m=64 attention-n=32"
"$python" "$root/bench/nvidia/prepare_bench.py" "$out/bench" --target="$target" --build="$build"
"$build/bin/prism-translate" "$root/examples/llama3_8b_decoder_block.mlir" --target="$target" \
  -o "$out/decoder_block"
echo "$target" >"$out/TARGET"
size=$(du -sm "$out" | cut -f1)
echo "prepared $out for $target: ${size} MiB"
if [ "$size" -gt 60 ]; then
  echo "warning: more than 60 MiB; the device tool carries at most 64" >&2
fi
