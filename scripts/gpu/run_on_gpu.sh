#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no LLVM: builds Prism's runtime alone
# (scripts/gpu/build_runtime.sh) and checks every case compiled elsewhere by
# scripts/gpu/prepare_cases.py against its float64 reference. Where PyTorch
# and pybind11 are installed it also runs scripts/gpu/check_torch.py on the
# example blocks (torch CUDA tensors through DLPack, the torch.library op,
# torch.compile, CuPy); PRISM_TORCH_CHECKS=0 skips them.
#
# Usage: scripts/gpu/run_on_gpu.sh CASES_DIR [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cases=${1:?usage: run_on_gpu.sh CASES_DIR [BUILD_DIR]}
build=${2:-$root/build-runtime}
python_module=$("$root/scripts/gpu/build_runtime.sh" "$build" | sed -n 's/^PYTHON_MODULE=//p')
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
status=0
# A case runs in well under a second: one still running after
# PRISM_CASE_TIMEOUT seconds (default 20) is a hung kernel, killed so that
# the other cases run.
python3 "$root/scripts/gpu/check_cases.py" "$cases" --exec "$build/bin/prism-exec" \
  --timeout "${PRISM_CASE_TIMEOUT:-20}" || status=1
if [ "${PRISM_TORCH_CHECKS:-1}" = 0 ]; then
  echo "torch/DLPack checks not asked for (PRISM_TORCH_CHECKS=0)"
elif [ "$python_module" = ON ]; then
  for example in llama_mlp_block llama_decoder_block_small; do
    [ -d "$cases/$example" ] || continue
    PYTHONPATH="$build/python" python3 "$root/scripts/gpu/check_torch.py" \
      "$cases/$example" || status=1
  done
else
  echo "PyTorch or pybind11 missing: the torch/DLPack checks did not run"
fi
exit $status
