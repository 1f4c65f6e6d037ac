"""Checks the Python package with PyTorch tensors where a bundle runs: on a
GPU machine, torch CUDA tensors into an NVIDIA bundle through DLPack (no
copy; outputs stay on the GPU), out= tensors written in place, the bundle as
a torch.library custom op eagerly and inside torch.compile, and CuPy arrays
when CuPy is there; each output against the case's float64 reference.

The case comes from scripts/gpu/prepare_cases.py (a bundle, its inputs and
float64 references), compiled elsewhere. Needs the runtime Python module
(cmake -DPRISM_RUNTIME_ONLY=ON -DPRISM_ENABLE_PYTHON=ON) on PYTHONPATH.

Usage: python scripts/gpu/check_torch.py CASE_DIR [--device cuda|cpu]
(--device cpu checks a CPU bundle the same way, on any machine.)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

import prism
import prism.torch_library

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_cases import as_float64, relative_l2  # noqa: E402


def as_torch(array, dtype, device):
    if dtype == "bf16":  # stored as raw uint16 bits
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16).to(device)
    return torch.from_numpy(array).to(device)


def as_numpy(tensor):
    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    return tensor.numpy()


class Checks:
    def __init__(self, meta, references):
        self.meta, self.references = meta, references
        self.passed = self.failed = 0

    def outputs(self, label, outputs, device):
        for i, (out, spec) in enumerate(zip(outputs, self.meta["outputs"])):
            on_device = getattr(out, "device", None)
            where_ok = on_device is None or on_device.type == device
            error = relative_l2(as_float64(as_numpy(out) if isinstance(out, torch.Tensor)
                                           else np.asarray(out)), self.references[i])
            ok = where_ok and error <= spec["tolerance"]
            self.record(ok, f"{label} output {i}: {spec['dtype']:<5} rel-L2 {error:.3e} "
                            f"(tolerance {spec['tolerance']:.0e}) on {on_device}")

    def record(self, ok, line):
        self.passed += ok
        self.failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {line}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = parser.parse_args()
    with open(os.path.join(args.case, "case.json")) as f:
        meta = json.load(f)
    function = prism.load(os.path.join(args.case, "bundle"))[meta["entry"]]
    dtypes = [d for d, _ in function.inputs]
    arrays = [np.load(os.path.join(args.case, f"in{i}.npy")) for i in range(meta["inputs"])]
    # float32 for floating outputs (prepare_cases.py compacts them).
    references = [np.load(os.path.join(args.case, f"ref{i}.npy")).astype(np.float64)
                  for i in range(len(meta["outputs"]))]
    checks = Checks(meta, references)
    device = args.device
    tensors = [as_torch(a, d, device) for a, d in zip(arrays, dtypes)]
    print(f"{function!r} on {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}, "
          f"torch {torch.__version__}")

    # 1. torch tensors in, torch tensors out, on the tensors' device.
    outputs = function(*tensors)
    checks.outputs("DLPack torch", outputs, device)

    # 2. out= tensors on the device are written in place.
    given = [torch.full_like(o, float("nan")) for o in outputs]
    pointers = [g.data_ptr() for g in given]
    result = function(*tensors, out=tuple(given))
    checks.record(all(r is g and g.data_ptr() == p
                      for r, g, p in zip(result, given, pointers)),
                  "out= tensors written in place")
    checks.outputs("out=", given, device)

    # 3. A torch.library custom op: eager, then inside torch.compile.
    op = prism.torch_library.register(function, f"prism_gpu_check::{meta['entry']}")
    eager = op(*tensors)
    eager = eager if isinstance(eager, tuple) else (eager,)
    checks.outputs("torch.library eager", eager, device)
    compiled = torch.compile(lambda *xs: op(*xs), fullgraph=True)
    traced = compiled(*tensors)
    traced = traced if isinstance(traced, tuple) else (traced,)
    checks.outputs("torch.compile", traced, device)

    # 4. CuPy arrays, when CuPy is installed.
    if device == "cuda":
        try:
            import cupy
        except ImportError:
            print("cupy is not installed: skipped")
        else:
            cupy_inputs = [cupy.from_dlpack(t) for t in tensors]
            outputs = function(*cupy_inputs)
            checks.record(all(isinstance(o, cupy.ndarray) for o in outputs),
                          "CuPy in, CuPy out")
            checks.outputs("DLPack cupy", [torch.from_dlpack(o) for o in outputs], device)

    # 5. A host tensor among device tensors is copied in; outputs stay on
    # the device.
    if device == "cuda":
        try:
            outputs = function(*([tensors[0].cpu()] + tensors[1:]))
            checks.outputs("host + device inputs", outputs, device)
        except prism.PrismError as e:
            checks.record(False, f"host + device inputs raised: {e}")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
