#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no LLVM: builds Prism's runtime alone
# (cmake -DPRISM_RUNTIME_ONLY=ON: prism-exec, and the runtime's Python module
# where PyTorch and pybind11 are installed). Prints PYTHON_MODULE=ON|OFF last.
# The build's output is appended to BUILD_DIR/build.log (its last lines are
# printed when it fails); a build with the Python module that fails (say,
# no Python headers) is retried without it, so that prism-exec is built,
# and later calls on the same BUILD_DIR (run_on_gpu.sh builds before each
# set of cases) build without it at once.
#
# Usage: scripts/gpu/build_runtime.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build-runtime}
mkdir -p "$build"
log=$build/build.log
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

build_with() { # PYTHON_MODULE: configures and builds, output in the log
  cmake -S "$root" -B "$build" "${generator[@]}" -DPRISM_RUNTIME_ONLY=ON \
    -DPRISM_ENABLE_PYTHON="$1" -DPython3_EXECUTABLE="$(command -v python3)" \
    -DCMAKE_BUILD_TYPE=Release >>"$log" 2>&1 &&
    cmake --build "$build" -j "$(nproc)" >>"$log" 2>&1
}

echo "== build_runtime.sh $(date -u)" >>"$log"
without_python=$build/python-module-failed
python_module=OFF
if [ ! -f "$without_python" ] && python3 -c "import torch, pybind11" 2>/dev/null; then
  python_module=ON
fi
if ! build_with "$python_module"; then
  if [ "$python_module" = ON ]; then
    echo "build_runtime.sh: the build with the Python module failed (the end of" \
         "$log below); building without it" >&2
    tail -n 20 "$log" >&2
    python_module=OFF
    touch "$without_python"
    echo "== retried with PRISM_ENABLE_PYTHON=OFF" >>"$log"
    build_with OFF || {
      echo "build_runtime.sh: the runtime does not build; the end of $log:" >&2
      tail -n 40 "$log" >&2
      exit 1
    }
  else
    echo "build_runtime.sh: the runtime does not build; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
fi
echo "PYTHON_MODULE=$python_module"
