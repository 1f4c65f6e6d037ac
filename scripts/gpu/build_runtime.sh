#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no LLVM: builds Prism's runtime alone
# (cmake -DPRISM_RUNTIME_ONLY=ON: prism-exec, and the runtime's Python module
# where PyTorch and pybind11 are installed). Prints PYTHON_MODULE=ON|OFF last.
#
# Usage: scripts/gpu/build_runtime.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build-runtime}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
python_module=OFF
if python3 -c "import torch, pybind11" 2>/dev/null; then python_module=ON; fi
cmake -S "$root" -B "$build" "${generator[@]}" -DPRISM_RUNTIME_ONLY=ON \
  -DPRISM_ENABLE_PYTHON=$python_module -DPython3_EXECUTABLE="$(command -v python3)" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
echo "PYTHON_MODULE=$python_module"
