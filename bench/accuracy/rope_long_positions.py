"""RoPE accuracy at long positions, per target, against float64: neox rope
of a [1, 256, 4, 128] f32 tensor with theta 5e5 and positions drawn below
64 .. 131072, compiled for the CPU and for the NVIDIA and AMD kernels under
the GPU emulator (the AMD ones use the backend's sin/cos polynomials). Not a
test: it prints what each target loses, for the README.

Usage: PYTHONPATH=build/python python bench/accuracy/rope_long_positions.py
"""
import numpy as np, prism
src = """
func.func @rope(%x: tensor<1x?x4x128xf32>, %p: tensor<1x?xi32>) -> tensor<1x?x4x128xf32> {
  %0 = prism.rope neox bshd %x, %p theta = 5.0e5 : tensor<1x?x4x128xf32>, tensor<1x?xi32>
  return %0 : tensor<1x?x4x128xf32>
}"""
rng = np.random.default_rng(0)
S = 256
x = rng.standard_normal((1, S, 4, 128)).astype(np.float32)
for top in (64, 4096, 32768, 131072):
    p = rng.integers(0, top, size=(1, S)).astype(np.int32)
    D = 128
    inv = 5.0e5 ** (-np.arange(0, D // 2) * 2.0 / D)
    ang = p[..., None].astype(np.float64) * inv  # [1,S,64]
    c, s = np.cos(ang)[:, :, None, :], np.sin(ang)[:, :, None, :]
    x1, x2 = x[..., :64].astype(np.float64), x[..., 64:].astype(np.float64)
    ref = np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], -1)
    row = [f"positions < {top:>6}:"]
    for target in ("cpu", "nvidia-emulated:sm_90a", "amd-emulated:gfx942"):
        f = prism.compile(src, target=target)
        (y,) = f(x, p)
        err = np.linalg.norm(y - ref) / np.linalg.norm(ref)
        row.append(f"{target} {err:.2e}")
    print("  ".join(row))
