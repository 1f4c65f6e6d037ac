"""What prism-optimize does to the example blocks on the CPU: kernels and
global-memory bytes before and after fusion (prism-opt's
--prism-fusion-report), CPU time before and after (prism-run --bench with
--optimize=false / true, same process run, same random inputs), both
checked against the float64 reference (prism-run --check), and an anchor
timed in the same run: the same block in numpy float32 (OpenBLAS matmuls,
materialized attention scores), on inputs of the same shapes.

The report goes to bench/results/fusion-cpu-<date>-<host>.md and .json.

Usage: python bench/cpu/run_fusion_bench.py [--build build] [--quick]
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess

import numpy as np

from run_cpu_bench import median_time  # the same timing as the per-op bench

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(build, tool, *args):
    return subprocess.run([os.path.join(build, "bin", tool), *args], check=True,
                          capture_output=True, text=True).stdout


def fusion_report(build, example, seq):
    out = run(build, "prism-opt", example, "--prism-optimize", "--prism-fusion-report",
              f"--prism-fusion-report-dynamic-size={seq}", "-o", os.devnull)
    kernels = re.search(r"kernels:\s+(\d+) -> (\d+)", out)
    moved = re.search(r"global memory bytes: (\d+) -> (\d+)", out)
    before = re.search(r"before: (.*)", out).group(1).split()
    after = re.search(r"after: (.*)", out).group(1).split()
    return dict(kernels_before=int(kernels.group(1)), kernels_after=int(kernels.group(2)),
                bytes_before=int(moved.group(1)), bytes_after=int(moved.group(2)),
                launches_before=before, launches_after=after)


# The passes of prism-optimize, cumulatively, and norm fusion alone (in the
# pipeline the residual adds go to the matmul epilogues first).
STEPS = [
    ("input", ""),
    ("+ cleanups, attention recognition",
     "canonicalize,cse,func.func(prism-sink-views,prism-recognize-attention),canonicalize"),
    ("+ gated matmuls (SwiGLU)", "func.func(prism-fuse-gated-matmuls)"),
    ("+ rope in q/k projections", "func.func(prism-fuse-rope-projections)"),
    ("+ matmul epilogues", "func.func(prism-fuse-matmul-epilogues)"),
    ("+ norms", "func.func(prism-fuse-norms)"),
    ("+ elementwise chains", "func.func(prism-fuse-elementwise)"),
]


def per_pass(build, example, seq):
    stages, rows = [], []
    for i, (label, passes) in enumerate(STEPS):
        if passes:
            stages.append(passes)
        stages.append(f"prism-print-kernel-cost{{label=step{i} dynamic-size={seq}}}")
    alone = f"func.func(prism-fuse-norms),prism-print-kernel-cost{{label=alone dynamic-size={seq}}}"
    out = run(build, "prism-opt", example, "-o", os.devnull,
              "--pass-pipeline=builtin.module(" + ",".join(stages) + ")")
    out += run(build, "prism-opt", example, "-o", os.devnull,
               "--pass-pipeline=builtin.module(" + alone + ")")
    found = dict(re.findall(r"\[(\w+)\]: @\w+ (\d+ kernels, \d+) bytes", out))
    for i, (label, _) in enumerate(STEPS):
        kernels, moved = found[f"step{i}"].split(" kernels, ")
        rows.append((label, int(kernels), int(moved)))
    kernels, moved = found["alone"].split(" kernels, ")
    rows.append(("norm fusion alone (no epilogue fusion)", int(kernels), int(moved)))
    return rows


def prism_time(build, example, seq, optimize, repeat):
    out = run(build, "prism-run", example, "--bench", f"--repeat={repeat}",
              f"--dynamic-size={seq}", f"--optimize={'true' if optimize else 'false'}")
    return float(re.search(r"median ([0-9.]+) ms", out).group(1))


def prism_error(build, example, seq, optimize):
    out = run(build, "prism-run", example, "--check", f"--dynamic-size={seq}",
              f"--optimize={'true' if optimize else 'false'}")
    errors = [float(e) for e in re.findall(r"rel-L2 error ([0-9.e+-]+)", out)]
    assert "FAIL" not in out, out
    return max(errors)


# numpy float32 anchors -------------------------------------------------------

def rms_norm(x, w, eps=1e-5):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope_neox(x, positions, theta):  # x [B, S, H, D]
    d = x.shape[-1]
    inv = theta ** (-np.arange(0, d // 2, dtype=np.float32) * 2 / d)
    angles = positions[..., None].astype(np.float32) * inv  # [B, S, D/2]
    cos, sin = np.cos(angles)[:, :, None, :], np.sin(angles)[:, :, None, :]
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def attention_causal(q, k, v):  # [B, H, S, D], k/v [B, Hkv, S, D]
    group = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, group, 1), np.repeat(v, group, 1)
    s = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(q.shape[-1]))
    s += np.triu(np.full(s.shape[-2:], -np.inf, np.float32), 1)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def mlp(h, w_gate, w_up, w_down):
    gate, up = h @ w_gate.T, h @ w_up.T
    return (gate / (1 + np.exp(-gate)) * up) @ w_down.T


def decoder_block(x, positions, an, wq, wk, wv, wo, mn, wg, wu, wd, heads, kv_heads, theta):
    b, s, dim = x.shape
    hd = dim // heads
    h = rms_norm(x, an)
    q = rope_neox((h @ wq.T).reshape(b, s, heads, hd), positions, theta)
    k = rope_neox((h @ wk.T).reshape(b, s, kv_heads, hd), positions, theta)
    v = (h @ wv.T).reshape(b, s, kv_heads, hd)
    a = attention_causal(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 1, 3), v.transpose(0, 2, 1, 3))
    x1 = x + a.transpose(0, 2, 1, 3).reshape(b, s, dim) @ wo.T
    return x1 + mlp(rms_norm(x1, mn), wg, wu, wd)


def anchor_inputs(shapes, seq, rng):
    arrays = []
    for shape in shapes:
        shape = tuple(seq if d == -1 else d for d in shape)
        arrays.append(rng.standard_normal(shape, dtype=np.float32) / 8)
    return arrays


CASES = [
    dict(name="MLP block (f32, dim 256, hidden 688)",
         example="examples/llama_mlp_block.mlir", seq=512, quick_seq=128, check_seq=19,
         anchor=lambda a, seq: (lambda x, n, g, u, d: x + mlp(rms_norm(x, n), g, u, d))(*a),
         shapes=[(1, -1, 256), (256,), (688, 256), (688, 256), (256, 688)]),
    dict(name="decoder block, small (f32, dim 64, 4/2 heads)",
         example="examples/llama_decoder_block_small.mlir", seq=512, quick_seq=128, check_seq=19,
         anchor="decoder", heads=4, kv_heads=2, theta=1e4,
         shapes=[(1, -1, 64), None, (64,), (64, 64), (32, 64), (32, 64), (64, 64), (64,),
                 (128, 64), (128, 64), (64, 128)]),
    dict(name="Llama-3-8B decoder block (bf16; anchor in f32)",
         example="examples/llama3_8b_decoder_block.mlir", seq=64, quick_seq=16, check_seq=5,
         anchor="decoder", heads=32, kv_heads=8, theta=5e5,
         shapes=[(1, -1, 4096), None, (4096,), (4096, 4096), (1024, 4096), (1024, 4096),
                 (4096, 4096), (4096,), (14336, 4096), (14336, 4096), (4096, 14336)]),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for case in CASES:
        seq = case["quick_seq"] if args.quick else case["seq"]
        example = os.path.join(ROOT, case["example"])
        repeat = 3 if "8B" in case["name"] else 10
        report = fusion_report(args.build, example, seq)
        report["per_pass"] = per_pass(args.build, example, 1024)
        unfused_ms = prism_time(args.build, example, seq, False, repeat)
        fused_ms = prism_time(args.build, example, seq, True, repeat)
        if case["anchor"] == "decoder":
            shapes = case["shapes"]
            arrays = anchor_inputs([s for s in shapes if s is not None], seq, rng)
            positions = np.arange(seq, dtype=np.int32)[None, :]
            arrays.insert(1, positions)
            anchor = lambda: decoder_block(*arrays, case["heads"], case["kv_heads"], case["theta"])
        else:
            arrays = anchor_inputs(case["shapes"], seq, rng)
            anchor = lambda: case["anchor"](arrays, seq)
        anchor_ms = median_time(anchor, repeat) * 1e3
        rows.append(dict(
            case=case["name"], seq=seq, **report,
            unfused_ms=unfused_ms, fused_ms=fused_ms, anchor_ms=anchor_ms,
            anchor="numpy float32 (OpenBLAS)",
            error_unfused=prism_error(args.build, example, case["check_seq"], False),
            error_fused=prism_error(args.build, example, case["check_seq"], True),
            check_seq=case["check_seq"]))
        print(rows[-1], flush=True)

    date = datetime.date.today().isoformat()
    host = "vm"
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}"
    results = os.path.join(ROOT, "bench", "results")
    with open(os.path.join(results, f"fusion-cpu-{date}-{host}.json"), "w") as f:
        json.dump(dict(date=date, machine=machine, numpy=np.__version__, rows=rows), f, indent=1)
    lines = [f"# Fusion on the CPU, {date}", "",
             f"Machine: {machine}. numpy {np.__version__}. Produced by "
             "`bench/cpu/run_fusion_bench.py`: prism-opt --prism-fusion-report for kernels "
             "and bytes (every dynamic dimension = the sequence length; bytes are each "
             "launch reading its buffers once and writing its outputs once), prism-run "
             "--bench medians for time (--optimize=false, then the default), and the numpy "
             "float32 block as the anchor in the same run. ratio = anchor time / Prism time "
             "(above 1: Prism faster). Errors: relative L2 against the float64 reference at "
             "a short sequence (prism-run --check).", "",
             "| block | seq | kernels before -> after | global bytes before -> after | "
             "Prism ms unfused | Prism ms fused | speedup | numpy f32 ms | ratio fused | "
             "rel-L2 unfused / fused |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['seq']} | {r['kernels_before']} -> {r['kernels_after']} | "
            f"{r['bytes_before'] / 1e6:.1f} MB -> {r['bytes_after'] / 1e6:.1f} MB "
            f"({100 * (r['bytes_after'] - r['bytes_before']) / r['bytes_before']:+.1f}%) | "
            f"{r['unfused_ms']:.2f} | {r['fused_ms']:.2f} | {r['unfused_ms'] / r['fused_ms']:.2f}x | "
            f"{r['anchor_ms']:.2f} | {r['anchor_ms'] / r['fused_ms']:.3f} | "
            f"{r['error_unfused']:.2e} / {r['error_fused']:.2e} (seq {r['check_seq']}) |")
    lines += ["", "Each pass's effect (prism-opt with prism-print-kernel-cost between the "
              "passes of prism-optimize, cumulative; every dynamic dimension = 1024):", ""]
    for r in rows:
        lines += [f"**{r['case']}**", "", "| step | kernels | global bytes |", "|---|---:|---:|"]
        for label, kernels, moved in r["per_pass"]:
            lines.append(f"| {label} | {kernels} | {moved / 1e6:.1f} MB |")
        lines.append("")
    lines += ["", "Kernels, in launch order:", ""]
    for r in rows:
        lines.append(f"- {r['case']}: before `{' '.join(r['launches_before'])}`; "
                     f"after `{' '.join(r['launches_after'])}`")
    with open(os.path.join(results, f"fusion-cpu-{date}-{host}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
