"""The Llama-3-8B decoder block (examples/llama3_8b_decoder_block.mlir) on a
GPU: inputs made on the GPU machine (the bf16 weights, 436 MB, do not travel),
Prism's bundle run with prism-exec, the output checked against the same
block written in PyTorch and evaluated in float64, and both timed with CUDA
events: Prism (`prism-exec --bench --profile`: the run's launches, and each
launch on its own, from events the runtime records; the whole run on the
host clock beside them) against the PyTorch bf16 eager block (cuBLAS
matmuls, SDPA attention) and its torch.compile version, each run after a
256 MiB write that flushes the L2 (as prism-exec does). Writes
decoder-block.json and decoder-block.md (with Prism's time per kernel) as
soon as Prism's run is checked, and again with the anchors: a session that
runs out of time during torch.compile keeps Prism's result.

--device cpu dry-runs the script here (a bundle for the CPU or the GPU
emulator, inputs made on the CPU, host-clock timings, no flush).

Usage: python run_decoder_block.py BUNDLE OUT --exec prism-exec [--seq 512]
       [--device cpu]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_gpu_bench import flush_caches  # noqa: E402  (the bench's L2 flush)

DIM, HEADS, KV_HEADS, HEAD_DIM, HIDDEN, THETA, EPS = 4096, 32, 8, 128, 14336, 5e5, 1e-5


def block(x, pos, w, dtype):
    """The block of the example, op for op, computing in `dtype`."""
    def rms(v, weight):
        vf = v.to(torch.float64 if dtype == torch.float64 else torch.float32)
        out = vf * torch.rsqrt(vf.pow(2).mean(-1, keepdim=True) + EPS) * weight.to(vf.dtype)
        return out.to(dtype)

    def rope(v):  # neox, bshd
        d = v.shape[-1]
        ctype = torch.float64 if dtype == torch.float64 else torch.float32
        inv = 1.0 / (THETA ** (torch.arange(0, d, 2, device=v.device, dtype=ctype) / d))
        ang = pos[0].to(ctype)[:, None] * inv[None, :]
        cos, sin = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]
        a, b = v[..., : d // 2].to(ctype), v[..., d // 2:].to(ctype)
        return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).to(dtype)

    s = x.shape[1]
    h = rms(x, w["attn_norm"])
    q = (h @ w["wq"].T).view(1, s, HEADS, HEAD_DIM)
    k = (h @ w["wk"].T).view(1, s, KV_HEADS, HEAD_DIM)
    v = (h @ w["wv"].T).view(1, s, KV_HEADS, HEAD_DIM)
    q, k = rope(q).transpose(1, 2), rope(k).transpose(1, 2)
    v = v.transpose(1, 2)
    attn = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    x1 = x + attn.transpose(1, 2).reshape(1, s, DIM) @ w["wo"].T
    h2 = rms(x1, w["mlp_norm"])
    act = F.silu(h2 @ w["w_gate"].T) * (h2 @ w["w_up"].T)
    return x1 + act @ w["w_down"].T


def write_report(out, report):
    """decoder-block.json and .md from what `report` has so far."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "decoder-block.json"), "w") as f:
        json.dump(report, f, indent=2)
    r, prism_ms = report, report["prism_ms"]
    ms = lambda key: f"{r[key]:.3f}" if key in r else "not measured"
    with open(os.path.join(out, "decoder-block.md"), "w") as f:
        f.write(f"# Decoder block, seq {r['seq']}, {r['gpu']}\n\n"
                f"| | ms | rel-L2 vs float64 |\n|---|---:|---:|\n"
                f"| Prism launches ({r['prism_timing']}) | {prism_ms:.3f} | {r['rel_l2']:.2e} |\n"
                f"| Prism whole run (host clock) | {r['prism_wall_ms']:.3f} | |\n"
                f"| PyTorch bf16 eager | {ms('pytorch_eager_bf16_ms')} | "
                + (f"{r['pytorch_eager_rel_l2']:.2e}" if "pytorch_eager_rel_l2" in r else "")
                + " |\n"
                f"| torch.compile | {ms('torch_compile_ms')} | |\n\n"
                f"Ratio (anchor / Prism launches): "
                + (f"{r['ratio_vs_eager']:.3f}" if "ratio_vs_eager" in r else "not measured")
                + " vs eager, "
                + (f"{r['ratio_vs_compile']:.3f}" if "ratio_vs_compile" in r else "not measured")
                + " vs torch.compile.\n\n"
                "Prism per kernel (each launch timed on its own, median of the runs):\n\n"
                "GB/s: the bytes of the buffers each launch reads or writes (each once: "
                "the least traffic it can have) over its time.\n\n"
                "| # | kernel | grid | ms | GB/s | share |\n|---:|---|---|---:|---:|---:|\n")
        for k in r["prism_kernels"]:
            f.write(f"| {k['index']} | `{k['kernel']}` | {k['grid']} | {k['ms']:.4f} | "
                    f"{k['gbps']:.1f} | {k['share']:.1%} |\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("out")
    parser.add_argument("--exec", required=True, dest="prism_exec")
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=90,
                        help="seconds prism-exec may take before it counts as hung")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                        help="cpu: a dry run of the script without a GPU")
    args = parser.parse_args()
    device = args.device
    g = torch.Generator(device=device).manual_seed(0)
    bf = torch.bfloat16
    # N(0, 1) activations; weights scaled like trained ones (std 1/sqrt(fan_in)).
    randn = lambda *s, scale=1.0: (torch.randn(*s, device=device, generator=g) * scale).to(bf)
    x = randn(1, args.seq, DIM)
    pos = torch.arange(args.seq, device=device, dtype=torch.int32)[None, :]
    w = {
        "attn_norm": randn(DIM) * 0 + 1 + randn(DIM, scale=0.1),
        "wq": randn(DIM, DIM, scale=DIM ** -0.5), "wk": randn(KV_HEADS * HEAD_DIM, DIM, scale=DIM ** -0.5),
        "wv": randn(KV_HEADS * HEAD_DIM, DIM, scale=DIM ** -0.5), "wo": randn(DIM, DIM, scale=DIM ** -0.5),
        "mlp_norm": randn(DIM) * 0 + 1 + randn(DIM, scale=0.1),
        "w_gate": randn(HIDDEN, DIM, scale=DIM ** -0.5), "w_up": randn(HIDDEN, DIM, scale=DIM ** -0.5),
        "w_down": randn(DIM, HIDDEN, scale=HIDDEN ** -0.5),
    }
    order = [x, pos, w["attn_norm"], w["wq"], w["wk"], w["wv"], w["wo"], w["mlp_norm"],
             w["w_gate"], w["w_up"], w["w_down"]]
    with tempfile.TemporaryDirectory() as work:
        paths = []
        for i, t in enumerate(order):
            path = os.path.join(work, f"in{i}.npy")
            a = t.detach().cpu()
            np.save(path, a.view(torch.int16).numpy().view(np.uint16) if a.dtype == bf else a.numpy())
            paths.append(path)
        out = os.path.join(work, "out")
        try:
            run = subprocess.run([args.prism_exec, args.bundle, "decoder_block", *paths,
                                  f"--out={out}", f"--bench={args.runs}", "--profile"],
                                 capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"no result after {args.timeout:g} s (killed: a hung kernel?)")
            return 1
        if run.returncode != 0:
            print(run.stderr)
            return 1
        wall_ms = float(re.search(r"^median ([0-9.]+) ms", run.stdout, re.M).group(1))
        launches = re.search(r"^launches: median ([0-9.]+) ms \(min [0-9.]+ ms\), (.+)$",
                             run.stdout, re.M)
        prism_ms = float(launches.group(1)) if launches else wall_ms
        timing = launches.group(2) if launches else "host clock, whole run"
        kernels = [dict(index=int(m[0]), kernel=m[1], grid=m[2], ms=float(m[3]),
                        gbps=float(m[4]), share=float(m[5]) / 100)
                   for m in re.findall(r"^\s+(\d+)\s+(\S+)\s+(\d+x\d+x\d+)\s+([0-9.]+)\s+"
                                       r"([0-9.]+)\s+([0-9.]+)%$", run.stdout, re.M)]
        raw = np.load(out + "0.npy")
        got = torch.from_numpy((raw.astype(np.uint32) << 16).view(np.float32).astype(np.float64))
    w64 = {k: v.double() for k, v in w.items()}
    expected = block(x.double(), pos, w64, torch.float64).cpu()
    error = float(torch.linalg.norm(got - expected) / torch.linalg.norm(expected))
    report = dict(seq=args.seq, torch=torch.__version__,
                  gpu=torch.cuda.get_device_name(0) if device == "cuda" else "none (--device cpu)",
                  prism_ms=prism_ms, prism_timing=timing, prism_wall_ms=wall_ms,
                  prism_kernels=kernels, rel_l2=error, tolerance=1e-2)
    write_report(args.out, report)
    print(f"Prism: rel-L2 {error:.2e} against float64 (tolerance 1e-2), "
          f"{prism_ms:.3f} ms ({timing})", flush=True)

    def cuda_ms(fn, repeat=20):
        for _ in range(3):
            fn()
        if device == "cpu":  # a dry run: the host clock
            started = time.perf_counter()
            fn()
            return (time.perf_counter() - started) * 1e3
        torch.cuda.synchronize()
        times = []
        for _ in range(repeat):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            flush_caches()
            s.record(); fn(); e.record(); e.synchronize()
            times.append(s.elapsed_time(e))
        return float(np.median(times))

    eager_ms = cuda_ms(lambda: block(x, pos, w, bf))
    eager_error = float(torch.linalg.norm(block(x, pos, w, bf).double().cpu() - expected)
                        / torch.linalg.norm(expected))
    report.update(pytorch_eager_bf16_ms=eager_ms, pytorch_eager_rel_l2=eager_error,
                  ratio_vs_eager=eager_ms / prism_ms)
    write_report(args.out, report)
    compiled = torch.compile(lambda x: block(x, pos, w, bf))
    compiled_ms = cuda_ms(lambda: compiled(x))
    report.update(torch_compile_ms=compiled_ms, ratio_vs_compile=compiled_ms / prism_ms)
    write_report(args.out, report)
    print(json.dumps(report, indent=2))
    return 0 if error <= 1e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
