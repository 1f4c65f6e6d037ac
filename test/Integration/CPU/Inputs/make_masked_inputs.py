"""Writes q, k, v and a mask for attention-masked.mlir into the given prefix:
random q/k/v, a mask that is -inf on a random half of the keys, 0 or a
random bias elsewhere, and fully -inf on two query rows."""
import sys

import numpy as np

prefix = sys.argv[1]
rng = np.random.default_rng(7)
q = rng.standard_normal((1, 2, 19, 16)).astype(np.float32)
k = rng.standard_normal((1, 2, 45, 16)).astype(np.float32)
v = rng.standard_normal((1, 2, 45, 16)).astype(np.float32)
mask = rng.standard_normal((1, 2, 19, 45)).astype(np.float32)
mask[rng.random(mask.shape) < 0.5] = -np.inf
mask[0, 0, 3, :] = -np.inf
mask[0, 1, 18, :] = -np.inf
for name, array in (("q", q), ("k", k), ("v", v), ("mask", mask)):
    np.save(f"{prefix}.{name}.npy", array)
