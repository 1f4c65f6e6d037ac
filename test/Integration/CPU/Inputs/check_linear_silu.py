"""Checks prism-exec's output of Inputs/linear-silu.mlir against numpy in
float64: usage check_linear_silu.py X.npy W.npy OUT.npy"""
import sys

import numpy as np

x, w, out = (np.load(p) for p in sys.argv[1:4])
h = x.astype(np.float64) @ w.astype(np.float64).T
expected = h / (1.0 + np.exp(-h))
error = np.linalg.norm(out - expected) / np.linalg.norm(expected)
print(f"rel-L2 error {error:.3e}")
sys.exit(0 if out.shape == expected.shape and error < 1e-5 else 1)
