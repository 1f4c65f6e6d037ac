"""NVIDIA benchmarks of Prism bundles against PyTorch, in one run on one GPU.

For each graph of graphs.mlir (bundles from prepare_bench.py), random inputs
are made with PyTorch on the GPU and saved for prism-exec; Prism's output is
checked against PyTorch in float64 (relative L2 against the dtype's
tolerance), then both are timed: Prism with `prism-exec --bench` (inputs
uploaded once, outputs left on the device, wall time of a whole run
including its synchronization), the anchors with CUDA events:

  matmul bf16   torch.matmul (cuBLAS)
  rms_norm      torch.compile of the PyTorch expression (Triton), and a copy
  softmax       torch.softmax, and a copy
  rope          torch.compile of the PyTorch expression (Triton)
  attention     scaled_dot_product_attention (causal and not, GQA, head dim
                128, sequences of 4k and 16k by default; cuDNN/Flash);
                checked on its last 512 query rows

Bundles NAME@VARIANT (other tile sizes, from prepare_bench.py) are run
and reported as rows of their own, against the same anchors.

Writes OUT/nvidia-bench.md and .json (ratio = anchor time / Prism time).
Usage: python run_gpu_bench.py BUNDLES OUT --exec build-runtime/bin/prism-exec
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F


def cuda_time(fn, repeat=50):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def to_npy(tensor, path):
    t = tensor.detach().cpu()
    if t.dtype == torch.bfloat16:
        np.save(path, t.view(torch.int16).numpy().view(np.uint16))
    else:
        np.save(path, t.numpy())


def from_npy(path):
    a = np.load(path)
    if a.dtype == np.uint16:
        a = (a.astype(np.uint32) << 16).view(np.float32)
    return torch.from_numpy(a.astype(np.float64))


def relative_l2(actual, expected):
    return float(torch.linalg.norm(actual - expected) / torch.linalg.norm(expected))


def rms_norm(x, w, eps=1e-5):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * w.float()).to(x.dtype)


def rope(x, pos, theta=5e5):
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    ang = pos.float()[:, None] * inv[None, :]
    cos, sin = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]
    xf = x.float()
    a, b = xf[..., : d // 2], xf[..., d // 2:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(x.dtype)


def cases(seq, attention_seqs):
    """(bundle, title, inputs, float64 reference, anchors, flops, bytes moved,
    the part of Prism's output the reference covers (None: all))."""
    g = torch.Generator(device="cuda").manual_seed(0)
    bf = torch.bfloat16
    randn = lambda *s: torch.randn(*s, device="cuda", generator=g).to(bf)
    rows = 8192
    x, w = randn(4096, 4096), randn(4096, 4096) * 0.02
    yield ("matmul_bf16", "matmul bf16 4096x4096x4096 (x @ w^T)", [x, w],
           lambda x, w: x.double() @ w.double().T,
           [("torch.matmul (cuBLAS)", lambda: torch.matmul(x, w.T))], 2 * 4096 ** 3, None, None)
    x8, w8 = randn(8192, 8192), randn(8192, 8192) * 0.02
    yield ("matmul_bf16_8192", "matmul bf16 8192x8192x8192 (x @ w^T)", [x8, w8],
           lambda x, w: x.double() @ w.double().T,
           [("torch.matmul (cuBLAS)", lambda: torch.matmul(x8, w8.T))], 2 * 8192 ** 3, None, None)
    x, w = randn(rows, 4096), randn(4096)
    compiled = torch.compile(rms_norm)
    yield ("rms_norm_bf16", f"rms_norm bf16 {rows}x4096", [x, w],
           lambda x, w: (x.double() * torch.rsqrt(x.double().pow(2).mean(-1, keepdim=True) + 1e-5) * w.double()),
           [("torch.compile (Triton)", lambda: compiled(x, w)), ("copy (x.clone)", lambda: x.clone())],
           None, 2 * x.numel() * 2, None)
    x = randn(rows, 4096)
    yield ("softmax_bf16", f"softmax bf16 {rows}x4096", [x],
           lambda x: torch.softmax(x.double(), -1),
           [("torch.softmax", lambda: torch.softmax(x, -1)), ("copy (x.clone)", lambda: x.clone())],
           None, 2 * x.numel() * 2, None)
    x = randn(1, seq, 32, 128)
    pos = torch.arange(seq, device="cuda", dtype=torch.int32)
    compiled_rope = torch.compile(rope)
    yield ("rope_bf16", f"rope neox bf16 1x{seq}x32x128", [x, pos],
           lambda x, p: rope(x.double().to(torch.float64), p).double(),
           [("torch.compile (Triton)", lambda: compiled_rope(x, pos))], None, 2 * x.numel() * 2,
           None)
    for s in attention_seqs:
        q, k, v = randn(1, 32, s, 128), randn(1, 8, s, 128), randn(1, 8, s, 128)
        # The float64 reference for the last CHECKED query rows (the ones
        # that see the most keys): the whole score matrix of a 16k
        # sequence would not fit in float64.
        checked = min(s, 512)
        for causal in (True, False):
            visible = torch.arange(s, device="cuda")[None, :] <= (
                s - checked + torch.arange(checked, device="cuda"))[:, None]
            reference = (lambda q, k, v, visible=visible if causal else None:
                         F.scaled_dot_product_attention(
                             q[:, :, -checked:].double(), k.double().repeat_interleave(4, 1),
                             v.double().repeat_interleave(4, 1), attn_mask=visible))
            sdpa = (lambda q=q, k=k, v=v, causal=causal: F.scaled_dot_product_attention(
                q, k, v, is_causal=causal, enable_gqa=True))
            flops = 2 * 2 * 32 * s * s * 128 // (2 if causal else 1)
            yield ("attention_bf16" if causal else "attention_bf16_full",
                   f"attention bf16 {'causal' if causal else 'full'} GQA 1x32(8)x{s}x128",
                   [q, k, v], reference, [("scaled_dot_product_attention", sdpa)], flops,
                   None, lambda out, checked=checked: out[:, :, -checked:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles")
    parser.add_argument("out")
    parser.add_argument("--exec", required=True, dest="prism_exec")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--attention-seqs", default="4096,16384",
                        help="sequence lengths of the attention cases (causal and not)")
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, title, inputs, reference, anchors, flops, bytes_moved, select in cases(
                args.seq, [int(s) for s in args.attention_seqs.split(",")]):
            if args.only and name not in args.only.split(","):
                continue
            paths = []
            for i, t in enumerate(inputs):
                paths.append(os.path.join(work, f"{name}.in{i}.npy"))
                to_npy(t, paths[-1])
            variants = sorted(d for d in os.listdir(args.bundles)
                              if d == name or d.startswith(name + "@"))
            expected = reference(*inputs).cpu()
            anchor_ms = [(anchor, cuda_time(fn)) for anchor, fn in anchors]
            for bundle in variants:
                label = title + (f" [{bundle.split('@', 1)[1]}]" if "@" in bundle else "")
                out = os.path.join(work, f"{bundle}.out")
                run = subprocess.run([args.prism_exec, os.path.join(args.bundles, bundle), name,
                                      *paths, f"--out={out}", f"--bench={args.runs}"],
                                     capture_output=True, text=True)
                row = dict(case=label)
                if run.returncode != 0:
                    row["error"] = run.stderr.strip()
                    rows.append(row)
                    print(label, "ERROR", row["error"], flush=True)
                    continue
                prism_ms = float(re.search(r"median ([0-9.]+) ms", run.stdout).group(1))
                actual = from_npy(out + "0.npy")
                error = relative_l2(select(actual) if select else actual, expected)
                row.update(prism_ms=prism_ms, rel_l2=error, tolerance=1e-2,
                           correct=error <= 1e-2, anchors=[])
                for anchor, ms in anchor_ms:
                    row["anchors"].append(dict(name=anchor, ms=ms, ratio=ms / prism_ms))
                if flops:
                    row["prism_tflops"] = flops / prism_ms / 1e9
                if bytes_moved:
                    row["prism_gbps"] = bytes_moved / prism_ms / 1e6
                rows.append(row)
                print(json.dumps(row), flush=True)
    props = torch.cuda.get_device_properties(0)
    report = dict(date=datetime.date.today().isoformat(), gpu=props.name,
                  torch=torch.__version__, cuda=torch.version.cuda, seq=args.seq,
                  runs=args.runs, results=rows)
    with open(os.path.join(args.out, "nvidia-bench.json"), "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.join(args.out, "nvidia-bench.md"), "w") as f:
        f.write(f"# NVIDIA benchmarks, {report['date']}\n\nGPU: {props.name}; PyTorch "
                f"{torch.__version__} (CUDA {torch.version.cuda}). Prism: median of "
                f"{args.runs} runs of `prism-exec --bench` (whole run, synchronized); "
                "anchors: median of 50 CUDA-event timings, same process run. "
                "ratio = anchor time / Prism time (above 1: Prism faster).\n\n")
        f.write("| case | Prism ms | rel-L2 vs float64 | anchor | anchor ms | ratio |\n")
        f.write("|---|---:|---:|---|---:|---:|\n")
        for r in rows:
            if "error" in r:
                f.write(f"| {r['case']} | error: {r['error']} | | | | |\n")
                continue
            for a in r["anchors"]:
                f.write(f"| {r['case']} | {r['prism_ms']:.3f} | {r['rel_l2']:.2e} | "
                        f"{a['name']} | {a['ms']:.3f} | {a['ratio']:.4f} |\n")
    return 0 if all(r.get("correct") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
