#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no LLVM: builds Prism's runtime alone
# (cmake -DPRISM_RUNTIME_ONLY=ON) and checks every case compiled elsewhere by
# scripts/gpu/prepare_cases.py against its float64 reference.
#
# Usage: scripts/gpu/run_on_gpu.sh CASES_DIR [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cases=${1:?usage: run_on_gpu.sh CASES_DIR [BUILD_DIR]}
build=${2:-$root/build-runtime}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DPRISM_RUNTIME_ONLY=ON \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
python3 "$root/scripts/gpu/check_cases.py" "$cases" --exec "$build/bin/prism-exec"
