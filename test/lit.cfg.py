# -*- Python -*-
# The Prism lit suite: dialects, passes, targets, examples, malformed input.

import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Prism"
# The internal shell: portable, and it has `not` built in.
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.prism_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py", "Inputs"]

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Variables in FileCheck patterns are scoped to a CHECK-LABEL block.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

config.substitutions.append(("%prism_src", config.prism_src_root))
config.substitutions.append(("%python", config.python_executable))

tool_dirs = [config.prism_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["prism-opt", "prism-run", "prism-exec", "prism-translate"], tool_dirs)

# One feature per enabled backend (target lit.local.cfg files check them),
# and one per optional vendor tool.
for target in config.enabled_targets:
    config.available_features.add("prism-target-" + target)
cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
if shutil.which("ptxas") or os.path.exists(os.path.join(cuda_home, "bin", "ptxas")):
    config.available_features.add("ptxas")
# cuobjdump (and the nvdisasm it runs): the toolkit's, else the one
# scripts/requirements.txt installs into the venv from NVIDIA's wheels,
# whose directory then goes on PATH (for the tests and prism-translate).
import glob
import sys
cuobjdump = shutil.which("cuobjdump") or os.path.join(cuda_home, "bin", "cuobjdump")
if not os.path.exists(cuobjdump):
    prefix = os.path.dirname(os.path.dirname(config.python_executable))
    wheels = sorted(glob.glob(os.path.join(prefix, "lib", "python*", "site-packages",
                                           "nvidia", "cu*", "bin", "cuobjdump")))
    cuobjdump = wheels[-1] if wheels else ""
    if cuobjdump:
        config.environment["PATH"] = os.path.dirname(cuobjdump) + os.pathsep + config.environment.get("PATH", "")
if cuobjdump and os.path.exists(cuobjdump):
    config.available_features.add("cuobjdump")
    config.substitutions.append(("%cuobjdump", cuobjdump))
# An NVIDIA driver on this machine (tests of the no-driver error skip then).
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
# A HIP runtime on this machine (tests of the no-HIP error skip then).
for hip in ("libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5"):
    try:
        ctypes.CDLL(hip)
        config.available_features.add("hip-runtime")
        break
    except OSError:
        pass
if os.environ.get("ASCEND_HOME_PATH"):
    config.available_features.add("cann")
config.substitutions.append(("%prism_tools", config.prism_tools_dir))
config.substitutions.append(("%llvm_tools", config.llvm_tools_dir))
