"""Compiles check cases for a GPU target on this machine (which has LLVM but
may have no GPU): every `prism-run ... --entry=E --check --dynamic-size=N`
RUN line of the CPU integration tests, and the example blocks that fit in
what travels to a GPU machine. Each case directory holds the bundle, the
inputs and the float64 reference outputs (prism-run --save-case).

Usage: python scripts/gpu/prepare_cases.py OUT_DIR [--target nvidia:sm_90a]
         [--tile-sizes "matmul-m=64 matmul-n=64"]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = re.compile(r"RUN: prism-run %s --entry=(\w+) --check --dynamic-size=(\d+)")
EXAMPLES = [("llama_decoder_block_small.mlir", 37), ("llama_mlp_block.mlir", 64)]


def cases():
    tests = os.path.join(ROOT, "test", "Integration", "CPU")
    for name in sorted(os.listdir(tests)):
        if not name.endswith(".mlir"):
            continue
        path = os.path.join(tests, name)
        with open(path) as f:
            for entry, size in RUN.findall(f.read()):
                yield f"{name[:-5]}.{entry}", path, entry, int(size)
    for name, size in EXAMPLES:
        yield name[:-5], os.path.join(ROOT, "examples", name), None, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--target", default="nvidia:sm_90a")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--tile-sizes", default="",
                        help="kernelization tiles replacing the target's (prism-run --tile-sizes)")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    failed = 0
    for case, path, entry, size in cases():
        directory = os.path.join(args.out, case)
        command = [os.path.join(args.build, "bin", "prism-run"), path,
                   f"--target={args.target}", "--compile-only",
                   f"--bundle={directory}/bundle", f"--save-case={directory}",
                   f"--dynamic-size={size}", f"--tile-sizes={args.tile_sizes}"]
        if entry:
            command.append(f"--entry={entry}")
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            failed += 1
            print(f"{case}: FAILED to compile\n{result.stderr}", file=sys.stderr)
        else:
            print(result.stdout.strip())
    print(f"{failed} of the cases failed to compile" if failed else "all cases compiled")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
