"""NVIDIA benchmarks of Prism bundles against PyTorch, in one run on one GPU.

For each graph of graphs.mlir (bundles from prepare_bench.py), random inputs
are made with PyTorch on the GPU and saved for prism-exec; Prism's output is
checked against PyTorch in float64 (relative L2 against the dtype's
tolerance), then both are timed with CUDA events, as the ratio compares:
Prism with `prism-exec --bench` (inputs uploaded once, outputs left on the
device; the runtime records an event before the run's first launch and
after its last), the anchors around one call. Before every timed run or
call, both sides write 256 MiB of scratch memory on the stream (five times
the H100's L2): each starts with cold caches (a decode step's 32 MiB of
weights would otherwise be read from L2), and the GPU is busy while the
host queues the run, so that the events time the kernels and not the
host's launch path. Prism's wall time of a whole
run (host clock: launches, the runtime's bookkeeping, the synchronization)
is recorded beside it. The anchors:

  matmul bf16   torch.matmul (cuBLAS); also a decode step of 8 rows, with
                a dynamic M and compiled for its 8 rows (split-K)
  rms_norm      torch.compile of the PyTorch expression (Triton), and a copy
  softmax       torch.softmax, and a copy
  rope          torch.compile of the PyTorch expression (Triton), and a copy
  attention     scaled_dot_product_attention (causal and not, GQA, head dim
                128, sequences of 4k and 16k by default; cuDNN/Flash);
                checked on its last 512 query rows; a decode step (one
                query row per head against 4k and 16k keys; split-KV)

Bundles NAME@VARIANT (other tile sizes, from prepare_bench.py) are run
and reported as rows of their own, against the same anchors.

Every case's default bundle runs first, then the main tile variants
(FIRST_VARIANTS), then the others; with --deadline no run starts after it,
and a run past --timeout is killed and reported. Writes OUT/nvidia-bench.md
and .json (ratio = anchor time / Prism time) and nvidia-bench-summary.md
(each case's default and fastest correct variant), all rewritten after
every run.
Usage: python run_gpu_bench.py BUNDLES OUT --exec build-runtime/bin/prism-exec
"""
import argparse
import contextlib
import datetime
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

DEVICE = "cuda"


FLUSH_BYTES = 256 << 20  # prism-exec's --flush default
_flush_buffer = []


def flush_caches():
    """Writes FLUSH_BYTES of scratch memory on the current stream (as
    prism-exec does before each timed run)."""
    if not _flush_buffer:
        _flush_buffer.append(torch.empty(FLUSH_BYTES // 4, dtype=torch.int32, device=DEVICE))
    _flush_buffer[0].fill_(0x5A5A5A5A)


def cuda_time(fn, repeat=50):
    if DEVICE != "cuda":  # a dry run of the script (--device cpu): host clock
        fn()
        started = time.perf_counter()
        for _ in range(3):
            fn()
        return (time.perf_counter() - started) / 3 * 1e3
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        flush_caches()
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def is_device_timed(row):
    """Whether Prism's figure is the runtime's CUDA events (its timing is
    "device events, caches ...")."""
    return str(row.get("timing", "")).startswith("device events")


def disqualifying_warnings(row):
    """The runtime's warnings that mean the run did not time the kernels as
    compiled (not the PTX fallback, which every run of the session has)."""
    return [w for w in row.get("warnings", []) if "instead" not in w or "kernels.ptx" not in w]


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


def cases(seq, attention_seqs, rows=None, decode_seqs=(4096, 16384)):
    """(bundle, title, inputs, float64 reference, anchors, flops, bytes moved,
    the part of Prism's output the reference covers (None: all)). ROWS
    replaces the matmuls' M and the row ops' row count (a dry run). The
    cases are all made before any runs, so every closure binds its own
    tensors (default arguments), not the names the next case reuses."""
    g = torch.Generator(device=DEVICE).manual_seed(0)
    bf = torch.bfloat16
    randn = lambda *s: torch.randn(*s, device=DEVICE, generator=g).to(bf)
    for n in (4096, 8192):
        m = rows or n
        x, w = randn(m, n), randn(n, n) * 0.02
        yield (f"matmul_bf16{'' if n == 4096 else '_8192'}", f"matmul bf16 {m}x{n}x{n} (x @ w^T)",
               [x, w], lambda x, w: x.double() @ w.double().T,
               [("torch.matmul (cuBLAS)", lambda x=x, w=w: torch.matmul(x, w.T))],
               2 * m * n * n, None, None)
    # A decode step: 8 token rows through a 4096 x 4096 projection, bound by
    # reading the weights (32 MB): the dynamic-M bundle launches its kernels
    # for few rows (64-row tiles on sm_90a, K split in 4 parts and a sum
    # kernel; @k1: not split). GB/s count the weights.
    x, w = randn(8, 4096), randn(4096, 4096) * 0.02
    yield ("matmul_bf16", "matmul bf16 decode 8x4096x4096 (x @ w^T)",
           [x, w], lambda x, w: x.double() @ w.double().T,
           [("torch.matmul (cuBLAS)", lambda x=x, w=w: torch.matmul(x, w.T))],
           2 * 8 * 4096 * 4096, w.numel() * 2, None)
    # The same step compiled for 8 rows: split-K fills the SMs (variants
    # @k1: no split, @k2, @k8).
    yield ("decode_bf16", "decode bf16 8x4096x4096, static rows (split-K)",
           [x, w], lambda x, w: x.double() @ w.double().T,
           [("torch.matmul (cuBLAS)", lambda x=x, w=w: torch.matmul(x, w.T))],
           2 * 8 * 4096 * 4096, w.numel() * 2, None)
    rows = rows or 8192
    x, w = randn(rows, 4096), randn(4096)
    # torch.compile's CPU code takes minutes to build: a dry run times eager.
    compile_fn = torch.compile if DEVICE == "cuda" else (lambda fn: fn)
    compiled = compile_fn(rms_norm)
    yield ("rms_norm_bf16", f"rms_norm bf16 {rows}x4096", [x, w],
           lambda x, w: (x.double() * torch.rsqrt(x.double().pow(2).mean(-1, keepdim=True) + 1e-5) * w.double()),
           [("torch.compile (Triton)", lambda x=x, w=w: compiled(x, w)),
            ("copy (x.clone)", lambda x=x: x.clone())],
           None, 2 * x.numel() * 2, None)
    x = randn(rows, 4096)
    yield ("softmax_bf16", f"softmax bf16 {rows}x4096", [x],
           lambda x: torch.softmax(x.double(), -1),
           [("torch.softmax", lambda x=x: torch.softmax(x, -1)),
            ("copy (x.clone)", lambda x=x: x.clone())],
           None, 2 * x.numel() * 2, None)
    x = randn(1, seq, 32, 128)
    pos = torch.arange(seq, device=DEVICE, dtype=torch.int32)
    compiled_rope = compile_fn(rope)
    yield ("rope_bf16", f"rope neox bf16 1x{seq}x32x128", [x, pos],
           lambda x, p: rope(x.double().to(torch.float64), p).double(),
           [("torch.compile (Triton)", lambda x=x, pos=pos: compiled_rope(x, pos)),
            ("copy (x.clone)", lambda x=x: x.clone())], None,
           2 * x.numel() * 2,
           None)
    for s in attention_seqs:
        q, k, v = randn(1, 32, s, 128), randn(1, 8, s, 128), randn(1, 8, s, 128)
        # The float64 reference for the last CHECKED query rows (the ones
        # that see the most keys): the whole score matrix of a 16k
        # sequence would not fit in float64.
        checked = min(s, 512)
        for causal in (True, False):
            visible = torch.arange(s, device=DEVICE)[None, :] <= (
                s - checked + torch.arange(checked, device=DEVICE))[:, None]
            reference = (lambda q, k, v, visible=visible if causal else None, checked=checked:
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
    # A decode step: 32 query heads of one row each against S cached keys
    # of 8 KV heads, bound by reading K and V (GB/s count them). The
    # default packs the 4 query heads of a KV head into one program and
    # splits the keys (flash-decoding; @s1: not split).
    for s in decode_seqs:
        q, k, v = randn(1, 32, 1, 128), randn(1, 8, s, 128), randn(1, 8, s, 128)
        yield ("attention_decode_bf16", f"attention bf16 decode GQA 1x32(8)x1x{s}x128",
               [q, k, v],
               lambda q, k, v: F.scaled_dot_product_attention(
                   q.double(), k.double().repeat_interleave(4, 1),
                   v.double().repeat_interleave(4, 1)),
               [("scaled_dot_product_attention",
                 lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))],
               2 * 2 * 32 * s * 128, 2 * k.numel() * 2, None)


# Variants timed before all the others (after each case's default bundle,
# on sm_90a cuBLAS's 128x128x64 and FlashAttention 3's 128-query tiles), so
# that a run cut short by its deadline still tells whether the defaults
# are the right choice: the largest Hopper tile, the 64-row ones that fit
# twice per SM, the defaults before 2026-12-03 (measured then), and
# attention's default tiles without P V overlapping the softmax.
FIRST_VARIANTS = ("t128x256k64", "t128x256k64ws", "t128x128k64ws", "t64x128k64", "t32x32", "a128x64serial", "a128x64pingpong", "a128x64ws", "a64x64", "a16x16", "k1", "s1")


def jobs(case_names, bundles):
    """(case index, bundle) in the order to run them: every case's default
    bundle, then its FIRST_VARIANTS, then the other variants, each tier
    over all cases before the next."""
    tiers = ([], [], [])
    for index, name in enumerate(case_names):
        for bundle in sorted(d for d in bundles if d == name or d.startswith(name + "@")):
            variant = bundle.partition("@")[2]
            tier = 0 if not variant else 1 if variant in FIRST_VARIANTS else 2
            tiers[tier].append((index, bundle))
    return tiers[0] + tiers[1] + tiers[2]


@contextlib.contextmanager
def replaced_file(path):
    """open(path, "w") that replaces `path` only when the writing is done
    (os.replace), so that a run killed mid-write leaves the last report."""
    with open(path + ".part", "w") as f:
        yield f
    os.replace(path + ".part", path)


def write_report(out, report):
    """The report as JSON, Markdown and a short summary (each case's default
    and fastest correct variant); rewritten after every row, so that a run
    killed at its limit leaves what it measured."""
    rows = report["results"]
    with replaced_file(os.path.join(out, "nvidia-bench.json")) as f:
        json.dump(report, f, indent=2)
    with replaced_file(os.path.join(out, "nvidia-bench.md")) as f:
        f.write(f"# NVIDIA benchmarks, {report['date']}\n\nGPU: {report['gpu']}; PyTorch "
                f"{report['torch']} (CUDA {report['cuda']}). Prism: median of "
                f"{report['runs']} runs of `prism-exec --bench`, its launches timed by CUDA "
                "events that the runtime records before the first and after the last "
                "(\"Prism ms\"; \"host clock\" where the runtime could not record events); "
                "wall ms: the whole run on the host clock (launches, the runtime's "
                "bookkeeping, synchronization). Anchors: median of 50 CUDA-event timings, "
                "same process run. ratio = anchor time / Prism ms (above 1: Prism "
                "faster). Before 2026-12-03 Prism ms was the wall time, so those ratios "
                "are not comparable with these. Since 2026-12-05 every timed run and "
                "anchor call comes after a 256 MiB write of scratch memory on the stream "
                "(cold caches, as Triton's do_bench; the last ~50 MB of it are still "
                "dirty in the L2, and writing them back costs the first kernel up to "
                "~15 us on both sides); the wall ms runs are not flushed.\n\n")
        f.write("| case | Prism ms | Prism wall ms | rel-L2 vs float64 | anchor | anchor ms "
                "| ratio |\n")
        f.write("|---|---:|---:|---:|---|---:|---:|\n")
        for r in rows:
            if "error" in r:
                f.write(f"| {r['case']} | error: {r['error']} | | | | | |\n")
                continue
            timed = "" if is_device_timed(r) else f" ({r.get('timing')})"
            for a in r["anchors"]:
                f.write(f"| {r['case']} | {r['prism_ms']:.3f}{timed} | {r['prism_wall_ms']:.3f} | "
                        f"{r['rel_l2']:.2e} | {a['name']} | {a['ms']:.3f} | {a['ratio']:.4f} |\n")
        if report.get("not_run"):
            f.write(f"\nNot run (deadline): {', '.join(report['not_run'])}\n")
        for r in rows:
            for warning in r.get("warnings", []):
                f.write(f"\n{r['case']}: {warning}\n")
            if r.get("timing_note"):
                f.write(f"\n{r['case']}: {r['timing_note']}\n")
    lines = ["| case | default ms | fastest variant | ms | anchors: ms, ratio to the fastest |",
             "|---|---:|---|---:|---|"]
    # Figures are CUDA events unless marked (the wall time where the
    # runtime could not time its launches).
    for title in dict.fromkeys(r["title"] for r in rows):
        # A run whose kernels are not the ones compiled (tensor maps
        # refused: cp.async timed, not TMA) is listed below, not chosen
        # here. The PTX fallback (a driver older than the cubin) is the
        # same kernels compiled by the driver, and every run has it.
        measured = [r for r in rows if r["title"] == title and r.get("correct")
                    and not disqualifying_warnings(r)]
        default = next((r for r in measured if r["variant"] == ""), None)
        best = min(measured, key=lambda r: r["prism_ms"], default=None)
        if best is None:
            lines.append(f"| {title} | no correct run | | | |")
            continue
        anchors = "; ".join(f"{a['name']} {a['ms']:.3f}, {a['ratio']:.3f}" for a in best["anchors"])
        lines.append(f"| {title} | {default['prism_ms']:.3f} | " if default else f"| {title} | - | ")
        source = "" if is_device_timed(best) else f" ({best.get('timing')})"
        lines[-1] += f"{best['variant'] or 'default'} | {best['prism_ms']:.3f}{source} | {anchors} |"
    failed = [r["case"] for r in rows if not r.get("correct")]
    lines.append(f"{len(rows) - len(failed)} runs correct, {len(failed)} failed or in error"
                 + (f": {', '.join(failed)}" if failed else ""))
    if report.get("not_run"):
        lines.append(f"{len(report['not_run'])} not run (deadline)")
    warned = [r["case"] for r in rows if disqualifying_warnings(r)]
    if warned:
        lines.append(f"{len(warned)} runs with runtime warnings (e.g. tensor maps refused: "
                     f"cp.async timed, not TMA): {', '.join(warned)}")
    with replaced_file(os.path.join(out, "nvidia-bench-summary.md")) as f:
        f.write("\n".join(lines) + "\n")


def main():
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles")
    parser.add_argument("out")
    parser.add_argument("--exec", required=True, dest="prism_exec")
    # rope's sequence: 8192 x 32 heads x 128 in bf16 is 64 MB, more than
    # the L2 (50-60 MB), so that the copy it is compared with is not a
    # cache-to-cache one.
    parser.add_argument("--seq", type=int, default=8192)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--attention-seqs", default="4096,16384",
                        help="sequence lengths of the attention cases (causal and not)")
    parser.add_argument("--decode-seqs", default="4096,16384",
                        help="key counts of the attention decode cases")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds one prism-exec run may take before it is killed")
    parser.add_argument("--deadline", type=float, default=None,
                        help="seconds from the start after which no run starts")
    parser.add_argument("--rows", type=int, default=None,
                        help="the matmuls' M and the row ops' rows (default: the issue's sizes)")
    parser.add_argument("--device", default="cuda",
                        help="cpu: a dry run of this script with bundles for the CPU or the "
                             "GPU emulator (host-clock timings that mean nothing)")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    os.makedirs(args.out, exist_ok=True)
    gpu = torch.cuda.get_device_properties(0).name if DEVICE == "cuda" else f"none ({DEVICE})"
    report = dict(date=datetime.date.today().isoformat(), gpu=gpu,
                  torch=torch.__version__, cuda=torch.version.cuda, seq=args.seq,
                  runs=args.runs, results=[], not_run=[])
    all_cases = [c for c in cases(args.seq, [int(s) for s in args.attention_seqs.split(",")],
                                  args.rows, [int(s) for s in args.decode_seqs.split(",")])
                 if not args.only or c[0] in args.only.split(",")]
    # Each case's inputs, reference and anchor timings, made when its first
    # bundle runs.
    prepared = {}
    with tempfile.TemporaryDirectory() as work:
        for index, bundle in jobs([c[0] for c in all_cases], os.listdir(args.bundles)):
            name, title, inputs, reference, anchors, flops, bytes_moved, select = all_cases[index]
            variant = bundle.partition("@")[2]
            label = title + (f" [{variant}]" if variant else "")
            if args.deadline is not None and time.monotonic() - started > args.deadline:
                report["not_run"].append(label)
                continue
            if index not in prepared:
                paths = []
                for i, t in enumerate(inputs):
                    paths.append(os.path.join(work, f"{name}.{index}.in{i}.npy"))
                    to_npy(t, paths[-1])
                prepared[index] = (paths, reference(*inputs).cpu(),
                                   [(anchor, cuda_time(fn)) for anchor, fn in anchors])
            paths, expected, anchor_ms = prepared[index]
            out = os.path.join(work, f"{bundle}.{index}.out")
            row = dict(case=label, title=title, variant=variant)
            try:
                run = subprocess.run([args.prism_exec, os.path.join(args.bundles, bundle), name,
                                      *paths, f"--out={out}", f"--bench={args.runs}"],
                                     capture_output=True, text=True, timeout=args.timeout)
                if run.returncode != 0:
                    row["error"] = run.stderr.strip()
                # A refused tensor map means the run timed cp.async, not TMA.
                warnings = [line.strip() for line in run.stderr.splitlines()
                            if line.startswith("prism: warning:")]
                if warnings:
                    row["warnings"] = warnings
            except subprocess.TimeoutExpired:
                row["error"] = f"no result after {args.timeout:g} s (killed: a hung kernel?)"
            if "error" not in row:
                wall_ms = float(re.search(r"^median ([0-9.]+) ms", run.stdout, re.M).group(1))
                # The launches on the device's timeline (CUDA events), the
                # anchors' method; the wall time where the runtime has none.
                launches = re.search(r"^launches: median ([0-9.]+) ms \(min [0-9.]+ ms\), (.+)$",
                                     run.stdout, re.M)
                prism_ms = float(launches.group(1)) if launches else wall_ms
                timing = launches.group(2) if launches else "host clock, whole run"
                if launches is None:
                    untimed = re.search(r"^launches: not timed \((.*)\)$", run.stdout, re.M)
                    row["timing_note"] = ("launches not timed on the device" +
                                          (f" ({untimed.group(1)})" if untimed else "") +
                                          ": the whole run's wall time stands in")
                actual = from_npy(out + "0.npy")
                error = relative_l2(select(actual) if select else actual, expected)
                row.update(prism_ms=prism_ms, prism_wall_ms=wall_ms, timing=timing,
                           rel_l2=error, tolerance=1e-2, correct=error <= 1e-2, anchors=[])
                for anchor, ms in anchor_ms:
                    row["anchors"].append(dict(name=anchor, ms=ms, ratio=ms / prism_ms,
                                               wall_ratio=ms / wall_ms))
                if flops:
                    row["prism_tflops"] = flops / prism_ms / 1e9
                if bytes_moved:
                    row["prism_gbps"] = bytes_moved / prism_ms / 1e6
            report["results"].append(row)
            print(json.dumps(row) if "error" not in row else f"{label} ERROR {row['error']}",
                  flush=True)
            write_report(args.out, report)
    write_report(args.out, report)
    print(open(os.path.join(args.out, "nvidia-bench-summary.md")).read(), end="")
    return 0 if all(r.get("correct") for r in report["results"]) and not report["not_run"] else 1


if __name__ == "__main__":
    sys.exit(main())
