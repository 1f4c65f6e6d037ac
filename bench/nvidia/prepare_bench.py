"""Compiles bench/nvidia/graphs.mlir for an NVIDIA target, one bundle per
function, into OUT (carried to the GPU machine, where run_gpu_bench.py runs
them). Usage: python bench/nvidia/prepare_bench.py OUT [--target nvidia:sm_90a]"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAPHS = os.path.join(ROOT, "bench", "nvidia", "graphs.mlir")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--target", default="nvidia:sm_90a")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    with open(GRAPHS) as f:
        entries = re.findall(r"func\.func @(\w+)\(", f.read())
    for entry in entries:
        subprocess.run([os.path.join(args.build, "bin", "prism-run"), GRAPHS,
                        f"--entry={entry}", f"--target={args.target}",
                        "--compile-only", f"--bundle={os.path.join(args.out, entry)}"],
                       check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
