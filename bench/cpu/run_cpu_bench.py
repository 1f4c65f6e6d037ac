"""CPU benchmarks of Prism's kernels against anchors measured in the same run.

Each case is a small graph compiled by prism-run for the CPU target and run
on the same random inputs as its anchor:

  matmul f32    vs numpy.matmul (OpenBLAS, all cores, as bundled with numpy),
                a @ b and x @ w^T (a Linear's [out, in] weight)
  rms_norm f32  vs numpy.copyto of the input into a preallocated array, the
                faster of one thread and all cores (the memory-bandwidth
                ceiling: one read and one write per element)
  softmax f32   vs the same copy
  attention f32 vs numpy (OpenBLAS matmuls + a numpy softmax, causal mask)

Prism's CPU runtime spreads the grid over all cores; OpenBLAS uses all cores
too. Prism's runtime reuses its buffers between runs (a caching pool), as
the anchors reuse theirs. Times are medians over repeated runs after a warm-up. The report goes to
bench/results/cpu-<date>-<host>.md and .json (ratio = anchor time / Prism
time: above 1 means Prism is faster).

Usage: python bench/cpu/run_cpu_bench.py [--build build] [--quick]
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def median_time(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def prism_time(build, mlir, inputs, repeat, work):
    paths = []
    for i, array in enumerate(inputs):
        path = os.path.join(work, f"in{i}.npy")
        np.save(path, array)
        paths.append(path)
    source = os.path.join(work, "case.mlir")
    with open(source, "w") as f:
        f.write(mlir)
    out = subprocess.run(
        [os.path.join(build, "bin", "prism-run"), source, "--target=cpu",
         "--inputs=" + ",".join(paths), "--bench", f"--repeat={repeat}"],
        check=True, capture_output=True, text=True).stdout
    median = re.search(r"median ([0-9.]+) ms", out)
    compiled = re.search(r"compiled in ([0-9.]+) s", out)
    return float(median.group(1)) / 1e3, float(compiled.group(1))


def cases(quick):
    rng = np.random.default_rng(0)
    n = 1024 if quick else 2048
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    yield dict(
        name=f"matmul f32 {n}x{n}x{n}",
        flops=2 * n ** 3,
        mlir=f"""func.func @f(%a: tensor<{n}x{n}xf32>, %b: tensor<{n}x{n}xf32>) -> tensor<{n}x{n}xf32> {{
  %0 = prism.matmul %a, %b : tensor<{n}x{n}xf32>, tensor<{n}x{n}xf32>
  return %0 : tensor<{n}x{n}xf32>
}}""",
        inputs=[a, b],
        anchor="numpy.matmul (OpenBLAS)",
        anchor_fn=lambda: np.matmul(a, b))
    # The layout of a PyTorch Linear's weight, [out, in]: x @ w^T.
    yield dict(
        name=f"matmul f32 {n}x{n}x{n} (x @ w^T)",
        flops=2 * n ** 3,
        mlir=f"""func.func @f(%a: tensor<{n}x{n}xf32>, %b: tensor<{n}x{n}xf32>) -> tensor<{n}x{n}xf32> {{
  %0 = prism.matmul %a, %b transpose_rhs : tensor<{n}x{n}xf32>, tensor<{n}x{n}xf32>
  return %0 : tensor<{n}x{n}xf32>
}}""",
        inputs=[a, b],
        anchor="numpy.matmul (OpenBLAS)",
        anchor_fn=lambda: np.matmul(a, b.T))

    rows, dim = (2048, 4096) if quick else (8192, 4096)
    x = rng.standard_normal((rows, dim), dtype=np.float32)
    w = rng.standard_normal((dim,), dtype=np.float32)
    moved = 2 * x.nbytes
    copy_target = np.empty_like(x)
    threads = ThreadPoolExecutor(os.cpu_count())
    chunks = np.array_split(np.arange(rows), os.cpu_count())

    def threaded_copy():
        # numpy releases the GIL in copyto: one row range per core.
        list(threads.map(lambda r: np.copyto(copy_target[r[0]:r[-1] + 1],
                                             x[r[0]:r[-1] + 1]), chunks))

    def copy_ceiling():
        # The faster of a single-threaded and an all-core copy, decided once.
        single = median_time(lambda: np.copyto(copy_target, x), 3)
        parallel = median_time(threaded_copy, 3)
        return (lambda: np.copyto(copy_target, x)) if single <= parallel else threaded_copy

    copy = copy_ceiling()
    yield dict(
        name=f"rms_norm f32 {rows}x{dim}",
        bytes=moved,
        mlir=f"""func.func @f(%x: tensor<{rows}x{dim}xf32>, %w: tensor<{dim}xf32>) -> tensor<{rows}x{dim}xf32> {{
  %0 = prism.rms_norm %x, %w : tensor<{rows}x{dim}xf32>, tensor<{dim}xf32>
  return %0 : tensor<{rows}x{dim}xf32>
}}""",
        inputs=[x, w],
        anchor="copy ceiling (numpy.copyto, preallocated, best of 1 and all threads)",
        anchor_fn=copy)
    yield dict(
        name=f"softmax f32 {rows}x{dim}",
        bytes=moved,
        mlir=f"""func.func @f(%x: tensor<{rows}x{dim}xf32>) -> tensor<{rows}x{dim}xf32> {{
  %0 = prism.softmax %x : tensor<{rows}x{dim}xf32>
  return %0 : tensor<{rows}x{dim}xf32>
}}""",
        inputs=[x],
        anchor="copy ceiling (numpy.copyto, preallocated, best of 1 and all threads)",
        anchor_fn=copy)

    heads, seq, hd = (8, 512, 64) if quick else (8, 1024, 64)
    q = rng.standard_normal((1, heads, seq, hd), dtype=np.float32)
    k = rng.standard_normal((1, heads, seq, hd), dtype=np.float32)
    v = rng.standard_normal((1, heads, seq, hd), dtype=np.float32)
    causal = np.triu(np.full((seq, seq), -np.inf, dtype=np.float32), 1)

    def numpy_attention():
        s = np.matmul(q, k.transpose(0, 1, 3, 2)) * np.float32(hd ** -0.5) + causal
        s = np.exp(s - s.max(-1, keepdims=True))
        return np.matmul(s / s.sum(-1, keepdims=True), v)

    t = f"tensor<1x{heads}x{seq}x{hd}xf32>"
    yield dict(
        name=f"attention f32 causal 1x{heads}x{seq}x{hd}",
        flops=2 * 2 * heads * seq * seq * hd // 2,
        mlir=f"""func.func @f(%q: {t}, %k: {t}, %v: {t}) -> {t} {{
  %0 = prism.attention %q, %k, %v causal : {t}, {t}, {t}
  return %0 : {t}
}}""",
        inputs=[q, k, v],
        anchor="numpy (OpenBLAS matmuls, materialized scores)",
        anchor_fn=numpy_attention)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    machine = f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
    date = datetime.date.today().isoformat()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for case in cases(args.quick):
            prism_s, compile_s = prism_time(args.build, case["mlir"], case["inputs"],
                                            args.repeat, work)
            anchor_s = median_time(case["anchor_fn"], args.repeat)
            row = dict(case=case["name"], prism_ms=prism_s * 1e3,
                       anchor=case["anchor"], anchor_ms=anchor_s * 1e3,
                       ratio=anchor_s / prism_s, compile_s=compile_s)
            if "flops" in case:
                row["prism_gflops"] = case["flops"] / prism_s / 1e9
                row["anchor_gflops"] = case["flops"] / anchor_s / 1e9
            if "bytes" in case:
                row["prism_gbps"] = case["bytes"] / prism_s / 1e9
                row["anchor_gbps"] = case["bytes"] / anchor_s / 1e9
            rows.append(row)
            print(f"{row['case']:<40} prism {row['prism_ms']:9.3f} ms  "
                  f"{row['anchor']}: {row['anchor_ms']:9.3f} ms  "
                  f"ratio {row['ratio']:.3f}", flush=True)

    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"cpu-{date}-{platform.node() or 'host'}")
    report = dict(date=date, machine=machine, numpy=np.__version__,
                  repeat=args.repeat, quick=args.quick, results=rows)
    with open(stem + ".json", "w") as f:
        json.dump(report, f, indent=2)
    with open(stem + ".md", "w") as f:
        f.write(f"# CPU benchmarks, {date}\n\nMachine: {machine}. numpy {np.__version__}; "
                f"medians of {args.repeat} runs after a warm-up; ratio = anchor time / "
                "Prism time (above 1: Prism faster). Produced by "
                "`bench/cpu/run_cpu_bench.py`.\n\n")
        f.write("| case | Prism ms | anchor | anchor ms | ratio | throughput (Prism / anchor) |\n")
        f.write("|---|---:|---|---:|---:|---|\n")
        for r in rows:
            tput = (f"{r['prism_gflops']:.1f} / {r['anchor_gflops']:.1f} GFLOP/s"
                    if "prism_gflops" in r else
                    f"{r['prism_gbps']:.1f} / {r['anchor_gbps']:.1f} GB/s")
            f.write(f"| {r['case']} | {r['prism_ms']:.3f} | {r['anchor']} | "
                    f"{r['anchor_ms']:.3f} | {r['ratio']:.3f} | {tput} |\n")
    print("wrote", stem + ".md")


if __name__ == "__main__":
    sys.exit(main())
