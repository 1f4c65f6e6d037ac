#!/usr/bin/env python3
"""Feeds prism-opt many broken variants of valid Prism IR and checks that every
one ends in a diagnostic and exit code 1, never a crash, a hang or a silent
success on input that cannot be valid.

Variants (deterministic for a given --seed): the file truncated at many
offsets; single tokens replaced by neighbours from a list of hostile tokens
(huge, zero and negative dimensions, wrong element types, unknown ops, stray
punctuation); random byte deletions. A variant that still parses is fine as
long as prism-opt exits 0 or 1 without crashing.

usage: mutate_and_run.py PRISM_OPT FILE... [--seed N] [--count N]
"""

import argparse
import random
import re
import subprocess
import sys
import tempfile

HOSTILE_TOKENS = [
    "9223372036854775807", "0", "-1", "?", "1", "4611686018427387904",
    "i32", "i1", "f64", "f8E5M2", "index", "complex<f32>", "none",
    "tensor<*xf32>", "memref<4xf32>", "vector<4xf32>", "tensor<f32>",
    "prism.nothing", "prism.matmul", "prism.reshape", "\"prism.add\"",
    "(", ")", "{", "}", "<", ">", "[", "]", ",", ":", "=", "%arg0",
    "-9223372036854775808", "1.0e309", "nan", "0x7FF0000000000000",
    "causal", "transpose_rhs", "keepdims", "axes", "perm", "bias", "mask",
]

TOKEN = re.compile(r"[A-Za-z_][\w.$]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|%[\w#]+|\S")


def strip_lit_lines(text):
    return "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith("// RUN")
                     and not l.lstrip().startswith("// CHECK"))


def variants(text, rng, count):
    n = len(text)
    # Truncations spread over the whole file.
    for i in range(count // 3):
        yield "truncate", text[: rng.randrange(1, n)]
    tokens = list(TOKEN.finditer(text))
    for i in range(count // 3):
        tok = rng.choice(tokens)
        new = rng.choice(HOSTILE_TOKENS)
        yield "replace %r->%r" % (tok.group(0), new), (
            text[: tok.start()] + new + text[tok.end():])
    for i in range(count - 2 * (count // 3)):
        start = rng.randrange(0, n)
        length = rng.randrange(1, 12)
        yield "delete %d:%d" % (start, start + length), (
            text[:start] + text[start + length:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("prism_opt")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--count", type=int, default=150)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    failures = []
    runs = errors = 0
    for path in args.files:
        text = strip_lit_lines(open(path).read())
        for what, variant in variants(text, rng, args.count):
            with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
                f.write(variant)
                f.flush()
                try:
                    proc = subprocess.run(
                        [args.prism_opt, f.name, "-canonicalize"],
                        capture_output=True, text=True, timeout=20,
                        errors="replace")
                except subprocess.TimeoutExpired:
                    failures.append((path, what, "hang (20 s)", variant))
                    continue
            runs += 1
            crashed = proc.returncode not in (0, 1) or "Stack dump" in proc.stderr
            if crashed:
                failures.append((path, what, "exit %d" % proc.returncode,
                                 proc.stderr[-2000:]))
            elif proc.returncode == 1:
                errors += 1
                if "error:" not in proc.stderr:
                    failures.append((path, what, "exit 1 without a diagnostic",
                                     proc.stderr[-2000:]))

    for path, what, why, detail in failures:
        print("FAIL %s [%s]: %s\n%s\n" % (path, what, why, detail))
    print("mutations: %d runs, %d rejected with a diagnostic, %d failures"
          % (runs, errors, len(failures)))
    return 1 if failures or errors == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
