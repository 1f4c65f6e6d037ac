"""Compiles check cases for a GPU target on this machine (which has LLVM but
may have no GPU): every `prism-run ... --entry=E --check --dynamic-size=N`
RUN line of the CPU integration tests, and the example blocks that fit in
what travels to a GPU machine. Each case directory holds the bundle, the
inputs and the float64 reference outputs (prism-run --save-case).

With --emulator-tests the cases are instead the RUN lines of the GPU
emulator's tests (test/Target/GpuEmulator: ragged and long-K staged matmuls,
128-row tiles on two warpgroups, explicit pipeline choices, attention tile
shapes), each compiled for TARGET with the tile sizes its line names: the
edge cases the emulator checks, run on the hardware.

References of floating outputs travel as float32 (half the bytes of what
--save-case writes; the device tool carries at most 64 MiB): rounding a
float64 reference to float32 moves a relative L2 error by at most 2^-24
(6e-8), below the tightest tolerance (f32's 1e-5) by two orders.

A case whose inputs and references take more than --max-case-mib (default
8; the CPU tests' 16 MiB rows that check streaming stores) is left out, and
the run says which: what travels must stay under the device tool's 64 MiB.

Usage: python scripts/gpu/prepare_cases.py OUT_DIR [--target nvidia:sm_90a]
         [--tile-sizes "matmul-m=64 matmul-n=64"] [--emulator-tests]
         [--max-case-mib 8]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = re.compile(r"RUN: prism-run %s --entry=(\w+) --check --dynamic-size=(\d+)")
EXAMPLES = [("llama_decoder_block_small.mlir", 37), ("llama_mlp_block.mlir", 64)]
EMULATOR_RUN = re.compile(r'RUN: prism-run %s --entry=(\w+) --check --dynamic-size=(\d+) '
                          r'--target=[a-z]+-emulated:(\w+)(?: --tile-sizes="([^"]*)")?')


def emulator_test_cases(target):
    """(case, file, entry, size, tile sizes) of every emulator test RUN line
    for TARGET's vendor, once per distinct (file, entry, size, tiles)."""
    vendor = target.split(":")[0].removesuffix("-emulated")
    tests = os.path.join(ROOT, "test", "Target", "GpuEmulator")
    seen = set()
    for name in sorted(os.listdir(tests)):
        if not name.endswith(".mlir"):
            continue
        path = os.path.join(tests, name)
        with open(path) as f:
            text = f.read()
        for line in text.splitlines():
            match = EMULATOR_RUN.search(line)
            if not match or f"{vendor}-emulated:" not in line:
                continue
            entry, size, _, tiles = match.groups()
            tiles = tiles or ""
            if (name, entry, size, tiles) in seen:
                continue
            seen.add((name, entry, size, tiles))
            slug = re.sub(r"[^0-9a-z]+", "", tiles.replace("matmul-", "mm").replace(
                "attention-", "at").replace(" ", "_")) or "default"
            yield f"{name[:-5]}.{entry}.{size}.{slug}", path, entry, int(size), tiles


def cases(tile_sizes):
    """An entry checked at several sizes is a case per size (FILE.ENTRY.SIZE);
    one size, FILE.ENTRY."""
    tests = os.path.join(ROOT, "test", "Integration", "CPU")
    for name in sorted(os.listdir(tests)):
        if not name.endswith(".mlir"):
            continue
        path = os.path.join(tests, name)
        with open(path) as f:
            lines = RUN.findall(f.read())
        entries = [entry for entry, _ in lines]
        for entry, size in dict.fromkeys(lines):
            case = f"{name[:-5]}.{entry}"
            if entries.count(entry) > 1:
                case += f".{size}"
            yield case, path, entry, int(size), tile_sizes
    for name, size in EXAMPLES:
        yield name[:-5], os.path.join(ROOT, "examples", name), None, size, tile_sizes


def compact_references(directory):
    """Rewrites the case's float64 references of f32/f16/bf16 outputs as
    float32 (check_cases.py reads them back as float64)."""
    with open(os.path.join(directory, "case.json")) as f:
        outputs = json.load(f)["outputs"]
    for i, output in enumerate(outputs):
        path = os.path.join(directory, f"ref{i}.npy")
        if output["dtype"] in ("f32", "f16", "bf16") and os.path.exists(path):
            reference = np.load(path)
            if reference.dtype == np.float64:
                np.save(path, reference.astype(np.float32))


def same_kernels(bundle, other):
    """Whether two bundles hold the same kernels.* files, byte for byte."""
    names = sorted(n for n in os.listdir(bundle) if n.startswith("kernels."))
    if not names or not os.path.isdir(other) or names != sorted(
            n for n in os.listdir(other) if n.startswith("kernels.")):
        return False
    for name in names:
        with open(os.path.join(bundle, name), "rb") as a, \
                open(os.path.join(other, name), "rb") as b:
            if a.read() != b.read():
                return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--target", default="nvidia:sm_90a")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--tile-sizes", default="",
                        help="kernelization tiles replacing the target's (prism-run --tile-sizes)")
    parser.add_argument("--emulator-tests", action="store_true",
                        help="the GPU emulator tests' RUN lines instead of the CPU "
                             "integration tests (each with its own tile sizes)")
    parser.add_argument("--skip-same-kernels-as", metavar="DIR",
                        help="drop a case whose kernels (every bundle file kernels.*) are "
                             "byte for byte those of the same case in DIR: tiles that change "
                             "nothing need not travel twice")
    parser.add_argument("--max-case-mib", type=float, default=8,
                        help="leave out a case whose inputs and references take more")
    args = parser.parse_args()
    if args.emulator_tests and args.tile_sizes:
        parser.error("--emulator-tests takes the tile sizes of each test line; "
                     "give no --tile-sizes")
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    failed = 0
    skipped = 0
    too_large = []
    chosen = (emulator_test_cases(args.target) if args.emulator_tests
              else cases(args.tile_sizes))
    for case, path, entry, size, tile_sizes in chosen:
        directory = os.path.join(args.out, case)
        command = [os.path.join(args.build, "bin", "prism-run"), path,
                   f"--target={args.target}", "--compile-only",
                   f"--bundle={directory}/bundle", f"--save-case={directory}",
                   f"--dynamic-size={size}", f"--tile-sizes={tile_sizes}"]
        if entry:
            command.append(f"--entry={entry}")
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            failed += 1
            print(f"{case}: FAILED to compile\n{result.stderr}", file=sys.stderr)
        elif args.skip_same_kernels_as and same_kernels(
                os.path.join(directory, "bundle"),
                os.path.join(args.skip_same_kernels_as, case, "bundle")):
            shutil.rmtree(directory)
            skipped += 1
        else:
            compact_references(directory)
            data = sum(os.path.getsize(os.path.join(directory, n))
                       for n in os.listdir(directory) if n.endswith(".npy"))
            if data > args.max_case_mib * 2 ** 20:
                shutil.rmtree(directory)
                too_large.append(f"{case} ({data / 2 ** 20:.0f} MiB)")
                continue
            print(result.stdout.strip())
    if skipped:
        print(f"{skipped} cases dropped: the same kernels as in {args.skip_same_kernels_as}")
    if too_large:
        print(f"{len(too_large)} cases left out, their data above --max-case-mib "
              f"{args.max_case_mib:g}: {', '.join(too_large)}")
    print(f"{failed} of the cases failed to compile" if failed else "all cases compiled")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
