"""Writes q, k, v for attention-long-rows.mlir into the given prefix: one
query against KEYS keys whose logits all lie within 0.5 of BASE (the
first key's 1 above), so that every KV block rescales the running sums
while the row maximum barely moves: rounding in the maximum's units
compounds over the blocks there. Usage: PREFIX KEYS BASE."""
import sys

import numpy as np

prefix, keys, base = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(1)
q = np.zeros((1, 1, 1, 16), np.float32)
q[..., 0] = 1.0
k = rng.standard_normal((1, 1, keys, 16)).astype(np.float32)
k[..., 0] = base + rng.uniform(-0.5, 0.5, keys)
k[0, 0, 0, 0] = base + 1
v = rng.standard_normal((1, 1, keys, 16)).astype(np.float32)
for name, array in (("q", q), ("k", k), ("v", v)):
    np.save(f"{prefix}.{name}.npy", array)
