"""Runs compiled check cases (scripts/gpu/prepare_cases.py) with prism-exec
and compares every output with its float64 reference (relative L2 error
against the dtype's tolerance, the same rule as prism-run --check). Needs
only numpy; runs where the bundles' target is (a GPU machine).

Usage: python scripts/gpu/check_cases.py CASES_DIR --exec build-rt/bin/prism-exec
       python scripts/gpu/check_cases.py CASES_DIR --python   (prism.load on
       PYTHONPATH: the Python runtime module instead of prism-exec)
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
    for case in sorted(os.listdir(args.cases)):
        directory = os.path.join(args.cases, case)
        meta_path = os.path.join(directory, "case.json")
        if not os.path.exists(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
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
                failures += 1
                total += 1
                print(f"{case:<50} ERROR {e}")
                continue
        else:
            try:
                run = subprocess.run([args.prism_exec, os.path.join(directory, "bundle"),
                                      meta["entry"], *inputs, f"--out={out_prefix}"],
                                     capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                # A kernel that never finishes (a barrier or an mbarrier
                # wait nobody completes) must not take the whole session:
                # the process is killed and the case fails.
                failures += 1
                total += 1
                print(f"{case:<50} ERROR no result after {args.timeout:g} s (killed: a hung kernel?)",
                      flush=True)
                continue
            if run.returncode != 0:
                failures += 1
                total += 1
                print(f"{case:<50} ERROR {run.stderr.strip()}", flush=True)
                continue
        for i, output in enumerate(meta["outputs"]):
            total += 1
            actual = as_float64(np.load(f"{out_prefix}{i}.npy"))
            expected = np.load(os.path.join(directory, f"ref{i}.npy"))
            if actual.shape != expected.shape:
                failures += 1
                print(f"{case:<50} output {i}: shape {actual.shape} != {expected.shape} FAIL")
                continue
            error = relative_l2(actual, expected)
            ok = error <= output["tolerance"]
            failures += not ok
            print(f"{case:<50} output {i}: {output['dtype']:<5} rel-L2 {error:.3e} "
                  f"(tolerance {output['tolerance']:.0e}) {'PASS' if ok else 'FAIL'}", flush=True)
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
