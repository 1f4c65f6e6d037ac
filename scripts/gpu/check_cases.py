"""Runs compiled check cases (scripts/gpu/prepare_cases.py) with prism-exec
and compares every output with its float64 reference (relative L2 error
against the dtype's tolerance, the same rule as prism-run --check). Needs
only numpy; runs where the bundles' target is (a GPU machine).

Usage: python scripts/gpu/check_cases.py CASES_DIR --exec build-rt/bin/prism-exec
       python scripts/gpu/check_cases.py CASES_DIR --python   (prism.load on
       PYTHONPATH: the Python runtime module instead of prism-exec)

A case that fails and whose bundle copies tiles by TMA is run once more
with PRISM_TENSOR_MAPS=0 (the kernels then fill their slots by cp.async),
and the line says whether it passes so: a fault of the tensor copies or of
the rest. That run is not counted.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np


def as_float64(array):
    if array.dtype == np.uint16:  # raw bf16 bits
        return (array.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return array.astype(np.float64)


def relative_l2(actual, expected):
    both_nan = np.isnan(actual) & np.isnan(expected)
    a = np.where(both_nan, 0.0, actual)
    e = np.where(both_nan, 0.0, expected)
    if not (np.isfinite(a).all() and np.isfinite(e).all()):
        same_inf = (a == e) | ~np.isinf(e)
        if not (np.isfinite(a) | (np.isinf(a) & (a == e))).all() or not same_inf.all():
            return float("inf")
        finite = np.isfinite(e)
        a, e = a[finite], e[finite]
    norm = np.linalg.norm(e)
    diff = np.linalg.norm(a - e)
    return float(diff / norm) if norm > 0 else float(diff)


def run_case(args, directory, meta, environment=None, warnings=None):
    """Runs one case: (None, [(output index, message, passed)]) or
    (error message, []); the runtime's warnings (prism-exec's "prism:
    warning:" lines, such as a tensor map the driver refused) are appended
    to `warnings`."""
    inputs = [os.path.join(directory, f"in{i}.npy") for i in range(meta["inputs"])]
    out_prefix = os.path.join(directory, "out")
    if args.python:
        import prism
        try:
            function = prism.load(os.path.join(directory, "bundle"))[meta["entry"]]
            arrays = []
            for path, (dtype, _) in zip(inputs, function.inputs):
                a = np.load(path)
                arrays.append(a.view(prism.tensors.BFLOAT16) if dtype == "bf16" else a)
            for i, out in enumerate(function(*arrays)):
                np.save(f"{out_prefix}{i}.npy",
                        out.view(np.uint16) if out.dtype == prism.tensors.BFLOAT16 else out)
        except prism.PrismError as e:
            return str(e), []
    else:
        for i in range(len(meta["outputs"])):  # no stale output passes
            if os.path.exists(f"{out_prefix}{i}.npy"):
                os.remove(f"{out_prefix}{i}.npy")
        try:
            run = subprocess.run([args.prism_exec, os.path.join(directory, "bundle"),
                                  meta["entry"], *inputs, f"--out={out_prefix}"],
                                 capture_output=True, text=True, timeout=args.timeout,
                                 env=environment)
        except subprocess.TimeoutExpired:
            # A kernel that never finishes (a barrier or an mbarrier wait
            # nobody completes) must not take the whole session: the
            # process is killed and the case fails.
            return f"no result after {args.timeout:g} s (killed: a hung kernel?)", []
        if warnings is not None:
            warnings.extend(line.strip() for line in run.stderr.splitlines()
                            if line.startswith("prism: warning:"))
        if run.returncode != 0:
            return run.stderr.strip(), []
    results = []
    for i, output in enumerate(meta["outputs"]):
        actual = as_float64(np.load(f"{out_prefix}{i}.npy"))
        # float32 for floating outputs (prepare_cases.py compacts them).
        expected = np.load(os.path.join(directory, f"ref{i}.npy")).astype(np.float64)
        if actual.shape != expected.shape:
            results.append((i, f"shape {actual.shape} != {expected.shape}", False))
            continue
        error = relative_l2(actual, expected)
        results.append((i, f"{output['dtype']:<5} rel-L2 {error:.3e} "
                           f"(tolerance {output['tolerance']:.0e})",
                        error <= output["tolerance"]))
    return None, results


def uses_tensor_maps(directory):
    """Whether a kernel of the case's bundle takes tensor maps (TMA)."""
    try:
        with open(os.path.join(directory, "bundle", "manifest.json")) as f:
            kernels = json.load(f).get("kernels", {})
    except (OSError, ValueError):
        return False
    return any(k.get("tensor_maps") for k in kernels.values()) if isinstance(kernels, dict) \
        else False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases")
    parser.add_argument("--exec", dest="prism_exec")
    parser.add_argument("--python", action="store_true",
                        help="run through the prism Python package")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds a case may run under prism-exec before it counts as hung")
    args = parser.parse_args()
    failures = 0
    total = 0
    # Cases whose tensor maps the driver refused: they passed or failed on
    # cp.async, so their TMA path was not checked.
    refused = []
    for case in sorted(os.listdir(args.cases)):
        directory = os.path.join(args.cases, case)
        meta_path = os.path.join(directory, "case.json")
        if not os.path.exists(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        warnings = []
        error, results = run_case(args, directory, meta, warnings=warnings)
        for warning in warnings:
            print(f"{case:<50} {warning}", flush=True)
        if any("refused tensor map" in w for w in warnings):
            refused.append(case)
        if error is not None:
            failures += 1
            total += 1
            print(f"{case:<50} ERROR {error}", flush=True)
        for i, message, passed in results:
            total += 1
            failures += not passed
            print(f"{case:<50} output {i}: {message} {'PASS' if passed else 'FAIL'}", flush=True)
        # (A case whose maps the driver refused already ran on cp.async.)
        if (error is not None or not all(r[2] for r in results)) and not args.python \
                and uses_tensor_maps(directory) and case not in refused:
            # Which part is at fault: the same bundle with no tensor maps
            # fills its slots by cp.async (TensorMaps.h).
            environment = dict(os.environ, PRISM_TENSOR_MAPS="0")
            error, results = run_case(args, directory, meta, environment)
            verdict = (f"ERROR {error}" if error is not None else
                       "PASS" if all(r[2] for r in results) else
                       "FAIL: " + "; ".join(m for _, m, ok in results if not ok))
            print(f"{case:<50} (again with PRISM_TENSOR_MAPS=0, not counted: {verdict})",
                  flush=True)
    if refused:
        print(f"{len(refused)} cases ran on cp.async, not TMA: the driver refused their "
              f"tensor maps ({', '.join(refused)})")
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
