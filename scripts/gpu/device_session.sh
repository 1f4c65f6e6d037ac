#!/usr/bin/env bash
# There (a GPU machine with CUDA, cmake, PyTorch; no LLVM): builds the
# runtime and runs what scripts/gpu/prepare_device_session.sh prepared:
# every check case against float64 with the default tiles and with 64-row
# matmul and attention tiles (wgmma + TMA on sm_90a), the torch/DLPack checks, the kernel
# benchmarks against PyTorch (cuBLAS, SDPA, torch.compile) and the copy
# bandwidth, and the decoder block. Each step's output goes to OUT (one
# file per step, plus the benchmarks' JSON); a failing step does not stop
# the others, and the exit status says whether all passed.
#
# Usage: scripts/gpu/device_session.sh DIR OUT [BUILD_DIR]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${1:?usage: device_session.sh DIR OUT [BUILD_DIR]}
out=${2:?usage: device_session.sh DIR OUT [BUILD_DIR]}
build=${3:-$root/build-runtime}
mkdir -p "$out"
status=0
step() {
  local name=$1
  shift
  echo "== $name"
  local started=$SECONDS
  "$@" >"$out/$name.txt" 2>&1
  local result=$?
  tail -n 25 "$out/$name.txt"
  echo "== $name: exit $result, $((SECONDS - started)) s"
  [ "$result" -eq 0 ] || status=1
}
{ nvidia-smi || true; cat "$dir/TARGET" 2>/dev/null; date -u; } >"$out/machine.txt" 2>&1
step correctness-default "$root/scripts/gpu/run_on_gpu.sh" "$dir/cases" "$build"
step correctness-64 "$root/scripts/gpu/run_on_gpu.sh" "$dir/cases-64" "$build"
step bench python3 "$root/bench/nvidia/run_gpu_bench.py" "$dir/bench" "$out/bench" \
  --exec "$build/bin/prism-exec"
step decoder-block python3 "$root/bench/nvidia/run_decoder_block.py" "$dir/decoder_block" \
  "$out/decoder-block" --exec "$build/bin/prism-exec"
exit $status
