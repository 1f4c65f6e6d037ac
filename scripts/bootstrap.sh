#!/usr/bin/env bash
# Installs what Prism needs to build and test, and nothing when it is all
# there already (a few dpkg queries and one file comparison).
#
#   system packages  LLVM/MLIR 22, clang/lld 22, cmake, ninja, ccache,
#                    GoogleTest
#                    (apt-get; as root, or through sudo)
#   Python packages  scripts/requirements.txt, into $PRISM_VENV (default .venv),
#                    and scripts/requirements-torch.txt (PyTorch) unless
#                    PRISM_WITH_TORCH=0
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${PRISM_VENV:-$root/.venv}
python=${PYTHON:-python3}

apt_packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  cmake ninja-build ccache python3-venv python3-dev libgtest-dev
)

missing=()
for package in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing system packages: ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null ||
      { echo "bootstrap: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

requirements=("$root/scripts/requirements.txt")
if [ "${PRISM_WITH_TORCH:-1}" != 0 ]; then
  requirements+=("$root/scripts/requirements-torch.txt")
fi
stamp=$venv/.prism-requirements
wanted=$(cat "${requirements[@]}")
if [ ! -x "$venv/bin/python" ] || [ "$wanted" != "$(cat "$stamp" 2>/dev/null)" ]; then
  echo "bootstrap: preparing the Python environment in $venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  for file in "${requirements[@]}"; do
    "$venv/bin/python" -m pip install -q -r "$file"
  done
  printf '%s' "$wanted" >"$stamp"
fi
