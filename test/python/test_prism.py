"""The Python package: compile prism IR, run it on numpy arrays (f32 and
bf16) against numpy float64 references, save bundles and run them from
another process with the runtime module alone, and every error path as
prism.PrismError."""
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import prism

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MLP = os.path.join(ROOT, "examples", "llama_mlp_block.mlir")


def rel_l2(actual, expected):
    return float(np.linalg.norm(actual.astype(np.float64) - expected) /
                 np.linalg.norm(expected))


def mlp_reference(x, norm_w, w_gate, w_up, w_down):
    x, norm_w, w_gate, w_up, w_down = (a.astype(np.float64) for a in
                                        (x, norm_w, w_gate, w_up, w_down))
    h = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * norm_w
    gate, up = h @ w_gate.T, h @ w_up.T
    return x + (gate / (1 + np.exp(-gate)) * up) @ w_down.T


def mlp_inputs(seq, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32)
            for s in [(1, seq, 256), (256,), (688, 256), (688, 256), (256, 688)]]


@pytest.fixture(scope="module")
def mlp():
    return prism.compile(MLP, target="cpu")


def test_mlp_block_matches_float64(mlp):
    assert mlp.target == "cpu"
    assert mlp.inputs[0] == ("f32", [1, -1, 256])
    for seq in (1, 19, 64):  # one compiled function for every length
        args = mlp_inputs(seq, seed=seq)
        (y,) = mlp(*args)
        assert y.shape == (1, seq, 256) and y.dtype == np.float32
        assert rel_l2(y, mlp_reference(*args)) <= 1e-5


def test_optimize_fuses_and_both_match(mlp):
    # prism-optimize (the default) fuses the MLP into 3 kernels; without it
    # every op is a kernel. Both agree with float64. (A matmul over the
    # dynamic sequence has two kernels, one for at most 8 rows, of which a
    # run launches one: the alternatives of a launch share its group.)
    unfused = prism.compile(MLP, target="cpu", optimize=False)
    launches = lambda f: len({l["when"]["group"] if "when" in l else i
                              for i, l in enumerate(f.manifest["functions"][0]["launches"])})
    assert launches(mlp) == 3 and launches(unfused) == 6
    args = mlp_inputs(7, seed=3)
    expected = mlp_reference(*args)
    assert rel_l2(mlp(*args)[0], expected) <= 1e-5
    assert rel_l2(unfused(*args)[0], expected) <= 1e-5


def test_bf16_through_ml_dtypes():
    source = """
    func.func @norm_add(%x: tensor<?x96xbf16>, %y: tensor<?x96xbf16>, %w: tensor<96xf32>) -> tensor<?x96xbf16> {
      %s = prism.add %x, %y : tensor<?x96xbf16>, tensor<?x96xbf16>
      %n = prism.rms_norm %s, %w eps = 1.0e-5 : tensor<?x96xbf16>, tensor<96xf32>
      return %n : tensor<?x96xbf16>
    }"""
    f = prism.compile(source)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 96)).astype(ml_dtypes.bfloat16)
    y = rng.standard_normal((7, 96)).astype(ml_dtypes.bfloat16)
    w = rng.standard_normal(96).astype(np.float32)
    (out,) = f(x, y, w)
    assert out.dtype == ml_dtypes.bfloat16 and out.shape == (7, 96)
    s = x.astype(np.float64) + y.astype(np.float64)
    expected = s / np.sqrt((s * s).mean(-1, keepdims=True) + 1e-5) * w
    assert rel_l2(out.astype(np.float64), expected) <= 1e-2


def test_profile_times_each_launch(mlp):
    # A profile times the runs and each launch in the manifest's order (on
    # the CPU, whose launches are synchronous, by the host clock); the
    # outputs are still the function's. Bad run counts and wrong inputs
    # raise before anything is timed.
    args = mlp_inputs(9, seed=5)
    profile = mlp.profile(*args, runs=3)
    planned = mlp.manifest["functions"][0]["launches"]
    assert profile.function == "mlp_block" and profile.runs == 3
    assert profile.source == "host clock"
    runs_for = lambda p, rows: "when" not in p or (
        p["when"]["min"] <= rows <= p["when"].get("max", rows))
    assert [l.kernel for l in profile.launches] == [p["kernel"] for p in planned
                                                     if runs_for(p, 9)]
    assert profile.launches[0].grid == (9, 1, 1)  # rms_norm: a program per row
    # rms_norm reads x (9 x 256) and its weight (256), writes h (9 x 256).
    assert profile.launches[0].bytes == (9 * 256 * 2 + 256) * 4
    assert profile.launches[0].gbps > 0
    assert all(l.milliseconds > 0 for l in profile.launches)
    assert profile.milliseconds > 0
    text = str(profile)
    assert text.startswith("mlp_block: ") and "mlp_block__0_rms_norm" in text
    (y,) = mlp(*args)
    assert rel_l2(y, mlp_reference(*args)) <= 1e-5
    assert mlp.profile(*args, runs=np.int64(2)).runs == 2
    for runs in (0, -1, 2.5, True, "3"):
        with pytest.raises(prism.PrismError, match="runs must be a positive integer"):
            mlp.profile(*args, runs=runs)
    with pytest.raises(prism.PrismError, match="takes 5 inputs"):
        mlp.profile(*args[:4])


def test_bundle_saved_then_run_by_another_process(mlp, tmp_path):
    bundle = mlp.save(str(tmp_path / "mlp.bundle"))
    args = mlp_inputs(5, seed=3)
    for i, a in enumerate(args):
        np.save(tmp_path / f"in{i}.npy", a)
    # The other process imports the runtime only (no compiler module).
    code = f"""
import sys, numpy as np
sys.path.insert(0, {os.path.dirname(os.path.dirname(prism.__file__))!r})
import prism
f = prism.load({bundle!r})["mlp_block"]
(y,) = f(*[np.load({str(tmp_path)!r} + f"/in{{i}}.npy") for i in range(5)])
np.save({str(tmp_path / "out.npy")!r}, y)
assert "prism._compiler" not in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    y = np.load(tmp_path / "out.npy")
    assert rel_l2(y, mlp_reference(*args)) <= 1e-5
    loaded = prism.load(bundle)
    assert loaded.functions == ["mlp_block"] and loaded.target == "cpu"


def test_dynamic_sizes_that_do_not_fit_together_raise():
    # No static type can check these: the runtime does, before any launch
    # (a kernel would otherwise read past a buffer or divide by zero).
    source = """
    func.func @mm(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
      %0 = prism.matmul %a, %b : tensor<?x?xf32>, tensor<?x?xf32>
      return %0 : tensor<?x?xf32>
    }
    func.func @rms(%x: tensor<?x?xf32>, %w: tensor<?xf32>) -> tensor<?x?xf32> {
      %0 = prism.rms_norm %x, %w : tensor<?x?xf32>, tensor<?xf32>
      return %0 : tensor<?x?xf32>
    }
    func.func @attn(%q: tensor<1x?x4x16xf32>, %k: tensor<1x?x4x16xf32>, %v: tensor<1x?x4x16xf32>) -> tensor<1x?x4x16xf32> {
      %0 = prism.attention %q, %k, %v : tensor<1x?x4x16xf32>, tensor<1x?x4x16xf32>, tensor<1x?x4x16xf32>
      return %0 : tensor<1x?x4x16xf32>
    }
    func.func @rope(%x: tensor<1x?x2x?xf32>, %p: tensor<?xi32>) -> tensor<1x?x2x?xf32> {
      %0 = prism.rope neox bshd %x, %p : tensor<1x?x2x?xf32>, tensor<?xi32>
      return %0 : tensor<1x?x2x?xf32>
    }
    func.func @tables(%x: tensor<1x?x2x16xf32>, %p: tensor<?xi32>, %c: tensor<?x?xf32>, %s: tensor<?x?xf32>) -> tensor<1x?x2x16xf32> {
      %0 = prism.rope neox bshd %x, %p tables(%c, %s : tensor<?x?xf32>, tensor<?x?xf32>) : tensor<1x?x2x16xf32>, tensor<?xi32>
      return %0 : tensor<1x?x2x16xf32>
    }
    func.func @bias(%a: tensor<?x64xf32>, %b: tensor<64x?xf32>, %c: tensor<?xf32>) -> tensor<?x?xf32> {
      %0 = prism.matmul %a, %b bias(%c : tensor<?xf32>) : tensor<?x64xf32>, tensor<64x?xf32>
      return %0 : tensor<?x?xf32>
    }
    func.func @gated(%x: tensor<?x64xf32>, %wg: tensor<64x?xf32>, %wu: tensor<64x?xf32>) -> tensor<?x?xf32> {
      %g = prism.matmul %x, %wg : tensor<?x64xf32>, tensor<64x?xf32>
      %u = prism.matmul %x, %wu : tensor<?x64xf32>, tensor<64x?xf32>
      %s = prism.silu %g : tensor<?x?xf32>
      %m = prism.mul %s, %u : tensor<?x?xf32>, tensor<?x?xf32>
      return %m : tensor<?x?xf32>
    }"""
    for target in ("cpu", "nvidia-emulated:sm_90a"):
        f = {name: prism.compile(source, target=target, entry=name)
             for name in ("mm", "rms", "attn", "rope", "tables", "bias", "gated")}
        rng = np.random.default_rng(2)
        r = lambda *s: rng.standard_normal(s).astype(np.float32)
        a, b = r(4, 8), r(8, 6)
        (out,) = f["mm"](a, b)
        assert rel_l2(out, a.astype(np.float64) @ b) <= 1e-5
        with pytest.raises(prism.PrismError, match=r"'mm': prism.matmul at .*K of the lhs and K "
                           r"of the rhs must be equal, but the inputs give 8 and 5"):
            f["mm"](a, r(5, 6))
        with pytest.raises(prism.PrismError, match=r"the length of the rows and of the weight "
                           r"must be equal, but the inputs give 8 and 5"):
            f["rms"](r(3, 8), r(5))
        with pytest.raises(prism.PrismError, match=r"the query heads must be a multiple of the "
                           r"key heads, but the inputs give 6 and 4"):
            f["attn"](r(1, 6, 4, 16), r(1, 4, 4, 16), r(1, 4, 4, 16))
        with pytest.raises(prism.PrismError, match=r"the heads of the key and of the value must "
                           r"be equal, but the inputs give 3 and 4"):
            f["attn"](r(1, 6, 4, 16), r(1, 3, 4, 16), r(1, 4, 4, 16))
        (out,) = f["attn"](r(1, 6, 4, 16), r(1, 3, 4, 16), r(1, 3, 4, 16))
        assert out.shape == (1, 6, 4, 16)
        with pytest.raises(prism.PrismError, match=r"prism.rope at .*the head dim must be a "
                           r"multiple of 2, but the inputs give 7 and 2"):
            f["rope"](r(1, 3, 2, 7), np.arange(3, dtype=np.int32))
        with pytest.raises(prism.PrismError, match=r"the positions of the cos table and of the "
                           r"sin table must be equal, but the inputs give 4 and 0"):
            f["tables"](r(1, 5, 2, 16), np.arange(5, dtype=np.int32), r(4, 8), r(0, 8))
        with pytest.raises(prism.PrismError, match=r"the sin table's columns and half the head "
                           r"dim must be equal, but the inputs give 3 and 8"):
            f["tables"](r(1, 5, 2, 16), np.arange(5, dtype=np.int32), r(4, 8), r(4, 3))
        with pytest.raises(prism.PrismError, match=r"the length of the bias and N must be "
                           r"equal, but the inputs give 3 and 4096"):
            f["bias"](r(4, 64), r(64, 4096), r(3))
        # Fused (silu(x wg) * (x wu)): both products are read with one shape.
        with pytest.raises(prism.PrismError, match=r"dim 1 of the two fused products must be "
                           r"equal, but the inputs give 256 and 8"):
            f["gated"](r(4, 64), r(64, 256), r(64, 8))
        x, wg, wu = r(4, 64), r(64, 24), r(64, 24)
        g = x.astype(np.float64) @ wg
        (out,) = f["gated"](x, wg, wu)
        assert rel_l2(out, g / (1 + np.exp(-g)) * (x.astype(np.float64) @ wu)) <= 1e-5


def test_wrong_inputs_raise(mlp):
    args = mlp_inputs(3)
    with pytest.raises(prism.PrismError, match="takes 5 inputs, got 1"):
        mlp(args[0])
    with pytest.raises(prism.PrismError, match=r"input 1 of 'mlp_block' must have shape \[256\], got \[255\]"):
        mlp(args[0], args[1][:255], *args[2:])
    with pytest.raises(prism.PrismError, match="input 0 of 'mlp_block' must be f32, got f16"):
        mlp(args[0].astype(np.float16), *args[1:])
    with pytest.raises(prism.PrismError, match="dtype float64 is not supported"):
        mlp(args[0].astype(np.float64), *args[1:])
    with pytest.raises(prism.PrismError, match="input 0 of 'mlp_block' is a masked array"):
        mlp(np.ma.masked_less(args[0], 0.0), *args[1:])
    assert mlp.save(mlp.directory) == mlp.directory  # saving in place: nothing to do


def test_compile_errors_raise():
    with pytest.raises(prism.PrismError, match="expects different type than prior uses"):
        prism.compile("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
                      "  %0 = prism.exp %x : tensor<3xf32>\n  return %0 : tensor<4xf32>\n}")
    with pytest.raises(prism.PrismError, match="unknown or unsupported target 'tpu'"):
        prism.compile(MLP, target="tpu")
    with pytest.raises(prism.PrismError, match="rank-0 result"):
        prism.compile("func.func @f(%x: tensor<4x8xf32>) -> tensor<f32> {\n"
                      "  %0 = prism.reduce sum %x axes = [0, 1] : tensor<4x8xf32>\n"
                      "  return %0 : tensor<f32>\n}")


def test_bad_bundles_raise(tmp_path):
    with pytest.raises(prism.PrismError, match="is '.*' a Prism bundle"):
        prism.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "prism-bundle/3", "target": 3}')
    with pytest.raises(prism.PrismError, match="manifest"):
        prism.load(tmp_path)


def test_gpu_targets_compile_from_python(tmp_path):
    # Compiling and saving need no GPU; calling needs its driver.
    f = prism.compile(MLP, target="nvidia:sm_90a", directory=str(tmp_path / "nv"))
    assert f.target == "nvidia:sm_90a"
    f.save(str(tmp_path / "saved"))
    assert os.path.exists(tmp_path / "saved" / "manifest.json")
    a = prism.compile(MLP, target="amd:gfx942")
    assert a.target == "amd:gfx942"
    try:
        import ctypes
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        with pytest.raises(prism.PrismError, match="cannot load the CUDA driver"):
            f(*mlp_inputs(2))
